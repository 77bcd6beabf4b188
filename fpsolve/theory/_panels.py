"""Composite Gauss–Legendre panels with log-space cumulative integration (engine of quadrature.py).

Every 1D reference in :mod:`fpsolve.theory.quadrature` is a nest of integrals of the scale density
s = D^(−α) e^(−ψ) and the speed density m = D^(α−1) e^(ψ), ψ(x) = ∫_lo^x b/D. With barriers
ΔU/D ~ 100 these span e^(±100), so they are integrated in log form: each panel carries its own
exponent shift c_k = max log f, the in-panel cumulative integral of exp(log f − c_k) is spectral
(the interpolating polynomial through 16 Gauss–Legendre nodes, integrated exactly), and panels are
joined with logaddexp. Nothing of size e^(|ψ|) is ever formed.

Panels are refined until, on every panel,
  * b/D and log D are resolved (their two highest Legendre coefficients are below 1e-13·(1/h)
    and 1e-12 respectively), and
  * ψ and log D vary by at most 2 across the panel, so that exp(log f − c_k) ∈ [e^(−4), 1] is a
    well-conditioned polynomial-like function (degree-15 interpolation error of e^t over an
    interval of length 4 is below 1e-12).
For smooth coefficients this gives relative errors ~1e-12 in densities and first-passage times
(checked against mpmath in tests/theory/test_quadrature.py); the stated accuracy is 1e-9.
"""
import numpy as np
from numpy.polynomial import legendre as _leg

from ..errors import InputError

N_NODES = 16
_X, _W = _leg.leggauss(N_NODES)
_VINV = np.linalg.inv(_leg.legvander(_X, N_NODES - 1))
# (S f)_i = ∫_{−1}^{x_i} of the interpolant through (x_j, f_j): spectral cumulative integration.
_S = np.stack([_leg.legval(_X, _leg.legint(np.eye(N_NODES)[k], lbnd=-1))
               for k in range(N_NODES)], axis=1) @ _VINV
# ∫_{x_i}^{1}: the same matrix on the mirrored panel (the nodes are symmetric), no cancellation.
_SR = _S[::-1, ::-1]

_TOL_PSI = 1e-13      # estimated absolute error of ∫ b/D over one panel
_TOL_LOGD = 1e-12     # estimated absolute error of the interpolant of log D
_MAX_VARIATION = 2.0  # largest change of ψ or log D across a panel


def evaluate(fn, x, name, where):
    """Call a user coefficient on an array (a number is a constant); check shape and finiteness."""
    if callable(fn):
        try:
            y = fn(x)
        except Exception as exc:  # a scalar-only callable: fall back to element-wise calls
            try:
                y = np.vectorize(fn, otypes=[float])(x)
            except Exception:
                raise InputError(f"{where}: calling {name} on an array of points failed ({exc}); "
                                 f"{name} must accept a numpy array of x values.") from exc
    else:
        y = fn
    y = np.asarray(y, dtype=float)
    try:
        y = np.broadcast_to(y, np.shape(x)).astype(float)
    except ValueError:
        raise InputError(f"{where}: {name} returned shape {y.shape} for input of shape "
                         f"{np.shape(x)}; it must return one value per point.") from None
    if not np.all(np.isfinite(y)):
        bad = np.asarray(x)[~np.isfinite(y)].ravel()[:3]
        raise InputError(f"{where}: {name} is not finite at x = {bad}; restrict the interval or "
                         "regularise the coefficient.")
    return y


