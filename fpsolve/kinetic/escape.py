r"""First passage of the position: mean first-passage times, committors and escape rates.

The process is killed when X enters a target set of positions
(:mod:`fpsolve.kinetic.positions`): the target cells (every velocity of the target x cells) are
removed from the generator, the x-faces into them are upwinded (the mass that crosses leaves;
nothing comes back), and rates into them stay on the diagonal as loss. With K = −L_Sᵀ the backward operator on the kept cells S, the mean
first-passage time solves K τ = 1, the committor K q = (rates into B).

Behind a barrier ΔU/T ≳ 20 a plain LU of K loses the answer to cancellation (the level of τ in
the well is set by a leak e^(−ΔU/T) times smaller than the rates; see
:mod:`fpsolve.escape.green` for the overdamped analysis). The same exact reduction is used here:
the most probable cell of every well deeper than ``trap_depth`` (in units of Φ = −log π along
x, π the stationary density) becomes a *trap*, the remaining cells S′ are solved by one sparse LU
(no deep well is left in S′), and the traps are coupled by the renewal (strong Markov) identities

    u = w + Σ_m h_m u(m),   u(m) = Σ_y G_m(y) F(y) + Σ_m′ Q_mm′ u(m′),

with G_m = a_m / Z_m, a_m the occupation of S′ after one jump out of m, and Z_m the probability
flux from m into the target and the other traps, summed from positive terms; the small k×k system
is solved by Grassmann–Taksar–Heyman elimination (:func:`fpsolve.escape.gth_solve`) when its
entries are non-negative (always for the "upwind" scheme), else by a dense LU.

Diagnostics (``info`` of every result): the normwise backward error; the *balance defects* —
the relative violations of Σ_B π (K u − F) = 0 over S and over the basin of every trap, written
with the edges that leave B only (stationarity of π), which a wrong level of u inside a well
breaks at O(1); and, since the "central" scheme has no maximum principle, ``min_value`` and the
π-weighted share of negative values. ``accurate`` is False (and a RuntimeWarning says so) when a
balance defect exceeds 1e-6, the backward error 1e-8, or the negative share 1e-6.

Time unit: the model's t (for heavy-ball SGD t = k√η).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, SolverError
from ..escape import gth_solve
from ..fields.field import Density, Field
from .linalg import GridLU
from .scheme import TAIL
from .positions import phase_point, position_mask

#: wells deeper than this (in Φ = −log π) are reduced to traps (as in fpsolve.escape)
TRAP_DEPTH = 3.0
BALANCE_TOL = 1e-6
NEGATIVE_TOL = 1e-6
#: log-units between the highest barrier crossed and the central scheme's tail switch
TAIL_MARGIN = 15.0


class KilledKinetic:
    """The model's process killed when X enters the positions ``removed_x`` (bool, (nx,)).

    Solves the backward equation K u = F (:meth:`solve`) and the forward occupation problem
    −L_S n = ρ (:meth:`occupation`) with the trap reduction of the module docstring.
    """

    def __init__(self, model, removed_x, trap_depth=TRAP_DEPTH):
        g = model.grid
        nx, nv = g.shape
        self.model, self.grid = model, g
        removed_x = np.asarray(removed_x, dtype=bool)
        model.check_x_walls(left=not removed_x[0], right=not removed_x[-1])
        self.removed_x = removed_x
        self.removed = np.repeat(removed_x, nv)
        self.kept = np.flatnonzero(~self.removed)
        self.log_pi = _log_stationary(model).ravel()
        self._find_traps(trap_depth)
        # the central scheme's tail switch must lie above every barrier the process crosses
        self.tail = max(TAIL, max([float(-self.log_pi[m] + self.log_pi.max()) + d
                                   for m, d in zip(self.traps, self.trap_depths)], default=0.0)
                        + TAIL_MARGIN)
        # full N×N generator, target faces upwinded
        self.L = model.scheme.generator(absorbing_x=removed_x, tail=self.tail)
        coo = self.L.tocoo()
        off = coo.row != coo.col
        self._edges = (coo.row[off], coo.col[off], coo.data[off])  # L[l, k]: rate k → l
        # rate of every cell into the target: Σ_{z removed} L[z, y]
        self.leak = np.asarray(self.L.T @ self.removed.astype(float)).ravel()
        rm2 = self.removed.copy()
        rm2[self.traps] = True
        self.kept2 = np.flatnonzero(~rm2)
        A2 = -model.scheme.generator(absorbing_x=removed_x, cells=self.kept2, tail=self.tail)
        self.lu = GridLU(A2, g.shape, cells=self.kept2)
        M, k2 = self.traps, self.kept2
        if M.size:
            LMcols = self.L[:, M].toarray()            # L[z, m]: rate m → z
            LMrows = self.L[M].toarray()               # L[m, y]: rate y → m
            self.RkM = LMrows[:, k2].T                 # S′ → traps
            self.RMk = LMcols[k2].T                    # traps → S′ (row m)
            self.RMM = LMrows[:, M].T.copy()           # m → m′
            np.fill_diagonal(self.RMM, 0.0)
            self.H = self.lu.solve(self.RkM, trans=True, componentwise=True)[0]
            self.A = self.lu.solve(self.RMk.T, componentwise=True)[0]
            self._renewal()

    # -- traps ---------------------------------------------------------------------------------
    def _find_traps(self, trap_depth):
        """Deep wells of Φ(x) = min_v(−log π) over the kept x cells, as in fpsolve.escape."""
        nx, nv = self.grid.shape
        lp = self.log_pi.reshape(nx, nv)
        phi = -lp.max(axis=1)
        kept_x = ~self.removed_x
        traps, depths, basins = [], [], []
        for i in range(nx):
            if not kept_x[i]:
                continue
            left = phi[i - 1] if i > 0 and kept_x[i - 1] else np.inf
            right = phi[i + 1] if i < nx - 1 and kept_x[i + 1] else np.inf
            if not (phi[i] <= left and phi[i] < right):
                continue
            d_l, lo = _barrier(phi, kept_x, i, -1)
            d_r, hi = _barrier(phi, kept_x, i, +1)
            depth = min(d_l, d_r)
            if depth > trap_depth:
                if not np.isfinite(depth):
                    raise InputError("the target cannot be reached: no target position on "
                                     "either side of the well at x = "
                                     f"{self.grid.axes[0][i]:.4g}.")
                j = int(np.argmax(lp[i]))
                traps.append(i * nv + j)
                depths.append(depth)
                level = phi[i] + depth
                B = np.zeros((nx, nv), dtype=bool)
                B[lo:hi + 1] = -lp[lo:hi + 1] < level
                basins.append(B.ravel() & ~self.removed)
        self.traps = np.array(traps, dtype=np.int64)
        self.trap_depths = depths
        self.basins = basins

    def _renewal(self):
        M, k2 = self.traps, self.kept2
        RkM, RMM = self.RkM, self.RMM
        into_other = RkM.sum(axis=1)[None, :] - RkM.T   # rate y → M ∖ m, row m
        Z = ((self.A.T * (into_other + self.leak[k2][None, :])).sum(axis=1)
             + RMM.sum(axis=1) + self.leak[M])
        if np.any(~(Z > 0)):
            raise SolverError(
                "first passage: the escape weight of a trap came out non-positive. With "
                f"scheme {self.model.scheme_name!r} this means lost accuracy (the central scheme "
                "has no positivity guarantee): refine the grid or use scheme='upwind'; otherwise "
                "the target is not reachable from every well.")
        self.Gw = self.A.T / Z[:, None]
        self.Gm = 1.0 / Z
        Q = self.Gw @ RkM + self.Gm[:, None] * RMM
        np.fill_diagonal(Q, 0.0)
        self.Q = Q
        self.Qleak = self.Gw @ self.leak[k2] + self.Gm * self.leak[M]
        self.gth = bool(np.all(Q >= 0) and np.all(self.Qleak >= 0))

    def _trap_system(self, b, transposed=False):
        """Solve (S − Q) u = b (or its transpose), S = diag(Σ_j Q_ij + leak_i) (= I exactly)."""
        if self.gth and not transposed:
            return gth_solve(self.Q, self.Qleak, b)
        S = np.diag(self.Q.sum(axis=1) + self.Qleak) - self.Q
        return np.linalg.solve(S.T if transposed else S, b)

    # -- solves ---------------------------------------------------------------------------------
    def rates_into(self, mask):
        """Total rate of every cell into the cells of ``mask`` (flat bool), on the kept cells."""
        return np.asarray(self.L.T @ np.asarray(mask, float)).ravel()[self.kept]

    def solve(self, F):
        """Backward solve K u = F on the kept cells (F: (|S|,), non-negative). → (u, info)."""
        F = np.asarray(F, dtype=float)
        if F.shape != (self.kept.size,) or np.any(F < 0) or not np.all(np.isfinite(F)):
            raise InputError("solve: the source must be finite, non-negative, one per kept cell.")
        N = self.grid.size
        full = np.zeros(N)
        full[self.kept] = F
        u = np.zeros(N)
        M, k2 = self.traps, self.kept2
        w, err = self.lu.solve(full[k2], trans=True, componentwise=True)
        if M.size:
            uM = self._trap_system(self.Gw @ full[k2] + self.Gm * full[M])
            u[M] = uM
            u[k2] = w + self.H @ uM
        else:
            u[k2] = w
        return u[self.kept], self.diagnostics(u, full)

    def occupation(self, rho):
        """Forward solve n = (−L_S)⁻¹ ρ (expected time in each kept cell before absorption,
        from start masses ρ ≥ 0 on the kept cells)."""
        rho = np.asarray(rho, dtype=float)
        N = self.grid.size
        full = np.zeros(N)
        full[self.kept] = rho
        n = np.zeros(N)
        M, k2 = self.traps, self.kept2
        if M.size:
            c = full[M] + self.H.T @ full[k2]
            w = self._trap_system(c, transposed=True)
            n[M] = self.Gm * w
            n[k2] = self.lu.solve(full[k2], componentwise=True)[0] + self.Gw.T @ w
        else:
            n[k2] = self.lu.solve(full[k2], componentwise=True)[0]
        return n[self.kept]

    # -- diagnostics --------------------------------------------------------------------------
    def diagnostics(self, u, F):
        """Backward error, balance defects (module docstring) and the negative share of u."""
        S = self.kept
        L = self.L
        r = -(L.T @ u)[S] - F[S]                     # K u − F (u = 0 on the target)
        Kn = float(np.max(np.asarray(abs(L).sum(axis=0)).ravel()[S]))
        den = Kn * np.max(np.abs(u)) + np.max(np.abs(F))
        backward = float(np.max(np.abs(r)) / den) if den > 0 else 0.0
        pi = np.exp(self.log_pi - self.log_pi.max())
        lrow, kcol, val = self._edges
        flux = val * pi[kcol]                         # L_lk π_k: equilibrium flux k → l

        def defect(B):
            src = float(pi[B] @ F[B])
            inB_l, inB_k = B[lrow], B[kcol]
            t_in = float(np.sum(u[lrow] * flux * (inB_l & ~inB_k)))
            t_out = float(np.sum(u[lrow] * flux * (~inB_l & inB_k)))
            scale = abs(src) + abs(t_in) + abs(t_out)
            return abs(src - t_in + t_out) / scale if scale > 0 else 0.0

        balance = defect(~self.removed)
        wells = max([defect(B) for B in self.basins], default=0.0)
        w = pi[S]
        neg = float(w @ np.maximum(-u[S], 0.0) / max(w @ np.abs(u[S]), np.finfo(float).tiny))
        info = {
            "method": (f"trap-reduced sparse LU ({self.traps.size} trap(s), "
                       f"{'GTH' if self.gth else 'dense'} renewal)" if self.traps.size
                       else "sparse LU (nested dissection)"),
            "scheme": self.model.scheme_name,
            "residual": backward,
            "balance_defect": balance,
            "well_balance_defect": wells,
            "traps": int(self.traps.size),
            "trap_depths": [float(d) for d in self.trap_depths],
            "min_value": float(u[S].min()),
            "negative_share": neg,
        }
        info["accurate"] = bool(max(balance, wells) <= BALANCE_TOL and backward <= 1e-8
                                and neg <= NEGATIVE_TOL)
        if not info["accurate"]:
            warnings.warn(f"first-passage solve may be inaccurate: balance defects {balance:.2e} "
                          f"(global), {wells:.2e} (worst well), backward error {backward:.2e}, "
                          f"π-weighted negative share {neg:.2e} (scheme "
                          f"{self.model.scheme_name!r}); see Field.info.", RuntimeWarning,
                          stacklevel=3)
        return info


def _barrier(phi, kept, i, step):
    """(rise of phi from i to where a lower cell or a target is reached along ``step``, end)."""
    top = phi[i]
    k = i + step
    n = phi.size
    while 0 <= k < n:
        if not kept[k]:
            return top - phi[i], k - step
        top = max(top, phi[k])
        if phi[k] < phi[i]:
            return top - phi[i], k - step
        k += step
    return np.inf, k - step


def _log_stationary(model):
    """log π (nx, nv): the Gibbs state for constant T, else the stationary solve (cached)."""
    if model.constant_T:
        return model.scheme.log_reference
    return np.log(model.stationary().values)


def _field(model, kp, u_kept, info, fill=0.0):
    full = np.full(model.grid.size, fill, dtype=float)
    full[kp.kept] = u_kept
    return Field(model.grid, full.reshape(model.grid.shape), info)


# -- public questions -----------------------------------------------------------------------------
def mean_first_passage_time(model, target, *, trap_depth=TRAP_DEPTH) -> Field:
    """E τ from every phase-space cell, τ = inf{t : X_t ∈ target} (units of t) → Field.

    target : a set of positions (:mod:`fpsolve.kinetic.positions`): callable f(x), interval
        (lo, hi) or boolean array over the x cells. 0 on the target cells.
    trap_depth : wells deeper than this (ΔU/T) are reduced exactly (module docstring);
        ``np.inf`` gives the plain sparse LU (for comparison).

    ``info``: diagnostics (module docstring). Read a value with ``.at((x, v))``.
    """
    removed = position_mask(model.grid, target, "mean_first_passage_time target")
    kp = KilledKinetic(model, removed, trap_depth)
    tau, info = kp.solve(np.ones(kp.kept.size))
    info["quantity"] = "mean first-passage time"
    return _field(model, kp, tau, info)


def committor(model, A, B, *, trap_depth=TRAP_DEPTH) -> Field:
    """q(x, v) = P(X reaches the positions B before the positions A) → Field (1 on B, 0 on A)."""
    a = position_mask(model.grid, A, "committor set A")
    b = position_mask(model.grid, B, "committor set B")
    if np.any(a & b):
        raise InputError("committor: the sets A and B overlap; they must be disjoint.")
    kp = KilledKinetic(model, a | b, trap_depth)
    F = kp.rates_into(np.repeat(b, model.grid.shape[1]))
    q, info = kp.solve(F)
    info["quantity"] = "committor"
    fld = _field(model, kp, q, info)
    fld.values[b] = 1.0
    return fld


@dataclass
class KineticEscapeRate:
    """Escape rate k = 1/E τ from the positions ``source`` into ``target``.

    rate : 1/time; mean_time : E τ averaged over the start law (the stationary density restricted
    to the source positions, or the given start); info : the solve's diagnostics.
    """

    rate: float
    mean_time: float
    info: dict = field(default_factory=dict)

    def __float__(self):
        return float(self.rate)


def escape_rate(model, source, target, *, start=None, trap_depth=TRAP_DEPTH) -> KineticEscapeRate:
    """k = 1/⟨E τ⟩ with ⟨·⟩ over the start law: by default the stationary density restricted to
    the positions ``source`` (flux-over-population with reinjection in the source, to leading
    order in e^(−ΔU/T)); ``start`` may be a phase-space point (x, v) or a Density."""
    src = position_mask(model.grid, source, "escape_rate source")
    tau = mean_first_passage_time(model, target, trap_depth=trap_depth)
    g = model.grid
    if start is None:
        lp = _log_stationary(model)
        w = np.exp(lp - lp.max()) * src[:, None]
        mean = float((w * tau.values).sum() / w.sum())
    elif isinstance(start, Density):
        mean = float((start.values * tau.values).sum() / start.values.sum())
    else:
        mean = float(tau.values.ravel()[phase_point(g, start)])
    return KineticEscapeRate(rate=1.0 / mean, mean_time=mean, info=dict(tau.info))
