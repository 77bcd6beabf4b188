"""fpsolve against FiPy (fpsolve.backends.fipy) on matched grids.

Both are second-order finite volumes with different face fluxes (fpsolve fits
g = D^(1−α) p with a log-mean D_f; FiPy's exponential scheme fits p with velocity b − ∇D and an
arithmetic-mean D_f), so they differ at O(h²): the difference must shrink ~4× per halving of h,
and both must converge to an independent continuum reference (scipy quadrature or a closed
form) at the same rate.
"""
import sys

import numpy as np
import pytest
from scipy import integrate

import fpsolve as fp
from fpsolve.coefficients import schedules

fipy = pytest.importorskip("fipy")
from fpsolve.backends import fipy as fb  # noqa: E402

# second order: error ratio 4 per halving of h; allow pre-asymptotic and round-off slack
RATIO = (3.3, 4.8)


def ratios(errs):
    return [a / b for a, b in zip(errs[:-1], errs[1:])]


def assert_second_order(errs, what):
    for r in ratios(errs):
        assert RATIO[0] < r < RATIO[1], f"{what}: errors {errs} shrink by {ratios(errs)}"


# -- 1D ------------------------------------------------------------------------------------------
def test_1d_reflecting_stationary_state_dependent_converges_to_quadrature():
    a, b = -2.0, 2.0
    U = lambda x: (x ** 2 - 1) ** 2 / 4
    D = lambda x: 0.2 + 0.1 * x ** 2

    def log_p(x):  # Itô zero-flux state p ∝ D⁻¹ exp(−∫U′/D)
        return -np.log(D(x)) - integrate.quad(lambda s: (s ** 3 - s) / D(s), 0.0, x,
                                              epsabs=1e-13)[0]

    Z = integrate.quad(lambda x: np.exp(log_p(x)), a, b, epsabs=1e-13, limit=200)[0]
    diff, err_fp, err_fipy = [], [], []
    for n in (50, 100, 200):
        g = fp.Grid([(a, b)], n)
        m = fp.FokkerPlanck(g, potential=U, diffusion=D)
        p_fipy = fb.stationary(m)
        p_pinned = fb.stationary(m, method="pinned")
        p_fp = m.stationary()
        exact = np.exp([log_p(x) for x in g.axes[0]]) / Z
        # the two FiPy routes solve the same discrete equations
        assert np.max(np.abs(p_fipy.values - p_pinned.values)) < 1e-12
        assert p_fipy.info["residual"] < 1e-13 and p_fipy.mass == pytest.approx(1.0, abs=1e-13)
        diff.append(np.max(np.abs(p_fp.values - p_fipy.values)))
        err_fp.append(np.max(np.abs(p_fp.values - exact)))
        err_fipy.append(np.max(np.abs(p_fipy.values - exact)))
    assert_second_order(diff, "fpsolve − FiPy")
    assert_second_order(err_fp, "fpsolve − quadrature")
    assert_second_order(err_fipy, "FiPy − quadrature")
    assert diff[-1] < 3e-6 and err_fipy[-1] < 2e-5


