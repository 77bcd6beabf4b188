"""Sharp-edged absorbing sets: where a target's edge lies between the cell centres.

A boolean mask (or a callable returning booleans at the cell centres, or a box given as a list of
intervals) says which *cells* are absorbing; its edge is at the centres of the first target cells
(:mod:`.targets`). The objects here describe a set *in space* instead, so that the first-passage
solvers can put the Dirichlet condition at its true edge, wherever it lies between two centres
(:mod:`.absorption`):

- :class:`HalfSpace` ``{x : n·x ≥ c}``, :class:`Box` ``{lo ≤ x ≤ hi}`` (sides may be open),
  :class:`Ball` ``{|x − x₀| ≤ r}``, each with an exact segment intersection;
- :class:`LevelSet` ``{g(x) ≤ 0}`` for a callable g of the coordinates, or ``{f(x)}`` for a
  callable returning booleans: the edge is found by root finding (Illinois) or bisection along
  each grid segment whose ends lie on both sides;
- :class:`Outside` (also ``~region``): the closed complement, e.g. the exit from a ball;
- :class:`Wall`: an absorbing wall of the box, per side of an axis (the strip (−1, 1) killed at
  both ends is ``Wall(0)`` on a grid over [−1, 1]);
- unions with ``|`` (also with a boolean mask wrapped as :class:`CellSet`).

Every set is closed: a cell centre on the edge belongs to it. Coordinates are the grid's; a
region is never wrapped around a periodic axis by itself (the solver tests the images of each
segment across the seam).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

#: Relative accuracy of an edge found by root finding along a segment (fraction of its length).
EDGE_TOL = 1e-13


class Region:
    """A closed set in space, absorbing with a sharp edge. Subclasses give ``signed`` (≤ 0
    inside) and ``crossing``; ``lipschitz`` says whether |signed(x) − signed(y)| ≤ |x − y|, which
    lets the solver skip segments that cannot reach the set."""

    lipschitz = True
    __array_ufunc__ = None  # ``mask | region`` defers to Region.__ror__ instead of numpy

    def signed(self, x):
        """A continuous function of the points x (m, ndim), ≤ 0 exactly on the set."""
        raise NotImplementedError

    def contains(self, x):
        """Whether each point of x (m, ndim) lies in the (closed) set."""
        return self.signed(np.atleast_2d(x)) <= 0

    def crossing(self, a, b):
        """First t ∈ [0, 1] with a + t(b − a) in the set, for points a outside it; +inf where the
        segment misses it. a, b : (m, ndim)."""
        raise NotImplementedError

    def check(self, ndim):
        """Raise InputError unless the region lives in ``ndim`` dimensions."""

    def __or__(self, other):
        return Union(self, other)

    def __ror__(self, other):
        return Union(other, self)

    def __invert__(self):
        return Outside(self)


class _Convex(Region):
    """A closed convex set given by the interval of t where a + t(b − a) lies in it."""

    def interval(self, a, b):
        """(t_in, t_out) per segment (t_in > t_out when the line misses the set)."""
        raise NotImplementedError

    def crossing(self, a, b):
        t_in, t_out = self.interval(a, b)
        hit = (t_in <= t_out) & (t_in <= 1.0) & (t_out >= 0.0)
        return np.where(hit, np.clip(t_in, 0.0, None), np.inf)


def _vector(v, name, where):
    try:
        arr = np.atleast_1d(np.asarray(v, dtype=float))
    except (TypeError, ValueError):
        raise InputError(f"{where}: {name} must be numbers; got {v!r}.") from None
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise InputError(f"{where}: {name} must be a finite vector; got {v!r}.")
    return arr


class HalfSpace(_Convex):
    """The closed half-space {x : normal·x ≥ offset}.

    1D examples: ``HalfSpace(1, 1.0)`` is x ≥ 1, ``HalfSpace(-1, 1.0)`` is x ≤ −1;
    2D: ``HalfSpace((1, 1), 0.5)`` is x + y ≥ 0.5.
    """

    def __init__(self, normal, offset):
        n = _vector(normal, "normal", "HalfSpace")
        norm = float(np.linalg.norm(n))
        if not norm > 0:
            raise InputError("HalfSpace: the normal must not be zero.")
        self.normal = n / norm
        self.offset = float(offset) / norm

    def check(self, ndim):
        if self.normal.size != ndim:
            raise InputError(f"HalfSpace: the normal has {self.normal.size} components; the grid "
                             f"has {ndim} axes.")

    def signed(self, x):
        return self.offset - np.atleast_2d(x) @ self.normal

    def interval(self, a, b):
        ga, gb = self.signed(a), self.signed(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = ga / (ga - gb)  # where g vanishes on the line
        rising = gb < ga  # moving into the half-space
        inf = np.full(ga.shape, np.inf)
        t_in = np.where(rising, t, np.where(ga <= 0, -inf, inf))
        t_out = np.where(rising, inf, np.where(gb == ga, np.where(ga <= 0, inf, -inf), t))
        return t_in, t_out

    def __repr__(self):
        return f"HalfSpace(normal={self.normal.tolist()}, offset={self.offset:g})"


class Box(_Convex):
    """The closed box {lo_a ≤ x_a ≤ hi_a}; ``None`` or ±inf leaves a side open.

    ``Box([(1.0, None)])`` is x ≥ 1 in 1D (a single pair is accepted there);
    ``Box([(0, 1), (None, 0.2)])`` in 2D. Unlike a plain list of intervals (which selects the
    cells whose centres lie in the box), the edge of a Box is placed exactly.
    """

    def __init__(self, bounds):
        b = list(bounds)
        if len(b) == 2 and all(v is None or np.ndim(v) == 0 for v in b):
            b = [tuple(b)]
        lo, hi = [], []
        for iv in b:
            if iv is None:
                iv = (None, None)
            if len(iv) != 2:
                raise InputError(f"Box: each axis needs one (lo, hi) pair; got {iv!r}.")
            lo.append(-np.inf if iv[0] is None else float(iv[0]))
            hi.append(np.inf if iv[1] is None else float(iv[1]))
        self.lo, self.hi = np.array(lo), np.array(hi)
        if np.any(np.isnan(self.lo)) or np.any(np.isnan(self.hi)) or np.any(self.lo > self.hi):
            raise InputError(f"Box: need lo ≤ hi on every axis; got {list(zip(lo, hi))}.")

    def check(self, ndim):
        if self.lo.size != ndim:
            raise InputError(f"Box: {self.lo.size} intervals for a grid with {ndim} axes.")

    def signed(self, x):
        x = np.atleast_2d(x)
        with np.errstate(invalid="ignore"):
            return np.max(np.maximum(self.lo - x, x - self.hi), axis=1)

    def interval(self, a, b):
        v = b - a
        with np.errstate(divide="ignore", invalid="ignore"):
            t1 = (self.lo - a) / v
            t2 = (self.hi - a) / v
        lo_t = np.where(v != 0, np.minimum(t1, t2),
                        np.where((a >= self.lo) & (a <= self.hi), -np.inf, np.inf))
        hi_t = np.where(v != 0, np.maximum(t1, t2),
                        np.where((a >= self.lo) & (a <= self.hi), np.inf, -np.inf))
        lo_t = np.nan_to_num(lo_t, nan=-np.inf)
        hi_t = np.nan_to_num(hi_t, nan=np.inf)
        return np.max(lo_t, axis=1), np.min(hi_t, axis=1)

    def __repr__(self):
        return f"Box({list(zip(self.lo.tolist(), self.hi.tolist()))})"


class Ball(_Convex):
    """The closed ball {|x − centre| ≤ radius}; its complement ``~Ball(...)`` is the exit from
    a ball."""

    def __init__(self, centre, radius):
        self.centre = _vector(centre, "centre", "Ball")
        self.radius = float(radius)
        if not self.radius > 0:
            raise InputError(f"Ball: radius must be > 0; got {radius!r}.")

    def check(self, ndim):
        if self.centre.size != ndim:
            raise InputError(f"Ball: the centre has {self.centre.size} coordinates; the grid has "
                             f"{ndim} axes.")

    def signed(self, x):
        return np.linalg.norm(np.atleast_2d(x) - self.centre, axis=1) - self.radius

    def interval(self, a, b):
        v = b - a
        w = a - self.centre
        A = np.einsum("ij,ij->i", v, v)
        B = np.einsum("ij,ij->i", v, w)
        C = np.einsum("ij,ij->i", w, w) - self.radius ** 2
        disc = B * B - A * C
        root = np.sqrt(np.clip(disc, 0.0, None))
        # t = (−B ∓ root)/A, written without cancellation: q = −(B + sign(B) root)
        q = -(B + np.copysign(root, B))
        with np.errstate(divide="ignore", invalid="ignore"):
            t1, t2 = q / A, C / q
        t_in = np.where(disc >= 0, np.minimum(t1, t2), np.inf)
        t_out = np.where(disc >= 0, np.maximum(t1, t2), -np.inf)
        return np.nan_to_num(t_in, nan=np.inf), np.nan_to_num(t_out, nan=-np.inf)

    def __repr__(self):
        return f"Ball(centre={self.centre.tolist()}, radius={self.radius:g})"


class Outside(Region):
    """The closed complement {x : x not in the interior of ``region``} (``~region``)."""

    def __init__(self, region):
        if not isinstance(region, Region) or isinstance(region, (Union, CellSet)):
            raise InputError("Outside: give a HalfSpace, Box, Ball or LevelSet.")
        self.region = region
        self.lipschitz = region.lipschitz

    def check(self, ndim):
        self.region.check(ndim)

    def signed(self, x):
        return -self.region.signed(x)

    def crossing(self, a, b):
        if isinstance(self.region, _Convex):  # a is inside the convex set: where it leaves it
            t_in, t_out = self.region.interval(a, b)
            return np.where((t_out >= 0) & (t_out <= 1.0), t_out, np.inf)
        return _root_crossing(self.signed, a, b)

    def __invert__(self):
        return self.region

    def __repr__(self):
        return f"Outside({self.region!r})"


class LevelSet(Region):
    """The set {g(x₁, …, x_d) ≤ 0} of a callable g (vectorised over numpy arrays), or the set
    where g returns True if it returns booleans.

    The edge on a grid segment whose ends lie on both sides is located by the Illinois variant of
    regula falsi (real g; starts from linear interpolation, converges superlinearly) or by
    bisection (boolean g), to 1e-13 of the segment. g need only be continuous; a feature of the
    set thinner than the spacing, met by no cell centre, is not seen (both ends outside).
    """

    lipschitz = False

    def __init__(self, g):
        if not callable(g):
            raise InputError("LevelSet: give a callable g(x1, …, xd) (the set is g ≤ 0) or a "
                             "callable returning booleans (the set is where it is True).")
        self.g = g

    def _call(self, x):
        x = np.atleast_2d(x)
        try:
            val = self.g(*[x[:, a] for a in range(x.shape[1])])
        except Exception as exc:
            raise InputError(f"LevelSet: calling g failed with {type(exc).__name__}: {exc}. It is "
                             f"called as g(x1, …) with 1D numpy arrays of coordinates.") from exc
        val = np.broadcast_to(np.asarray(val), (x.shape[0],))
        return val

    def signed(self, x):
        val = self._call(x)
        if val.dtype == bool:
            return np.where(val, -1.0, 1.0)
        val = val.astype(float)
        if np.any(np.isnan(val)):
            raise InputError("LevelSet: g returned NaN.")
        return val

    def crossing(self, a, b):
        return _root_crossing(self.signed, a, b, boolean=self._call(a[:1]).dtype == bool)

    def __repr__(self):
        return f"LevelSet({getattr(self.g, '__name__', 'g')})"


def _root_crossing(f, a, b, boolean=False, iters=80):
    """t ∈ (0, 1] where f(a + t(b − a)) changes sign, for segments with f(a) > 0 ≥ f(b)
    (+inf elsewhere): Illinois regula falsi, or bisection for a boolean-valued f."""
    fa, fb = f(a), f(b)
    t = np.full(fa.shape, np.inf)
    sel = np.flatnonzero((fa > 0) & (fb <= 0))
    if not sel.size:
        return t
    a, b = a[sel], b[sel]
    lo, hi = np.zeros(sel.size), np.ones(sel.size)
    flo, fhi = fa[sel], fb[sel]
    side = np.zeros(sel.size, dtype=np.int8)  # Illinois: which end was kept last time
    for _ in range(iters):
        if boolean:
            mid = 0.5 * (lo + hi)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                mid = hi - fhi * (hi - lo) / (fhi - flo)
            bad = ~np.isfinite(mid) | (mid <= lo) | (mid >= hi)
            mid = np.where(bad, 0.5 * (lo + hi), mid)
        fm = f(a + mid[:, None] * (b - a))
        inside = fm <= 0
        hi = np.where(inside, mid, hi)
        lo = np.where(inside, lo, mid)
        if not boolean:
            fhi = np.where(inside, fm, np.where(side == 1, 0.5 * fhi, fhi))
            flo = np.where(inside, np.where(side == -1, 0.5 * flo, flo), fm)
            side = np.where(inside, -1, 1).astype(np.int8)
        if np.all(hi - lo <= EDGE_TOL):
            break
    t[sel] = hi if boolean else np.where(hi - lo <= EDGE_TOL, 0.5 * (lo + hi), hi)
    return t


class CellSet(Region):
    """A set of cells (boolean mask on the grid): the cell-centre meaning of a mask, a callable
    mask or a list of intervals; its edge is at the centres of its cells. Used to combine a mask
    with sharp regions in a union."""

    lipschitz = False

    def __init__(self, mask):
        self.mask = np.asarray(mask, dtype=bool)

    def signed(self, x):
        raise InputError("CellSet: membership is defined at the cell centres only.")

    def crossing(self, a, b):
        return np.full(len(a), np.inf)

    def __repr__(self):
        return f"CellSet({int(self.mask.sum())} cells)"


class Wall(Region):
    """An absorbing wall of the grid's box: ``side`` "low", "high" or "both" of ``axis``.

    The Dirichlet condition sits on the wall itself (the outer faces of the boundary cells);
    combine walls with ``|``: ``Wall(0) | Wall(1, "low")``. A periodic axis has no wall.
    """

    lipschitz = False

    def __init__(self, axis=0, side="both"):
        if side not in ("low", "high", "both"):
            raise InputError(f"Wall: side={side!r}; choose 'low', 'high' or 'both'.")
        if not isinstance(axis, (int, np.integer)) or axis < 0:
            raise InputError(f"Wall: axis must be a non-negative integer; got {axis!r}.")
        self.axis = int(axis)
        self.sides = ("low", "high") if side == "both" else (side,)

    def check(self, ndim):
        if self.axis >= ndim:
            raise InputError(f"Wall: axis {self.axis} does not exist on a {ndim}D grid.")

    def signed(self, x):
        return np.full(len(np.atleast_2d(x)), np.inf)

    def crossing(self, a, b):
        return np.full(len(a), np.inf)

    def __repr__(self):
        side = "both" if len(self.sides) == 2 else self.sides[0]
        return f"Wall(axis={self.axis}, side={side!r})"


class Union(Region):
    """The union of several sets (``a | b``)."""

    def __init__(self, *parts):
        flat = []
        for p in parts:
            flat.extend(p.parts if isinstance(p, Union) else [p])
        self.parts = tuple(flat)
        self.lipschitz = all(getattr(p, "lipschitz", False) for p in self.parts)

    def check(self, ndim):
        for p in self.parts:
            if isinstance(p, Region):
                p.check(ndim)

    def signed(self, x):
        return np.min([p.signed(x) for p in self.parts if not isinstance(p, (CellSet, Wall))],
                      axis=0)

    def crossing(self, a, b):
        return np.min([p.crossing(a, b) for p in self.parts], axis=0)

    def __repr__(self):
        return " | ".join(repr(p) for p in self.parts)
