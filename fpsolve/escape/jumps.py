"""The jump rates of the model's Markov chain on the cells, and of the process killed on a target:
sparse matrices built from the model's face rates.

The killed process's matrices are built by Numba kernels in one or two passes over the jumps
(at 2·10⁶ cells scipy's broadcasting multiply, subtraction, COO assembly and negated copies
cost 1.6 s, these kernels 0.1 s); each returns the canonical CSR matrix (sorted indices, no
duplicates) that the scipy expressions it replaces returned, entry for entry.
"""
from __future__ import annotations

import weakref

import numpy as np
import scipy.sparse as sp

from ..jit import njit
from ..numerics.discretisation import FaceRates
from ..numerics.generator import assemble_jump_csr, empty_csr, index_type, to_csr

# jump_rates per rates object (keyed by id, dropped when the object dies): a question asks for
# them two or three times, and at 2·10⁶ cells each assembly costs ~0.8 s
_JUMPS: dict[int, tuple] = {}


def _sorted(M):
    """M as a CSR matrix with sorted indices: M itself when it is one (a new wrapper would
    cost SciPy's constructor and the sortedness check that M caches)."""
    M = M if isinstance(M, sp.csr_matrix) else sp.csr_matrix(M)
    return M if M.has_sorted_indices else M.sorted_indices()


@njit(cache=True)
def _moving_rates(data, indices, indptr, removed, cdata, cindices, cindptr, itype):
    """CSR arrays of R_ij − cut_ij over the columns j not ``removed`` (rows merged in column
    order, both inputs sorted), without the entries that are zero."""
    n = indptr.size - 1
    out_ptr = np.zeros(n + 1, dtype=itype.dtype)
    out_idx = np.empty(data.size + cdata.size, dtype=itype.dtype)
    out_val = np.empty(data.size + cdata.size)
    m = 0
    for r in range(n):
        p, pe = indptr[r], indptr[r + 1]
        q, qe = cindptr[r], cindptr[r + 1]
        while p < pe or q < qe:
            if q >= qe or (p < pe and indices[p] < cindices[q]):
                j = indices[p]
                v = 0.0 if removed[j] else data[p]
                p += 1
            elif p >= pe or cindices[q] < indices[p]:
                j = cindices[q]
                v = -cdata[q]
                q += 1
            else:
                j = indices[p]
                v = (0.0 if removed[j] else data[p]) - cdata[q]
                p += 1
                q += 1
            if v != 0.0:
                out_idx[m] = j
                out_val[m] = v
                m += 1
        out_ptr[r + 1] = m
    return out_val[:m], out_idx[:m], out_ptr


def moving_rates(R, removed, cut=None):
    """The jump rates of the killed process, R_s[y, z] = rate y → z between cells that are not
    ``removed``, without the jumps in ``cut`` (those that cross a target; see
    :mod:`fpsolve.escape.absorption`). R : the model's rates (R[y, z] = rate y → z, CSR)."""
    R = _sorted(R)
    n = R.shape[0]
    cut = empty_csr(n) if cut is None else _sorted(cut)
    data, indices, indptr = _moving_rates(R.data, R.indices, R.indptr,
                                          np.asarray(removed, dtype=bool).ravel(),
                                          cut.data, cut.indices, cut.indptr,
                                          index_type(R.nnz + cut.nnz))
    return to_csr(data, indices, indptr, n)


@njit(cache=True)
def _pairwise(a, start, n):
    """numpy's pairwise sum of a[start:start + n] (its ``add.reduce`` loop: eight partial sums
    in blocks of up to 128 entries, halves beyond), so that a sum below equals numpy's to the
    bit."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[start + i]
        return res
    if n <= 128:
        r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
        r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
        i = 8
        while i < n - n % 8:
            r0 += a[start + i]
            r1 += a[start + i + 1]
            r2 += a[start + i + 2]
            r3 += a[start + i + 3]
            r4 += a[start + i + 4]
            r5 += a[start + i + 5]
            r6 += a[start + i + 6]
            r7 += a[start + i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[start + i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise(a, start, n2) + _pairwise(a, start + n2, n - n2)


@njit(cache=True)
def _row_sum(data, lo, hi):
    """Σ data[lo:hi] as scipy's ``sum(axis=1)`` of a CSR row forms it (``np.add.reduceat``:
    the first entry plus numpy's pairwise sum of the others); 0 for an empty row."""
    if hi <= lo:
        return 0.0
    return data[lo] + _pairwise(data, lo + 1, hi - lo - 1)


@njit(cache=True)
def _row_sums(data, indptr):
    out = np.empty(indptr.size - 1)
    for r in range(out.size):
        out[r] = _row_sum(data, indptr[r], indptr[r + 1])
    return out


def row_sums(M):
    """``M.sum(axis=1)`` of a CSR matrix as a flat array, each row summed in SciPy's order
    (``_row_sum``), in one Numba pass: SciPy's reduction costs 13 µs a call at 500 cells, most
    of it Python."""
    return _row_sums(M.data, M.indptr)