def test_1d_periodic_nonequilibrium_state_converges_to_quadrature():
    """Tilted periodic drift: a steady state with a constant current J ≠ 0 (no potential)."""
    L = 2 * np.pi
    b = lambda x: np.sin(x) + 0.7
    D = lambda x: 0.5 + 0.2 * np.sin(x) + 0.1 * np.cos(2 * x)
    # q = D p solves q′ − (b/D) q = −J: q = e^(−Φ)(q₀ − J I), Φ = −∫₀ˣ b/D, I = ∫₀ˣ e^Φ, and
    # q(L) = q(0) fixes J. Φ and I by a tight ODE quadrature (DOP853, dense output).
    sol = integrate.solve_ivp(lambda x, y: [-b(x) / D(x), np.exp(y[0])], (0.0, L), [0.0, 0.0],
                              method="DOP853", rtol=1e-13, atol=1e-14, dense_output=True)
    Phi_L, I_L = sol.y[:, -1]
    J = (1.0 - np.exp(Phi_L)) / I_L

    def q(x):
        Phi, I = sol.sol(x)
        return np.exp(-Phi) * (1.0 - J * I)

    Z = integrate.quad(lambda x: q(x) / D(x), 0.0, L, epsabs=1e-13, epsrel=1e-13, limit=200)[0]
    diff, err_fipy = [], []
    for n in (32, 64, 128):
        g = fp.Grid([(0.0, L)], n, periodic=True)
        m = fp.FokkerPlanck(g, drift=b, diffusion=D)
        p_fipy, p_fp = fb.stationary(m), m.stationary()
        exact = q(g.axes[0]) / D(g.axes[0]) / Z
        diff.append(np.max(np.abs(p_fp.values - p_fipy.values)))
        err_fipy.append(np.max(np.abs(p_fipy.values - exact)))
    assert_second_order(diff, "fpsolve − FiPy")
    assert_second_order(err_fipy, "FiPy − quadrature")


@pytest.mark.parametrize("convention", ["stratonovich", "isothermal"])
def test_1d_other_conventions_against_closed_form(convention):
    """p ∝ D^(α−1) exp(−∫U′/D); D affine in x² so the integral is quadrature-exact."""
    alpha = {"stratonovich": 0.5, "isothermal": 1.0}[convention]
    U = lambda x: (x ** 2 - 1) ** 2 / 4
    D = lambda x: 0.2 + 0.1 * x ** 2
    log_p = lambda x: (alpha - 1) * np.log(D(x)) - integrate.quad(
        lambda s: (s ** 3 - s) / D(s), 0.0, x, epsabs=1e-13)[0]
    Z = integrate.quad(lambda x: np.exp(log_p(x)), -2, 2, epsabs=1e-13, limit=200)[0]
    errs = []
    for n in (60, 120):
        g = fp.Grid([(-2, 2)], n)
        m = fp.FokkerPlanck(g, potential=U, diffusion=D, convention=convention)
        exact = np.exp([log_p(x) for x in g.axes[0]]) / Z
        errs.append(np.max(np.abs(fb.stationary(m).values - exact)))
    assert RATIO[0] < errs[0] / errs[1] < RATIO[1] and errs[1] < 1e-4


def test_1d_transient_state_dependent_difference_shrinks():
    U = lambda x: (x ** 2 - 1) ** 2 / 4
    D = lambda x: 0.2 + 0.1 * x ** 2
    p0 = lambda x: np.exp(-(x - 0.5) ** 2 / 0.1)
    diff = []
    for n in (50, 100, 200):
        m = fp.FokkerPlanck(fp.Grid([(-2, 2)], n), potential=U, diffusion=D)
        dt = 0.01 * 50 / n  # Δt ∝ h: both schemes are second order in time
        run_fipy = fb.evolve(m, p0, [0.25, 0.5], dt=dt)
        run_fp = m.evolve(p0, [0.25, 0.5], dt=dt)
        np.testing.assert_allclose(run_fipy.mass, 1.0, atol=1e-13)
        diff.append(np.max(np.abs(run_fipy.densities[-1].values - run_fp.densities[-1].values)))
    assert_second_order(diff, "transient fpsolve − FiPy")


