"""Dai & Zhu (seed 000): printed results against exact quadrature, closed-form χ² and direct integrals."""
import numpy as np
import pytest
from scipy import integrate, optimize

from fpsolve.theory import dai_zhu
from fpsolve.theory.quadrature import basin_probabilities_1d, mfpt_1d, stationary_density_1d


def test_lemma_2_3_gibbs_law():
    # constant β: D = γβ/(2M) = 1/η∞ and the Itô zero-flux state is exp(−η∞ L)/Z
    gamma, M, beta = 0.1, 128, 2.0
    e = dai_zhu.eta_infinity(gamma, M, beta)
    assert e == pytest.approx(2 * M / (gamma * beta), rel=1e-15)
    L = lambda w: w ** 4 / 4 - w ** 2 / 2
    w = np.linspace(-2, 2, 41)
    p = stationary_density_1d(w, -2, 2, potential_derivative=lambda x: x ** 3 - x, diffusion=1 / e)
    Z = integrate.quad(lambda x: np.exp(-e * (L(x) + 0.25)), -2, 2, points=[-1, 0, 1], epsabs=0,
                       epsrel=1e-13)[0]
    np.testing.assert_allclose(p.density, np.exp(-e * (L(w) + 0.25)) / Z, rtol=1e-9)


def test_theorem_2_2_against_exact_mfpt():
    # η∞ ΔL = 100 for the quartic double well; exact/printed = 1 + 1.5/η∞ + O(η∞⁻²) (see
    # test_kramers for the Laplace expansion), and the time to the saddle is half
    gamma, M, beta = 0.025, 5.0, 1.0  # η∞ = 2M/(γβ) = 400, η∞ ΔL = 100
    e = dai_zhu.eta_infinity(gamma, M, beta)
    tt = dai_zhu.transition_time(2.0, -1.0, 0.25, gamma, M, beta)
    exact = mfpt_1d(-1.0, 1.0, -3.0, potential_derivative=lambda x: x ** 3 - x, diffusion=1 / e)
    assert np.exp(exact.log_mean - tt.log_printed) - 1 == pytest.approx(1.5 / e, rel=0.05)
    saddle = mfpt_1d(-1.0, 0.0, -3.0, potential_derivative=lambda x: x ** 3 - x, diffusion=1 / e)
    assert saddle.mean / tt.to_saddle == pytest.approx(1.0, abs=3 / e)


def test_gaussian_chi_square_against_quadrature():
    # 1D: ∫ p²/q − 1 by scipy.quad
    p = lambda x: np.exp(-(x - 0.3) ** 2 / (2 * 0.5)) / np.sqrt(2 * np.pi * 0.5)
    q = lambda x: np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi)
    ref = integrate.quad(lambda x: p(x) ** 2 / q(x), -20, 20, points=[0.5], epsabs=0, epsrel=1e-13)[0] - 1
    assert dai_zhu.gaussian_chi_square(0.3, 0.5, 0.0, 1.0) == pytest.approx(ref, rel=1e-10)
    # 2D, correlated: trapezoid sum on a ±10σ grid (spectrally accurate for Gaussians)
    m, S = np.array([0.2, -0.1]), np.array([[0.6, 0.2], [0.2, 0.4]])
    Sig = np.array([[1.0, -0.3], [-0.3, 0.8]])
    g = np.linspace(-8, 8, 801)
    X = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1)
    gauss = lambda mu, C: np.exp(-0.5 * np.einsum("...i,ij,...j->...", X - mu, np.linalg.inv(C), X - mu)) / (
        2 * np.pi * np.sqrt(np.linalg.det(C)))
    ref2 = np.sum(gauss(m, S) ** 2 / gauss(0, Sig)) * (g[1] - g[0]) ** 2 - 1
    assert dai_zhu.gaussian_chi_square(m, S, [0, 0], Sig) == pytest.approx(ref2, rel=1e-9)
    # a start much narrower than twice the target's width has infinite χ²
    assert dai_zhu.gaussian_chi_square(0, 3.0, 0, 1.0) == np.inf


def test_theorem_2_4_rate_printed_vs_true():
    # OU, L = hw²/2: C_P(e^(−L)) = h, λ₁ = h. True χ² decay rate is 2λ₁ = 2h for any η∞.
    h = 1.0
    t = np.array([5.0, 6.0])
    for eta_inf in (0.25, 2.0):
        chi = dai_zhu.ou_chi_square(t, h, 1 / eta_inf, 1.0, 0.1)
        slope = np.diff(np.log(chi))[0]
        assert slope == pytest.approx(-2 * h, rel=1e-3)  # next term e^(−4ht) is ~e^(−10) smaller
        rates = dai_zhu.chi2_decay_rate(h, eta_inf, h)
        assert rates.printed == pytest.approx(h / eta_inf) and rates.corrected == 2 * h
    # η∞ = 1/4 < 1/2: the printed bound (rate 4h) is violated by the exact χ²
    T, tt = 1.0, 6.0
    chi_T, chi_t = dai_zhu.ou_chi_square([T, tt], h, 4.0, 1.0, 0.1)
    assert chi_t > dai_zhu.chi2_bound_printed(tt, T, chi_T, h, 0.25)
    # η∞ = 2: printed rate h/2 < 2h, the bound holds
    chi_T, chi_t = dai_zhu.ou_chi_square([T, tt], h, 0.5, 1.0, 0.1)
    assert chi_t < dai_zhu.chi2_bound_printed(tt, T, chi_T, h, 2.0)


