"""Hu, Li, Li & Liu (seed 001): enumeration, Hamilton–Jacobi residuals, quadrature and mpmath."""
import itertools

import mpmath
import numpy as np
import pytest

from fpsolve.errors import InputError
from fpsolve.theory import hu_li
from fpsolve.theory.quadrature import mfpt_1d, mfpt_interval_1d


def test_proposition_1_by_enumeration(rng):
    # the exact covariance of the batch-mean gradient over all batches, against factor·Σ₀
    M, m = 7, 3
    G = rng.normal(size=(M, 2)) + [0.5, -1.0]
    sigma0 = np.cov(G, rowvar=False, ddof=1)
    without = np.array([G[list(c)].mean(axis=0) for c in itertools.combinations(range(M), m)])
    np.testing.assert_allclose(np.cov(without, rowvar=False, ddof=0),
                               (1 / m - 1 / M) * sigma0, rtol=1e-12)
    np.testing.assert_allclose(hu_li.minibatch_gradient_covariance(G, m), (1 / m - 1 / M) * sigma0,
                               rtol=1e-13)
    M2 = 5
    G2 = G[:M2]
    with_r = np.array([G2[list(c)].mean(axis=0) for c in itertools.product(range(M2), repeat=m)])
    np.testing.assert_allclose(np.cov(with_r, rowvar=False, ddof=0),
                               hu_li.minibatch_gradient_covariance(G2, m, replacement=True), rtol=1e-12)
    assert hu_li.minibatch_covariance_factor(M, M) == 0.0  # full batch: no noise


