"""Principal eigenvalue of a 1D diffusion killed at an absorbing end: the exact decay rate of the
survival probability, by quadrature (independent of any grid discretisation).

Conventions (:doc:`/theory/conventions`): the Itô SDE dX = b dt + sqrt(2D) dW with generator
A f = (b + αD′) f′ + D f″ = (1/m)(f′/s)′, speed density m = D^(α−1) e^ψ, scale density
s = D^(−α) e^(−ψ), ψ = ∫ b/D (see :mod:`fpsolve.theory.quadrature`). Killed at an absorbing end
(Dirichlet f = 0) and reflected at the other (f′ = 0), or killed at both,

    −A φ = λ₁ φ,      P_x(τ > t) ≈ c φ(x) e^(−λ₁ t) for large t,

with λ₁ > 0 the smallest eigenvalue; the quasi-stationary density (the law of X_t given τ > t as
t → ∞) is ν ∝ m φ, and E_ν τ = 1/λ₁ exactly.

Method: power iteration with the Green's operator G = (−A)⁻¹, whose kernel is the one of the
mean first-passage time (:doc:`/theory/conventions`)::

    reflecting at ℓ, absorbing at c:   (G f)(x) = ∫_x^c s(y) ∫_ℓ^y m(z) f(z) dz dy,
    absorbing at l and u:              (G f)(x) = ∫ G(x, z) m(z) f(z) dz,
                                       G(x, z) = S_l(min(x, z)) S_r(max(x, z)) / S_tot.

G is positive, so its iterates stay positive. Two iterations run, each from a start whose
principal component is at least as large as the start itself: the backward one f ← G f / max f
from f₀ = 1 (1 ≥ φ/max φ pointwise), then the forward one ν ← G*ν / ∫ν (G*ν(z) = m(z) ∫ G(x, z)
ν(x) dx) from the occupation density of a start where f is largest. λ₁ is the two-sided quotient
∫ f ν / ∫ (G f) ν, whose error is the product of both iterates' errors, (λ₁/λ₂)^(2k). The
forward iterate is needed: past a steep fall of U the true φ is e^(−ψ)-small, far below what
the backward iterates resolve, and ν = m φ built from them would put the mass at the exit (the
failure of a forward iteration started from π, here avoided as in
:func:`fpsolve.escape.quasi_stationary`). Every integral is taken in log space on the adaptive Gauss–Legendre panels of
``fpsolve/theory/_panels.py``, so targets far past a barrier, where e^ψ spans e^(±1000), are
fine. Accuracy: relative error ≲ 1e-10 for smooth coefficients (the panel quadrature's), checked in
tests/theory against the Ornstein–Uhlenbeck closed form (a zero of a parabolic-cylinder function)
and the interval closed form π²D/L².
"""
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import pbdv

from ..conventions import alpha_of
from ..errors import InputError
from ._checks import breakpoints_array, drift_of, finite, interval, mirror, points_inside
from ._panels import PanelGrid

__all__ = ["KilledEigen1D", "principal_eigenvalue_1d", "ou_killed_eigenvalue"]

#: Change of the normalised iterates (max norm for φ/max φ, L¹ for ν) at which the iterations
#: stop (twice in a row); the eigenvalue's error is about the product of the two, ≲ 1e-20.
VTOL = 1e-11


@dataclass(frozen=True)
class KilledEigen1D:
    """Principal eigenpair of a 1D diffusion killed at an absorbing end.

    rate : λ₁ (1/time). mean_time : 1/λ₁ = E_ν τ. log_rate : log λ₁ (finite where λ₁ underflows).
    x : the requested points; eigenfunction : φ(x) normalised to max 1 (the backward eigenvector:
    P_x(τ > t) ∝ φ(x) e^(−λ₁t)); log_eigenfunction its log (finite where φ underflows);
    qsd : the quasi-stationary density ν(x) = m φ / ∫ m φ, normalised on [lower, upper];
    log_qsd its log. iterations : power iterations used.
    """
    rate: float
    mean_time: float
    log_rate: float
    x: np.ndarray
    eigenfunction: np.ndarray
    log_eigenfunction: np.ndarray
    qsd: np.ndarray
    log_qsd: np.ndarray
    iterations: int


def _logsum(v):
    return float(np.logaddexp.reduce(np.asarray(v).ravel()))


