"""Committors and exit-location distributions against symmetry, 1D quadrature and the
closed-form harmonic measure of a square."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import escape
from fpsolve.theory.quadrature import mfpt_interval_1d, splitting_probability_1d

U = lambda x: (x ** 2 - 1) ** 2
dU = lambda x: 4 * x ** 3 - 4 * x


def test_committor_is_one_half_on_the_symmetry_plane():
    # odd cell count: a column of centres on x = 0; the y-coupling keeps the problem 2D
    g = fp.Grid([(-1.6, 1.6), (-1.2, 1.2)], (161, 40))
    m = fp.FokkerPlanck(g, potential=lambda x, y: U(x) + y ** 2 + 0.5 * x ** 2 * y ** 2,
                        diffusion=0.15)
    q = escape.committor(m, lambda x, y: x <= -1.0, lambda x, y: x >= 1.0)
    mid = q.values[80, :]
    assert np.abs(g.axes[0][80]) < 1e-12
    np.testing.assert_allclose(mid, 0.5, atol=1e-12)
    assert np.all(q.values[g.coords[0] <= -1.0] == 0.0)
    assert np.all(q.values[g.coords[0] >= 1.0] == 1.0)
    # q(−x, y) = 1 − q(x, y)
    np.testing.assert_allclose(q.values + q.values[::-1, :], 1.0, atol=1e-12)


def test_committor_against_1d_splitting_probability():
    D = 1.0 / 6.0
    g = fp.Grid([(-1.5, 1.5)], 1501)  # centres at ±1 (h = 2e-3)
    x = g.axes[0]
    a, b = x[np.argmin(abs(x + 1))], x[np.argmin(abs(x - 1))]
    m = fp.FokkerPlanck(g, potential=U, diffusion=D)
    q = escape.committor(m, lambda x: x <= a + 1e-9, lambda x: x >= b - 1e-9)
    idx = np.searchsorted(x, [-0.8, -0.3, 0.1, 0.6])  # at cell centres (no interpolation error)
    ref = splitting_probability_1d(x[idx], a, b, potential_derivative=dU, diffusion=D).to_upper
    np.testing.assert_allclose(q.values[idx], ref, rtol=5e-5)  # measured 1.8e-5 (h = 2e-3)
    assert q.info["accurate"]


def test_exit_distribution_two_sided_against_quadrature():
    """Both ends absorbing: P(exit at the upper end) = splitting probability; the mean time of
    the occupation density = the two-sided MFPT."""
    D = 0.2
    g = fp.Grid([(-1.5, 1.5)], 1501)
    x = g.axes[0]
    a, b = x[np.argmin(abs(x + 1))], x[np.argmin(abs(x - 1))]
    m = fp.FokkerPlanck(g, potential=U, diffusion=D)
    i0 = np.argmin(abs(x + 0.4))
    ex = escape.exit_distribution(m, lambda x: (x <= a + 1e-9) | (x >= b - 1e-9), x[i0])
    p_up = ex.values[x >= b - 1e-9].sum()
    ref = splitting_probability_1d(x[i0], a, b, potential_derivative=dU, diffusion=D)
    assert p_up == pytest.approx(float(ref.to_upper), rel=1e-5)
    assert ex.values.sum() == pytest.approx(1.0, abs=1e-12)
    # only the two cells next to the interval can be entered first
    assert np.count_nonzero(ex.values) == 2
    T = mfpt_interval_1d(x[i0], a, b, potential_derivative=dU, diffusion=D).mean
    assert ex.info["mean_time"] == pytest.approx(float(T), rel=1e-5)


def test_exit_distribution_of_brownian_motion_from_a_square():
    """Harmonic measure of the unit square: P(exit through the top | start (x, y)) =
    Σ_{n odd} 4/(nπ) sin(nπx) sinh(nπy)/sinh(nπ) (separation of variables)."""
    n = 80
    h = 1.0 / n
    g = fp.Grid([(-h / 2, 1 + h / 2)] * 2, n + 1)  # centres of the outer ring on the sides
    m = fp.FokkerPlanck(g, diffusion=1.0)
    ring = lambda x, y: (x < h / 4) | (x > 1 - h / 4) | (y < h / 4) | (y > 1 - h / 4)
    x0, y0 = 0.3, 0.6
    i, j = round(x0 / h), round(y0 / h)
    ex = escape.exit_distribution(m, ring, (g.axes[0][i], g.axes[1][j]))
    top = ex.values[:, -1].sum()
    k = np.arange(1, 400, 2)
    ref = np.sum(4 / (k * np.pi) * np.sin(k * np.pi * x0) * np.exp(k * np.pi * (y0 - 1))
                 * (1 - np.exp(-2 * k * np.pi * y0)) / (1 - np.exp(-2 * k * np.pi)))
    assert top == pytest.approx(ref, rel=2e-3)  # O(h²)
    assert ex.values[[0, 0, -1, -1], [0, -1, 0, -1]].sum() == 0.0  # corners are never entered
    # the exit law along the top edge: density ∂ₙG, compare its shape at the midpoint
    assert ex.values.sum() == pytest.approx(1.0, abs=1e-12)


def test_exit_distribution_from_a_start_density_is_the_average():
    g = fp.Grid([(-1.5, 1.5), (-1, 1)], (60, 20))
    m = fp.FokkerPlanck(g, potential=lambda x, y: U(x) + y ** 2, diffusion=0.3)
    tgt = lambda x, y: np.abs(x) > 1.2
    p0 = lambda x, y: np.exp(-((x + 0.5) ** 2 + y ** 2) / 0.1)
    ex = escape.exit_distribution(m, tgt, p0)
    q = escape.committor(m, lambda x, y: x < -1.2, lambda x, y: x > 1.2)
    dens = m.density(p0)
    assert ex.values[g.coords[0] > 1.2].sum() == pytest.approx(dens.expect(q.values), rel=1e-10)
