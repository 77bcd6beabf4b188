"""Memory estimates, checked before the large allocations of a model or a linear solve.

A problem that does not fit must stop with an :class:`~fpsolve.errors.InputError` that gives the
estimate, the machine's memory and what to do — not with numpy's raw ``MemoryError`` or with the
operating system killing the process (a 300³ non-reversible stationary solve grew to 24 GB and was
killed after 116 s). The estimates are deliberately on the low side of what was measured (a
problem that fits must never be refused); they count double-precision arrays per cell and matrix
entries (8 bytes for a value, 4 for an index):

- model: the coefficients, face rates and their temporaries: (6 + 3d)·N doubles for a scalar D,
  (8d² + 20)·N for a tensor (measured peak 1.3× this, 1000² tensor);
- AMG-preconditioned GMRES (pyamg, operator complexity ≈ 3 plus the interpolation operators,
  41 Krylov vectors): (72 z + 488) bytes per unknown for z entries per matrix row (measured
  2.5 GB at 128³ with z = 7, i.e. 1.2 kB per unknown; estimate 1.0 kB);
- geometric multigrid (:mod:`fpsolve.numerics.boxmg`) with GMRES: the stencil of A and of Aᵀ,
  interpolation and restriction weights, the coarse grids and 41 Krylov vectors:
  (16 z + 560) bytes per unknown (measured 2.5 GB peak for a whole 128³ MFPT with z = 7, model
  and first-passage bookkeeping included);
- sparse LU: the fill of a nested-dissection-like ordering, 5.5 n log₂ n entries in 2D (SuperLU
  at 1000²: 1.4 GB, i.e. 6 n log₂ n) and 20 n^(4/3) in 3D (the extrapolation of
  ``benchmarks/bench_large.py``, ≈ 100 GB at 128³, is 31 n^(4/3)), 12 bytes each.

The available memory is read from ``/proc/meminfo`` (``MemAvailable``) where it exists, and
``os.sysconf`` otherwise, at most once a second; on platforms where neither is known nothing is
checked.
"""
from __future__ import annotations

import math
import os
import time

from ..errors import InputError

#: refuse when the estimate exceeds this fraction of the available memory
FRACTION = 0.9
GIB = 2.0 ** 30


#: seconds a reading of the available memory is reused: it changes slowly, and reading
#: /proc/meminfo costs about 0.1 ms, half of a whole 23-cell 1D stationary solve
REREAD_AFTER = 1.0
_last_reading = [-math.inf, (None, None)]     # [time.monotonic() of the reading, (avail, total)]


def available_bytes():
    """(available, total) physical memory in bytes, or (None, None) where unknown; read at most
    once every :data:`REREAD_AFTER` seconds."""
    now = time.monotonic()
    if now - _last_reading[0] < REREAD_AFTER:
        return _last_reading[1]
    _last_reading[:] = [now, _read_available()]
    return _last_reading[1]


def _read_available():
    try:
        with open("/proc/meminfo") as fh:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in fh
                    if line.split() and line.split()[1].isdigit()}
        total = info.get("MemTotal")
        return info.get("MemAvailable", total), total
    except (OSError, ValueError, IndexError):
        pass
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
        return avail, total
    except (ValueError, OSError, AttributeError):
        return None, None


def model_bytes(n_cells: int, ndim: int, tensor: bool = False) -> float:
    """Estimated peak bytes of building a model's coefficients and rates on n_cells cells."""
    per_cell = (8 * ndim ** 2 + 20) if tensor else (6 + 3 * ndim)
    return 8.0 * per_cell * n_cells


def solver_bytes(n: int, ndim, backend: str, nnz_per_row: float) -> float:
    """Estimated bytes of a linear solver for an n×n generator ("superlu", "pardiso", "amg",
    "gmg", "ilu") with ``nnz_per_row`` entries per row."""
    if backend in ("superlu", "pardiso"):
        if (ndim or 2) == 1:
            fill = 3.0 * n
        elif (ndim or 2) == 2:
            fill = 5.5 * n * math.log2(max(n, 2))
        else:
            fill = 20.0 * n ** (4.0 / 3.0)
        return 12.0 * fill + 16.0 * n * nnz_per_row
    if backend == "gmg":
        return (16.0 * nnz_per_row + 560.0) * n
    return (72.0 * nnz_per_row + 488.0) * n


def check(need: float, what: str, advice: str):
    """Raise InputError when ``need`` bytes exceed FRACTION of the available memory."""
    avail, total = available_bytes()
    if avail is None or need <= FRACTION * avail:
        return
    raise InputError(
        f"{what} needs about {need / GIB:.1f} GiB (estimate), but this machine has "
        f"{avail / GIB:.1f} GiB available ({total / GIB:.1f} GiB in all). {advice}")


def fits(need: float) -> bool:
    """Whether ``need`` bytes fit (True where the memory is unknown)."""
    avail, _ = available_bytes()
    return avail is None or need <= FRACTION * avail
