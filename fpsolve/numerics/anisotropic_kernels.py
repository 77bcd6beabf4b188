"""Numba kernels of the tensor-diffusion scheme (:mod:`fpsolve.numerics.anisotropic`).

Small pure functions over flat arrays (cells in C order, 1–3 axes). The scheme is a set of
two-point Scharfetter–Gummel fluxes on the edges of a graph whose nodes are the cells:

- legs: the faces k | k+e_a (as in :class:`FaceRates`), stored at k, shape (ndim, N);
- diagonals: one per plaquette of four cells in the plane of axes (a, j), a < j, stored at its
  lowest cell b, shape (n_planes, N). ``orient[p, b]`` = +1: the diagonal joins b to b+e_a+e_j;
  −1: it joins b+e_a to b+e_j; 0: no plaquette (at a wall).

Each edge from its start cell s to its end cell e carries a weight κ (1/time, sign ``sgn``,
log-magnitude ``logk``) and a Péclet number P: the rates are κ B(−P) for s → e and κ B(P) for
e → s. A negative κ (a leg where the cross terms are strong) gives negative "rates": the one way
the generator can fail to be an M-matrix.

The generator is assembled as S = E⁻¹ L E, E = diag e^ψ, whose entries stay O(1) however many
decades the density spans.
"""
from __future__ import annotations

import math

import numpy as np
from ..jit import njit

from .flux import log_bernoulli
from .generator import sort_row

MAX_ROW = 40  # distinct entries per row: at most 1 + 2·3 + 4·3 = 19 in 3D


@njit(cache=True)
def strides_of(shape):
    ndim = shape.shape[0]
    strides = np.ones(ndim, dtype=np.int64)
    for a in range(ndim - 2, -1, -1):
        strides[a] = strides[a + 1] * shape[a + 1]
    return strides


