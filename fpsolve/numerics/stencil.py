"""Operators on a structured grid as stencils: the storage of the geometric multigrid.

A matrix whose row for cell x couples x only to the cells x + s, s ∈ {−1, 0, 1}^d (the 3^d
box around it; periodic axes wrap) is stored as ``coef`` (N, m) with ``offs`` (m,): the entry
A[x, x + s] is ``coef[x, a]`` for the offset code ``offs[a]``, which numbers the K = 3^d offsets
in C order (the centre is K // 2). Only offsets that occur anywhere are kept (with the centre
and the two neighbours along the last axis always), so the 5/7-point generators of a scalar
diffusion take 5/7 columns, the tensor scheme's 9/19, Galerkin coarse operators 9/27.

Grids are held as three axes, a 2D grid (n₀, n₁) as (1, n₀, n₁), cells in C order: the last
axis is contiguous in memory in 2D and 3D alike. A neighbour outside a reflecting wall does not
exist (its entry is 0); a periodic axis wraps.

The kernels visit the cells in C order, one row of ``coef`` contiguous in memory. Away from the
walls and seams the neighbours sit at fixed flat offsets, passed as tuples so that Numba compiles
one kernel per stencil size with the loop over the offsets unrolled (1.8× faster than a loop of
run-time length, measured at 512²); the cells next to a wall take a checked path. All kernels
are single-threaded. The sweeps index their arrays with unsigned integers (``np.uintp``): Numba
then drops its test for negative indices on every access (a Gauss–Seidel sweep at 16³ took
18 µs with it, 12 µs without; the same arithmetic in the same order).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..jit import njit


@njit(cache=True, inline="always")
def decode(s, K):
    """Offset code → (s₀, s₁, s₂) in {−1, 0, 1}³ (s₀ = 0 when K = 9, a 2D grid)."""
    if K == 9:
        return 0, s // 3 - 1, s % 3 - 1
    return s // 9 - 1, (s // 3) % 3 - 1, s % 3 - 1


@njit(cache=True, inline="always")
def encode(d0, d1, d2, K):
    """(s₀, s₁, s₂) → offset code (s₀ ignored when K = 9)."""
    if K == 9:
        return (d1 + 1) * 3 + d2 + 1
    return (d0 + 1) * 9 + (d1 + 1) * 3 + d2 + 1


@njit(cache=True, inline="always")
def shift(i, d, n, periodic):
    """Index i + d along an axis of n cells (−1 outside a wall)."""
    t = i + d
    if t < 0 or t >= n:
        if not periodic:
            return -1
        t = t % n
    return t


@njit(cache=True, inline="always")
def neighbour(i, j, k, s, K, shape, periodic):
    """Flat index of cell (i, j, k) + offset s (−1 if it does not exist)."""
    d0, d1, d2 = decode(s, K)
    return neighbour_at(i, j, k, d0, d1, d2, shape[0], shape[1], shape[2], periodic)


@njit(cache=True, inline="always")
def neighbour_at(i, j, k, d0, d1, d2, n0, n1, n2, periodic):
    """Flat index of cell (i + d0, j + d1, k + d2) on an n₀ × n₁ × n₂ grid (−1 if it does not
    exist): :func:`neighbour` for a decoded offset (:func:`decoded`). The grid's lengths come as
    numbers, not as the shape array: read from the array inside a kernel's inner loop they made
    a stencil transpose 4× slower (measured at 16³)."""
    i2 = shift(i, d0, n0, periodic[0])
    j2 = shift(j, d1, n1, periodic[1])
    k2 = shift(k, d2, n2, periodic[2])
    return (i2 * n1 + j2) * n2 + k2 if i2 >= 0 and j2 >= 0 and k2 >= 0 else -1


@njit(cache=True)
def decoded(codes, K):
    """(s₀, s₁, s₂) of each offset code, a (len(codes), 3) table: kernels that meet a wall in
    their inner loops read it rather than :func:`decode` a code per entry (a stencil transpose
    at 16³ took 200 µs decoding, 48 µs reading the table, measured)."""
    out = np.empty((codes.shape[0], 3), dtype=np.int64)
    for a in range(codes.shape[0]):
        out[a, 0], out[a, 1], out[a, 2] = decode(codes[a], K)
    return out


@njit(cache=True)
def flat_offsets(offs, K, shape):
    """Flat-index distance of each offset for cells away from the walls."""
    out = np.empty(offs.shape[0], dtype=np.int64)
    for a in range(offs.shape[0]):
        d0, d1, d2 = decode(offs[a], K)
        out[a] = (d0 * shape[1] + d1) * shape[2] + d2
    return out


@njit(cache=True, inline="always")
def inside(i, n):
    """Whether index i has both neighbours along an axis of n cells without a wall or a seam
    (on an axis of one cell no offset moves, so every index counts as inside)."""
    return n == 1 or (i > 0 and i < n - 1)


@njit(cache=True, inline="always")
def _wrap(d, n, periodic):
    """An index difference along a periodic axis as the nearest step (n − 1 ≡ −1)."""
    if periodic and d == n - 1:
        return -1
    if periodic and d == 1 - n:
        return 1
    return d


@njit(cache=True)
def _csr_codes(indices, indptr, cells, K, shape, periodic):
    """Offset code of every CSR entry (−1 if it couples cells that are not neighbours).

    Away from the walls a flat-index difference names one offset (a table lookup); the cells
    next to a wall or a periodic seam are decoded coordinate by coordinate.
    """
    n0, n1, n2 = shape[0], shape[1], shape[2]
    span = n1 * n2 + n2 + 1
    lut = np.full(2 * span + 1, -1, dtype=np.int64)
    for s in range(K):
        d0, d1, d2 = decode(s, K)
        if (n0 > 1 or d0 == 0) and (n1 > 1 or d1 == 0) and (n2 > 1 or d2 == 0):
            lut[(d0 * n1 + d1) * n2 + d2 + span] = s
    code = np.empty(indices.shape[0], dtype=np.int64)
    for r in range(cells.shape[0]):
        c = cells[r]
        i, j, k = c // (n1 * n2), (c // n2) % n1, c % n2
        fast = inside(i, n0) and inside(j, n1) and inside(k, n2)
        for q in range(indptr[r], indptr[r + 1]):
            c2 = cells[indices[q]]
            if fast:
                d = c2 - c
                code[q] = lut[d + span] if -span <= d <= span else -1
                continue
            d0 = _wrap(c2 // (n1 * n2) - i, n0, periodic[0])
            d1 = _wrap((c2 // n2) % n1 - j, n1, periodic[1])
            d2 = _wrap(c2 % n2 - k, n2, periodic[2])
            if abs(d0) > 1 or abs(d1) > 1 or abs(d2) > 1:
                code[q] = -1
            else:
                code[q] = encode(d0, d1, d2, K)
    return code


@njit(cache=True, inline="always")
def _required(K):
    """Codes every stored stencil keeps: the centre and its two neighbours along the last axis
    (the Gauss–Seidel kernels sum the neighbour updated just before separately)."""
    return K // 2 - 1, K // 2, K // 2 + 1


@njit(cache=True)
def from_csr(data, indices, indptr, cells, K, shape, periodic, scale, transpose):
    """Compressed stencil (coef, offs) of ``scale`` times a CSR matrix A (or of its transpose
    if ``transpose``) whose row r belongs to cell ``cells[r]``; cells not listed get an
    identity row (decoupled: the embedding of a principal submatrix, e.g. the kept cells of a
    killed process). Returns (coef, offs, ok); ok is False when an entry couples cells that
    are not neighbours (not a box stencil)."""
    N = shape[0] * shape[1] * shape[2]
    code = _csr_codes(indices, indptr, cells, K, shape, periodic)
    slot = np.full(K, -1, dtype=np.int64)
    for s in _required(K):
        slot[s] = 0
    for q in range(code.shape[0]):
        if code[q] < 0:
            return np.zeros((0, 1)), np.zeros(1, dtype=np.int64), False
        slot[K - 1 - code[q] if transpose else code[q]] = 0
    offs = np.flatnonzero(slot >= 0).astype(np.int64)
    for a in range(offs.shape[0]):
        slot[offs[a]] = a
    m = offs.shape[0]
    ac = slot[K // 2]
    coef = np.zeros((N, m))
    if cells.shape[0] < N:  # identity rows for the cells left out
        for c in range(N):
            coef[c, ac] = 1.0
        for r in range(cells.shape[0]):
            coef[cells[r], ac] = 0.0
    for r in range(cells.shape[0]):
        c = cells[r]
        for q in range(indptr[r], indptr[r + 1]):
            if transpose:  # A[c, c2] is Aᵀ[c2, c], at offset −s of c2
                coef[cells[indices[q]], slot[K - 1 - code[q]]] += scale * data[q]
            else:
                coef[c, slot[code[q]]] += scale * data[q]
    return coef, offs, True


@njit(cache=True)
def compress(S, K):
    """(coef (N, m), offs (m,)) of a full stencil S (N, K), keeping the offsets that occur."""
    N = S.shape[0]
    used = np.zeros(K, dtype=np.bool_)
    for s in _required(K):
        used[s] = True
    for c in range(N):
        for s in range(K):
            if S[c, s] != 0.0:
                used[s] = True
    offs = np.flatnonzero(used).astype(np.int64)
    coef = np.empty((N, offs.shape[0]))
    for c in range(N):
        for a in range(offs.shape[0]):
            coef[c, a] = S[c, offs[a]]
    return coef, offs


@njit(cache=True)
def transpose(coef, offs, K, shape, periodic):
    """Compressed stencil of Aᵀ: Aᵀ[x, x + s] = A[x + s, x] (offsets −s, in code order)."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    m = offs.shape[0]
    offsT = np.empty(m, dtype=np.int64)
    for a in range(m):
        offsT[a] = K - 1 - offs[m - 1 - a]   # code of −s is K − 1 − code of s
    fo = flat_offsets(offs, K, shape)
    od = decoded(offs, K)
    T = np.zeros((n0 * n1 * n2, m))
    for i in range(n0):
        ii = inside(i, n0)
        for j in range(n1):
            ij = ii and inside(j, n1)
            for k in range(n2):
                c = (i * n1 + j) * n2 + k
                if ij and inside(k, n2):
                    for a in range(m):  # A[c, y] is Aᵀ[y, c], at offset −s of y
                        T[c + fo[a], m - 1 - a] += coef[c, a]
                    continue
                for a in range(m):
                    v = coef[c, a]
                    if v != 0.0:
                        y = neighbour_at(i, j, k, od[a, 0], od[a, 1], od[a, 2], n0, n1, n2,
                                         periodic)
                        if y >= 0:
                            T[y, m - 1 - a] += v
    return T, offsT


