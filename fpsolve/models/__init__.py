"""Physics: the Fokker–Planck model and its conventions."""
from .fokker_planck import Evolution, FokkerPlanck

__all__ = ["FokkerPlanck", "Evolution"]
