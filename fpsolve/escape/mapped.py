"""First passage on a domain reaching to ±∞: sets given in x, carried to the grid's coordinate.

On a :class:`~fpsolve.geometry.grid.MappedGrid` the solvers work in the computational
coordinate y (x = ψ(y), increasing; :mod:`fpsolve.geometry.mapping`), and the user describes
targets in x. A sharp set of the line is a union of intervals, and an increasing map takes the
interval [a, b] of x to [ψ⁻¹(a), ψ⁻¹(b)] of y, so :func:`computational_region` returns the same
kind of set with its edges moved — the Dirichlet condition then sits exactly on the image of the
true edge, at second order as on any grid (:mod:`.absorption`). ``Wall(0, "high")`` is the wall
of y at the image of +∞: an exit at infinity. A level set g(x) ≤ 0 becomes g(ψ(y)) ≤ 0. Cell
masks and boxes of cells are evaluated at the cell centres in x (:mod:`.targets`).

:func:`check_mass_at_infinity` warns when a stationary density piles up in an outermost cell at
an infinite end: a law that is not normalisable on the line, or an exit boundary (the process
reaches infinity in finite time, where the wall of y holds it).
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import AccuracyWarning, InputError
from .regions import Ball, Box, CellSet, HalfSpace, LevelSet, Outside, Region, Union, Wall

__all__ = ["computational_region", "check_mass_at_infinity"]


def computational_region(region: Region, grid) -> Region:
    """``region`` (a set of the line in the model's coordinate x) as a set of the grid's
    coordinate y; the identity on a plain grid."""
    if not grid.mapped or isinstance(region, (CellSet, Wall)):
        return region
    if isinstance(region, Union):
        return Union(*[computational_region(p, grid) for p in region.parts])
    if isinstance(region, Outside):
        return Outside(computational_region(region.region, grid))
    region.check(1)
    if isinstance(region, HalfSpace):
        c = region.offset / region.normal[0]  # normal is ±1 in 1D
        lo, hi = (c, np.inf) if region.normal[0] > 0 else (-np.inf, c)
    elif isinstance(region, Box):
        lo, hi = float(region.lo[0]), float(region.hi[0])
    elif isinstance(region, Ball):
        lo, hi = region.centre[0] - region.radius, region.centre[0] + region.radius
    elif isinstance(region, LevelSet):
        g, to_x = region.g, grid.to_physical
        return LevelSet(lambda y: g(to_x(y)))
    else:
        raise InputError(f"target: {type(region).__name__} cannot be carried to a grid reaching "
                         f"to ±∞; use HalfSpace, Box, Ball, LevelSet, Wall or a cell mask.")
    dom_lo, dom_hi = grid.physical_bounds[0]
    lo, hi = max(lo, dom_lo), min(hi, dom_hi)
    if lo > hi:  # outside the domain: a set the process never meets
        raise InputError(f"target: {region!r} does not meet the domain ({dom_lo:g}, {dom_hi:g}).")
    y_lo, y_hi = grid.to_computational(np.array([lo, hi]))
    return Box([(None if lo == -np.inf else float(y_lo), None if hi == np.inf else float(y_hi))])


def check_mass_at_infinity(density, threshold=0.5):
    """Warn (AccuracyWarning) when the largest cell mass of a stationary density on a grid
    reaching to ±∞ is an outermost cell at an infinite end: the law in x is not normalisable
    there, or the end is an exit boundary held by the wall at infinity. Records the mass of the
    outermost cells in ``density.info["mass_at_ends"]``."""
    g = density.grid
    if not g.mapped:
        return
    m = density.values.ravel() * g.cell_volume
    lo, hi = g.physical_bounds[0]
    ends = {"low": m[0] if lo == -np.inf else None, "high": m[-1] if hi == np.inf else None}
    density.info["mass_at_ends"] = {k: float(v) for k, v in ends.items() if v is not None}
    top = int(np.argmax(m))
    piled = (top == 0 and lo == -np.inf) or (top == m.size - 1 and hi == np.inf)
    if piled or any(v is not None and v > threshold for v in ends.values()):
        side = "−∞" if top == 0 else "+∞"
        warnings.warn(
            f"stationary: the density piles up in the outermost cell at {side} (mass "
            f"{m[top]:.3g}): the zero-flux law is not normalisable there, or {side} is an exit "
            f"boundary (the process reaches it in finite time and the wall at infinity holds "
            f"it). The answer describes that wall, not a law on the line; ask first-passage "
            f"questions with fpsolve.escape.Wall (an exit at infinity) instead.",
            AccuracyWarning, stacklevel=3)
