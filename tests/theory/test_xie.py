"""Xie, Sato & Sugiyama (seed 003): escape formulas against exact 1D first-passage quadrature."""
import numpy as np
import pytest
from numpy.polynomial import hermite_e

from fpsolve.theory import xie
from fpsolve.theory.kramers import kramers_time_1d
from fpsolve.theory.quadrature import basin_probabilities_1d, mfpt_1d, mfpt_interval_1d

# loss with a minimum at 0 (H_a = 1) and a maximum at 1 (H_b = −2), ΔL = 1/4
dL = lambda t: t - t ** 3


def test_theorem_3_1_and_appendix_44():
    # SGLD (constant D) in 1D: exact/printed = 1 + O(D); (44) is off by sqrt(|H_be|)
    D = 0.25 / 80
    r = xie.sgld_escape_time(2.0, -1.0, 0.25, D)
    exact = mfpt_1d(-1.0, 1.0, -3.0, potential_derivative=lambda x: x ** 3 - x, diffusion=D)
    assert exact.log_mean - r.log_printed == pytest.approx(0.0, abs=3 * D)
    Hb = np.diag([-3.0, 2.0])
    r2 = xie.sgld_escape_time(np.eye(2), Hb, 1.0, 0.1)
    assert r2.log_printed - r2.log_appendix_44 == pytest.approx(0.5 * np.log(3.0), abs=1e-13)


@pytest.mark.parametrize("convention", ["ito", "stratonovich", "isothermal"])
def test_theorem_3_2_prefactor_by_convention(convention):
    # D = (η/2B) sqrt(L″² + δ²) (regularised at the inflection point 1/√3). The exact MFPT, over
    # escape_prefactor(convention)·e^I with I the exact path integral, tends to 1 like η/B.
    delta = 0.1
    errs = []
    for two_b_over_eta in (200.0, 400.0):
        c = 1 / two_b_over_eta
        D = lambda t: c * np.sqrt((1 - 3 * t * t) ** 2 + delta ** 2)
        exact = mfpt_1d(0.0, 1.3, -0.9, potential_derivative=dL, diffusion=D, convention=convention)
        I = xie.path_exponent(dL, D, 0.0, 1.0)
        P = xie.escape_prefactor(1.0, -2.0, D(0.0), D(1.0), convention)
        errs.append(exact.log_mean - np.log(P) - I)
    assert abs(errs[1]) < 3e-3 and abs(errs[1]) < 0.6 * abs(errs[0])


def test_theorem_3_2_printed_prefactor_is_isothermal():
    # for D ∝ |H|, the printed 2π/|H_be| is the isothermal prefactor and the Itô one is 2π/H_ae
    r_ito = xie.sgd_escape_time(1.0, -2.0, 0.25, 0.01, 1.0, 0.4, "ito")
    r_iso = xie.sgd_escape_time(1.0, -2.0, 0.25, 0.01, 1.0, 0.4, "isothermal")
    assert r_iso.log_corrected == pytest.approx(r_iso.log_printed, abs=1e-13)
    assert r_ito.log_printed - r_ito.log_corrected == pytest.approx(np.log(1.0 / 2.0), abs=1e-13)
    # exponent (2BΔL/η)(s/H_ae + (1−s)/|H_be|) = 50·(0.4 + 0.3)
    assert r_ito.exponent == pytest.approx(35.0, rel=1e-14)


def test_implied_s_piecewise_quadratic():
    # L = H_a θ²/2 up to θ_j, L_b − |H_b|(θ − b)²/2 after (C¹ at θ_j), D = (η/2B)|L″| piecewise
    # constant: I = (2B/η)[L(θ_j)/H_a + (L_b − L(θ_j))/|H_b|], so s = L(θ_j)/ΔL exactly
    Ha, Hb, b, eta, B = 3.0, 1.0, 1.0, 0.01, 2.0
    tj = Hb * b / (Ha + Hb)
    Lj = Ha * tj ** 2 / 2
    Lb = Lj + Hb * (b - tj) ** 2 / 2
    dLoss = lambda t: Ha * t if t <= tj else Hb * (b - t)
    D = lambda t: eta / (2 * B) * (Ha if t <= tj else Hb)
    I = xie.path_exponent(dLoss, D, 0.0, b, points=[tj])
    assert I == pytest.approx(2 * B / eta * (Lj / Ha + (Lb - Lj) / Hb), rel=1e-12)
    assert xie.implied_s(I, Lb, Ha, -Hb, eta, B) == pytest.approx(Lj / Lb, rel=1e-10)