def test_theorem_2_5_ratio_printed_vs_corrected():
    # equal-depth asymmetric wells: L = ½(w² − 1)² e^(κw), minima ±1 at L = 0 with
    # L″(1) = 4e^κ, L″(−1) = 4e^(−κ); ratio P(w̌₁ = −1)/P(w̌₂ = +1)
    kappa = 0.5
    L = lambda w: 0.5 * (w * w - 1) ** 2 * np.exp(kappa * w)
    dL = lambda w: (2 * w * (w * w - 1) + 0.5 * kappa * (w * w - 1) ** 2) * np.exp(kappa * w)
    saddle = optimize.brentq(dL, -0.9, 0.9)
    H1, H2 = 4 * np.exp(-kappa), 4 * np.exp(kappa)
    errors = []
    for e in (100.0, 200.0, 400.0):
        r = dai_zhu.minima_probability_ratio(H1, H2, 0.0, 0.0, e)
        bp = basin_probabilities_1d([saddle], -2.2, 2.2, potential_derivative=dL, diffusion=1 / e)
        errors.append(abs(bp.probabilities[0] / bp.probabilities[1] / r.corrected - 1))
        assert r.printed == pytest.approx(np.exp(kappa)) and r.epsilon_limit == 1.0
    # basin ratio → sqrt(H₂/H₁) = e^κ with an O(1/η∞) error that halves with each doubling
    assert errors[-1] < 5e-3 and errors[1] / errors[0] == pytest.approx(0.5, abs=0.1)
    # the ε-ball ratio (direct quadrature of e^(−η∞L)) tends to 1, not to (2.7)'s e^κ
    e = 200.0
    ball = lambda c, eps: integrate.quad(lambda w: np.exp(-e * L(w)), c - eps, c + eps, epsabs=0,
                                         epsrel=1e-12)[0]
    for eps in (1e-3, 1e-4):
        assert ball(-1, eps) / ball(1, eps) == pytest.approx(1.0, abs=50 * e * eps ** 2)
        # and so does the paper's own Theorem 2.5 expression
        pr = (dai_zhu.ball_probability_printed(eps, 0.0, [H1], e)
              / dai_zhu.ball_probability_printed(eps, 0.0, [H2], e))
        assert pr == pytest.approx(1.0, abs=e * eps ** 2 * H2)


@pytest.mark.parametrize("convention,alpha", [("ito", 0.0), ("stratonovich", 0.5),
                                              ("isothermal", 1.0)])
def test_state_dependent_beta_variance(convention, alpha):
    # direct numerical integration from the definition p ∝ D^(α−1) exp(∫₀^w b/D), b = −w,
    # D = c(1 + w²/2), with the inner integral itself by quad (no closed form used)
    c = 0.3
    D = lambda w: c * (1 + w * w / 2)
    psi = lambda w: integrate.quad(lambda u: -u / D(u), 0, w, epsabs=0, epsrel=1e-13)[0]
    dens = lambda w: D(w) ** (alpha - 1) * np.exp(psi(w))
    opts = dict(epsabs=0, epsrel=1e-11, limit=200)
    Z = 2 * integrate.quad(dens, 0, np.inf, **opts)[0]
    var = 2 * integrate.quad(lambda w: w * w * dens(w), 0, np.inf, **opts)[0] / Z
    law = dai_zhu.state_dependent_beta_law(c, convention)
    assert law.variance == pytest.approx(var, rel=1e-8)
    assert law.distribution.var() == pytest.approx(var, rel=1e-8)
    assert law.distribution.pdf(0.7) == pytest.approx(dens(0.7) / Z, rel=1e-8)


def test_state_dependent_beta_conventions_differ():
    c = 0.3
    v = {k: dai_zhu.state_dependent_beta_law(c, k).variance for k in ("ito", "stratonovich", "isothermal")}
    assert v["ito"] == pytest.approx(2 * c / (2 - c)) and v["stratonovich"] == pytest.approx(c / (1 - c))
    assert v["isothermal"] == pytest.approx(2 * c / (2 - 3 * c))
    assert v["ito"] < v["stratonovich"] < v["isothermal"]
    # heavy tails: isothermal variance diverges for c ≥ 2/3, Itô only for c ≥ 2
    assert dai_zhu.state_dependent_beta_law(0.7, "isothermal").variance == np.inf
    assert np.isfinite(dai_zhu.state_dependent_beta_law(0.7, "ito").variance)
    assert not dai_zhu.state_dependent_beta_law(2.5, "isothermal").normalisable
