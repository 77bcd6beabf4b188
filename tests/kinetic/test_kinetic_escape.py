"""First passage of the position: MFPT against the Smoluchowski limit (overdamped quadrature,
an independent implementation), committor identities, the trap reduction against the plain LU,
its diagnostics behind high barriers, and targets that are not sets of positions."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve.errors import InputError
from fpsolve.kinetic import Langevin, theory
from fpsolve.theory.quadrature import mfpt_1d

U_DW = lambda x: (x ** 2 - 1) ** 2 / 4
dU_DW = lambda x: x ** 3 - x


def test_high_friction_mfpt_is_gamma_times_the_overdamped_one():
    """γ = 12, T = 0.1: E τ_kinetic(−1, v) → γ·E τ_overdamped(−1) with D = T (time t/γ) as
    γ → ∞; the relative correction is O(ω²/γ²): measured 2.7e-2, 8.5e-3, 2.4e-3 at γ = 6, 12,
    24 on this grid. Spec at γ = 12: 1.5e-2."""
    gamma, T = 12.0, 0.1
    g = fp.Grid([(-2.2, 1.3), (-1.8, 1.8)], (280, 128))   # x = 1 is a cell face (h = 1/80)
    m = Langevin(g, U_DW, friction=gamma, temperature=T)
    tau = m.mean_first_passage_time(lambda x: x >= 1.0)
    # the absorbing boundary is the face where the target begins: x = 1
    ref = gamma * mfpt_1d(-1.0, 1.0, -2.2, potential_derivative=dU_DW, diffusion=T).mean
    num = tau.at((-1.0, 0.0))
    assert tau.info["accurate"]
    assert 0 < num / ref - 1 < 1.5e-2, (num, ref)


def test_kramers_ratio_tends_to_one_as_T_decreases():
    """τ · k_Kramers at γ = 1 on the double well: 1.063 (T = 0.05) → 1.012 (0.0125), the
    O(T) correction; exact diagnostics behind ΔU/T = 20 (trap reduction, balance defects at
    round-off)."""
    ratios = []
    for T, box, n in ((0.05, [(-2.0, 1.2), (-1.6, 1.6)], 160),
                      (0.0125, [(-1.8, 1.2), (-0.9, 0.9)], 200)):
        m = Langevin(fp.Grid(box, n), U_DW, friction=1.0, temperature=T)
        tau = m.mean_first_passage_time(lambda x: x >= 1.0)
        assert tau.info["accurate"] and tau.info["balance_defect"] < 1e-10
        k = theory.kramers_rate(1.0, np.sqrt(2), 1.0, 0.25, T)
        ratios.append(tau.at((-1.0, 0.0)) * k)
    assert 1.04 < ratios[0] < 1.08 and 1.0 < ratios[1] < 1.025, ratios


def test_trap_reduction_agrees_with_plain_lu_at_a_moderate_barrier():
    m = Langevin(fp.Grid([(-2.0, 1.2), (-1.6, 1.6)], (96, 96)), U_DW, friction=0.5,
                 temperature=0.06)
    a = m.mean_first_passage_time(lambda x: x >= 1.0)
    b = m.mean_first_passage_time(lambda x: x >= 1.0, trap_depth=np.inf)
    assert a.info["traps"] == 1 and b.info["traps"] == 0
    np.testing.assert_allclose(a.values, b.values, rtol=1e-8, atol=1e-8 * b.values.max())


def test_upwind_scheme_is_exact_behind_a_very_high_barrier():
    """ΔU/T = 40 with the M-matrix scheme: GTH renewal, balance defects at round-off and a
    positive field (maximum principle)."""
    m = Langevin(fp.Grid([(-1.6, 1.1), (-0.7, 0.7)], (96, 64)), U_DW, friction=1.0,
                 temperature=0.25 / 40, scheme="upwind")
    tau = m.mean_first_passage_time((1.0, None))
    assert tau.info["method"].endswith("GTH renewal)")
    assert tau.info["balance_defect"] < 1e-12 and tau.info["well_balance_defect"] < 1e-12
    assert tau.info["min_value"] > 0 and tau.info["accurate"]


def test_committor_identities():
    """q_{A→B} + q_{B→A} = 1 off A ∪ B; by the symmetry (x, v) → (−x, −v) of the symmetric
    double well, q(0, 0) = ½ and q(x, v) = 1 − q(−x, −v)."""
    g = fp.Grid([(-2.4, 2.4), (-1.6, 1.6)], (128, 128))
    m = Langevin(g, U_DW, friction=0.8, temperature=0.1)
    q = m.committor(lambda x: x <= -1, lambda x: x >= 1)
    q2 = m.committor(lambda x: x >= 1, lambda x: x <= -1)
    mid = (g.axes[0] > -1) & (g.axes[0] < 1)
    np.testing.assert_allclose(q.values[mid] + q2.values[mid], 1.0, atol=1e-12)
    np.testing.assert_allclose(q.values[mid], 1 - q.values[mid][::-1, ::-1], atol=1e-12)
    assert np.all(q.values[g.axes[0] >= 1] == 1.0) and np.all(q.values[g.axes[0] <= -1] == 0.0)
    assert q.info["accurate"]


def test_escape_rate_and_start_points():
    g = fp.Grid([(-2.2, 1.2), (-1.6, 1.6)], (96, 96))
    m = Langevin(g, U_DW, friction=1.0, temperature=0.08)
    k = m.escape_rate(lambda x: x < 0, lambda x: x >= 1.0)
    tau = m.mean_first_passage_time(lambda x: x >= 1.0)
    assert k.rate == pytest.approx(1 / k.mean_time)
    # the Gibbs average over the left well is within a few % of the time from its bottom
    assert abs(k.mean_time / tau.at((-1.0, 0.0)) - 1) < 0.05
    k2 = m.escape_rate(lambda x: x < 0, lambda x: x >= 1.0, start=(-1.0, 0.0))
    assert k2.mean_time == pytest.approx(tau.values.ravel()[
        g.cell_index([-1.0, 0.0])[0][0] * 96 + g.cell_index([-1.0, 0.0])[0][1]])


@pytest.mark.parametrize("target", [
    lambda x, v: (x > 1) & (v > 0),                       # depends on v
    np.tile(np.arange(96)[:, None] > 80, (1, 96)) & (np.arange(96)[None, :] > 40),
    [(1.0, None), (0.0, None)],                           # a box in (x, v)
])
def test_targets_that_depend_on_v_are_refused(target):
    m = Langevin(fp.Grid([(-2.2, 1.2), (-1.6, 1.6)], (96, 96)), U_DW, friction=1.0,
                 temperature=0.08)
    with pytest.raises(InputError):
        m.mean_first_passage_time(target)


def test_targets_accepted_forms_agree():
    g = fp.Grid([(-2.2, 1.2), (-1.6, 1.6)], (64, 64))
    m = Langevin(g, U_DW, friction=1.0, temperature=0.1)
    a = m.mean_first_passage_time(lambda x: x >= 0.5).values
    b = m.mean_first_passage_time((0.5, None)).values
    c = m.mean_first_passage_time(g.axes[0] >= 0.5).values
    d = m.mean_first_passage_time(lambda x, v: (x >= 0.5) | (v > 100)).values  # v-independent
    for other in (b, c, d):
        np.testing.assert_array_equal(a, other)
    with pytest.raises(InputError, match="no x cell"):
        m.mean_first_passage_time((5.0, 6.0))
    with pytest.raises(InputError, match="every position"):
        m.mean_first_passage_time((None, None))
