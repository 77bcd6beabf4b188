"""Barriers of ΔU/D = 40 (times ~e⁴⁰ ≈ 2e17): trap-reduced solves against log-space quadrature,
and the plain sparse LU shown to fail (and to be flagged) on the same problems."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import escape
from fpsolve.theory.quadrature import mfpt_1d, splitting_probability_1d

U = lambda x: (x ** 2 - 1) ** 2
dU = lambda x: 4 * x ** 3 - 4 * x
BETA = 40.0  # ΔU/D


def grid_with_centre_at(lo, hi, c, h):
    k = int(round((c - lo) / h - 0.5))
    lo = c - (k + 0.5) * h
    n = int(round((hi - lo) / h))
    return fp.Grid([(lo, lo + n * h)], n)


def test_mfpt_at_barrier_40_against_log_space_quadrature():
    D = 1.0 / BETA
    g = grid_with_centre_at(-2.0, 1.3, 1.0, 1e-3)
    m = fp.FokkerPlanck(g, potential=U, diffusion=D)
    mom = escape.first_passage_moments(m, lambda x: x >= 1.0 - 1e-9)
    x0 = np.array([-1.0, -0.5, 0.5])
    ref = mfpt_1d(x0, 1.0, g.bounds[0, 0], potential_derivative=dU, diffusion=D,
                  second_moment=True)
    assert ref.log_mean[0] > 39.0  # E τ ≈ 2.6e17
    tau = mom.mean.at(x0[:, None])
    np.testing.assert_allclose(tau, ref.mean, rtol=1e-4)  # spec 1e-3; measured 1.3e-5
    np.testing.assert_allclose(mom.second_moment.at(x0[:, None]), ref.second_moment, rtol=2e-4)
    info = mom.mean.info
    assert info["accurate"] and info["balance_defect"] < 1e-10 and info["traps"] == 1
    assert info["trap_depths"][0] == pytest.approx(BETA, rel=1e-3)


def test_plain_lu_fails_at_barrier_40_and_is_flagged():
    """The cancellation the trap reduction avoids: spsolve-style LU loses everything."""
    D = 1.0 / BETA
    g = grid_with_centre_at(-2.0, 1.3, 1.0, 2e-3)
    m = fp.FokkerPlanck(g, potential=U, diffusion=D)
    with pytest.warns(RuntimeWarning, match="lost accuracy"):
        bad = escape.mean_first_passage_time(m, lambda x: x >= 1.0 - 1e-9, trap_depth=np.inf)
    ref = float(mfpt_1d(-1.0, 1.0, g.bounds[0, 0], potential_derivative=dU, diffusion=D).mean)
    assert not bad.info["accurate"] and bad.info["balance_defect"] > 0.1
    assert abs(bad.at(-1.0) / ref - 1) > 0.1


def test_mfpt_at_barrier_40_in_2d():
    D = 1.0 / BETA
    g = fp.Grid([(-1.8, 1.2), (-0.6, 0.6)], (600, 20))  # centre at x = 1.0025
    c = g.axes[0][g.axes[0] >= 1.0][0]
    m = fp.FokkerPlanck(g, potential=lambda x, y: U(x) + 2.0 * y ** 2, diffusion=D)
    tau = escape.mean_first_passage_time(m, lambda x, y: x >= c - 1e-9)
    ref = float(mfpt_1d(-1.0, c, -1.8, potential_derivative=dU, diffusion=D).mean)
    assert tau.at([-1.0, 0.0]) == pytest.approx(ref, rel=1e-3)  # measured 4e-4 (h = 5e-3)
    assert tau.info["accurate"]


def test_rates_coincide_at_barrier_40():
    """λ₁ and the flux-over-population rates equal 1/E τ to ~e^{−40}; each against quadrature."""
    D = 1.0 / BETA
    g = grid_with_centre_at(-2.0, 1.3, 1.0, 2e-3)
    m = fp.FokkerPlanck(g, potential=U, diffusion=D)
    tgt = lambda x: x >= 1.0 - 1e-9
    ref = float(mfpt_1d(-1.0, 1.0, g.bounds[0, 0], potential_derivative=dU, diffusion=D).mean)
    qs = escape.quasi_stationary(m, tgt)
    fop = escape.flux_over_population(m, lambda x: x <= -0.5, tgt)
    assert qs.rate * ref == pytest.approx(1.0, rel=1e-4)
    assert fop.rate * ref == pytest.approx(1.0, rel=1e-4)
    tau = escape.mean_first_passage_time(m, tgt)
    assert qs.rate * tau.at(-1.0) == pytest.approx(1.0, abs=1e-10)
    assert qs.info["flux_defect"] < 1e-10


def test_committor_through_a_deep_middle_well():
    """Three wells; the committor between the outer two is set by the escape from the middle
    well (ΔU/D ≈ 40 and 59 on its two sides): a deep trap that is neither A nor B."""
    eps = 0.012
    U3 = lambda x: 0.0625 * x ** 2 * (x ** 2 - 4) ** 2 + 0.1 * x
    dU3 = lambda x: 0.0625 * (2 * x * (x ** 2 - 4) ** 2 + 4 * x ** 3 * (x ** 2 - 4)) + 0.1
    g = fp.Grid([(-3, 3)], 3000)
    x = g.axes[0]
    a, b = x[x <= -2][-1], x[x >= 2][0]
    m = fp.FokkerPlanck(g, potential=U3, diffusion=eps)
    q = escape.committor(m, lambda x: x <= a + 1e-9, lambda x: x >= b - 1e-9)
    xs = np.array([-1.5, -0.5, 0.0, 0.5, 1.5])
    ref = splitting_probability_1d(xs, a, b, potential_derivative=dU3, diffusion=eps).to_upper
    np.testing.assert_allclose(q.at(xs[1:, None]), ref[1:], rtol=1e-4)  # measured 5e-6
    # q(−1.5) ≈ 2e-17 keeps its relative accuracy: O(h²) error in an exponent of ≈ 38
    assert q.at(-1.5) == pytest.approx(ref[0], rel=1e-2)
    assert q.info["traps"] == 1 and q.info["accurate"]
    with pytest.warns(RuntimeWarning):
        plain = escape.committor(m, lambda x: x <= a + 1e-9, lambda x: x >= b - 1e-9,
                                 trap_depth=np.inf)
    assert abs(plain.at(0.0) / ref[2] - 1) > 1e-2


def test_escape_time_beyond_double_precision_is_refused():
    # a well ~800 D below the target: E τ ~ e^800 overflows; the renewal weight underflows to a
    # subnormal. Refuse (SolverError) rather than return a number the diagnostics must disown
    from fpsolve.errors import SolverError

    g = fp.Grid([(-3.0, 5.11)], 811)
    m = fp.FokkerPlanck(g, potential=lambda x: 4 * ((x ** 2 - 1) ** 2 / 4 - 0.1 * x),
                        diffusion=0.5)
    with pytest.raises(SolverError, match="underflows double precision"):
        escape.mean_first_passage_time(m, lambda x: x >= 4.6)
    with pytest.raises(SolverError, match="underflows double precision"):
        escape.quasi_stationary(m, lambda x: x >= 4.6)
