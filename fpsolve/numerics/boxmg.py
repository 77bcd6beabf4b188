r"""Geometric multigrid for the generators on a structured grid ("black-box" multigrid).

The operator-dependent multigrid of Dendy ("Black box multigrid", J. Comput. Phys. 48, 1982;
"Black box multigrid for nonsymmetric problems", Appl. Math. Comput. 13, 1983), for the box
stencils of :mod:`fpsolve.numerics.stencil` in 2D and 3D:

- coarse grids: every other cell along each axis (cells 0, 2, 4, … are the coarse cells; an
  axis is coarsened while it has ≥ 2 cells, a periodic one while its length is even and its
  half ≥ 3), down to at most :data:`MAX_COARSE` cells, solved there by a sparse LU;
- interpolation P from the operator itself: a fine cell in between coarse cells along the axes
  O (its odd indices) takes the weights that make its row of A vanish once the stencil is
  *collapsed* onto O (entries summed over the other axes), its neighbours along O interpolated
  first: along one axis the 1D weights −a₋/a₀, −a₊/a₀ of the collapsed row, in a plane or a
  cube the collapsed 3×3 or the full 3×3×3 row with the edge and face values. The weights
  follow jumps and anisotropy of the coefficients and the exponential profile of a drift
  across a cell, where linear interpolation would not;
- restriction from Aᵀ in the same way (R = P(Aᵀ)ᵀ, Dendy's choice for non-symmetric operators;
  R = Pᵀ took 32 instead of 19 GMRES iterations on the 512² tensor MFPT, measured), coarse
  operators by Galerkin, A_c = R A P, stencil by stencil (9 points in 2D, 27 in 3D);
- smoothing: Gauss–Seidel before and after the coarse correction (:data:`SMOOTHERS`):
  symmetric (the default: a forward and a backward sweep each time, so a drift in either
  direction is swept along before and after), lexicographic (forward before, backward after)
  or multicolour.

Because R is built from Aᵀ exactly as P from A, transposing every level gives the hierarchy of
Aᵀ: one set-up serves A x = b and Aᵀ x = b (the forward and backward equations of one killed
process).

The cycle is a fixed linear operator, used as the preconditioner of GMRES
(:mod:`fpsolve.numerics.krylov`), which decides convergence on the true residual. Guaranteed:
nothing about accuracy (GMRES checks that); the hierarchy exists for every M-matrix (collapsed
centre weights are positive). Not guaranteed: fast convergence for operators far from
M-matrices (the weights then fall back to normalised or equal shares), for strong anisotropy
not aligned with the grid, or for cell Péclet numbers ≫ 1 against the sweep direction; GMRES
then needs more iterations, and :class:`~fpsolve.errors.SolverError` is raised if it stalls.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..jit import njit
from . import stencil as st

#: coarsest grid, solved by a sparse LU
MAX_COARSE = 400
#: largest coarsest grid accepted when no axis can be coarsened further (odd periodic axes)
MAX_COARSEST = 20_000
#: Gauss–Seidel orderings of the smoother: lexicographic (forward before the coarse correction,
#: backward after), symmetric (both each time) or multicolour
SMOOTHERS = ("lexicographic", "symmetric", "colours")


# -- coarse corners ---------------------------------------------------------------------------
# A fine cell interpolates from up to 2^d coarse cells, its corners q: bit (2 − a) of q set means
# the upper coarse neighbour along axis a (so that a 2D grid, held as (1, n₀, n₁), uses q < 4).

@njit(cache=True, inline="always")
def _bit(q, axis):
    return (q >> (2 - axis)) & 1


@njit(cache=True, inline="always")
def _coarse_index(x, bit, coarsen, nc, periodic):
    """Coarse index of the lower (bit 0) or upper (bit 1) coarse neighbour of fine index x
    (−1 if there is none)."""
    if not coarsen:
        return x if bit == 0 else -1
    if x % 2 == 0:
        return x // 2 if bit == 0 else -1
    if bit == 0:
        return x // 2
    t = x // 2 + 1
    if t >= nc:
        return 0 if periodic else -1
    return t


@njit(cache=True, inline="always")
def _corner(i, j, k, q, coarsen, cshape, periodic):
    """Flat coarse index of corner q of fine cell (i, j, k), −1 if there is none."""
    I = _coarse_index(i, _bit(q, 0), coarsen[0], cshape[0], periodic[0])
    J = _coarse_index(j, _bit(q, 1), coarsen[1], cshape[1], periodic[1])
    L = _coarse_index(k, _bit(q, 2), coarsen[2], cshape[2], periodic[2])
    if I < 0 or J < 0 or L < 0:
        return -1
    return (I * cshape[1] + J) * cshape[2] + L


@njit(cache=True, inline="always")
def _on_side(d, bit):
    """Whether a neighbour at step d lies on the side of a corner with this bit."""
    return not ((d == -1 and bit) or (d == 1 and not bit))


#: parity classes p (bit (2 − a): odd index along axis a) within a plane (bits 1, 0), by their
#: number of odd indices
CLASSES = np.array([0, 1, 2, 3], dtype=np.int64)


@njit(cache=True)
def _tables(K, Q, shape):
    """Per parity class p and offset code s: the code collapsed onto p's odd axes; per corner
    q and code s: whether s lies on q's side, and the corner of the neighbour at s that
    belongs to q; the flat offset of every code away from the walls."""
    coll = np.empty((8, K), dtype=np.int64)
    side = np.zeros((Q, K), dtype=np.bool_)
    q2 = np.zeros((Q, K), dtype=np.int64)
    fo = np.empty(K, dtype=np.int64)
    for s in range(K):
        d0, d1, d2 = st.decode(s, K)
        fo[s] = (d0 * shape[1] + d1) * shape[2] + d2
        for p in range(8):
            coll[p, s] = st.encode(d0 if _bit(p, 0) else 0, d1 if _bit(p, 1) else 0,
                                   d2 if _bit(p, 2) else 0, K)
        for q in range(Q):
            b0, b1, b2 = _bit(q, 0), _bit(q, 1), _bit(q, 2)
            side[q, s] = _on_side(d0, b0) and _on_side(d1, b1) and _on_side(d2, b2)
            # the neighbour is still in between along the axes where it did not move
            q2[q, s] = (((b0 if d0 == 0 else 0) << 2) | ((b1 if d1 == 0 else 0) << 1)
                        | (b2 if d2 == 0 else 0))
    return coll, side, q2, fo


@njit(cache=True)
def interpolation(coef, offs, K, Q, shape, periodic, coarsen, cshape):
    """Operator-dependent interpolation weights W (N, Q) of a stencil operator: fine cell x
    receives Σ_q W[x, q] x_c[corner q of x]; zero for the corners that do not exist."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    N = n0 * n1 * n2
    centre = K // 2
    coll, side, q2, foK = _tables(K, Q, shape)
    W = np.zeros((N, Q))
    g = np.zeros(K)
    w = np.zeros(Q)
    codes = np.empty(K, dtype=np.int64)
    ys = np.empty(K, dtype=np.int64)  # the cell at each code (−1: none), found once per cell
    seen = np.full(K, -1, dtype=np.int64)  # the last cell at which each code was listed
    # A cell depends on its neighbours with fewer odd indices. Planes i of even index first,
    # then the odd ones (which read their even neighbours); within a plane the classes by their
    # number of odd indices: one sweep over the arrays instead of one per class.
    for half in range(2 if coarsen[0] else 1):
        for i in range(half, n0, 2 if coarsen[0] else 1):
            ii = st.inside(i, n0)
            for t in range(4):
                p = (half << 2) | CLASSES[t]
                b1, b2 = _bit(p, 1), _bit(p, 2)
                if (b1 and not coarsen[1]) or (b2 and not coarsen[2]):
                    continue
                m = half + b1 + b2
                for j in range(b1, n1, 2 if coarsen[1] else 1):
                    ij = ii and st.inside(j, n1)
                    for k in range(b2, n2, 2 if coarsen[2] else 1):
                        c = (i * n1 + j) * n2 + k
                        if m == 0:
                            W[c, 0] = 1.0
                            continue
                        fast = ij and st.inside(k, n2)
                        for a in range(offs.shape[0]):  # the row collapsed onto the odd axes
                            g[coll[p, offs[a]]] = 0.0
                        for a in range(offs.shape[0]):
                            g[coll[p, offs[a]]] += coef[c, a]
                        nz = 0  # the collapsed neighbours that carry weight, each listed once
                        for a in range(offs.shape[0]):
                            s = coll[p, offs[a]]
                            if s != centre and g[s] != 0.0 and seen[s] != c:
                                seen[s] = c
                                codes[nz] = s
                                ys[nz] = c + foK[s] if fast else st.neighbour(i, j, k, s, K,
                                                                              shape, periodic)
                                nz += 1
                        tot = 0.0
                        for q in range(Q):
                            w[q] = 0.0
                            if q & ~p:
                                continue
                            acc = 0.0
                            for t2 in range(nz):
                                s = codes[t2]
                                y = ys[t2]
                                if side[q, s] and y >= 0:
                                    acc += g[s] * W[np.uintp(y), np.uintp(q2[q, s])]
                            w[q] = -acc
                            tot -= acc
                        a0 = g[centre]
                        if nz == 0:  # a decoupled cell (pinned, or left out): no correction
                            continue
                        # a row with a0 ≥ Σ w > 0 (diagonally dominant, as the rows of a
                        # backward generator) keeps its weights; one with a0 < Σ w has them
                        # normalised to sum 1 (they would extrapolate: 4·10⁵ at 16³ on a badly
                        # scaled stationary operator, and the cycle diverged), or split equally
                        # if nothing is left
                        if not a0 >= tot:
                            a0 = tot
                        if a0 > 0.0 and tot > 0.0:
                            for q in range(Q):
                                W[c, q] = w[q] / a0
                        else:  # equal shares among the corners that exist
                            n_ok = 0
                            for q in range(Q):
                                if not q & ~p and _corner(i, j, k, q, coarsen, cshape, periodic) >= 0:
                                    n_ok += 1
                            for q in range(Q):
                                if not q & ~p and _corner(i, j, k, q, coarsen, cshape, periodic) >= 0:
                                    W[c, q] = 1.0 / n_ok
    return W