@njit(cache=True)
def inverse_diagonal(coef, centre):
    """1/A_xx (0 where A_xx = 0)."""
    out = np.zeros(coef.shape[0])
    for c in range(coef.shape[0]):
        d = coef[c, centre]
        if d != 0.0:
            out[c] = 1.0 / d
    return out


def padded_shape(shape):
    """The shape of a vector with one halo cell on each side of every axis longer than 1."""
    return tuple(int(n) + 2 if n > 1 else 1 for n in shape)


def kernel_offsets(offs, K, shape, skip=()):
    """(columns, flat offsets in the padded layout) of the offsets not in ``skip`` (codes), as
    tuples: the form in which the kernels below take them (one compiled kernel per stencil
    size, the loop over the offsets unrolled)."""
    fo = flat_offsets(offs, K, np.asarray(padded_shape(shape), dtype=np.int64)).tolist()
    keep = [a for a, s in enumerate(offs.tolist()) if s not in skip]
    return tuple(keep), tuple(fo[a] for a in keep)


# Vectors swept by the kernels are held *padded*: one halo cell beyond each end of every axis
# longer than 1. A wall's halo stays 0, and the stencil's entry towards it is 0 too, so every
# cell takes the same unchecked path (at 64³ the checked path for the 9% of cells next to a wall
# doubled the time of a sweep, measured); a periodic axis's halo holds copies of the cells on
# the far side (:func:`fill_halo`, before each sweep). Iterates and right-hand sides are padded,
# stencils, diagonals and transfer weights not: cell c = (i n₁ + j) n₂ + k is row c of those and
# entry (i + o₀, j + o₁, k + o₂) of the padding.

