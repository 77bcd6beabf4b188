"""Rates read off a sequence of runs: least-squares slopes and observed orders of convergence.

Used by the validation cases and the tests to turn errors at several resolutions, or escape
times at several noise levels, into the exponent a theorem predicts."""
from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["slope", "observed_order"]


def slope(x, y) -> float:
    """Least-squares slope of ``y`` against ``x`` (at least two points)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size < 2 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InputError(f"slope: need two or more finite (x, y) pairs of equal length; got "
                         f"x {x.tolist()}, y {y.tolist()}.")
    return float(np.polyfit(x, y, 1)[0])


def observed_order(h, errors) -> float:
    """Observed order p of errors ≈ C·hᵖ: the least-squares slope of log|error| against log h.

    h : grid spacings (or any resolution parameter that goes to 0); errors : the errors there,
    non-zero. For a second-order scheme in its asymptotic range p ≈ 2."""
    h, e = np.asarray(h, dtype=float), np.abs(np.asarray(errors, dtype=float))
    if np.any(h <= 0) or np.any(e == 0):
        raise InputError("observed_order: spacings must be positive and errors non-zero.")
    return slope(np.log(h), np.log(e))