def test_1d_transient_ornstein_uhlenbeck_against_exact_gaussian():
    """dX = −X dt + sqrt(2D) dW from N(m₀, s₀²): N(m₀e^(−t), s₀²e^(−2t) + D(1 − e^(−2t)))."""
    D, m0, s0, t = 0.3, 1.0, 0.3, 0.7
    mean, var = m0 * np.exp(-t), s0 ** 2 * np.exp(-2 * t) + D * (1 - np.exp(-2 * t))
    errs = {"fipy": [], "fpsolve": []}
    for n in (60, 120, 240):
        g = fp.Grid([(-4, 4)], n)
        m = fp.FokkerPlanck(g, potential=lambda x: x ** 2 / 2, diffusion=D)
        # the cell averages of the initial Gaussian, so that both start from the same data
        x = g.axes[0]
        h = g.h[0]
        from scipy.special import erf
        cdf = lambda z: 0.5 * (1 + erf((z - m0) / (np.sqrt(2) * s0)))
        p0 = (cdf(x + h / 2) - cdf(x - h / 2)) / h
        exact = np.exp(-(x - mean) ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var)
        dt = 0.7 / (n / 3)
        errs["fipy"].append(np.max(np.abs(fb.evolve(m, p0, [t], dt=dt).densities[-1].values
                                          - exact)))
        errs["fpsolve"].append(np.max(np.abs(m.evolve(p0, [t], dt=dt).densities[-1].values
                                             - exact)))
    for k, e in errs.items():
        assert_second_order(e, k)
        assert e[-1] < 5e-4, k  # O(h²) with h = 1/30: (h/σ)²·max p / 24 ≈ 1e-4 … 4e-4


def test_engines_solve_the_same_equations():
    m = fp.FokkerPlanck(fp.Grid([(-2, 2)], 30), potential=lambda x: x ** 4 / 4,
                        diffusion=lambda x: 0.3 + 0.1 * x)
    p0 = lambda x: np.exp(-(x - 0.5) ** 2 / 0.1)
    for scheme in fb.SCHEMES:
        a = fb.evolve(m, p0, [0.05, 0.1], dt=0.01, scheme=scheme)
        b = fb.evolve(m, p0, [0.05, 0.1], dt=0.01, scheme=scheme, engine="fipy")
        for da, db in zip(a.densities, b.densities):
            assert np.max(np.abs(da.values - db.values)) < 1e-12
    assert a.min_value >= 0  # backward Euler keeps positivity


def test_schedule_jump_keeps_second_order():
    sched = schedules.PiecewiseConstant([0.2], [1.0, 0.3])
    p0 = lambda x: np.exp(-(x - 0.5) ** 2 / 0.1)
    diff = []
    for n in (50, 100, 200):
        m = fp.FokkerPlanck(fp.Grid([(-2, 2)], n), potential=lambda x: (x ** 2 - 1) ** 2 / 4,
                            diffusion=lambda x: 0.2 + 0.1 * x ** 2, schedule=sched)
        dt = 0.01 * 50 / n
        diff.append(np.max(np.abs(fb.evolve(m, p0, [0.5], dt=dt).densities[-1].values
                                  - m.evolve(p0, [0.5], dt=dt).densities[-1].values)))
    assert_second_order(diff, "scheduled fpsolve − FiPy")


# -- 2D ------------------------------------------------------------------------------------------
def _g_of_U_reference(U, d0, c, bounds):
    """D = g(U) = d0(1 + cU²) has a potential: p ∝ exp(−arctan(√c U)/(d0√c)) / g(U) (Itô)."""
    g = lambda u: d0 * (1 + c * u ** 2)
    unnorm = lambda x, y: np.exp(-np.arctan(np.sqrt(c) * U(x, y)) / (d0 * np.sqrt(c))) / g(U(x, y))
    (x0, x1), (y0, y1) = bounds
    Z = integrate.dblquad(lambda y, x: unnorm(x, y), x0, x1, y0, y1, epsabs=1e-12,
                          epsrel=1e-12)[0]
    return (lambda x, y: g(U(x, y))), (lambda x, y: unnorm(x, y) / Z)


