"""Mean first-passage times and second moments from the backward equation, against 1D log-space
quadrature (fpsolve.theory.quadrature, an independent implementation) and closed forms."""
import warnings

import numpy as np
import pytest

import fpsolve as fp
from fpsolve import escape
from fpsolve.theory.quadrature import mfpt_1d, mfpt_interval_1d

U = lambda x: (x ** 2 - 1) ** 2          # barrier ΔU = 1 at x = 0, minima at ±1
dU = lambda x: 4 * x ** 3 - 4 * x


def aligned_grid(lo, c, h):
    """1D grid on [lo, hi] with spacing h and a cell centre exactly at c (the Dirichlet point)."""
    k = int(round((c - lo) / h - 0.5))
    lo = c - (k + 0.5) * h
    n = k + 1 + int(round(1.0 / h))
    return fp.Grid([(lo, lo + n * h)], n)


@pytest.mark.parametrize("beta", [2.0, 5.0, 10.0])
@pytest.mark.parametrize("c", [0.0, 1.0])
def test_double_well_mfpt_1d_against_quadrature(beta, c):
    """ΔU/D = β; target {x ≥ c} at the saddle or at the other minimum. Spec: 0.5%; measured
    ≤ 2e-5 (h = 2e-3, second order)."""
    D = 1.0 / beta
    g = aligned_grid(-2.0, c, 2e-3)
    m = fp.FokkerPlanck(g, potential=U, diffusion=D)
    tau = escape.mean_first_passage_time(m, lambda x: x >= c - 1e-9)
    x0 = np.array([-1.5, -1.0, -0.3, c - 0.2])
    ref = mfpt_1d(x0, c, g.bounds[0, 0], potential_derivative=dU, diffusion=D).mean
    np.testing.assert_allclose(tau.at(x0[:, None]), ref, rtol=1e-4)
    assert np.all(tau.values[g.axes[0] >= c - 1e-9] == 0.0)
    assert tau.info["accurate"] and tau.info["balance_defect"] < 1e-10
    assert tau.info["residual"] < 1e-13


@pytest.mark.parametrize("beta", [4.0, 10.0])
def test_separable_2d_mfpt_is_independent_of_y_and_matches_1d(beta):
    """U(x, y) = U₁(x) + k y²/2 with target {x ≥ c}: E τ(x, y) = E τ₁(x) for every y."""
    D = 1.0 / beta
    g = fp.Grid([(-2.0, 0.5), (-1.2, 1.2)], (500, 24))  # h_x = 5e-3; centre at x = 0.0025
    c = g.axes[0][g.axes[0] >= 0.0][0]
    m = fp.FokkerPlanck(g, potential=lambda x, y: U(x) + 1.5 * y ** 2, diffusion=D)
    tau = escape.mean_first_passage_time(m, lambda x, y: x >= c - 1e-9)
    ix = np.searchsorted(g.axes[0], [-1.0, -0.5])
    vals = tau.values[ix, :]
    assert np.max(np.ptp(vals, axis=1) / vals.mean(axis=1)) < 1e-11
    ref = mfpt_1d(g.axes[0][ix], c, -2.0, potential_derivative=dU, diffusion=D).mean
    np.testing.assert_allclose(vals[:, 5], ref, rtol=5e-4)  # spec 0.5%; measured 1e-4


def test_second_moment_and_variance_against_quadrature():
    D = 1.0 / 6.0
    g = aligned_grid(-2.0, 0.0, 2e-3)
    m = fp.FokkerPlanck(g, potential=U, diffusion=D)
    mom = escape.first_passage_moments(m, lambda x: x >= -1e-9)
    x0 = np.array([-1.0, -0.4])
    ref = mfpt_1d(x0, 0.0, g.bounds[0, 0], potential_derivative=dU, diffusion=D,
                  second_moment=True)
    np.testing.assert_allclose(mom.second_moment.at(x0[:, None]), ref.second_moment, rtol=2e-4)
    np.testing.assert_allclose(mom.variance.at(x0[:, None]), ref.variance, rtol=2e-4)
    assert mom.info["accurate"]