@njit(cache=True)
def _killed_generator(data, indices, indptr, kill, index, n, sign, itype):
    """CSR arrays of sign·L_S (see :func:`killed_generator`): row z of L holds the rates y → z,
    so it is filled while the rows y of Rs are read in increasing order, which leaves every row
    sorted; the diagonal of row y goes in just before the jumps out of y are distributed."""
    N = indptr.size - 1
    ptr = np.zeros(n + 1, dtype=itype.dtype)
    for y in range(N):
        if index[y] < 0:
            continue
        ptr[index[y] + 1] += 1
        for q in range(indptr[y], indptr[y + 1]):
            z = indices[q]
            if z != y and index[z] >= 0:
                ptr[index[z] + 1] += 1
    for r in range(n):
        ptr[r + 1] += ptr[r]
    nxt = ptr[:-1].copy()
    out_idx = np.empty(ptr[n], dtype=itype.dtype)
    out_val = np.empty(ptr[n])
    for y in range(N):
        iy = index[y]
        if iy < 0:
            continue
        out = _row_sum(data, indptr[y], indptr[y + 1]) + kill[y]  # every rate out of y
        self_rate = 0.0
        for q in range(indptr[y], indptr[y + 1]):
            if indices[q] == y:
                self_rate += data[q]
        k = nxt[iy]
        out_idx[k] = iy
        out_val[k] = sign * (self_rate - out) if self_rate != 0.0 else -sign * out
        nxt[iy] += 1
        for q in range(indptr[y], indptr[y + 1]):
            z = indices[q]
            if z == y:
                continue
            iz = index[z]
            if iz >= 0:
                k = nxt[iz]
                out_idx[k] = iy
                out_val[k] = sign * data[q]
                nxt[iz] += 1
    return out_val, out_idx, ptr


def killed_generator(Rs, kill, index, negated=False):
    """L restricted to the cells with ``index >= 0``: off-diagonals Rs (transposed: L[z, y] =
    rate y → z), diagonal minus every rate out of the cell, to any cell or killed (``kill``);
    a sum of positive terms, so no cancellation. Rates into cells with index −1 (traps, target)
    stay as loss. ``index``: increasing over the kept cells (:func:`~.targets.index_map`);
    ``negated``: return −L_S (the M-matrix with a positive diagonal that the solvers take)
    instead, without a negated copy. Canonical CSR."""
    Rs = _sorted(Rs)
    index = np.asarray(index, dtype=np.int64)
    n = int(np.count_nonzero(index >= 0))
    data, indices, indptr = _killed_generator(Rs.data, Rs.indices, Rs.indptr,
                                              np.asarray(kill, dtype=float), index, n,
                                              -1.0 if negated else 1.0,
                                              index_type(Rs.nnz + n))
    return to_csr(data, indices, indptr, n)


@njit(cache=True)
def _block_entries(indptr, indices, rows_in, cols_in):
    """(rows, positions) of the stored entries of a CSR matrix in the block rows_in × cols_in,
    in storage order."""
    count = 0
    for i in range(indptr.size - 1):
        if rows_in[i]:
            for q in range(indptr[i], indptr[i + 1]):
                if cols_in[indices[q]]:
                    count += 1
    rows = np.empty(count, dtype=np.int64)
    pos = np.empty(count, dtype=np.int64)
    k = 0
    for i in range(indptr.size - 1):
        if rows_in[i]:
            for q in range(indptr[i], indptr[i + 1]):
                if cols_in[indices[q]]:
                    rows[k] = i
                    pos[k] = q
                    k += 1
    return rows, pos


def block_entries(M, rows_in, cols_in):
    """(rows, positions in M.data/M.indices) of the stored entries of CSR ``M`` in the block
    ``rows_in`` × ``cols_in`` (boolean masks), in storage order: one Numba pass over the
    pattern, where ``np.repeat`` of every entry's row and two masks cost 0.15 s per call at
    2·10⁶ cells."""
    return _block_entries(M.indptr, M.indices, np.asarray(rows_in, dtype=bool),
                          np.asarray(cols_in, dtype=bool))


def jump_rates(rates):
    """R[y, z] = rate y → z (CSR, zero diagonal, sorted indices) of the model's face rates
    (1/time): the off-diagonal of the generator, transposed. Built once per rates object and
    shared: callers must not modify it (its arrays are read-only)."""
    key = id(rates)
    hit = _JUMPS.get(key)
    if hit is not None and hit[0]() is rates:
        return hit[1]
    g = getattr(rates, "grid", None)
    if isinstance(rates, FaceRates) and all(n >= 3 or not p for n, p in zip(g.shape,
                                                                             g.periodic)):
        # the rates out of each cell, assembled directly (no generator, no transpose)
        data, indices, indptr = assemble_jump_csr(*rates.linear_rates, rates.shape,
                                                  rates.periodic,
                                                  index_type(2 * g.ndim * g.size))
        R = to_csr(data, indices, indptr, g.size)
    elif isinstance(rates, FaceRates):
        # the chain with every jump reversed has generator L′[y, z] = rate′ z → y = rate y → z:
        # R is its off-diagonal (ψ = 0 given so that the temporary object does not cache it)
        back = FaceRates(rates.grid, log_fwd=rates.log_bwd, log_bwd=rates.log_fwd)
        R = sp.csr_matrix(back.generator(psi=np.zeros(rates.grid.size)))
        R.setdiag(0.0)
        R.eliminate_zeros()
    else:
        R = sp.csr_matrix(rates.generator())  # generator() returns a fresh copy
        R.setdiag(0.0)
        R.eliminate_zeros()
        R = R.T.tocsr()
    R.sort_indices()
    for a in (R.data, R.indices, R.indptr):
        a.flags.writeable = False
    _JUMPS[key] = (weakref.ref(rates), R)
    weakref.finalize(rates, _JUMPS.pop, key, None)
    return R
