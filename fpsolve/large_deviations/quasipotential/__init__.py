"""Quasi-potentials on grids: an ordered line integral method (OLIM-MID) for anisotropic,
state-dependent diffusion, in 1D, 2D and 3D."""
from .olim import quasipotential

__all__ = ["quasipotential"]