def test_path_exponent_sampled_matches_integral():
    c, delta = 0.01, 0.1
    D = lambda t: c * np.sqrt((1 - 3 * t * t) ** 2 + delta ** 2)
    th = np.linspace(0.0, 1.0, 4001)
    L = th ** 2 / 2 - th ** 4 / 4
    # near the maximum 1/D ≈ A + B sqrt(L_b − L); samples uniform in θ crowd in L there (L′ → 0),
    # which keeps Simpson accurate (≈2e-11 observed)
    assert xie.path_exponent_sampled(L, D(th)) == pytest.approx(xie.path_exponent(dL, D, 0, 1), rel=1e-9)


def test_rule_1_parallel_exits():
    # U′ = x(1 − x²)(1 + a x): one well at 0 (U″ = 1), exits over x = ±1 with
    # U(±1) = 1/4 ± 2a/15, U″(±1) = −2(1 ± a). Exact exit rate = k₊ + k₋ (+ O(D) corrections).
    a, D = 0.05, 0.25 / 40
    dU = lambda x: x * (1 - x * x) * (1 + a * x)
    rates = [1 / kramers_time_1d(1.0, -2 * (1 + s * a), 0.25 + s * 2 * a / 15, D).mean_time
             for s in (+1, -1)]
    exact = mfpt_interval_1d(0.0, -1.5, 1.5, potential_derivative=dU, diffusion=D)
    total = xie.parallel_paths_rate(rates)
    assert 1 / exact.mean / total == pytest.approx(1.0, abs=3 * D)  # ≈ −1.5D observed
    assert abs(1 / exact.mean / max(rates) - 1) > 0.1  # one path alone is not enough


def test_rule_2_sequential_is_exact_in_1d():
    # strong Markov property: a continuous path from −1 to 1 must pass 0 first
    kw = dict(potential_derivative=lambda x: x ** 3 - x, diffusion=0.02)
    t13 = mfpt_1d(-1.0, 1.0, -2.5, **kw).mean
    t12 = mfpt_1d(-1.0, 0.0, -2.5, **kw).mean
    t23 = mfpt_1d(0.0, 1.0, -2.5, **kw).mean
    assert xie.sequential_paths_time([t12, t23]) == pytest.approx(float(t13), rel=1e-11)


def test_corollary_3_2_2_basin_probabilities():
    # tilted double well: the exact MFPTs between minima give the stationary basin masses up to
    # exponentially small terms (here e^(−ΔU/D) with ΔU/D ≈ 20 … 40)
    dU = lambda x: x ** 3 - x + 0.1
    m1, s, m2 = np.sort(np.roots([1, 0, -1, 0.1]).real)
    for D in (0.0125, 0.00625):
        t12 = mfpt_1d(m1, m2, -3.0, potential_derivative=dU, diffusion=D).mean
        t21 = mfpt_1d(m2, m1, 3.0, potential_derivative=dU, diffusion=D).mean
        bp = basin_probabilities_1d([s], -3, 3, potential_derivative=dU, diffusion=D)
        np.testing.assert_allclose(xie.basin_probabilities([t12, t21]), bp.probabilities, rtol=1e-6)


def test_styblinski_tang_boundary():
    # E_x f′(θ − x), x ~ N(0, 1), by 10-point Gauss–Hermite (exact for this cubic)
    nodes, weights = hermite_e.hermegauss(10)
    weights = weights / weights.sum()
    fprime = lambda t: 0.5 * (4 * t ** 3 - 32 * t + 5)
    avg = lambda t: np.sum(weights * fprime(t - nodes))
    cp = xie.styblinski_tang_critical_points()
    assert cp.printed[1] == pytest.approx(0.156731, abs=1e-6)
    assert cp.printed[0] == pytest.approx(-2.903534, abs=1e-6)
    for t in cp.averaged:
        assert avg(t) == pytest.approx(0.0, abs=1e-12)
    assert abs(avg(cp.printed[1])) > 0.4  # not a critical point of the loss actually trained
