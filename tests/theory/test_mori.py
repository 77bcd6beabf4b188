"""Mori, Ziyin, Liu & Ueda (seed 002): power law, escape rate and MFPT against exact quadratures."""
import itertools

import numpy as np
import pytest
from scipy import integrate

from fpsolve.errors import InputError
from fpsolve.theory import mori
from fpsolve.theory.quadrature import mfpt_1d, stationary_density_1d

L_STAR, H = 0.1, 1.0
loss = lambda t: L_STAR + H * t ** 2 / 2
dloss = lambda t: H * t


@pytest.mark.parametrize("convention", ["ito", "stratonovich"])
def test_eq_17_power_law_on_a_box(convention):
    # D = (η/B) L h*: the zero-flux law on any box is L^(−φ) exactly (φ from eq. (17) for Itô,
    # 1 − α + B/(ηh) in general); reference normalised by scipy.quad
    eta, B = 0.2, 2.0
    phi = mori.stationary_exponent(eta, B, H, convention)
    assert mori.stationary_exponent(eta, B, H) == pytest.approx(1 + B / (eta * H))
    x = np.linspace(-3, 3, 31)
    p = stationary_density_1d(x, -3, 3, potential_derivative=dloss,
                              diffusion=lambda t: eta / B * H * loss(t), convention=convention)
    Z = integrate.quad(lambda t: loss(t) ** -phi, -3, 3, epsabs=0, epsrel=1e-13)[0]
    np.testing.assert_allclose(p.density, loss(x) ** -phi / Z, rtol=1e-10)


def test_normalisability_and_critical_dimension():
    # ∫ r^(n−1) L^(−φ) dr over (0, R), by quad in u = ln r: it stops growing with R iff n < 2φ
    # (n = 5: the tail beyond 10⁴ is 1e-4 of the whole; n = 6 grows like ln R, n = 7 like R)
    eta, B = 0.5, 1.0
    phi = mori.stationary_exponent(eta, B, H)  # = 3: n_c = 6
    assert mori.critical_dimension(eta, B, H) == pytest.approx(2 * phi)
    radial = lambda n, R: integrate.quad(lambda u: np.exp(n * u) * loss(np.exp(u)) ** -phi, -30,
                                         np.log(R), limit=500, epsabs=0, epsrel=1e-12)[0]
    for n in (1, 5, 6, 7):
        growth = radial(n, 1e8) / radial(n, 1e4)
        assert mori.is_normalisable(n, phi) == (growth < 1.01)


def test_eq_15_exponent_from_exact_mfpt():
    # quadratic loss in 1D (n = 1): exact MFPT to L = c L* grows like c^(B/(ηh) + 1 − 1/2) (Fig. 3b);
    # the local log-log slope approaches the exponent of eq. (15) with an O(1/c) error
    eta, B = 0.1, 1.0
    expo = mori.escape_rate(H, -1.0, 2.0, 1.0, eta, B, 1).exponent
    assert expo == pytest.approx(B / (eta * H) + 0.5)
    t = {c: mori.mfpt_loss_threshold_1d(loss, dloss, 0.0, c * L_STAR, eta, B, H, (-200, 200))
         for c in (256, 512)}
    slope = (t[512].log_mean - t[256].log_mean) / np.log(2)
    assert slope == pytest.approx(expo, rel=2e-3)
    assert len(t[256].crossings) == 2 and t[256].crossings[0] == pytest.approx(-t[256].crossings[1])


def test_eq_15_rate_against_exact_double_well():
    # L = L* + (θ² − 1)²/4 (h_e = 2, h_s = −1), D = (η/B) L h_e: exact mean time from −1 to +1
    # times κ of eq. (15) with n = 1 → 1 as η/B → 0, the error ∝ η/B (halving when η/B halves)
    Ls, he = 0.05, 2.0
    L = lambda t: Ls + (t * t - 1) ** 2 / 4
    errs = []
    for k in (20, 40, 80):  # k = B/(η h_e)
        eta_B = 1 / (k * he)
        T = mfpt_1d(-1.0, 1.0, -2.5, potential_derivative=lambda t: t ** 3 - t,
                    diffusion=lambda t: eta_B * L(t) * he)
        kappa = mori.escape_rate(he, -1.0, L(0.0), Ls, eta_B, 1.0, 1)
        errs.append(T.mean * kappa.rate - 1)
    assert abs(errs[-1]) < 5e-3
    assert errs[1] / errs[0] == pytest.approx(0.5, abs=0.05)
    assert errs[2] / errs[1] == pytest.approx(0.5, abs=0.05)


def test_threshold_mfpt_against_nested_quad():
    # symmetric quadratic loss: reflecting at 0, absorbing at θ_c; ψ = ∫L′/D = (B/(ηh)) ln L in
    # closed form, the two integrals by scipy.quad with shifted exponents
    eta, B, c = 0.1, 1.0, 20.0
    k = B / (eta * H)
    r = mori.mfpt_loss_threshold_1d(loss, dloss, 0.0, c * L_STAR, eta, B, H, (-50, 50))
    tc = r.crossings[1]
    D = lambda t: eta / B * H * loss(t)
    opts = dict(epsabs=0, epsrel=1e-12, limit=200)
    inner = lambda y: integrate.quad(lambda z: (loss(z) / L_STAR) ** -k / D(z), 0, y, **opts)[0]
    outer = integrate.quad(lambda y: (loss(y) / (c * L_STAR)) ** k * inner(y), 0, tc, **opts)[0]
    assert r.log_mean == pytest.approx(np.log(outer) + k * np.log(c), abs=1e-9)


def test_eq_2_erratum_by_enumeration():
    # averaged over all batches, the corrected mini-batch loss is L = (1/N)Σℓ, the printed one L/2
    ell = np.array([0.3, 1.2, 0.05, 2.0, 0.7])
    batches = list(itertools.combinations(range(5), 2))
    corrected = np.mean([mori.minibatch_loss(ell, b).corrected for b in batches])
    printed = np.mean([mori.minibatch_loss(ell, b).printed for b in batches])
    assert corrected == pytest.approx(ell.mean(), rel=1e-14)
    assert printed == pytest.approx(ell.mean() / 2, rel=1e-14)


def test_bad_input():
    with pytest.raises(InputError, match="already"):
        mori.mfpt_loss_threshold_1d(loss, dloss, 0.0, 0.5 * L_STAR, 0.1, 1, H, (-5, 5))
    with pytest.raises(InputError, match="exceed"):
        mori.escape_rate(1.0, -1.0, 0.1, 0.2, 0.1, 1, 1)
