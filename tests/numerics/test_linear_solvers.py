"""The linear solvers behind stationary(method="solve") agree with each other and with the
closed form; errors come as SolverError/InputError, not raw library exceptions."""
import numpy as np
import pytest

import fpsolve as fp


@pytest.mark.parametrize("solver", ["direct", "amg", "gmres"])
def test_solvers_agree_on_a_3d_reversible_problem(solver):
    g = fp.Grid([(-2.5, 2.5)] * 3, 14)
    m = fp.FokkerPlanck(g, potential=lambda x, y, z: (x ** 2 - 1) ** 2 / 4 + y ** 2 + z ** 2 / 2,
                        diffusion=0.4)
    exact = m.stationary(method="detailed-balance").values
    p = m.stationary(method="solve", solver=solver)
    assert p.info["linear_solver"] == solver
    # iterative solvers stop at relative residual 1e-12; cond ≈ n² amplifies it to ~1e-10
    assert np.max(np.abs(p.values / exact - 1)) < 1e-8


def test_unknown_solver():
    m = fp.FokkerPlanck(fp.Grid([(0, 1)], 10))
    with pytest.raises(fp.InputError, match="linear solver"):
        m.stationary(method="solve", solver="cholesky")
