"""Low-lying spectrum of −L: relaxation rates λ₀ = 0 < λ₁ ≤ λ₂ ≤ …

When detailed balance holds, −L is similar to the symmetric S = π^(−½)(−L)π^(½) (assembled in
log form, so no overflow), and ARPACK's symmetric shift-invert Lanczos gives real eigenvalues.
Otherwise shift-invert Arnoldi on −L itself; eigenvalues may then be complex (circulating
currents) and are sorted by real part.

Shift: σ = −δ with δ = 1e-8 · max rate, so that S − σ is non-singular while the absolute
eigenvalue error, about ε·δ, stays far below any gap of interest.

Accuracy, and when it warns. The solvers are normwise backward stable: the computed λ is an exact
eigenvalue of a matrix within ~ε‖A‖ of A. For the symmetric S that bounds the absolute error by
about ε‖S‖ (Weyl), so the relative error of a small λ — a metastable rate e^(−ΔU/D) below the
fastest rate by many orders — is about ε‖S‖/λ; and ARPACK stops its iteration at a residual
‖Sv − λv‖ that bounds the error of λ too (1e-11 relative for the last of k requested values).
Measured on double wells (ΔU/D = 4 to 40, 200 and 400 cells, against the chain's eigenvalues to
full relative accuracy by bisection on its bidiagonal square root,
tests/numerics/test_spectrum_accuracy.py): the error of a metastable λ₁ is 0.003 to 0.4 times
ε·max|L_kk|/λ₁, never more. :func:`smallest_eigenvalues` returns the estimate

    err_k = (min(‖r_k‖, ‖r_k‖²/gap_k) + ε ‖A‖₁) / |λ_k|,   r_k = A v_k − λ_k v_k, ‖v_k‖ = 1,

with λ_k the Rayleigh quotient of ARPACK's vector and gap_k the distance to the nearest other
computed eigenvalue (‖A‖₁ ≥ max |L_kk|): a bound for the symmetric problem (Kato–Temple: the
residual bounds the error, its square over the gap does too; ε‖A‖₁ is the rounding)
and warns when it exceeds ``RTOL`` = 1e-6 for any returned λ_k ≠ 0 (the earlier floor
λ < 1e4 ε max rate let errors of 1e-4 pass unannounced). For the non-symmetric path the estimate
is multiplied by the eigenvalue's componentwise condition number |y|ᵀ|A||x| / (|yᵀx| ‖A‖₁)
(at least 1) from its left and right eigenvectors — the sensitivity of a non-normal eigenvalue,
and invariant under the diagonal scaling that makes a generator's eigenvectors span many orders
(the normwise ‖x‖‖y‖/|yᵀx| gave 1e-4 where the error is 1e-12). It is an estimate, not a bound,
there: on rotational 2D drifts (256 to 576 cells) the eigenvalues agree with LAPACK's dense eig
to 5e-11 where it says 1e-14, both far below RTOL.

On a grid reaching to ±∞ (:class:`~fpsolve.geometry.grid.MappedGrid`) the question is the
spectrum in L²(π): cells whose stationary weight is below e^(−80) of the maximum are left out
(their couplings in S are below e^(−40) and they only add modes of their own), and eigenpairs
whose eigenvector has more than half of its weight in the two outermost cells at an infinite end,
or whose weight v² peaks in the outer 5 % of the cells there (|x| ≳ 100·scale), are dropped:
modes of the wall that the grid puts at infinity, which a natural boundary does not have. The
Student-t diffusion with ν = 5 has the L²(π) spectrum {0, 1, 1.5} ∪ [1.5625, ∞) (a Pearson
diffusion); the chain adds wall modes at 0.1888, 0.783 and 1.320 (converged in h: scale-free
modes of the end), which peak in the outermost cells. Eigenvalues above the bottom of an
essential spectrum depend on the grid, and an eigenvector that keeps more than 1e-3 of its
weight in those outer cells is not resolved there: such an eigenvalue comes with a warning
(the Student-t λ = 1.5 does, at 3e-3 relative error on 400 cells; λ = 5.09 on 100 cells, an
approximation of the essential spectrum, does too).
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse.linalg as spla

from ..errors import InputError
from .discretisation import FaceRates
from .generator import reversibility_tolerance

#: Relative accuracy of an eigenvalue below which (by the estimate ε‖A‖₁·κ/|λ|) it warns.
RTOL = 1e-6
#: On a grid reaching to ±∞: cells with stationary weight below e^(−NEGLIGIBLE) of the maximum
#: are left out of the eigenproblem.
NEGLIGIBLE = 80.0
#: On a grid reaching to ±∞: an eigenvector with more than this fraction of its weight in the
#: two outermost cells at an infinite end is a mode of the wall at infinity (dropped).
WALL_WEIGHT = 0.5
#: ... or whose weight peaks in this outer fraction of the cells there (|x| ≳ 100·scale, where
#: neighbouring centres are far apart in log x).
WALL_CELLS = 0.05
#: An eigenvector with more than this fraction of its weight in those outer cells warns.
OUTER_WEIGHT = 1e-3


def smallest_eigenvalues(rates: FaceRates, k: int = 6, index=None, reversible=None,
                         return_errors=False):
    """k smallest eigenvalues of −L (ascending by real part) and the ARPACK mode used.

    ``index`` restricts to a subset of cells (killed process; then λ₀ > 0). The exact zero of a
    conservative generator is returned as 0.0 when the computed value is round-off
    (|λ₀| ≤ 1e3 ε max rate). ``return_errors``: also return the estimated relative error of
    each eigenvalue (module doc; 0 for the exact zero). Warns (RuntimeWarning) when an estimate
    exceeds ``RTOL``.
    """
    n = rates.grid.size if index is None else int(np.sum(index >= 0))
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"eigenvalues: k must be a positive integer; got {k!r}.")
    if k > n - 2:
        raise InputError(f"eigenvalues: k={k} is too large for {n} unknowns; ask for at most "
                         f"{n - 2}.")
    psi, defect = rates.reference_log_density()
    if reversible is None:
        reversible = defect <= reversibility_tolerance(psi)
    conservative = index is None
    mapped = bool(getattr(rates.grid, "mapped", False)) and conservative and reversible
    if mapped:
        index = _weighty_cells(psi)
        n = int(np.sum(index >= 0))
    if reversible:
        A = -rates.generator(psi=0.5 * psi, index=index)
        A = 0.5 * (A + A.T)  # symmetric up to round-off already; make it exactly so
    else:
        A = -rates.generator(index=index)
    scale = float(np.max(np.abs(A.diagonal())))
    norm = float(np.max(np.abs(A).sum(axis=1)))  # ‖A‖₁ = ‖A‖∞ (symmetric), a bound on ‖A‖₂
    sigma = -1e-8 * scale
    if reversible:
        vals, res, kappa = _symmetric(A, k, sigma, n, mapped, rates, index)
    else:
        vals, res, kappa = _general(A, k, sigma, n, scale)
    eps = np.finfo(float).eps
    if conservative and abs(vals[0]) <= 1e3 * eps * scale:
        vals[0] = 0.0
    with np.errstate(divide="ignore"):
        err = np.where(vals == 0.0, 0.0, (res + eps * norm) * kappa / np.abs(vals))
    if np.any(err > RTOL):
        j = int(np.argmax(err))
        warnings.warn(
            f"eigenvalues: λ = {vals[j]:.6g} may be inaccurate: estimated relative error "
            f"{err[j]:.2g} (ε·‖L‖/|λ| with ‖L‖ = {norm:.3g}: the eigensolver's error is about "
            f"ε times the largest rate, and this λ is {abs(vals[j]) / norm:.2g} of it). The "
            f"eigensolver cannot resolve it to {RTOL:g}. For escape rates behind high barriers "
            f"use model.quasi_stationary(target) or model.mean_first_passage_time.",
            RuntimeWarning, stacklevel=3)
    mode = "symmetric" if reversible else "general"
    return (vals, mode, err) if return_errors else (vals, mode)


def _weighty_cells(psi):
    """Index map of the cells with stationary weight above e^(−NEGLIGIBLE) of the maximum."""
    keep = psi >= np.max(psi) - NEGLIGIBLE
    index = np.full(psi.size, -1, dtype=np.int64)
    index[keep] = np.arange(int(keep.sum()))
    return index


def _symmetric(A, k, sigma, n, mapped, rates, index):
    """k smallest eigenvalues of the symmetric A as Rayleigh quotients of ARPACK's vectors,
    bounds on their errors (min(‖r‖, ‖r‖²/gap), r = Av − λv for unit v, gap to the nearest
    other computed eigenvalue: Kato–Temple) and condition numbers (all 1); on a mapped grid
    without the modes of the wall at infinity. One eigenpair more than asked gives the last
    one its gap."""
    A = A.tocsc()
    want = k + (5 if mapped else 1)
    while True:
        m = min(want, n - 2)
        vals, V = spla.eigsh(A, k=m, sigma=sigma, which="LM", v0=np.ones(n))
        order = np.argsort(vals, kind="stable")
        vals, V = vals[order], V[:, order]
        ok = ~_wall_modes(V, rates.grid, index) if mapped else np.ones(m, dtype=bool)
        if ok.sum() >= k or m >= n - 2:
            vals, V = vals[ok], V[:, ok]
            if mapped:
                _warn_if_at_infinity(vals[:k], V[:, :k], rates.grid, index)
            if vals.size < k:
                raise InputError(f"eigenvalues: only {vals.size} eigenvalues of the process "
                                 f"(not of the wall at infinity) among the {m} smallest; ask "
                                 f"for fewer or refine the grid.")
            V = V / np.linalg.norm(V, axis=0)
            AV = A @ V
            vals = np.einsum("ij,ij->j", V, AV)  # Rayleigh quotients
            res = np.linalg.norm(AV - V * vals, axis=0)
            bound = res.copy()
            if vals.size > 1:
                gap = np.abs(vals[:, None] - vals[None, :]) + np.diag(np.full(vals.size, np.inf))
                bound = np.minimum(res, res ** 2 / gap.min(axis=1))
            return vals[:k], bound[:k], np.ones(k)
        want *= 2


def _wall_modes(V, grid, index):
    """Eigenvectors (columns of V, on the kept cells) of the wall at infinity: more than
    WALL_WEIGHT of their weight v² in the two outermost kept cells at an infinite end, or its
    peak in the outer WALL_CELLS fraction of the grid's cells there."""
    lo, hi = grid.physical_bounds[0]
    N = grid.size
    kept = np.flatnonzero(index >= 0)
    W = V * V
    W = W / W.sum(axis=0)
    edge = max(2, int(np.ceil(WALL_CELLS * N)))
    peak = kept[np.argmax(W, axis=0)]
    ends = np.zeros(V.shape[1])
    at_end = np.zeros(V.shape[1], dtype=bool)
    if lo == -np.inf:
        ends += W[:2].sum(axis=0)
        at_end |= peak < edge
    if hi == np.inf:
        ends += W[-2:].sum(axis=0)
        at_end |= peak >= N - edge
    return (ends > WALL_WEIGHT) | at_end


