r"""Anderson acceleration of a fixed-point iteration x ↦ T(x) (here: one gMAM step).

gMAM (:mod:`.gmam`) is a damped fixed-point iteration: with its pseudo-time step Δτ held fixed,
each step maps the path φ to T(φ), and the discrete minimum-action paths are the fixed points.
Its error decays like a linear iteration's, one factor per mode, and on a stiff drift the slow
modes decay slowly however good the damping. Anderson acceleration (Anderson, J. ACM 12, 1965;
Walker & Ni, SIAM J. Numer. Anal. 49, 2011) combines the last m steps: with fₖ = T(xₖ) − xₖ and
the differences ΔX = [xₖ₋ₘ₊₁ − xₖ₋ₘ, …], ΔF likewise,

    γ = argmin ‖fₖ − ΔF γ‖₂,      xₖ₊₁ = xₖ + fₖ − (ΔX + ΔF) γ.

On a linear iteration this is GMRES applied to the preconditioned residual (Walker & Ni, §2), so
the slow modes that a plain step barely moves are found from the history instead.

What it changes and what not: a fixed point of T is left unchanged (fₖ = 0 gives xₖ₊₁ = xₖ), so
the limits are gMAM's; the iterates in between are extrapolations that the caller must test (gMAM
takes a combined step only when it passes the same stability test as a plain one, and otherwise
takes the plain step and restarts the history). The history is valid for one map T only: it is
cleared whenever Δτ changes.
"""
from __future__ import annotations

import numpy as np

RCOND = 1e-10   # least-squares cut-off: history directions below this are dropped


class AndersonMixing:
    """Anderson mixing with memory ``memory`` (m ≥ 1 differences) on flattened iterates."""

    def __init__(self, memory: int):
        self.memory = int(memory)
        self.reset()

    def reset(self):
        """Forget the history (call when the map T changes or an extrapolation failed)."""
        self._x: list[np.ndarray] = []
        self._f: list[np.ndarray] = []

    def propose(self, x, Tx):
        """Record the pair (x, T(x)) and return the extrapolated next iterate (shape of x), or
        None while the history holds no earlier pair (then the plain step T(x) is the step)."""
        x = np.asarray(x, dtype=float)
        f = (np.asarray(Tx, dtype=float) - x).ravel()
        xs = x.ravel()
        out = None
        if self._f:
            dF = np.stack([b - a for a, b in zip(self._f, self._f[1:] + [f])], axis=1)
            dX = np.stack([b - a for a, b in zip(self._x, self._x[1:] + [xs])], axis=1)
            gamma = np.linalg.lstsq(dF, f, rcond=RCOND)[0]
            out = (xs + f - (dX + dF) @ gamma).reshape(x.shape)
        self._x = (self._x + [xs.copy()])[-self.memory:]
        self._f = (self._f + [f])[-self.memory:]
        return out
