"""Assembly of the sparse finite-volume generator from face rates (Numba, no Python loop over cells).

The generator L acts on cell densities, dp/dt = L p. Off-diagonal entries are jump rates between
neighbouring cells (from :mod:`fpsolve.numerics.flux`), the diagonal is minus the total rate out of
a cell, so every column sums to zero (mass conservation) and L is an M-matrix (positivity).

Two extensions are built in rather than bolted on:

- a reference log-density ψ: the kernel assembles E⁻¹ L E with E = diag(e^ψ) directly from log
  rates, so that densities spanning e^(±700) never overflow (stationary solves in log space, and
  the symmetrised generator when detailed balance holds);
- an index map: cells with index −1 are removed (absorbing targets). Rates into removed cells
  stay in the diagonal as loss, so the restricted matrix is the sub-generator of the killed process.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import scipy.sparse as sp
from ..jit import njit


@njit(cache=True)
def _neighbours(flat, shape, strides, axis, periodic):
    """Flat indices of the lower and upper neighbour of ``flat`` along ``axis`` (−1 if none)."""
    n = shape[axis]
    s = strides[axis]
    idx = (flat // s) % n
    lo = flat - s if idx > 0 else (flat + (n - 1) * s if periodic else -1)
    hi = flat + s if idx < n - 1 else (flat - (n - 1) * s if periodic else -1)
    return lo, hi


@njit(cache=True)
def sort_row(cols, vals, m):
    """Sort the first ``m`` (column, value) pairs of one CSR row by column, in place: an
    insertion sort, the fastest for the ≤ 2d + 1 entries of a finite-volume row."""
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
def exp_rates(log_fwd, log_bwd):
    """(e^log_fwd, e^log_bwd): the face rates themselves, which the kernels below take along
    with their logarithms (:attr:`~fpsolve.numerics.discretisation.FaceRates.linear_rates`
    computes them once per rates object)."""
    return np.exp(log_fwd), np.exp(log_bwd)


@njit(cache=True)
def assemble_csr(rate_fwd, rate_bwd, log_fwd, log_bwd, psi, index, shape, periodic):
    """CSR arrays of E⁻¹ L E restricted to the cells with ``index >= 0``.

    rate_fwd, rate_bwd : (ndim, N) rates across the face stored at each cell (k → k+1,
    k+1 → k), and log_fwd, log_bwd their logarithms (:func:`exp_rates`).
    psi : (N,) reference log-density (zeros give L itself).
    index : (N,) new row/column number of each cell, −1 for removed cells.
    shape, periodic : grid shape and periodicity per axis (length ndim).
    """
    ndim = log_fwd.shape[0]
    N = log_fwd.shape[1]
    strides = np.ones(ndim, dtype=np.int64)
    for a in range(ndim - 2, -1, -1):
        strides[a] = strides[a + 1] * shape[a + 1]
    n_active = 0
    for c in range(N):
        if index[c] >= 0:
            n_active += 1
    indptr = np.zeros(n_active + 1, dtype=np.int64)
    # pass 1: count entries per row
    for c in range(N):
        r = index[c]
        if r < 0:
            continue
        cnt = 1
        for a in range(ndim):
            lo, hi = _neighbours(c, shape, strides, a, periodic[a])
            if lo >= 0 and index[lo] >= 0:
                cnt += 1
            if hi >= 0 and index[hi] >= 0:
                cnt += 1
        indptr[r + 1] = cnt
    for r in range(n_active):
        indptr[r + 1] += indptr[r]
    nnz = indptr[n_active]
    indices = np.empty(nnz, dtype=np.int64)
    data = np.empty(nnz, dtype=np.float64)
    cols = np.empty(2 * ndim + 1, dtype=np.int64)
    vals = np.empty(2 * ndim + 1, dtype=np.float64)
    # every rate enters a diagonal, and with ψ = 0 an off-diagonal as it is (e^(x + 0 − 0) is
    # e^x to the bit): only the scaled off-diagonals are exponentiated here
    plain = True
    for c in range(N):
        plain = plain and psi[c] == 0.0
    # pass 2: fill, each row sorted by column
    for c in range(N):
        r = index[c]
        if r < 0:
            continue
        m = 0
        diag = 0.0
        for a in range(ndim):
            lo, hi = _neighbours(c, shape, strides, a, periodic[a])
            if lo >= 0:
                # the face between lo and c is stored at lo
                diag -= rate_bwd[a, lo]
                if index[lo] >= 0:
                    cols[m] = index[lo]
                    vals[m] = (rate_fwd[a, lo] if plain
                               else math.exp(log_fwd[a, lo] + psi[lo] - psi[c]))
                    m += 1
            if hi >= 0:
                diag -= rate_fwd[a, c]
                if index[hi] >= 0:
                    cols[m] = index[hi]
                    vals[m] = (rate_bwd[a, c] if plain
                               else math.exp(log_bwd[a, c] + psi[hi] - psi[c]))
                    m += 1
        cols[m] = r
        vals[m] = diag
        m += 1
        sort_row(cols, vals, m)  # at most 7 entries
        start = indptr[r]
        for i in range(m):
            indices[start + i] = cols[i]
            data[start + i] = vals[i]
    return data, indices, indptr


@njit(cache=True)
def assemble_jump_csr(rate_fwd, rate_bwd, shape, periodic, itype):
    """CSR arrays of the jump rates R[c, d] = rate c → d (the off-diagonal of L, transposed),
    rows sorted by column, rates that are zero (walls, underflow) left out: what assembling
    the reversed chain's generator, zeroing its diagonal and eliminating zeros gives, entry for
    entry. Needs every periodic axis to have ≥ 3 cells (two distinct neighbours). Arguments as
    for :func:`assemble_csr`; ``itype``: an empty array of the index type wanted
    (:func:`index_type`), so that :func:`to_csr` need not convert."""
    ndim = rate_fwd.shape[0]
    N = rate_fwd.shape[1]
    strides = np.ones(ndim, dtype=np.int64)
    for a in range(ndim - 2, -1, -1):
        strides[a] = strides[a + 1] * shape[a + 1]
    indptr = np.zeros(N + 1, dtype=itype.dtype)
    indices = np.empty(2 * ndim * N, dtype=itype.dtype)
    data = np.empty(2 * ndim * N, dtype=np.float64)
    cols = np.empty(2 * ndim, dtype=np.int64)
    vals = np.empty(2 * ndim, dtype=np.float64)
    nnz = 0
    for c in range(N):
        m = 0
        for a in range(ndim):
            lo, hi = _neighbours(c, shape, strides, a, periodic[a])
            if lo >= 0:  # the face between lo and c is stored at lo
                cols[m] = lo
                vals[m] = rate_bwd[a, lo]
                m += 1
            if hi >= 0:
                cols[m] = hi
                vals[m] = rate_fwd[a, c]
                m += 1
        sort_row(cols, vals, m)  # at most 6 entries
        for i in range(m):
            if vals[i] != 0.0:
                indices[nnz] = cols[i]
                data[nnz] = vals[i]
                nnz += 1
        indptr[c + 1] = nnz
    return data[:nnz], indices[:nnz], indptr


@njit(cache=True)
def comb_log_density(log_fwd, log_bwd, shape):
    """Reference log-density ψ integrated along a spanning comb of the grid.

    Along axis 0 on the line where all other indices are 0, then along axis 1 from there, and so
    on: ψ_{k+1} − ψ_k = log(rate k→k+1 / rate k+1→k). When the rates satisfy detailed balance this
    *is* the log of the stationary density (up to a constant); otherwise it is a starting guess.
    Returned with its maximum at 0.
    """
    ndim = log_fwd.shape[0]
    N = log_fwd.shape[1]
    strides = np.ones(ndim, dtype=np.int64)
    for a in range(ndim - 2, -1, -1):
        strides[a] = strides[a + 1] * shape[a + 1]
    psi = np.zeros(N)
    comp = np.zeros(N)  # Kahan compensation: round-off must not accumulate along long paths
    # Cells in C order: a cell whose last non-zero index is along axis a is reached from its
    # lower neighbour along a, which comes earlier in C order and is already set.
    for c in range(1, N):
        a_last = 0
        for a in range(ndim):
            if (c // strides[a]) % shape[a] != 0:
                a_last = a
        lo = c - strides[a_last]
        y = (log_fwd[a_last, lo] - log_bwd[a_last, lo]) - comp[lo]
        t = psi[lo] + y
        comp[c] = (t - psi[lo]) - y
        psi[c] = t
    # Anchor at the largest value: ψ − ψ_max, with the compensations, keeps full precision where
    # the density lives even when ψ spans 1e12 or more between the first cell and the maximum
    # (steep tails, or the ends of a grid reaching to ±∞), where ψ itself is rounded to 1e-4.
    top = np.argmax(psi)
    ref, ref_comp = psi[top], comp[top]
    for c in range(N):
        psi[c] = (psi[c] - ref) - (comp[c] - ref_comp)
    return psi


@njit(cache=True)
def detailed_balance_defect(log_fwd, log_bwd, psi, shape, periodic):
    """max over faces of |ψ_k + log fwd − ψ_{k+1} − log bwd| (0 iff ψ satisfies detailed balance)."""
    ndim = log_fwd.shape[0]
    N = log_fwd.shape[1]
    strides = np.ones(ndim, dtype=np.int64)
    for a in range(ndim - 2, -1, -1):
        strides[a] = strides[a + 1] * shape[a + 1]
    worst = 0.0
    for c in range(N):
        for a in range(ndim):
            lo, hi = _neighbours(c, shape, strides, a, periodic[a])
            if hi < 0:
                continue
            lf = log_fwd[a, c]
            lb = log_bwd[a, c]
            if lf == -np.inf and lb == -np.inf:
                continue
            d = abs(psi[c] + lf - psi[hi] - lb)
            if d > worst:
                worst = d
    return worst


def index_type(nnz):
    """An empty array of the index type of a CSR matrix with ``nnz`` entries (32-bit where
    they fit, as :func:`to_csr` stores them), for kernels that allocate the index arrays."""
    return np.zeros(0, dtype=np.int32 if nnz < 2**31 else np.int64)


#: an empty matrix of each compressed format, whose attributes :func:`compressed` starts from
_EMPTY = {sp.csr_matrix: sp.csr_matrix((1, 1)), sp.csc_matrix: sp.csc_matrix((1, 1))}


def compressed(data, indices, indptr, shape, kind=sp.csr_matrix):
    """A ``kind`` (CSR or CSC) matrix on these arrays as they are, without SciPy's constructor,
    for arrays that are valid by construction (an assembly kernel's, or another matrix's).

    Why: the constructor re-derives the index type from the contents, prunes and checks the
    format, 8 µs a matrix (measured at 500 cells), and a small first-passage solve built a
    dozen of them, a tenth of its time. What the constructor would have set is copied from an
    empty matrix of the same kind; only the shape is SciPy's private ``_shape`` (the test
    against the constructor, ``tests/numerics/test_fast_paths.py``, would show a change)."""
    A = kind.__new__(kind)
    A.__dict__.update(_EMPTY[kind].__dict__)
    A.data, A.indices, A.indptr = data, indices, indptr
    A._shape = (int(shape[0]), int(shape[1]))
    return A


def to_csr(data, indices, indptr, n):
    """Wrap assembled arrays as a canonical scipy CSR matrix (32-bit indices where they fit),
    as ``sp.csr_matrix((data, indices, indptr), shape=(n, n))`` would, without its checks
    (:func:`compressed`): the callers' kernels return canonical arrays of the exact size."""
    itype = index_type(data.size).dtype
    A = compressed(data, indices.astype(itype, copy=False), indptr.astype(itype, copy=False),
                   (n, n))
    A.has_sorted_indices = True
    return A


