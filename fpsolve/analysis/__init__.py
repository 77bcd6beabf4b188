"""Observables and diagnostics computed from densities and models."""
from .observables import cell_current, chi_squared, kl_divergence, mass, moments

__all__ = ["mass", "moments", "kl_divergence", "chi_squared", "cell_current"]