class PanelGrid:
    """Adaptive Gauss–Legendre panels on [lo, hi] carrying ψ = ∫_lo^x b/D and log D.

    ``points`` become panel edges, so every quantity is available exactly there (no
    interpolation). ``alpha`` is the convention (0 Itô, ½ Stratonovich, 1 isothermal): the speed
    density is m = D^(α−1) e^ψ and the scale density s = D^(−α) e^(−ψ); no derivative of D is needed
    because α∫D′/D = α log D exactly.
    """

    def __init__(self, lo, hi, points, drift, diffusion, alpha, where, min_panels=48,
                 max_panels=100_000):
        self.where = where
        self.alpha = float(alpha)
        pts = np.asarray(points, dtype=float).ravel()
        pts = pts[(pts > lo) & (pts < hi)]
        edges = np.unique(np.concatenate([np.linspace(lo, hi, min_panels + 1), pts, [lo, hi]]))
        max_panels = max(max_panels, 4 * edges.size)
        min_width = 1e-12 * (hi - lo)
        while True:
            mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * np.diff(edges)
            X = mid[:, None] + half[:, None] * _X
            D = evaluate(diffusion, X, "diffusion", where)
            if np.any(D <= 0):
                raise InputError(f"{where}: diffusion must be > 0 on [{lo}, {hi}]; it is "
                                 f"{D.min():.3g} at x = {X.ravel()[np.argmin(D)]:.6g}.")
            f = evaluate(drift, X, "drift", where) / D
            logD = np.log(D)
            tail_f = np.abs(f @ _VINV[-2:].T).sum(axis=1)
            tail_l = np.abs(logD @ _VINV[-2:].T).sum(axis=1)
            variation = np.maximum(2 * half * np.abs(f).max(axis=1), np.ptp(logD, axis=1))
            bad = ((half * tail_f > _TOL_PSI) | (tail_l > _TOL_LOGD)
                   | (variation > _MAX_VARIATION)) & (2 * half > min_width)
            if not bad.any():
                break
            # a panel over which ψ varies by V is cut into ⌈V/2⌉ pieces at once, others in halves
            pieces = np.maximum(2, np.ceil(variation[bad] / _MAX_VARIATION)).astype(int)
            if edges.size + pieces.sum() > max_panels:
                raise InputError(
                    f"{where}: could not resolve drift/diffusion with {max_panels} panels. Either "
                    "the coefficients are singular or discontinuous inside the interval (pass the "
                    "kinks as `breakpoints`, or regularise), or ∫|b|/D over the interval (about "
                    f"{float(np.sum(2 * half * np.abs(f).max(axis=1))):.3g}, i.e. the barrier over "
                    "D) is too large for quadrature: use the asymptotic formulas there.")
            cuts = [np.linspace(edges[i], edges[i + 1], k + 1)[1:-1]
                    for i, k in zip(np.flatnonzero(bad), pieces)]
            edges = np.sort(np.concatenate([edges, *cuts]))
        self.edges, self.half, self.nodes = edges, half, X
        dpsi = half * (f @ _W)
        self.psi_edges = np.concatenate([[0.0], np.cumsum(dpsi)])
        self.psi_nodes = self.psi_edges[:-1, None] + half[:, None] * (f @ _S.T)
        self.logD_nodes = logD
        De = evaluate(diffusion, edges, "diffusion", where)
        if np.any(De <= 0):
            raise InputError(f"{where}: diffusion must be > 0 on [{lo}, {hi}]; it is "
                             f"{De.min():.3g} at x = {edges[np.argmin(De)]:.6g}.")
        self.logD_edges = np.log(De)

    # -- densities --------------------------------------------------------------------------------
    def log_speed(self):
        """log m = ψ + (α−1) log D at (nodes, edges): the unnormalised stationary density."""
        a = self.alpha - 1.0
        return self.psi_nodes + a * self.logD_nodes, self.psi_edges + a * self.logD_edges

    def log_scale(self):
        """log s = −ψ − α log D at (nodes, edges): the scale density, s = 1/(D m)."""
        a = self.alpha
        return -self.psi_nodes - a * self.logD_nodes, -self.psi_edges - a * self.logD_edges

    def index(self, x):
        """Indices of edges equal to the points x (which were passed as ``points``)."""
        x = np.asarray(x, dtype=float)
        i = np.clip(np.searchsorted(self.edges, x), 0, self.edges.size - 1)
        if not np.array_equal(self.edges[i], x):
            raise RuntimeError("internal: a requested point is not a panel edge")
        return i

    # -- log-space integration --------------------------------------------------------------------
    def log_cumulative(self, g, reverse=False):
        """log of ∫_lo^x e^g (or ∫_x^hi e^g if ``reverse``) at the nodes (K, n) and edges (K+1,)."""
        g = np.asarray(g, dtype=float)
        c = np.max(g, axis=1)
        c = np.where(np.isfinite(c), c, 0.0)
        with np.errstate(divide="ignore", under="ignore"):
            f = np.exp(g - c[:, None])
            part = self.half[:, None] * (f @ (_SR if reverse else _S).T)
            log_part = np.log(np.maximum(part, 0.0)) + c[:, None]
            log_tot = np.log(self.half * (f @ _W)) + c
        if reverse:
            acc = np.logaddexp.accumulate(log_tot[::-1])[::-1]
            log_edges = np.concatenate([acc, [-np.inf]])
            log_nodes = np.logaddexp(log_edges[1:, None], log_part)
        else:
            acc = np.logaddexp.accumulate(log_tot)
            log_edges = np.concatenate([[-np.inf], acc])
            log_nodes = np.logaddexp(log_edges[:-1, None], log_part)
        return log_nodes, log_edges

    def log_panel_integrals(self, g):
        """log ∫ e^g over each panel, shape (K,) (−inf for a panel where g ≡ −inf)."""
        c = np.max(g, axis=1)
        c = np.where(np.isfinite(c), c, 0.0)
        with np.errstate(divide="ignore", under="ignore"):
            return np.log(self.half * (np.exp(g - c[:, None]) @ _W)) + c


