r"""Transition-path theory on the grid: reactive density, reactive current and transition rate
between two sets A and B, from the model's discrete generator and committors.

The finite-volume generator L of a :class:`fpsolve.FokkerPlanck` model is a Markov jump process
on the cells (rates r(i → j) = L_ji ≥ 0 when it is an M-matrix), with stationary law π. Discrete
TPT (Metzner, Schütte & Vanden-Eijnden, *Transition path theory for Markov jump processes*,
Multiscale Model. Simul. 7, 2009) then gives, exactly for the jump process:

- forward committor q⁺(i) = P_i(reach B before A) (:meth:`FokkerPlanck.committor`);
- backward committor q⁻(i) = P(last visit to A ∪ B was to A, in stationarity), the committor of
  the time-reversed chain r̂(i → j) = π_j r(j → i)/π_i to A before B (q⁻ = 1 − q⁺ under
  detailed balance);
- reactive density m(i) = π(i) q⁺(i) q⁻(i) (per unit volume: the density of being on a
  transition path from A to B), its integral the probability of being reactive;
- reactive flux f(i → j) = π_i q⁻_i r(i → j) q⁺_j, its net part F(i → j) = f(i → j) − f(j → i),
  divergence-free off A ∪ B;
- transition rate k_AB = Σ_{i ∈ A, j ∉ A} f(i → j) = Σ_{i ∉ B, j ∈ B} f(i → j): A → B transitions
  per unit time (in the model's time t; for SGD t = k·η). The rate *out of A* is k_AB / ρ_A with
  ρ_A = Σ π q⁻, the fraction of time last spent in A; this is fpsolve's
  ``escape_rate(..., method="reactive-flux")``.

The current as a vector field at the cell centres is J(xᵢ) = (1/2Vᵢ) Σⱼ F(i → j)(xⱼ − xᵢ)
(per unit area and time; the face average in 1D, consistent with the tensor scheme's diagonal
edges because Σ_E κ_E t_E t_Eᵀ = D). As the grid is refined these converge to the continuum
TPT quantities (E & Vanden-Eijnden, J. Stat. Phys. 123, 2006): m = π q⁺ q⁻ and the reactive
current J_AB = q⁺q⁻ J_π + π D (q⁻∇q⁺ − q⁺∇q⁻), J_π the stationary probability current.

Requirements: a generator with non-negative off-diagonal rates (checked; a tensor diffusion that
is not diagonally dominant on the grid is refused). The backward committor is a sparse LU solve of
the reversed chain; like the forward committor it is accurate for values near 0 in relative terms.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...errors import InputError
from ...escape import as_mask
from ... import Density, Field
from ..plots import plot_reactive_current


@dataclass
class TransitionPaths:
    """Transition-path theory between A and B on a grid; see the module docstring.

    Attributes
    ----------
    grid, A, B (boolean masks of the grid's shape), stationary (π, a Density),
    forward, backward (the committors q⁺, q⁻ as Fields), reactive_density (m = π q⁺ q⁻ per unit
    volume, a Field), probability_reactive (∫ m), current ((ndim, *shape) array: J at the cell
    centres), net_flux (sparse N×N matrix of F(i → j) ≥ 0, probability per unit time),
    rate (k_AB, transitions per unit time), rate_from_A (k_AB/ρ_A), rate_from_B (k_AB/ρ_B),
    rho_A, rho_B (time fractions last in A, in B), entrance_A, entrance_B (where B → A transitions
    enter A and A → B transitions enter B: probability vectors over the grid), info (the two flux
    evaluations of k_AB and their difference, the divergence defect off A ∪ B, the reversibility
    check ‖q⁻ − (1 − q⁺)‖∞ and the committors' solver info).
    """

    grid: object
    A: np.ndarray
    B: np.ndarray
    stationary: Density
    forward: Field
    backward: Field
    reactive_density: Field
    probability_reactive: float
    current: np.ndarray
    net_flux: sp.csr_matrix
    rate: float
    rate_from_A: float
    rate_from_B: float
    rho_A: float
    rho_B: float
    entrance_A: np.ndarray
    entrance_B: np.ndarray
    info: dict = field(default_factory=dict)

    def plot(self, ax=None, **kw):
        """The reactive current over the reactive density; see
        :func:`fpsolve.large_deviations.plot_reactive_current`."""
        return plot_reactive_current(self, ax=ax, **kw)


def transition_paths(model, A, B, *, stationary=None) -> TransitionPaths:
    """Reactive density, current and rate between ``A`` and ``B`` for a FokkerPlanck model.

    Parameters
    ----------
    model : :class:`fpsolve.FokkerPlanck` (any convention; walls reflecting or periodic).
    A, B : disjoint sets of cells: callable masks f(x1, …) → bool, boxes [(lo, hi), …] or boolean
        arrays (as for :meth:`FokkerPlanck.committor`).
    stationary : the model's stationary Density, if already computed.

    Returns
    -------
    TransitionPaths
    """
    g = model.grid
    a = as_mask(g, A, "transition_paths: A").ravel()
    b = as_mask(g, B, "transition_paths: B").ravel()
    if np.any(a & b):
        raise InputError("transition_paths: the sets A and B overlap; they must be disjoint.")
    L = sp.csr_matrix(model.generator())
    off = L - sp.diags(L.diagonal())
    if off.nnz and off.data.min() < 0:
        raise InputError(f"transition_paths: the model's generator has negative jump rates "
                         f"(smallest {off.data.min():.3g}): its tensor diffusion is not "
                         f"diagonally dominant on this grid, so the discrete process is not a "
                         f"Markov chain and TPT does not apply. Refine or rescale the grid, or "
                         f"use a diagonally dominant D.")
    pi = model.stationary() if stationary is None else stationary
    p = pi.values.ravel() * g.cell_volume                      # probabilities, sum 1
    logp = np.log(np.maximum(p, np.finfo(float).tiny))
    qp = model.committor(A, B)
    qplus = qp.values.ravel()
    R = sp.csr_matrix(off.T)                                     # R_ij = r(i → j)
    qminus = _backward_committor(R, logp, a, b)
    # reactive flux f(i → j) = π_i q⁻_i r(i → j) q⁺_j and its net part
    f = sp.diags(p * qminus) @ R @ sp.diags(qplus)
    F = sp.csr_matrix(f - f.T)
    Fpos = F.multiply(F > 0).tocsr()
    ia, ib = np.flatnonzero(a), np.flatnonzero(b)
    out_A = float(f[ia][:, np.flatnonzero(~a)].sum())
    into_B = float(f[np.flatnonzero(~b)][:, ib].sum())
    k = out_A
    div = np.asarray(F.sum(axis=1)).ravel()
    C = ~(a | b)
    scale = max(float(np.abs(F).sum(axis=1).max()), 1e-300)
    rho_A = float(np.sum(p * qminus))
    rho_B = float(np.sum(p * (1.0 - qminus)))
    m = p * qplus * qminus
    # entrance laws: A → B transitions enter B at j with weight Σ_i f(i → j); B → A ones enter A
    # with the reversed committors (1 − q⁻ last in B, 1 − q⁺ next in A)
    fBA = sp.diags(p * (1.0 - qminus)) @ R @ sp.diags(1.0 - qplus)
    ent_B = np.where(b, np.asarray(f[np.flatnonzero(~b)].sum(axis=0)).ravel(), 0.0)
    ent_A = np.where(a, np.asarray(fBA[np.flatnonzero(~a)].sum(axis=0)).ravel(), 0.0)
    info = {"flux_out_of_A": out_A, "flux_into_B": into_B,
            "flux_defect": abs(out_A - into_B) / max(out_A, into_B, 1e-300),
            "divergence_defect": float(np.max(np.abs(div[C]))) / scale if C.any() else 0.0,
            "reversibility_gap": float(np.max(np.abs(qminus - (1.0 - qplus)))),
            "backward_committor_range": [float(qminus.min()), float(qminus.max())],
            "forward_committor": qp.info}
    return TransitionPaths(
        grid=g, A=a.reshape(g.shape), B=b.reshape(g.shape), stationary=pi,
        forward=qp, backward=Field(g, qminus.reshape(g.shape), {"quantity": "backward committor"}),
        reactive_density=Field(g, (m / g.cell_volume).reshape(g.shape),
                               {"quantity": "reactive density"}),
        probability_reactive=float(m.sum()), current=_cell_current(g, F), net_flux=Fpos,
        rate=k, rate_from_A=k / rho_A, rate_from_B=k / rho_B, rho_A=rho_A, rho_B=rho_B,
        entrance_A=ent_A.reshape(g.shape) / max(ent_A.sum(), 1e-300),
        entrance_B=ent_B.reshape(g.shape) / max(ent_B.sum(), 1e-300), info=info)


def _backward_committor(R, logp, a, b):
    """q⁻: the committor to A (before B) of the reversed chain r̂(i → j) = π_j r(j → i)/π_i."""
    Rc = R.tocoo()
    # reversed rates on the transposed pattern, formed from log π (neighbouring ratios only)
    rhat = sp.csr_matrix((Rc.data * np.exp(logp[Rc.row] - logp[Rc.col]), (Rc.col, Rc.row)),
                         shape=R.shape)
    C = ~(a | b)
    q = a.astype(float)
    if not C.any():
        return q
    out = np.asarray(rhat.sum(axis=1)).ravel()
    K = (sp.diags(out[C]) - rhat[C][:, C]).tocsc()
    rhs = np.asarray(rhat[C][:, a].sum(axis=1)).ravel()
    q[C] = spla.splu(K).solve(rhs)
    return q


def _cell_current(grid, F):
    """J(xᵢ) = (1/2V) Σⱼ F(i → j)(xⱼ − xᵢ) at the cell centres, (ndim, *shape); a periodic axis
    takes the shorter displacement."""
    Fc = F.tocoo()
    X = grid.points
    disp = X[Fc.col] - X[Fc.row]
    for ax, per in enumerate(grid.periodic):
        if per:
            Lx = grid.bounds[ax, 1] - grid.bounds[ax, 0]
            disp[:, ax] -= Lx * np.round(disp[:, ax] / Lx)
    J = np.zeros((grid.size, grid.ndim))
    np.add.at(J, Fc.row, Fc.data[:, None] * disp)
    J /= 2.0 * grid.cell_volume
    return np.moveaxis(J.reshape(*grid.shape, grid.ndim), -1, 0)
