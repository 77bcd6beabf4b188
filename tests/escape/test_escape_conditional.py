"""Conditional exit times per exit set, and point starts off the grid (issue 19 item 2):
against the quadratures of fpsolve.theory and exact series."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import escape
from fpsolve.escape import HalfSpace, Wall
from fpsolve.theory import conditional_exit_times_1d, splitting_probability_1d


def order(h, err):
    return float(np.polyfit(np.log(h), np.log(err), 1)[0])


B = lambda y: 1 - 2 * y
DX = lambda y: 0.3 * (1 + 0.4 * np.sin(y))


def test_conditional_exit_times_second_order_from_an_off_grid_start():
    x0 = 0.7
    ref = conditional_exit_times_1d([x0], 0.0, 2.0, drift=B, diffusion=DX)
    want = {"up": (ref.probability_upper[0], ref.mean_upper[0], ref.second_moment_upper[0]),
            "low": (ref.probability_lower[0], ref.mean_lower[0], ref.second_moment_lower[0])}
    errs, hs = [], []
    for n in (100, 200, 400, 800):
        m = fp.FokkerPlanck(fp.Grid([(0.0, 2.0)], n), drift=B, diffusion=DX)
        r = escape.conditional_exit_times(m, {"low": Wall(0, "low"), "up": Wall(0, "high")},
                                          start=x0)
        errs.append([abs(r.start[k][j] / want[k][j] - 1) for k in ("up", "low")
                     for j in range(3)])
        hs.append(2.0 / n)
        # exact identities of the discrete answers: Σ q = 1, Σ q E[τ | k] = E τ
        tau = escape.mean_first_passage_time(m, Wall(0)).values
        q = sum(r.probability[k].values for k in r.labels)
        np.testing.assert_allclose(q, 1.0, atol=1e-12)
        total = sum(r.probability[k].values * r.mean[k].values for k in r.labels)
        np.testing.assert_allclose(total, tau, rtol=1e-10)
    errs = np.array(errs)
    assert min(order(hs, errs[:, j]) for j in range(6)) >= 1.9


def test_unlikely_exit_has_full_relative_accuracy():
    # drift −6 towards the lower end: P(exit up) = 4.3e-5 from x = 1.3. Its conditional time is
    # solved for directly (no 1 − q), so it is as accurate as the likely one: O(h²) with the
    # drift's length scale, K (h b/D)² = 1e-3 at h = 5e-3 (K = 0.1 as in tests/properties)
    b = lambda y: -6.0 + 0 * y
    ref = conditional_exit_times_1d([1.3], 0.0, 2.0, drift=b, diffusion=DX)
    m = fp.FokkerPlanck(fp.Grid([(0.0, 2.0)], 400), drift=b, diffusion=DX)
    r = escape.conditional_exit_times(m, [Wall(0, "low"), Wall(0, "high")], start=1.3)
    P, T1, T2 = r.start[1]
    assert ref.probability_upper[0] < 1e-4
    tol = 0.1 * (0.005 * 6 / 0.18) ** 2
    assert P == pytest.approx(ref.probability_upper[0], rel=tol)
    assert T1 == pytest.approx(ref.mean_upper[0], rel=tol)
    assert T2 == pytest.approx(ref.second_moment_upper[0], rel=tol)


def test_conditional_exit_times_with_sharp_sets_and_high_barrier():
    # a double well, exits past either saddle: the conditional times on each side equal the
    # quadrature to O(h²); with ΔU/D = 24 the exit probabilities are ~e^(−24)-unbalanced
    U = lambda x: (x ** 2 - 1) ** 2 / 4 + 0.1 * x
    dU = lambda x: x ** 3 - x + 0.1
    D = 0.01
    ref = conditional_exit_times_1d([-1.0], -1.6, 0.4, potential_derivative=dU, diffusion=D)
    m = fp.FokkerPlanck(fp.Grid([(-2.03, 1.01)], 1200), potential=U, diffusion=D)
    r = escape.conditional_exit_times(m, {"left": HalfSpace(-1, 1.6), "right": HalfSpace(1, 0.4)},
                                      start=-1.0)
    h = 3.04 / 1200
    tol = 0.1 * (h * 2.0 / D) ** 2  # K (h max|U′|/D)², K = 0.1
    for k, side in (("left", "lower"), ("right", "upper")):
        P, T1, _ = r.start[k]
        assert P == pytest.approx(getattr(ref, f"probability_{side}")[0], rel=tol)
        assert T1 == pytest.approx(getattr(ref, f"mean_{side}")[0], rel=tol)
    assert r.info["accurate"]


def _series_survival(t, x, L, D, terms=400):
    """S(t, x) of Brownian motion killed at 0 and L (Fourier series, odd modes)."""
    k = np.arange(1, 2 * terms, 2)[:, None]
    return float(np.sum(4 / (k * np.pi) * np.sin(k * np.pi * x / L)
                        * np.exp(-D * (k * np.pi / L) ** 2 * t)))


@pytest.mark.parametrize("ndim", [1, 2])
def test_survival_from_a_point_off_the_grid_is_second_order(ndim):
    # Brownian motion in the strip (0, 1) killed at both walls (a reflecting y-axis in 2D does
    # not change S); the point is never a cell centre and lies within a cell of the wall
    D, L, x0, t = 0.4, 1.0, 0.0137, 0.05
    ref = _series_survival(t, x0, L, D)
    errs, hs = [], []
    for n in (20, 40, 80, 160):
        if ndim == 1:
            m = fp.FokkerPlanck(fp.Grid([(0.0, L)], n), diffusion=D)
            start = x0
        else:
            m = fp.FokkerPlanck(fp.Grid([(0.0, L), (-0.5, 0.7)], (n, 7)), diffusion=D)
            start = [x0, 0.123]
        s = escape.survival(m, Wall(0), start, [0.0, t], method="expm")
        errs.append(abs(s.survival[-1] / ref - 1))
        hs.append(L / n)
        # the start is interpolated between the wall (S = 0) and the first centre: part of the
        # unit mass sits on the wall at t = 0 (S(0) < 1 there; S(t) is second order once the
        # boundary layer √(Dt) = 0.14 spans a few cells)
        assert s.survival[0] == pytest.approx(1.0 - s.info["absorbed_at_start"], abs=1e-14)
    assert order(hs, errs) >= 1.9


def test_exit_distribution_from_a_point_off_the_grid():
    # the two edges cut the cells at a different θ on every grid, so err·n² wobbles (0.003–0.02
    # measured over n = 35…1120) and a fitted slope over four grids is noisy; the bound is the
    # O(h²) one of tests/properties, K (h s)², s = max|b/D| + max|D′/D| + 2π/(b − a) ≈ 16
    x0 = 0.3141
    q = splitting_probability_1d([x0], -0.8, 0.9, drift=B, diffusion=DX).to_upper[0]
    for n in (70, 140, 280, 560):
        m = fp.FokkerPlanck(fp.Grid([(-1.37, 1.61)], n), drift=B, diffusion=DX)
        ex = escape.exit_distribution(m, HalfSpace(-1, 0.8) | HalfSpace(1, 0.9), x0)
        pts, prob = ex.info["exit_points"][:, 0], ex.info["exit_probabilities"]
        assert prob.sum() == pytest.approx(1.0, abs=1e-12)
        assert abs(prob[pts > 0].sum() / q - 1) <= 0.1 * (2.98 / n * 16) ** 2
        # a point start is the interpolation of the answers from the cells: it equals the
        # committor Field interpolated (the committor is the probability to exit through B)
        qf = escape.committor(m, HalfSpace(-1, 0.8), HalfSpace(1, 0.9))
        assert prob[pts > 0].sum() == pytest.approx(qf.at(x0), abs=1e-12)
