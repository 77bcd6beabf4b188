"""Evaluating a user's coefficient on arrays of points, and the checks every coefficient gets.

Callables take the coordinates as separate positional arrays, ``f(x)`` in 1D, ``f(x, y)`` in 2D,
``f(x, y, z)`` in 3D, and must work on numpy arrays (they are called on whole meshgrids — never
per cell). A potential or a drift may also depend on time: one parameter more than the
coordinates, named ``t`` (``lambda x, t: …`` in 1D), makes it time-dependent (:func:`takes_time`). Every check here raises
:class:`~fpsolve.errors.InputError` naming the first offending point.
"""
from __future__ import annotations

import inspect
import math
import numbers
import types
import warnings

import numpy as np

from ..errors import InputError, InputWarning
from ..geometry.grid import Grid

__all__ = ["evaluate", "check_finite", "where", "describe", "scalar_diffusion",
           "potential_on_cells", "warn_if_not_periodic", "takes_time", "at_time"]


def where(coords, mask) -> str:
    """'at x=(...)' for the first True entry of ``mask``, plus how many entries are bad."""
    idx = tuple(np.argwhere(mask)[0])
    x = tuple(float(c[idx]) for c in coords)
    pt = f"{x[0]:.6g}" if len(x) == 1 else "(" + ", ".join(f"{v:.6g}" for v in x) + ")"
    return f"at x={pt} ({int(mask.sum())} point(s) in all)"


def describe(value) -> str:
    """What a user's function returned, in words: 'a tuple of 3 arrays of shape (4,)', ..."""
    if isinstance(value, (list, tuple)):
        kinds = {_kind(v, plural=len(value) != 1) for v in value}
        inner = kinds.pop() if len(kinds) == 1 else "items of mixed kinds"
        return f"a {type(value).__name__} of {len(value)} {inner}"
    return ("a " if np.ndim(value) == 0 else "an ") + _kind(value)


def _kind(value, plural=False) -> str:
    s = "s" if plural else ""
    if np.ndim(value) == 0:
        return f"number{s}" if plural else f"number ({value!r})"
    return f"array{s} of shape {np.shape(value)}"


def takes_time(f, ndim: int) -> bool:
    """Whether a coefficient depends on time: a callable with one parameter more than the
    coordinates, named ``t`` (``lambda x, t: …`` in 1D, ``lambda x, y, t: …`` in 2D), or a
    keyword-only ``t``. A 1D loss written ``lambda t: …`` (t for θ) is not time-dependent."""
    if not callable(f):
        return False
    if type(f) is types.FunctionType:
        # a plain function (def or lambda): its code object names the parameters, the same
        # ones inspect.signature lists, without building a Signature (a tenth of a
        # millisecond; several per model, the cost of a whole small 1D solve)
        code = f.__code__
        names = code.co_varnames
        kwonly = names[code.co_argcount:code.co_argcount + code.co_kwonlyargcount]
        return "t" in kwonly or (code.co_argcount == ndim + 1
                                 and names[code.co_argcount - 1] == "t")
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):  # builtins, some compiled functions: no signature
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.name == "t" and p.kind == p.KEYWORD_ONLY for p in params):
        return True
    return len(positional) == ndim + 1 and positional[-1].name == "t"


def at_time(f, t: float, ndim: int):
    """The coefficient at time ``t``: ``f`` itself unless it takes ``t``."""
    if not takes_time(f, ndim):
        return f
    return lambda *coords: f(*coords, t=t)


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
    """Raise when ``arr`` (values at ``coords``) is NaN or infinite somewhere."""
    finite = np.isfinite(arr)
    if finite.all():  # the method, not np.all: this runs on every coefficient of every model
        return
    bad = ~finite
    raise InputError(f"{what} is not finite {where(coords, bad)}: value "
                     f"{arr[tuple(np.argwhere(bad)[0])]}. Restrict the grid to where it is "
                     f"defined, or fix the expression.")


def scalar_diffusion(diffusion, grid: Grid, coords=None, what="diffusion") -> np.ndarray:
    """Positive scalar diffusion on the cells (or on ``coords``); raises if ≤ 0, NaN or inf."""
    coords = grid.coords if coords is None else coords
    if type(diffusion) is float and 0.0 < diffusion < math.inf:
        # a positive finite number: its array passes every check below (3 µs, measured)
        return np.full(coords[0].shape, float(diffusion))
    if isinstance(diffusion, numbers.Number) and not isinstance(diffusion, bool):
        if not np.isfinite(diffusion) or diffusion <= 0:
            raise InputError(f"{what} must be a positive finite number; got {diffusion}.")
    D = evaluate(diffusion, coords, coords[0].shape, what)
    check_finite(D, coords, what)
    bad = D <= 0
    if bad.any():
        raise InputError(
            f"{what} must be positive everywhere on the grid; it is "
            f"{D[tuple(np.argwhere(bad)[0])]:.3g} {where(coords, bad)}. Shrink the grid to where "
            f"D > 0, or regularise D (e.g. D + floor).")
    return D


def potential_on_cells(potential, grid: Grid) -> np.ndarray:
    """U on the cell centres, finite; warns when it jumps across the seam of a periodic axis."""
    U = evaluate(potential, grid.coords, grid.shape, "potential")
    check_finite(U, grid.coords, "potential")
    for axis in range(grid.ndim):
        if grid.periodic[axis]:
            warn_if_not_periodic(U, grid, axis)
    return U


def warn_if_not_periodic(U, grid: Grid, axis: int, factor=3.0):
    """Warn when U jumps across the seam of a periodic axis (e.g. U = x, or a tilt F·x).

    The flux would read such a U as a sawtooth: a cliff at the seam instead of a constant
    force. For a continuous periodic U the step across the seam is close to the mean of its
    neighbouring steps (a kink changes it by less than their size); a jump makes it larger
    than ``factor`` times their size."""
    V = np.moveaxis(U, axis, 0)
    if V.shape[0] < 4:
        return
    seam, left, right = V[0] - V[-1], V[-1] - V[-2], V[1] - V[0]
    excess = np.abs(seam - 0.5 * (left + right))
    allowed = factor * 0.5 * (np.abs(left) + np.abs(right)) + 1e-9 * (np.max(np.abs(V)) + 1.0)
    if np.any(excess > allowed):
        k = np.unravel_index(np.argmax(excess - allowed), excess.shape)
        lo, hi = grid.bounds[axis]
        warnings.warn(
            f"potential: axis {axis} is periodic but the potential is not: it jumps by "
            f"{float(seam[k]):.3g} across the seam {lo:g} ≡ {hi:g}, where neighbouring cells "
            f"differ by {float(left[k]):.3g} and {float(right[k]):.3g}. fpsolve reads it as a "
            f"sawtooth with a cliff at the seam. For a tilted periodic landscape U₀(x) − F·x, "
            f"pass the force instead: drift=lambda x: -dU0(x) + F (and no potential=).",
            InputWarning, stacklevel=5)
