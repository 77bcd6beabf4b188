"""Exact 1D references by quadrature: stationary densities, first-passage times, committors.

Conventions (:doc:`/theory/conventions`). The Itô SDE dX = b dt + sqrt(2D) dW, time t = k·η for
SGD. For a scalar D the flux J = b p − D^α (D^(1−α) p)′ with α = 0 "ito", ½ "stratonovich", 1
"isothermal"; each equals the Itô process with drift b + α D′. Everything here is built from

    ψ(x) = ∫_lo^x b/D,   speed density m = D^(α−1) e^ψ,   scale density s = D^(−α) e^(−ψ),

(for b = −U′ and constant D, m ∝ e^(−U/D)/D and s = e^(U/D)), so no derivative of D is ever
needed: the α D′/D in the effective Itô drift integrates to α log D exactly.

* zero-flux stationary density:  p ∝ m = D^(α−1) exp(∫ b/D)
* generator A f = (b + αD′) f′ + D f″ = (1/m) (f′/s)′
* mean first-passage time (reflecting at ℓ, absorbing at c, ℓ < x₀ < c; see
  :doc:`/theory/conventions`):

      E τ(x₀) = ∫_{x₀}^{c} dy s(y) ∫_ℓ^y dz m(z)

  (for Itô, s = e^Φ and m = e^(−Φ)/D with Φ = ∫ U′/D, exactly the printed formula);
  second moment from A τ₂ = −2 τ₁ with the same boundary conditions.
* two absorbing ends l < x₀ < u: Green's function G(x, z) = S_l(min) S_r(max) / S_tot with
  S_l(x) = ∫_l^x s, S_r(x) = ∫_x^u s; E τ(x) = ∫ G(x, z) m(z) dz, committor P_u(x) = S_l(x)/S_tot.
  Every term is positive, so nothing cancels.

Numerics (see ``_panels.py``): adaptive composite 16-point Gauss–Legendre panels, spectral
in-panel cumulative integration, and log-sum-exp across panels, so barriers ΔU/D of 100 and more
(e^100 factors) are handled without overflow. Accuracy: relative error ≤ 1e-9 for smooth
coefficients (≈1e-12 typical). Cost: about ½∫|b|/D panels (ΔU/D = 100: a few hundred panels,
~10 ms); beyond ∫|b|/D ≈ 2e5 the call is refused with InputError (use the asymptotic formulas). Coefficients that are discontinuous or kinked inside the interval
should have the kinks passed as ``breakpoints``. Results report logs (``log_mean`` …) so that
times of order e^100 and beyond stay usable.

Infinite ends (``-np.inf`` / ``np.inf``) are accepted where the integrals converge: the
stationary density and basin probabilities on a half-line or the line (a natural boundary with a
normalisable law), the mean first-passage time with the reflecting end at ±∞, and the committor
with an absorbing end at ±∞ (an end of finite scale, e.g. an exit). The finite part is integrated
on the panels; each tail by the substitution x = X ± ℓ(e^v − 1) on panels of its own, continued
as an exact power law beyond |x| = 1e30 (``log_tail_integral`` of the panels): a
Student-t or Mori et al.'s L^(−φ) with φ = 1.05 (tails |x|^(−2.1)) to ~1e-14, with no box.

Coefficients: give the drift ``drift`` = b(x), or the potential's derivative
``potential_derivative`` = U′(x) (then b = −U′), and ``diffusion`` = D(x) (callable or number).
Callables must accept numpy arrays.
"""
from dataclasses import dataclass

import numpy as np

from ..conventions import alpha_of
from ..errors import InputError
from ._checks import (breakpoints_array, drift_of, finite, finite_core, interval,
                      interval_to_infinity, mirror, points_inside)
from ._panels import IntervalGreen, PanelGrid, evaluate, log_tail_integral

__all__ = [
    "StationaryDensity1D", "FirstPassage1D", "Splitting1D", "BasinProbabilities1D",
    "stationary_density_1d", "mfpt_1d", "mfpt_interval_1d", "splitting_probability_1d",
    "basin_probabilities_1d", "effective_ito_drift",
]


