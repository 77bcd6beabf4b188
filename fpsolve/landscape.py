"""Critical points of a potential in 1 to 3 dimensions: minima, index-1 saddles, barriers.

So that the theory formulas (Eyring–Kramers, basin-probability limits, Xie et al.'s and Dai–Zhu's
escape times) can be applied to a user's potential without hand work::

    from fpsolve.landscape import analyze
    land = analyze(lambda x, y: (x**2 - 1)**2 + y**2, [(-2, 2), (-1.5, 1.5)])
    land.minima[0].x, land.barrier(0, 1), land.saddle_between(0, 1).hessian
    land.kramers_time(0, 1, diffusion=0.1)     # fpsolve.theory.kramers.eyring_kramers_time

Method
------
1. U is sampled on a lattice of nodes spanning the box (bounds included).
2. Mountain pass: nodes are added in order of U and joined to their face neighbours with
   union-find; a node that joins two components is the lowest pass between them, so the merge
   tree gives, for every pair of minima, the minimax ("mountain-pass") level and its location.
3. Every index-1 saddle, not only those on the merge tree (a ring of four wells has four saddles
   but three merges), is a node whose lower link — the neighbours (3^d − 1 of them) below it,
   connected across shared faces — has two or more components (discrete Morse theory).
4. Candidates (lattice minima, merge nodes, lower-link saddles) are refined by Newton's method on
   ∇U = 0, with steps limited to a few lattice spacings, and classified by the eigenvalues of the
   Hessian: index = number of negative eigenvalues. Derivatives are the user's ``gradient`` /
   ``hessian`` if given, else central differences (fourth order for the gradient, step
   ε^(1/5)·L; second order for the Hessian, step ε^(1/4)·L, L the box size): refined points are
   accurate to ~1e-9·L for smooth U.

Ties in U are broken by node index (simulation of simplicity), so plateaus create no spurious
critical points. Points where U decreases out of the box are not critical points and are
dropped; make the box large enough to contain the wells and passes of interest.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .jit import njit
from .theory.kramers import eyring_kramers_time

DEFAULT_SHAPE = {1: 2001, 2: 201, 3: 51}


# ------------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CriticalPoint:
    """A critical point x of U (∇U(x) = 0) with its value U(x), Hessian and Morse index
    (number of negative Hessian eigenvalues: 0 minimum, 1 saddle, d maximum)."""

    x: np.ndarray
    value: float
    hessian: np.ndarray
    index: int
    gradient_norm: float = 0.0

    @property
    def eigenvalues(self) -> np.ndarray:
        """Hessian eigenvalues, ascending (the unstable one first at a saddle)."""
        return np.linalg.eigvalsh(self.hessian)

    @property
    def kind(self) -> str:
        """"minimum", "maximum" or "index-k saddle", from the number k of negative Hessian
        eigenvalues.
        """
        d = self.hessian.shape[0]
        return {0: "minimum", d: "maximum"}.get(self.index, f"index-{self.index} saddle")

    def __repr__(self):
        xs = ", ".join(f"{v:.6g}" for v in self.x)
        return f"CriticalPoint(x=({xs}), value={self.value:.6g}, index={self.index})"


@dataclass
class Landscape:
    """Minima and index-1 saddles of a potential, and the lowest saddle between any two minima.

    minima : CriticalPoints of index 0, by increasing value. saddles : index 1, by increasing
    value. others : other critical points found (maxima, higher-index saddles, degenerate).
    info : lattice shape, number of candidates, and pairs whose lowest pass could not be refined
    to an index-1 saddle (their barrier uses the lattice node instead).
    """

    minima: list
    saddles: list
    others: list = field(default_factory=list)
    bounds: np.ndarray | None = None
    info: dict = field(default_factory=dict)
    _pass: dict = field(default_factory=dict, repr=False)

    def saddle_between(self, i: int, j: int) -> CriticalPoint:
        """The lowest saddle on any path from minimum i to minimum j (the mountain pass)."""
        self._check(i, j)
        key = (min(i, j), max(i, j))
        if key not in self._pass:
            raise InputError(f"Landscape: minima {i} and {j} are not connected inside the box.")
        return self._pass[key]

    def barrier(self, i: int, j: int) -> float:
        """Barrier height from minimum i towards minimum j: U(lowest saddle) − U(minimum i)."""
        return float(self.saddle_between(i, j).value - self.minima[i].value)

    def barriers(self) -> np.ndarray:
        """Matrix of barrier(i, j) (0 on the diagonal)."""
        k = len(self.minima)
        B = np.zeros((k, k))
        for i, j in itertools.permutations(range(k), 2):
            B[i, j] = self.barrier(i, j)
        return B

    def nearest_minimum(self, x) -> int:
        """Index of the minimum closest to the point x."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        return int(np.argmin([np.linalg.norm(m.x - x) for m in self.minima]))

    def kramers_time(self, i: int, j: int, diffusion: float):
        """Eyring–Kramers estimate of the mean time to go from minimum i over the lowest saddle
        towards j, for dX = −∇U dt + sqrt(2D) dW with constant scalar D
        (:func:`fpsolve.theory.kramers.eyring_kramers_time`)."""
        s = self.saddle_between(i, j)
        return eyring_kramers_time(self.minima[i].hessian, s.hessian, self.barrier(i, j),
                                   diffusion)

    def _check(self, *ids):
        for i in ids:
            if not 0 <= i < len(self.minima):
                raise InputError(f"Landscape: minimum index {i} out of range (there are "
                                 f"{len(self.minima)} minima).")

    def __repr__(self):
        return (f"Landscape({len(self.minima)} minima, {len(self.saddles)} saddles, "
                f"{len(self.others)} other critical points)")