@njit(cache=True, inline="always")
def _step_to(e, nc, periodic):
    """A coarse index difference as a step in {−1, 0, 1} (wrapping on a periodic axis)."""
    if periodic and e == nc - 1:
        return -1
    if periodic and e == 1 - nc:
        return 1
    return e


@njit(cache=True)
def galerkin(coef, offs, K, P, R, corner, shape, periodic, coarsen, cshape):
    """Full coarse stencil (Nc, K) of R A P (P, R: the interpolation weights of A and Aᵀ;
    ``corner``: the coarse cell of each corner, :func:`corners`' second array).

    For fine cell x, its neighbour y = x + s and corners q_r of x, q_p of y, the coarse offset
    between the two corners is Δ + w(q_p) − w(q_r) in code units, Δ the offset between the
    coarse cells below x and y (⌊·/2⌋ along coarsened axes, taken before any periodic wrap) and
    w(q) the code of q's unit steps: no coordinates are decoded in the inner loops.
    """
    n0, n1, n2 = shape[0], shape[1], shape[2]
    c1, c2 = cshape[1], cshape[2]
    Ac = np.zeros((cshape[0] * c1 * c2, K))
    m = offs.shape[0]
    Q = P.shape[1]
    od = st.decoded(offs, K)
    wq = np.empty(Q, dtype=np.int64)  # the code of corner q's unit steps, relative to 0
    for q in range(Q):
        wq[q] = st.encode(_bit(q, 0), _bit(q, 1), _bit(q, 2), K) - K // 2
    rC = np.empty(Q, dtype=np.int64)
    rW = np.empty(Q)
    rq = np.empty(Q, dtype=np.int64)
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                x = (i * n1 + j) * n2 + k
                nr = 0  # the coarse cells x restricts to
                p = _parity(i, j, k, coarsen)
                q = p
                while True:
                    if R[x, q] != 0.0 and corner[x, q] >= 0:  # (weights vanish where none is)
                        rC[nr] = corner[x, q]
                        rW[nr] = R[x, q]
                        rq[nr] = wq[q]
                        nr += 1
                    if q == 0:
                        break
                    q = (q - 1) & p
                if nr == 0:
                    continue
                for a in range(m):
                    v = coef[x, a]
                    if v == 0.0:
                        continue
                    u0, u1, u2 = i + od[a, 0], j + od[a, 1], k + od[a, 2]  # unwrapped
                    y0 = st.shift(i, od[a, 0], n0, periodic[0])
                    y1 = st.shift(j, od[a, 1], n1, periodic[1])
                    y2 = st.shift(k, od[a, 2], n2, periodic[2])
                    if y0 < 0 or y1 < 0 or y2 < 0:
                        continue
                    y = np.uintp((y0 * n1 + y1) * n2 + y2)
                    d0 = (u0 >> 1) - (i >> 1) if coarsen[0] else od[a, 0]
                    d1 = (u1 >> 1) - (j >> 1) if coarsen[1] else od[a, 1]
                    d2 = (u2 >> 1) - (k >> 1) if coarsen[2] else od[a, 2]
                    base = st.encode(d0, d1, d2, K)
                    py = _parity(u0, u1, u2, coarsen)
                    q = py
                    while True:  # the coarse cells the neighbour interpolates from
                        pw = P[y, np.uintp(q)]
                        if pw != 0.0:
                            vp = v * pw
                            e = base + wq[q]
                            for t in range(nr):
                                Ac[np.uintp(rC[t]), np.uintp(e - rq[t])] += rW[t] * vp
                        if q == 0:
                            break
                        q = (q - 1) & py
    return Ac


