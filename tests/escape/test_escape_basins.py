"""Basins of the stationary state: probabilities against 1D quadrature and the small-noise limit
sqrt(det H₂ / det H₁) (Dai–Zhu Thm 2.5 corrected, THEORY §2), and the renewal rates between
basins against 1D first-passage quadratures."""
import numpy as np
import pytest
from scipy.optimize import brentq

import fpsolve as fp
from fpsolve import escape
from fpsolve.landscape import analyze
from fpsolve.theory.quadrature import (basin_probabilities_1d, mfpt_1d, mfpt_interval_1d,
                                       splitting_probability_1d)

# equal-depth wells (U = 0 at x = ±1) with different curvatures U''(±1) = 8 a(±1)
a = lambda x: 1 + 0.5 * np.tanh(x)
da = lambda x: 0.5 / np.cosh(x) ** 2
U = lambda x: a(x) * (x ** 2 - 1) ** 2
dU = lambda x: da(x) * (x ** 2 - 1) ** 2 + a(x) * 4 * x * (x ** 2 - 1)
LIMIT = np.sqrt(a(1.0) / a(-1.0))  # P(left)/P(right) → sqrt(U''(+1)/U''(−1)): wide well wins


def test_basin_probabilities_1d_against_quadrature_and_small_noise_limit():
    saddle = brentq(dU, -0.5, 0.5)
    errs = []
    for D in (0.1, 0.03, 0.01):
        m = fp.FokkerPlanck(fp.Grid([(-2, 2)], 2000), potential=U, diffusion=D)
        b = escape.basins(m, rates=False)
        assert len(b) == 2 and b.points[0, 0] < 0 < b.points[1, 0]  # the wide well first
        ref = basin_probabilities_1d([saddle], -2, 2, potential_derivative=dU,
                                     diffusion=D).probabilities
        np.testing.assert_allclose(b.probabilities, ref, rtol=2e-5)  # cut at a cell face
        errs.append(abs(b.probabilities[0] / b.probabilities[1] / LIMIT - 1))
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-3  # O(D): 8e-3, 2e-3, 7e-4


def test_basin_probabilities_2d_tend_to_sqrt_det_ratio():
    """U = a(x)(x² − 1)² + ½ k(x) y²: det H(±1) = 8 a(±1) k(±1); the Hessians and the limit come
    from the landscape module, so no hand work."""
    k = lambda x: 1.5 - 0.5 * np.tanh(x)  # the stiffer x-well is softer in y: partial cancellation
    U2 = lambda x, y: a(x) * (x ** 2 - 1) ** 2 + 0.5 * k(x) * y ** 2
    land = analyze(U2, [(-2, 2), (-1.5, 1.5)], shape=(81, 61))
    assert len(land.minima) == 2
    i, j = land.nearest_minimum([-1, 0]), land.nearest_minimum([1, 0])
    lim = np.sqrt(np.linalg.det(land.minima[j].hessian) / np.linalg.det(land.minima[i].hessian))
    assert lim == pytest.approx(np.sqrt(a(1) * k(1) / (a(-1) * k(-1))), rel=1e-6)
    errs = []
    for D in (0.1, 0.025):
        s = np.sqrt(D)
        g = fp.Grid([(-2, 2), (-8 * s, 8 * s)], (320, 48))
        b = escape.basins(fp.FokkerPlanck(g, potential=U2, diffusion=D), rates=False)
        left = 0 if b.points[0, 0] < 0 else 1
        errs.append(abs(b.probabilities[left] / b.probabilities[1 - left] / lim - 1))
    assert errs[1] < errs[0] / 2 and errs[1] < 1.5e-2


def test_rates_between_two_basins_are_inverse_mfpts_between_minima():
    """With two basins, t_i = E τ(min_i → min_j cell) exactly; Q = 1."""
    D = 0.08  # barriers ΔU/D ≈ 12.5
    g = fp.Grid([(-2, 2)], 1600)
    x = g.axes[0]
    m = fp.FokkerPlanck(g, potential=U, diffusion=D)
    b = escape.basins(m)
    x0, x1 = x[b.minima[0]], x[b.minima[1]]
    t01 = mfpt_1d(x0, x1, -2.0, potential_derivative=dU, diffusion=D).mean
    t10 = mfpt_1d(x1, x0, 2.0, potential_derivative=dU, diffusion=D).mean
    np.testing.assert_allclose(b.mean_exit_times, [t01, t10], rtol=1e-4)
    np.testing.assert_allclose(b.rates, [[-1 / t01, 1 / t01], [1 / t10, -1 / t10]], rtol=1e-4)
    # detailed balance of the coarse chain: P₀ K₀₁ ≈ P₁ K₁₀ up to O(relaxation / τ)
    assert b.probabilities[0] * b.rates[0, 1] == pytest.approx(
        b.probabilities[1] * b.rates[1, 0], rel=1e-3)


def test_three_well_rates_against_two_sided_quadrature():
    """From the middle minimum: mean time to reach either outer minimum (two-sided MFPT) and the
    probability of going right (splitting probability). Barriers up to ΔU/D ≈ 40."""
    U3 = lambda x: 0.0625 * x ** 2 * (x ** 2 - 4) ** 2 + 0.1 * x
    dU3 = lambda x: 0.0625 * (2 * x * (x ** 2 - 4) ** 2 + 4 * x ** 3 * (x ** 2 - 4)) + 0.1
    D = 0.012
    g = fp.Grid([(-3, 3)], 3000)
    x = g.axes[0]
    b = escape.basins(fp.FokkerPlanck(g, potential=U3, diffusion=D))
    assert len(b) == 3
    order = np.argsort(b.points[:, 0])
    lo, mid, hi = order
    xl, xm, xh = x[b.minima[lo]], x[b.minima[mid]], x[b.minima[hi]]
    t = mfpt_interval_1d(xm, xl, xh, potential_derivative=dU3, diffusion=D).mean
    p = splitting_probability_1d(xm, xl, xh, potential_derivative=dU3, diffusion=D).to_upper
    assert b.mean_exit_times[mid] == pytest.approx(float(t), rel=2e-4)
    assert b.jump_probabilities[mid, hi] == pytest.approx(float(p), rel=2e-4)
    assert b.rates[mid, hi] == pytest.approx(float(p / t), rel=4e-4)
    assert np.all(np.abs(b.rates.sum(axis=1)) <= 1e-12 * np.abs(np.diag(b.rates)))
    assert b.info["condition_estimate"] < 1e12


def test_committor_basins_agree_with_gradient_basins_away_from_the_saddle():
    g = fp.Grid([(-2, 2), (-1.5, 1.5)], (80, 60))
    m = fp.FokkerPlanck(g, potential=lambda x, y: U(x) + y ** 2, diffusion=0.1)
    bg = escape.basins(m, rates=False)
    bc = escape.basins(m, method="committor", rates=False)
    differ = bg.labels != bc.labels
    assert np.all(np.abs(g.coords[0][differ]) < 0.2)
    np.testing.assert_allclose(bg.probabilities, bc.probabilities, rtol=1e-2)


def test_shallow_ripples_are_merged():
    """Ripples shallower than min_depth (here ΔU/D ≤ 0.4 < 0.5) do not make basins;
    min_depth=0 keeps every local minimum of the grid."""
    Ur = lambda x: (x ** 2 - 1) ** 2 + 0.02 * np.cos(60 * x)
    m = fp.FokkerPlanck(fp.Grid([(-2, 2)], 800), potential=Ur, diffusion=0.1)
    assert len(escape.basins(m, rates=False)) == 2
    assert len(escape.basins(m, rates=False, min_depth=0.0)) > 10
