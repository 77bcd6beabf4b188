"""fpsolve: Fokker–Planck dynamics of stochastic gradient descent.

Convention everywhere: the Itô SDE dX = b(X, t) dt + sqrt(2 D(X, t)) dW, whose density obeys
∂t p = −∇·J with J = b p − ∇·(D p). For SGD, time is t = k·η (k = iteration, η = learning rate).

Layout: ``geometry`` (Grid) → ``models`` (FokkerPlanck, schedules, conventions) → ``numerics``
(Scharfetter–Gummel fluxes, generator, solvers) → ``fields`` (Density) → ``analysis``
(observables, currents, free energy). ``noise`` and ``sgd`` build SGD models; ``theory`` holds the
papers' formulas; ``nets`` (torch) and ``particles`` simulate networks and SDEs.
"""
__version__ = "0.1.0"

import importlib

from . import noise, sgd, theory
from .errors import InputError, SolverError
from .fields import Density, Field
from .geometry import Grid
from .models import Evolution, FokkerPlanck

# Imported on first use: they pull in torch (nets) or are heavier than the core needs.
_LAZY = ("nets", "particles", "escape", "landscape", "compare", "backends", "sweep", "analysis",
         "kinetic")
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