@njit(cache=True, inline="always")
def _unpad_index(qp, shape):
    """The flat cell index of padded index qp."""
    p1 = shape[1] + 2 if shape[1] > 1 else 1
    p2 = shape[2] + 2 if shape[2] > 1 else 1
    o0 = 1 if shape[0] > 1 else 0
    o1 = 1 if shape[1] > 1 else 0
    o2 = 1 if shape[2] > 1 else 0
    i = qp // (p1 * p2) - o0
    j = (qp // p2) % p1 - o1
    k = qp % p2 - o2
    return (i * shape[1] + j) * shape[2] + k


@njit(cache=True)
def corners(Q, shape, periodic, coarsen, cshape):
    """Index of every corner of every fine cell in the *padded* coarse vector (int32; 0 where
    none exists, whose weights are 0), and in the coarse grid's cells (int64; −1 where none
    exists), for :func:`galerkin`."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    c0, c1, c2 = cshape[0], cshape[1], cshape[2]
    lengths = (c0, c1, c2)  # a tuple: the shape array read in the loop doubled its time
    out = np.zeros((n0 * n1 * n2, Q), dtype=np.int32)
    cells = np.full((n0 * n1 * n2, Q), -1, dtype=np.int64)
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                c = (i * n1 + j) * n2 + k
                for q in range(Q):
                    I = _coarse_index(i, _bit(q, 0), coarsen[0], c0, periodic[0])
                    J = _coarse_index(j, _bit(q, 1), coarsen[1], c1, periodic[1])
                    L = _coarse_index(k, _bit(q, 2), coarsen[2], c2, periodic[2])
                    if I >= 0 and J >= 0 and L >= 0:
                        out[c, q] = st.padded_index(I, J, L, lengths)
                        cells[c, q] = (I * c1 + J) * c2 + L
    return out, cells


@njit(cache=True, inline="always")
def _parity(i, j, k, coarsen):
    """The corners a fine cell can have: bit (2 − a) set where its index along a coarsened
    axis a is odd (its corners q are the subsets of this mask)."""
    return ((((i & 1) if coarsen[0] else 0) << 2) | (((j & 1) if coarsen[1] else 0) << 1)
            | ((k & 1) if coarsen[2] else 0))


@njit(cache=True)
def residual_restrict(coef, xp, b, R, corner, nc, shape, coarsen, cols, fos):
    """R (b − A x): the residual of each fine cell, scattered to its coarse corners (all
    padded, the halo of ``xp`` filled; ``nc``: the padded coarse size; ``cols``, ``fos``: every
    offset, as :func:`~fpsolve.numerics.stencil.kernel_offsets` gives them)."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    rc = np.zeros(nc)
    for i in range(n0):
        for j in range(n1):
            c0 = (i * n1 + j) * n2
            q0 = st.padded_row(i, j, shape)
            for k in range(n2):
                c = np.uintp(c0 + k)
                acc = b[np.uintp(q0 + k)]
                for t in range(len(fos)):
                    acc -= coef[c, np.uintp(cols[t])] * xp[np.uintp(q0 + k + fos[t])]
                p = _parity(i, j, k, coarsen)
                q = p
                while True:  # the subsets of p: the corners that can carry weight
                    rc[np.uintp(corner[c, np.uintp(q)])] += R[c, np.uintp(q)] * acc
                    if q == 0:
                        break
                    q = (q - 1) & p
    return rc


@njit(cache=True)
def prolong_add(P, corner, xcp, xp, shape, coarsen):
    """x += P xc (both padded)."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    for i in range(n0):
        for j in range(n1):
            c0 = (i * n1 + j) * n2
            q0 = st.padded_row(i, j, shape)
            for k in range(n2):
                c = np.uintp(c0 + k)
                p = _parity(i, j, k, coarsen)
                acc = 0.0
                q = p
                while True:
                    acc += P[c, np.uintp(q)] * xcp[np.uintp(corner[c, np.uintp(q)])]
                    if q == 0:
                        break
                    q = (q - 1) & p
                xp[np.uintp(q0 + k)] += acc


# -- the hierarchy ----------------------------------------------------------------------------
class Level:
    """One grid of the hierarchy: the operator (compressed stencil), what the kernels need to
    sweep it, and, above the coarsest, the transfers to the next coarser grid."""

    def __init__(self, coef, offs, K, shape, periodic):
        self.coef = np.ascontiguousarray(coef)
        self.offs = offs
        self.K = K
        self.shape = np.asarray(shape, dtype=np.int64)
        self.periodic = np.asarray(periodic, dtype=np.bool_)
        self.wraps = bool(np.any(self.periodic & (self.shape > 1)))
        self.padded = int(np.prod(st.padded_shape(self.shape)))
        c = K // 2
        self.inv = st.inverse_diagonal(self.coef, int(np.flatnonzero(offs == c)[0]))
        self.all = st.kernel_offsets(offs, K, self.shape)
        self.others = st.kernel_offsets(offs, K, self.shape, skip=(c,))
        self.sweep = {True: st.kernel_offsets(offs, K, self.shape, skip=(c, c - 1))
                      + (int(np.flatnonzero(offs == c - 1)[0]),),
                      False: st.kernel_offsets(offs, K, self.shape, skip=(c, c + 1))
                      + (int(np.flatnonzero(offs == c + 1)[0]),)}
        self.P = self.R = self.coarsen = self.cshape = self.corners = None
        self.coarse_padded = 0

    def connect(self, P, R, corners, coarsen, cshape):
        """Set the transfers to the next coarser grid (interpolation P, restriction weights R,
        corner indices, the axes coarsened and the coarse shape)."""
        self.P, self.R, self.corners, self.coarsen, self.cshape = P, R, corners, coarsen, cshape
        self.coarse_padded = int(np.prod(st.padded_shape(cshape)))  # once, not every cycle

    @property
    def size(self):
        return int(np.prod(self.shape))

    def smooth(self, xp, b, smoother, forward):
        """One smoothing step on the padded iterate ``xp`` (symmetric: a sweep in the direction
        ``forward`` says, then one back)."""
        if smoother == "colours":
            if self.wraps:
                st.fill_halo(xp, self.shape, self.periodic)
            st.gauss_seidel_colours(self.coef, self.inv, xp, b, self.shape, *self.others)
            return
        for direction in (forward, not forward) if smoother == "symmetric" else (forward,):
            if self.wraps:
                st.fill_halo(xp, self.shape, self.periodic)
            st.gauss_seidel(self.coef, self.inv, xp, b, self.shape, direction,
                            *self.sweep[direction])

    def residual_restrict(self, xp, b):
        if self.wraps:
            st.fill_halo(xp, self.shape, self.periodic)
        return residual_restrict(self.coef, xp, b, self.R, self.corners, self.coarse_padded,
                                 self.shape, self.coarsen, *self.all)

    def prolong_add(self, xcp, xp):
        prolong_add(self.P, self.corners, xcp, xp, self.shape, self.coarsen)


def _coarsening(shape, periodic):
    """Which axes to coarsen and the coarse shape (None when no axis can be)."""
    coarsen = np.zeros(3, dtype=np.bool_)
    cshape = np.array(shape, dtype=np.int64)
    for a in range(3):
        n = int(shape[a])
        if periodic[a]:
            if n % 2 == 0 and n // 2 >= 3:
                coarsen[a], cshape[a] = True, n // 2
        elif n >= 2:
            coarsen[a], cshape[a] = True, (n + 1) // 2
    return (coarsen, cshape) if coarsen.any() else (None, None)


def coarsenable(shape, periodic) -> bool:
    """Whether a grid (2 or 3 axes) coarsens to at most :data:`MAX_COARSEST` cells (a periodic
    axis of odd length stops coarsening) and has no periodic axis shorter than 3."""
    if len(shape) not in (2, 3) or any(p and n < 3 for n, p in zip(shape, periodic)):
        return False
    periodic = (False,) * (3 - len(shape)) + tuple(bool(p) for p in periodic)
    shape = np.asarray((1,) * (3 - len(shape)) + tuple(shape), dtype=np.int64)
    while int(np.prod(shape)) > MAX_COARSE:
        coarsen, cshape = _coarsening(shape, periodic)
        if coarsen is None:
            return int(np.prod(shape)) <= MAX_COARSEST
        shape = cshape
    return True


class NotStructured(Exception):
    """The matrix is not a box stencil on the given grid, or the grid cannot be coarsened."""


class BoxMG:
    """The multigrid hierarchy of A (and of Aᵀ) on a structured grid; :meth:`apply` is one
    V-cycle from x = 0, M⁻¹b ≈ A⁻¹b (or A⁻ᵀb).

    A : CSR matrix with a positive diagonal whose row r belongs to the flat (C-order) cell
    ``cells[r]`` (default: every cell in order) of a grid of ``shape`` (2 or 3 axes) with the
    given periodic axes; cells not listed are left out (a principal submatrix, e.g. the kept
    cells of a killed process). ``scale``: a factor applied to A on the way in (−1 for a
    generator, whose diagonal is negative); ``transpose``: build the hierarchy of Aᵀ (then
    ``apply(b, trans=True)`` solves with A). ``smoother``: one of :data:`SMOOTHERS`;
    ``sweeps``: smoothing steps before and after the coarse correction.

    Raises :class:`NotStructured` when A is not a box stencil there or the grid cannot be
    coarsened to :data:`MAX_COARSEST` cells.
    """

    def __init__(self, A, shape, periodic, cells=None, smoother="symmetric", sweeps=1,
                 scale=1.0, transpose=False):
        nd = len(shape)
        if nd not in (2, 3):
            raise NotStructured("only 2D and 3D grids")
        if smoother not in SMOOTHERS:
            raise ValueError(f"smoother must be one of {SMOOTHERS}")
        K, Q = 3 ** nd, 2 ** nd
        shape3 = np.ones(3, dtype=np.int64)
        shape3[3 - nd:] = shape
        per3 = np.zeros(3, dtype=np.bool_)
        per3[3 - nd:] = periodic
        if not coarsenable(shape, periodic):
            raise NotStructured("the grid cannot be coarsened far enough (odd periodic axes)")
        A = sp.csr_matrix(A)
        N = int(np.prod(shape3))
        cells = np.arange(N, dtype=np.int64) if cells is None else \
            np.ascontiguousarray(cells, dtype=np.int64)
        coef, offs, ok = st.from_csr(np.asarray(A.data, dtype=float), A.indices, A.indptr, cells,
                                     K, shape3, per3, float(scale), bool(transpose))
        if not ok:
            raise NotStructured("the matrix couples cells that are not neighbours")
        self.cells = cells
        self.full = cells.shape[0] == N
        self.N = N
        self.smoother = smoother
        self.sweeps = int(sweeps)
        self.levels = []
        while True:
            lvl = Level(coef, offs, K, shape3, per3)
            self.levels.append(lvl)
            if lvl.size <= MAX_COARSE:
                break
            coarsen, cshape = _coarsening(shape3, per3)
            if coarsen is None:
                break
            T, offsT = st.transpose(coef, offs, K, shape3, per3)
            padded, cells_at = corners(Q, shape3, per3, coarsen, cshape)
            lvl.connect(interpolation(coef, offs, K, Q, shape3, per3, coarsen, cshape),
                        interpolation(T, offsT, K, Q, shape3, per3, coarsen, cshape),
                        padded, coarsen, cshape)
            coef, offs = st.compress(galerkin(coef, offs, K, lvl.P, lvl.R, cells_at, shape3,
                                              per3, coarsen, cshape), K)
            shape3 = cshape
        last = self.levels[-1]
        Ac = st.to_csr(last.coef, last.offs, K, last.shape, last.periodic)
        try:
            self._coarse = spla.splu(Ac.tocsc())
        except RuntimeError as exc:
            raise NotStructured(f"the coarsest operator is singular ({exc})") from exc
        self._trans = None

    def _transposed(self):
        """Levels of Aᵀ: transposed stencils, P and R swapped (no new set-up)."""
        if self._trans is None:
            out = []
            for lvl in self.levels:
                coef, offs = st.transpose(lvl.coef, lvl.offs, lvl.K, lvl.shape, lvl.periodic)
                t = Level(coef, offs, lvl.K, lvl.shape, lvl.periodic)
                if lvl.P is not None:
                    t.connect(lvl.R, lvl.P, lvl.corners, lvl.coarsen, lvl.cshape)
                out.append(t)
            self._trans = out
        return self._trans

    def _cycle(self, levels, b, trans):
        """One V-cycle from x = 0 (b and the returned x padded)."""
        lvl = levels[0]
        if len(levels) == 1:
            return st.pad(self._coarse.solve(st.unpad(b, lvl.shape), trans="T" if trans else "N"),
                          lvl.shape)
        xp = np.zeros(lvl.padded)
        for _ in range(self.sweeps):
            lvl.smooth(xp, b, self.smoother, True)
        xcp = self._cycle(levels[1:], lvl.residual_restrict(xp, b), trans)
        lvl.prolong_add(xcp, xp)
        for _ in range(self.sweeps):
            lvl.smooth(xp, b, self.smoother, False)
        return xp

    def apply(self, b, trans=False):
        """One V-cycle for A x = b (Aᵀ x = b if ``trans``), b indexed like A's rows."""
        levels = self._transposed() if trans else self.levels
        b = np.asarray(b, dtype=float)
        if self.full:
            bf = np.ascontiguousarray(b)
        else:
            bf = np.zeros(self.N)
            bf[self.cells] = b
        shape = levels[0].shape
        x = st.unpad(self._cycle(levels, st.pad(bf, shape), trans), shape)
        return x if self.full else x[self.cells]

    def operator_complexity(self):
        """Σ stored stencil entries over the levels ÷ those of the finest."""
        nnz = [lvl.coef.size for lvl in self.levels]
        return sum(nnz) / nnz[0]
