"""First-passage questions answered from the backward equation: mean first-passage time and its
second moment, committors, and where the process enters the target.

All of them use the same killed process (:class:`~fpsolve.escape.green.KilledProcess`): the target
cells are removed from the generator, and rates into them stay on the diagonal as loss, so the
forward operator L_S and the backward operator A* = L_Sᵀ share the same removed cells and rates
(Dirichlet data at the centres of the target cells; see :mod:`fpsolve.escape.targets`). Solves
are accurate behind barriers of ΔU/D ≈ 40 and beyond (see :mod:`fpsolve.escape.green`); each
result carries its diagnostics in ``info``.

Time unit: the model's t (for SGD t = k·η, k the iteration). Convention: the model's (Itô unless
the model says otherwise); the backward operator is the adjoint of the model's discrete
generator, so it is the Itô generator A* f = (b + α∇D)·∇f + D Δf of the model's convention.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..fields.field import Density, Field
from .green import TRAP_DEPTH, KilledProcess
from .targets import as_mask, is_point, point_cell


def killed_process(model, target, what="target", **kw) -> KilledProcess:
    """The model's process killed on the ``target`` cells (callable mask, box or bool array)."""
    return KilledProcess(model, as_mask(model.grid, target, what), **kw)


def _field(kp, values_on_kept, info, fill=0.0):
    full = np.full(kp.grid.size, fill, dtype=float)
    full[kp.kept] = values_on_kept
    return Field(kp.grid, full.reshape(kp.grid.shape), info)


def _info(kp, info, **extra):
    out = dict(info)
    out["target_cells"] = int(kp.removed.sum())
    out.update(extra)
    return out


def mean_first_passage_time(model, target, *, trap_depth=TRAP_DEPTH, solver="auto") -> Field:
    """Mean first-passage time E_x τ to the ``target`` from every cell: A* τ = −1, τ = 0 on it.

    Parameters
    ----------
    model : FokkerPlanck
        Walls stay as the model says (reflecting or periodic); only the target absorbs.
    target : callable mask f(x1, …) → bool array, box [(lo, hi), …], or bool array
        Absorbing cells (their centres are the Dirichlet boundary).
    trap_depth : wells deeper than this (in ΔU/D) are reduced exactly through the renewal
        system (see :mod:`fpsolve.escape.green`); ``np.inf`` gives the plain sparse LU.
    solver : "auto", "direct", "amg" or "gmres": how the reduced system is solved (sparse LU up
        to 2.5·10⁵ cells in 2D and 2.5·10³ in 3D under "auto", AMG-preconditioned GMRES beyond;
        see :class:`fpsolve.escape.green.KilledProcess`). The same keyword is taken by every
        first-passage function here.

    Returns
    -------
    Field
        τ on the cells (units of t), 0 on the target; ``info`` holds the method, the normwise
        backward error (``residual``), the ``balance_defect`` (relative violation of
        Σ π·τ·(absorption rate) = Σ π, which exposes lost accuracy behind high barriers), a
        ``condition_estimate`` of the factorised matrix, the traps reduced and ``accurate``.
    """
    kp = killed_process(model, target, trap_depth=trap_depth, solver=solver)
    tau, info = kp.solve(np.ones(kp.kept.size))
    return _field(kp, tau, _info(kp, info, quantity="mean first-passage time"))


@dataclass
class FirstPassageMoments:
    """First two moments of the first-passage time to a target, as Fields on the grid.

    mean = E τ, second_moment = E τ² (A* τ₂ = −2 τ₁, τ₂ = 0 on the target), variance =
    E τ² − (E τ)² (clipped at 0). Units t and t². ``info`` holds the diagnostics of both solves.
    """

    mean: Field
    second_moment: Field
    variance: Field
    info: dict = field(default_factory=dict)

    @property
    def std(self) -> Field:
        return Field(self.variance.grid, np.sqrt(self.variance.values), self.variance.info)

    def average(self, density):
        """(E τ, E τ²) averaged over a start density (Density or array on the grid)."""
        p = density.values if isinstance(density, Field) else np.asarray(density, dtype=float)
        p = p / p.sum()
        return float((p * self.mean.values).sum()), float((p * self.second_moment.values).sum())


