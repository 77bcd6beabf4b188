"""fpsolve: Fokker–Planck dynamics of stochastic gradient descent.

Convention everywhere: the Itô SDE dX = b(X, t) dt + sqrt(2 D(X, t)) dW, whose density obeys
∂t p = −∇·J with J = b p − ∇·(D p). For SGD, time is t = k·η (k = iteration, η = learning rate).

Layout, in the direction data flows (docs/guide/architecture.rst has the picture):
``geometry`` (Grid) → ``coefficients`` (the user's SDE, evaluated and checked once) →
``numerics`` (Scharfetter–Gummel fluxes, generator, solvers) → ``escape`` and ``analysis``
(first passage, currents, free energy) → ``models`` (FokkerPlanck: the facade a user talks to)
→ ``fields`` (Density, Field: the answers). ``noise`` and ``sgd`` build SGD models; ``theory``
holds the papers' formulas and exact references; ``particles``, ``nets`` (torch), ``kinetic``
(momentum) and ``large_deviations`` go beyond the overdamped PDE; ``problems``, ``sweeps`` and
``validation`` read files and run the suite.
"""
__version__ = "0.1.0"

import importlib

from . import noise, sgd, theory
from .errors import InputError, SolverError
from .fields import Density, Field
from .geometry import Grid
from .models import Evolution, FokkerPlanck

# Imported on first use: they pull in torch (nets) or are heavier than the core needs.
_LAZY = ("nets", "particles", "escape", "landscape", "compare", "backends", "sweeps", "sweep",
         "analysis", "problems", "kinetic")
#: classes re-exported lazily from a subpackage: fpsolve.Langevin is fpsolve.kinetic.Langevin
_LAZY_NAMES = {"Langevin": "kinetic"}


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module 'fpsolve' has no attribute {name!r}")


__all__ = ["Grid", "FokkerPlanck", "Evolution", "Field", "Density", "InputError", "SolverError",
           "noise", "sgd", "theory", "__version__", *_LAZY, *_LAZY_NAMES]