def empty_csr(n):
    """The n×n CSR matrix without entries, as ``sp.csr_matrix((n, n))`` (:func:`to_csr`)."""
    return to_csr(np.zeros(0), np.zeros(0, dtype=np.int32), np.zeros(n + 1, dtype=np.int32), n)


def transposed(A):
    """Aᵀ of a CSR matrix as the CSC matrix on the same arrays (no copy), what ``A.T`` gives
    without its constructor's checks (:func:`compressed`)."""
    return compressed(A.data, A.indices, A.indptr, A.shape[::-1], sp.csc_matrix)


@njit(cache=True)
def _csr_to_csc(data, indices, indptr, n_cols):
    """CSC arrays of a CSR matrix: SciPy's ``csr_tocsc`` loop (rows scattered in order, so
    every column's rows come out sorted), entry for entry."""
    n_rows = indptr.size - 1
    ptr = np.zeros(n_cols + 1, dtype=indptr.dtype)
    for q in range(indptr[n_rows]):
        ptr[indices[q] + 1] += 1
    for c in range(n_cols):
        ptr[c + 1] += ptr[c]
    nxt = ptr[:-1].copy()
    rows = np.empty(indptr[n_rows], dtype=indices.dtype)
    vals = np.empty(indptr[n_rows])
    for r in range(n_rows):
        for q in range(indptr[r], indptr[r + 1]):
            k = nxt[indices[q]]
            rows[k] = r
            vals[k] = data[q]
            nxt[indices[q]] += 1
    return vals, rows, ptr


