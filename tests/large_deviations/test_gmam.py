"""gMAM against exact quasi-potentials: gradient systems (ΔU/D), the non-reversible OU process
(½ xᵀΣ₀⁻¹x), b = −(D + Q)∇U (V = U), and 1D state-dependent D (∫U'/D by quadrature)."""
import warnings

import numpy as np
import pytest
import scipy.integrate as si

import fpsolve.large_deviations.paths.gmam as gmam_module
from fpsolve.errors import InputError, SolverError
from fpsolve.large_deviations import Dynamics, geometric_action, minimum_action_path

from .conftest import (curve_distance, grad_U_curved, linear_drift, ou_dynamics,
                       ou_quasipotential_hessian)


def test_gradient_isotropic_action_is_barrier_over_D_with_second_order(curved_well):
    # reference: U(0, 0.6) − U(±1, 0) = 1/4 exactly, D = 1/4 → V̄ = 1
    errs = []
    for P in (50, 100):
        r = minimum_action_path(curved_well, [-1, 0], [1, 0], n_points=P)
        assert r.converged
        errs.append(abs(r.action - 1.0))
        np.testing.assert_allclose(r.saddle, [0.0, 0.6], atol=1e-10)  # Newton-refined
    # midpoint rule: O(h²); observed 9.6e-4 → 2.3e-4 (order 2.06)
    order = np.log2(errs[0] / errs[1])
    assert errs[1] < 5e-4 and 1.8 < order < 2.3, (errs, order)


def test_ou_action_is_lyapunov_quasipotential():
    A = np.array([[1.0, 2.0], [0.0, 1.5]])           # non-normal: AD ≠ DA, no detailed balance
    D = np.array([[1.0, 0.3], [0.3, 0.5]])
    K = ou_quasipotential_hessian(A, D)
    x = np.array([1.0, 0.5])
    exact = 0.5 * x @ K @ x
    errs = []
    for P in (25, 50):
        r = minimum_action_path(ou_dynamics(A, D), [0, 0], x, n_points=P, end_critical=False)
        errs.append(abs(r.action / exact - 1))
    # for a linear drift and constant D the discrete action is bounded below by the increase of
    # the quadratic V on every segment, with equality on the characteristic: the discrete
    # minimum is exact at any resolution (observed 1.1e-16 at both; a stationary path of the
    # discrete action other than its minimum gave 1.9e-6 and 1.7e-7)
    assert max(errs) < 1e-9, errs


def test_rotated_gradient_drift_has_V_equal_U_but_another_path():
    # b = −(D + Q)∇U with Q antisymmetric: b·∇U + ∇UᵀD∇U = −∇UᵀQ∇U = 0, so V = U exactly;
    # the MAP solves φ' ∥ (D − Q)∇U, not the gradient path φ' ∥ D∇U
    D = np.array([[1.0, 0.4], [0.4, 0.5]])
    Q = np.array([[0.0, 0.35], [-0.35, 0.0]])
    dq = Dynamics(2, drift=linear_drift(D + Q), diffusion=D)
    errs = [abs(minimum_action_path(dq, [-1, 0], [1, 0], n_points=P).action / 0.25 - 1)
            for P in (50, 100)]
    # O(h²): observed 8.3e-4 → 2.0e-4 relative (order 2.1)
    assert errs[1] < 4e-4 and np.log2(errs[0] / errs[1]) > 1.7, errs
    rq = minimum_action_path(dq, [-1, 0], [1, 0], n_points=100)
    rg = minimum_action_path(Dynamics(2, drift=linear_drift(D), diffusion=D), [-1, 0], [1, 0],
                             n_points=100)
    assert rg.action == pytest.approx(0.25, rel=6e-4)   # observed 2.0e-4
    assert curve_distance(rq.path, rg.path) > 0.05       # observed 0.09


def test_state_dependent_1d_is_integral_of_U_prime_over_D():
    # Xie et al. Thm 3.2's exponent: V(x) = ∫ U'/D from the minimum (quadrature reference)
    U1 = lambda x: x ** 4 / 4 - x ** 2 / 2          # noqa: E731  minima ±1, saddle 0
    dU = lambda x: x ** 3 - x                        # noqa: E731
    Dx = lambda x: 0.3 + 0.2 * x ** 2                # noqa: E731
    dyn = Dynamics(1, potential=U1, gradient=lambda x: (dU(x),), diffusion=Dx)
    exact = si.quad(lambda x: dU(x) / Dx(x), -1, 0, epsabs=1e-14)[0]
    r = minimum_action_path(dyn, [-1.0], [1.0], n_points=101)
    assert r.action == pytest.approx(exact, rel=2e-4)  # O(h²): observed 4e-5
    np.testing.assert_allclose(r.saddle, [0.0], atol=1e-12)
    assert r.cumulative[-1] == pytest.approx(r.action)