# ---------------------------------------------------------------------------------------------
# tails to ±∞
# ---------------------------------------------------------------------------------------------
#: Tails are integrated out to |x − X| = ℓ·e^V_MAX (ℓ = 1 + |X|), then continued as a power law.
V_MAX = float(np.log(1e30))
#: A tail is cut where its log-integrand has fallen this far below its maximum (e^−80 ≈ 2e−35).
TAIL_DROP = 80.0
_SCAN = 4097  # points of the coarse scan that places the cut


def log_tail_integral(X, side, drift, diffusion, alpha, density, where):
    """log ∫ f dx over the tail from X to −∞ (``side`` = −1) or +∞ (+1), with f the speed density
    m = D^(α−1) e^ψ (``density`` = "speed") or the scale density s = D^(−α) e^(−ψ) ("scale"),
    ψ(x) = ∫_X^x b/D (so ψ(X) = 0). +inf when the integral diverges.

    Method. The substitution x = X + side·ℓ(e^v − 1), ℓ = 1 + |X|, turns the tail into v ∈ [0, ∞)
    and a power-law tail |x|^(−β−1) into e^(−βv); the diffusion in v, D/x′² with the Itô drift
    of the convention carried along (:mod:`fpsolve.coefficients.mapped` does the same for the
    solver), makes the panels' speed and scale densities those of x times |x′|, so the panels of
    :class:`PanelGrid` integrate it in log space as they do a finite interval. A coarse scan
    first places the end V of the panels where the integrand has fallen by ``TAIL_DROP`` below
    its maximum (Gaussian-like tails end within a few units of v); if it has not by
    v = ``V_MAX`` (|x − X| = 1e30 ℓ), the rest is the power law continued exactly,
    ∫_V^∞ e^(g(V) − β(v−V)) dv = e^(g(V))/β, with β the log-slope on the last panel: exact for
    tails that are power laws up to corrections O(|x|^−1) at 1e30 (Student-t, Mori et al.'s
    L^(−φ)). A tail that does not decay by then (β ≤ 1e-3) diverges: +inf.
    """
    side = 1.0 if side > 0 else -1.0
    ell = 1.0 + abs(float(X))
    sign = 1.0 if density == "speed" else -1.0

    def x_of(v):
        return X + side * ell * np.expm1(v)

    def jac(v):  # |x′(v)|
        return ell * np.exp(v)

    def D_v(v):
        return evaluate(diffusion, x_of(v), "diffusion", where) / jac(v) ** 2

    def b_v(v):  # Itô drift in v: ψ̃′ = (b/D)·x′ + (2α − 1)·x″/x′, x″/x′ = 1
        x = x_of(v)
        f = evaluate(drift, x, "drift", where) / evaluate(diffusion, x, "diffusion", where)
        return D_v(v) * (f * side * jac(v) + (2.0 * alpha - 1.0))

    v_end = _tail_end(x_of, jac, drift, diffusion, alpha, side, sign)
    if v_end is None:
        return np.inf
    grid = PanelGrid(0.0, v_end, np.array([]), b_v, D_v, alpha, where)
    lg, lg_edges = grid.log_speed() if density == "speed" else grid.log_scale()
    total = float(np.logaddexp.reduce(grid.log_panel_integrals(lg)))
    if v_end >= V_MAX:
        slope = (lg_edges[-1] - lg_edges[-2]) / (grid.edges[-1] - grid.edges[-2])
        if not -slope > 1e-3:
            return np.inf
        total = float(np.logaddexp(total, lg_edges[-1] - np.log(-slope)))
    # the panels start ψ̃ at 0 where ψ̃ = ψ + (2α − 1) log|x′| has (2α − 1) log ℓ: put it back
    return total - sign * (1.0 - 2.0 * alpha) * np.log(ell)