@njit(cache=True, inline="always")
def _step(flat, axis, step, shape, strides, periodic):
    """Flat index of the cell ``step`` (±1) away along ``axis`` (−1 outside a wall)."""
    if flat < 0:
        return -1
    n = shape[axis]
    s = strides[axis]
    idx = (flat // s) % n
    new = idx + step
    if new < 0 or new >= n:
        if not periodic[axis]:
            return -1
        new = new % n
    return flat + (new - idx) * s


@njit(cache=True, inline="always")
def _diagonal(b, a, j, o, shape, strides, periodic):
    """(start, end) cells of the diagonal of the plaquette at b in plane (a, j)."""
    if o > 0:
        return b, _step(_step(b, a, 1, shape, strides, periodic), j, 1, shape, strides, periodic)
    return _step(b, a, 1, shape, strides, periodic), _step(b, j, 1, shape, strides, periodic)


@njit(cache=True, inline="always")
def _add(cols, vals, m, col, val):
    for i in range(m):
        if cols[i] == col:
            vals[i] += val
            return m
    cols[m] = col
    vals[m] = val
    return m + 1


@njit(cache=True)
def edge_log_rates(logk, P):
    """(log rate start → end, log rate end → start) = (log|κ| + log B(−P), log|κ| + log B(P)) of
    a set of edges (arrays of any shape, flattened): computed once per edge, so that assembling
    a row costs one exponential per entry and no Bernoulli function."""
    lk = logk.ravel()
    p = P.ravel()
    fwd = np.empty(lk.size)
    bwd = np.empty(lk.size)
    for i in range(lk.size):
        fwd[i] = lk[i] + log_bernoulli(-p[i])
        bwd[i] = lk[i] + log_bernoulli(p[i])
    return fwd.reshape(logk.shape), bwd.reshape(logk.shape)


@njit(cache=True)
def _scatter(rows, cols, vals, fill, r, c, v):
    """Append (c, v) to row r (rows[r] is its first slot, fill[r] how many are used)."""
    q = rows[r] + fill[r]
    cols[q] = c
    vals[q] = v
    fill[r] += 1


@njit(cache=True)
def _upper_neighbours(shape, strides, periodic):
    """(ndim, N): the flat index of each cell's upper neighbour along each axis, −1 at a wall."""
    ndim = shape.shape[0]
    N = 1
    for a in range(ndim):
        N *= shape[a]
    up = np.empty((ndim, N), dtype=np.int64)
    idx = np.zeros(ndim, dtype=np.int64)
    for c in range(N):
        for a in range(ndim):
            if idx[a] + 1 < shape[a]:
                up[a, c] = c + strides[a]
            elif periodic[a]:
                up[a, c] = c - (shape[a] - 1) * strides[a]
            else:
                up[a, c] = -1
        a = ndim - 1  # next cell in C order
        while a >= 0:
            idx[a] += 1
            if idx[a] < shape[a]:
                break
            idx[a] = 0
            a -= 1
    return up


@njit(cache=True, inline="always")
def _diagonal_up(b, a, j, o, up):
    """(start, end) cells of the diagonal of the plaquette at b in plane (a, j), from the
    upper-neighbour table (−1 where a wall cuts it)."""
    ba = up[a, b]
    bj = up[j, b]
    if o > 0:
        return b, (up[j, ba] if ba >= 0 else -1)
    return ba, bj


@njit(cache=True)
def assemble_scaled(shape, periodic, leg_logk, leg_sgn, leg_P, planes, orient, dia_logk,
                    dia_sgn, dia_P, psi):
    """CSR arrays (data, indices, indptr) of S = E⁻¹ L E on all cells, rows sorted.

    Edge by edge: each edge's two log rates are computed once (:func:`edge_log_rates`) and its
    four entries scattered into its two rows; then each row is sorted and entries in the same
    column (a periodic axis of two cells joins the same pair twice) are merged, in place.
    0.34 → 0.05 s at 512² against evaluating every row's edges from the row (measured).
    """
    strides = strides_of(shape)
    ndim = shape.shape[0]
    N = psi.shape[0]
    n_planes = planes.shape[0]
    leg_fwd, leg_bwd = edge_log_rates(leg_logk, leg_P)
    dia_fwd, dia_bwd = edge_log_rates(dia_logk, dia_P)
    # the upper neighbour of every cell along every axis (−1 at a wall), from coordinates kept
    # as the cells are visited in order: no integer division per edge (passes 1–2 took 0.3 s at
    # 1000² with one per neighbour, measured)
    up = _upper_neighbours(shape, strides, periodic)
    # pass 1: entries per row (an upper bound where two edges join the same pair)
    count = np.ones(N, dtype=np.int64)
    for c in range(N):
        for a in range(ndim):
            if leg_sgn[a, c] != 0.0:
                hi = up[a, c]
                if hi >= 0 and hi != c:
                    count[c] += 1
                    count[hi] += 1
        for p in range(n_planes):
            o = orient[p, c]
            if o != 0 and dia_sgn[p, c] != 0.0:
                s, e = _diagonal_up(c, planes[p, 0], planes[p, 1], o, up)
                if s >= 0 and e >= 0 and s != e:
                    count[s] += 1
                    count[e] += 1
    start = np.zeros(N + 1, dtype=np.int64)
    for r in range(N):
        start[r + 1] = start[r] + count[r]
    indices = np.empty(start[N], dtype=np.int64)
    data = np.empty(start[N], dtype=np.float64)
    fill = np.ones(N, dtype=np.int64)  # slot 0 of each row: the diagonal
    diag = np.zeros(N)
    # pass 2: scatter S[e, s] = rate s → e · e^(ψ_s − ψ_e), S[s, e] likewise, and the outflows
    for c in range(N):
        for a in range(ndim):
            sg = leg_sgn[a, c]
            if sg == 0.0:
                continue
            hi = up[a, c]
            if hi < 0:
                continue
            lf = leg_fwd[a, c]
            lb = leg_bwd[a, c]
            diag[c] -= sg * math.exp(lf)
            diag[hi] -= sg * math.exp(lb)
            if hi != c:
                _scatter(start, indices, data, fill, hi, c, sg * math.exp(lf + psi[c] - psi[hi]))
                _scatter(start, indices, data, fill, c, hi, sg * math.exp(lb + psi[hi] - psi[c]))
        for p in range(n_planes):
            o = orient[p, c]
            sg = dia_sgn[p, c]
            if o == 0 or sg == 0.0:
                continue
            s, e = _diagonal_up(c, planes[p, 0], planes[p, 1], o, up)
            if s < 0 or e < 0:
                continue
            lf = dia_fwd[p, c]
            lb = dia_bwd[p, c]
            diag[s] -= sg * math.exp(lf)
            diag[e] -= sg * math.exp(lb)
            if s != e:
                _scatter(start, indices, data, fill, e, s, sg * math.exp(lf + psi[s] - psi[e]))
                _scatter(start, indices, data, fill, s, e, sg * math.exp(lb + psi[e] - psi[s]))
    # pass 3: per row, diagonal in, sort, merge equal columns, compact in place (moves only down).
    # Two edges join the same pair only across a periodic axis of two cells; without one the
    # rows need no merging, the counts are exact and the arrays are returned without a copy
    merge = False
    for a in range(ndim):
        merge = merge or (periodic[a] and shape[a] <= 2)
    indptr = np.zeros(N + 1, dtype=np.int64)
    cols = np.empty(MAX_ROW, dtype=np.int64)
    vals = np.empty(MAX_ROW, dtype=np.float64)
    out = 0
    for r in range(N):
        q0 = start[r]
        cols[0] = r
        vals[0] = diag[r]
        m = 1
        for q in range(q0 + 1, q0 + fill[r]):
            if merge:
                m = _add(cols, vals, m, indices[q], data[q])
            else:
                cols[m] = indices[q]
                vals[m] = data[q]
                m += 1
        sort_row(cols, vals, m)
        for i in range(m):
            indices[out + i] = cols[i]
            data[out + i] = vals[i]
        out += m
        indptr[r + 1] = out
    if out == data.shape[0]:
        return data, indices, indptr
    return data[:out].copy(), indices[:out].copy(), indptr


@njit(cache=True)
def rescale_restrict(data, indices, indptr, delta, index):
    """CSR of D⁻¹ S D (D = diag e^delta) restricted to the cells with index ≥ 0, renumbered.

    The principal submatrix: rows and columns of removed cells are dropped, so rates into them
    stay on the diagonal as loss (the sub-generator of the killed process).
    """
    N = indptr.shape[0] - 1
    n_active = 0
    for c in range(N):
        if index[c] >= 0:
            n_active += 1
    new_ptr = np.zeros(n_active + 1, dtype=np.int64)
    for c in range(N):
        r = index[c]
        if r < 0:
            continue
        cnt = 0
        for q in range(indptr[c], indptr[c + 1]):
            if index[indices[q]] >= 0:
                cnt += 1
        new_ptr[r + 1] = cnt
    for r in range(n_active):
        new_ptr[r + 1] += new_ptr[r]
    new_ind = np.empty(new_ptr[n_active], dtype=np.int64)
    new_dat = np.empty(new_ptr[n_active], dtype=np.float64)
    cols = np.empty(MAX_ROW, dtype=np.int64)
    vals = np.empty(MAX_ROW, dtype=np.float64)
    for c in range(N):
        r = index[c]
        if r < 0:
            continue
        m = 0
        for q in range(indptr[c], indptr[c + 1]):
            col = indices[q]
            if index[col] >= 0:
                cols[m] = index[col]
                vals[m] = data[q] if col == c else data[q] * math.exp(delta[col] - delta[c])
                m += 1
        sort_row(cols, vals, m)
        s = new_ptr[r]
        for i in range(m):
            new_ind[s + i] = cols[i]
            new_dat[s + i] = vals[i]
    return new_dat, new_ind, new_ptr


@njit(cache=True)
def face_flux(shape, periodic, h, leg_logk, leg_sgn, leg_P, planes, orient, dia_logk, dia_sgn,
              dia_P, p):
    """Normal flux (ndim, N) through the face k | k+e_a stored at k (0 on walls).

    A diagonal transfer Q (per unit volume and time) from c00 to c11 is routed half through c10
    and half through c01 (from c10 to c01: half through c00, half through c11), so that the
    discrete divergence of the face fluxes is exactly −L p.
    """
    strides = strides_of(shape)
    ndim = shape.shape[0]
    N = p.shape[0]
    F = np.zeros((ndim, N))
    for a in range(ndim):
        for c in range(N):
            hi = _step(c, a, 1, shape, strides, periodic)
            if hi < 0 or leg_sgn[a, c] == 0.0:
                continue
            k, P = leg_logk[a, c], leg_P[a, c]
            F[a, c] = leg_sgn[a, c] * h[a] * (math.exp(k + log_bernoulli(-P)) * p[c]
                                              - math.exp(k + log_bernoulli(P)) * p[hi])
    for q in range(planes.shape[0]):
        a = planes[q, 0]
        j = planes[q, 1]
        for b in range(N):
            o = orient[q, b]
            if o == 0 or dia_sgn[q, b] == 0.0:
                continue
            s, e = _diagonal(b, a, j, o, shape, strides, periodic)
            k, P = dia_logk[q, b], dia_P[q, b]
            Q = 0.5 * dia_sgn[q, b] * (math.exp(k + log_bernoulli(-P)) * p[s]
                                       - math.exp(k + log_bernoulli(P)) * p[e])
            c10 = _step(b, a, 1, shape, strides, periodic)
            c01 = _step(b, j, 1, shape, strides, periodic)
            if o > 0:  # b → c10 → c11 and b → c01 → c11
                F[a, b] += Q * h[a]
                F[j, c10] += Q * h[j]
                F[j, b] += Q * h[j]
                F[a, c01] += Q * h[a]
            else:  # c10 → b → c01 and c10 → c11 → c01
                F[a, b] -= Q * h[a]
                F[j, b] += Q * h[j]
                F[j, c10] += Q * h[j]
                F[a, c01] -= Q * h[a]
    return F


@njit(cache=True)
def log_bernoulli_1d(z):
    """Elementwise log B(z) of a 1D array (see :func:`fpsolve.numerics.flux.log_bernoulli`)."""
    out = np.empty_like(z)
    for i in range(z.shape[0]):
        out[i] = log_bernoulli(z[i])
    return out


@njit(cache=True)
def leg_peclet(Df, b, inner, a, h):
    """h (D_f⁻¹ b̃_f)_a at every face k | k+e_a with ``inner[k]`` (0 elsewhere).

    Df : (d, d, N) face tensors, b : (d, N) face drift vectors. A d×d Gaussian elimination with
    partial pivoting per face (d ≤ 3), in place of a batched LAPACK solve over (N, d, d) copies
    (0.26 → 0.02 s at 1000², measured).
    """
    d = Df.shape[0]
    N = Df.shape[2]
    out = np.zeros(N)
    M = np.empty((d, d))
    v = np.empty(d)
    for c in range(N):
        if not inner[c]:
            continue
        for i in range(d):
            v[i] = b[i, c]
            for j in range(d):
                M[i, j] = Df[i, j, c]
        for col in range(d):
            piv = col
            for i in range(col + 1, d):
                if abs(M[i, col]) > abs(M[piv, col]):
                    piv = i
            if piv != col:
                for j in range(d):
                    M[col, j], M[piv, j] = M[piv, j], M[col, j]
                v[col], v[piv] = v[piv], v[col]
            for i in range(col + 1, d):
                f = M[i, col] / M[col, col]
                for j in range(col, d):
                    M[i, j] -= f * M[col, j]
                v[i] -= f * v[col]
        for i in range(d - 1, -1, -1):
            acc = v[i]
            for j in range(i + 1, d):
                acc -= M[i, j] * v[j]
            v[i] = acc / M[i, i]
        out[c] = h * v[a]
    return out


@njit(cache=True)
def offdiagonal_extremes(data, indices, indptr):
    """(smallest off-diagonal entry, largest |diagonal| entry) of a CSR matrix (+inf, 0 if none)."""
    lo = np.inf
    big = 0.0
    for r in range(indptr.shape[0] - 1):
        for q in range(indptr[r], indptr[r + 1]):
            if indices[q] == r:
                if abs(data[q]) > big:
                    big = abs(data[q])
            elif data[q] < lo:
                lo = data[q]
    return lo, big
