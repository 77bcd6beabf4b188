"""A user's drift b(x) (one array per axis) evaluated where the fluxes need it: at the face centres.

The scalar-diffusion scheme needs only the normal component on each face
(:func:`drift_on_faces`); the tensor scheme needs the whole vector there
(:func:`drift_vectors_on_faces`). A drift given as arrays on the cells is averaged onto the
faces. A drift that depends on time is evaluated at the time asked for (see
:func:`fpsolve.coefficients.evaluate.at_time`).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..geometry.grid import Grid
from .evaluate import check_finite, describe, evaluate

__all__ = ["drift_components", "drift_on_faces", "drift_on_cells", "drift_vectors_on_faces"]


def drift_components(drift, coords, ndim):
    """The user's drift evaluated at ``coords`` as a sequence of ``ndim`` components."""
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
    # a tuple/list of components may mix arrays and constants: only its length is checked here
    # (np.ndim would try to stack them); each component is evaluated on its own later
    count = len(val) if isinstance(val, (list, tuple)) else (None if np.ndim(val) == 0
                                                             else len(val))
    if count != ndim:
        names = ("x", "y", "z")[:ndim]
        raise InputError(f"drift must return one array per axis, {ndim} in all (e.g. lambda "
                         f"{', '.join(names)}: ({', '.join('-' + a for a in names)})); it "
                         f"returned {describe(val)}.")
    return val


def _component(drift, coords, ndim, axis):
    val = drift_components(drift, coords, ndim)
    return evaluate(val[axis], coords, coords[0].shape, f"drift component {axis}")


def drift_on_faces(drift, grid: Grid) -> list:
    """Normal drift component on the faces along each axis, padded to the grid shape.

    Entry k along ``axis`` is the face between cells k and k+1; on a non-periodic axis the last
    entry is a wall and holds 0.
    """
    out = []
    for axis in range(grid.ndim):
        fc = grid.face_coords(axis)
        comp = _component(drift, fc, grid.ndim, axis)
        check_finite(comp, fc, f"drift component {axis}")
        if not grid.periodic[axis]:  # the wall's face, appended as a zero
            full = np.zeros(grid.shape)
            full[(slice(None),) * axis + (slice(0, -1),)] = comp
            comp = full
        out.append(comp)
    return out


def drift_on_cells(drift, grid: Grid) -> list:
    """The drift's components on the cell centres (one array of the grid shape per axis)."""
    return [_component(drift, grid.coords, grid.ndim, a) for a in range(grid.ndim)]


def drift_vectors_on_faces(drift, grid: Grid) -> list:
    """The whole drift vector at the face centres: a list over axes a of arrays (d, *shape),
    entry k the face k | k+e_a (zero on a wall). A callable is evaluated at the faces; d arrays
    on the cells are averaged onto them."""
    d, shape = grid.ndim, grid.shape
    out = []
    if callable(drift):
        for a in range(d):
            fc = grid.face_coords(a)
            vals = drift_components(drift, fc, d)
            b = np.array([evaluate(v, fc, fc[0].shape, f"drift component {i}")
                          for i, v in enumerate(vals)])
            check_finite(b.sum(axis=0), fc, f"drift at the faces normal to axis {a}")
            if not grid.periodic[a]:
                pad = [(0, 0)] * (d + 1)
                pad[a + 1] = (0, 1)
                b = np.pad(b, pad)
            out.append(b)
        return out
    cells = np.array(drift_on_cells(drift, grid))
    check_finite(cells.sum(axis=0), grid.coords, "drift")
    for a in range(d):
        up = np.roll(cells, -1, axis=a + 1)
        b = 0.5 * (cells + up)
        if not grid.periodic[a]:
            edge = [slice(None)] * (d + 1)
            edge[a + 1] = -1
            b[tuple(edge)] = 0.0
        out.append(b)
    if any(len(v) != d for v in out) or cells.shape != (d,) + shape:
        raise InputError(f"drift: expected {d} arrays of the grid shape {shape}.")
    return out
