"""Time stepping of dp/dt = L p on a fixed sparse generator.

Schemes and what they guarantee (L an M-matrix with zero column sums):

- ``backward-euler``: first order, L-stable; (I − Δt L)⁻¹ is non-negative with unit column sums,
  so positivity and mass are preserved for every Δt.
- ``tr-bdf2`` (default): second order, L-stable (Bank et al. 1985, γ = 2 − √2). Both stages use the
  same matrix I − (γΔt/2) L, so one factorisation serves the whole run. Mass is conserved; the
  trapezoidal stage can produce small negative values when Δt ≫ 1/rate (reported as
  ``min_value``).
- ``explicit``: forward Euler in a Numba kernel; positive and stable iff Δt ≤ 1 / max|L_kk|,
  which is enforced.
- ``expm``: the exact exponential by scipy's Krylov/Taylor ``expm_multiply``.

Output times are hit exactly: each interval is divided into an integer number of equal steps,
and factorisations are cached by step size, so equal intervals never refactorise.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import InputError
from .generator import explicit_euler
from .linalg import factorize

SCHEMES = ("tr-bdf2", "backward-euler")
METHODS = ("implicit", "explicit", "expm")
GAMMA = 2.0 - math.sqrt(2.0)


def check_times(times) -> np.ndarray:
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1 or t.size == 0:
        raise InputError("evolve: times must be a non-empty 1D sequence of output times.")
    if not np.all(np.isfinite(t)):
        raise InputError(f"evolve: times must be finite; got {t.tolist()}.")
    if np.any(t < 0):
        raise InputError(f"evolve: times must be non-negative (the evolution starts at t = 0); "
                         f"got {t[t < 0][0]:g}.")
    if np.any(np.diff(t) < 0):
        raise InputError("evolve: times must be non-decreasing.")
    return t


def _steps(interval, dt):
    """Number of equal steps of size ≤ dt that divide ``interval`` exactly."""
    return max(1, int(math.ceil(interval / dt * (1 - 1e-12))))


class _Implicit:
    """Cached factorisations of I − c Δt L, keyed by the step size."""

    def __init__(self, L, scheme):
        self.L = sp.csc_matrix(L)
        self.scheme = scheme
        self.eye = sp.identity(L.shape[0], format="csc")
        self.cache = {}
        self.factorisations = 0

    def solver(self, dt):
        key = round(dt, 15)
        if key not in self.cache:
            c = GAMMA / 2.0 if self.scheme == "tr-bdf2" else 1.0
            self.cache[key] = factorize(self.eye - (c * dt) * self.L)
            self.factorisations += 1
        return self.cache[key]

    def step(self, p, dt):
        solve = self.solver(dt)
        if self.scheme == "backward-euler":
            return solve(p)
        # TR-BDF2: trapezoid to t + γΔt, then BDF2 through t, t + γΔt, t + Δt.
        half = 0.5 * GAMMA * dt
        p_mid = solve(p + half * (self.L @ p))
        return solve((p_mid - (1.0 - GAMMA) ** 2 * p) / (GAMMA * (2.0 - GAMMA)))


def explicit_limit(L) -> float:
    """Largest forward-Euler step that keeps I + Δt L non-negative (hence stable in ℓ¹)."""
    return 1.0 / float(np.max(np.abs(L.diagonal())))


def evolve(L, p0, times, method="implicit", scheme="tr-bdf2", dt=None):
    """Integrate dp/dt = L p from p(0) = p0 and return the states at ``times``.

    Returns (list of arrays, stats dict with steps, factorisations, dt used).
    """
    if method not in METHODS:
        raise InputError(f"evolve: method {method!r} is unknown; choose one of {METHODS}.")
    if method == "implicit" and scheme not in SCHEMES:
        raise InputError(f"evolve: scheme {scheme!r} is unknown; choose one of {SCHEMES}.")
    t = check_times(times)
    if dt is not None and not (np.isfinite(dt) and dt > 0):
        raise InputError(f"evolve: dt must be a positive number; got {dt!r}.")
    out, stats = [], {"steps": 0, "factorisations": 0}
    p = np.asarray(p0, dtype=float).copy()
    t_now = 0.0
    if method == "explicit":
        limit = explicit_limit(L)
        if dt is None:
            dt = 0.9 * limit
        elif dt > limit:
            raise InputError(f"evolve(method='explicit'): dt={dt:.3g} exceeds the stability and "
                             f"positivity limit 1/max|L_kk| = {limit:.3g}; use a smaller dt or "
                             f"method='implicit'.")
        Lc = sp.csr_matrix(L)
    elif method == "implicit":
        if dt is None:
            dt = max(t[-1], 1e-300) / 200.0
        stepper = _Implicit(L, scheme)
    for t_out in t:
        interval = t_out - t_now
        if interval > 0:
            if method == "expm":
                p = spla.expm_multiply(L * interval, p)
            else:
                n = _steps(interval, dt)
                h = interval / n
                if method == "explicit":
                    p = explicit_euler(Lc.data, Lc.indices, Lc.indptr, p, h, n)
                else:
                    for _ in range(n):
                        p = stepper.step(p, h)
                stats["steps"] += n
        out.append(p.copy())
        t_now = t_out
    if method == "implicit":
        stats["factorisations"] = stepper.factorisations
    stats["dt"] = dt
    return out, stats
