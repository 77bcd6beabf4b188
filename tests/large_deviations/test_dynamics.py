"""Dynamics: coefficient checks, critical points, the local quasi-potential, and models."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve.errors import InputError, SolverError
from fpsolve.large_deviations import Dynamics, minimum_action_path

from .conftest import U_curved, grad_U_curved


def test_diffusion_checks_name_the_point():
    bad = Dynamics(2, drift=lambda x, y: (-x, -y), diffusion=lambda x, y: [[1 + 0 * x, 2 + 0 * x],
                                                                        [0 * x, 1 + 0 * x]])
    with pytest.raises(InputError, match="not symmetric at x = "):
        bad.diffusion_at([[0.5, 0.5]])
    nan = Dynamics(1, drift=lambda x: (-x,), diffusion=lambda x: np.full_like(x, np.nan))
    with pytest.raises(InputError, match="not finite"):
        nan.diffusion_at([[-1.0]])
    with pytest.raises(InputError, match="floor must be a positive number"):
        Dynamics(1, drift=lambda x: (-x,), floor=-1.0)
    with pytest.raises(InputError, match="exactly one of drift"):
        Dynamics(1)


def test_floor_raises_small_eigenvalues_only():
    dyn = Dynamics(2, drift=lambda x, y: (-x, -y),
                   diffusion=lambda x, y: [[1 + 0 * x, 0 * x], [0 * x, 1e-8 + 0 * x]], floor=0.1)
    np.testing.assert_allclose(dyn.diffusion_at([[0.0, 0.0]])[0], np.diag([1.0, 0.1]))


def test_newton_refines_saddle_and_classifies():
    dyn = Dynamics(2, potential=U_curved, gradient=grad_U_curved)
    s = dyn.refine_critical_point([0.05, 0.55])
    np.testing.assert_allclose(s, [0.0, 0.6], atol=1e-12)
    assert dyn.classify(s)["kind"] == "saddle"
    assert dyn.classify([1.0, 0.0])["kind"] == "attractor"
    with pytest.raises(SolverError, match="refine_critical_point"):
        Dynamics(1, drift=lambda x: (1.0 + 0 * x,)).refine_critical_point([0.0])


def test_local_quasipotential_of_a_gradient_system_is_hessian_over_D():
    # b = −∇U, D = cI: V = U/c, so K = ∇²U(x*)/c exactly (independent of the Lyapunov solve)
    dyn = Dynamics(2, potential=U_curved, gradient=grad_U_curved, diffusion=0.5)
    a = 2 * 0.6
    H = np.array([[2 + 2 * a ** 2, -2 * a], [-2 * a, 2.0]])   # ∇²U at (−1, 0)
    np.testing.assert_allclose(dyn.local_quasipotential([-1.0, 0.0]), H / 0.5, rtol=1e-7)


def test_from_model_uses_the_model_units():
    # a FokkerPlanck model with D_model = ε: the action is V/ε = (1/4)/ε
    grid = fp.Grid([(-2, 2), (-1, 1.5)], 10)
    model = fp.FokkerPlanck(grid, potential=U_curved, diffusion=0.05)
    # drift_at differentiates U numerically (relative error ~1e-10), which floors the residual
    # near 1e-7: tol=1e-6
    r = minimum_action_path(model, [-1, 0], [1, 0], n_points=40, tol=1e-6)
    assert r.action == pytest.approx(0.25 / 0.05, rel=3e-3)   # O(h²): observed 1.5e-3
