"""Exact 1D quadratures against closed forms, mpmath, nested scipy quadrature and a BVP solver."""
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate

from fpsolve.errors import InputError
from fpsolve.theory.quadrature import (
    basin_probabilities_1d, effective_ito_drift, mfpt_1d, mfpt_interval_1d,
    splitting_probability_1d, stationary_density_1d,
)

# The module claims relative error ≤ 1e-9 on smooth problems; closed forms are evaluated to
# ~1e-15, so 1e-10 leaves room for the reference's own round-off while still catching any
# first-order (or even sixth-order) quadrature error.
REL = 1e-10


def test_constant_drift_mfpt_both_orientations():
    # Brownian motion with drift v towards the target, reflecting at 0, absorbing at L:
    # T(x) = (L − x)/v + (D/v²)(e^(−vL/D) − e^(−vx/D))
    v, D, L = 0.7, 0.3, 2.0
    x = np.array([0.0, 0.5, 1.9, 2.0])
    ref = (L - x) / v + D / v ** 2 * (np.exp(-v * L / D) - np.exp(-v * x / D))
    r = mfpt_1d(x, L, 0.0, drift=v, diffusion=D)
    np.testing.assert_allclose(r.mean, ref, rtol=REL, atol=1e-14)
    assert r.mean[-1] == 0.0 and r.log_mean[-1] == -np.inf
    # mirror image: target on the left (x ↦ −x, drift ↦ −drift) gives the same times
    m = mfpt_1d(-x[:-1], -L, 0.0, drift=-v, diffusion=D)
    np.testing.assert_allclose(m.mean, ref[:-1], rtol=REL)


def test_pure_diffusion_moments_closed_forms():
    D, L = 0.3, 2.0
    x = np.array([0.0, 1.0, 1.7])
    r = mfpt_1d(x, L, 0.0, drift=0.0, diffusion=D, second_moment=True)
    # reflecting at 0: E τ = (L² − x²)/(2D), E τ² = (5L⁴ − 6L²x² + x⁴)/(12D²)
    np.testing.assert_allclose(r.mean, (L ** 2 - x ** 2) / (2 * D), rtol=REL)
    np.testing.assert_allclose(r.second_moment, (5 * L ** 4 - 6 * L ** 2 * x ** 2 + x ** 4)
                               / (12 * D ** 2), rtol=REL)
    # both ends absorbing on (0, L): E τ = x(L−x)/(2D), E τ² = x(L−x)(L² + xL − x²)/(12D²)
    y = np.array([0.1, 1.0, 1.9])
    s = mfpt_interval_1d(y, 0.0, L, drift=0.0, diffusion=D, second_moment=True)
    np.testing.assert_allclose(s.mean, y * (L - y) / (2 * D), rtol=REL)
    np.testing.assert_allclose(s.second_moment, y * (L - y) * (L ** 2 + y * L - y ** 2)
                               / (12 * D ** 2), rtol=REL)
    np.testing.assert_allclose(s.variance, s.second_moment - s.mean ** 2, rtol=1e-9)


def test_ou_mfpt_at_barrier_100_against_mpmath():
    # OU U = kx²/2, target c with U(c)/D = 100 (an e^100 time). Reference: the printed formula
    # with the inner integral in closed form, ∫_{−∞}^y e^(−kz²/2D) dz = sqrt(πD/2k) erfc(−y sqrt(k/2D)),
    # and the outer integral by mpmath at 30 digits. The reflecting end −1.5c of the quadrature
    # only drops mass e^(−225) relative, far below the tolerance.
    k, D = 2.0, 0.01
    c = math.sqrt(2 * D * 100 / k)
    r = mfpt_1d(0.0, c, -1.5 * c, potential_derivative=lambda x: k * x, diffusion=D)
    mpmath.mp.dps = 30
    kk, DD = mpmath.mpf(k), mpmath.mpf(D)
    inner = lambda y: mpmath.sqrt(mpmath.pi * DD / (2 * kk)) * mpmath.erfc(-y * mpmath.sqrt(kk / (2 * DD)))
    outer = mpmath.quad(lambda y: mpmath.exp(kk * y * y / (2 * DD) - 100) * inner(y) / DD,
                        mpmath.linspace(0, c, 9))
    log_ref = float(mpmath.log(outer)) + 100
    assert r.log_mean == pytest.approx(log_ref, abs=1e-9)  # 1e-9 relative in the time itself
    assert r.log_mean > 95  # the time itself is ~e^98: the log form is what makes this usable


