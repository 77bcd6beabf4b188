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
from ..fields.field import Field
from . import absorption
from .green import KilledProcess
from .wells import TRAP_DEPTH
from .starts import start_law


def killed_process(model, target, what="target", **kw) -> KilledProcess:
    """The model's process killed on ``target``: a cell set (callable mask, list of intervals,
    bool array; edge at the cell centres) or a sharp set (HalfSpace, Box, Ball, LevelSet, Wall,
    unions with ``|``; edge where it lies). See :mod:`fpsolve.escape.absorption`."""
    kw.setdefault("gmg_trial", True)  # every answer here goes through solve/occupation
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
    solver : "auto", "direct", "pardiso", "amg", "gmg" or "gmres": how the reduced system is
        solved. "auto": a sparse LU in 1D, in 2D up to 10⁵ cells and in 3D up to 2.5·10³,
        geometric-multigrid GMRES beyond; without deep wells (no traps) the multigrid is tried
        from 10⁴ cells in 2D (2·10³ in 3D) and its answer kept only when the balance defects
        certify it (≤ 1e-9), else the LU solves again (``info["linear_solver_fallback"]``). See
        :class:`fpsolve.escape.green.KilledProcess`. The same keyword is taken by every
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
        """Standard deviation of τ (a Field, time units), sqrt of the variance."""
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
        sets: HalfSpace, Box, Ball, LevelSet, Wall and unions).

    Values near 0 carry full relative accuracy (however deep the wells in between); for full
    relative accuracy of 1 − q, ask for ``committor(model, B, A)``. ``info`` as for
    :func:`mean_first_passage_time`.
    """
    g = model.grid
    ab = absorption.build(model, {"A": A, "B": B}, "committor")
    kp = KilledProcess(model, absorption=ab, trap_depth=trap_depth, solver=solver,
                       gmg_trial=True)
    F = ab.kill_into("B")[kp.kept]
    if not F.any() or not ab.kill_into("A").any():
        raise InputError(f"committor: the set {'B' if not F.any() else 'A'} is never reached "
                         f"(no cell next to it is kept).")
    q, info = kp.solve(F)
    full = np.zeros(g.size)
    full[ab.removed_by("B")] = 1.0
    full[kp.kept] = q
    return Field(g, full.reshape(g.shape), _info(kp, info, quantity="committor"))


def exit_distribution(model, target, start, *, trap_depth=TRAP_DEPTH,
                      solver="auto") -> Field:
    """Where the process first enters the target: probability of each target cell.

    start : a point or a start density (Density, array on the grid, or callable of the
        coordinates). A point's unit mass is split over the cells around it by multilinear
        interpolation, edges of sharp targets included (:mod:`fpsolve.escape.starts`): second
        order in the start position.

    Returns a Field: on each target cell the probability that it is the first target cell
    entered (the time-integrated probability flux into it), zero elsewhere; the values sum to 1.
    For a sharp target, an exit through an absorbing wall or through a target between two kept
    centres is attributed to the cell it leaves from; ``info["exit_points"]`` (edge points
    crossed, (m, ndim)) and ``info["exit_probabilities"]`` (m,) give the exact exit law over the
    edge. Start mass already inside the target (or, for a point start, interpolated onto its
    edge) counts as absorbed where it starts. ``info`` also holds ``mean_time`` = E τ averaged
    over the start (total occupation time), and ``total``.

    Computed as the flux into the target of the occupation density n = (−L_S)⁻¹ ρ (a forward
    Green's solve, accurate behind high barriers).
    """
    kp = killed_process(model, target, trap_depth=trap_depth, solver=solver)
    law = start_law(model, start, kp.absorption)
    rho = law.masses
    n, info = kp.occupation(rho[kp.kept])
    P = kp.absorption_flux(n) + rho * kp.removed
    g = kp.grid
    edge_cells = [int(np.ravel_multi_index(tuple(g.cell_index(pt)[0]), g.shape))
                  for pt in law.edge_points]
    np.add.at(P, np.asarray(edge_cells, dtype=np.int64), law.edge_masses)
    info = _info(kp, info, quantity="exit distribution", mean_time=float(n.sum()),
                 total=float(P.sum()))
    if kp.absorption.sharp or law.edge_masses.size:
        info["exit_points"] = g.to_physical(np.concatenate([kp.absorption.site_point,
                                                            law.edge_points]))
        info["exit_probabilities"] = np.concatenate([kp.site_flux(n), law.edge_masses])
    return Field(g, P.reshape(g.shape), info)


@dataclass
class ConditionalExitTimes:
    """Exit probabilities and conditional exit-time moments, one entry per exit set.

    labels : the exit sets' names. For each label k (Fields on the grid, units t and t²):
    ``probability[k]`` = P_x(exit through k), ``mean[k]`` = E_x[τ | exit through k],
    ``second_moment[k]`` = E_x[τ² | exit through k] (NaN where the exit probability is 0).
    ``start`` : with a start given, {k: (P(exit k), E[τ | k], E[τ² | k])} averaged over it.
    info : diagnostics of the solve (as for :func:`mean_first_passage_time`).
    """

    labels: tuple
    probability: dict
    mean: dict
    second_moment: dict
    start: dict | None = None
    info: dict = field(default_factory=dict)


def conditional_exit_times(model, exits, start=None, *, trap_depth=TRAP_DEPTH,
                           solver="auto") -> ConditionalExitTimes:
    """E[τ | exit through B] and E[τ² | exit through B] for each exit set B.

    exits : a dict name → set, or a list of sets (named 0, 1, …); disjoint; each a cell set or a
        sharp set (as ``target`` of :func:`mean_first_passage_time`). τ is the first time any of
        them is reached.
    start : optional point (interpolated) or start density, for the start-averaged numbers.

    For each set B, with κ_B the killing rates into it and K = −L_Sᵀ the backward operator:
    q_B = K⁻¹ κ_B (the exit probability), u_B = K⁻¹ q_B = E[τ 1{exit B}], w_B = 2 K⁻¹ u_B =
    E[τ² 1{exit B}] (the h-transform of the conditioned process, discretely); the conditional
    moments are u_B/q_B and w_B/q_B. Every source is non-negative and each exit probability is
    solved for directly (never as 1 − Σ others), so an unlikely exit keeps its relative
    accuracy and round-off cannot make a probability negative; the solves are the trap-reduced
    ones of :mod:`fpsolve.escape.green` (accurate behind high barriers), one factorisation for
    all. Identities that hold exactly and are checked in the tests: Σ_B q_B = 1 and
    Σ_B u_B = E τ on the kept cells.
    """
    if isinstance(exits, dict):
        sets = dict(exits)
    else:
        sets = {k: v for k, v in enumerate(exits)}
    if len(sets) < 1:
        raise InputError("conditional_exit_times: give at least one exit set.")
    ab = absorption.build(model, sets, "conditional_exit_times")
    kp = KilledProcess(model, absorption=ab, trap_depth=trap_depth, solver=solver,
                       gmg_trial=True)
    labels = ab.labels
    F = np.stack([ab.kill_into(k)[kp.kept] for k in labels], axis=1)
    q, info_q = kp.solve(F)
    u, info_u = kp.solve(q)
    w, info_w = kp.solve(2.0 * u)
    g = kp.grid
    prob, mean, second = {}, {}, {}
    for j, k in enumerate(labels):
        pf = np.zeros(g.size)
        pf[ab.removed_by(k)] = 1.0
        pf[kp.kept] = q[:, j]
        with np.errstate(invalid="ignore", divide="ignore"):
            m1 = np.where(q[:, j] > 0, u[:, j] / q[:, j], np.nan)
            m2 = np.where(q[:, j] > 0, w[:, j] / q[:, j], np.nan)
        fm, fs = np.full(g.size, np.nan), np.full(g.size, np.nan)
        fm[ab.removed_by(k)] = fs[ab.removed_by(k)] = 0.0
        fm[kp.kept], fs[kp.kept] = m1, m2
        prob[k] = Field(g, pf.reshape(g.shape), {"quantity": f"P(exit through {k})"})
        mean[k] = Field(g, fm.reshape(g.shape), {"quantity": f"E[τ | exit through {k}]"})
        second[k] = Field(g, fs.reshape(g.shape), {"quantity": f"E[τ² | exit through {k}]"})
    info = _info(kp, info_q, mean_info=info_u, second_moment_info=info_w)
    info["accurate"] = bool(info_q["accurate"] and info_u["accurate"] and info_w["accurate"])
    averaged = None
    if start is not None:
        law = start_law(model, start, ab)
        rho = law.masses[kp.kept]
        averaged = {}
        for j, k in enumerate(labels):
            P = float(rho @ q[:, j] + law.edge_masses[law.edge_labels == j].sum()
                      + law.masses[ab.removed_by(k)].sum())
            T1, T2 = float(rho @ u[:, j]), float(rho @ w[:, j])
            averaged[k] = (P, T1 / P if P > 0 else float("nan"),
                           T2 / P if P > 0 else float("nan"))
    return ConditionalExitTimes(labels=labels, probability=prob, mean=mean,
                                second_moment=second, start=averaged, info=info)
