"""Absorbing sets of the position: first passage of X, whatever the velocity.

A first-passage time of the kinetic process is τ = inf{t : X_t ∈ A} for a set A of positions:
the velocity is free. A set is given as

- a callable mask ``f(x) → bool array`` of the position alone (evaluated on the x cell centres),
- an interval ``(lo, hi)`` of positions (``None`` or ±inf for an open side), containing the x
  cells whose centres lie in it,
- a boolean array over the x cells (nx,), or over the phase-space cells (nx, nv) provided it is
  the same for every velocity.

A mask that depends on v (a callable f(x, v), an array that differs between velocities) is
refused with :class:`~fpsolve.errors.InputError`: for a set that depends on the velocity the
boundary condition is not the one of a first passage of the position.

Discrete convention: the process is killed when it crosses the x-face into a target cell, i.e.
the absorbing boundary is the face where the target cells begin (X has continuous paths and
crosses it with the velocity pointing into the target). To put it at a point c exactly, choose
the x-grid so that c is a face (a cell edge).
"""
from __future__ import annotations

import inspect

import numpy as np

from ..errors import InputError


def _n_positional(f):
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return None
    params = [p for p in sig.parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    return len(params)


def position_mask(grid, spec, what: str = "target") -> np.ndarray:
    """Boolean mask over the x cells (nx,) of the set of positions described by ``spec``."""
    nx, nv = grid.shape
    x = grid.axes[0]
    if callable(spec):
        nargs = _n_positional(spec)
        if nargs is not None and nargs >= 2:
            X, V = grid.coords
            try:
                val = np.broadcast_to(np.asarray(spec(X, V)), (nx, nv))
            except Exception as exc:
                raise InputError(f"{what}: calling the mask as f(x, v) failed with "
                                 f"{type(exc).__name__}: {exc}. Give f(x), a function of the "
                                 f"position only.") from exc
            mask = _constant_along_v(val, what)
        else:
            try:
                val = spec(x)
            except Exception as exc:
                raise InputError(f"{what}: calling the mask failed with {type(exc).__name__}: "
                                 f"{exc}. It is called as f(x) with the numpy array of the {nx} "
                                 f"x cell centres and must return booleans, e.g. "
                                 f"lambda x: x > 1.") from exc
            mask = np.broadcast_to(np.asarray(val), (nx,))
        if mask.dtype != bool:
            if not np.all(np.isin(mask, (0, 1))):
                raise InputError(f"{what}: the mask must return booleans; got dtype {mask.dtype}.")
            mask = mask.astype(bool)
    else:
        arr = np.asarray(spec)
        if arr.dtype == bool:
            if arr.shape == (nx,):
                mask = arr
            elif arr.shape == (nx, nv):
                mask = _constant_along_v(arr, what)
            elif arr.size == nx * nv:
                mask = _constant_along_v(arr.reshape(nx, nv), what)
            else:
                raise InputError(f"{what}: boolean array of shape {arr.shape}; give one value per "
                                 f"x cell ({nx},) or per phase-space cell ({nx}, {nv}).")
        else:
            mask = _interval(x, spec, what)
    mask = np.array(mask, dtype=bool)
    if not mask.any():
        raise InputError(f"{what}: no x cell centre lies in the set. Enlarge it or refine the "
                         f"x-grid (spacing {grid.h[0]:g}).")
    if mask.all():
        raise InputError(f"{what}: the set covers every position of the grid; nothing is left to "
                         f"escape from.")
    return mask


def _constant_along_v(val, what):
    val = np.asarray(val)
    if not np.all(val == val[:, :1]):
        i = int(np.argmax(np.any(val != val[:, :1], axis=1)))
        raise InputError(f"{what}: the set depends on the velocity (x cell {i} is partly in it). "
                         f"First-passage targets here are sets of positions — the first time X "
                         f"enters A, with any velocity; give f(x) or an interval (lo, hi) of x.")
    return val[:, 0]


def _interval(x, spec, what):
    try:
        items = list(spec)
    except TypeError:
        raise InputError(f"{what}: give a callable f(x) → bool, an interval (lo, hi) of "
                         f"positions or a boolean array over the x cells; got "
                         f"{type(spec).__name__}.") from None
    if len(items) != 2 or any(not (v is None or np.ndim(v) == 0) for v in items):
        raise InputError(f"{what}: an interval is a pair (lo, hi) of positions (None or ±inf for "
                         f"an open side); got {spec!r}. A box in (x, v) is not a first-passage "
                         f"target of the position.")
    lo = -np.inf if items[0] is None else float(items[0])
    hi = np.inf if items[1] is None else float(items[1])
    if not lo <= hi:
        raise InputError(f"{what}: interval has lo={lo} > hi={hi}.")
    return (x >= lo) & (x <= hi)


def phase_point(grid, point, what="start"):
    """Flat index of the phase-space cell containing (x, v)."""
    pt = np.asarray(point, dtype=float).ravel()
    if pt.size != 2:
        raise InputError(f"{what}: a phase-space point is (x, v); got {point!r}.")
    if not grid.contains(pt)[0]:
        raise InputError(f"{what}: point {tuple(pt)} lies outside the grid {grid!r}.")
    i, j = grid.cell_index(pt)[0]
    return int(i * grid.shape[1] + j)
