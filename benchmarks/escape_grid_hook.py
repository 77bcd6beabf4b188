"""The two lines that let the first-passage solves of ``fpsolve.escape`` use the geometric
multigrid, applied to a temporary copy of the package for a benchmark run.

``fpsolve.escape.green.KilledProcess`` builds its :class:`~fpsolve.numerics.linalg.LinearSolver`
without the grid, so ``solver="auto"`` can only take the algebraic multigrid there. The change
(to be made in ``fpsolve/escape/green.py`` by whoever owns it) passes the grid and the kept cells,
and names the solver in ``KilledProcess.linear_solver``::

    self._lu = LinearSolver(self._A2, solver, ndim=g.ndim, diag_pivot_thresh=1.0,
                            grid=g, cells=k2)
    ...
    return {"direct": "sparse LU", "amg": "AMG-GMRES", "gmg": "GMG-GMRES",
            "gmres": "ILU-GMRES"}[self._lu.backend if m == "amg" else m]

:func:`apply` copies ``fpsolve/`` to a temporary folder and makes the change there (nothing if it
is already made); ``bench_general.py --escape-hook`` runs its workers on that copy.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

CHANGES = [
    ("self._lu = LinearSolver(self._A2, solver, ndim=g.ndim, diag_pivot_thresh=1.0)",
     "self._lu = LinearSolver(self._A2, solver, ndim=g.ndim, diag_pivot_thresh=1.0, "
     "grid=g, cells=k2)"),
    ('return {"direct": "sparse LU", "amg": "AMG-GMRES", "gmres": "ILU-GMRES"}[m]',
     'return {"direct": "sparse LU", "amg": "AMG-GMRES", "gmg": "GMG-GMRES", '
     '"gmres": "ILU-GMRES"}[self._lu.backend if m == "amg" else m]'),
]


def apply(package: Path) -> tuple[Path, bool]:
    """(folder to put first on PYTHONPATH, whether the change had to be made)."""
    text = (package / "escape" / "green.py").read_text()
    if "grid=g, cells=k2" in text:
        return package.parent, False
    missing = [old for old, _ in CHANGES if old not in text]
    if missing:
        raise RuntimeError(f"escape/green.py changed; update benchmarks/escape_grid_hook.py "
                           f"(not found: {missing})")
    dest = Path(tempfile.mkdtemp(prefix="fpsolve-hook-"))
    shutil.copytree(package, dest / "fpsolve",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for old, new in CHANGES:
        text = text.replace(old, new)
    (dest / "fpsolve" / "escape" / "green.py").write_text(text)
    return dest, True
