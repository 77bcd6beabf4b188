r"""From absorbing sets to killing rates: the Dirichlet condition at the true edge of a target.

Every first-passage question is asked of the killed process (:mod:`.green`): a jump process on
the kept cells S with the model's rates between them and a *killing rate* κ_i out of each cell
next to a target. This module computes S and κ for targets given as cell masks (:mod:`.targets`)
or as sharp sets (:mod:`.regions`), and records where each killing jump crosses the edge (the
exit sites).

The construction (ghost fluid / Shortley–Weller, edge by edge)
--------------------------------------------------------------
Cells whose centres lie in a target are removed. For a kept cell i and a neighbour j across a
face (segment x_i → x_j of length h), let θh (0 < θ ≤ 1) be the distance from x_i to the first
point of the target on the segment. The jump i → j, of rate r_ij = D_f^α D_i^(1−α) B(−P)/h²
(Scharfetter–Gummel, :mod:`fpsolve.numerics.flux`), is replaced by killing at the rate

    κ_ij = r_ij · B(−θP_s) / (θ B(−P_s)),      P_s = log(r_ij D_j / (r_ji D_i)),

the flux to a Dirichlet point at distance θh: the backward solution between x_i and the edge
is extrapolated to a ghost value at x_j along the exact local solution of the homogeneous
backward equation (the scale function, whose log-slope across the face is P_s; P_s = P for a
constant D). θ = 1 (the edge on the centre x_j) gives back r_ij, the cell-centre meaning of a
mask. Rates between kept cells are unchanged, except that a jump whose segment crosses a target
(a target thinner than a cell, between two kept centres) is removed and both ends are killed.
Absorbing walls (:class:`~fpsolve.escape.regions.Wall`), and targets met between the outermost
centre and the box's wall, are the same construction with θ ≤ ½ on a virtual face beyond the
wall, whose rate and P_s are those of the face behind it.

Why it is second order: the killed generator's rows next to the edge have an O(1) truncation
error (the ghost value is exact to O(h²), divided by h²), but these rows are one layer of cells
where the discrete Green's function is O(h): the global error is O(h²) for every θ (Gibou,
Fedkiw, Cheng & Kang, J. Comput. Phys. 176, 2002, for the Laplacian; the exponential profile
keeps it so at any cell Péclet number). Only the diagonal of L_S changes (rates out of the kept
cells stay those of the model), so the killed generator stays an M-matrix, the stationary
density of the model still balances every edge between kept cells (which the accuracy
diagnostics of :mod:`.green` use), and κ ≥ r_ij for every θ ≤ 1. Measured orders are in
tests/escape/test_escape_sharp_targets.py and the validation case core/sharp_target_orders.

Not guaranteed: second order for a tensor diffusion (refused; use a mask there), for a level
set thinner than the spacing between centres (not seen), and where the edge runs into a
reflecting wall at a corner cell (first order along that line of cells, second order elsewhere).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from ..jit import njit
from ..numerics.flux import log_bernoulli
from ..numerics.generator import empty_csr, to_csr
from .jumps import block_entries, jump_rates
from .mapped import computational_region
from .regions import CellSet, Region, Union, Wall
from .targets import as_mask

#: Smallest θ used: an edge closer than 1e-10 h to a centre is placed at that distance, an
#: O(1e-10 h) shift, so that κ stays finite.
THETA_MIN = 1e-10


@njit(cache=True)
def _log_ratio(theta, P):
    """log(B(−θP)/(θ B(−P))), elementwise: the factor turning a face rate into a killing rate."""
    out = np.empty(theta.size)
    for k in range(theta.size):
        out[k] = log_bernoulli(-theta[k] * P[k]) - log_bernoulli(-P[k]) - np.log(theta[k])
    return out


@dataclass
class Absorption:
    """The kept cells and killing rates of a process absorbed on one or more labelled targets.

    removed : (N,) bool, cells whose centres lie in a target.
    cut : (N, N) sparse, rates of jumps between kept cells whose segment crosses a target.
    kill : (N,) total killing rate of each cell (1/time), zero on removed cells.
    site_from, site_rate, site_point, site_cell, site_label : one entry per killing jump: the
        kept cell it leaves, its rate, the edge point crossed (ndim coordinates), the cell the
        exit is attributed to (the target cell across the face; the leaving cell itself for a
        wall or a target between two kept centres), and the index of its target in ``labels``.
    sharp : whether any edge lies off a cell centre (else this is the cell-centre meaning).
    parts, removed_each : each target's parts and removed cells, by label.
    """

    removed: np.ndarray
    cut: sp.csr_matrix
    kill: np.ndarray
    site_from: np.ndarray
    site_rate: np.ndarray
    site_point: np.ndarray
    site_cell: np.ndarray
    site_label: np.ndarray
    labels: tuple
    sharp: bool
    parts: dict = field(default_factory=dict)  # label → the target's parts (Region, CellSet)
    removed_each: list = field(default_factory=list)  # per label: its removed cells

    def kill_into(self, label) -> np.ndarray:
        """(N,) killing rate of each cell into the target named ``label``."""
        k = self.labels.index(label)
        sel = self.site_label == k
        return np.bincount(self.site_from[sel], weights=self.site_rate[sel],
                           minlength=self.kill.size)

    def removed_by(self, label) -> np.ndarray:
        """(N,) bool: the removed cells that belong to the target named ``label``."""
        return self.removed_each[self.labels.index(label)]


def _parts(spec):
    return list(spec.parts) if isinstance(spec, Union) else [spec]


def _as_part(grid, spec, what, alone=True):
    """A Region (sharp set or Wall) as given, or a CellSet from a mask-like spec (which must
    select a cell unless it is one part of a union)."""
    if isinstance(spec, (Region,)):
        if isinstance(spec, CellSet):
            if spec.mask.size != grid.size:
                raise InputError(f"{what}: the cell mask has {spec.mask.size} entries; the grid "
                                 f"has {grid.size} cells.")
            return CellSet(spec.mask.reshape(grid.shape))
        spec.check(grid.ndim)
        spec = computational_region(spec, grid)  # a set given in x, on a grid reaching to ±∞
        if isinstance(spec, Wall) and grid.periodic[spec.axis]:
            raise InputError(f"{what}: Wall on axis {spec.axis}, which is periodic (no wall).")
        return spec
    return CellSet(as_mask(grid, spec, what, allow_empty=not alone))


def build(model, targets, what="target", t=0.0) -> Absorption:
    """The :class:`Absorption` of ``model`` on ``targets`` (dict label → target spec: a mask, a
    callable mask, a list of intervals, a Field, a Region, a Wall, or a union of them), with the
    model's coefficients at time ``t`` (the cells removed do not depend on it)."""
    g = model.grid
    N = g.size
    labels = tuple(targets)
    parts = {lab: [_as_part(g, p, f"{what} {lab}" if len(labels) > 1 else what,
                            alone=len(_parts(spec)) == 1)
                   for p in _parts(spec)] for lab, spec in targets.items()}
    sharp_parts = any(not isinstance(p, CellSet) for ps in parts.values() for p in ps)
    # every centre only where a sharp set must be tested on them (48 MB and 0.1 s at 128³)
    pts = g.points if sharp_parts else None

    def centres(flat):
        return pts[flat] if pts is not None else g.points_at(flat)

    removed_by = []
    for lab in labels:
        r = np.zeros(N, dtype=bool)
        for p in parts[lab]:
            if isinstance(p, CellSet):
                r |= p.mask.ravel()
            elif not isinstance(p, Wall):
                r |= p.contains(pts)
        removed_by.append(r)
    for a in range(len(labels)):
        for b in range(a + 1, len(labels)):
            if np.any(removed_by[a] & removed_by[b]):
                raise InputError(f"{what}: the sets {labels[a]} and {labels[b]} overlap; they must "
                                 f"be disjoint.")
    removed = np.any(removed_by, axis=0) if labels else np.zeros(N, dtype=bool)
    if removed.all():
        raise InputError(f"{what}: the target covers the whole grid: nothing is left to escape "
                         f"from.")
    if sharp_parts and getattr(model, "tensor", False):
        raise InputError(f"{what}: sharp targets and absorbing walls need a scalar diffusion; "
                         f"with a tensor D give a boolean mask (edge at the cell centres).")
    D = model.schedule(t) * np.asarray(model.D, dtype=float).ravel() if sharp_parts else None

    R = jump_rates(model.rates_at(t))  # R[i, j] = rate i → j
    # the jumps out of kept cells; with cell masks only, just those into removed cells
    rows, ok = block_entries(R, ~removed, removed if not sharp_parts else np.ones(N, bool))
    cols, r_ij = R.indices[ok], R.data[ok]
    x_rows = centres(rows)
    dx = centres(cols) - x_rows
    span = g.bounds[:, 1] - g.bounds[:, 0]
    per = np.asarray(g.periodic)
    wraps = per & (np.abs(dx) > 0.5 * span)
    dx = np.where(wraps, dx - np.sign(dx) * span, dx)  # minimal image across a periodic seam
    length = np.linalg.norm(dx, axis=1) if sharp_parts else None  # (for the crossings only)

    # first crossing (fraction of the segment) of each edge with each target
    t_best = np.full(rows.size, np.inf)
    lab_best = np.full(rows.size, -1, dtype=np.int64)
    for k, lab in enumerate(labels):
        for p in parts[lab]:
            if isinstance(p, Wall):
                continue
            if isinstance(p, CellSet):
                t = np.where(p.mask.ravel()[cols], 1.0, np.inf)
            else:
                t = _edge_crossing(p, pts, rows, cols, dx, length, wraps, g.bounds,
                                   removed_by[k])
            better = t < t_best
            t_best = np.where(better, t, t_best)
            lab_best = np.where(better, k, lab_best)
    hit = np.isfinite(t_best)
    theta = np.clip(t_best[hit], THETA_MIN, 1.0)
    e_from, e_to, e_rate = rows[hit], cols[hit], r_ij[hit]
    kept_to = ~removed[e_to]
    if D is not None:
        # the reverse rate of each cut jump (looked up for these only: a search over every
        # jump cost 1 s at 128³); 0 where it underflowed (a face Péclet number beyond ~700,
        # e.g. next to the image of an exit at infinity), which _scale_peclet reads as P = ±700
        e_rev = _entries(R, e_to, e_from)
        P = _scale_peclet(e_rate, e_rev, D[e_from], D[e_to])
        kappa = e_rate * np.exp(_log_ratio(theta, P))
    else:
        kappa = e_rate  # masks only: θ = 1, the cell-centre rates themselves
    site_point = x_rows[hit] + theta[:, None] * dx[hit]
    site_cell = np.where(kept_to, e_from, e_to)
    # the edges come in R's storage order (rows increasing, columns sorted in each row), so
    # the cut jumps are already a canonical CSR matrix: no COO assembly
    if kept_to.any():
        cut_ptr = np.zeros(N + 1, dtype=np.int64)
        np.cumsum(np.bincount(e_from[kept_to], minlength=N), out=cut_ptr[1:])
        cut = to_csr(e_rate[kept_to], e_to[kept_to], cut_ptr, N)
    else:
        cut = empty_csr(N)

    # absorbing walls, and targets met between the outermost centres and the box's walls
    # (cell sets alone have none)
    w = (_wall_sites(model, parts, labels, removed, D, R, centres) if sharp_parts
         else _no_sites(g.ndim))
    site_from = np.concatenate([e_from, w[0]])
    site_rate = np.concatenate([kappa, w[1]])
    site_point = np.concatenate([site_point, w[2]])
    site_cell = np.concatenate([site_cell, w[0]])
    site_label = np.concatenate([lab_best[hit], w[3]])
    kill = np.bincount(site_from, weights=site_rate, minlength=N)
    sharp = bool((theta < 1.0).any() or kept_to.any() or w[0].size)
    if not removed.any() and not site_from.size:
        raise InputError(f"{what}: the target does not meet the grid (no cell centre in it, no "
                         f"edge between two centres or at a wall). Enlarge it or refine the grid "
                         f"(spacing {tuple(float(h) for h in g.h)}).")
    return Absorption(removed=removed, cut=cut, kill=kill, site_from=site_from,
                      site_rate=site_rate, site_point=site_point, site_cell=site_cell,
                      site_label=site_label, labels=labels, sharp=sharp, parts=parts,
                      removed_each=removed_by)


