"""Escape and first passage: absorbing targets, mean first-passage times and their second
moments, committors, exit locations, quasi-stationary states, flux-over-population rates,
survival curves, and basins with the rates between them.

Every function takes the model first (``mean_first_passage_time(model, target)``) and is also a
method of :class:`fpsolve.FokkerPlanck` (``model.mean_first_passage_time(target)``). Targets are callable masks
over the cell centres, lists of intervals ``[(lo, hi), …]`` or boolean arrays, with the
Dirichlet condition at the centres of the target cells (:mod:`.targets`), or sharp sets —
``HalfSpace``, ``Box``, ``Ball``, ``LevelSet``, absorbing walls ``Wall``, complements ``~set`` and
unions ``a | b`` (:mod:`.regions`) — with the condition on their true edge, at second order
(:mod:`.absorption`). The linear
solves stay accurate behind barriers of ΔU/D ≈ 40 and beyond (:mod:`.green`), and report their
diagnostics in ``info``.
"""
import warnings

from .basins import Basins, basins
from .first_passage import (ConditionalExitTimes, FirstPassageMoments, committor,
                            conditional_exit_times, exit_distribution, first_passage_moments,
                            killed_process, mean_first_passage_time)
from .green import KilledProcess, log_stationary
from .gth import gth_solve
from .quasi_stationary import EscapeRate, QuasiStationary, flux_over_population, quasi_stationary
from .regions import Ball, Box, CellSet, HalfSpace, LevelSet, Outside, Region, Union, Wall
from .survival import Survival, survival
from .targets import as_mask
from .transport import EffectiveTransport, effective_transport


def __getattr__(name):
    if name == "MODEL_METHODS":  # deprecated: FokkerPlanck's own methods are the one binding
        warnings.warn("fpsolve.escape.MODEL_METHODS is deprecated: every function here is a "
                      "method of fpsolve.FokkerPlanck (flux_over_population as escape_rate).",
                      DeprecationWarning, stacklevel=2)
        return {n: globals()[n] for n in (
            "mean_first_passage_time", "first_passage_moments", "committor",
            "conditional_exit_times", "exit_distribution", "quasi_stationary",
            "flux_over_population", "survival", "basins", "effective_transport")}
    raise AttributeError(f"module 'fpsolve.escape' has no attribute {name!r}")


__all__ = [
    "mean_first_passage_time", "first_passage_moments", "FirstPassageMoments", "committor",
    "conditional_exit_times", "ConditionalExitTimes",
    "exit_distribution", "quasi_stationary", "QuasiStationary", "flux_over_population",
    "EscapeRate", "survival", "Survival", "basins", "Basins", "KilledProcess", "killed_process",
    "gth_solve", "log_stationary", "as_mask",
    "effective_transport", "EffectiveTransport",
    "Region", "HalfSpace", "Box", "Ball", "LevelSet", "Outside", "Wall", "Union", "CellSet",
]