def _tail_end(x_of, jac, drift, diffusion, alpha, side, sign):
    """Where to end the tail's panels (≤ V_MAX), from a coarse trapezoid scan of the log
    integrand g(v); None when g keeps growing to V_MAX (a divergent integral). Coefficients
    that overflow far out end the scan there."""
    v = np.linspace(0.0, V_MAX, _SCAN)
    x = x_of(v)
    with np.errstate(all="ignore"):
        b = np.asarray(drift(x) if callable(drift) else np.full_like(x, drift), dtype=float)
        D = np.asarray(diffusion(x) if callable(diffusion) else np.full_like(x, diffusion),
                       dtype=float)
        b, D = np.broadcast_to(b, x.shape), np.broadcast_to(D, x.shape)
        ok = np.isfinite(b) & np.isfinite(D) & (D > 0)
        n_ok = int(np.argmin(ok)) if not ok.all() else ok.size
        if n_ok < 2:
            raise InputError("the coefficients are not finite just beyond the finite part of the "
                             "interval; an infinite end needs coefficients defined out to ±∞.")
        v, b, D = v[:n_ok], b[:n_ok], D[:n_ok]
        dpsi = b / D * side * jac(v)
        psi = np.concatenate([[0.0], np.cumsum(0.5 * (dpsi[1:] + dpsi[:-1]) * np.diff(v))])
        Dv = np.log(D) - 2.0 * np.log(jac(v))
        psi_t = psi + (2.0 * alpha - 1.0) * v
        g = sign * psi_t + ((alpha - 1.0) if sign > 0 else -alpha) * Dv
    g = np.where(np.isfinite(g), g, -np.inf)
    high = np.flatnonzero(g >= np.maximum.accumulate(g)[-1] - TAIL_DROP)
    last = int(high[-1]) if high.size else 0
    if last >= v.size - 1:
        if v.size < _SCAN:  # the coefficients overflowed before the integrand fell
            raise InputError("the coefficients overflow before the tail's integrand has "
                             "decayed; regularise them at large |x| or use a finite interval.")
        if g[-1] >= g[-2]:
            return None
        return V_MAX
    return float(min(V_MAX, v[min(last + 8, v.size - 1)]))


class IntervalGreen:
    """The Dirichlet Green's function of the generator on (lo, hi), both ends absorbing, on the
    panels of ``grid``: G(x, z) = S_l(min(x, z)) S_r(max(x, z)) / S_tot with S_l, S_r the scale
    function's integrals from each end, in log space (every term positive, no cancellation).

    ``sl``/``sr`` — (nodes, edges) of log S_l and log S_r; ``log_total`` — log S_tot;
    :meth:`solve` — log ∫ G(x, z) m(z) f(z) dz at nodes and edges for log f on the nodes.
    """

    def __init__(self, grid: PanelGrid):
        self.grid = grid
        self.log_m, _ = grid.log_speed()
        ls, _ = grid.log_scale()
        self.sl = grid.log_cumulative(ls)
        self.sr = grid.log_cumulative(ls, reverse=True)
        self.log_total = self.sl[1][-1]

    def solve(self, log_source):
        """(nodes, edges) of log ∫ G(·, z) m(z) e^{log_source(z)} dz."""
        g = self.grid
        (sl_n, sl_e), (sr_n, sr_e) = self.sl, self.sr
        a_n, a_e = g.log_cumulative(sl_n + self.log_m + log_source)
        b_n, b_e = g.log_cumulative(sr_n + self.log_m + log_source, reverse=True)
        return (np.logaddexp(sr_n + a_n, sl_n + b_n) - self.log_total,
                np.logaddexp(sr_e + a_e, sl_e + b_e) - self.log_total)