@pytest.mark.parametrize("periodic", [False, True])
def test_2d_stationary_state_dependent_converges_to_quadrature(periodic):
    if periodic:
        bounds = [(0.0, 2 * np.pi)] * 2
        U = lambda x, y: np.cos(x) + np.cos(y) + 0.5 * np.cos(x) * np.cos(y)
        D, exact = _g_of_U_reference(U, 0.5, 1.0, bounds)
        sizes = (16, 32, 64)
    else:
        bounds = [(-2.0, 2.0), (-1.5, 1.5)]
        U = lambda x, y: (x ** 2 - 1) ** 2 / 4 + 0.5 * (1 + 0.5 * x ** 2) * y ** 2
        D, exact = _g_of_U_reference(U, 0.3, 2.0, bounds)
        sizes = (20, 40, 80)
    diff, err_fp, err_fipy = [], [], []
    for n in sizes:
        g = fp.Grid(bounds, n, periodic=periodic)
        m = fp.FokkerPlanck(g, potential=U, diffusion=D)
        p_fipy, p_fp = fb.stationary(m), m.stationary()
        ref = exact(*g.coords)
        diff.append(np.max(np.abs(p_fp.values - p_fipy.values)))
        err_fp.append(np.max(np.abs(p_fp.values - ref)))
        err_fipy.append(np.max(np.abs(p_fipy.values - ref)))
    assert_second_order(diff, "fpsolve − FiPy")
    assert_second_order(err_fp, "fpsolve − quadrature")
    assert_second_order(err_fipy, "FiPy − quadrature")


def test_2d_mixed_periodicity_nonequilibrium_drift():
    """x periodic, y reflecting, a non-gradient drift: no closed form, so the check is that the
    two discretisations converge to each other at second order."""
    drift = lambda x, y: (np.sin(x) + 0.5 + 0.3 * y, -y + 0.3 * np.cos(x))
    D = lambda x, y: 0.4 * (1 + 0.3 * np.sin(x) + 0.2 * y ** 2)
    diff = []
    for n in (16, 32, 64):
        g = fp.Grid([(0, 2 * np.pi), (-2.5, 2.5)], n, periodic=(True, False))
        m = fp.FokkerPlanck(g, drift=drift, diffusion=D)
        diff.append(np.max(np.abs(fb.stationary(m).values - m.stationary().values)))
    assert_second_order(diff, "fpsolve − FiPy")


def test_2d_transient_one_time():
    U = lambda x, y: (x ** 2 - 1) ** 2 / 4 + y ** 2 / 2
    D = lambda x, y: 0.3 * (1 + 0.2 * x ** 2 + 0.1 * y ** 2)
    p0 = lambda x, y: np.exp(-((x - 0.5) ** 2 + (y + 0.3) ** 2) / 0.2)
    diff = []
    for n in (16, 32, 64):
        m = fp.FokkerPlanck(fp.Grid([(-2, 2), (-2, 2)], n), potential=U, diffusion=D)
        dt = 0.02 * 16 / n
        run = fb.evolve(m, p0, [0.4], dt=dt)
        np.testing.assert_allclose(run.mass, 1.0, atol=1e-13)
        diff.append(np.max(np.abs(run.densities[-1].values
                                  - m.evolve(p0, [0.4], dt=dt).densities[-1].values)))
    assert_second_order(diff, "2D transient fpsolve − FiPy")


# -- input handling ------------------------------------------------------------------------------
def test_bad_input_is_reported():
    m = fp.FokkerPlanck(fp.Grid([(-1, 1)], 10), potential=lambda x: x ** 2)
    with pytest.raises(fp.InputError, match="scheme"):
        fb.evolve(m, np.ones(10), [0.1], scheme="rk4")
    with pytest.raises(fp.InputError, match="engine"):
        fb.evolve(m, np.ones(10), [0.1], engine="petsc")
    with pytest.raises(fp.InputError, match="method"):
        fb.stationary(m, method="eig")
    with pytest.raises(fp.InputError, match="FokkerPlanck"):
        fb.stationary("not a model")
    other = fp.Density(fp.Grid([(-1, 1)], 12), np.ones(12))
    with pytest.raises(fp.InputError, match="different grid"):
        fb.evolve(m, other, [0.1])


def test_missing_fipy_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "fipy", None)
    m = fp.FokkerPlanck(fp.Grid([(-1, 1)], 10), potential=lambda x: x ** 2)
    with pytest.raises(ImportError, match=r"fpsolve\[fipy\]"):
        fb.stationary(m)
