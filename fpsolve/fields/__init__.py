"""Data on grids."""
from .field import Density, Field

__all__ = ["Density", "Field"]
