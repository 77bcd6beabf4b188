"""The SDE's coefficients at arbitrary points, for particles: the Itô drift and the diffusion.

Euler–Maruyama on dX = b(X, t) dt + sqrt(2 D(X, t)) dW samples the Fokker–Planck equation of the
model only with the model's *Itô* drift: for the Stratonovich and isothermal conventions that is
the user's drift plus α∇D (scalar D) or plus ∇·D (tensor D, isothermal), added here. The drift
is −∇U from the user's exact gradient when given (``gradient=``), else by central differences of
U with step ε^(1/3)·max(1, |x|); coefficients given as arrays on the cells are interpolated
multilinearly (:meth:`fpsolve.Field.at`).
"""
from __future__ import annotations

import numpy as np

from ..fields.field import Field
from .drift import drift_components
from .evaluate import at_time, evaluate

__all__ = ["drift", "diffusion", "gradient"]


def drift(c, X, t=0.0) -> np.ndarray:
    """Itô drift of the SDE of the coefficients ``c`` at points X (n, ndim) → (n, ndim)."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    d = c.grid.ndim
    cols = [X[:, a] for a in range(d)]
    user = c.user
    if user.gradient is not None:
        g = drift_components(at_time(user.gradient, t, d), cols, d)
        b = -np.stack([np.broadcast_to(np.asarray(v, float), cols[0].shape) for v in g], axis=-1)
    elif user.potential is not None:
        b = -gradient(lambda *q: _values(c, at_time(user.potential, t, d), q, "potential"), cols)
    elif user.drift is not None:
        comps = drift_components(at_time(user.drift, t, d), cols, d) if callable(user.drift) else \
            user.drift
        b = np.stack([_values(c, comp, cols, "drift") for comp in comps], axis=-1)
    else:
        b = np.zeros_like(X)
    s = c.schedule(t)
    if c.tensor:
        if c.convention == "isothermal":  # Itô drift b + ∇·D (row divergence)
            b = b + s * tensor_divergence(c, cols)
        return b
    if c.alpha != 0.0:
        b = b + c.alpha * s * gradient(lambda *q: scalar_values(c, q), cols)
    return b


def diffusion(c, X, t=0.0) -> np.ndarray:
    """s(t)·D at points X (n, ndim): (n,) for a scalar D, (n, d, d) for a tensor."""
    X = np.atleast_2d(np.asarray(X, dtype=float))
    cols = [X[:, a] for a in range(c.grid.ndim)]
    if c.tensor:
        return c.schedule(t) * np.moveaxis(tensor_values(c, cols), -1, 0)
    return c.schedule(t) * scalar_values(c, cols)


def _values(c, f, cols, what):
    """A coefficient (callable, number, or array on the cells) at points given as columns."""
    if not callable(f) and np.ndim(f) > 0 and np.shape(f) == c.grid.shape:
        return Field(c.grid, f).at(np.stack(cols, axis=-1))
    return evaluate(f, cols, cols[0].shape, what)


def scalar_values(c, cols):
    """The user's scalar D (without the schedule) at points given as coordinate columns."""
    return _values(c, c.user.diffusion, cols, "diffusion")


def tensor_values(c, cols):
    """The user's tensor D (without the schedule) at points given as columns → (d, d, n)."""
    d, n = c.grid.ndim, cols[0].size
    Dv = c.user.diffusion
    if callable(Dv):
        val = Dv(*cols)
        rows = [[val[i][j] for j in range(d)] for i in range(d)]
        return np.asarray(np.broadcast_arrays(*[np.asarray(v, float) for row in rows for v in row]),
                          dtype=float).reshape(d, d, n)
    Dv = np.asarray(Dv, dtype=float)
    if Dv.shape == (d, d):
        return np.broadcast_to(Dv[:, :, None], (d, d, n)).copy()
    pts = np.stack(cols, axis=-1)
    return np.array([[Field(c.grid, Dv[i, j]).at(pts) for j in range(d)] for i in range(d)])


def tensor_divergence(c, cols):
    """(∇·D)_i = Σ_j ∂_j D_ij at points, by central differences → (n, d)."""
    d = c.grid.ndim
    out = np.zeros((cols[0].size, d))
    for j in range(d):
        step = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(cols[j]))
        up, dn = list(cols), list(cols)
        up[j] = cols[j] + step
        dn[j] = cols[j] - step
        dD = (tensor_values(c, up) - tensor_values(c, dn)) / (2 * step)
        out += dD[:, j, :].T
    return out


def gradient(f, cols):
    """Central-difference gradient of a vectorised scalar function, shape (n, ndim); the step
    ε^(1/3)·max(1, |x|) balances truncation (~h²) and round-off (~ε/h): error ~1e-10 relative."""
    out = []
    for a in range(len(cols)):
        step = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(cols[a]))
        up = list(cols)
        dn = list(cols)
        up[a] = cols[a] + step
        dn[a] = cols[a] - step
        out.append((f(*up) - f(*dn)) / (up[a] - dn[a]))
    return np.stack(out, axis=-1)