@njit(cache=True)
def _lookup(data, indices, indptr, rows, cols):
    out = np.zeros(rows.size)
    for k in range(rows.size):
        lo, hi = indptr[rows[k]], indptr[rows[k] + 1]
        while lo < hi:  # bisection in the sorted row
            mid = (lo + hi) // 2
            if indices[mid] < cols[k]:
                lo = mid + 1
            else:
                hi = mid
        if lo < indptr[rows[k] + 1] and indices[lo] == cols[k]:
            out[k] = data[lo]
    return out


def _entries(R, rows, cols):
    """R[rows[k], cols[k]] for each k (0 where R holds no entry); R is CSR with sorted indices.
    A bisection in each row (a search over keys of every entry cost 0.3 s at 128³)."""
    return _lookup(R.data, R.indices, R.indptr, np.asarray(rows, dtype=np.int64),
                   np.asarray(cols, dtype=np.int64))


def _scale_peclet(r_ij, r_ji, D_i, D_j):
    """P_s = log(r_ij D_j / (r_ji D_i)): the log-slope of the scale function across the face."""
    with np.errstate(divide="ignore"):
        P = np.log(r_ij) - np.log(r_ji) + np.log(D_j) - np.log(D_i)
    return np.clip(P, -700.0, 700.0)  # a rate that underflowed: a Péclet number beyond ±700