# ---------------------------------------------------------------------------------------------
# result objects
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StationaryDensity1D:
    """Normalised zero-flux density on [lower, upper] at the points ``x``.

    ``log_density`` is exact in log form (use it where ``density`` underflows);
    ``log_normaliser`` = log ∫ D^(α−1) e^ψ dx with ψ(lower) = 0.
    """
    x: np.ndarray
    density: np.ndarray
    log_density: np.ndarray
    log_normaliser: float
    convention: str


@dataclass(frozen=True)
class FirstPassage1D:
    """First-passage moments from the starting points ``x0`` (time units of the SDE, t = k·η).

    ``mean`` = E τ, ``second_moment`` = E τ², ``variance`` = E τ² − (E τ)²; each with its log
    (``log_mean`` … is finite where the plain value overflows). Second-moment fields are NaN unless
    requested.
    """
    x0: np.ndarray
    mean: np.ndarray
    log_mean: np.ndarray
    second_moment: np.ndarray
    log_second_moment: np.ndarray
    variance: np.ndarray
    log_variance: np.ndarray
    convention: str


@dataclass(frozen=True)
class Splitting1D:
    """Committor between two absorbing points: probabilities to hit ``upper`` / ``lower`` first."""
    x0: np.ndarray
    to_upper: np.ndarray
    to_lower: np.ndarray
    log_to_upper: np.ndarray
    log_to_lower: np.ndarray


@dataclass(frozen=True)
class BasinProbabilities1D:
    """Stationary mass of the segments [edges[i], edges[i+1]] (edges = lower, splits…, upper)."""
    edges: np.ndarray
    probabilities: np.ndarray
    log_probabilities: np.ndarray
    convention: str


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _moments(log_m1, log_m2, x0, convention):
    """Assemble FirstPassage1D from log E τ and log E τ² (NaN when the latter is absent)."""
    mean = np.exp(log_m1)
    if log_m2 is None:
        nan = np.full_like(log_m1, np.nan)
        return FirstPassage1D(x0, mean, log_m1, nan, nan, nan, nan, convention)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        ratio_m1 = np.expm1(log_m2 - 2 * log_m1)  # Var/τ₁² = τ₂/τ₁² − 1, formed without overflow
        log_var = np.where(ratio_m1 > 0, 2 * log_m1 + np.log(ratio_m1), np.nan)
    return FirstPassage1D(x0, mean, log_m1, np.exp(log_m2), log_m2, np.exp(log_var), log_var,
                          convention)


# ---------------------------------------------------------------------------------------------
# public functions
# ---------------------------------------------------------------------------------------------
def stationary_density_1d(x, lower, upper, *, drift=None, potential_derivative=None,
                          diffusion=1.0, convention="ito", breakpoints=None):
    """Zero-flux (reflecting) stationary density on [lower, upper], normalised, at points ``x``.

    p(x) = D^(α−1) exp(∫_lower^x b/D) / Z   (:doc:`/theory/conventions`; Itô α = 0: p ∝ D⁻¹
    exp(−∫ U′/D)).

    Parameters: ``x`` points in [lower, upper] (any shape); ``lower``, ``upper`` may be −inf,
    +inf (a normalisable law on a half-line or the line; heavy tails included, see the module
    doc); ``drift`` b or ``potential_derivative`` U′; ``diffusion`` D > 0; ``convention`` "ito" |
    "stratonovich" | "isothermal".
    Returns :class:`StationaryDensity1D` (density and its log, exact in log form;
    ``log_normaliser`` with ψ = 0 at the lower end of the finite part when an end is infinite).
    """
    where = "stationary_density_1d"
    lo, hi = interval_to_infinity(lower, upper, where)
    alpha = alpha_of(convention, where)
    b = drift_of(drift, potential_derivative, where)
    x = points_inside(x, lo, hi, "x", where)
    brk = breakpoints_array(breakpoints, where)
    a, c = finite_core(lo, hi, np.concatenate([x.ravel(), brk]))
    grid = PanelGrid(a, c, np.concatenate([x.ravel(), brk]), b, diffusion, alpha, where)
    lm_nodes, lm_edges = grid.log_speed()
    parts = [np.logaddexp.reduce(grid.log_panel_integrals(lm_nodes))]
    parts += _tails(grid, lo, hi, b, diffusion, alpha, "speed", where)
    log_z = float(np.logaddexp.reduce(parts))
    if not np.isfinite(log_z):
        raise InputError(f"{where}: the zero-flux law is not normalisable on ({lo}, {hi}): its "
                         f"density does not decay fast enough towards an infinite end.")
    logp = lm_edges[grid.index(x.ravel())].reshape(x.shape) - log_z
    return StationaryDensity1D(x, np.exp(logp), logp, log_z, convention)