def test_theorem_1_modified_drift_against_finite_differences():
    # b = −∇F − (η/4)∇|∇F|², with ∇|∇F|² by central differences (h = 1e-5, error ~1e-10)
    F_grad = lambda x: np.array([np.sin(x[0]) + x[1], x[0] + 3 * x[1] ** 2])
    F_hess = lambda x: np.array([[np.cos(x[0]), 1.0], [1.0, 6 * x[1]]])
    x, eta, h = np.array([0.3, -0.7]), 0.05, 1e-5
    sq = lambda y: np.sum(F_grad(y) ** 2)
    grad_sq = np.array([(sq(x + h * e) - sq(x - h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(hu_li.modified_drift(F_grad(x), F_hess(x), eta),
                               -F_grad(x) - eta / 4 * grad_sq, rtol=1e-9)


def test_quasi_potential_quadratic_hamilton_jacobi(rng):
    # V solves ½∇VᵀSSᵀ∇V − Hx·∇V = 0 (zero-cost relaxation along the time-reversed path)
    H = np.array([[2.0, 0.5], [0.5, 1.0]])
    S = np.array([[1.0, 0.0], [0.7, 0.4]])
    qp = hu_li.quasi_potential_quadratic(H, S)
    x = rng.normal(size=(20, 2))
    gradV = x @ qp.matrix  # ∇V = P⁻¹x (P⁻¹ symmetric)
    hj = 0.5 * np.einsum("ni,ij,nj->n", gradV, S @ S.T, gradV) - np.einsum("ni,ij,nj->n", x, H, gradV)
    assert np.abs(hj).max() < 1e-12 * np.abs(np.einsum("ni,ij,nj->n", x, H, gradV)).max()
    # V̄ of a ball: brute force over the circle
    th = np.linspace(0, 2 * np.pi, 200001)
    circle = 0.8 * np.stack([np.cos(th), np.sin(th)], axis=1)
    assert qp.minimum_on_sphere(0.8) == pytest.approx(qp.value(circle).min(), rel=1e-9)
    # S = σI: V = (2/σ²)F
    iso = hu_li.quasi_potential_quadratic(H, 0.5 * np.eye(2))
    np.testing.assert_allclose(iso.matrix, 2 / 0.25 * H, rtol=1e-12)


def test_theorem_2_log_time_slope_is_quasi_potential():
    # 1D, F = x²/2 on D = (−1, 1.5), σ = 1: V̄ = 2·min(½, 9/8) = 1. Exact log E𝒯 from 0 behaves as
    # V̄/η + ½ log η + C + O(η) (exit through a non-critical boundary point); fitting that form on
    # η = 0.01 and 0.005 recovers V̄ to O(η²).
    V = hu_li.quasi_potential_isotropic([0.5, 1.125], 1.0)
    assert V == 1.0
    logs = {eta: mfpt_interval_1d(0.0, -1.0, 1.5, potential_derivative=lambda x: x,
                                  diffusion=eta / 2).log_mean for eta in (0.01, 0.005)}
    fitted = ((logs[0.005] - 0.5 * np.log(0.005)) - (logs[0.01] - 0.5 * np.log(0.01))) / (200 - 100)
    assert fitted == pytest.approx(V, abs=2e-4)
    assert 0.01 * logs[0.01] == pytest.approx(V, abs=0.03)  # the plain limit converges slowly


def test_remark_ii_small_parameter():
    # Eyring–Kramers with exp(ΔF/ε): the exact 1D MFPT of dX = −F′ ds + sqrt(η) σ dB agrees with
    # ε = ησ²/2 (to 1 + 1.5ε, see test_kramers) and not with the printed ε = √η
    eta, sigma = 0.01, 0.5
    r = hu_li.eyring_kramers_remark(2.0, -1.0, 0.25, eta, sigma)
    exact = mfpt_1d(-1.0, 1.0, -3.0, potential_derivative=lambda x: x ** 3 - x,
                    diffusion=eta * sigma ** 2 / 2)
    eps = eta * sigma ** 2 / 2
    assert exact.log_mean - r.log_corrected == pytest.approx(np.log1p(1.5 * eps), abs=10 * eps ** 2)
    assert abs(exact.log_mean - r.log_printed) > 50


def test_dawson_cumulative_against_mpmath():
    # closed form ∫₀ˣ F(u) du = (x²/2) ₂F₂(1, 1; 3/2, 2; −x²), evaluated by mpmath at 30 digits
    mpmath.mp.dps = 30
    for X in (0.5, 5.0, 50.0, 400.0, 1e4):
        ref = X * X / 2 * mpmath.hyp2f2(1, 1, 1.5, 2, -mpmath.mpf(X) ** 2)
        assert hu_li.dawson_integral_cumulative(X) == pytest.approx(float(ref), rel=1e-12)


def test_theorem_3_dawson_form_against_quadrature():
    # exit from the maximum of F = −γx²/2 on (−a, a): Dawson closed form vs the general log-space
    # quadrature, reflecting-at-0 and two-sided (absorbing ±a) forms
    g, a, sigma = 2.0, 1.0, 0.5
    for eta in (0.1, 1e-3):
        D = eta * sigma ** 2 / 2
        r = hu_li.maximum_escape_time_1d(g, a, eta, sigma)
        one = mfpt_1d(0.0, a, 0.0, drift=lambda x: g * x, diffusion=D)
        two = mfpt_interval_1d(0.0, -a, a, drift=lambda x: g * x, diffusion=D)
        assert r.exact == pytest.approx(float(one.mean), rel=1e-10)
        assert r.exact == pytest.approx(float(two.mean), rel=1e-10)


def test_theorem_3_logarithmic_limit():
    # E𝒯 = (1/2γ)[ln(1/η) + ln(4γa²/σ²) + γ_E] + O(η): the asymptotic form converges to the exact
    # Dawson value, and E𝒯/log(1/η) → 1/(2γ) (Theorem 3) with a 1/log(1/η) correction
    g, a, sigma = 2.0, 1.0, 0.5
    assert hu_li.saddle_escape_coefficient(np.diag([1.0, -g])) == pytest.approx(1 / (2 * g))
    for eta in (1e-4, 1e-8, 1e-16, 1e-64):
        r = hu_li.maximum_escape_time_1d(g, a, eta, sigma)
        D = eta * sigma ** 2 / 2
        # the remainder is −D/(2γ²a²) (from ∫₀ˣF = ½ln 2x + γ_E/4 − 1/(8x²) + …), plus round-off
        assert r.exact - r.asymptotic == pytest.approx(-D / (2 * g * g * a * a),
                                                       abs=1e-14 + D / (g * a) ** 2 / 10)
        ratio = r.exact / np.log(1 / eta)
        const = (np.log(4 * g * a * a / sigma ** 2) + np.euler_gamma) / (2 * g)
        assert ratio == pytest.approx(1 / (2 * g) + const / np.log(1 / eta), rel=1e-6)


def test_theorem_3_remark_off_stable_manifold():
    # from x₀ ≠ 0 the exit time tends to the gradient-flow time ln(a/x₀)/γ, with an O(η) error
    g, a, x0, sigma = 2.0, 1.0, 0.3, 0.5
    theta = hu_li.deterministic_exit_time_1d(g, x0, a)
    assert theta == pytest.approx(np.log(a / x0) / g, rel=1e-15)
    gaps = [mfpt_interval_1d(x0, -a, a, drift=lambda x: g * x, diffusion=eta * sigma ** 2 / 2).mean
            - theta for eta in (1e-3, 1e-4)]
    assert 0 < gaps[1] < 1e-4 and gaps[0] / gaps[1] == pytest.approx(10.0, rel=0.02)


def test_batch_schedule_corrected():
    # β(s) = η/m(s) must reproduce Prop. 2's γ/log(2+s) = 2·D(s): the corrected m does, and grows
    s = np.array([0.0, 10.0, 1e3, 1e6])
    eta, gamma = 0.1, 0.5
    sched = hu_li.batch_size_schedule(s, eta, gamma)
    np.testing.assert_allclose(eta / sched.corrected, 2 * hu_li.annealing_diffusion(s, gamma), rtol=1e-14)
    assert np.all(np.diff(sched.corrected) > 0)
    # the printed rule (C = 1) gives η/m = η²/log(2+s): wrong by the factor η²/γ
    np.testing.assert_allclose(eta / sched.printed, eta ** 2 / np.log(2 + s), rtol=1e-14)
    capped = hu_li.batch_size_schedule(s, eta, gamma, max_batch=1.0)
    assert capped.corrected.max() == 1.0


def test_bad_input():
    with pytest.raises(InputError):
        hu_li.saddle_escape_coefficient(np.eye(2))
    with pytest.raises(InputError):
        hu_li.minibatch_covariance_factor(10, 5)
