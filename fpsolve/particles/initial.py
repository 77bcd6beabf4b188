"""Initial positions: a point, an array of points, or a Density to sample from."""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..fields.field import Field


def sample_density(density, n, rng):
    """n points from a density on its grid: a cell with probability p·vol, then uniform in it.

    The result's law is exactly the piecewise-constant density that the Density represents.
    """
    g = density.grid
    w = np.asarray(density.values, dtype=float).ravel()
    if np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
        raise InputError("particles: the initial density must be finite, non-negative and have "
                         "positive mass.")
    cells = rng.choice(w.size, size=n, p=w / w.sum())
    idx = np.stack(np.unravel_index(cells, g.shape), axis=-1)
    u = rng.random((n, g.ndim))
    return g.bounds[:, 0] + (idx + u) * g.h


def initial_positions(x0, n, model, rng):
    """(n, d) float array of starting points; ``n`` may be None for an array of points."""
    g = model.grid
    d = g.ndim
    if isinstance(x0, Field):
        if x0.grid != g:
            raise InputError("particles: the initial Density lives on a different grid than the "
                             "model; resample it onto model.grid first.")
        if n is None:
            raise InputError("particles: give n, the number of particles to sample from x0.")
        return sample_density(x0, int(n), rng)
    try:
        arr = np.asarray(x0, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"particles: x0 must be a point, an (n, {d}) array of points or a "
                         f"Density; got {type(x0).__name__}.") from None
    if arr.ndim == 0 and d > 1:
        raise InputError(f"particles: x0 = {float(arr)} is a number but the model is {d}D; give "
                         f"a point with {d} coordinates.")
    if arr.ndim == 0 or (arr.ndim == 1 and arr.size == d and (d > 1 or arr.size == 1)):
        if n is None:
            raise InputError("particles: give n, the number of particles started at the point x0.")
        return np.tile(arr.reshape(1, d), (int(n), 1))
    if d == 1 and arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] != d:
        raise InputError(f"particles: x0 has shape {arr.shape}; a point has shape ({d},), an "
                         f"array of points ({'n' if n is None else n}, {d}).")
    if n is not None and int(n) != len(arr):
        raise InputError(f"particles: x0 holds {len(arr)} points but n = {n}; pass n=None to use "
                         f"them all.")
    return arr.copy()
