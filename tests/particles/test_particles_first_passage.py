"""First-passage times against the 1D MFPT quadrature (written here with scipy) and the
closed-form hitting law of Brownian motion, with the discrete-monitoring bias accounted for."""
import numpy as np
import pytest
from scipy import integrate, special

import fpsolve as fp
from fpsolve import compare
from fpsolve.particles import first_passage

K = 4.0  # standard errors allowed


def mfpt_quadrature(U, D, left, x0, c):
    """E τ(x0) = ∫_{x0}^{c} dy ∫_left^y dz exp((U(y) − U(z))/D) / D (reflecting at left,
    absorbing at c, constant D; THEORY §1). Exponents combined so nothing overflows."""
    inner = lambda y: integrate.quad(lambda z: np.exp((U(y) - U(z)) / D), left, y,
                                     epsabs=0, epsrel=1e-11, limit=200)[0] / D
    return integrate.quad(inner, x0, c, epsabs=0, epsrel=1e-10, limit=200)[0]


def test_double_well_mfpt_against_quadrature(dw_model):
    """Escape from −1 over the barrier to x ≥ 1 (D = 0.25, ΔU/D = 1). Reference: quadrature at
    the target c and at the target moved by the monitoring shift 0.5826·sqrt(2 D dt); the
    particle MFPT must lie within 4 SE of that interval, plus 1% for the O(λ dt) = 0.4% EM
    bias of the rate."""
    U = lambda x: (x ** 2 - 1) ** 2 / 4
    D, dt, c = 0.25, 2e-3, 1.0
    res = first_passage(dw_model, -1.0, [(c, np.inf)], n=4000, dt=dt, t_max=400.0, seed=21)
    assert res.route == "compiled" and res.censored == 0 and res.absorbed == 0
    tau_c = mfpt_quadrature(U, D, -2.5, -1.0, c)
    tau_shift = mfpt_quadrature(U, D, -2.5, -1.0, c + compare.monitoring_shift(D, dt))
    mid, half = 0.5 * (tau_c + tau_shift), 0.5 * abs(tau_shift - tau_c)
    cmp = compare.first_passage_mean(res, mid, k=K, bias=half + 0.01 * tau_c)
    assert cmp.passed, cmp.verdict
    assert np.all(res.exit_points[:, 0] >= c)
    # the empirical CDF is a distribution function over all n particles
    s, F = res.ecdf()
    assert np.all(np.diff(F) > 0) and F[-1] == pytest.approx(res.n_hit / res.n)
    assert res.cdf(res.t_max) == pytest.approx(1.0)


def test_brownian_hitting_law_with_monitoring_shift():
    """Pure diffusion from 0 to the level c: P(τ ≤ t) = erfc((c − x0)/sqrt(4Dt)). With discrete
    monitoring the law is that of the level c + 0.5826·sqrt(2 D dt) (BGK): within 4 SE of the
    shifted law, and clearly off the unshifted one."""
    g = fp.Grid([(-30.0, 30.0)], 10)
    D, dt, c = 0.5, 0.04, 1.0
    m = fp.FokkerPlanck(g, diffusion=D)
    res = first_passage(m, 0.0, [(c, np.inf)], n=100_000, dt=dt, t_max=4.0, seed=22,
                        compiled=False)
    t = np.array([0.5, 1.0, 2.0, 4.0])
    F = res.cdf(t)
    se = np.sqrt(F * (1 - F) / res.n)
    shifted = special.erfc((c + compare.monitoring_shift(D, dt)) / np.sqrt(4 * D * t))
    naive = special.erfc(c / np.sqrt(4 * D * t))
    assert np.all(np.abs(F - shifted) < K * se + 2e-3)  # + the O(dt) remainder of the shift
    assert np.all(naive - F > 10 * se)
    assert res.censored == res.n - res.n_hit and res.t_max == pytest.approx(4.0)


def test_python_mask_target_and_times_on_the_step_grid():
    """A callable target (numpy) in 2D on the numpy route; hits are at multiples of dt, exit
    points satisfy the mask, starting points inside hit at τ = 0."""
    g = fp.Grid([(-2.0, 2.0), (-2.0, 2.0)], 8)
    m = fp.FokkerPlanck(g, potential=lambda x, y: (x ** 2 + y ** 2) / 2, diffusion=0.5)
    target = lambda x, y: x ** 2 + y ** 2 > 1.0
    x0 = np.zeros((300, 2))
    x0[:10] = [1.5, 0.0]  # start inside the target
    res = first_passage(m, x0, target, dt=0.01, t_max=20.0, seed=23)
    assert res.route == "vectorised" and res.n == 300
    assert np.sum(res.times == 0.0) == 10
    assert np.all(target(res.exit_points[:, 0], res.exit_points[:, 1]))
    k = res.times / 0.01
    assert np.allclose(k, np.round(k), atol=1e-9)
    assert res.n_hit + res.censored == 300


def test_first_passage_needs_a_target(dw_model):
    with pytest.raises(fp.InputError, match="target"):
        first_passage(dw_model, 0.0, None, n=10, dt=0.1, t_max=1.0)
    with pytest.raises(fp.InputError, match="t_max"):
        first_passage(dw_model, 0.0, [(1, 2)], n=10, dt=0.1, t_max=np.inf)