def principal_eigenvalue_1d(lower, upper, *, absorbing="upper", drift=None,
                            potential_derivative=None, diffusion=1.0, convention="ito",
                            x=None, breakpoints=None, maxiter=2000):
    """λ₁ of the diffusion on [lower, upper] killed at the ``absorbing`` end(s).

    Parameters
    ----------
    lower, upper : the interval ends (finite).
    absorbing : "upper" (reflecting at lower), "lower" (reflecting at upper) or "both".
    drift, potential_derivative, diffusion, convention, breakpoints : as in
        :func:`fpsolve.theory.mfpt_1d`.
    x : points in [lower, upper] at which to return φ and ν (default: none).
    maxiter : power iterations allowed; the error shrinks like (λ₁/λ₂)^(2k), so well-separated
        spectra (metastable wells, steep slopes) take a few, a bare interval about 12.

    Returns :class:`KilledEigen1D`. Raises InputError if the iteration has not converged.
    """
    where = "principal_eigenvalue_1d"
    alpha = alpha_of(convention, where)
    lo, hi = interval(lower, upper, where)
    if absorbing not in ("upper", "lower", "both"):
        raise InputError(f"{where}: absorbing={absorbing!r}; choose 'upper', 'lower' or 'both'.")
    b = drift_of(drift, potential_derivative, where)
    brk = breakpoints_array(breakpoints, where)
    xs = np.empty(0) if x is None else points_inside(np.atleast_1d(x), lo, hi, "x", where)
    x_out = xs
    if absorbing == "lower":  # mirror x → −x so that the absorbing end is the upper one
        b, diffusion = mirror(b, -1.0), mirror(diffusion, 1.0)
        lo, hi, xs, brk = -hi, -lo, -xs, -brk
    grid = PanelGrid(lo, hi, np.concatenate([xs.ravel(), brk]), b, diffusion, alpha, where)
    lm, lm_e = grid.log_speed()
    ls, _ = grid.log_scale()
    if absorbing == "both":
        sl_n, sl_e = grid.log_cumulative(ls)
        sr_n, sr_e = grid.log_cumulative(ls, reverse=True)
        log_stot = sl_e[-1]

        def green(lf):  # log G f at (nodes, edges), all terms positive
            a_n, a_e = grid.log_cumulative(sl_n + lm + lf)
            b_n, b_e = grid.log_cumulative(sr_n + lm + lf, reverse=True)
            return (np.logaddexp(sr_n + a_n, sl_n + b_n) - log_stot,
                    np.logaddexp(sr_e + a_e, sl_e + b_e) - log_stot)
    else:
        def green(lf):
            inner, _ = grid.log_cumulative(lm + lf)
            return grid.log_cumulative(ls + inner, reverse=True)

    lsr, lsr_e = grid.log_cumulative(ls, reverse=True)  # S_r(x) = ∫_x^c s
    if absorbing == "both":
        lsl = sl_n

        def green_adjoint(lnu):  # log G*ν, G*ν(z) = m(z) ∫ G(x, z) ν(x) dx
            a_n, a_e = grid.log_cumulative(lsl + lnu)
            b_n, b_e = grid.log_cumulative(lsr + lnu, reverse=True)
            return (lm + np.logaddexp(lsr + a_n, lsl + b_n) - log_stot,
                    lm_e + np.logaddexp(lsr_e + a_e, sl_e + b_e) - log_stot)
    else:
        def green_adjoint(lnu):  # G*ν(z) = m(z) [S_r(z) ∫_ℓ^z ν + ∫_z^c S_r ν]
            a_n, a_e = grid.log_cumulative(lnu)
            b_n, b_e = grid.log_cumulative(lsr + lnu, reverse=True)
            return lm + np.logaddexp(lsr + a_n, b_n), lm_e + np.logaddexp(lsr_e + a_e, b_e)

    def log_int(g):
        return _logsum(grid.log_panel_integrals(g))

    # 1. backward iteration f ← G f / max from f₀ = 1 (principal component ≥ 1 in max norm)
    lf = np.zeros_like(lm)
    it_b = _iterate(lambda v: green(v)[0], lf, lambda v: v - np.max(v),
                    lambda a, b: float(np.max(np.abs(np.exp(a) - np.exp(b)))), maxiter, where)
    lf = it_b[0]
    # 2. forward iteration ν ← G*ν / ∫ν from the occupation density of a start at argmax f
    #    (principal component φ(x₀)/⟨φ, ν⟩ ≥ 1). The backward iterate alone is not enough: past
    #    a steep fall of U the true φ is e^(−ψ)-small, far below what the iterates resolve, and
    #    ν = m φ built from it would put the mass at the exit.
    k0 = np.unravel_index(np.argmax(lf), lf.shape)
    if absorbing == "both":
        ln0 = lm + np.where(grid.nodes <= grid.nodes[k0], lsl + lsr[k0], lsl[k0] + lsr) - log_stot
    else:
        ln0 = lm + np.where(grid.nodes <= grid.nodes[k0], lsr[k0], lsr)
    def l1_change(a, b):  # ∫ |e^a − e^b| = ∫ e^max(a,b) (1 − e^(−|a−b|)), in log space
        with np.errstate(divide="ignore"):
            return float(np.exp(log_int(np.maximum(a, b) + np.log(-np.expm1(-np.abs(a - b))))))

    it_f = _iterate(lambda v: green_adjoint(v)[0], ln0, lambda v: v - log_int(v), l1_change,
                    maxiter, where)
    lnu = it_f[0]
    # two-sided quotient ∫ (G f) ν / ∫ f ν: its error is the product of the two iterates' errors,
    # and ν (bounded everywhere) weights out what f does not resolve past a steep slope
    lgf, lgf_e = green(lf)
    log_lam = log_int(lf + lnu) - log_int(lgf + lnu)
    c = float(max(np.max(lgf), np.max(lgf_e)))
    idx = grid.index(xs.ravel())
    log_phi = (lgf_e[idx] - c).reshape(x_out.shape)
    lgn, lgn_e = green_adjoint(lnu)
    log_nu = (lgn_e[idx] - log_int(lgn)).reshape(x_out.shape)
    with np.errstate(over="ignore", under="ignore"):
        lam, mean = float(np.exp(log_lam)), float(np.exp(-log_lam))
    return KilledEigen1D(rate=lam, mean_time=mean, log_rate=log_lam, x=x_out,
                         eigenfunction=np.exp(log_phi),
                         log_eigenfunction=log_phi, qsd=np.exp(log_nu), log_qsd=log_nu,
                         iterations=it_b[1] + it_f[1])


