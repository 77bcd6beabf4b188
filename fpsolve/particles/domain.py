"""The model's domain as particles see it: walls per axis and absorbing targets.

Walls (``model.boundary``, one per axis, on the grid's box):

- ``"reflecting"`` — a step that leaves the box is folded back (x → 2·lo − x, repeated: the
  fold of period 2L is exact for any overshoot), so every particle stays in the closed box. This
  is the symmetrised Euler scheme, weak order 1 for reflected diffusions.
- ``"periodic"`` — positions wrap onto [lo, hi).
- ``"absorbing"`` (accepted for forward compatibility) — a particle that steps out is removed.

Targets (first passage, or removal in :func:`~fpsolve.particles.simulate`): a box
``[(lo, hi), …]`` (closed) or a callable mask ``target(x₁, …, x_d) → bool array``. A particle is
counted as having hit at the first step whose end point lies in the target: with discrete
monitoring the hitting time is overestimated by O(sqrt(dt)) (the Brownian path may enter and
leave between steps); :func:`fpsolve.compare.monitoring_shift` gives the size of that bias.
"""
from __future__ import annotations

import math

import numpy as np
from ..jit import njit
from numba.core.registry import CPUDispatcher

from ..errors import InputError

REFLECTING, PERIODIC, ABSORBING = 0, 1, 2
WALL_CODES = {"reflecting": REFLECTING, "periodic": PERIODIC, "absorbing": ABSORBING}

# particle status codes
ALIVE, HIT_TARGET, HIT_WALL = 0, 1, 2


class Domain:
    """Box, wall codes and an optional target for a model.

    Attributes: ``ndim``, ``lo``/``hi`` (float arrays), ``kinds`` (int64 wall codes), ``box``
    ((ndim, 2) target box, or None), ``mask`` (callable target, or None), ``mask_jitted``.
    """

    def __init__(self, model, target=None):
        grid = model.grid
        self.ndim = grid.ndim
        self.lo = np.ascontiguousarray(grid.bounds[:, 0], dtype=float)
        self.hi = np.ascontiguousarray(grid.bounds[:, 1], dtype=float)
        kinds = []
        for a, kind in enumerate(getattr(model, "boundary", ("reflecting",) * self.ndim)):
            if kind not in WALL_CODES:
                raise InputError(f"particles: boundary {kind!r} on axis {a} is not supported; "
                                 f"use one of {tuple(WALL_CODES)}.")
            kinds.append(WALL_CODES[kind])
        self.kinds = np.asarray(kinds, dtype=np.int64)
        self.box = None
        self.mask = None
        self.mask_jitted = False
        if target is None:
            return
        if callable(target):
            self.mask = target
            self.mask_jitted = isinstance(target, CPUDispatcher)
            return
        try:
            box = np.asarray(target, dtype=float)
        except (TypeError, ValueError):
            box = None
        if box is not None and box.shape == (2,) and self.ndim == 1:
            box = box[None, :]
        if box is None or box.shape != (self.ndim, 2) or not np.all(box[:, 0] <= box[:, 1]):
            raise InputError(
                f"particles: target must be a callable mask target(x1, …) → bool array, or a box "
                f"[(lo, hi), …] with one (lo, hi) pair per axis ({self.ndim}) and lo ≤ hi; got "
                f"{target!r}. Use ±inf for a half-space, e.g. [(1.0, inf)].")
        self.box = np.ascontiguousarray(box)

    @property
    def box_array(self):
        """Target box for the kernels: (ndim, 2), or an empty box when there is none."""
        if self.box is not None:
            return self.box
        return np.tile(np.array([[np.inf, -np.inf]]), (self.ndim, 1))

    def check_inside(self, X, what="x0"):
        """Wrap periodic axes; raise if a point lies outside the box on a walled axis."""
        X = np.array(X, dtype=float)
        for a in range(self.ndim):
            if self.kinds[a] == PERIODIC:
                L = self.hi[a] - self.lo[a]
                X[:, a] = self.lo[a] + np.mod(X[:, a] - self.lo[a], L)
            else:
                bad = (X[:, a] < self.lo[a]) | (X[:, a] > self.hi[a])
                if np.any(bad):
                    raise InputError(
                        f"particles: {what} has {int(bad.sum())} point(s) outside the domain on "
                        f"axis {a} ([{self.lo[a]:g}, {self.hi[a]:g}]), e.g. "
                        f"{X[bad][0].tolist()}; start the particles inside the grid's box.")
        if not np.all(np.isfinite(X)):
            raise InputError(f"particles: {what} must be finite.")
        return X

    def in_target(self, X):
        """Boolean mask of the points (n, ndim) that lie in the target (numpy evaluation)."""
        n = len(X)
        if self.box is not None:
            return np.all((X >= self.box[:, 0]) & (X <= self.box[:, 1]), axis=1)
        if self.mask is not None:
            try:
                m = self.mask(*[X[:, a] for a in range(self.ndim)])
            except Exception as exc:
                raise InputError(f"particles: calling the target mask failed with "
                                 f"{type(exc).__name__}: {exc}. It is called as target(x1, …) with "
                                 f"one numpy array per axis and must return a bool array.") from exc
            m = np.asarray(m)
            if m.shape != (n,) or m.dtype != bool:
                try:
                    m = np.broadcast_to(np.asarray(m, dtype=bool), (n,))
                except ValueError:
                    raise InputError(f"particles: the target mask returned shape {m.shape}; "
                                     f"expected a bool array of shape ({n},).") from None
            return m
        return np.zeros(n, dtype=bool)


@njit(cache=True)
def apply_wall(x, lo, hi, kind):
    """Position after the wall on one axis and whether the particle was absorbed."""
    if x >= lo and x <= hi:
        if kind == PERIODIC and x == hi:
            return lo, False
        return x, False
    if not math.isfinite(x):  # a blown-up step: keep it visible (stability.check_finite)
        return math.nan, False
    if kind == ABSORBING:
        return x, True
    L = hi - lo
    if kind == PERIODIC:
        y = x - lo
        y = y - L * math.floor(y / L)
        if y >= L:
            y = 0.0
        return lo + y, False
    # reflecting: fold with period 2L, exact for any overshoot
    y = x - lo
    y = y - 2.0 * L * math.floor(y / (2.0 * L))
    if y > L:
        y = 2.0 * L - y
    return min(max(lo + y, lo), hi), False
