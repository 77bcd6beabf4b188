"""Time dependence of the diffusion: D(x, t) = s(t) · D(x).

For SGD with learning-rate and batch-size schedules, D(x, t) = (η(t) / (2 B(t))) · Σ₁(x), so
s(t) = (η(t)/B(t)) / (η₀/B₀) relative to the reference (η₀, B₀) used to build D(x); see
:func:`fpsolve.sgd.model`. Time is SDE time t = k·η.

A schedule is a positive function of t with a list of ``breakpoints`` where it may jump, and a
flag ``piecewise_constant``. Time stepping steps exactly onto every breakpoint; between
breakpoints a piecewise-constant schedule keeps one generator (no refactorisation), a smooth one
is frozen at each step's midpoint (second order, refactorising every step).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError


class Schedule:
    """s(t) > 0: call it with a time. Subclasses set ``breakpoints`` and ``piecewise_constant``."""

    breakpoints: np.ndarray = np.zeros(0)
    piecewise_constant: bool = False

    def __call__(self, t: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def check(self, t_end: float):
        """Raise unless s(t) is finite and positive at the breakpoints and on a grid to t_end."""
        ts = np.concatenate([np.linspace(0.0, t_end, 33), self.breakpoints[self.breakpoints <= t_end]])
        vals = np.array([self(t) for t in ts])
        bad = ~(np.isfinite(vals) & (vals > 0))
        if np.any(bad):
            raise InputError(f"schedule: s(t) = {vals[bad][0]} at t = {ts[bad][0]:g}; a diffusion "
                             f"schedule must be finite and positive.")


class Constant(Schedule):
    """s(t) = value for all t (the default: value 1, no time dependence)."""

    piecewise_constant = True

    def __init__(self, value=1.0):
        self.value = float(value)

    def __call__(self, t):
        return self.value

    def check(self, t_end: float):
        """One value to check (the general check samples s at 33 times)."""
        if not (np.isfinite(self.value) and self.value > 0):
            raise InputError(f"schedule: s(t) = {self.value} at t = 0; a diffusion schedule must "
                             f"be finite and positive.")


class PiecewiseConstant(Schedule):
    """s(t) = values[i] for breakpoints[i−1] ≤ t < breakpoints[i] (len(values) = len(breakpoints)+1).

    Example: batch 128 → 2048 at t = 5 gives ``PiecewiseConstant([5.0], [1.0, 128 / 2048])``.
    """

    piecewise_constant = True

    def __init__(self, breakpoints, values):
        bp = np.atleast_1d(np.asarray(breakpoints, dtype=float))
        vals = np.atleast_1d(np.asarray(values, dtype=float))
        if vals.size != bp.size + 1:
            raise InputError(f"PiecewiseConstant: {bp.size} breakpoints need {bp.size + 1} values; "
                             f"got {vals.size}.")
        if np.any(np.diff(bp) <= 0) or np.any(bp <= 0):
            raise InputError("PiecewiseConstant: breakpoints must be positive and increasing.")
        if not np.all(np.isfinite(vals) & (vals > 0)):
            raise InputError(f"PiecewiseConstant: values must be positive and finite; got {vals}.")
        self.breakpoints = bp
        self.values = vals

    def __call__(self, t):
        return float(self.values[np.searchsorted(self.breakpoints, t, side="right")])


class Function(Schedule):
    """A user callable s(t), smooth between optional ``breakpoints``."""

    def __init__(self, f, breakpoints=()):
        if not callable(f):
            raise InputError("schedules.Function needs a callable s(t).")
        self.f = f
        self.breakpoints = np.sort(np.atleast_1d(np.asarray(breakpoints, dtype=float)))

    def __call__(self, t):
        return float(self.f(t))


class Annealing(Function):
    """Hu et al. §5 annealing, s(t) = γ / log(2 + t) (a temperature decreasing like 1/log t).

    s multiplies the model's base diffusion: Proposition 2's D(s) = γ / (2 log(2 + s)) (see
    :func:`fpsolve.theory.hu_li.annealing_diffusion`) needs base diffusion ½, not 1.
    """

    def __init__(self, gamma=1.0):
        if not gamma > 0:
            raise InputError(f"Annealing: gamma must be positive; got {gamma}.")
        self.gamma = float(gamma)
        super().__init__(lambda t: self.gamma / np.log(2.0 + t))


def as_schedule(s) -> Schedule:
    """A Schedule from None (constant 1), a Schedule, or a callable s(t) (a smooth schedule)."""
    if s is None:
        return Constant(1.0)
    if isinstance(s, Schedule):
        return s
    if callable(s):
        return Function(s)
    raise InputError(f"schedule must be an fpsolve schedule or a callable s(t); got {type(s).__name__}.")
