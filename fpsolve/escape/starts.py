"""Start laws on the cells: a point start interpolated at second order, edges included.

A first-passage answer from a point x₀ is linear in the start law, so it is the interpolation of
the answers from the cells around x₀. Splitting a unit mass over those cells with the weights of
multilinear interpolation (as :meth:`fpsolve.fields.field.Field.at` does) makes survival curves,
exit laws and conditional exit times from x₀ second-order accurate, where putting the mass in the
cell that contains x₀ is first order (an error of up to h/2 in the start).

Next to a target the answers vanish on its edge, not at the centre of the next cell: along each
axis the interpolation then runs between the kept centre and the edge point (sharp sets, walls;
see :mod:`.regions`), and the weight of the edge point is mass absorbed at t = 0 there. Between
the outermost centre and a reflecting wall the value of the outermost cell is used (constant
extension, the reflecting condition to second order), as Field.at does. Cell-mask targets keep
their cell-centre meaning: a neighbour cell in the target is an absorbing node.

The recursion goes axis by axis (2^d corner cells at most), each step locating the edge on the
segment actually interpolated along. A region is not wrapped across a periodic seam here: a
start within h of the seam and of a sharp target across it uses the cell-centre value there.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..fields.field import Density, Field
from .regions import CellSet, Wall
from .targets import is_point


@dataclass
class StartLaw:
    """A start law split over the cells: ``masses`` (N,), and the mass absorbed at t = 0 on
    target edges: ``edge_points`` (k, ndim), ``edge_masses`` (k,), ``edge_labels`` (k,) (index
    of the target they belong to; −1 when no absorption was given)."""

    masses: np.ndarray
    edge_points: np.ndarray
    edge_masses: np.ndarray
    edge_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def absorbed(self) -> float:
        return float(self.edge_masses.sum())


def start_law(model, start, absorption=None, what="start") -> StartLaw:
    """The :class:`StartLaw` of ``start``: a point (interpolated; see the module doc) or a start
    density (Density, array on the grid, or callable of the coordinates), whose cell masses are
    its values × cell volume (mass on removed cells counts as absorbed at t = 0 there)."""
    g = model.grid
    if is_point(g, start):
        x = np.asarray(start, dtype=float).reshape(-1)
        if g.mapped:  # a point in x (±inf allowed: the image of infinity, the end of y)
            x = g.to_computational(x)
        return _point_law(g, x, absorption, what)
    p = model.density(start) if hasattr(model, "density") else Density(g, start)  # in x
    if isinstance(start, Field) and start.grid != g:
        raise InputError(f"{what}: the density lives on a different grid than the model.")
    return StartLaw((p.values * g.cell_volume).ravel(), np.zeros((0, g.ndim)), np.zeros(0),
                    np.zeros(0, dtype=np.int64))


def _point_law(g, x, absorption, what):
    if x.size != g.ndim or not np.all(np.isfinite(x)):
        raise InputError(f"{what}: the point {x.tolist()} needs {g.ndim} finite coordinates.")
    if not g.contains(x)[0]:
        raise InputError(f"{what}: the point {x.tolist()} lies outside the grid {g!r}.")
    regions, walls, removed = [], [], np.zeros(g.size, dtype=bool)
    if absorption is not None:
        removed = absorption.removed
        for k, lab in enumerate(absorption.labels):
            for p in absorption.parts[lab]:
                if isinstance(p, Wall):
                    walls.extend((p.axis, side, k) for side in p.sides)
                elif not isinstance(p, CellSet):
                    regions.append((p, k))
    masses = np.zeros(g.size)
    edges = []
    lo, hi = g.bounds[:, 0], g.bounds[:, 1]

    def crossing(a, b):
        """(t, label) of the first sharp region met on the segment a → b."""
        best, lab = np.inf, -1
        for r, k in regions:
            t = float(r.crossing(a[None, :], b[None, :])[0])
            if t < best:
                best, lab = t, k
        return best, lab

    def label_of_cell(c):
        if absorption is None:
            return -1
        for k, lab in enumerate(absorption.labels):
            if absorption.removed_by(lab)[c]:
                return k
        return -1

    def rec(p, m, weight):
        if weight == 0.0:
            return
        for r, k in regions:
            if r.contains(p[None, :])[0]:
                edges.append((p.copy(), weight, k))
                return
        if m == g.ndim:  # p is a cell centre
            idx = np.rint((p - lo) / g.h - 0.5).astype(int)
            idx = np.where(g.periodic, np.mod(idx, g.shape), np.clip(idx, 0, np.array(g.shape) - 1))
            c = int(np.ravel_multi_index(tuple(idx), g.shape))
            if removed[c]:
                edges.append((p.copy(), weight, label_of_cell(c)))
            else:
                masses[c] += weight
            return
        n, h = g.shape[m], g.h[m]
        s = (p[m] - lo[m]) / h - 0.5
        i0 = int(np.floor(s))
        sides = []  # (distance, node point or None, edge point or None, label)
        for i, wall_side in ((i0, "low"), (i0 + 1, "high")):
            if g.periodic[m] or 0 <= i < n:
                q = p.copy()
                q[m] = lo[m] + (i + 0.5) * h
                t, k = crossing(p, q) if regions else (np.inf, -1)
                d = abs(q[m] - p[m])
                if t <= 1.0:
                    sides.append((t * d, None, p + t * (q - p), k))
                else:
                    sides.append((d, q, None, -1))
                continue
            # beyond the outermost centre: an absorbing wall, a sharp edge before the wall, or
            # (reflecting) nothing: constant extension
            wpt = p.copy()
            wpt[m] = lo[m] if wall_side == "low" else hi[m]
            t, k = crossing(p, wpt) if regions else (np.inf, -1)
            wk = [kk for ax, sd, kk in walls if ax == m and sd == wall_side]
            if t <= 1.0:
                sides.append((t * abs(wpt[m] - p[m]), None, p + t * (wpt - p), k))
            elif wk:
                sides.append((abs(wpt[m] - p[m]), None, wpt, wk[0]))
        if len(sides) == 1:
            parts = [(1.0, sides[0])]
        else:
            (dl, *_), (dr, *_) = sides
            tot = dl + dr
            parts = [(1.0, sides[0])] if tot == 0 else [(dr / tot, sides[0]), (dl / tot, sides[1])]
        for frac, (_, node, edge_pt, k) in parts:
            if frac == 0.0:
                continue
            if node is not None:
                rec(node, m + 1, weight * frac)
            else:
                edges.append((edge_pt, weight * frac, k))

    rec(x.astype(float), 0, 1.0)
    if edges:
        pts = np.array([e[0] for e in edges])
        em = np.array([e[1] for e in edges])
        el = np.array([e[2] for e in edges], dtype=np.int64)
    else:
        pts, em, el = np.zeros((0, g.ndim)), np.zeros(0), np.zeros(0, dtype=np.int64)
    return StartLaw(masses, pts, em, el)
