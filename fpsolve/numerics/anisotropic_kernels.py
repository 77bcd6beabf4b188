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
def _row(r, shape, strides, periodic, leg_logk, leg_sgn, leg_P, planes, orient, dia_logk,
         dia_sgn, dia_P, psi, cols, vals):
    """Entries of row r of S = E⁻¹ L E into (cols, vals); returns how many (diagonal first).

    S[r, m] = (rate m → r) e^(ψ_m − ψ_r); S[r, r] = −(total rate out of r).
    """
    ndim = shape.shape[0]
    cols[0] = r
    vals[0] = 0.0
    m = 1
    for a in range(ndim):
        lo = _step(r, a, -1, shape, strides, periodic)
        if lo >= 0 and leg_sgn[a, lo] != 0.0:  # leg lo → r
            k, P, sg = leg_logk[a, lo], leg_P[a, lo], leg_sgn[a, lo]
            m = _add(cols, vals, m, lo, sg * math.exp(k + log_bernoulli(-P) + psi[lo] - psi[r]))
            vals[0] -= sg * math.exp(k + log_bernoulli(P))
        hi = _step(r, a, 1, shape, strides, periodic)
        if hi >= 0 and leg_sgn[a, r] != 0.0:  # leg r → hi
            k, P, sg = leg_logk[a, r], leg_P[a, r], leg_sgn[a, r]
            m = _add(cols, vals, m, hi, sg * math.exp(k + log_bernoulli(P) + psi[hi] - psi[r]))
            vals[0] -= sg * math.exp(k + log_bernoulli(-P))
    for p in range(planes.shape[0]):
        a = planes[p, 0]
        j = planes[p, 1]
        bl = _step(r, a, -1, shape, strides, periodic)
        bd = _step(r, j, -1, shape, strides, periodic)
        bld = _step(bl, j, -1, shape, strides, periodic)
        for q in range(4):
            b = r if q == 0 else (bl if q == 1 else (bd if q == 2 else bld))
            if b < 0:
                continue
            o = orient[p, b]
            if o == 0 or dia_sgn[p, b] == 0.0:
                continue
            s, e = _diagonal(b, a, j, o, shape, strides, periodic)
            k, P, sg = dia_logk[p, b], dia_P[p, b], dia_sgn[p, b]
            if s == r:
                m = _add(cols, vals, m, e, sg * math.exp(k + log_bernoulli(P) + psi[e] - psi[r]))
                vals[0] -= sg * math.exp(k + log_bernoulli(-P))
            elif e == r:
                m = _add(cols, vals, m, s, sg * math.exp(k + log_bernoulli(-P) + psi[s] - psi[r]))
                vals[0] -= sg * math.exp(k + log_bernoulli(P))
    return m


@njit(cache=True)
def _sort_row(cols, vals, m):
    for i in range(1, m):
        cc = cols[i]
        vv = vals[i]
        k = i - 1
        while k >= 0 and cols[k] > cc:
            cols[k + 1] = cols[k]
            vals[k + 1] = vals[k]
            k -= 1
        cols[k + 1] = cc
        vals[k + 1] = vv


@njit(cache=True)
def assemble_scaled(shape, periodic, leg_logk, leg_sgn, leg_P, planes, orient, dia_logk,
                    dia_sgn, dia_P, psi):
    """CSR arrays (data, indices, indptr) of S = E⁻¹ L E on all cells, rows sorted."""
    strides = strides_of(shape)
    N = psi.shape[0]
    cols = np.empty(MAX_ROW, dtype=np.int64)
    vals = np.empty(MAX_ROW, dtype=np.float64)
    indptr = np.zeros(N + 1, dtype=np.int64)
    for r in range(N):
        indptr[r + 1] = indptr[r] + _row(r, shape, strides, periodic, leg_logk, leg_sgn, leg_P,
                                         planes, orient, dia_logk, dia_sgn, dia_P, psi, cols,
                                         vals)
    indices = np.empty(indptr[N], dtype=np.int64)
    data = np.empty(indptr[N], dtype=np.float64)
    for r in range(N):
        m = _row(r, shape, strides, periodic, leg_logk, leg_sgn, leg_P, planes, orient,
                 dia_logk, dia_sgn, dia_P, psi, cols, vals)
        _sort_row(cols, vals, m)
        s = indptr[r]
        for i in range(m):
            indices[s + i] = cols[i]
            data[s + i] = vals[i]
    return data, indices, indptr


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
        _sort_row(cols, vals, m)
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
