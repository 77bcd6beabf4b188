r"""Transport in a tilted periodic landscape: effective drift and effective diffusion coefficient
in closed form over one period (Stratonovich 1958, Lifson & Jackson 1962, Reimann et al. 2001).

The 1D diffusion dX = b dt + sqrt(2D) dW with b and D periodic of period L (a tilted periodic
potential: b = F − U′, U periodic) moves on average as X_t ≈ v t with Gaussian spread
Var X_t ≈ 2 D_eff t. With the speed and scale densities of the convention (:doc:`/theory/conventions`;
:mod:`fpsolve.theory.quadrature`), m = D^(α−1) e^ψ, s = D^(−α) e^(−ψ), ψ = ∫ b/D, and
r = s(x + L)/s(x) = e^(−∫_0^L b/D) (r < 1 for a forward tilt),

    I₊(x) = s(x) ∫_0^L m(x − y) dy,      I₋(x) = m(x) ∫_0^L s(x + y) dy      (both periodic),

    v = (1 − r) / ⟨I₊⟩,        D_eff = ⟨D I₊² I₋⟩ / ⟨I₊⟩³,        ⟨f⟩ = (1/L) ∫_0^L f dx.

For a constant D these are the formulas of Reimann, Van den Broeck, Linke, Hänggi, Rubí &
Pérez-Madrid (Phys. Rev. Lett. 87, 010602, 2001, eqs. (4)–(6), with their 1/(kT) in I±); without
tilt (r = 1) D_eff = L²/(∫ e^(U/D) ∫ e^(−U/D)) · D is Lifson & Jackson's (J. Chem. Phys. 36, 2410,
1962), and v is Stratonovich's. A state-dependent D enters through the Lamperti transform
y = ∫ dx/√D, which makes the noise additive with period L_y = ∫_0^L dx/√D; the constant-D
formulas in y, mapped back with X_t/Y_t → L/L_y, give the D inside ⟨D I₊² I₋⟩ (a derivation that
the tests check against the renewal formula v = L/T₁, D_eff = L²(T₂ − T₁²)/(2T₁³), T₁, T₂ the
moments of the passage time from x to x + L, computed independently by :func:`mfpt_1d`).

Numerics: the I± are formed from cumulative integrals over one period in log space on the
adaptive panels of ``fpsolve/theory/_panels.py`` (∫_{x−L}^x m = ∫_0^x m + r ∫_x^L m: positive
terms only), so tilts and barriers of hundreds of D are fine; a backward tilt (r > 1) is
computed on the mirror image x → −x. Accuracy ≈ 1e-10 relative, like the other quadratures.
"""
from dataclasses import dataclass

import numpy as np

from ..conventions import alpha_of
from ..errors import InputError
from ._checks import breakpoints_array, positive
from ._panels import PanelGrid, evaluate

__all__ = ["PeriodicTransport", "periodic_transport"]


@dataclass(frozen=True)
class PeriodicTransport:
    """Effective drift ``velocity`` (length/time) and effective diffusion coefficient
    ``diffusion`` (length²/time) of a tilted periodic landscape; ``stationary`` the normalised
    stationary density on one period at ``x`` (the points asked for), ``r`` = e^(−∫_0^L b/D)."""
    velocity: float
    diffusion: float
    r: float
    x: np.ndarray
    stationary: np.ndarray


def periodic_transport(period, *, drift=None, potential_derivative=None, tilt=0.0,
                       diffusion=1.0, convention="ito", x=None, breakpoints=None):
    """v and D_eff of the 1D diffusion with periodic coefficients on [0, period].

    drift : b(x), periodic (give the tilt inside it or as ``tilt``); or potential_derivative :
        U′(x) of a periodic potential, with b = tilt − U′. diffusion : D(x) > 0, periodic.
    tilt : constant force F added to the drift. convention : "ito" | "stratonovich" |
        "isothermal". x : points in [0, period] for the stationary density.

    Returns :class:`PeriodicTransport`.
    """
    where = "periodic_transport"
    L = positive(period, "period", where)
    alpha = alpha_of(convention, where)
    if (drift is None) == (potential_derivative is None):
        raise InputError(f"{where}: give exactly one of drift (b) or potential_derivative (U′).")
    F = float(tilt)
    if drift is not None:
        b = lambda z: evaluate(drift, z, "drift", where) + F
    else:
        b = lambda z: F - evaluate(potential_derivative, z, "potential_derivative", where)
    Dfun = lambda z: evaluate(diffusion, z, "diffusion", where)
    ends = Dfun(np.array([0.0, L])) if callable(diffusion) else np.array([1.0, 1.0])
    if not np.isclose(ends[0], ends[1], rtol=1e-10):
        raise InputError(f"{where}: diffusion is not periodic: D(0) = {ends[0]:.6g}, D(L) = "
                         f"{ends[1]:.6g}.")
    xs = np.empty(0) if x is None else np.atleast_1d(np.asarray(x, dtype=float))
    if np.any((xs < 0) | (xs > L)):
        raise InputError(f"{where}: x must lie in [0, period].")
    brk = breakpoints_array(breakpoints, where)
    grid = PanelGrid(0.0, L, np.concatenate([xs, brk]), b, diffusion, alpha, where)
    log_r = -float(grid.psi_edges[-1])
    mirrored = log_r > 0
    if mirrored:  # backward tilt: the mirror image x → −x (shifted by L) has a forward one
        bm = lambda z: -b(L - np.asarray(z))
        Dm = (lambda z: Dfun(L - np.asarray(z))) if callable(diffusion) else diffusion
        grid = PanelGrid(0.0, L, np.concatenate([L - xs, L - brk]), bm, Dm, alpha, where)
        log_r = -float(grid.psi_edges[-1])
    lm, lm_e = grid.log_speed()
    ls, ls_e = grid.log_scale()
    logD = grid.logD_nodes
    Ml, _ = grid.log_cumulative(lm)                # ∫_0^x m
    Mr, _ = grid.log_cumulative(lm, reverse=True)  # ∫_x^L m
    Sl, _ = grid.log_cumulative(ls)
    Sr, _ = grid.log_cumulative(ls, reverse=True)
    log_Ip = ls + np.logaddexp(Ml, log_r + Mr)     # s(x) ∫_{x−L}^x m
    log_Im = lm + np.logaddexp(Sr, log_r + Sl)     # m(x) ∫_x^{x+L} s

    def mean_log(g):  # log ⟨e^g⟩ over one period
        return float(np.logaddexp.reduce(grid.log_panel_integrals(g))) - np.log(L)

    a1 = mean_log(log_Ip)
    a3 = mean_log(logD + 2 * log_Ip + log_Im)
    with np.errstate(under="ignore", over="ignore"):
        v = -np.expm1(log_r) * np.exp(-a1)
        Deff = float(np.exp(a3 - 3 * a1))
    # stationary density on the circle: p = I₋ / (L ⟨I₋⟩), at the requested points (edges)
    Sle = grid.log_cumulative(ls)[1]
    Sre = grid.log_cumulative(ls, reverse=True)[1]
    log_Im_e = lm_e + np.logaddexp(Sre, log_r + Sle)
    a_m = mean_log(log_Im)
    pts = (L - xs) if mirrored else xs
    idx = grid.index(pts) if pts.size else np.zeros(0, dtype=int)
    p = np.exp(log_Im_e[idx] - a_m - np.log(L))
    return PeriodicTransport(velocity=float(-v if mirrored else v), diffusion=Deff,
                             r=float(np.exp(-log_r) if mirrored else np.exp(log_r)), x=xs,
                             stationary=p)
