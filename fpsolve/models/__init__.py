"""Physics: the Fokker–Planck model (a facade over coefficients, numerics and escape)."""
from ..coefficients import schedules
from .evolution import Evolution
from .fokker_planck import FokkerPlanck

__all__ = ["FokkerPlanck", "Evolution", "schedules"]
