"""Absorbing sets on a grid: from a user's description to a boolean mask of cells.

A set of cells is described by

- a callable mask ``f(x1, …, xd) → bool array`` evaluated once on the cell centres,
- a box ``[(lo, hi), …]`` (one closed interval per axis; ``None`` or ±inf for an open side),
  containing the cells whose *centres* lie in it,
- a boolean array of the grid's shape (used as given), or
- a :class:`~fpsolve.fields.field.Field` whose non-zero values mark the set.

Dirichlet convention for these cell sets: a removed (absorbing) cell is killed as soon as the
process jumps into it, so the absorbing boundary of the continuum problem sits at the *centres*
of the first target cells, an O(h) error unless the grid puts a centre on the edge. To put the
Dirichlet condition on the true edge of a set wherever it lies (second order), describe the set
in space instead: :class:`~fpsolve.escape.regions.HalfSpace`, ``Box``, ``Ball``, ``LevelSet``,
``Wall`` (:mod:`.regions`, :mod:`.absorption`).
"""
from __future__ import annotations

import numbers

import numpy as np

from ..errors import InputError
from ..fields.field import Field
from ..geometry.grid import Grid


def as_mask(grid: Grid, spec, what: str = "target", allow_empty: bool = False) -> np.ndarray:
    """Boolean mask (grid shape) of the cells described by ``spec``; raises if it is empty
    (unless ``allow_empty``)."""
    if isinstance(spec, Field):
        if spec.grid != grid:
            raise InputError(f"{what}: the Field lives on a different grid than the model.")
        mask = np.asarray(spec.values != 0)
    elif callable(spec):
        try:
            val = spec(*grid.physical_coords)
        except Exception as exc:
            raise InputError(
                f"{what}: calling the mask failed with {type(exc).__name__}: {exc}. It is called "
                f"as f({', '.join('x' + str(i + 1) for i in range(grid.ndim))}) with numpy arrays "
                f"of shape {grid.shape} (the cell centres) and must return a boolean array, e.g. "
                f"lambda x, y: x > 0.5.") from exc
        mask = np.broadcast_to(np.asarray(val), grid.shape)
        if mask.dtype != bool:
            if not np.all(np.isin(mask, (0, 1))):
                raise InputError(f"{what}: the mask must return booleans; got values of dtype "
                                 f"{mask.dtype}.")
            mask = mask.astype(bool)
    else:
        arr = np.asarray(spec)
        if arr.dtype == bool:
            if arr.shape != grid.shape and arr.size == grid.size:
                arr = arr.reshape(grid.shape)
            if arr.shape != grid.shape:
                raise InputError(f"{what}: boolean array of shape {arr.shape} does not match the "
                                 f"grid shape {grid.shape}.")
            mask = arr
        else:
            mask = _box_mask(grid, spec, what)
    mask = np.array(mask, dtype=bool)
    if not mask.any() and not allow_empty:
        raise InputError(f"{what}: no cell centre lies in the set. Enlarge it or refine the grid "
                         f"(spacing {tuple(float(h) for h in grid.h)}).")
    return mask


def _box_mask(grid: Grid, spec, what):
    try:
        if (grid.ndim == 1 and len(spec) == 2
                and all(v is None or np.ndim(v) == 0 for v in spec)):
            box = [tuple(spec)]  # (lo, hi) for a 1D grid
        else:
            box = [tuple(iv) if iv is not None else (None, None) for iv in spec]
    except TypeError:
        raise InputError(f"{what}: give a callable mask f(x1, …) → bool array, a box "
                         f"[(lo, hi), …] with one interval per axis, or a boolean array; got "
                         f"{type(spec).__name__}.") from None
    if len(box) != grid.ndim or any(len(iv) != 2 for iv in box):
        raise InputError(f"{what}: a box needs one (lo, hi) pair per axis ({grid.ndim}); got "
                         f"{spec!r}. Use None or ±inf for an open side.")
    mask = np.ones(grid.shape, dtype=bool)
    for a, (lo, hi) in enumerate(box):
        lo = -np.inf if lo is None else float(lo)
        hi = np.inf if hi is None else float(hi)
        if not lo <= hi:
            raise InputError(f"{what}: box axis {a} has lo={lo} > hi={hi}.")
        x = grid.physical_coords[a]
        mask &= (x >= lo) & (x <= hi)
    return mask


def index_map(removed: np.ndarray) -> np.ndarray:
    """Row/column number of each kept cell (flat C order), −1 for removed cells."""
    r = np.asarray(removed, dtype=bool).ravel()
    idx = np.full(r.size, -1, dtype=np.int64)
    idx[~r] = np.arange(int((~r).sum()), dtype=np.int64)
    return idx


def is_point(grid: Grid, spec) -> bool:
    """Whether ``spec`` reads as one point: a number on a 1D grid, or ndim numbers."""
    if callable(spec) or isinstance(spec, Field):
        return False

    def real(v):
        return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))

    if real(spec):
        return grid.ndim == 1
    try:
        vals = list(spec)
    except TypeError:
        return False
    return len(vals) == grid.ndim and all(real(v) for v in vals)


def point_cell(grid: Grid, x) -> int:
    """Flat index of the cell containing the point ``x`` (a number in 1D)."""
    pts = np.asarray(x, dtype=float).reshape(-1)
    if pts.size != grid.ndim:
        raise InputError(f"start point {x!r} has {pts.size} coordinates; the grid has "
                         f"{grid.ndim}.")
    pts = grid.to_computational(pts)
    if not grid.contains(pts)[0]:
        raise InputError(f"start point {pts.tolist()} lies outside the grid {grid!r}.")
    return int(np.ravel_multi_index(tuple(grid.cell_index(pts)[0]), grid.shape))