def _tails(grid, lo, hi, b, diffusion, alpha, density, where):
    """log ∫ of the speed (or scale) density over the tails beyond the panels' finite part,
    in the panels' normalisation (ψ = 0 at grid.edges[0]); empty for finite ends."""
    out = []
    sign = 1.0 if density == "speed" else -1.0
    for end, side, k in ((lo, -1, 0), (hi, 1, -1)):
        if np.isfinite(end):
            continue
        X = float(grid.edges[k])
        out.append(sign * grid.psi_edges[k] + log_tail_integral(X, side, b, diffusion, alpha,
                                                                 density, where))
    return out


def mfpt_1d(x0, target, reflect, *, drift=None, potential_derivative=None, diffusion=1.0,
            convention="ito", second_moment=False, breakpoints=None):
    """Mean (and optionally second moment of the) first-passage time to an absorbing point.

    The process starts at ``x0`` (scalar or array), is absorbed at ``target`` and reflected at
    ``reflect``; either order works (reflect < x0 ≤ target or target ≤ x0 < reflect).
    ``reflect`` may be −inf or +inf (a natural boundary: the inner integral runs to infinity,
    which needs a normalisable speed density there; mean only). A target at infinity (an exit
    boundary) is not taken here: for the quadratic integrate-and-fire neuron see
    :func:`fpsolve.theory.qif_passage_time`.
    E τ(x₀) = ∫_{x₀}^{c} s(y) ∫_ℓ^y m(z) dz dy (:doc:`/theory/conventions`, generalised to any α
    through the effective Itô drift); E τ² solves A τ₂ = −2 E τ with the same boundary conditions.

    Returns :class:`FirstPassage1D`; times in the SDE's units (t = k·η for SGD). Use
    ``log_mean`` when E τ may exceed 1e308.

    Examples
    --------
    The double well U = (x² − 1)²/4 with D = 0.04, from −1 to 1, reflecting at −2:

    >>> from fpsolve.theory import mfpt_1d
    >>> r = mfpt_1d(-1.0, 1.0, -2.0, potential_derivative=lambda x: x**3 - x, diffusion=0.04)
    >>> print(f"E τ = {float(r.mean):.1f}")
    E τ = 2483.0
    """
    where = "mfpt_1d"
    alpha = alpha_of(convention, where)
    c = finite(target, "target", where)
    try:
        r = float(reflect)
    except (TypeError, ValueError):
        raise InputError(f"{where}: reflect must be a real number or ±inf, got "
                         f"{reflect!r}.") from None
    if np.isnan(r):
        raise InputError(f"{where}: reflect is NaN.")
    if c == r:
        raise InputError(f"{where}: target and reflect must differ (both are {c}).")
    if not np.isfinite(r) and second_moment:
        raise InputError(f"{where}: the second moment with the reflecting end at infinity is not "
                         f"available; use a finite reflecting end far out.")
    b = drift_of(drift, potential_derivative, where)
    brk = breakpoints_array(breakpoints, where)
    x0 = points_inside(x0, min(c, r), max(c, r), "x0", where)
    if c < r:  # mirror x → −x so that the reflecting end is on the left
        b, diffusion = mirror(b, -1.0), mirror(diffusion, 1.0)
        c, r, xs, brk = -c, -r, -x0, -brk
    else:
        xs = x0
    a, _ = finite_core(r, c, np.concatenate([xs.ravel(), brk]))
    grid = PanelGrid(a, c, np.concatenate([xs.ravel(), brk]), b, diffusion, alpha, where)
    lm, _ = grid.log_speed()
    ls, _ = grid.log_scale()
    idx = grid.index(xs.ravel())
    # the speed measure beyond the panels (a reflecting end at −∞): ∫_{−∞}^a m
    log_tail = float(np.logaddexp.reduce(
        _tails(grid, r, c, b, diffusion, alpha, "speed", where) or [-np.inf]))
    if not np.isfinite(log_tail) and log_tail > 0:
        raise InputError(f"{where}: the speed measure is not integrable towards the reflecting "
                         f"end at infinity, so the mean first-passage time is infinite.")

    def solve(log_source):  # u(x) = ∫_x^c s(y) ∫_ℓ^y m(z) f(z) dz dy, from log f at the nodes
        inner, _ = grid.log_cumulative(lm + log_source)
        inner = np.logaddexp(inner, log_tail)  # f = 1 in the tail (mean only)
        return grid.log_cumulative(ls + inner, reverse=True)

    t1_nodes, t1_edges = solve(0.0)
    log_m2 = None
    if second_moment:
        _, t2_edges = solve(np.log(2.0) + t1_nodes)
        log_m2 = t2_edges[idx].reshape(x0.shape)
    return _moments(t1_edges[idx].reshape(x0.shape), log_m2, x0, convention)


