r"""Transport on periodic landscapes: the effective drift and effective diffusion of the model.

On a periodic axis (a tilted periodic potential, a ratchet, SGD on a periodic loss) the process
drifts and spreads: X_t ≈ v t and Cov X_t ≈ 2 D_eff t for large t. Both are properties of the
discrete generator itself, read off the jump process on the cells lifted to the line (each jump
across the seam counts its true displacement):

    v = Σ_i π_i b_i,                b_i = Σ_j r_ij Δx_ij           (mean displacement rate),
    Σ_j r_ij (χ_j − χ_i) = −(b_i − v)                              (the cell problem, on the torus),
    D_eff = ½ Σ_i π_i Σ_j r_ij (Δx_ij + χ_j − χ_i)(Δx_ij + χ_j − χ_i)ᵀ,

with π the stationary law on the torus and Δx_ij the displacement of the jump i → j (minimal
image across a periodic seam). This is the central limit theorem of the additive functional
"displacement" of a Markov chain (martingale decomposition): exact for the chain, hence second
order in h for the diffusion when the scheme is (Scharfetter–Gummel, any convention, drift or
potential, state-dependent or tensor D). The reference is the closed form over one period of
:func:`fpsolve.theory.periodic_transport` (Stratonovich, Lifson–Jackson, Reimann et al.).

Accuracy: v comes from a net flux that is e^(−ΔU/D) smaller than the rates it is formed from, so
its relative error grows like ε e^(ΔU/D) (1e-7 at ΔU/D = 20); D_eff likewise. For higher
barriers use the 1D closed form, which works in log space.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from ..fields.field import Density
from ..numerics.linalg import LinearSolver, pin_row
from .green import log_stationary
from .jumps import jump_rates


@dataclass
class EffectiveTransport:
    """``velocity`` (k,) and ``diffusion`` (k, k) along the model's periodic ``axes`` (length/
    time and length²/time); ``stationary`` the stationary Density on the torus; ``info`` the
    residual of the cell problem and the stationary solve's diagnostics."""

    axes: tuple
    velocity: np.ndarray
    diffusion: np.ndarray
    stationary: object = None
    info: dict = field(default_factory=dict)


def effective_transport(model, *, solver="auto") -> EffectiveTransport:
    """Effective drift v and diffusion matrix D_eff of ``model`` along its periodic axes.

    The model needs at least one periodic axis (``Grid(..., periodic=True)``); give a tilt as
    part of the drift (``drift=lambda x: F - dU(x)``), not as a non-periodic potential.
    Non-periodic axes are bounded and carry no asymptotic drift. See the module docstring for the
    formulas and their accuracy.
    """
    g = model.grid
    axes = tuple(a for a in range(g.ndim) if g.periodic[a])
    if not axes:
        raise InputError("effective_transport: the grid has no periodic axis; an effective drift "
                         "and diffusion need a periodic landscape (Grid(..., periodic=True)).")
    R = jump_rates(model.rates)  # R[i, j] = rate i → j
    if R.nnz and R.data.min() < 0:
        raise InputError("effective_transport: the scheme has negative jump rates here (tensor "
                         "D not diagonally dominant on the grid); refine or use a diagonal D.")
    rows = np.repeat(np.arange(g.size), np.diff(R.indptr))
    pts = g.points
    span = g.bounds[:, 1] - g.bounds[:, 0]
    dx = pts[R.indices] - pts[rows]
    per = np.asarray(g.periodic)
    dx = np.where(per & (np.abs(dx) > 0.5 * span), dx - np.sign(dx) * span, dx)[:, axes]
    log_p, sinfo = log_stationary(model, solver=solver)
    pi = np.exp(log_p - np.logaddexp.reduce(log_p))
    flow = R.data[:, None] * dx  # r_ij Δx_ij per jump
    b = np.zeros((g.size, len(axes)))
    np.add.at(b, rows, flow)
    v = pi @ b
    # cell problem Q χ = −(b − v), Q = Lᵀ (backward generator), pinned at the likeliest cell
    Q = sp.csr_matrix(model.rates.generator().T)
    j0 = int(np.argmax(pi))
    rhs = -(b - v)
    rhs[j0] = 0.0
    A = pin_row(Q, j0)
    chi = LinearSolver(A, solver, ndim=g.ndim).solve(rhs)
    chi = chi.reshape(g.size, len(axes))
    res = np.abs(Q @ chi + (b - v)).max() / max(np.abs(b).max(), 1e-300)
    inc = dx + chi[R.indices] - chi[rows]  # Δx + χ_j − χ_i per jump
    w = pi[rows] * R.data
    Deff = 0.5 * np.einsum("e,ea,eb->ab", w, inc, inc)
    info = {"cell_problem_residual": float(res), "stationary": sinfo, "axes": axes}
    dens = Density.from_log(g, log_p.reshape(g.shape), sinfo)
    return EffectiveTransport(axes=axes, velocity=v, diffusion=Deff, stationary=dens, info=info)