def to_csc(A):
    """The CSC form of a CSR matrix, as ``A.tocsc()`` (same arrays, sorted row indices) in one
    Numba pass and without the constructor's checks (:func:`compressed`): for the sparse LU,
    which takes CSC."""
    data, indices, indptr = _csr_to_csc(A.data, A.indices, A.indptr, A.shape[1])
    B = compressed(data, indices, indptr, A.shape, sp.csc_matrix)
    B.has_sorted_indices = True
    return B


def _csr_like(A, data):
    """A CSR matrix on a copy of A's pattern (``indices``, ``indptr``, and its format flags,
    which hold for the same pattern) with the values ``data``, without SciPy's constructor: its
    checks, already passed by A, cost 8 µs against 2 µs (measured at 45 cells), a visible part
    of a small time-stepping run."""
    B = copy.copy(A)
    B.data, B.indices, B.indptr = data, A.indices.copy(), A.indptr.copy()
    return B


@njit(cache=True)
def _csr_matvec(data, indices, indptr, v):
    """A v for A in CSR form: each row summed from 0 in storage order, as SciPy's product.
    The positions are read as unsigned integers: Numba then drops its test for negative
    indices on every access (without it the loop is twice as slow as SciPy's, measured)."""
    out = np.empty(indptr.size - 1)
    for r in range(indptr.size - 1):
        acc = 0.0
        for q in range(np.uintp(indptr[r]), np.uintp(indptr[r + 1])):
            acc += data[q] * v[np.uintp(indices[q])]
        out[r] = acc
    return out


