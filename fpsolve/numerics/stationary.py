"""Stationary states of the discrete generator, in log space.

Two routes, chosen by ``method``:

- ``"detailed-balance"``: when the face rates satisfy detailed balance (every 1D problem; in nD
  whenever the drift over D is a discrete gradient), the null vector of L is known in closed form,
  p_k ∝ exp ψ_k with ψ integrated along a spanning comb of the grid. It is exact to round-off and
  costs O(N).
- ``"solve"``: a linear solve for the null vector of E⁻¹ L E (E = diag e^ψ), with the most
  probable cell pinned. ψ is the comb integral when detailed balance holds or nearly does
  (:func:`scaling_log_density`), and otherwise the least-squares potential of the face log-rate
  ratios (the gradient part of their Helmholtz decomposition, from one graph-Laplacian solve),
  which a comb would not be: around a circulating current its errors accumulate along the path.
  In the scaled unknowns r = p e^(−ψ) the system is well balanced even when p spans hundreds of
  orders of magnitude, so barriers of several hundred D are fine.

``"auto"`` takes the closed form when detailed balance holds to round-off, and solves otherwise.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError, SolverError
from ..jit import njit
from .discretisation import FaceRates
from .generator import generator_residual, reversibility_tolerance
from .linalg import null_vector, pin_row
from .poisson import least_squares_potential

METHODS = ("auto", "detailed-balance", "solve")


def stationary_log_density(rates: FaceRates, method="auto", solver="auto", reference=None,
                           guess=None):
    """Return (log p, info): the log of the (unnormalised) stationary density on the cells.

    ``reference``: (ψ, defect) of :meth:`FaceRates.reference_log_density` when already known;
    ``guess``: a log-density to scale the solve by when the rates are not reversible (default:
    :func:`scaling_log_density`); both only save recomputation.
    """
    if method not in METHODS:
        raise InputError(f"stationary: method {method!r} is unknown; choose one of {METHODS}.")
    psi, defect = rates.reference_log_density() if reference is None else reference
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
        cached = _cache(rates).get(("solve", solver))
        if cached is not None:  # the same rates were solved before: no repeated work
            return cached[0].copy(), dict(cached[1])
        if not reversible:
            psi = (scaling_log_density(rates, (psi, defect)) if guess is None
                   else np.ravel(guess))
        # Solve in the scaled unknowns r = p e^(−ψ). Where ψ is only a guess (no detailed
        # balance) r can still span many decades; a second pass rescaled by the first answer
        # (r ≈ 1 then) recovers the accuracy, measured: residual 1.6e-9 → round-off on a
        # strongly rotational double well at D = 0.05. The second pass reuses the first pass's
        # factorisation or AMG hierarchy (its matrix is E⁻¹ M E, E = diag r; same pinned cell):
        # 512² tensor problem, AMG: 2.2 → 1.1 s for the two passes (measured).
        j = int(np.argmax(psi))
        M = rates.generator(psi=psi)
        r, used, ls = null_vector(M, j, solver=solver, ndim=rates.grid.ndim, return_solver=True,
                                 grid=rates.grid)
        _check_positive(r)
        base = psi
        psi = psi + np.log(r)
        if np.ptp(np.log(r)) >= 1.0 and not _rescaled_converged(M, r, j):
            # not yet well scaled: one more pass
            A2 = pin_row(rates.generator(psi=psi), j)
            rhs = np.zeros(A2.shape[0])
            rhs[j] = 1.0
            try:
                r = ls.solve_similar(A2, psi - base, rhs, x0=np.ones(A2.shape[0]))
            except InputError:  # the scaling spans beyond double range: a new solver
                r, used = null_vector(A2, j, solver=solver, ndim=rates.grid.ndim, grid=rates.grid)
            _check_positive(r)
            psi = psi + np.log(r)
        log_p = psi
        info.update(method="solve", linear_solver=used)
        if ls.fallback:  # the automatic choice was revised on the way (see LinearSolver)
            info["linear_solver_fallback"] = ls.fallback
    info["residual"] = stationary_residual(rates, log_p)
    if info["method"] == "solve":
        _cache(rates)[("solve", solver)] = (log_p.copy(), dict(info))
    return log_p, info


@njit(cache=True)
def _rescaled_rows(data, indices, indptr, r, j):
    """For B = diag(r)⁻¹ M diag(r) with row j pinned (e_jᵀ), and x = 1: (‖B x − e_j‖₂, ‖B‖∞),
    without assembling B."""
    res2 = 0.0
    norm = 1.0
    for i in range(indptr.shape[0] - 1):
        if i == j:
            continue
        acc = 0.0
        size = 0.0
        for q in range(indptr[i], indptr[i + 1]):
            v = data[q] * r[indices[q]]
            acc += v
            size += abs(v)
        acc /= r[i]
        res2 += acc * acc
        norm = max(norm, size / r[i])
    return np.sqrt(res2), norm


def _rescaled_converged(M, r, j) -> bool:
    """Whether the second pass (the pinned system rescaled by r, started from r' = 1) would stop
    at once: its residual is already below the iterative solvers' attainable floor (see
    :class:`~fpsolve.numerics.linalg.LinearSolver`), so assembling it is wasted work (an
    assembly of 2·10⁶ cells costs 0.4 s)."""
    res, norm = _rescaled_rows(M.data, M.indices, M.indptr, np.ascontiguousarray(r), j)
    eps = np.finfo(float).eps
    return bool(res <= 0.1 * max(1e-12, 100 * eps * norm * np.sqrt(r.size)))


def _cache(rates) -> dict:
    """Per-rates memo of solved stationary states: the stationary density that a first-passage
    question needs (trap selection, balance weights) is computed once per model, not per
    question. Rates are immutable after construction, so it never goes stale."""
    return rates.__dict__.setdefault("_stationary_cache", {})


def _check_positive(r):
    if not np.all(np.isfinite(r)):
        raise SolverError("stationary: the linear solve returned non-finite values.")
    if np.any(r <= 0):
        bad = int(np.sum(r <= 0))
        raise SolverError(
            f"stationary: {bad} cells came out non-positive (min {r.min():.3g} relative to "
            f"the pinned cell), which the exact solution never is: the linear solve lost "
            f"accuracy. Refine the grid or use solver='direct'.")


def stationary_residual(rates: FaceRates, log_p) -> float:
    """‖L p‖₁ / (max_k |L_kk| ‖p‖₁) for p = exp(log_p): how far dp/dt is from zero, relative to
    the fastest rate (matrix-free; round-off level for an exact discrete stationary state)."""
    log_p = np.asarray(log_p)
    p = np.exp(log_p.ravel() - log_p.max())
    if isinstance(rates, FaceRates):
        num, scale = generator_residual(*rates.linear_rates, p, rates.shape, rates.periodic)
    else:  # other stencils (the tensor scheme's diagonal neighbours): from the matrix
        L = rates.generator()
        num, scale = np.sum(np.abs(L @ p)), np.max(np.abs(L.diagonal()))
    scale *= p.sum()
    return float(num / scale) if scale > 0 else 0.0


def scaling_log_density(rates: FaceRates, reference=None) -> np.ndarray:
    """A log-density close enough to the stationary one to scale the null-vector solve by.

    The comb integral ψ when its detailed-balance defect, accumulated over a grid line
    (defect × the longest axis), stays below one log unit: then r = p e^(−ψ) varies by at most
    about e, and the solve is well scaled (the usual case when detailed balance fails only at
    the discretisation level, e.g. a gradient drift over a D that is not a function of U).
    Otherwise (a circulating drift) the least-squares potential, which costs a graph-Laplacian
    solve: 0.73 of 1.5 s of a non-reversible stationary solve at 362², measured.
    """
    psi, defect = rates.reference_log_density() if reference is None else reference
    if defect * max(rates.grid.shape) < 1.0:
        return np.asarray(psi, dtype=float)
    return least_squares_log_density(rates)


def least_squares_log_density(rates: FaceRates, rtol: float = 1e-8) -> np.ndarray:
    """ψ minimising Σ_faces (ψ_{k+1} − ψ_k − log(rate_fwd / rate_bwd))² (a graph Poisson problem),
    solved exactly by fast transforms (:func:`fpsolve.numerics.poisson.least_squares_potential`).

    Only a scaling for the null-vector solve. ``rtol`` is kept for compatibility and ignored (the
    transform solve is exact to round-off). A :class:`~fpsolve.numerics.anisotropic.TensorRates`
    already holds this potential of its leg Péclet numbers when it is not reversible.
    """
    g = rates.grid
    if getattr(rates, "psi", None) is not None and not rates.reversible:
        return np.asarray(rates.psi, dtype=float)  # the tensor scheme's own least-squares ψ
    with np.errstate(invalid="ignore"):  # walls: −inf − (−inf), ignored by the solver
        inc = rates.log_fwd - rates.log_bwd
    return least_squares_potential(inc, g.shape, g.periodic)
