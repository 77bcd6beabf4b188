"""Stationary states against independent references: the exact discrete zero-flux state written
out with numpy, and scipy quadrature of the continuum density."""
import numpy as np
import pytest
from scipy import integrate

import fpsolve as fp
from tests.conftest import discrete_gibbs_1d


def test_1d_state_dependent_is_the_exact_discrete_state():
    g = fp.Grid([(-2.0, 2.0)], 400)
    U = lambda x: (x ** 2 - 1) ** 2 / 4 + 0.1 * x
    D = lambda x: 0.1 * (1 + 0.5 * np.sin(2 * x) ** 2)
    m = fp.FokkerPlanck(g, potential=U, diffusion=D)
    ref = discrete_gibbs_1d(U(g.axes[0]), D(g.axes[0]))
    # closed form (auto): round-off only. Linear solve: cond(A)·ε with cond ≈ N² = 1.6e5.
    for method, tol in (("auto", 1e-12), ("solve", 1.6e5 * 2.2e-16 * 10)):
        p = m.stationary(method=method).values
        p = p / p.sum()
        assert np.max(np.abs(p / ref - 1)) < tol, method
    # and the discrete state is a null vector of the generator to round-off
    L = m.generator()
    assert np.max(np.abs(L @ ref)) / (np.abs(L.diagonal()).max() * ref.max()) < 1e-14


@pytest.mark.parametrize("shape", [(60, 50), (20, 18, 16)])
def test_nd_constant_diffusion_gibbs_is_exact(shape):
    ndim = len(shape)
    g = fp.Grid([(-2.5, 2.5)] * ndim, shape)
    if ndim == 2:
        U = lambda x, y: (x ** 2 - 1) ** 2 / 4 + 0.5 * (1 + x ** 2 / 2) * y ** 2
    else:
        U = lambda x, y, z: (x ** 2 - 1) ** 2 / 4 + 0.5 * (1 + x ** 2 / 2) * y ** 2 + z ** 2 + 0.3 * x * z
    D = 0.2
    ref = np.exp(-(U(*g.coords) - U(*g.coords).min()) / D)
    ref /= ref.sum()
    # closed form: round-off; linear solve: cond(A)·ε, cond ≈ (max cells per axis)² · ndim
    tol_solve = 10 * max(shape) ** 2 * ndim * 2.2e-16
    for method, tol in (("auto", 1e-12), ("solve", tol_solve)):
        p = fp.FokkerPlanck(g, potential=U, diffusion=D).stationary(method=method).values
        p = p / p.sum()
        assert np.max(np.abs(p / ref - 1)) < tol, method


def test_mass_is_one_and_values_positive():
    g = fp.Grid([(-3, 3), (-3, 3)], 40)
    p = fp.FokkerPlanck(g, potential=lambda x, y: x ** 2 + y ** 2 / 2, diffusion=0.5).stationary()
    assert p.values.sum() * g.cell_volume == pytest.approx(1.0, abs=1e-14)
    assert p.values.min() > 0


def test_1d_state_dependent_against_quadrature():
    """Continuum reference p ∝ D⁻¹ exp(−∫U′/D) by scipy quad; the FV error is O(h²)."""
    a, b = -2.0, 2.0
    dU = lambda x: x ** 3 - x
    D = lambda x: 0.2 + 0.1 * x ** 2

    def log_p(x):
        return -np.log(D(x)) - integrate.quad(lambda s: dU(s) / D(s), 0.0, x, epsabs=1e-13)[0]

    xs = np.linspace(a, b, 41)
    unnorm = np.exp([log_p(x) for x in xs])
    Z = integrate.quad(lambda x: np.exp(log_p(x)), a, b, epsabs=1e-13, limit=200)[0]
    errs = []
    for n in (200, 400):
        g = fp.Grid([(a, b)], n)
        p = fp.FokkerPlanck(g, potential=lambda x: (x ** 2 - 1) ** 2 / 4, diffusion=D).stationary()
        errs.append(np.max(np.abs(p.at(xs[1:-1, None]) - unnorm[1:-1] / Z)))
    # second order: the error quarters when h halves (interpolation error is O(h²) too)
    assert errs[1] < 0.3 * errs[0]
    assert errs[1] < 5e-4


def test_boltzmann_weight_underflow_is_handled_in_log_space():
    """Barrier/D = 500 and an offset of 1e4/D: exp(−U/D) underflows, the log-space state does not."""
    g = fp.Grid([(-2.0, 2.0)], 300)
    D = 1e-3
    U = lambda x: 10.0 + 0.5 * (x ** 2 - 1) ** 2 + 0.05 * x
    p = fp.FokkerPlanck(g, potential=U, diffusion=D).stationary()
    assert np.all(np.isfinite(p.values)) and p.mass == pytest.approx(1.0, abs=1e-13)
    u = U(g.axes[0])
    logw = -(u - u.min()) / D
    ref = np.exp(logw) / (np.exp(logw).sum() * g.cell_volume)
    big = ref > 1e-200
    assert np.max(np.abs(p.values[big] / ref[big] - 1)) < 1e-9
    assert p.integrate(g.coords[0] > 0) < 1e-30  # the shallower well is exponentially empty


def test_non_reversible_stationary_is_a_null_vector_and_long_time_limit():
    g = fp.Grid([(-2.5, 2.5), (-2.5, 2.5)], 48)
    drift = lambda x, y: (-(x ** 3 - x) + 0.8 * y, -y - 0.8 * x)
    m = fp.FokkerPlanck(g, drift=drift, diffusion=0.3)
    p = m.stationary()
    assert p.info["method"] == "solve" and not p.info["reversible"]
    assert p.info["residual"] < 1e-13
    # independent route: the exact exponential at a time long against 1/λ₁
    lam1 = m.spectral_gap()
    p_long = m.evolve(lambda x, y: np.exp(-((x + 1) ** 2 + y ** 2)), [40 / lam1], method="expm")
    assert np.max(np.abs(p_long.densities[-1].values - p.values)) < 1e-9 * p.values.max()


def test_strongly_rotational_low_noise_solve_stays_accurate():
    """Rotation 1.0 on a double well at D = 0.05: log p spans ~200. The rescaled second pass
    brings the residual to round-off; an independent check is the exact exponential of L."""
    g = fp.Grid([(-2.5, 2.5)] * 2, 60)
    m = fp.FokkerPlanck(g, drift=lambda x, y: (-(x ** 3 - x) + y, -y - x), diffusion=0.05)
    p = m.stationary()
    assert p.info["residual"] < 1e-14
    lam1 = np.real(m.eigenvalues(2)[1])
    q = m.evolve(p.values * (1 + 0.1 * np.sin(g.coords[0])), [60 / lam1], method="expm")
    big = p.values > 1e-6 * p.values.max()
    assert np.max(np.abs(q.densities[-1].values[big] / p.values[big] - 1)) < 1e-7
