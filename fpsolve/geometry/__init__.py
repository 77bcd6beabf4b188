"""Geometry: grids."""
from .grid import Grid

__all__ = ["Grid"]