def mfpt_interval_1d(x0, lower, upper, *, drift=None, potential_derivative=None, diffusion=1.0,
                     convention="ito", second_moment=False, breakpoints=None):
    """Mean (and second moment of the) exit time from (lower, upper), both ends absorbing.

    E τ(x) = ∫ G(x, z) m(z) dz with the Dirichlet Green's function
    G(x, z) = S_l(min(x, z)) S_r(max(x, z)) / S_tot of the generator (1/m)(f′/s)′; E τ² from
    A τ₂ = −2 E τ. All terms are positive (no cancellation). Returns :class:`FirstPassage1D`.
    """
    where = "mfpt_interval_1d"
    alpha = alpha_of(convention, where)
    lo, hi = interval(lower, upper, where)
    b = drift_of(drift, potential_derivative, where)
    x0 = points_inside(x0, lo, hi, "x0", where)
    grid = PanelGrid(lo, hi, np.concatenate([x0.ravel(), breakpoints_array(breakpoints, where)]), b,
                     diffusion, alpha, where)
    solve = IntervalGreen(grid).solve
    idx = grid.index(x0.ravel())

    t1_nodes, t1_edges = solve(0.0)
    log_m2 = None
    if second_moment:
        _, t2_edges = solve(np.log(2.0) + t1_nodes)
        log_m2 = t2_edges[idx].reshape(x0.shape)
    return _moments(t1_edges[idx].reshape(x0.shape), log_m2, x0, convention)


def splitting_probability_1d(x0, lower, upper, *, drift=None, potential_derivative=None,
                             diffusion=1.0, convention="ito", breakpoints=None):
    """Committor: probability to reach ``upper`` before ``lower`` from x0 (both absorbing).

    P_upper(x) = ∫_lower^x s / ∫_lower^upper s, P_lower = ∫_x^upper s / ∫ s (each computed
    directly, so a tiny probability keeps its relative accuracy). Returns :class:`Splitting1D`.
    ``lower`` / ``upper`` may be ∓inf: "reaching ±∞" (first, in the limit of far targets), of
    probability 0 when the scale integral diverges there (an end the process does not go to).
    """
    where = "splitting_probability_1d"
    alpha = alpha_of(convention, where)
    lo, hi = interval_to_infinity(lower, upper, where)
    b = drift_of(drift, potential_derivative, where)
    x0 = points_inside(x0, lo, hi, "x0", where)
    brk = breakpoints_array(breakpoints, where)
    a, c = finite_core(lo, hi, np.concatenate([x0.ravel(), brk]))
    grid = PanelGrid(a, c, np.concatenate([x0.ravel(), brk]), b, diffusion, alpha, where)
    ls, _ = grid.log_scale()
    _, sl_e = grid.log_cumulative(ls)
    _, sr_e = grid.log_cumulative(ls, reverse=True)
    t_lo = t_hi = -np.inf
    if not np.isfinite(lo):
        t_lo = log_tail_integral(a, -1, b, diffusion, alpha, "scale", where)
    if not np.isfinite(hi):
        t_hi = -grid.psi_edges[-1] + log_tail_integral(c, 1, b, diffusion, alpha, "scale", where)
    if np.isinf(t_lo) and t_lo > 0 and np.isinf(t_hi) and t_hi > 0:
        raise InputError(f"{where}: the scale integral diverges at both infinite ends: the "
                         f"process reaches neither (a recurrent diffusion).")
    sl_e = np.logaddexp(sl_e, t_lo)
    sr_e = np.logaddexp(sr_e, t_hi)
    log_tot = float(np.logaddexp(sl_e[-1], t_hi))
    idx = grid.index(x0.ravel())
    with np.errstate(invalid="ignore"):
        lu = np.where(np.isinf(log_tot), -np.inf, sl_e[idx] - log_tot).reshape(x0.shape)
        ll = np.where(np.isinf(log_tot), 0.0, sr_e[idx] - log_tot).reshape(x0.shape)
    if np.isinf(t_lo) and t_lo > 0:  # the lower end is never reached
        lu, ll = np.zeros(x0.shape), np.full(x0.shape, -np.inf)
    return Splitting1D(x0, np.exp(lu), np.exp(ll), lu, ll)