def _warn_if_at_infinity(vals, V, grid, index):
    """Warn where an eigenvector keeps more than OUTER_WEIGHT of its weight v² in the outer
    WALL_CELLS fraction of the cells at an infinite end (not resolved there)."""
    lo, hi = grid.physical_bounds[0]
    N = grid.size
    kept = np.flatnonzero(index >= 0)
    W = V * V
    W = W / W.sum(axis=0)
    edge = max(2, int(np.ceil(WALL_CELLS * N)))
    outer = np.zeros(V.shape[1])
    if lo == -np.inf:
        outer += W[kept < edge].sum(axis=0)
    if hi == np.inf:
        outer += W[kept >= N - edge].sum(axis=0)
    bad = (outer > OUTER_WEIGHT) & (np.abs(vals) > 1e-12 * np.max(np.abs(vals)))
    if np.any(bad):
        j = int(np.flatnonzero(bad)[0])
        warnings.warn(
            f"eigenvalues: the eigenvector of λ = {vals[j]:.6g} has {outer[j]:.2g} of its weight "
            f"in the outer {WALL_CELLS:.0%} of the cells at an infinite end, which the grid "
            f"does not resolve (neighbouring centres far apart in log x): it may be an "
            f"approximation of an essential spectrum rather than an eigenvalue, or one that "
            f"converges slowly. Refine the grid, or use a larger scale= if the process lives "
            f"far out.", RuntimeWarning, stacklevel=4)