def test_hu_escape_from_a_maximum_against_quadrature_and_closed_form():
    """Hu et al. Thm 3 (seed 001) in 1D: U = −γx²/2 on (−a, a), absorbing at ±a, start at 0.

    Exact reference: the two-sided quadrature. Closed form as D → 0: X_t ≈ e^{γt} Z,
    Z ~ N(0, D/γ), so E τ = (1/2γ)[log(γa²/D) + γ_E + log 2] + O(D) (Dawson-integral limit)."""
    gam, a = 1.5, 1.0
    for D, tol_closed in [(0.01, 3e-3), (0.001, 5e-4)]:
        n = 2001
        h = 2 * a / (n - 1)
        g = fp.Grid([(-a - h / 2, a + h / 2)], n)  # cell centres at ±a
        m = fp.FokkerPlanck(g, potential=lambda x: -0.5 * gam * x ** 2, diffusion=D)
        tau = escape.mean_first_passage_time(m, lambda x: np.abs(x) >= a - 1e-9)
        t0 = tau.values[(n - 1) // 2]  # the cell centred at 0
        ref = mfpt_interval_1d(0.0, -a, a, potential_derivative=lambda x: -gam * x,
                               diffusion=D).mean
        assert t0 == pytest.approx(float(ref), rel=2e-4)  # measured 1.3e-4 at D = 1e-3
        closed = (np.log(gam * a * a / D) + np.euler_gamma + np.log(2)) / (2 * gam)
        assert float(ref) == pytest.approx(closed, rel=tol_closed)  # O(D) asymptotics


@pytest.mark.parametrize("convention", ["ito", "stratonovich", "isothermal"])
def test_xie_state_dependent_diffusion_each_convention(convention):
    """Xie et al. (seed 003) D = ε(1 + θ²): the quadrature uses the convention's effective Itô
    drift b + αD′ independently of the finite-volume flux."""
    eps = 0.05
    Dfun = lambda x: eps * (1 + x ** 2)
    g = aligned_grid(-2.0, 0.0, 2.5e-3)
    m = fp.FokkerPlanck(g, potential=U, diffusion=Dfun, convention=convention)
    mom = escape.first_passage_moments(m, lambda x: x >= -1e-9)
    x0 = np.array([-1.0, -0.5])
    ref = mfpt_1d(x0, 0.0, g.bounds[0, 0], potential_derivative=dU, diffusion=Dfun,
                  convention=convention, second_moment=True)
    np.testing.assert_allclose(mom.mean.at(x0[:, None]), ref.mean, rtol=2e-4)
    np.testing.assert_allclose(mom.variance.at(x0[:, None]), ref.variance, rtol=4e-4)


def test_conventions_give_different_times():
    """The three conventions are different processes for state-dependent D: their MFPTs must
    differ by far more than the discretisation error (guards against a convention being ignored)."""
    eps = 0.05
    g = aligned_grid(-2.0, 0.0, 5e-3)
    t = [escape.mean_first_passage_time(
        fp.FokkerPlanck(g, potential=U, diffusion=lambda x: eps * (1 + x ** 2), convention=c),
        lambda x: x >= -1e-9).at(-1.0) for c in ("ito", "stratonovich", "isothermal")]
    assert abs(t[0] / t[1] - 1) > 0.01 and abs(t[1] / t[2] - 1) > 0.01


def test_non_reversible_mfpt_against_dense_solve():
    """Rotational drift (no detailed balance): the trap reduction uses the time-reversed chain.
    Reference: a dense solve of the same killed backward system (barrier small enough for it)."""
    g = fp.Grid([(-2, 2), (-2, 2)], 36)
    drift = lambda x, y: (-dU(x) + 0.6 * y, -2 * y - 0.6 * dU(x))
    m = fp.FokkerPlanck(g, drift=drift, diffusion=0.15)
    tau = escape.mean_first_passage_time(m, lambda x, y: x > 0.8)
    assert not tau.info["reversible"] and tau.info["traps"] >= 1
    mask = (g.coords[0] > 0.8).ravel()
    idx = np.full(g.size, -1)
    idx[~mask] = np.arange((~mask).sum())
    A = -m.rates.generator(index=idx).toarray().T
    ref = np.linalg.solve(A, np.ones(A.shape[0]))
    np.testing.assert_allclose(tau.values.ravel()[~mask], ref, rtol=1e-9)


def test_negative_values_are_reported_not_hidden(monkeypatch):
    """The exact MFPT is ≥ 0; a solver that returns negative entries gets them set to 0, and
    their size (relative to the largest entry) is reported in info and checked against
    BALANCE_TOL = 1e-6. Injected into the backward solve: the smallest entry replaced by
    −1e-3 × the largest, which marks the answer inaccurate and warns."""
    from fpsolve.escape.green import KilledProcess

    back = KilledProcess._back

    def injected(self, F):
        u = back(self, F).copy()
        u[np.argmin(u[:, 0]), 0] = -1e-3 * np.max(np.abs(u[:, 0]))
        return u

    m = fp.FokkerPlanck(fp.Grid([(-2.0, 2.0)], 200), potential=lambda x: (x ** 2 - 1) ** 2 / 4,
                        diffusion=0.2)
    clean = m.mean_first_passage_time(lambda x: x >= 1.0)
    assert clean.info["negative_set_to_zero"] == 0.0 and clean.info["accurate"]
    monkeypatch.setattr(KilledProcess, "_back", injected)
    with pytest.warns(RuntimeWarning, match="negative values set to 0 up to 1.0e-03"):
        tau = m.mean_first_passage_time(lambda x: x >= 1.0)
    assert tau.info["negative_set_to_zero"] == pytest.approx(1e-3, rel=1e-12)
    assert np.all(tau.values >= 0.0) and not tau.info["accurate"]


def test_nonnegative_reports_the_largest_negative_per_column():
    from fpsolve.escape.green import nonnegative

    x = np.array([[1.0, -1e-3], [2.0, 4.0], [-1e-12, 2.0]])
    y, rel = nonnegative(x)
    np.testing.assert_array_equal(y, np.maximum(x, 0.0))
    assert rel == pytest.approx(max(1e-12 / 2.0, 1e-3 / 4.0), rel=1e-15)
    y2, rel2 = nonnegative(np.abs(x))      # nothing negative: returned as it is, 0 reported
    assert rel2 == 0.0 and np.array_equal(y2, np.abs(x))