def _edge_crossing(region, pts, rows, cols, dx, length, wraps, bounds, inside):
    """Fraction of each segment x_i → x_i + dx before it first meets ``region`` (+inf if not).

    A segment across a periodic seam is cut there: its first piece runs from x_i to the seam,
    its second from the seam's image on the other side to x_j, so that the region is met only
    inside the box (a region is not periodic by itself)."""
    t = np.full(rows.size, np.inf)
    wrapped = np.any(wraps, axis=1)
    cand = inside[cols] | wrapped
    if region.lipschitz:  # the set is further than |signed| from a point: skip far segments
        gi = region.signed(pts[rows])
        cand |= gi <= length * (1 + 1e-12)
    sel = np.flatnonzero(cand & ~wrapped)
    if sel.size:
        a = pts[rows[sel]]
        t[sel] = region.crossing(a, a + dx[sel])
    wsel = np.flatnonzero(wrapped)
    if wsel.size:
        a, v = pts[rows[wsel]], dx[wsel]
        ax = np.argmax(wraps[wsel], axis=1)  # the one axis a face-neighbour jump wraps along
        k = np.arange(wsel.size)
        up = v[k, ax] > 0
        seam = np.where(up, bounds[ax, 1], bounds[ax, 0])
        f1 = (seam - a[k, ax]) / v[k, ax]  # fraction of the segment before the seam
        t1 = region.crossing(a, a + f1[:, None] * v) * f1
        a2 = a + f1[:, None] * v
        a2[k, ax] = np.where(up, bounds[ax, 0], bounds[ax, 1])  # the seam's image
        b2 = pts[cols[wsel]]
        t2 = np.where(region.contains(a2), 0.0, region.crossing(a2, b2))
        t[wsel] = np.where(np.isfinite(t1), t1, f1 + t2 * (1.0 - f1))
    return t