@njit(cache=True, inline="always")
def padded_index(i, j, k, shape):
    """Padded flat index of cell (i, j, k)."""
    o0 = 1 if shape[0] > 1 else 0
    o1 = 1 if shape[1] > 1 else 0
    o2 = 1 if shape[2] > 1 else 0
    p1 = shape[1] + 2 * o1
    p2 = shape[2] + 2 * o2
    return ((i + o0) * p1 + j + o1) * p2 + k + o2


@njit(cache=True, inline="always")
def padded_row(i, j, shape):
    """Padded flat index of cell (i, j, 0)."""
    return padded_index(i, j, 0, shape)


@njit(cache=True)
def pad(v, shape):
    """A padded copy of the cell vector v (halo 0)."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    p0 = n0 + 2 if n0 > 1 else 1
    p1 = n1 + 2 if n1 > 1 else 1
    p2 = n2 + 2 if n2 > 1 else 1
    out = np.zeros(p0 * p1 * p2)
    for i in range(n0):
        for j in range(n1):
            c0 = (i * n1 + j) * n2
            q0 = padded_row(i, j, shape)
            for k in range(n2):
                out[q0 + k] = v[c0 + k]
    return out


@njit(cache=True)
def unpad(xp, shape):
    """The cell vector of a padded one."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    out = np.empty(n0 * n1 * n2)
    for i in range(n0):
        for j in range(n1):
            c0 = (i * n1 + j) * n2
            q0 = padded_row(i, j, shape)
            for k in range(n2):
                out[c0 + k] = xp[q0 + k]
    return out


