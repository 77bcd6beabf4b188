r"""Large deviations of SGD's diffusion: minimum-action paths, minimum-energy paths,
quasi-potentials on grids, and transition-path theory.

Convention (see :mod:`.dynamics` and the theory page ``docs/theory/large_deviations.rst``): the
Itô SDE dX = b(X) dt + sqrt(2εD(X)) dW with ε → 0, the action
¼∫(φ̇ − b)ᵀD⁻¹(φ̇ − b) dt, so that a gradient system b = −∇U with D = I has quasi-potential
V = U and p_ε ≍ exp(−V/ε). A :class:`fpsolve.FokkerPlanck` model is the case ε = 1: actions are
then escape-time exponents in the model's own units (τ ≍ exp(S)).

Layout (data flows down):

- :mod:`.dynamics` — :class:`Dynamics`: b and D at points, their checks, critical points;
- :mod:`.paths` — the geometric action (:mod:`.paths.action`), gMAM
  (:func:`minimum_action_path`), the string method (:func:`string_method`), and the torch
  backend for networks (:mod:`.paths.torch_paths`: :class:`TorchDynamics`,
  :func:`network_dynamics`; imported on first use, it needs torch);
- :mod:`.olim` — :func:`quasipotential`, an ordered line integral method on 1D–3D
  grids (Numba);
- :mod:`.tpt` — :func:`transition_paths`: reactive density, current and rate from a model's
  committors;
- :mod:`.plots` — figures.
"""
import importlib

from .dynamics import Dynamics
from .paths import (MinimumActionPath, MinimumEnergyPath, descent_orbit, geometric_action,
                    minimum_action_path, string_method)
from .plots import (plot_action_along_path, plot_path, plot_quasipotential,
                    plot_reactive_current)
from .olim import quasipotential
from .tpt import TransitionPaths, transition_paths

_TORCH = {"TorchDynamics": "paths.torch_paths", "network_dynamics": "paths.torch_paths",
          "whitened_path": "paths.torch_paths"}


def __getattr__(name):
    if name in _TORCH:  # torch is optional: the network backend loads on first use
        return getattr(importlib.import_module(f"{__name__}.{_TORCH[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Dynamics", "minimum_action_path", "MinimumActionPath", "string_method",
           "MinimumEnergyPath", "descent_orbit", "geometric_action", "quasipotential",
           "transition_paths", "TransitionPaths", "plot_path", "plot_quasipotential", "plot_action_along_path",
           "plot_reactive_current", *_TORCH]