def _wall_sites(model, parts, labels, removed, D, R, centres):
    """Killing jumps across the box's walls: (from, rate, point, label) arrays; ``centres``:
    flat cell indices → their centres."""
    g = model.grid
    nd = g.ndim
    out = ([], [], [], [])
    idx = np.arange(g.size).reshape(g.shape)
    for a in range(nd):
        if g.periodic[a]:
            continue
        for side in ("low", "high"):
            sl = [slice(None)] * nd
            inner = [slice(None)] * nd
            sl[a], inner[a] = (0, 1) if side == "low" else (-1, -2)
            cells = idx[tuple(sl)].ravel()
            behind = idx[tuple(inner)].ravel()  # the neighbour on the other side of the cell
            keep = ~removed[cells]
            cells, behind = cells[keep], behind[keep]
            if not cells.size:
                continue
            step = np.zeros(nd)
            step[a] = (-1.0 if side == "low" else 1.0) * g.h[a]
            t = np.full(cells.size, np.inf)
            lab = np.full(cells.size, -1, dtype=np.int64)
            for k, name in enumerate(labels):
                for p in parts[name]:
                    if isinstance(p, Wall):
                        tk = np.full(cells.size, 0.5 if (p.axis == a and side in p.sides)
                                     else np.inf)
                    elif isinstance(p, CellSet):
                        continue
                    else:  # a sharp set between the outermost centre and the wall
                        x0 = centres(cells)
                        tk = p.crossing(x0, x0 + 0.5 * step) * 0.5
                    better = tk < t
                    t = np.where(better, tk, t)
                    lab = np.where(better, k, lab)
            hit = np.isfinite(t)
            if not hit.any():
                continue
            c, b = cells[hit], behind[hit]
            theta = np.clip(t[hit], THETA_MIN, 0.5)
            # the virtual face beyond the wall takes the rate and Péclet number of the face
            # behind the cell in the same direction (rate b → c), its D factor moved to c
            r_in = np.asarray(R[b, c]).ravel()
            r_back = np.asarray(R[c, b]).ravel()
            P = _scale_peclet(r_in, r_back, D[b], D[c])
            rate = r_in * D[c] / D[b] * np.exp(_log_ratio(theta, P))
            out[0].append(c)
            out[1].append(rate)
            out[2].append(centres(c) + theta[:, None] * step)
            out[3].append(lab[hit])
    if not out[0]:
        return _no_sites(nd)
    return tuple(np.concatenate(v) for v in out)


def _no_sites(ndim):
    """The (from, rate, point, label) arrays of :func:`_wall_sites` when there are none."""
    return (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros((0, ndim)),
            np.zeros(0, dtype=np.int64))