def basin_probabilities_1d(split_points, lower, upper, *, drift=None, potential_derivative=None,
                           diffusion=1.0, convention="ito", breakpoints=None):
    """Stationary (zero-flux) probabilities of the segments of [lower, upper] cut at split_points.

    Typically the split points are the saddles (maxima of U), so the segments are the basins.
    ``lower`` / ``upper`` may be ∓inf (a normalisable law; the tails join the outer segments).
    Returns :class:`BasinProbabilities1D` with len(split_points) + 1 probabilities summing to 1.
    """
    where = "basin_probabilities_1d"
    alpha = alpha_of(convention, where)
    lo, hi = interval_to_infinity(lower, upper, where)
    b = drift_of(drift, potential_derivative, where)
    s = np.sort(points_inside(np.atleast_1d(split_points), lo, hi, "split point", where))
    brk = breakpoints_array(breakpoints, where)
    a, c = finite_core(lo, hi, np.concatenate([s, brk]))
    grid = PanelGrid(a, c, np.concatenate([s, brk]), b, diffusion, alpha, where)
    lm, _ = grid.log_speed()
    lp = grid.log_panel_integrals(lm)
    cuts = np.concatenate([[0], grid.index(s), [grid.edges.size - 1]])
    logp = np.array([np.logaddexp.reduce(lp[i:j]) if j > i else -np.inf
                     for i, j in zip(cuts[:-1], cuts[1:])])
    if not np.isfinite(lo):
        logp[0] = np.logaddexp(logp[0], log_tail_integral(a, -1, b, diffusion, alpha, "speed",
                                                          where))
    if not np.isfinite(hi):
        logp[-1] = np.logaddexp(logp[-1], grid.psi_edges[-1] + log_tail_integral(
            c, 1, b, diffusion, alpha, "speed", where))
    if not np.all(np.isfinite(logp) | (logp < 0)):
        raise InputError(f"{where}: the zero-flux law is not normalisable on ({lo}, {hi}).")
    logp -= np.logaddexp.reduce(logp)
    return BasinProbabilities1D(np.concatenate([[lo], s, [hi]]), np.exp(logp), logp, convention)


def effective_ito_drift(drift, diffusion, convention, d_diffusion=None):
    """The Itô drift b + α D′ equivalent to (b, D) in the given convention, as a callable.

    :doc:`/theory/conventions`: J = b p − D^α ∇(D^(1−α) p) is the Itô process with drift b + α D′.
    D′ is taken from ``d_diffusion`` if given, else by a fourth-order central difference with step
    h = 1e-3·max(1, |x|) (truncation ~h⁴ D⁽⁵⁾, round-off ~1e-13·|D|/h: about 1e-10 relative for
    smooth D of unit scale). Not needed by the quadratures here, which use α log D exactly.
    """
    alpha = alpha_of(convention, "effective_ito_drift")

    def d_of(x):
        x = np.asarray(x, dtype=float)
        if d_diffusion is not None:
            return evaluate(d_diffusion, x, "d_diffusion", "effective_ito_drift")
        if not callable(diffusion):
            return np.zeros_like(x)
        h = 1e-3 * np.maximum(1.0, np.abs(x))
        f = lambda y: evaluate(diffusion, y, "diffusion", "effective_ito_drift")
        return (8 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12 * h)

    def b_ito(x):
        x = np.asarray(x, dtype=float)
        return evaluate(drift, x, "drift", "effective_ito_drift") + alpha * d_of(x)

    return b_ito