# ------------------------------------------------------------------------------------------------
# lattice kernels
# ------------------------------------------------------------------------------------------------
@njit(cache=True)
def _find(parent, c):
    root = c
    while parent[root] != root:
        root = parent[root]
    while parent[c] != root:
        nxt = parent[c]
        parent[c] = root
        c = nxt
    return root


@njit(cache=True)
def _neighbour(c, shape, off):
    """Flat index of node c shifted by the offset ``off`` (3 entries), −1 if outside."""
    i = c // (shape[1] * shape[2])
    j = (c // shape[2]) % shape[1]
    k = c % shape[2]
    i2, j2, k2 = i + off[0], j + off[1], k + off[2]
    if i2 < 0 or j2 < 0 or k2 < 0 or i2 >= shape[0] or j2 >= shape[1] or k2 >= shape[2]:
        return -1
    return (i2 * shape[1] + j2) * shape[2] + k2


@njit(cache=True)
def _merge_tree(rank, order, shape, faces):
    """Union-find sweep in ``order``; returns (seeds, events).

    seeds: nodes that start a component (lower than all face neighbours). events (m, 3): node at
    which two components meet, and the seeds of the two components.
    """
    N = order.size
    parent = np.full(N, -1, dtype=np.int64)
    seed = np.full(N, -1, dtype=np.int64)
    events = np.empty((N, 3), dtype=np.int64)
    ne = 0
    seeds = np.empty(N, dtype=np.int64)
    ns = 0
    for pos in range(N):
        c = order[pos]
        parent[c] = c
        seed[c] = c
        joined = False
        for f in range(faces.shape[0]):
            n = _neighbour(c, shape, faces[f])
            if n < 0 or parent[n] < 0:
                continue
            r1 = _find(parent, c)
            r2 = _find(parent, n)
            if r1 == r2:
                continue
            if not joined:
                parent[r1] = r2
                joined = True
                continue
            events[ne, 0] = c
            events[ne, 1] = seed[r1]
            events[ne, 2] = seed[r2]
            ne += 1
            if rank[seed[r1]] < rank[seed[r2]]:
                parent[r2] = r1
            else:
                parent[r1] = r2
        if not joined:
            seeds[ns] = c
            ns += 1
    return seeds[:ns], events[:ne]


@njit(cache=True)
def _lower_link_saddles(rank, shape, offsets, adjacent):
    """Interior nodes whose lower link has two or more face-connected components."""
    N = rank.size
    K = offsets.shape[0]
    out = np.empty(N, dtype=np.int64)
    m = 0
    lower = np.zeros(K, dtype=np.bool_)
    comp = np.empty(K, dtype=np.int64)
    stack = np.empty(K, dtype=np.int64)
    for c in range(N):
        interior = True
        nlow = 0
        for q in range(K):
            n = _neighbour(c, shape, offsets[q])
            if n < 0:
                interior = False
                break
            lower[q] = rank[n] < rank[c]
            if lower[q]:
                nlow += 1
        if not interior or nlow < 2:
            continue
        for q in range(K):
            comp[q] = -1
        ncomp = 0
        for q in range(K):
            if not lower[q] or comp[q] >= 0:
                continue
            comp[q] = ncomp
            top = 0
            stack[top] = q
            top += 1
            while top > 0:
                top -= 1
                a = stack[top]
                for b in range(K):
                    if adjacent[a, b] and lower[b] and comp[b] < 0:
                        comp[b] = ncomp
                        stack[top] = b
                        top += 1
            ncomp += 1
        if ncomp >= 2:
            out[m] = c
            m += 1
    return out[:m]


def _offsets(ndim):
    offs = [o for o in itertools.product((-1, 0, 1), repeat=ndim) if any(o)]
    offs = np.array([list(o) + [0] * (3 - ndim) for o in offs], dtype=np.int64)
    faces = np.array([o for o in offs if np.abs(o).sum() == 1], dtype=np.int64)
    adjacent = np.abs(offs[:, None, :] - offs[None, :, :]).sum(axis=2) == 1
    return offs, faces, adjacent


# ------------------------------------------------------------------------------------------------
# derivatives and Newton refinement
# ------------------------------------------------------------------------------------------------
class _Derivatives:
    def __init__(self, potential, ndim, length, gradient=None, hessian=None):
        self.U = potential
        self.d = ndim
        self.gradient_fn = gradient
        self.hessian_fn = hessian
        eps = np.finfo(float).eps
        self.hg = eps ** 0.2 * length
        self.hh = eps ** 0.25 * length

    def value(self, X):
        """U at points X (m, d) → (m,)."""
        X = np.atleast_2d(X)
        out = np.asarray(self.U(*[X[:, a] for a in range(self.d)]), dtype=float)
        return np.broadcast_to(out, (X.shape[0],)).astype(float)

    def grad(self, x):
        if self.gradient_fn is not None:
            g = self.gradient_fn(*[float(v) for v in x])
            return np.asarray([float(np.asarray(c)) for c in np.atleast_1d(g)] if self.d > 1
                              else [float(np.asarray(g).ravel()[0])], dtype=float)
        h = self.hg
        E = np.eye(self.d) * h
        pts = np.concatenate([x + 2 * E, x + E, x - E, x - 2 * E])
        v = self.value(pts).reshape(4, self.d)
        return (-v[0] + 8 * v[1] - 8 * v[2] + v[3]) / (12 * h)

    def hess(self, x):
        if self.hessian_fn is not None:
            H = np.asarray(self.hessian_fn(*[float(v) for v in x]), dtype=float)
            return 0.5 * (H.reshape(self.d, self.d) + H.reshape(self.d, self.d).T)
        h = self.hh
        d = self.d
        E = np.eye(d) * h
        pts = [x]
        for i in range(d):
            pts += [x + E[i], x - E[i]]
        for i, j in itertools.combinations(range(d), 2):
            pts += [x + E[i] + E[j], x + E[i] - E[j], x - E[i] + E[j], x - E[i] - E[j]]
        v = self.value(np.array(pts))
        H = np.empty((d, d))
        f0 = v[0]
        for i in range(d):
            H[i, i] = (v[1 + 2 * i] - 2 * f0 + v[2 + 2 * i]) / h ** 2
        q = 1 + 2 * d
        for i, j in itertools.combinations(range(d), 2):
            H[i, j] = H[j, i] = (v[q] - v[q + 1] - v[q + 2] + v[q + 3]) / (4 * h ** 2)
            q += 4
        return H


def _newton(der, x0, lo, hi, spacing, maxiter=60):
    """Newton on ∇U = 0 from x0, steps ≤ 2 lattice spacings, staying within 6 spacings of x0
    and inside the box. Returns (x, converged)."""
    x = np.array(x0, dtype=float)
    smax = 2.0 * spacing
    tol = 1e-12 * max(1.0, float(np.max(hi - lo)))
    for _ in range(maxiter):
        g = der.grad(x)
        H = der.hess(x)
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = -np.linalg.lstsq(H, g, rcond=None)[0]
        n = np.linalg.norm(step)
        if not np.isfinite(n):
            return x, False
        if n > smax:
            step *= smax / n
        x = x + step
        if np.any(x < lo - 1e-9 * (hi - lo)) or np.any(x > hi + 1e-9 * (hi - lo)):
            return x, False
        if np.linalg.norm(x - x0) > 6.0 * spacing:
            return x, False
        if n <= tol:
            return x, True
    return x, bool(np.linalg.norm(der.grad(x)) <= 1e-6 * max(1.0, np.abs(der.hess(x)).max()))


def _critical_point(der, x):
    H = der.hess(x)
    ev = np.linalg.eigvalsh(H)
    scale = max(1e-300, float(np.abs(ev).max()))
    degenerate = bool(np.min(np.abs(ev)) <= 1e-8 * scale)
    cp = CriticalPoint(x=np.array(x), value=float(der.value(x[None, :])[0]), hessian=H,
                       index=int(np.sum(ev < 0)), gradient_norm=float(np.linalg.norm(der.grad(x))))
    return cp, degenerate


# ------------------------------------------------------------------------------------------------
# entry point
# ------------------------------------------------------------------------------------------------
def _bounds_of(bounds):
    b = np.asarray(bounds, dtype=float)
    if b.ndim == 1:
        b = b[None, :]
    if b.ndim != 2 or b.shape[1] != 2 or not 1 <= b.shape[0] <= 3 or np.any(b[:, 1] <= b[:, 0]):
        raise InputError(f"analyze: bounds must be 1 to 3 pairs (lo, hi) with lo < hi; got "
                         f"{bounds!r}.")
    return b


def analyze(potential, bounds=None, *, shape=None, gradient=None, hessian=None) -> Landscape:
    """Minima, index-1 saddles and mountain-pass barriers of U on a box (1 to 3 dimensions).

    Parameters
    ----------
    potential : callable U(x1, …, xd) on numpy arrays, or a FokkerPlanck model built with a
        callable potential (then ``bounds`` defaults to its grid's box).
    bounds : [(lo, hi), …], one pair per axis (a single pair for 1D).
    shape : lattice nodes per axis (int or tuple); default 2001 (1D), 201² (2D), 51³ (3D). The
        lattice must resolve the wells and passes: two critical points closer than about two
        spacings may be missed.
    gradient, hessian : optional exact derivatives, called with the d coordinates of one point
        as floats: gradient(*x) → d numbers, hessian(*x) → d×d numbers.

    Returns
    -------
    Landscape
        ``minima`` and ``saddles`` (CriticalPoint(x, value, hessian, index)), ``barrier(i, j)``,
        ``saddle_between(i, j)``, ``kramers_time(i, j, D)``.

    Examples
    --------
    >>> from fpsolve.landscape import analyze
    >>> land = analyze(lambda x, y: (x**2 - 1)**2 / 4 + y**2 / 2, [(-2, 2), (-1, 1)])
    >>> land
    Landscape(2 minima, 1 saddles, 0 other critical points)
    """
    model = None
    if hasattr(potential, "grid") and hasattr(potential, "potential"):
        model = potential
        potential = model.potential
        if not callable(potential):
            raise InputError("analyze: the model's potential is not a callable; pass the "
                             "potential function itself.")
    if not callable(potential):
        raise InputError("analyze: potential must be a callable U(x1, …, xd) on numpy arrays.")
    if bounds is None:
        if model is None:
            raise InputError("analyze: give bounds=[(lo, hi), …] (one pair per axis).")
        bounds = model.grid.bounds
    b = _bounds_of(bounds)
    d = b.shape[0]
    shp = DEFAULT_SHAPE[d] if shape is None else shape
    shp = (int(shp),) * d if np.isscalar(shp) else tuple(int(n) for n in shp)
    if len(shp) != d or min(shp) < 3:
        raise InputError(f"analyze: shape {shp} must give at least 3 nodes on each of {d} axes.")
    axes = [np.linspace(lo, hi, n) for (lo, hi), n in zip(b, shp)]
    mesh = np.meshgrid(*axes, indexing="ij")
    try:
        U = np.asarray(potential(*mesh), dtype=float)
    except Exception as exc:
        raise InputError(f"analyze: calling the potential on the lattice failed with "
                         f"{type(exc).__name__}: {exc}; it must accept {d} numpy arrays.") from exc
    U = np.broadcast_to(U, mesh[0].shape)
    if not np.all(np.isfinite(U)):
        raise InputError("analyze: the potential is not finite everywhere on the box.")
    shape3 = np.array(list(shp) + [1] * (3 - d), dtype=np.int64)
    flat = U.ravel()
    order = np.lexsort((np.arange(flat.size), flat))  # ties by node index
    rank = np.empty(flat.size, dtype=np.int64)
    rank[order] = np.arange(flat.size)
    offs, faces, adjacent = _offsets(d)
    seeds, events = _merge_tree(rank, order.astype(np.int64), shape3, faces)
    link = _lower_link_saddles(rank, shape3, offs, adjacent)

    lo, hi = b[:, 0], b[:, 1]
    spacing = float(np.max((hi - lo) / (np.asarray(shp) - 1)))
    length = float(np.max(hi - lo))
    der = _Derivatives(potential, d, length, gradient, hessian)
    coords = np.stack([m.ravel() for m in mesh], axis=-1)
    tol_same = max(1e-7 * length, 1e-3 * spacing)

    found: list = []  # (CriticalPoint, degenerate)

    def refine(node):
        x, ok = _newton(der, coords[node], lo, hi, spacing)
        if not ok:
            return None
        for q, (cp, _) in enumerate(found):
            if np.linalg.norm(cp.x - x) <= tol_same:
                return q
        found.append(_critical_point(der, x))
        return len(found) - 1

    seed_cp = {int(s): refine(int(s)) for s in seeds}
    event_cp = [refine(int(e[0])) for e in events]
    for node in link:
        refine(int(node))

    minima_ids = sorted({q for q, (cp, deg) in enumerate(found) if cp.index == 0 and not deg},
                        key=lambda q: found[q][0].value)
    saddle_ids = sorted({q for q, (cp, deg) in enumerate(found) if cp.index == 1 and not deg},
                        key=lambda q: found[q][0].value)
    other_ids = [q for q in range(len(found)) if q not in minima_ids and q not in saddle_ids]
    min_pos = {q: i for i, q in enumerate(minima_ids)}

    # mountain passes: replay the merge events on the seeds, recording for each pair of refined
    # minima the first (lowest) event that connects them
    parent = {int(s): int(s) for s in seeds}
    members = {int(s): ({min_pos[seed_cp[int(s)]]} if seed_cp[int(s)] in min_pos else set())
               for s in seeds}

    def root(s):
        while parent[s] != s:
            parent[s] = parent[parent[s]]
            s = parent[s]
        return s

    passes = {}
    unrefined = []
    for e, q in zip(events, event_cp):
        ra, rb = root(int(e[1])), root(int(e[2]))
        if ra == rb:
            continue
        new_pairs = [(min(i, j), max(i, j)) for i in members[ra] for j in members[rb] if i != j]
        new_pairs = [p for p in new_pairs if p not in passes]
        if new_pairs:
            if q is not None and found[q][0].index == 1 and not found[q][1]:
                cp = found[q][0]
            else:  # the pass did not refine to an index-1 saddle: keep the lattice node
                x = coords[int(e[0])]
                cp = _critical_point(der, x)[0]
                unrefined.extend(new_pairs)
            for p in new_pairs:
                passes[p] = cp
        parent[rb] = ra
        members[ra] |= members.pop(rb)

    info = {"shape": shp, "candidates": int(len(seeds) + len(events) + len(link)),
            "unrefined_passes": unrefined}
    return Landscape(minima=[found[q][0] for q in minima_ids],
                     saddles=[found[q][0] for q in saddle_ids],
                     others=[found[q][0] for q in other_ids], bounds=b, info=info, _pass=passes)
