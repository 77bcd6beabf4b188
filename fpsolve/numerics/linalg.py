"""Sparse linear algebra used by the solvers: one solver object per matrix (sparse LU with a
fill-reducing ordering, or algebraic-multigrid-preconditioned GMRES), pinned null-space solves,
and residual checks. Never forms a dense matrix.

Choosing the solver (``solver="auto"``; measured in ``benchmarks/bench_large.py``, CPU seconds of
one solve on 2 shared cores): a sparse LU is fastest in 1D at every size and in 2D up to about
2.5·10⁵ unknowns (512²: LU and AMG within 1.7×); beyond that Ruge–Stüben AMG + GMRES wins
(1000²: 2.5× faster, 58% of the memory). In 3D the LU's fill grows like N^(4/3) and its time
like N²: AMG is faster from about 2.5·10³ cells (14³: 0.13 against 0.22 s for a whole
non-reversible stationary solve, 16³: 0.12 against 0.14 s for an MFPT; at 12³ the LU is still
faster), and 160–490× at 64³, and 128³ (2·10⁶ unknowns) is out
of reach of the LU on 24 GB (≈ 100 GB), while AMG solves it in about a minute with 2 GB.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import InputError, SolverError

LINEAR_SOLVERS = ("auto", "direct", "amg", "gmres")
# Minimum degree on the pattern of A + Aᵀ: our generators are structurally symmetric (a rate in
# each direction across every face), where it beats COLAMD (3.4 s vs 5.1 s at 512², measured).
ORDERING = "MMD_AT_PLUS_A"
#: largest number of unknowns solved by sparse LU under ``solver="auto"``, by dimension
DIRECT_LIMIT = {1: np.inf, 2: 250_000, 3: 2_500}
#: Krylov vectors kept by GMRES between restarts: AMG needs 17–33 iterations on our generators
#: (measured up to 10⁶ unknowns in 2D and 2·10⁶ in 3D), so 40 rarely restarts, and memory stays
#: at 40 vectors (pyamg's own GMRES reserved one per allowed iteration: 2.7 GB at 1000²).
RESTART = 40


def check_solver(solver):
    if solver not in LINEAR_SOLVERS:
        raise InputError(f"linear solver {solver!r} is unknown; choose one of {LINEAR_SOLVERS}.")


def choose_solver(n: int, ndim=None, solver: str = "auto") -> str:
    """The concrete solver ("direct", "amg" or "gmres") for an n×n system on a ``ndim`` grid."""
    check_solver(solver)
    if solver != "auto":
        return solver
    return "direct" if n <= DIRECT_LIMIT.get(ndim or 2, DIRECT_LIMIT[2]) else "amg"


class LinearSolver:
    """Solves A x = b and Aᵀ x = b for one sparse matrix A, many right-hand sides.

    ``solver``: "direct" (sparse LU, minimum-degree ordering; accuracy ~cond(A)·ε), "amg"
    (classical Ruge–Stüben AMG V-cycle, suited to M-matrices such as our generators, as a GMRES
    preconditioner), "gmres" (ILU-preconditioned GMRES; never chosen automatically: its
    incomplete factor breaks down on large generators), or "auto" (:func:`choose_solver`).

    The iterative solvers stop at an *attainable* residual: ‖Ax − b‖₂ ≤ max(rtol‖b‖₂,
    c·ε·‖A‖∞‖x‖₂) with c = 100 — a backward error of a few hundred ε. A test ‖Ax − b‖ ≤ rtol‖b‖
    alone lies below the round-off floor ε‖A‖‖x‖ of any method once N ≳ 10⁴ (b = e_j,
    ‖x‖ ~ √N), and GMRES would report failure although its answer is accurate. Not converging
    to that raises :class:`SolverError`; nothing is returned silently.

    ``diag_pivot_thresh``: passed to SuperLU (1.0 = partial pivoting; 0.0 keeps diagonal pivots,
    right for column diagonally dominant M-matrices).
    """

    def __init__(self, A, solver="auto", ndim=None, rtol=1e-12, diag_pivot_thresh=None):
        self.A = sp.csr_matrix(A)
        n = self.A.shape[0]
        self.method = choose_solver(n, ndim, solver)
        self.rtol = float(rtol)
        self.iterations = []
        self._pre = {}
        self._gain = {}  # ‖x‖/‖b‖ of the last solve, per direction
        if self.method == "direct":
            kw = {} if diag_pivot_thresh is None else {"diag_pivot_thresh": diag_pivot_thresh}
            self._lu = spla.splu(self.A.tocsc(), permc_spec=ORDERING, **kw)
        else:
            # AMG wants a positive diagonal (an M-matrix); our generators have a negative one
            self._sign = -1.0 if self.A.diagonal().sum() < 0 else 1.0
            self._normA = float(abs(self.A).sum(axis=1).max())

    # -- public ----------------------------------------------------------------------------------
    def solve(self, b, trans=False):
        """A⁻¹ b (or A⁻ᵀ b); ``b`` of shape (n,) or (n, p)."""
        b = np.asarray(b, dtype=float)
        if self.method == "direct":
            return self._lu.solve(np.ascontiguousarray(b), trans="T" if trans else "N")
        if b.ndim == 1:
            return self._krylov(b, trans)
        return np.column_stack([self._krylov(b[:, i], trans) for i in range(b.shape[1])])

    @property
    def lu(self):
        """The SuperLU object (direct solver only; None otherwise)."""
        return self._lu if self.method == "direct" else None

    # -- iterative -------------------------------------------------------------------------------
    def _preconditioner(self, trans):
        if trans not in self._pre:
            A = self._sign * (self.A.T.tocsr() if trans else self.A)
            n = A.shape[0]
            if self.method == "amg":
                import pyamg

                # a sparse LU on the coarsest level: pyamg's default dense pinv there is O(n³)
                ml = pyamg.ruge_stuben_solver(A, coarse_solver="splu", max_coarse=500)
                M = ml.aspreconditioner(cycle="V")
            else:
                try:
                    ilu = spla.spilu(A.tocsc(), drop_tol=1e-5, fill_factor=20)
                except RuntimeError as exc:
                    raise SolverError(f"gmres: the incomplete LU preconditioner failed ({exc}); "
                                      f"use solver='amg' or 'direct'.") from exc
                M = spla.LinearOperator((n, n), ilu.solve)
            self._pre[trans] = (A, M)
        return self._pre[trans]

    def _krylov(self, b, trans):
        A, M = self._preconditioner(trans)
        rhs = self._sign * b
        nb = float(np.linalg.norm(rhs))
        if nb == 0.0:
            return np.zeros_like(rhs)
        its = [0]

        def count(_):
            its[0] += 1

        eps = np.finfo(float).eps
        gain = self._gain.get(trans)
        if gain is None:
            # first solve: a pass to a loose tolerance estimates ‖x‖, which sets the attainable
            # floor of the second; later solves reuse ‖x‖/‖b‖ from the last one (one pass)
            x, _ = spla.gmres(A, rhs, M=M, rtol=1e-6, atol=0.0, restart=RESTART, maxiter=20,
                              callback=count, callback_type="pr_norm")
            gain = float(np.linalg.norm(x)) / nb
        else:
            x = None
        atol = max(self.rtol * nb, 100 * eps * self._normA * gain * nb)
        x, flag = spla.gmres(A, rhs, x0=x, M=M, rtol=0.0, atol=atol, restart=RESTART,
                             maxiter=50, callback=count, callback_type="pr_norm")
        nx = float(np.linalg.norm(x))
        wanted = max(self.rtol * nb, 100 * eps * self._normA * nx)
        if flag == 0 and wanted < atol:  # ‖x‖/‖b‖ was overestimated: go on to the real floor
            x, flag = spla.gmres(A, rhs, x0=x, M=M, rtol=0.0, atol=wanted, restart=RESTART,
                                 maxiter=50, callback=count, callback_type="pr_norm")
            nx = float(np.linalg.norm(x))
        self.iterations.append(its[0])
        res = float(np.linalg.norm(A @ x - rhs))
        self._gain[trans] = nx / nb
        if flag != 0 or not np.all(np.isfinite(x)) or res > 10 * wanted:
            raise SolverError(
                f"{self.method}: GMRES stopped at residual {res / nb:.2g}·‖b‖ after {its[0]} "
                f"iterations (wanted {wanted / nb:.2g}·‖b‖); use solver='direct' if the "
                f"problem fits in memory.")
        return x


def factorize(A: sp.spmatrix):
    """Sparse LU with a fill-reducing ordering; returns a solve callable."""
    lu = spla.splu(sp.csc_matrix(A), permc_spec=ORDERING)
    return lu.solve


def pin_row(A: sp.csr_matrix, j: int) -> sp.csr_matrix:
    """Copy of A with row j replaced by e_jᵀ (fixes one unknown of a singular system)."""
    A = A.tocsr(copy=True)
    start, end = A.indptr[j], A.indptr[j + 1]
    cols = A.indices[start:end]
    A.data[start:end] = np.where(cols == j, 1.0, 0.0)
    if j not in cols:
        raise SolverError("pin_row: the matrix has no diagonal entry in the pinned row.")
    A.eliminate_zeros()
    return A


def null_vector(M: sp.csr_matrix, j: int, solver: str = "auto", rtol: float = 1e-12, ndim=None):
    """Solve M r = 0 with r_j = 1 (M singular with a one-dimensional null space).

    Returns (r, the solver used); see :class:`LinearSolver` for the choices. Accuracy of the
    direct solve: ~cond(A)·ε ≈ N^(2/d)·ε relative (the scaled entries carry ε-level rounding of
    ψ differences that refinement cannot remove); the closed form has no such floor.
    """
    check_solver(solver)
    n = M.shape[0]
    A = pin_row(M, j)
    rhs = np.zeros(n)
    rhs[j] = 1.0
    ls = LinearSolver(A, solver, ndim=ndim, rtol=rtol)
    return ls.solve(rhs), ls.method


def relative_residual(L: sp.csr_matrix, p: np.ndarray) -> float:
    """‖L p‖₁ / (‖diag L‖_∞ ‖p‖₁): the size of dp/dt relative to the fastest rate."""
    scale = np.max(np.abs(L.diagonal())) * np.sum(np.abs(p))
    return float(np.sum(np.abs(L @ p)) / scale) if scale > 0 else 0.0
