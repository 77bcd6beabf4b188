"""fpsolve: Fokker–Planck dynamics of stochastic gradient descent.

Convention everywhere: the Itô SDE dX = b(X, t) dt + sqrt(2 D(X, t)) dW, whose density obeys
∂t p = −∇·J with J = b p − ∇·(D p). For SGD, time is t = k·η (k = iteration, η = learning rate).
"""
__version__ = "0.1.0"

from .errors import InputError, SolverError
from .fields import Density, Field
from .geometry import Grid
from .models import Evolution, FokkerPlanck

__all__ = ["Grid", "FokkerPlanck", "Evolution", "Field", "Density", "InputError", "SolverError", "__version__"]
