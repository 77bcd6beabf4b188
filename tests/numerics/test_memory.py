"""Problems that do not fit in memory stop with an InputError before allocating (issue 13's
"Bad input", issue 14 §3): the estimate, the machine's memory and what to do."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve.numerics import linalg, memory


def _small_machine(monkeypatch, gib):
    monkeypatch.setattr(memory, "available_bytes", lambda: (gib * memory.GIB, 2 * gib * memory.GIB))


def test_model_too_large_for_the_machine(monkeypatch):
    g = fp.Grid([(-1, 1)] * 3, 64)  # 2.6e5 cells: (6 + 9)·8 B per cell ≈ 31 MB estimated
    _small_machine(monkeypatch, 0.01)
    with pytest.raises(fp.InputError, match=r"needs about .* GiB .*available.*coarser grid"):
        fp.FokkerPlanck(g, potential=lambda x, y, z: x ** 2 + y ** 2 + z ** 2, diffusion=0.2)


def test_linear_solver_too_large_says_so_before_factorising(monkeypatch):
    g = fp.Grid([(-1, 1)] * 3, 24)
    m = fp.FokkerPlanck(g, drift=lambda x, y, z: (-x - y, x - y, -z), diffusion=0.2)
    A = -m.generator()
    need_lu = memory.solver_bytes(g.size, 3, "superlu", 7)
    need_amg = memory.solver_bytes(g.size, 3, "amg", 7)
    assert need_amg < need_lu
    # room for AMG but not for the LU: "direct" is refused, "auto" takes AMG
    _small_machine(monkeypatch, 1.5 * need_amg / memory.GIB)
    with pytest.raises(fp.InputError, match=r"superlu, 13824 unknowns\) needs about"):
        linalg.LinearSolver(A, "direct", ndim=3)
    assert linalg.choose_solver(g.size, 3, "auto") == "amg"
    # room for neither: the stationary solve stops with the estimate
    _small_machine(monkeypatch, 0.5 * need_amg / memory.GIB)
    with pytest.raises(fp.InputError, match="solver='amg' instead of a direct solver"):
        m.stationary()


def test_estimates_are_on_the_low_side_of_measurements():
    # measured (benchmarks/README.md): AMG at 128³, 2.5 GB peak; SuperLU at 1000², 1.4 GB
    assert memory.solver_bytes(128 ** 3, 3, "amg", 7) < 2.5e9
    assert memory.solver_bytes(1000 ** 2, 2, "superlu", 5) < 1.5e9
    # and not absurdly low: within a factor 2
    assert memory.solver_bytes(128 ** 3, 3, "amg", 7) > 1.25e9
    assert memory.solver_bytes(1000 ** 2, 2, "superlu", 5) > 0.7e9


def test_this_machine_is_read():
    avail, total = memory.available_bytes()
    assert avail is None or 0 < avail <= total
