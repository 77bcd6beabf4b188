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
from . import absorption
from .green import TRAP_DEPTH, KilledProcess
from .targets import is_point, point_cell


def killed_process(model, target, what="target", **kw) -> KilledProcess:
    """The model's process killed on ``target``: a cell set (callable mask, list of intervals,
    bool array; edge at the cell centres) or a sharp set (HalfSpace, Box, Ball, LevelSet, Wall,
    unions with ``|``; edge where it lies). See :mod:`fpsolve.escape.absorption`."""
    return KilledProcess(model, absorption=absorption.build(model, {"target": target}, what),
                         **kw)


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
    target : absorbing set. A cell set — callable mask f(x1, …) → bool array evaluated at the
        cell centres, list of intervals [(lo, hi), …] selecting the cells whose centres lie in
        it, or bool array — puts the Dirichlet boundary at the centres of its cells (first
        order unless a centre sits on the edge). A sharp set — ``HalfSpace``, ``Box``,
        ``Ball``, ``LevelSet``, ``Wall`` (absorbing wall of the box), ``~set`` and unions
        ``a | b`` (:mod:`fpsolve.escape.regions`) — puts it on the true edge, second order
        (:mod:`fpsolve.escape.absorption`).
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

    A, B : disjoint sets (cell sets: callable mask, list of intervals or bool array; or sharp
        sets: HalfSpace, Box, Ball, LevelSet, Wall and unions). Values near 0 carry full relative
    accuracy (however deep the wells in between); for full relative accuracy of 1 − q, ask for
    ``committor(model, B, A)``. ``info`` as for :func:`mean_first_passage_time`.
    """
    g = model.grid
    ab = absorption.build(model, {"A": A, "B": B}, "committor")
    kp = KilledProcess(model, absorption=ab, trap_depth=trap_depth, solver=solver)
    F = ab.kill_into("B")[kp.kept]
    if not F.any() or not ab.kill_into("A").any():
        raise InputError(f"committor: the set {'B' if not F.any() else 'A'} is never reached "
                         f"(no cell next to it is kept).")
    q, info = kp.solve(F)
    full = np.zeros(g.size)
    full[ab.removed_by("B")] = 1.0
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
    For a sharp target, an exit through an absorbing wall or through a target between two kept
    centres is attributed to the cell it leaves from; ``info["exit_points"]`` (edge points
    crossed, (m, ndim)) and ``info["exit_probabilities"]`` (m,) give the exact exit law over the
    edge. Start mass already inside the target counts as absorbed where it starts. ``info`` also
    holds ``mean_time`` = E τ averaged over the start (total occupation time), and ``total``.

    Computed as the flux into the target of the occupation density n = (−L_S)⁻¹ ρ (a forward
    Green's solve, accurate behind high barriers).
    """
    kp = killed_process(model, target, trap_depth=trap_depth, solver=solver)
    rho = _start_masses(model, start)
    n, info = kp.occupation(rho[kp.kept])
    P = kp.absorption_flux(n) + rho * kp.removed
    info = _info(kp, info, quantity="exit distribution", mean_time=float(n.sum()),
                 total=float(P.sum()))
    if kp.absorption.sharp:
        info["exit_points"] = kp.absorption.site_point
        info["exit_probabilities"] = kp.site_flux(n)
    return Field(kp.grid, P.reshape(kp.grid.shape), info)
