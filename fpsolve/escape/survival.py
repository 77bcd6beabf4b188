"""Survival probability and first-passage-time density from a forward solve with an absorbing
target.

The density on the kept cells evolves with the killed generator L_S (the same removed cells and
rates as the backward solves of :mod:`.first_passage`): dp/dt = L_S p. Mass that jumps into the
target is lost, so

    S(t) = Σ_S p(t) · vol   (survival probability, P(τ > t)),
    f(t) = −dS/dt = Σ_S p(t) · (rate into the target) · vol   (first-passage-time density),

with f taken from the instantaneous absorbed flux (exact for the semi-discrete system, no
differencing of S). These are the quantities to compare with particle first-passage
distributions: the empirical survival function of the hitting times, and their histogram.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..fields.field import Field
from ..numerics import timestepping
from . import absorption
from .starts import start_law
from .jumps import jump_rates, killed_generator, moving_rates
from .targets import index_map


@dataclass
class Survival:
    """Result of :func:`survival`.

    times : output times (units of t). survival : S(t) = P(τ > t). first_passage_density :
    f(t) = −dS/dt (1/time). densities : the (unnormalised) surviving densities as Fields when
    ``keep_densities`` was set, else empty. info : time-stepping work and the smallest value.
    """

    times: np.ndarray
    survival: np.ndarray
    first_passage_density: np.ndarray
    densities: list = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def absorbed(self) -> np.ndarray:
        """P(τ ≤ t) = 1 − S(t)."""
        return 1.0 - self.survival

    def decay_rate(self) -> float:
        """−d log S/dt between the last two output times (→ λ₁ at late times)."""
        t, S = self.times, self.survival
        return float(-(np.log(S[-1]) - np.log(S[-2])) / (t[-1] - t[-2]))

    def mean_time(self) -> float:
        """∫₀^T S dt (trapezoid over the output times) plus the tail S(T)/λ, with λ the late decay
        rate: an estimate of E τ averaged over the start density (needs output from t = 0)."""
        t, S = self.times, self.survival
        body = float(np.sum(0.5 * (S[1:] + S[:-1]) * np.diff(t)))
        return body + float(S[-1] / self.decay_rate())


def survival(model, target, p0, times, *, method="implicit", scheme="tr-bdf2", dt=None,
             keep_densities=False) -> Survival:
    """Survival probability S(t) and first-passage density f(t) of the process killed on ``target``.

    p0 : start density (Density, array on the grid, callable of the coordinates) or a point,
        whose unit mass is split over the cells around it by multilinear interpolation, target
        edges included (second order in the start position; :mod:`fpsolve.escape.starts`).
        Mass starting inside the target (or interpolated onto its edge) counts as absorbed at
        t = 0 (``info["absorbed_at_start"]``): S(t) from a point within a cell of an edge is
        second order once the boundary layer √(D t) spans a few cells.
    times : output times (t ≥ 0, non-decreasing); include 0 to get S(0).
    method, scheme, dt : as in :meth:`FokkerPlanck.evolve` (time stepping of the killed
        generator; default TR-BDF2 with Δt = T/200, and each output interval divided exactly).
    """
    g = model.grid
    ab = absorption.build(model, {"target": target})
    removed = ab.removed
    kept = np.flatnonzero(~removed)
    law = start_law(model, p0, ab)
    rho = law.masses
    t = timestepping.check_times(times)
    model.schedule.check(t[-1])
    index = index_map(removed)
    kills = {}  # killing rates per distinct generator (a schedule or a drift that changes in time)

    def generator_at(time):
        key = model.rates_key(time)
        ab_t = ab if key == model.rates_key(0.0) else absorption.build(
            model, {"target": target}, t=time)
        kills[key] = ab_t.kill[kept]
        return key, killed_generator(moving_rates(jump_rates(model.rates_at(time)), removed,
                                                  ab_t.cut), ab_t.kill, index)

    time_dependent = model.coefficients.time_dependent or not model.schedule.piecewise_constant
    states, stats = timestepping.evolve(
        generator_at, rho[kept], t, method, scheme, dt, breakpoints=model.schedule.breakpoints,
        piecewise_constant=not time_dependent, ndim=g.ndim)
    S = np.array([s.sum() for s in states])

    def kill_at(time):
        if model.rates_key(time) not in kills:
            generator_at(time)
        return kills[model.rates_key(time)]

    # the first-passage density at each output time, with the killing rates of that time
    f = np.array([s @ kill_at(ti) for s, ti in zip(states, t)])
    dens = []
    if keep_densities:
        for s in states:
            full = np.zeros(g.size)
            full[kept] = s / g.cell_volume
            dens.append(Field(g, full.reshape(g.shape)))
    info = dict(stats, method=method, scheme=scheme if method == "implicit" else None,
                min_value=float(min(s.min() for s in states)),
                absorbed_at_start=law.absorbed + float(rho[removed].sum()),
                target_cells=int(removed.sum()))
    return Survival(times=t, survival=S, first_passage_density=f, densities=dens, info=info)
