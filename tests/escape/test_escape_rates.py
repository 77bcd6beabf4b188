"""Escape rates: λ₁ of the killed process, the MFPT and the flux-over-population rates agree to
O(relaxation time / escape time), which shrinks as ΔU/D grows; each also against an independent
reference (sparse eigensolver, continuum transition-path-theory quadrature, Eyring–Kramers)."""
import numpy as np
import pytest
from scipy import integrate

import fpsolve as fp
from fpsolve import escape
from fpsolve.landscape import analyze
from fpsolve.numerics.spectrum import smallest_eigenvalues

U = lambda x: (x ** 2 - 1) ** 2
T_RELAX = 1.0 / 8.0  # 1 / U''(±1)


def model_1d(beta, n=1500):
    g = fp.Grid([(-2.0, 1.5)], n)
    return fp.FokkerPlanck(g, potential=U, diffusion=1.0 / beta)


def test_qsd_mfpt_and_flux_over_population_tend_together():
    tgt = lambda x: x >= 1.0
    gaps = []
    for beta in (4.0, 8.0, 16.0):
        m = model_1d(beta)
        T = escape.mean_first_passage_time(m, tgt).at(-1.0)
        qs = escape.quasi_stationary(m, tgt)
        ss = escape.flux_over_population(m, lambda x: x <= 0.0, tgt)
        rf = escape.flux_over_population(m, lambda x: x <= -1.0, tgt, method="reactive-flux")
        g = np.abs(np.array([qs.rate, ss.rate, rf.rate]) * T - 1.0)
        # the known asymptotic gap: a few relaxation times out of an escape time
        assert np.all(g <= 25 * T_RELAX / T), (beta, g, T_RELAX / T)
        gaps.append(g)
        assert qs.info["flux_defect"] < 1e-9 and rf.info["flux_defect"] < 1e-9
    gaps = np.array(gaps)
    assert np.all(gaps[1] < gaps[0] / 10) and np.all(gaps[2] < gaps[1] / 100)


def test_principal_eigenvalue_against_sparse_eigensolver():
    m = model_1d(8.0)
    tgt = lambda x: x >= 0.3
    qs = escape.quasi_stationary(m, tgt)
    mask = (m.grid.coords[0] >= 0.3).ravel()
    idx = np.full(m.grid.size, -1)
    idx[~mask] = np.arange((~mask).sum())
    ref, _ = smallest_eigenvalues(m.rates, 1, index=idx)
    assert qs.rate == pytest.approx(float(ref[0]), rel=1e-6)
    # the quasi-stationary density: zero on the target, a normalised density, the eigenvector
    assert np.all(qs.density.values[m.grid.coords[0] >= 0.3] == 0) and qs.density.mass == \
        pytest.approx(1.0)
    assert qs.info["residual"] < 1e-12


def test_non_reversible_principal_eigenvalue_against_dense():
    g = fp.Grid([(-2, 2), (-2, 2)], 24)
    dU = lambda x: 4 * x ** 3 - 4 * x
    m = fp.FokkerPlanck(g, drift=lambda x, y: (-dU(x) + 0.8 * y, -y - 0.8 * dU(x)),
                        diffusion=0.2)
    tgt = lambda x, y: x > 0.7
    qs = escape.quasi_stationary(m, tgt)
    mask = (g.coords[0] > 0.7).ravel()
    idx = np.full(g.size, -1)
    idx[~mask] = np.arange((~mask).sum())
    ev = np.linalg.eigvals(-m.rates.generator(index=idx).toarray())
    assert qs.rate == pytest.approx(np.min(ev.real), rel=1e-9)


