"""How a particle run is cut into steps: each interval between output times is split into equal
steps no longer than ``dt``, so that every output time is a step end (shared by the Numba and the
torch backends)."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["steps_for", "plan"]


def steps_for(interval: float, dt: float) -> int:
    """Number of equal steps ≤ dt that cover ``interval`` (0 for an empty interval)."""
    if interval <= 0:
        return 0
    return max(1, int(math.ceil(interval / dt * (1 - 1e-12))))


def plan(out_t, dt) -> list:
    """[(steps, start, end)] for the intervals from t = 0 to each output time in turn."""
    prev = np.r_[0.0, np.asarray(out_t, dtype=float)[:-1]]
    return [(steps_for(b - a, dt), a, b) for a, b in zip(prev, out_t)]
