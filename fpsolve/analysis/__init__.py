"""Observables and diagnostics computed from densities and models, convergence rates, and
Richardson extrapolation across grids."""
from .convergence import observed_order, slope
from .extrapolation import richardson
from .thermodynamics import (Current, circulation, current, dissipation,
                             entropy_production, free_energy)
from .observables import cell_current, chi_squared, kl_divergence, mass, moments

__all__ = ["Current", "current", "circulation", "entropy_production", "free_energy",
           "dissipation", "mass", "moments", "kl_divergence", "chi_squared", "cell_current",
           "slope", "observed_order", "richardson"]
