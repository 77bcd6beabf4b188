"""One record of an SDE's coefficients on a grid, evaluated once and checked once.

The model (:class:`fpsolve.FokkerPlanck`) builds it from the user's input; the discretisation
(:mod:`fpsolve.numerics`), the escape solvers, the particles (Numba and torch) and the FiPy
cross-check read it; nobody changes it afterwards.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..conventions import alpha_of
from ..errors import InputError
from ..geometry.grid import Grid
from . import pointwise
from .drift import drift_on_faces, drift_vectors_on_faces
from .evaluate import at_time, potential_on_cells, scalar_diffusion, takes_time
from .mapped import computational_coefficients
from .schedules import Schedule, as_schedule
from .tensor import check_tensor, classify_diffusion, is_tensor, tensor_field

__all__ = ["Coefficients", "UserCoefficients"]

#: time-dependent coefficients evaluated at this many distinct times are kept (oldest dropped)
KEEP_TIMES = 64


@dataclass(frozen=True)
class UserCoefficients:
    """The coefficients as the user gave them (callables, numbers or arrays): what particle
    kernels compile (``numba.njit``) or evaluate on tensors (torch). ``gradient``: the exact ∇U,
    used wherever the drift is needed pointwise (else central differences of U)."""

    potential: Any = None
    drift: Any = None
    diffusion: Any = 1.0
    gradient: Any = None


@dataclass(frozen=True, eq=False)
class Coefficients:
    """The SDE dX = b(X, t) dt + sqrt(2 s(t) D(X)) dW on ``grid``, in ``convention``.

    U : the potential on the cells at t = 0 (b = −∇U), or None. D : scalar D on the cells (grid
    shape) or a tensor (d, d, *shape), checked positive (definite), floored where asked
    (``floored_cells`` says where). drift_faces : the normal drift on the faces (scalar scheme;
    t = 0) or None; drift_vectors : the whole drift vector on the faces (tensor scheme; t = 0) or
    None. time_dependent : the potential or the drift takes ``t``; :meth:`at` gives them at
    another time. :meth:`drift` and :meth:`diffusion` give the coefficients at any points (the
    Itô drift: the convention's correction included), for particles.
    """

    grid: Grid
    user: UserCoefficients
    convention: str
    alpha: float
    schedule: Schedule
    floor: float | None
    tensor: bool
    D: np.ndarray
    floored_cells: int
    U: np.ndarray | None
    drift_faces: list | None
    drift_vectors: list | None
    time_dependent: bool
    _at: dict = field(default_factory=dict, repr=False)

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def build(cls, grid: Grid, potential=None, drift=None, diffusion=1.0, convention="ito",
              schedule=None, floor=None, gradient=None) -> "Coefficients":
        """Evaluate and check everything (raises :class:`~fpsolve.errors.InputError` naming the
        coefficient and the first bad point)."""
        if not isinstance(grid, Grid):
            raise InputError(f"FokkerPlanck: grid must be an fpsolve.Grid; got "
                             f"{type(grid).__name__}.")
        if potential is not None and drift is not None:
            raise InputError("FokkerPlanck: give either potential= (drift −∇U) or drift=, not "
                             "both.")
        if gradient is not None and potential is None:
            raise InputError("FokkerPlanck: gradient= is the exact ∇U of a potential=; give the "
                             "potential too.")
        if floor is not None and not (np.isscalar(floor) and np.isfinite(floor) and floor > 0):
            raise InputError(f"FokkerPlanck: floor must be a positive number (an eigenvalue "
                             f"floor in units of D); got {floor!r}.")
        alpha = alpha_of(convention)
        if grid.mapped:
            return cls._build_mapped(grid, potential, drift, diffusion, convention, alpha,
                                     schedule, floor, gradient)
        if takes_time(diffusion, grid.ndim):
            raise InputError("FokkerPlanck: a time-dependent diffusion is D(x, t) = s(t)·D(x): "
                             "pass D(x) as diffusion= and s(t) as schedule=.")
        tensor, on_cells = classify_diffusion(diffusion, grid)
        if tensor and grid.ndim == 1:  # a 1×1 "tensor" is a scalar
            diffusion, tensor, on_cells = _scalar_from_1x1(diffusion), False, None
        floored = 0
        if tensor:
            D, floored = check_tensor(tensor_field(diffusion, grid), grid, floor)
            if D is diffusion:  # the user's own array: keep a copy of it
                D = D.copy()
        else:
            # a callable's array on the cells is checked as it stands (not called again)
            reuse = callable(diffusion) and isinstance(on_cells, np.ndarray)
            D = scalar_diffusion(on_cells if reuse else diffusion, grid)
        time_dependent = takes_time(potential, grid.ndim) or takes_time(drift, grid.ndim)
        U = (potential_on_cells(at_time(potential, 0.0, grid.ndim), grid)
             if potential is not None else None)
        faces = vectors = None
        if drift is not None:
            b0 = at_time(drift, 0.0, grid.ndim)
            if tensor:
                vectors = drift_vectors_on_faces(b0, grid)
            else:
                faces = drift_on_faces(b0, grid)
        user = UserCoefficients(potential, drift, diffusion, gradient)
        return cls(grid, user, convention, alpha, as_schedule(schedule), floor, tensor, D,
                   floored, U, faces, vectors, time_dependent)

    @classmethod
    def _build_mapped(cls, grid, potential, drift, diffusion, convention, alpha, schedule, floor,
                      gradient):
        if takes_time(diffusion, 1):
            raise InputError("FokkerPlanck: a time-dependent diffusion is not supported on a "
                             "grid with an infinite end.")
        if is_tensor(diffusion, grid):
            diffusion = _scalar_from_1x1(diffusion)
        W, Dy = computational_coefficients(grid, potential=potential, drift=drift,
                                           diffusion=diffusion, alpha=alpha, schedule=schedule)
        user = UserCoefficients(potential, drift, diffusion, gradient)
        return cls(grid, user, convention, alpha, as_schedule(None), floor, False, Dy, 0, W,
                   None, None, False)

    # -- time dependence ------------------------------------------------------------------------
    def at(self, t: float):
        """(U, drift_faces, drift_vectors) at time t: the stored ones unless the potential or
        the drift depends on time (then evaluated at t, checked, and kept for reuse)."""
        if not self.time_dependent or t == 0.0:
            return self.U, self.drift_faces, self.drift_vectors
        key = float(t)
        if key not in self._at:
            if len(self._at) >= KEEP_TIMES:
                self._at.pop(next(iter(self._at)))
            user, grid = self.user, self.grid
            U = potential_on_cells(at_time(user.potential, key, grid.ndim), grid) \
                if user.potential is not None else None
            faces = vectors = None
            if user.drift is not None:
                b = at_time(user.drift, key, grid.ndim)
                if self.tensor:
                    vectors = drift_vectors_on_faces(b, grid)
                else:
                    faces = drift_on_faces(b, grid)
            self._at[key] = (U, faces, vectors)
        return self._at[key]

    # -- pointwise, for particles -----------------------------------------------------------------
    def drift(self, X, t=0.0) -> np.ndarray:
        """Itô drift at points X (n, ndim) → (n, ndim) (see :mod:`.pointwise`)."""
        self._pointwise()
        return pointwise.drift(self, X, t)

    def diffusion(self, X, t=0.0) -> np.ndarray:
        """s(t)·D at points X (n, ndim): (n,) for a scalar D, (n, d, d) for a tensor."""
        self._pointwise()
        return pointwise.diffusion(self, X, t)

    def _pointwise(self):
        if self.grid.mapped:  # particles would run in x inside the box of y: refuse
            raise InputError("The pointwise coefficients (particles, drift_at, diffusion_at) "
                             "are not available on a grid with an infinite end: its box is "
                             "that of the computational coordinate y. Simulate particles on a "
                             "finite grid, or evaluate the drift and diffusion you gave "
                             "directly.")


def _scalar_from_1x1(diffusion):
    """A 1×1 matrix, a (1, 1, n) field or a callable returning one, as a scalar diffusion."""
    if callable(diffusion):
        return lambda x: np.asarray(diffusion(x), dtype=float).reshape(-1, *np.shape(x))[0]
    return np.asarray(diffusion, dtype=float)[0, 0]