@njit(cache=True)
def explicit_euler(data, indices, indptr, p, dt, n_steps):
    """n_steps of forward Euler p ← p + dt L p with L in CSR form (in place on a copy)."""
    n = p.size
    cur = p.copy()
    new = np.empty(n)
    for _ in range(n_steps):
        for r in range(n):
            acc = 0.0
            for q in range(indptr[r], indptr[r + 1]):
                acc += data[q] * cur[indices[q]]
            new[r] = cur[r] + dt * acc
        cur, new = new, cur
    return cur


@njit(cache=True)
def generator_residual(rate_fwd, rate_bwd, p, shape, periodic):
    """(Σ_k |(L p)_k|, max_k |L_kk|) without assembling L: one pass over the faces (rates as
    for :func:`assemble_csr`).

    The matrix-free form of :func:`fpsolve.numerics.linalg.relative_residual`, for the
    diagnostics of every stationary solve (assembling L for it cost half of a closed-form solve).
    """
    ndim = rate_fwd.shape[0]
    N = rate_fwd.shape[1]
    strides = np.ones(ndim, dtype=np.int64)
    for a in range(ndim - 2, -1, -1):
        strides[a] = strides[a + 1] * shape[a + 1]
    Lp = np.zeros(N)
    out = np.zeros(N)
    for a in range(ndim):
        for c in range(N):
            _, hi = _neighbours(c, shape, strides, a, periodic[a])
            if hi < 0:
                continue
            f = rate_fwd[a, c]
            b = rate_bwd[a, c]
            J = f * p[c] - b * p[hi]  # net jump flux c → hi
            Lp[c] -= J
            Lp[hi] += J
            out[c] += f
            out[hi] += b
    return np.sum(np.abs(Lp)), np.max(out)


def reversibility_tolerance(psi: np.ndarray) -> float:
    """Round-off bound on the detailed-balance defect of a reversible problem (in log units)."""
    return 1e-11 * max(1.0, float(np.abs(psi).max()))