def first_passage_moments(model, target, *, trap_depth=TRAP_DEPTH,
                          solver="auto") -> FirstPassageMoments:
    """Mean and second moment (hence variance) of the first-passage time to ``target``.

    Same parameters and accuracy as :func:`mean_first_passage_time`; the second moment solves
    A* τ₂ = −2 τ₁ with the same killed operator (one factorisation for both).
    """
    kp = killed_process(model, target, trap_depth=trap_depth, solver=solver)
    t1, info1 = kp.solve(np.ones(kp.kept.size))
    t2, info2 = kp.solve(2.0 * t1)
    var = np.clip(t2 - t1 ** 2, 0.0, None)
    info = _info(kp, info1, second_moment_info=info2)
    info["accurate"] = bool(info1["accurate"] and info2["accurate"])
    return FirstPassageMoments(
        mean=_field(kp, t1, _info(kp, info1, quantity="mean first-passage time")),
        second_moment=_field(kp, t2, _info(kp, info2, quantity="second moment")),
        variance=_field(kp, var, {"quantity": "variance"}),
        info=info)


def committor(model, A, B, *, trap_depth=TRAP_DEPTH, solver="auto") -> Field:
    """Committor q(x) = P_x(reach B before A): A* q = 0 off A ∪ B, q = 0 on A, q = 1 on B.

    A, B : disjoint sets (callable mask, box or bool array). Values near 0 carry full relative
    accuracy (however deep the wells in between); for full relative accuracy of 1 − q, ask for
    ``committor(model, B, A)``. ``info`` as for :func:`mean_first_passage_time`.
    """
    g = model.grid
    a = as_mask(g, A, "committor set A").ravel()
    b = as_mask(g, B, "committor set B").ravel()
    if np.any(a & b):
        raise InputError("committor: the sets A and B overlap; they must be disjoint.")
    kp = KilledProcess(model, a | b, trap_depth=trap_depth, solver=solver)
    F = np.asarray(kp.R[kp.kept][:, np.flatnonzero(b)].sum(axis=1)).ravel()
    q, info = kp.solve(F)
    full = np.zeros(g.size)
    full[b] = 1.0
    full[kp.kept] = q
    return Field(g, full.reshape(g.shape), _info(kp, info, quantity="committor"))


def _start_masses(model, start, what="start"):
    """Probability mass per cell (flat) from a point, a Density, an array or a callable."""
    g = model.grid
    if is_point(g, start):
        rho = np.zeros(g.size)
        rho[point_cell(g, start)] = 1.0
        return rho
    p = model.density(start) if hasattr(model, "density") else Density(g, start)
    return (p.values * g.cell_volume).ravel()


def exit_distribution(model, target, start, *, trap_depth=TRAP_DEPTH,
                      solver="auto") -> Field:
    """Where the process first enters the target: probability of each target cell.

    start : a point (the process starts in the cell containing it) or a start density (Density,
        array on the grid, or callable of the coordinates).

    Returns a Field: on each target cell the probability that it is the first target cell
    entered (the time-integrated probability flux into it), zero elsewhere; the values sum to 1.
    Start mass already inside the target counts as absorbed where it starts. ``info`` also holds
    ``mean_time`` = E τ averaged over the start (total occupation time), and ``total``.

    Computed as the flux into the target of the occupation density n = (−L_S)⁻¹ ρ (a forward
    Green's solve, accurate behind high barriers).
    """
    kp = killed_process(model, target, trap_depth=trap_depth, solver=solver)
    rho = _start_masses(model, start)
    n, info = kp.occupation(rho[kp.kept])
    P = kp.absorption_flux(n) + rho * kp.removed
    info = _info(kp, info, quantity="exit distribution", mean_time=float(n.sum()),
                 total=float(P.sum()))
    return Field(kp.grid, P.reshape(kp.grid.shape), info)