def test_geometric_action_of_straight_line_is_an_upper_bound(curved_well):
    r = minimum_action_path(curved_well, [-1, 0], [1, 0], n_points=60)
    line = np.linspace([-1, 0], [1, 0], 60)
    assert geometric_action(curved_well, line) > r.action + 0.5   # the line crosses U = 0.61


# -- bad input -------------------------------------------------------------------------------------
def test_non_critical_endpoint_warns_and_refine_fixes(curved_well):
    with pytest.warns(RuntimeWarning, match="not a critical point.*refine_endpoints=True"):
        minimum_action_path(curved_well, [-1.02, 0.01], [1, 0], n_points=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = minimum_action_path(curved_well, [-1.02, 0.01], [1, 0], n_points=30,
                                refine_endpoints=True)
    np.testing.assert_allclose(r.start, [-1, 0], atol=1e-12)


def test_same_point_and_same_basin_are_refused(curved_well):
    with pytest.raises(InputError, match="coincide"):
        minimum_action_path(curved_well, [-1, 0], [-1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(InputError, match="basin of start"):
            minimum_action_path(curved_well, [-1, 0], [-0.7, 0.1])


def test_singular_diffusion_needs_a_floor():
    with pytest.raises(InputError, match="singular.*floor="):
        Dynamics(2, drift=linear_drift(np.eye(2)), diffusion=[[1.0, 1.0], [1.0, 1.0]])
    # no noise along y where x ≥ 0.5: found on the first evaluation there
    D = lambda x, y: [[1.0 + 0 * x, 0 * x], [0 * x, np.clip(0.5 - x, 0, None)]]  # noqa: E731
    dyn = Dynamics(2, drift=linear_drift(np.eye(2)), diffusion=D)
    with pytest.raises(InputError, match="singular.*at x = .*floor="):
        minimum_action_path(dyn, [-1, 0], [1, 0], n_points=20)
    ok = Dynamics(2, drift=linear_drift(np.eye(2)), diffusion=D, floor=0.05)
    np.testing.assert_allclose(ok.diffusion_at([[1.0, 0.0]])[0], np.diag([1.0, 0.05]))
    # where the floor is inactive: the quasi-potential at a point of the basin
    r = minimum_action_path(ok, [-1, 0], [-0.6, 0.3], n_points=30, end_critical=False)
    assert r.converged and r.action > 0


def test_iteration_budget_raises_with_the_last_path(curved_well):
    with pytest.raises(SolverError, match="did not converge.*err.result") as info:
        minimum_action_path(curved_well, [-1, 0], [1, 0], n_points=40, max_iter=3)
    assert info.value.result.path.shape == (40, 2)
    assert not info.value.result.converged


def test_resolution_check_bisects_the_path(curved_well, monkeypatch):
    # the recorded bisected action is the action of the same polyline with every segment split
    # in two, evaluated here independently by geometric_action; for the resolved gradient path
    # (V̄ = 1 exactly) both are within the O(h²) error of 1, and no resolution warning is given
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = minimum_action_path(curved_well, [-1, 0], [1, 0], n_points=50)
    halves = np.empty((2 * len(r.path) - 1, 2))
    halves[0::2], halves[1::2] = r.path, 0.5 * (r.path[1:] + r.path[:-1])
    assert r.info["bisected_action"] == pytest.approx(geometric_action(curved_well, halves),
                                                      rel=1e-12)
    # the first segment (attractor → level set) is exact in r.action, quadrature when bisected
    assert abs(r.info["bisected_action"] - 1.0) < 1e-3 and abs(r.action - 1.0) < 1e-3
    # with a zero tolerance the same change is reported as a warning naming both actions
    monkeypatch.setattr(gmam_module, "RESOLUTION_RTOL", 0.0)
    with pytest.warns(RuntimeWarning, match="when every segment is bisected"):
        minimum_action_path(curved_well, [-1, 0], [1, 0], n_points=50)


def _stiff_ou(d, spread, aniso, seed=0):
    """b = −Hx with the rates of H spread log-uniformly over ``spread`` (0.007·1000/spread … 7)
    and D = I + aniso·CCᵀ: a stiff OU process, non-reversible when aniso > 0 (HD ≠ DH); the end
    point where the exact quasi-potential ½xᵀΣ₀⁻¹x is 1/4."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    H = (Q * np.logspace(np.log10(7.0 / spread), np.log10(7.0), d)) @ Q.T
    C = rng.standard_normal((d, d)) / np.sqrt(d)
    D = np.eye(d) + aniso * C @ C.T
    dyn = Dynamics(d, drift=lambda *x: list(-(H @ np.stack(x))), diffusion=D,
                   jacobian=lambda *x: -H)
    K = ou_quasipotential_hessian(H, D)
    x1 = rng.standard_normal(d)
    return dyn, x1 * 0.5 / np.sqrt(0.5 * x1 @ K @ x1)


@pytest.mark.parametrize("spread, aniso", [(1000.0, 0.0), (100.0, 0.3)])
def test_linearised_preconditioner_converges_on_a_stiff_drift_to_the_exact_action(spread, aniso):
    # reference: V = 1/4 exactly (the Lyapunov quasi-potential); for a linear drift with
    # constant D the discrete action is exact (module docstring), so only tol limits it
    dyn, x1 = _stiff_ou(12, spread, aniso)
    kw = dict(n_points=33, tol=1e-4, max_iter=1500, end_critical=False)
    r = minimum_action_path(dyn, np.zeros(12), x1, preconditioner="linearised", **kw)
    assert r.converged and r.info["preconditioner"] == "linearised"
    assert r.action == pytest.approx(0.25, rel=1e-6)     # observed 7e-10 and 4e-9
    # the default damping (the largest stiffness in every direction) on the same budget does
    # not converge (residual 2.6e-3 and 7.3e-3): the slow directions relax too slowly
    with pytest.raises(SolverError):
        minimum_action_path(dyn, np.zeros(12), x1, **kw)


def test_linearised_preconditioner_has_the_same_fixed_point(curved_well):
    # a nonlinear drift: the start's linearisation is only a preconditioner there, so the
    # converged discrete path and action are those of the default iteration
    a = minimum_action_path(curved_well, [-1, 0], [1, 0], n_points=50)
    b = minimum_action_path(curved_well, [-1, 0], [1, 0], n_points=50,
                            preconditioner="linearised")
    assert b.converged
    assert b.action == pytest.approx(a.action, rel=1e-7)
    assert curve_distance(a.path, b.path) < 1e-5
    with pytest.raises(InputError, match="preconditioner"):
        minimum_action_path(curved_well, [-1, 0], [1, 0], preconditioner="newton")


@pytest.mark.parametrize("spread, aniso", [(1000.0, 0.0), (100.0, 0.3)])
def test_anderson_acceleration_converges_to_the_exact_action(spread, aniso):
    # reference: V = 1/4 exactly, as above; Anderson extrapolation of the linearised steps
    # has the same fixed points. The error of the action is quadratic in the residual's but
    # amplified by the slowest rate (1/1000 of the fastest), so tol is 1e-6 here: observed
    # 9.7e-13 and 1.6e-13 relative in 524 and 407 steps (at tol 1e-4: 1.7e-6 and 6e-10)
    dyn, x1 = _stiff_ou(12, spread, aniso)
    r = minimum_action_path(dyn, np.zeros(12), x1, n_points=33, tol=1e-6, max_iter=1500,
                            end_critical=False, preconditioner="linearised", anderson=10)
    assert r.converged and r.info["anderson"] == 10
    assert r.action == pytest.approx(0.25, rel=1e-9)


def test_anderson_acceleration_has_the_same_fixed_point(curved_well):
    # a nonlinear drift with both dampings: the converged path is the default's
    a = minimum_action_path(curved_well, [-1, 0], [1, 0], n_points=50)
    for preconditioner in ("scalar", "linearised"):
        b = minimum_action_path(curved_well, [-1, 0], [1, 0], n_points=50, anderson=5,
                                preconditioner=preconditioner)
        assert b.converged
        assert b.action == pytest.approx(a.action, rel=1e-7)
        assert curve_distance(a.path, b.path) < 1e-5
    for bad in (-1, 2.5, True):
        with pytest.raises(InputError, match="anderson"):
            minimum_action_path(curved_well, [-1, 0], [1, 0], anderson=bad)
