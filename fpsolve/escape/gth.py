"""Grassmann–Taksar–Heyman elimination: linear algebra of Markov chains without cancellation.

For a substochastic chain with transition weights Q and leaks into an absorbing state, GTH
elimination forms every pivot as a sum of the remaining outflows plus the explicit leak — never
as a difference — so solves keep full relative accuracy even when the leak is 1e-17 of the
outflow. The escape solvers use it for the small trap-to-trap systems of :mod:`.green`; the
stationary law of a chain (no leak) is :func:`gth_stationary`.
"""
from __future__ import annotations

import numpy as np

from ..errors import SolverError


class GTH:
    """Grassmann–Taksar–Heyman LU factors of S − Q, S = diag(Σ_j Q_ij + leak_i).

    Q : (k, k) non-negative transition weights (diagonal ignored), leak : (k,) non-negative
    absorption weights. Every pivot is a sum of positive terms and every solve (``solve`` for
    (S − Q) u = b, ``solve_transposed`` for (S − Q)ᵀ w = c, with b, c ≥ 0) only adds positive
    numbers, so solutions keep full relative accuracy however small the leaks are.
    """

    def __init__(self, Q, leak):
        Q = np.array(Q, dtype=float)
        np.fill_diagonal(Q, 0.0)
        leak = np.array(leak, dtype=float)
        k = Q.shape[0]
        s = np.empty(k)
        F = np.zeros((k, k))  # multipliers f_ip = Q_ip / s_p (i > p)
        for p in range(k):
            s[p] = Q[p, p + 1:].sum() + leak[p]
            if not s[p] > 0:
                raise SolverError("renewal system is singular: a trap has no way out (no path "
                                  "from it to the target).")
            f = Q[p + 1:, p] / s[p]
            F[p + 1:, p] = f
            Q[p + 1:, p + 1:] += np.outer(f, Q[p, p + 1:])
            leak[p + 1:] += f * leak[p]
            Q[p + 1:, p] = 0.0
        self.U = np.triu(Q, 1)  # off-diagonal outflows of the eliminated rows
        self.F = F
        self.s = s

    def solve(self, b):
        """u with (S − Q) u = b (b a vector or a matrix of right-hand sides)."""
        b = np.array(b, dtype=float)
        vec = b.ndim == 1
        b = b[:, None] if vec else b
        k = self.s.size
        for p in range(k):  # forward elimination of the right-hand side
            b[p + 1:] += np.outer(self.F[p + 1:, p], b[p])
        u = np.zeros_like(b)
        for p in range(k - 1, -1, -1):
            u[p] = (b[p] + self.U[p, p + 1:] @ u[p + 1:]) / self.s[p]
        return u[:, 0] if vec else u

    def solve_transposed(self, c):
        """w with (S − Q)ᵀ w = c (the forward, transposed problem)."""
        c = np.array(c, dtype=float)
        vec = c.ndim == 1
        c = c[:, None] if vec else c
        k = self.s.size
        z = np.zeros_like(c)
        for p in range(k):  # Uᵀ z = c (U = diag(s) − strict upper outflows)
            z[p] = (c[p] + self.U[:p, p] @ z[:p]) / self.s[p]
        w = z.copy()
        for p in range(k - 1, -1, -1):  # Lᵀ w = z (L unit lower with −F below the diagonal)
            w[p] = z[p] + self.F[p + 1:, p] @ w[p + 1:]
        return w[:, 0] if vec else w


def gth_solve(Q, leak, b):
    """Solve (S − Q) u = b, S = diag(Σ_j Q_ij + leak_i), by GTH elimination (see :class:`GTH`)."""
    return GTH(Q, leak).solve(b)


def gth_stationary(Q):
    """Stationary law ν = ν Q of a stochastic matrix (k×k, zero diagonal allowed) by GTH
    elimination: no subtraction, full relative accuracy for nearly decomposable chains."""
    P = np.array(Q, dtype=float)
    np.fill_diagonal(P, 0.0)
    k = P.shape[0]
    for p in range(k - 1, 0, -1):
        s = P[p, :p].sum()
        if not s > 0:
            raise SolverError("gth_stationary: the chain is reducible.")
        P[:p, :p] += np.outer(P[:p, p] / s, P[p, :p])
        P[:p, p] /= s
        np.fill_diagonal(P[:p, :p], 0.0)
    nu = np.zeros(k)
    nu[0] = 1.0
    for p in range(1, k):
        nu[p] = nu[:p] @ P[:p, p]
    return nu / nu.sum()