def test_reactive_flux_against_continuum_transition_path_theory():
    """1D, constant D, A = {x ≤ a}, B = {x ≥ b}: q = ∫_a^x e^{U/D} / I, I = ∫_a^b e^{U/D};
    reactive flux D/(Z I); population ∫ π (1 − q). Rate = D / (I ∫_lo^b e^{−U/D} (1 − q))."""
    beta = 8.0
    D = 1.0 / beta
    g = fp.Grid([(-2.0, 1.5)], 1751)  # h = 2e-3, centres at ±1
    x = g.axes[0]
    a, b = x[np.argmin(abs(x + 1))], x[np.argmin(abs(x - 1))]
    m = fp.FokkerPlanck(g, potential=U, diffusion=D)
    rf = escape.flux_over_population(m, lambda x: x <= a + 1e-9, lambda x: x >= b - 1e-9,
                                     method="reactive-flux")
    f = lambda y: np.exp(U(y) / D)
    I = integrate.quad(f, a, b, epsabs=0, epsrel=1e-13)[0]
    one_minus_q = lambda y: 1.0 if y <= a else integrate.quad(f, y, b, epsrel=1e-13)[0] / I
    pop = integrate.quad(lambda y: np.exp(-U(y) / D) * one_minus_q(y), -2.0, b, points=[a],
                         epsrel=1e-11, limit=200)[0]
    assert rf.rate == pytest.approx(D / (I * pop), rel=1e-4)  # O(h²)


def test_source_sink_population_is_the_injection_averaged_mfpt():
    """Source–sink definition: 1/rate = E τ averaged over the injection law π|source (checked
    against the backward MFPT field, a different solve), and a restricted population is smaller."""
    m = model_1d(6.0, n=700)
    src, tgt = (lambda x: x <= -0.5), (lambda x: x >= 0.5)
    ss = escape.flux_over_population(m, src, tgt)
    tau = escape.mean_first_passage_time(m, tgt)
    pi = m.stationary().values * (m.grid.coords[0] <= -0.5)
    assert 1.0 / ss.rate == pytest.approx((pi * tau.values).sum() / pi.sum(), rel=1e-10)
    well = escape.flux_over_population(m, src, tgt, population=lambda x: x <= 0.0)
    assert well.population < ss.population and well.rate > ss.rate


def test_eyring_kramers_from_the_landscape_matches_2d_mfpt():
    """Theory applied to a user potential with no hand work: the landscape finds the Hessians and
    the barrier; E τ(min → other basin) / Eyring–Kramers − 1 = O(D/ΔU) and shrinks with D."""
    Uxy = lambda x, y: (x ** 2 - 1) ** 2 + (1 + 0.5 * x ** 2) * y ** 2 + 0.2 * x
    land = analyze(Uxy, [(-2, 2), (-1.5, 1.5)], shape=(81, 61))
    i = land.nearest_minimum([-1, 0])
    j = land.nearest_minimum([1, 0])
    errs = []
    for D in (1 / 8, 1 / 16):
        g = fp.Grid([(-2, 2), (-1.5, 1.5)], (240, 90))
        m = fp.FokkerPlanck(g, potential=Uxy, diffusion=D)
        xj = land.minima[j].x[0]
        tau = escape.mean_first_passage_time(m, lambda x, y: x >= xj)
        ek = land.kramers_time(i, j, D)
        errs.append(tau.at(land.minima[i].x) / ek.mean_time - 1)
    assert abs(errs[1]) < 2.0 / 16 * land.barrier(i, j) ** -1
    assert abs(errs[1]) < 0.7 * abs(errs[0])


def test_pure_diffusion_principal_eigenvalue_and_arpack_fallback():
    """Reflecting at 0, absorbing at c: λ₁ = D (π / 2c)². maxiter=2 forces the ARPACK finish."""
    g = fp.Grid([(0, 1)], 200)
    m = fp.FokkerPlanck(g, diffusion=0.7)
    c = g.axes[0][-2]
    ref = 0.7 * (np.pi / (2 * c)) ** 2
    a = escape.quasi_stationary(m, lambda x: x > c - 1e-9)
    b = escape.quasi_stationary(m, lambda x: x > c - 1e-9, maxiter=2)
    assert a.rate == pytest.approx(ref, rel=2e-5)  # O(h²)
    assert b.rate == pytest.approx(a.rate, rel=1e-10) and "ARPACK" in b.info["method"]
    # ν ∝ cos(π x / 2c) on the kept cells
    x = g.axes[0][:-2]
    nu = np.cos(np.pi * x / (2 * c))
    np.testing.assert_allclose(a.density.values[:-2] / a.density.values[0], nu / nu[0],
                               atol=1e-4)