def test_double_well_barrier_100_against_nested_scipy():
    # U = x⁴/4 − x²/2, ΔU/D = 100. Reference: scipy.quad nested, with each exponent shifted by its
    # maximum (U(0) outside, U(−1) inside) so both integrands are ≤ 1, tolerance epsrel 1e-13.
    D = 0.25 / 100
    U = lambda x: x ** 4 / 4 - x ** 2 / 2
    r = mfpt_1d(-1.0, 1.0, -2.5, potential_derivative=lambda x: x ** 3 - x, diffusion=D,
                second_moment=True)
    opts = dict(epsabs=0.0, epsrel=1e-13, limit=200)

    def inner(y):
        pts = [-1.0] if y > -1.0 else None
        return integrate.quad(lambda z: np.exp(-(U(z) - U(-1)) / D), -2.5, y, points=pts, **opts)[0]

    outer = integrate.quad(lambda y: np.exp((U(y) - U(0)) / D) * inner(y), -1, 1, points=[0.0],
                           **opts)[0]
    log_ref = math.log(outer / D) + (U(0) - U(-1)) / D
    assert r.log_mean == pytest.approx(log_ref, abs=1e-10)
    # a barrier crossing is exponential to within O(relaxation time/τ) ~ e^(−100):
    # Var τ = (E τ)², E τ² = 2(E τ)²
    assert r.log_variance == pytest.approx(2 * r.log_mean, abs=1e-9)
    assert r.log_second_moment == pytest.approx(2 * r.log_mean + math.log(2), abs=1e-9)


def test_second_moment_against_ode_shooting():
    # OU drift −kx, reflecting at ℓ, absorbing at c. Independent method: A τ₁ = −1, A τ₂ = −2τ₁
    # (A f = −kx f′ + D f″) as initial-value problems for w = τ′ from the reflecting end (w(ℓ) = 0),
    # integrated with DOP853 at rtol 1e-12; then τ(x) = −∫_x^c w.
    k, D, lo, c = 1.5, 0.4, -3.0, 1.2
    opts = dict(method="DOP853", rtol=1e-12, atol=1e-14, dense_output=True)
    s1 = integrate.solve_ivp(lambda x, y: [(k * x * y[0] - 1) / D, y[0]], (lo, c), [0.0, 0.0], **opts)
    tau1 = lambda x: s1.sol(x)[1] - s1.sol(c)[1]
    s2 = integrate.solve_ivp(lambda x, y: [(k * x * y[0] - 2 * tau1(x)) / D, y[0]], (lo, c),
                             [0.0, 0.0], **opts)
    tau2 = lambda x: s2.sol(x)[1] - s2.sol(c)[1]
    x0 = np.array([-1.0, 0.0, 0.8])
    r = mfpt_1d(x0, c, lo, drift=lambda x: -k * x, diffusion=D, second_moment=True)
    # the ODE solution is good to ~1e-10 relative (tolerance 1e-12, O(100) steps)
    np.testing.assert_allclose(r.mean, tau1(x0), rtol=1e-9)
    np.testing.assert_allclose(r.second_moment, tau2(x0), rtol=1e-9)


@pytest.mark.parametrize("convention,alpha", [("ito", 0.0), ("stratonovich", 0.5),
                                              ("isothermal", 1.0)])
def test_state_dependent_stationary_density(convention, alpha):
    # drift −w, D = c(1 + w²/2): p ∝ D^(α−1) exp(−∫w/D) = (1 + w²/2)^(α − 1 − 1/c), normalised on
    # the box [−3, 3] with scipy.quad
    c = 0.3
    w = np.linspace(-3, 3, 61)
    q = 1 / c + 1 - alpha
    Z = integrate.quad(lambda u: (1 + u * u / 2) ** (-q), -3, 3, epsabs=0, epsrel=1e-13)[0]
    p = stationary_density_1d(w, -3, 3, drift=lambda u: -u, diffusion=lambda u: c * (1 + u * u / 2),
                              convention=convention)
    np.testing.assert_allclose(p.density, (1 + w * w / 2) ** (-q) / Z, rtol=REL)


