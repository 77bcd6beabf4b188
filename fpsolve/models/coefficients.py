"""Evaluate and check user coefficients (potential, drift, scalar diffusion) on a grid.

Callables take the coordinates as separate positional arrays, ``f(x)`` in 1D, ``f(x, y)`` in 2D,
``f(x, y, z)`` in 3D, and must work on numpy arrays (they are called once on whole meshgrids —
never per cell). Every check runs here, before any solve, and names the first offending point.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..errors import InputError
from ..geometry.grid import Grid


def _where(grid_coords, mask) -> str:
    """'at x=(...)' for the first True entry of mask, plus how many entries are bad."""
    idx = tuple(np.argwhere(mask)[0])
    x = tuple(float(c[idx]) for c in grid_coords)
    pt = f"{x[0]:.6g}" if len(x) == 1 else "(" + ", ".join(f"{v:.6g}" for v in x) + ")"
    return f"at x={pt} ({int(mask.sum())} point(s) in all)"


def evaluate(f, coords, shape, what: str) -> np.ndarray:
    """Evaluate a constant, an array or a callable of the coordinates to an array of ``shape``."""
    if callable(f):
        try:
            val = f(*coords)
        except Exception as exc:  # the user's function failed: say which one and how it is called
            raise InputError(
                f"{what}: calling it on the grid failed with {type(exc).__name__}: {exc}. It is "
                f"called as f({', '.join('x' + str(i + 1) for i in range(len(coords)))}) with numpy "
                f"arrays of shape {shape}; use numpy functions (np.exp, np.where) rather than "
                f"math or if-statements.") from exc
    else:
        val = f
    arr = np.asarray(val, dtype=float)
    if arr.shape != shape:
        if arr.ndim == 0:
            arr = np.full(shape, float(arr))
        else:
            try:
                arr = np.broadcast_to(arr, shape).copy()
            except ValueError:
                raise InputError(f"{what}: got an array of shape {arr.shape}, which does not "
                                 f"match the grid shape {shape}.") from None
    return arr


def check_finite(arr, coords, what: str):
    bad = ~np.isfinite(arr)
    if np.any(bad):
        raise InputError(f"{what} is not finite {_where(coords, bad)}: value "
                         f"{arr[tuple(np.argwhere(bad)[0])]}. Restrict the grid to where it is "
                         f"defined, or fix the expression.")


def scalar_diffusion(diffusion, grid: Grid, coords=None, what="diffusion") -> np.ndarray:
    """Positive scalar diffusion on the cells (or on ``coords``); raises if ≤ 0, NaN or inf."""
    coords = grid.coords if coords is None else coords
    if isinstance(diffusion, numbers.Number) and not isinstance(diffusion, bool):
        if not np.isfinite(diffusion) or diffusion <= 0:
            raise InputError(f"{what} must be a positive finite number; got {diffusion}.")
    D = evaluate(diffusion, coords, coords[0].shape, what)
    check_finite(D, coords, what)
    bad = D <= 0
    if np.any(bad):
        raise InputError(
            f"{what} must be positive everywhere on the grid; it is "
            f"{D[tuple(np.argwhere(bad)[0])]:.3g} {_where(coords, bad)}. Shrink the grid to where "
            f"D > 0, or regularise D (e.g. D + floor).")
    return D


def potential_on_cells(potential, grid: Grid) -> np.ndarray:
    U = evaluate(potential, grid.coords, grid.shape, "potential")
    check_finite(U, grid.coords, "potential")
    return U


def drift_on_faces(drift, grid: Grid) -> list:
    """Normal drift component on the faces along each axis, padded to the grid shape.

    Entry k along ``axis`` is the face between cells k and k+1; on a non-periodic axis the last
    entry is a wall and holds 0.
    """
    out = []
    for axis in range(grid.ndim):
        fc = grid.face_coords(axis)
        comp = _drift_component(drift, fc, grid.ndim, axis)
        check_finite(comp, fc, f"drift component {axis}")
        if not grid.periodic[axis]:
            pad = [(0, 0)] * grid.ndim
            pad[axis] = (0, 1)
            comp = np.pad(comp, pad)
        out.append(comp)
    return out


def drift_on_cells(drift, grid: Grid) -> list:
    return [_drift_component(drift, grid.coords, grid.ndim, a) for a in range(grid.ndim)]


def _drift_component(drift, coords, ndim, axis):
    val = _drift_tuple(drift, coords, ndim)
    return evaluate(val[axis], coords, coords[0].shape, f"drift component {axis}")


def _drift_tuple(drift, coords, ndim):
    """The user's drift evaluated at ``coords`` as a sequence of ndim components."""
    if callable(drift):
        try:
            val = drift(*coords)
        except Exception as exc:
            raise InputError(f"drift: calling it failed with {type(exc).__name__}: {exc}. It "
                             f"must accept {ndim} numpy arrays and return {ndim} arrays (one per "
                             f"axis).") from exc
    else:
        val = drift
    if ndim == 1 and not isinstance(val, (list, tuple)):
        val = [val]
    if len(val) != ndim:
        raise InputError(f"drift must return one array per axis ({ndim}); got {len(val)}.")
    return val
