"""Low-lying spectrum of −L: relaxation rates λ₀ = 0 < λ₁ ≤ λ₂ ≤ …

When detailed balance holds, −L is similar to the symmetric S = π^(−½)(−L)π^(½) (assembled in
log form, so no overflow), and ARPACK's symmetric shift-invert Lanczos gives real eigenvalues.
Otherwise shift-invert Arnoldi on −L itself; eigenvalues may then be complex (circulating
currents) and are sorted by real part.

Shift: σ = −δ with δ = 1e-8 · max rate, so that S − σ is non-singular while the absolute
eigenvalue error, about ε·δ, stays far below any gap of interest.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse.linalg as spla

from ..errors import InputError
from .discretisation import FaceRates
from .generator import reversibility_tolerance


def smallest_eigenvalues(rates: FaceRates, k: int = 6, index=None, reversible=None):
    """k smallest eigenvalues of −L (ascending by real part) and the ARPACK mode used.

    ``index`` restricts to a subset of cells (killed process; then λ₀ > 0). The exact zero of a
    conservative generator is returned as 0.0 when the computed value is round-off
    (|λ₀| ≤ 1e3 ε max rate).
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
    if reversible:
        A = -rates.generator(psi=0.5 * psi, index=index)
        A = 0.5 * (A + A.T)  # symmetric up to round-off already; make it exactly so
    else:
        A = -rates.generator(index=index)
    scale = float(np.max(np.abs(A.diagonal())))
    sigma = -1e-8 * scale
    v0 = np.ones(n)
    if reversible:
        vals = spla.eigsh(A.tocsc(), k=k, sigma=sigma, which="LM", v0=v0,
                          return_eigenvectors=False)
    else:
        # Shift-invert finds the eigenvalues nearest σ in modulus; a complex pair with a large
        # imaginary part can be nearer than a slower-decaying real one, so ask for more and keep
        # the k with the smallest real part.
        extra = min(n - 2, 2 * k + 4)
        vals = spla.eigs(A.tocsc(), k=extra, sigma=sigma, which="LM", v0=v0,
                         return_eigenvectors=False)
        if np.max(np.abs(vals.imag)) <= 1e-10 * scale:
            vals = vals.real
    vals = vals[np.argsort(vals.real, kind="stable")][:k]
    eps = np.finfo(float).eps
    if index is None and abs(vals[0]) <= 1e3 * eps * scale:
        vals[0] = 0.0
    # The eigensolver's absolute error is about ε × the largest rate; a metastable λ₁ below
    # ~1e4 of that (barriers ΔU/D ≳ 25) is not resolved: measured λ₁τ/2 − 1 = 1e-3 at ΔU/D = 20,
    # garbage at 30. Say so rather than return it silently.
    nonzero = np.abs(vals[1:] if index is None else vals)
    if nonzero.size and nonzero.min() < 1e4 * eps * scale:
        warnings.warn(
            f"eigenvalues: λ = {nonzero.min():.3g} is within 1e4·ε of the largest rate "
            f"({scale:.3g}); the eigensolver cannot resolve it. For escape rates behind high "
            f"barriers use model.quasi_stationary(target) or model.mean_first_passage_time.",
            RuntimeWarning, stacklevel=3)
    return vals, ("symmetric" if reversible else "general")
