"""The AMG V-cycle, applied by Numba kernels over a hierarchy built by pyamg.

pyamg builds the hierarchy (strength of connection, C/F splitting, interpolation P, restriction
R = Pᵀ, Galerkin coarse operators R A P: :data:`fpsolve.numerics.linalg.AMG_OPTIONS`); the cycle
itself runs here. pyamg's own cycle (``MultilevelSolver.aspreconditioner``) computes two vector
norms per application through BLAS, whose threads spun against each other on the shared 2-core
machine: 1.5 of 4.1 s of a 512² tensor stationary solve went to 190 norms of 2.6·10⁵ numbers
(measured). The kernels below are single-threaded and touch each vector once per operation:
Gauss–Seidel sweeps, the residual, and the transfers are sparse matrix–vector loops over CSR
arrays, and the coarsest level (≤ 500 unknowns) is solved by a sparse LU.

The cycle is the standard V(ν, ν) cycle: pre-smoothing from x = 0, restriction of the residual,
the coarse correction (recursively), prolongation, post-smoothing. With a forward sweep before
and a backward sweep after, as used in 2D, it is the same linear operator as pyamg's cycle with
those smoothers (checked in the tests to round-off).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..jit import njit

SWEEPS = ("forward", "backward", "symmetric")


@njit(cache=True)
def gauss_seidel(data, indices, indptr, x, b, forward):
    """One Gauss–Seidel sweep on A x = b in place (rows in increasing order if ``forward``)."""
    n = x.shape[0]
    for k in range(n):
        i = k if forward else n - 1 - k
        s = b[i]
        diag = 0.0
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            if j == i:
                diag = data[q]
            else:
                s -= data[q] * x[j]
        if diag != 0.0:
            x[i] = s / diag


@njit(cache=True)
def residual(data, indices, indptr, x, b):
    """b − A x."""
    n = b.shape[0]
    r = np.empty(n)
    for i in range(n):
        s = b[i]
        for q in range(indptr[i], indptr[i + 1]):
            s -= data[q] * x[indices[q]]
        r[i] = s
    return r


@njit(cache=True)
def matvec(data, indices, indptr, x, n_rows):
    """A x for a CSR matrix with ``n_rows`` rows."""
    y = np.empty(n_rows)
    for i in range(n_rows):
        s = 0.0
        for q in range(indptr[i], indptr[i + 1]):
            s += data[q] * x[indices[q]]
        y[i] = s
    return y


@njit(cache=True)
def add_matvec(data, indices, indptr, xc, x):
    """x += P xc (P in CSR form, one row per entry of x)."""
    for i in range(x.shape[0]):
        s = 0.0
        for q in range(indptr[i], indptr[i + 1]):
            s += data[q] * xc[indices[q]]
        x[i] += s


def _csr(M):
    M = sp.csr_matrix(M)
    M.sort_indices()
    return (np.ascontiguousarray(M.data, dtype=float), M.indices.astype(np.int64),
            M.indptr.astype(np.int64), M.shape[0])


class VCycle:
    """x = M⁻¹ b: one V-cycle of a pyamg multilevel hierarchy ``ml`` (from x = 0).

    ``pre``/``post``: Gauss–Seidel sweep per level before/after the coarse correction,
    "forward", "backward" or "symmetric" (forward then backward).
    """

    def __init__(self, ml, pre="forward", post="backward"):
        if pre not in SWEEPS or post not in SWEEPS:
            raise ValueError(f"sweeps must be among {SWEEPS}")
        self.pre, self.post = pre, post
        self.A = [_csr(lvl.A) for lvl in ml.levels]
        self.P = [_csr(lvl.P) for lvl in ml.levels[:-1]]
        self.R = [_csr(lvl.R) for lvl in ml.levels[:-1]]
        self._coarse = spla.splu(sp.csc_matrix(ml.levels[-1].A))
        self.shape = ml.levels[0].A.shape

    def _smooth(self, level, x, b, kind):
        d, i, p, _ = self.A[level]
        if kind in ("forward", "symmetric"):
            gauss_seidel(d, i, p, x, b, True)
        if kind in ("backward", "symmetric"):
            gauss_seidel(d, i, p, x, b, False)

    def _cycle(self, level, b):
        if level == len(self.A) - 1:
            return self._coarse.solve(b)
        x = np.zeros_like(b)
        self._smooth(level, x, b, self.pre)
        d, i, p, _ = self.A[level]
        r = residual(d, i, p, x, b)
        rd, ri, rp, rn = self.R[level]
        xc = self._cycle(level + 1, matvec(rd, ri, rp, r, rn))
        pd, pi, pp, _ = self.P[level]
        add_matvec(pd, pi, pp, xc, x)
        self._smooth(level, x, b, self.post)
        return x

    def __call__(self, b):
        return self._cycle(0, np.ascontiguousarray(b, dtype=float))

    def __matmul__(self, b):
        return self(b)