def _general(A, k, sigma, n, scale):
    """k eigenvalues of the non-symmetric A with the smallest real part, their residuals
    ‖Ax − λx‖/‖x‖ and componentwise condition numbers (left eigenvectors from Aᵀ, same shift)."""
    # Shift-invert finds the eigenvalues nearest σ in modulus; a complex pair with a large
    # imaginary part can be nearer than a slower-decaying real one, so ask for more and keep
    # the k with the smallest real part.
    extra = min(n - 2, 2 * k + 4)
    A = A.tocsc()
    vals, X = spla.eigs(A, k=extra, sigma=sigma, which="LM", v0=np.ones(n))
    lvals, Y = spla.eigs(A.T.tocsc(), k=extra, sigma=sigma, which="LM", v0=np.ones(n))
    order = np.argsort(vals.real, kind="stable")[:k]
    vals, X = vals[order], X[:, order]
    X = X / np.linalg.norm(X, axis=0)
    res = np.linalg.norm(A @ X - X * vals, axis=0)
    absA = abs(A)
    norm = float(np.max(absA.sum(axis=1)))
    kappa = np.empty(k)
    for j in range(k):
        # the left eigenvector y (yᵀA = λyᵀ) is the eigenvector of Aᵀ for λ itself
        i = int(np.argmin(np.abs(lvals - vals[j])))
        if abs(lvals[i] - vals[j]) > 1e-6 * max(abs(vals[j]), 1e-8 * scale):
            kappa[j] = np.inf  # no matching left eigenvector: the eigenvalue is ill-determined
            continue
        x, y = X[:, j], Y[:, i]
        # componentwise condition |y|ᵀ|A||x| / |yᵀx| (invariant under diagonal scaling, which a
        # generator's eigenvectors need: x ∝ π f, y ∝ f), relative to the normwise floor ‖A‖₁
        kappa[j] = max(1.0, float(np.abs(y) @ (absA @ np.abs(x))) / max(abs(y @ x), 1e-300)
                       / norm)
    if np.max(np.abs(vals.imag)) <= 1e-10 * scale:
        vals = vals.real
    return vals, res, kappa
