"""Conditional exit times of a 1D diffusion from an interval, by quadrature: the time to leave
(lower, upper) given the end it leaves through (the exit split of Xie, Sato & Sugiyama between
parallel paths is this question).

Conventions (:doc:`/theory/conventions`) and engine as in :mod:`fpsolve.theory.quadrature`: speed density m,
scale density s, Green's function G(x, z) = S_l(min) S_r(max) / S_tot of the generator
(1/m)(f′/s)′ killed at both ends. With P_u(x) = S_l(x)/S_tot the probability to leave through
the upper end (P_l = 1 − P_u, computed as S_r/S_tot: no cancellation),

    E_x[τ ; exit u]  = ∫ G(x, z) m(z) P_u(z) dz,
    E_x[τ² ; exit u] = 2 ∫ G(x, z) m(z) E_z[τ ; u] dz,

because u(x) = E_x[τ 1{exit u}] solves A u = −P_u with u = 0 at both ends (Doob's h-transform:
the process conditioned to leave through u has generator A^h f = A(P_u f)/P_u). The conditional
moments are these divided by P_u. Everything is a sum of positive terms in log space, so a
conditional time on the unlikely side keeps its relative accuracy however small P_u is.
"""
from dataclasses import dataclass

import numpy as np

from ..conventions import alpha_of
from ._checks import breakpoints_array, drift_of, interval, points_inside
from ._panels import IntervalGreen, PanelGrid

__all__ = ["ConditionalExit1D", "conditional_exit_times_1d"]


@dataclass(frozen=True)
class ConditionalExit1D:
    """Exit probabilities and conditional exit-time moments from the points ``x0``.

    For side in ("upper", "lower"): ``probability_<side>`` = P(exit through it),
    ``mean_<side>`` = E[τ | exit through it], ``second_moment_<side>`` = E[τ² | exit through it];
    the logs ``log_mean_<side>``, ``log_second_moment_<side>`` stay finite where the values
    overflow. Times in the SDE's units.
    """
    x0: np.ndarray
    probability_upper: np.ndarray
    probability_lower: np.ndarray
    mean_upper: np.ndarray
    mean_lower: np.ndarray
    second_moment_upper: np.ndarray
    second_moment_lower: np.ndarray
    log_mean_upper: np.ndarray
    log_mean_lower: np.ndarray
    log_second_moment_upper: np.ndarray
    log_second_moment_lower: np.ndarray


def conditional_exit_times_1d(x0, lower, upper, *, drift=None, potential_derivative=None,
                              diffusion=1.0, convention="ito", breakpoints=None):
    """P(exit through each end) and E[τ | end], E[τ² | end] from x0 ∈ (lower, upper), both ends
    absorbing. Coefficients as in :func:`fpsolve.theory.mfpt_1d`. Returns
    :class:`ConditionalExit1D`."""
    where = "conditional_exit_times_1d"
    alpha = alpha_of(convention, where)
    lo, hi = interval(lower, upper, where)
    b = drift_of(drift, potential_derivative, where)
    x0 = points_inside(x0, lo, hi, "x0", where)
    grid = PanelGrid(lo, hi, np.concatenate([x0.ravel(), breakpoints_array(breakpoints, where)]), b,
                     diffusion, alpha, where)
    green = IntervalGreen(grid)
    solve = green.solve
    idx = grid.index(x0.ravel())
    (sl_n, sl_e), (sr_n, sr_e), log_stot = green.sl, green.sr, green.log_total

    out = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for side, lp_n, lp_e in (("upper", sl_n - log_stot, sl_e - log_stot),
                                 ("lower", sr_n - log_stot, sr_e - log_stot)):
            u_n, u_e = solve(lp_n)
            _, w_e = solve(np.log(2.0) + u_n)
            lp = lp_e[idx].reshape(x0.shape)
            lm1 = u_e[idx].reshape(x0.shape) - lp
            lm2 = w_e[idx].reshape(x0.shape) - lp
            out[side] = (np.exp(lp), np.exp(lm1), np.exp(lm2), lm1, lm2)
    return ConditionalExit1D(
        x0, out["upper"][0], out["lower"][0], out["upper"][1], out["lower"][1], out["upper"][2],
        out["lower"][2], out["upper"][3], out["lower"][3], out["upper"][4], out["lower"][4])
