r"""Green's-function solves of the killed process that stay accurate behind barriers of ΔU/D ≈ 40+.

Every first-passage question in :mod:`fpsolve.escape` reduces to one of two linear problems on the
kept cells S (the removed, absorbing cells are the target; L_S is the generator restricted to S,
rates into the target kept on the diagonal as loss):

    backward:  K u = F,   K = −L_Sᵀ (A* with u = 0 on the target),  u(x) = E_x[∫_0^τ f + g(X_τ)],
    forward:   −L_S n = ρ,  n(y) = expected time spent in y before absorption, start law ρ,

with F, ρ ≥ 0. The mean first-passage time is F = 1, its second moment F = 2 E τ, a committor
F = (rates into B), the exit distribution and quasi-stationary iterations are forward solves.

Why a plain sparse LU is not enough
-----------------------------------
In a deep well u is almost constant (≈ e^{ΔU/D}), and the only thing that sets its level is the
tiny probability leak over the barrier. Gaussian elimination forms the pivots as differences of
O(rate) numbers; each rounding error acts like a spurious sink of size ε·rate in the well and
swamps the true leak, which is e^{−ΔU/D} times smaller than the rates. Measured on a 1D double
well (h = 1e-3, target past the saddle), a sparse LU is off by 5e-9 at ΔU/D = 10, 4e-4 at 20,
50% at 30 and 100% at 40; the π-symmetrised system is no better (2% at 20, 100% at 30): scaling
does not remove the cancellation, and no normwise residual can see it.

What is done instead (exact, no approximation)
----------------------------------------------
1. Traps: the local minima m of Φ = −log π on S (π the stationary density of the full chain: the
   comb integral ψ when detailed balance holds, else a stationary solve) whose depth — the rise of
   Φ from m to the lowest cell where its basin merges with a deeper basin or with the target,
   found by a union-find sweep in order of Φ — exceeds ``trap_depth``. These cells M are made
   absorbing too: on S′ = S ∖ M no deep well is left, and −L_{S′} is factorised by a plain sparse
   LU whose solves keep componentwise relative accuracy ε × poly(N).
2. Strong Markov property at the first visit to M (backward):

       u(x) = w(x) + Σ_m h_m(x) u(m),    K′ w = F,   K′ h_m = (rates into m),

   h_m(x) = P_x(the first cell of M ∪ target reached is m) — bounded by 1, no deep well.
3. Renewal between the trap cells. Started at m, let a_m = (−L_{S′})⁻¹ r(m → ·) be the occupation
   of S′ after one jump out of m (until M ∪ target is hit). The process returns to m or is caught
   in C_m = M ∖ {m} ∪ target; hence the Green's function of the process killed on C_m is

       G_m(m) = 1 / Z_m,   G_m(y) = a_m(y) / Z_m,   Z_m = r(m → C_m) + Σ_y a_m(y) r(y → C_m),

   and u(m) = Σ_y G_m(y) F(y) + Σ_{m′} Q_{mm′} u(m′) with Q_{mm′} = Σ_y G_m(y) r(y → m′).
   Everything is a sum of positive terms: the exponentially long times appear as 1/Z_m, with
   Z_m ≈ e^{−ΔU/D} computed without cancellation. No stationary density enters (π only chooses M).
4. The k×k system (I − Q) u_M = b is solved by Grassmann–Taksar–Heyman elimination: pivots are
   formed as sums of the remaining outflows plus the explicit leak into the target, never as
   differences, so u_M keeps full relative accuracy even when the leak is 1e-17 of the outflow.
   Forward solves use the same pieces transposed: n = (−L_{S′})⁻¹ρ + Σ_m w_m G_m with
   (I − Q)ᵀ w = c, c_m = ρ(m) + Σ_x ρ(x) h_m(x), again subtraction-free.

Diagnostics returned with every solve: the normwise backward error of the full system; and
*balance defects*, the relative violations of exact conservation laws over S and over the basin
of every deep well, written with the edges leaving the region only (where u is resolved): for a
backward solve Σ_B π (K u − F) = 0 (π-weighted, by stationarity of π), for a forward solve
Σ_B (−L_S n − ρ) = 0 (mass). A wrong level of u inside a well — the failure mode of a plain LU —
breaks them at O(1), while the normwise residual stays at ε. Also reported: the traps reduced,
the deepest well left in S′, a 1-norm condition estimate of the factorised matrix, and the
largest negative entry set to 0 (the exact solutions are ≥ 0; relative to the largest entry,
``negative_set_to_zero``, part of ``accurate``).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import InputError, SolverError
from ..numerics.boxmg import coarsenable
from ..numerics.linalg import (DIRECT_LIMIT_FIRST_PASSAGE, LinearSolver, check_solver,
                               choose_solver, inverse_norm_1_estimate, norm_1, norm_inf)
from ..numerics.generator import empty_csr, reversibility_tolerance, transposed
from ..numerics.stationary import (least_squares_log_density, scaling_log_density,
                                   stationary_log_density, stationary_residual)
from .gth import GTH, gth_stationary
from .jumps import block_entries, jump_rates, killed_generator, moving_rates, row_sums
from .targets import index_map
from .wells import BALANCE_TOL, CERTIFY_TOL, MAX_DEPTH, MAX_TRAPS, TRAP_DEPTH, well_depths


# ------------------------------------------------------------------------------------------------
# the killed process
# ------------------------------------------------------------------------------------------------
class KilledProcess:
    """The model's jump process on the cells, killed on entering the ``removed`` cells.

    Parameters
    ----------
    model : FokkerPlanck
        Only ``model.rates`` (face rates) and ``model.grid`` are used.
    removed : bool array (grid shape or flat)
        Absorbing cells (may be empty only for :meth:`renewal`).
    trap_depth, max_traps : see the module docstring; ``trap_depth=np.inf`` disables the trap
        reduction (plain sparse LU: for comparison only).
    extra_traps : flat indices of cells to reduce as traps in addition to the automatic ones.
    log_pi : optional log stationary density of the full chain (recomputed when omitted); it
        only chooses the traps and weights the backward diagnostics.
    solver : how −L_{S′} is solved: "auto" (sparse LU in 1D, in 2D up to 10⁵ cells and in
        3D up to 2.5·10³, with the certified trial of ``gmg_trial`` below; geometric-multigrid
        GMRES beyond, AMG where the grid cannot be coarsened or the multigrid does not converge), "direct", "amg", "gmg" or "gmres" (see
        :class:`fpsolve.numerics.linalg.LinearSolver`). The iterative solvers reach a normwise
        backward error of ~100 ε rather than the LU's componentwise accuracy; on S′ no well is
        deeper than ``trap_depth``, so the solution keeps a relative accuracy of about
        e^trap_depth·cond·100 ε (1e-9 against the LU at 128² in the tests), and the balance
        diagnostics below still check every solve.
    gmg_trial : under ``solver="auto"``, on a grid in the LU's range but past
        :data:`~fpsolve.numerics.linalg.DIRECT_LIMIT_FIRST_PASSAGE`, with no traps (at most
        ``TRIAL_MAX_TRAPS``), try the geometric multigrid first, and keep each answer of
        :meth:`solve` and :meth:`occupation` only if its balance defects are ≤ ``CERTIFY_TOL``
        (1e-9, a thousandth of what ``accurate`` allows) and its backward error ≤ 1e-8;
        otherwise switch to the sparse LU for good and solve again, saying so in
        ``info["linear_solver_fallback"]``. For callers that check every solve through these
        two methods (the first-passage questions, e.g.
        :func:`fpsolve.escape.mean_first_passage_time`); the default
        (False) is the plain automatic choice.

    Main methods: :meth:`solve` (backward, K u = F), :meth:`occupation` (forward, −L_S n = ρ),
    :meth:`renewal` (exact jump statistics between the trap cells).
    """

    #: most traps with which ``gmg_trial`` still tries the multigrid: with k traps every solve
    #: needs 2k more (the trap columns), cheap with a factorisation, and deep wells are where
    #: the LU's componentwise accuracy matters (module docstring)
    TRIAL_MAX_TRAPS = 0

    def __init__(self, model, removed=None, trap_depth=TRAP_DEPTH, max_traps=MAX_TRAPS,
                 extra_traps=(), log_pi=None, solver="auto", absorption=None, gmg_trial=False):
        check_solver(solver)
        self.rates = rates = model.rates
        self.grid = g = model.grid
        N = g.size
        self.absorption = absorption
        if absorption is not None:
            removed = absorption.removed
        elif removed is None:
            raise InputError("KilledProcess: give the removed cells or an absorption.")
        removed = np.asarray(removed, dtype=bool).ravel()
        if removed.size != N:
            raise InputError(f"KilledProcess: removed has {removed.size} cells; the grid has {N}.")
        if removed.all():
            raise InputError("the target covers the whole grid: nothing is left to escape from.")
        self.removed = removed
        self.kept = np.flatnonzero(~removed)
        self.index = index_map(removed)

        psi, defect = rates.reference_log_density()
        self.reversible = bool(defect <= reversibility_tolerance(psi))
        if log_pi is None:
            log_pi = psi if self.reversible else log_stationary(model)[0]
        self.log_pi = np.asarray(log_pi, dtype=float).ravel() - np.max(log_pi)

        self.R = jump_rates(rates)  # R[y, z] = rate y → z (the model's)
        self.R.sort_indices()
        if absorption is None:
            self.leak = (np.asarray(self.R[:, removed].sum(axis=1)).ravel() if removed.any()
                         else np.zeros(N))
            self.cut = empty_csr(N)
        else:
            self.leak = np.asarray(absorption.kill, dtype=float)
            self.cut = absorption.cut
        # the killed process moves with Rs (no jumps into the target or across it) and is
        # killed at the rates ``leak``
        self.Rs = moving_rates(self.R, removed, self.cut)
        self.absorbing = self.leak > 0

        # traps: deep local minima of Φ = −log π on the kept cells
        phi = -self.log_pi
        kept = self.kept
        order = kept[np.argsort(phi[kept], kind="stable")]
        depths = well_depths(phi, order, self.Rs.indptr, self.Rs.indices, self.absorbing)
        if self.absorbing.any() and np.isinf(depths).any():
            bad = np.flatnonzero(np.isinf(depths))[0]
            x = tuple(float(c.ravel()[bad]) for c in g.physical_coords)
            raise InputError(f"the target cannot be reached from the cells around x={x}: the kept "
                             f"cells are not all connected to it, so the first-passage time is "
                             f"infinite there.")
        minima = np.flatnonzero((np.isfinite(depths) & (depths > 0)) | np.isinf(depths))
        deep = minima[depths[minima] > trap_depth]
        deep = deep[np.argsort(-depths[deep], kind="stable")]
        self.dropped_traps = max(0, deep.size - max_traps)
        deep = deep[:max_traps]
        extra = np.asarray(extra_traps, dtype=np.int64).ravel()
        if extra.size and np.any(removed[extra]):
            raise InputError("a trap cell lies in the target.")
        M = (np.unique(np.concatenate([deep, extra])).astype(np.int64) if deep.size or extra.size
             else np.zeros(0, dtype=np.int64))  # (np.unique and np.isin cost 7 µs on nothing)
        self.traps = M
        self.trap_depths = depths[M]
        # wells watched by the diagnostics (treated or not): deep minima and their depths
        wells = minima[np.isfinite(depths[minima]) & (depths[minima] > TRAP_DEPTH)]
        wells = wells[np.argsort(-depths[wells], kind="stable")][:max_traps]
        self._wells = [(int(w), float(depths[w])) for w in wells]
        self._well_masks = None
        shallow = minima[~np.isin(minima, M)] if M.size else minima
        self.untreated_depth = float(np.max(depths[shallow])) if shallow.size else 0.0
        if not self.absorbing.any() and M.size == 0:
            raise InputError("nothing is absorbing: give a target or traps.")

        # S′ = S ∖ M: one factorisation of −L_{S′} serves backward (transposed) and forward solves
        rm2 = removed.copy()
        rm2[M] = True
        self.removed2 = rm2
        self.kept2 = k2 = np.flatnonzero(~rm2)
        self._lu = None
        #: why ``gmg_trial``'s multigrid answer was not kept (None: it was, or was not tried)
        self.fallback = None
        self._trial = False
        if k2.size:
            index2 = index_map(rm2) if M.size else self.index
            self._A2 = killed_generator(self.Rs, self.leak, index2, negated=True)
            # a trial only where "auto" would take the LU (it is the fall-back) and GMG can run
            trial = (gmg_trial and solver == "auto" and M.size <= self.TRIAL_MAX_TRAPS
                     and coarsenable(g.shape, g.periodic)
                     and choose_solver(k2.size, g.ndim, structured=True) == "direct")
            # −L_{S′} is a column diagonally dominant M-matrix: diagonal pivots are kept
            # the grid and kept cells let "auto" take the geometric multigrid beyond the LU
            self._lu = LinearSolver(self._A2, solver, ndim=g.ndim, diag_pivot_thresh=1.0,
                                    grid=g, cells=k2,
                                    direct_limit=DIRECT_LIMIT_FIRST_PASSAGE if trial else None)
            self._trial = trial and self._lu.method != "direct"
        self._trap_columns()
        self._cond = None
        self._LS = None
        self._minus_LS = None
        self._balance_weights = None

    def _trap_columns(self):
        """h_m and a_m on S′ (module docstring, steps 2–3), for the solver now in use."""
        M, k2 = self.traps, self.kept2
        if M.size and k2.size:
            self.H, neg_h = nonnegative(self._back(self.Rs[k2][:, M].toarray()))   # h_m on S′
            self.A, neg_a = nonnegative(self._fwd(self.Rs[M][:, k2].toarray().T))  # a_m on S′
            self._negative_columns = max(neg_h, neg_a)
        else:
            self.H = np.zeros((k2.size, M.size))
            self.A = np.zeros((k2.size, M.size))
            self._negative_columns = 0.0
        self._renewal = None

    def _certify(self, x, F, kind, check, negative=0.0):
        """The diagnostics of a solution (``{}`` when not ``check``), or None when ``gmg_trial``'s
        multigrid answer is not certified: then the LU replaces it for this and every later
        solve (the caller solves again)."""
        if not self._trial or self._lu.method == "direct":  # (GMG may have fallen back itself)
            return self.diagnostics(x, F, kind, negative=negative) if check else {}
        info = self.diagnostics(x, F, kind, warn=False, negative=negative)
        defect = max(info["balance_defect"], info["well_balance_defect"])
        if defect <= CERTIFY_TOL and info["residual"] <= 1e-8:
            info["linear_solver_trial"] = (
                f"geometric multigrid tried first ({self.kept2.size} cells, no deep wells): "
                f"balance defect {defect:.1e} ≤ {CERTIFY_TOL:.0e}, kept")
            return info if check else {}
        tried = self.linear_solver
        self.fallback = (
            f"{tried} tried first ({self.kept2.size} cells) gave balance defects {defect:.1e} "
            f"and backward error {info['residual']:.1e} (certified only ≤ {CERTIFY_TOL:.0e} "
            f"and ≤ 1e-8): solved again with a sparse LU")
        self._trial = False
        self._lu = LinearSolver(self._A2, "direct", ndim=self.grid.ndim, diag_pivot_thresh=1.0)
        self._trap_columns()
        self._cond = None
        return None

    @property
    def linear_solver(self):
        """"sparse LU", "AMG-GMRES", "GMG-GMRES" or "ILU-GMRES": how −L_{S′} is solved."""
        m = self._lu.method if self._lu is not None else "direct"
        if m == "amg":
            m = self._lu.backend   # "amg" or "gmg"
        return {"direct": "sparse LU", "amg": "AMG-GMRES", "gmg": "GMG-GMRES",
                "gmres": "ILU-GMRES"}[m]

    # -- linear algebra on S′ ----------------------------------------------------------------------
    def _back(self, F):
        """K′⁻¹ F = (−L_{S′})⁻ᵀ F (rows indexed by S′)."""
        return self._lu.solve(F, trans=True)

    def _fwd(self, rho):
        """(−L_{S′})⁻¹ ρ (rows indexed by S′)."""
        return self._lu.solve(rho)

    def condition_estimate(self):
        """1-norm condition number estimate ‖A‖₁·est of A = −L_{S′} (the matrix actually
        factorised): est ≤ ‖A⁻¹‖₁ is the lower bound of
        :func:`~fpsolve.numerics.linalg.inverse_norm_1_estimate` (exact up to rounding here, A
        being an M-matrix). NaN with an iterative solver, where it would cost extra solves."""
        if self._cond is None:
            if self._lu is None:
                self._cond = 1.0
            elif self._lu.method != "direct":
                self._cond = float("nan")
            else:
                inv = inverse_norm_1_estimate(self._lu.lu.solve, self.kept2.size)
                self._cond = norm_1(self._A2) * inv
        return self._cond

    # -- renewal system between the traps ----------------------------------------------------------
    def renewal(self):
        """Jump statistics between the trap cells: (Gw, Gm, Q, leak).

        Gw (k, |S′|), Gm (k,): Green's function G_m(y) of the process started at trap m and
        killed on C_m = M ∖ m ∪ target, for y in S′ and y = m (expected time spent there).
        Q (k, k): probability that the first cell of C_m reached is m′; leak (k,): that it is
        in the target. Mean time to reach C_m from m: Gw.sum(1) + Gm.
        """
        if self._renewal is None:
            M, k2 = self.traps, self.kept2
            R = self.Rs
            RkM = R[k2][:, M].toarray()          # rates S′ → traps
            RMM = R[M][:, M].toarray()           # direct trap → trap jumps
            np.fill_diagonal(RMM, 0.0)
            into_other = RkM.sum(axis=1)[None, :] - RkM.T  # rate y → M ∖ m, row m
            Z = ((self.A.T * (into_other + self.leak[k2][None, :])).sum(axis=1)
                 + RMM.sum(axis=1) + self.leak[M])
            # Z ≈ e^(−depth): past a depth of ~700 the occupations a_m near the saddle are
            # subnormal or zero, Z loses its relative precision, and 1/Z (the escape time)
            # overflows: refuse rather than return a wrong time
            depth = np.where(np.isfinite(self.trap_depths), self.trap_depths, 0.0)
            bad = ~(Z >= np.finfo(float).tiny) | (depth > MAX_DEPTH)
            if np.any(bad):
                bad = int(np.flatnonzero(bad)[0])
                x = tuple(round(float(c.ravel()[M[bad]]), 6)
                          for c in self.grid.physical_coords)
                raise SolverError(
                    f"the escape weight of the well at x = {x} underflows double precision: the "
                    f"time to leave it exceeds ~1e308 (a barrier of more than ~700 D), and no "
                    f"answer that depends on it is representable. Use the log-space quadratures "
                    f"of fpsolve.theory (1D), or a target, domain or noise level with lower "
                    f"barriers.")
            Gw = self.A.T / Z[:, None]
            Gm = 1.0 / Z
            Q = Gw @ RkM + Gm[:, None] * RMM
            np.fill_diagonal(Q, 0.0)
            lk = Gw @ self.leak[k2] + Gm * self.leak[M]
            self._renewal = (Gw, Gm, Q, lk, GTH(Q, lk) if self.absorbing.any() else None)
        return self._renewal[:4]

    # -- solves ------------------------------------------------------------------------------------
    def _prepare(self, F, what):
        F = np.asarray(F, dtype=float)
        vec = F.ndim == 1
        F2 = F[:, None] if vec else F
        if F2.shape[0] != self.kept.size:
            raise InputError(f"{what}: {F2.shape[0]} rows given; there are {self.kept.size} kept "
                             f"cells.")
        if (F2 < 0).any() or not np.isfinite(F2).all():
            raise InputError(f"{what}: the source must be finite and non-negative.")
        if not self.absorbing.any():
            raise InputError(f"{what}: nothing is absorbing (empty target).")
        full = np.zeros((self.grid.size, F2.shape[1]))
        full[self.kept] = F2
        return full, F2, vec

    def solve(self, F, check=True):
        """Backward solve u = K⁻¹ F on the kept cells (F: (|S|,) or (|S|, p), non-negative).

        Returns (u, info); u(x) = E_x ∫_0^τ F(X_t) dt.
        """
        full, F2, vec = self._prepare(F, "solve")
        M, k2 = self.traps, self.kept2
        u = np.zeros_like(full)
        if M.size:
            Gw, Gm, _, _ = self.renewal()
            uM = self._renewal[4].solve(Gw @ full[k2] + Gm[:, None] * full[M])
            u[M] = uM
            if k2.size:
                u[k2] = self._back(full[k2]) + self.H @ uM
        else:
            u[k2] = self._back(full[k2])
        u, negative = nonnegative(u)
        uS = u[self.kept]
        info = self._certify(uS, F2, "backward", check, negative)
        if info is None:
            return self.solve(F, check)
        return (uS[:, 0] if vec else uS), info

    def occupation(self, rho, check=True):
        """Forward solve n = (−L_S)⁻¹ ρ: expected time spent in each kept cell before absorption,
        from start masses ``rho`` ((|S|,) or (|S|, p), non-negative). Returns (n, info)."""
        full, R2, vec = self._prepare(rho, "occupation")
        M, k2 = self.traps, self.kept2
        n = np.zeros_like(full)
        if M.size:
            Gw, Gm, _, _ = self.renewal()
            c = full[M] + (self.H.T @ full[k2] if k2.size else 0.0)
            w = self._renewal[4].solve_transposed(c)
            n[M] = Gm[:, None] * w
            if k2.size:
                n[k2] = self._fwd(full[k2]) + Gw.T @ w
        else:
            n[k2] = self._fwd(full[k2])
        n, negative = nonnegative(n)
        nS = n[self.kept]
        info = self._certify(nS, R2, "forward", check, negative)
        if info is None:
            return self.occupation(rho, check)
        return (nS[:, 0] if vec else nS), info

    def absorption_flux(self, n):
        """Killed flux per exit cell (flat, grid size) from occupation ``n`` on the kept cells:
        into each removed cell, or, for an absorption with walls or thin targets, attributed as
        :class:`~fpsolve.escape.absorption.Absorption` says (``site_cell``)."""
        full = np.zeros(self.grid.size)
        full[self.kept] = n
        if self.absorption is None:
            return np.asarray(self.R.T @ full).ravel() * self.removed
        ab = self.absorption
        return np.bincount(ab.site_cell, weights=ab.site_rate * full[ab.site_from],
                           minlength=self.grid.size)

    def site_flux(self, n):
        """Killed flux through each exit site of the absorption (``n``: occupation on the kept
        cells; an absorption must have been given)."""
        full = np.zeros(self.grid.size)
        full[self.kept] = n
        ab = self.absorption
        return ab.site_rate * full[ab.site_from]

    # -- diagnostics -------------------------------------------------------------------------------
    def generator_restricted(self):
        """L_S (sparse), the killed generator on the kept cells."""
        if self._LS is None:
            self._LS = -self.minus_generator()
        return self._LS

    def minus_generator(self):
        """−L_S (sparse CSR, an M-matrix): the backward operator K = −L_Sᵀ is its transpose, a
        view. Without traps it is the matrix the solver already holds (S′ = S)."""
        if self._minus_LS is None:
            if self.traps.size == 0 and self._lu is not None:
                self._minus_LS = self._A2
            else:
                self._minus_LS = killed_generator(self.Rs, self.leak, self.index, negated=True)
        return self._minus_LS

    def well_masks(self):
        """For every deep well (depth > TRAP_DEPTH): the cells connected to its minimum below
        the level where it merges (its basin), as a boolean mask over the grid."""
        if self._well_masks is None:
            from scipy.sparse.csgraph import connected_components

            phi = -self.log_pi
            masks = []
            for m, depth in self._wells:
                sub = np.flatnonzero(~self.removed & (phi < phi[m] + depth))
                _, lab = connected_components(self.Rs[sub][:, sub], directed=False)
                mask = np.zeros(self.grid.size, dtype=bool)
                mask[sub[lab == lab[np.searchsorted(sub, m)]]] = True
                masks.append(mask)
            self._well_masks = masks
        return self._well_masks

    def balance_defects(self, x, F, kind="backward"):
        """Relative defects of the conservation laws over S and over each deep well's basin B.

        backward (K u = F): Σ_B π (K u − F) = 0, which by stationarity of π (for the model's
        rates R) involves only the edges leaving B: with R_s the rates of the killed process
        (R without the jumps into or across the target, cut = the jumps across it), κ the
        killing rates and c = R − R_s summed over each row (the jumps κ replaces),

            Σ_{i∈B} u_i [Σ_{j∉B} π_j R_ji + Σ_{j∈B} π_j cut_ji] − Σ_{i∈B} π_i Σ_{j∉B} R_s,ij u_j
            + Σ_{i∈B} π_i u_i (κ_i − c_i) = Σ_{i∈B} π_i F_i

        (κ = c for a cell mask: the last sum vanishes; κ ≥ c for sharp edges).
        forward (−L_S n = ρ): Σ_B (−L_S n − ρ) = 0, i.e. outflow of n from B − inflow = Σ_B ρ.
        Returns (defect over S, worst defect over the wells), max over the columns.
        """
        N = self.grid.size
        xf = np.zeros((N, x.shape[1]))
        xf[self.kept] = x
        Ff = np.zeros_like(xf)
        Ff[self.kept] = F
        R, Rs, C = self.R, self.Rs, self.cut
        if kind == "backward":
            if self._balance_weights is None:  # the same for every backward solve
                c = row_sums(R) - row_sums(Rs)
                self._balance_weights = (np.exp(self.log_pi),
                                         np.where(self.removed, 0.0, self.leak - c))
            pi, replaced = self._balance_weights
        else:
            pi = np.ones(N)

        ones = np.ones(N)

        def defect(B):
            # sums over the jumps between B and its complement, one pass over each matrix
            # (slicing R[out][:, B] and Rs[B][:, out] cost 0.3 s per set at 2·10⁶ cells)
            out = ~B
            xB = xf[B]
            if kind == "backward":
                piB = pi[B]
                src = piB @ Ff[B]
                t_out = _block_sum(R, out, B, pi, xf)       # Σ_{j∉B, i∈B} π_j R_ji u_i
                if C.nnz:
                    t_out = t_out + _block_sum(C, B, B, pi, xf)
                t_in = _block_sum(Rs, B, out, pi, xf)       # Σ_{i∈B, j∉B} π_i Rs_ij u_j
                corr = (piB * replaced[B]) @ xB
            else:
                src = Ff[B].sum(axis=0)
                t_out = _block_sum(Rs, B, out, xf, ones) + self.leak[B] @ xB
                t_in = _block_sum(Rs, out, B, xf, ones)
                corr = 0.0
            scale = src + t_out + t_in + np.abs(corr)
            positive = scale > 0  # (0 where the scale is not: no 0/0 to silence)
            d = np.where(positive, np.abs(src - t_out + t_in - corr)
                         / np.where(positive, scale, 1.0), 0.0)
            return float(d.max())

        return defect(~self.removed), max([defect(B) for B in self.well_masks()], default=0.0)

    def diagnostics(self, x, F, kind="backward", warn=True, negative=0.0):
        """Backward error, balance defects and trap data of a solution (see the module doc);
        ``negative``: the largest negative entry that :func:`nonnegative` set to 0, relative to
        the largest entry (the trap columns' are included); ``warn``: a RuntimeWarning when they
        say it is inaccurate."""
        negative = max(float(negative), self._negative_columns)
        minus_L = self.minus_generator()
        K = transposed(minus_L) if kind == "backward" else minus_L   # Lᵀ: a CSC view, no copy
        r = F - K @ x
        Kn = norm_1(minus_L) if kind == "backward" else norm_inf(minus_L)   # ‖K‖∞
        num = np.abs(r).max(axis=0)
        den = Kn * np.abs(x).max(axis=0) + np.abs(F).max(axis=0)
        backward = float(np.where(den > 0, num / np.where(den > 0, den, 1), 0.0).max())
        balance, wells = self.balance_defects(x, F, kind)
        info = {
            "method": (f"trap-reduced {self.linear_solver} ({self.traps.size} trap cells, GTH "
                       f"renewal)" if self.traps.size else self.linear_solver),
            "linear_solver": self.linear_solver,
            "residual": backward,
            "balance_defect": balance,
            "well_balance_defect": wells,
            "condition_estimate": self.condition_estimate(),
            "traps": int(self.traps.size),
            "trap_depths": [float(d) for d in self.trap_depths],
            "untreated_depth": self.untreated_depth,
            "reversible": self.reversible,
            "negative_set_to_zero": negative,
            "accurate": bool(max(balance, wells, negative) <= BALANCE_TOL and backward <= 1e-8),
        }
        if self.dropped_traps:
            info["dropped_traps"] = int(self.dropped_traps)
        fallback = self.fallback or (self._lu.fallback if self._lu is not None else None)
        if fallback:
            info["linear_solver_fallback"] = fallback
        if warn and not info["accurate"]:
            warnings.warn(f"first-passage solve lost accuracy: balance defects {balance:.2e} "
                          f"(global), {wells:.2e} (worst well), backward error {backward:.2e}, "
                          f"negative values set to 0 up to {negative:.1e} of the largest "
                          f"(see Field.info). Deepest untreated well ΔU/D = "
                          f"{self.untreated_depth:.1f}; {self.dropped_traps} traps dropped.",
                          RuntimeWarning, stacklevel=3)
        return info


# ------------------------------------------------------------------------------------------------
# stationary densities behind deep wells (Markov renewal over the minima)
# ------------------------------------------------------------------------------------------------
def log_stationary(model, max_traps=MAX_TRAPS, solver="auto"):
    """(log π, info): log stationary density of the full chain (up to a constant), accurate
    behind deep wells also without detailed balance.

    Detailed balance: the comb integral (exact, O(N)). Otherwise, if the scaling potential of
    the rates (:func:`~fpsolve.numerics.stationary.scaling_log_density`: the comb integral when
    nearly reversible, else the least-squares potential) has two or more wells deeper than
    ``TRAP_DEPTH``, the regenerative
    (Markov-renewal) formula over those minima m:

        π(y) ∝ Σ_m ν_m G_m(y),   ν = ν Q (GTH),

    with G_m, Q the trap Green's functions and jump probabilities of :class:`KilledProcess`
    (no target, the minima as traps): sums of positive terms only. The pinned null-vector solve
    of :mod:`fpsolve.numerics.stationary` is used for a single well, where it is well
    conditioned; with several deep wells it loses their relative weights (it fails outright on a
    tilted 2D double well at ΔU/D ≈ 20).
    """
    rates = model.rates
    reference = rates.reference_log_density()
    psi, defect = reference
    if defect <= reversibility_tolerance(psi):
        return stationary_log_density(rates, "detailed-balance", reference=reference)
    return renewal_log_stationary(model, max_traps=max_traps, solver=solver,
                                  psi=scaling_log_density(rates, reference), reference=reference)


def renewal_log_stationary(model, max_traps=MAX_TRAPS, psi=None, solver="auto", reference=None):
    """Log stationary density by the regenerative formula over the deep minima of ``psi`` (the
    landscape that chooses them; default the least-squares potential). See
    :func:`log_stationary`."""
    rates = model.rates
    if psi is None:
        psi = least_squares_log_density(rates)
    N = model.grid.size
    R = jump_rates(rates)
    phi = -np.asarray(psi, dtype=float).ravel()
    order = np.argsort(phi, kind="stable")
    depths = well_depths(phi, order, R.indptr, R.indices,
                         np.zeros(N, dtype=bool))
    minima = np.flatnonzero(np.isinf(depths) | (depths > TRAP_DEPTH))
    minima = minima[np.argsort(-depths[minima], kind="stable")][:max_traps]
    if minima.size < 2:  # one well: the pinned solve is well conditioned
        log_p, info = stationary_log_density(rates, "solve", solver, reference=reference,
                                             guess=psi)
        return log_p, dict(info, wells=int(minima.size))
    kp = KilledProcess(model, np.zeros(N, dtype=bool), trap_depth=np.inf,
                       extra_traps=np.sort(minima), log_pi=psi, solver=solver)
    Gw, Gm, Q, _ = kp.renewal()
    nu = gth_stationary(Q)
    occ = np.zeros(N)
    occ[kp.kept2] = nu @ Gw
    occ[kp.traps] = nu * Gm
    with np.errstate(divide="ignore"):
        log_p = np.log(occ)
    return log_p, {"method": "renewal over deep minima", "wells": int(minima.size),
                   "linear_solver": kp.linear_solver,
                   "residual": stationary_residual(rates, log_p)}


def nonnegative(x):
    """(x with its negative entries set to 0, the largest of them relative to max|x| of its
    column; 0.0 when there are none). The exact solutions of the killed process's systems are
    ≥ 0 (the inverse of an M-matrix applied to non-negative data), so a negative entry is the
    solver's error: its size goes into the diagnostics (``negative_set_to_zero``, and
    ``accurate`` only while it is ≤ BALANCE_TOL), never silently."""
    low = x.min(axis=0) if x.size else np.zeros(1)
    if (low >= 0.0).all():
        return x, 0.0
    scale = np.abs(x).max(axis=0)
    rel = np.where(low < 0.0, -low / np.where(scale > 0.0, scale, 1.0), 0.0)
    return np.maximum(x, 0.0), float(rel.max())


def _block_sum(M, rows_in, cols_in, row_weight, col_weight):
    """Σ_{i ∈ rows_in, j ∈ cols_in} w_i M_ij v_j for CSR M, boolean masks over its rows and
    columns, and weights of shape (N,) or (N, k) (one sum per column of k). The block's
    entries are found by one Numba pass over the pattern (no array of every entry's row); the
    sum is numpy's, over them in storage order."""
    i, sel = block_entries(M, rows_in, cols_in)
    j, m = M.indices[sel], M.data[sel]
    w = np.asarray(row_weight).reshape(M.shape[0], -1)[i]
    v = np.asarray(col_weight).reshape(M.shape[1], -1)[j]
    return (w * m[:, None] * v).sum(axis=0)