@njit(cache=True)
def fill_halo(xp, shape, periodic):
    """Copy the cells across each periodic seam into the halo (walls' halos stay 0)."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    p0 = n0 + 2 if n0 > 1 else 1
    p1 = n1 + 2 if n1 > 1 else 1
    p2 = n2 + 2 if n2 > 1 else 1
    X = xp.reshape((p0, p1, p2))
    if periodic[2] and n2 > 1:
        for i in range(p0):
            for j in range(p1):
                X[i, j, 0] = X[i, j, n2]
                X[i, j, n2 + 1] = X[i, j, 1]
    if periodic[1] and n1 > 1:
        for i in range(p0):
            for k in range(p2):
                X[i, 0, k] = X[i, n1, k]
                X[i, n1 + 1, k] = X[i, 1, k]
    if periodic[0] and n0 > 1:
        for j in range(p1):
            for k in range(p2):
                X[0, j, k] = X[n0, j, k]
                X[n0 + 1, j, k] = X[1, j, k]


@njit(cache=True)
def gauss_seidel(coef, inv, xp, b, shape, forward, cols, fos, prev):
    """One lexicographic Gauss–Seidel sweep on A x = b in place (C order, or reversed);
    ``xp`` and ``b`` padded (the periodic halo of ``xp`` filled).

    ``inv``: 1/diagonal (0 where the diagonal is 0: the cell is skipped). ``cols``, ``fos``:
    the offsets other than the centre and ``prev`` (:func:`kernel_offsets`); ``prev`` is the
    column of the neighbour updated just before (offset ∓1 along the last axis), summed last so
    that each cell waits on the previous one for a single multiply–add.
    """
    n0, n1, n2 = shape[0], shape[1], shape[2]
    step = -1 if forward else 1
    for t0 in range(n0):
        i = t0 if forward else n0 - 1 - t0
        for t1 in range(n1):
            j = t1 if forward else n1 - 1 - t1
            c0 = (i * n1 + j) * n2
            q0 = padded_row(i, j, shape)
            for t2 in range(n2):
                k = t2 if forward else n2 - 1 - t2
                c = np.uintp(c0 + k)
                q = q0 + k
                acc = b[np.uintp(q)]
                for t in range(len(fos)):
                    acc -= coef[c, np.uintp(cols[t])] * xp[np.uintp(q + fos[t])]
                acc -= coef[c, np.uintp(prev)] * xp[np.uintp(q + step)]
                xp[np.uintp(q)] = acc * inv[c]


#: parity classes (bit 2: i odd, bit 1: j odd, bit 0: k odd), even ones first ("red–black")
COLOUR_ORDER = np.array([0, 3, 5, 6, 1, 2, 4, 7], dtype=np.int64)


@njit(cache=True)
def gauss_seidel_colours(coef, inv, xp, b, shape, cols, fos):
    """One multicolour Gauss–Seidel sweep: the cells of each parity class (i mod 2, j mod 2,
    k mod 2) in turn, even classes (i + j + k even) first; no class couples to itself through
    a box stencil. ``cols``, ``fos``: the offsets other than the centre."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    for t in range(8):
        p = COLOUR_ORDER[t]
        p0, p1, p2 = (p >> 2) & 1, (p >> 1) & 1, p & 1
        if (p0 and n0 == 1) or (p1 and n1 == 1) or (p2 and n2 == 1):
            continue
        for i in range(p0, n0, 2):
            for j in range(p1, n1, 2):
                c0 = (i * n1 + j) * n2
                q0 = padded_row(i, j, shape)
                for k in range(p2, n2, 2):
                    c, q = np.uintp(c0 + k), q0 + k
                    acc = b[np.uintp(q)]
                    for t2 in range(len(fos)):
                        acc -= coef[c, np.uintp(cols[t2])] * xp[np.uintp(q + fos[t2])]
                    xp[np.uintp(q)] = acc * inv[c]


@njit(cache=True)
def to_csr_arrays(coef, offs, K, shape, periodic):
    """CSR arrays (data, indices, indptr) of a stencil operator (zero off-diagonals dropped)."""
    n0, n1, n2 = shape[0], shape[1], shape[2]
    N = n0 * n1 * n2
    m = offs.shape[0]
    indptr = np.zeros(N + 1, dtype=np.int64)
    indices = np.empty(N * m, dtype=np.int64)
    data = np.empty(N * m)
    q = 0
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                c = (i * n1 + j) * n2 + k
                for a in range(m):
                    v = coef[c, a]
                    if v == 0.0 and offs[a] != K // 2:
                        continue
                    y = neighbour(i, j, k, offs[a], K, shape, periodic)
                    if y >= 0:
                        indices[q] = y
                        data[q] = v
                        q += 1
                indptr[c + 1] = q
    return data[:q], indices[:q], indptr


def to_csr(coef, offs, K, shape, periodic):
    """The stencil operator as a scipy CSR matrix."""
    d, i, p = to_csr_arrays(coef, offs, K, shape, periodic)
    N = coef.shape[0]
    A = sp.csr_matrix((d, i, p), shape=(N, N))
    A.sum_duplicates()
    return A