def test_non_ito_conventions_equal_ito_with_effective_drift():
    # THEORY §1: convention α is the Itô process with drift b + αD′. The quadrature uses α log D,
    # the reference uses the explicit drift (analytic D′): a second route to the same numbers.
    b = lambda x: -(x ** 3 - x)
    D = lambda x: 0.1 * (1 + 0.5 * np.sin(x))
    dD = lambda x: 0.05 * np.cos(x)
    for conv in ("stratonovich", "isothermal"):
        r = mfpt_1d([-1.0, 0.0], 1.0, -2.0, drift=b, diffusion=D, convention=conv,
                    second_moment=True)
        ref = mfpt_1d([-1.0, 0.0], 1.0, -2.0, drift=effective_ito_drift(b, D, conv, dD),
                      diffusion=D, second_moment=True)
        np.testing.assert_allclose(r.log_mean, ref.log_mean, rtol=0, atol=1e-10)
        np.testing.assert_allclose(r.log_second_moment, ref.log_second_moment, rtol=0, atol=1e-10)
    # the finite-difference D′ of effective_ito_drift agrees with the analytic one
    x = np.linspace(-2, 1, 7)
    np.testing.assert_allclose(effective_ito_drift(b, D, "isothermal")(x),
                               effective_ito_drift(b, D, "isothermal", dD)(x), rtol=0, atol=1e-9)


def test_splitting_probability_closed_form():
    # drift v: P(hit L before 0 | x) = (1 − e^(−vx/D)) / (1 − e^(−vL/D))
    v, D, L = -0.9, 0.05, 1.0
    x = np.array([0.05, 0.5, 0.95])
    s = splitting_probability_1d(x, 0.0, L, drift=v, diffusion=D)
    ref = np.expm1(-v * x / D) / np.expm1(-v * L / D)
    np.testing.assert_allclose(s.to_upper, ref, rtol=REL)  # values down to ~e^(−17)
    np.testing.assert_allclose(s.to_upper + s.to_lower, 1.0, rtol=0, atol=1e-14)


def test_basin_probabilities_against_scipy():
    # tilted double well, constant D: basin masses of e^(−U/D) split at the saddle
    D = 0.08
    U = lambda x: x ** 4 / 4 - x ** 2 / 2 + 0.1 * x
    roots = np.sort(np.roots([1, 0, -1, 0.1]).real)
    saddle = roots[1]
    opts = dict(epsabs=0, epsrel=1e-13, limit=200)
    left = integrate.quad(lambda x: np.exp(-U(x) / D), -3, saddle, **opts)[0]
    right = integrate.quad(lambda x: np.exp(-U(x) / D), saddle, 3, **opts)[0]
    bp = basin_probabilities_1d([saddle], -3, 3, potential_derivative=lambda x: x ** 3 - x + 0.1,
                                diffusion=D)
    np.testing.assert_allclose(bp.probabilities, [left / (left + right), right / (left + right)],
                               rtol=REL)


def test_gibbs_density_pointwise():
    D = 0.05
    x = np.linspace(-2, 2, 201)
    p = stationary_density_1d(x, -2, 2, potential_derivative=lambda y: y ** 3 - y, diffusion=D)
    g = lambda y: np.exp(-(y ** 4 / 4 - y ** 2 / 2 + 0.25) / D)
    Z = integrate.quad(g, -2, 2, points=[-1, 0, 1], epsabs=0, epsrel=1e-13)[0]
    np.testing.assert_allclose(p.density, g(x) / Z, rtol=REL)


def test_bad_input_is_refused():
    with pytest.raises(InputError, match="exactly one"):
        mfpt_1d(0.0, 1.0, -1.0, drift=0.0, potential_derivative=0.0)
    with pytest.raises(InputError, match="diffusion must be > 0"):
        mfpt_1d(0.0, 1.0, -1.0, drift=0.0, diffusion=lambda x: x)
    with pytest.raises(InputError, match="x0"):
        mfpt_1d(2.0, 1.0, -1.0, drift=0.0)
    with pytest.raises(InputError, match="convention"):
        stationary_density_1d(0.0, -1, 1, drift=0.0, convention="klimontovich-ish")
    with pytest.raises(InputError, match="lower < upper"):
        mfpt_interval_1d(0.0, 1.0, -1.0, drift=0.0)
