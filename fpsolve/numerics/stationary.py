"""Stationary states of the discrete generator, in log space.

Two routes, chosen by ``method``:

- ``"detailed-balance"``: when the face rates satisfy detailed balance (every 1D problem; in nD
  whenever the drift over D is a discrete gradient), the null vector of L is known in closed form,
  p_k ∝ exp ψ_k with ψ integrated along a spanning comb of the grid. It is exact to round-off and
  costs O(N).
- ``"solve"``: a linear solve for the null vector of E⁻¹ L E (E = diag e^ψ), with the most
  probable cell pinned. ψ is the comb integral when detailed balance holds, and otherwise the
  least-squares potential of the face log-rate ratios (the gradient part of their Helmholtz
  decomposition, from one AMG-preconditioned CG solve), which a comb would not be: around a
  circulating current its errors accumulate along the path. In the scaled unknowns r = p e^(−ψ) the system is well balanced
  even when p spans hundreds of orders of magnitude, so barriers of several hundred D are fine.

``"auto"`` takes the closed form when detailed balance holds to round-off, and solves otherwise.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError, SolverError
from .discretisation import FaceRates
from .linalg import factorize, null_vector, relative_residual

METHODS = ("auto", "detailed-balance", "solve")


def reversibility_tolerance(psi: np.ndarray) -> float:
    """Round-off bound on the detailed-balance defect of a reversible problem (in log units)."""
    return 1e-11 * max(1.0, float(np.max(np.abs(psi))))


def stationary_log_density(rates: FaceRates, method="auto", solver="auto"):
    """Return (log p, info): the log of the (unnormalised) stationary density on the cells."""
    if method not in METHODS:
        raise InputError(f"stationary: method {method!r} is unknown; choose one of {METHODS}.")
    psi, defect = rates.reference_log_density()
    reversible = defect <= reversibility_tolerance(psi)
    info = {"detailed_balance_defect": float(defect), "reversible": bool(reversible)}
    if method == "detailed-balance" and not reversible:
        raise InputError(
            f"stationary(method='detailed-balance'): the discrete rates break detailed balance "
            f"(defect {defect:.3g} in log units), so there is no closed-form stationary state. "
            f"Use method='solve' or 'auto'.")
    if method == "auto":
        method = "detailed-balance" if reversible else "solve"
    if method == "detailed-balance":
        log_p = psi
        info.update(method="detailed-balance")
    else:
        if not reversible:
            psi = least_squares_log_density(rates)
        # Solve in the scaled unknowns r = p e^(−ψ). Where ψ is only a guess (no detailed
        # balance) r can still span many decades; a second pass rescaled by the first answer
        # (r ≈ 1 then) recovers the accuracy, measured: residual 1.6e-9 → round-off on a
        # strongly rotational double well at D = 0.05.
        for _ in range(2):
            M = rates.generator(psi=psi)
            j = int(np.argmax(psi))
            r, used = null_vector(M, j, solver=solver, ndim=rates.grid.ndim)
            if not np.all(np.isfinite(r)):
                raise SolverError("stationary: the linear solve returned non-finite values.")
            if np.any(r <= 0):
                bad = int(np.sum(r <= 0))
                raise SolverError(
                    f"stationary: {bad} cells came out non-positive (min {r.min():.3g} relative to "
                    f"the pinned cell), which the exact solution never is: the linear solve lost "
                    f"accuracy. Refine the grid or use solver='direct'.")
            psi = psi + np.log(r)
            if np.ptp(np.log(r)) < 1.0:  # already well scaled: a second pass gains nothing
                break
        log_p = psi
        info.update(method="solve", linear_solver=used)
    # residual of the normalised density against the unscaled generator, in log-safe form
    p = np.exp(log_p - log_p.max())
    info["residual"] = relative_residual(rates.generator(), p)
    return log_p, info


def least_squares_log_density(rates: FaceRates, rtol: float = 1e-8) -> np.ndarray:
    """ψ minimising Σ_faces (ψ_{k+1} − ψ_k − log(rate_fwd / rate_bwd))² (a graph Poisson problem).

    Only a scaling for the null-vector solve, so a modest tolerance suffices.
    """
    import scipy.sparse as sp

    g = rates.grid
    N = g.size
    idx = np.arange(N).reshape(g.shape)
    lo_l, hi_l, inc_l = [], [], []
    for a in range(g.ndim):
        with np.errstate(invalid="ignore"):  # walls: −inf − (−inf); masked out below
            inc = (rates.log_fwd[a] - rates.log_bwd[a]).reshape(g.shape)
        hi = np.roll(idx, -1, axis=a)
        keep = np.ones(g.shape, dtype=bool)
        if not g.periodic[a]:
            keep[(slice(None),) * a + (-1,)] = False
        lo_l.append(idx[keep])
        hi_l.append(hi[keep])
        inc_l.append(inc[keep])
    lo, hi, inc = map(np.concatenate, (lo_l, hi_l, inc_l))
    E = lo.size
    e = np.arange(E)
    G = sp.csr_matrix((np.r_[-np.ones(E), np.ones(E)], (np.r_[e, e], np.r_[lo, hi])),
                      shape=(E, N))
    lap = (G.T @ G).tocsr()
    rhs = G.T @ inc
    lap = lap + sp.identity(N, format="csr") * (1e-12 * lap.diagonal().max())  # fix the constant
    if N <= 200_000 if g.ndim < 3 else N <= 20_000:
        # sparse LU: ~0.1 s at 160²; pyamg's setup was 40× slower under BLAS thread contention
        psi = factorize(lap)(rhs)
    else:
        import pyamg

        ml = pyamg.smoothed_aggregation_solver(lap, symmetry="symmetric")
        psi = ml.solve(rhs, tol=rtol, accel="cg", maxiter=500)
    return psi - psi.max()