def _iterate(step, v, normalise, change, maxiter, where):
    """Normalised power iteration in log space until ``change`` ≤ VTOL twice in a row."""
    v = normalise(v)
    small = 0
    for it in range(1, maxiter + 1):
        w = normalise(step(v))
        d = change(w, v)
        v = w
        small = small + 1 if d <= VTOL else 0
        if small >= 2:
            return v, it
    raise InputError(f"{where}: the power iteration did not converge in {maxiter} steps (last "
                     f"change {d:.2g}); the two lowest eigenvalues are too close. Raise maxiter.")


def ou_killed_eigenvalue(rate, diffusion, target, side="upper"):
    """Closed form: λ₁ of the Ornstein–Uhlenbeck process dX = −k X dt + sqrt(2D) dW on the whole
    line (natural boundary at the far end), killed on reaching ``target`` c.

    With ξ = x sqrt(k/D) the eigen-equation −A f = λ f is Hermite's equation
    f″ − ξ f′ + (λ/k) f = 0; the solution that stays polynomially bounded at the natural end is
    e^(ξ²/4) D_ν(−ξ) (D_ν the parabolic-cylinder function), so λ₁ = k ν₁ with ν₁ the smallest
    ν > 0 such that D_ν(−ξ_c) = 0, ξ_c = c sqrt(k/D) (side "upper": absorbing at c, the process
    lives on (−∞, c); "lower": on (c, ∞), by symmetry ξ_c → −ξ_c). At c = 0, ν₁ = 1.
    The root is bracketed on a grid of ν and polished with scipy's brentq.
    """
    where = "ou_killed_eigenvalue"
    k = finite(rate, "rate", where)
    D = finite(diffusion, "diffusion", where)
    if k <= 0 or D <= 0:
        raise InputError(f"{where}: rate and diffusion must be > 0; got {k}, {D}.")
    c = finite(target, "target", where)
    if side not in ("upper", "lower"):
        raise InputError(f"{where}: side={side!r}; choose 'upper' or 'lower'.")
    xi = c * np.sqrt(k / D) * (1.0 if side == "upper" else -1.0)
    f = lambda nu: pbdv(nu, -xi)[0]
    # scan ν upwards from 0 for the first sign change (ν₁ < 1 for ξ_c > 0, ν₁ > 1 for ξ_c < 0,
    # and ν₁ ~ e^(−ξ_c²/2) for a target far out in the tail, hence the logarithmic start)
    nus = np.concatenate([np.geomspace(1e-300, 1e-3, 300), np.linspace(1e-3, 60.0, 6000)[1:]])
    vals = np.array([f(v) for v in nus])
    s = np.flatnonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)
    if not s.size:
        raise InputError(f"{where}: no eigenvalue found below ν = 60 (ξ_c = {xi:.3g}); the "
                         f"target is too far on the wrong side.")
    i = s[0]
    nu = brentq(f, nus[i], nus[i + 1], xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    return k * nu
