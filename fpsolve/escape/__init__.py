"""Escape and first passage: absorbing targets, mean first-passage times and their second
moments, committors, exit locations, quasi-stationary states, flux-over-population rates,
survival curves, and basins with the rates between them.

Every function takes the model first (``mean_first_passage_time(model, target)``), so that it can
also be bound as a method of :class:`~fpsolve.models.FokkerPlanck`. Targets are callable masks
over the cell centres, lists of intervals ``[(lo, hi), …]`` or boolean arrays, with the
Dirichlet condition at the centres of the target cells (:mod:`.targets`), or sharp sets —
``HalfSpace``, ``Box``, ``Ball``, ``LevelSet``, absorbing walls ``Wall``, complements ``~set`` and
unions ``a | b`` (:mod:`.regions`) — with the condition on their true edge, at second order
(:mod:`.absorption`). The linear
solves stay accurate behind barriers of ΔU/D ≈ 40 and beyond (:mod:`.green`), and report their
diagnostics in ``info``.
"""
from .basins import Basins, basins
from .first_passage import (ConditionalExitTimes, FirstPassageMoments, committor,
                            conditional_exit_times, exit_distribution, first_passage_moments,
                            killed_process, mean_first_passage_time)
from .green import KilledProcess, log_stationary
from .mapped import check_mass_at_infinity, computational_region
from .gth import gth_solve
from .quasi_stationary import EscapeRate, QuasiStationary, flux_over_population, quasi_stationary
from .regions import Ball, Box, CellSet, HalfSpace, LevelSet, Outside, Region, Union, Wall
from .survival import Survival, survival
from .targets import as_mask
from .transport import EffectiveTransport, effective_transport

#: Functions that take the model first, by the method name they are meant to have on
#: :class:`~fpsolve.models.FokkerPlanck` (``setattr(FokkerPlanck, name, fn)`` for each).
MODEL_METHODS = {
    "mean_first_passage_time": mean_first_passage_time,
    "first_passage_moments": first_passage_moments,
    "committor": committor,
    "conditional_exit_times": conditional_exit_times,
    "exit_distribution": exit_distribution,
    "quasi_stationary": quasi_stationary,
    "flux_over_population": flux_over_population,
    "survival": survival,
    "basins": basins,
    "effective_transport": effective_transport,
}

__all__ = [
    "MODEL_METHODS",
    "mean_first_passage_time", "first_passage_moments", "FirstPassageMoments", "committor",
    "conditional_exit_times", "ConditionalExitTimes",
    "exit_distribution", "quasi_stationary", "QuasiStationary", "flux_over_population",
    "EscapeRate", "survival", "Survival", "basins", "Basins", "KilledProcess", "killed_process",
    "gth_solve", "log_stationary", "as_mask", "computational_region", "check_mass_at_infinity",
    "effective_transport", "EffectiveTransport",
    "Region", "HalfSpace", "Box", "Ball", "LevelSet", "Outside", "Wall", "Union", "CellSet",
]
