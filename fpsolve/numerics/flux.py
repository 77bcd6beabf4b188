"""Scharfetter–Gummel (exponentially fitted) face fluxes — the one flux every solver uses.

Convention (:doc:`/theory/conventions`): for a scalar diffusion D and the α-convention

    J = b p − D^α ∇(D^(1−α) p),     α = 0 Itô, ½ Stratonovich, 1 isothermal,

write g = D^(1−α) p and a = b/D, so that J = D^α (a g − ∇g). Across the face between cells k and
k+1 (spacing h) the exponentially fitted flux, exact when a is constant across the face, is

    J_f = (D_f^α / h) [ B(−P) g_k − B(P) g_{k+1} ],   P = h a_f,   B(z) = z / (e^z − 1).

As a Markov jump process on the cells this is a rate k → k+1 of ``D_f^α D_k^(1−α) B(−P) / h²``
and k+1 → k of ``D_f^α D_{k+1}^(1−α) B(P) / h²`` — non-negative for every P, so the generator is
an M-matrix (positivity, mass conservation), and the zero-flux ratio is exactly

    p_{k+1} / p_k = (D_k / D_{k+1})^(1−α) e^P,

i.e. the discrete stationary state p ∝ D^(α−1) exp(Σ P) is kept to round-off whenever the face
Péclet numbers P sum to zero around every cycle (a discrete potential exists).

Face Péclet numbers:

- from a potential U (drift −∇U): P = −(U_{k+1} − U_k) / D_f with D_f the *logarithmic* mean of
  D_k and D_{k+1}. This is second-order accurate, and exact for any D affine in U (constant D;
  Mori et al.'s D ∝ L; Dai–Zhu's β₀(1 + L)), whose integral ∫ U′/D is then a log.
- from a drift b: P = h b_f / D_f with b_f the normal drift at the face centre.

Rates are returned as logarithms so that callers can rescale by a reference log-density without
overflow (barriers of several hundred times D).
"""
from __future__ import annotations

import math

import numpy as np
from ..jit import njit

NEG_INF = -np.inf


@njit(cache=True, inline="always")
def log_bernoulli(z):
    """log B(z) = log(z / (e^z − 1)), accurate for every real z (B(0) = 1)."""
    if abs(z) < 1e-2:  # series; the closed form below cancels to absolute accuracy only here
        z2 = z * z
        # log B(z) = −z/2 − log(sinh(z/2)/(z/2))
        return -0.5 * z - z2 / 24.0 + z2 * z2 / 2880.0 - z2 * z2 * z2 / 181440.0
    if z > 0.0:
        return math.log(z) - z - math.log(-math.expm1(-z))
    if z < 0.0:
        return math.log(-z) - math.log(-math.expm1(z))
    return 0.0


@njit(cache=True, inline="always")
def _log_bernoulli_pair(z):
    """(log B(z), log B(−z)), the values of two calls of :func:`log_bernoulli` to the bit, with
    the two logarithms they share (of |z| and of 1 − e^(−|z|)) taken once."""
    if not abs(z) >= 1e-2:  # the series (and NaN)
        return log_bernoulli(z), log_bernoulli(-z)
    a = abs(z)
    la = math.log(a)
    le = math.log(-math.expm1(-a))
    up, down = la - a - le, la - le  # log B(|z|), log B(−|z|)
    return (up, down) if z > 0.0 else (down, up)


@njit(cache=True, inline="always")
def _next(i, n):
    """(i + 1) mod n for 0 ≤ i < n, without an integer division (one per face otherwise)."""
    return i + 1 if i + 1 < n else 0


@njit(cache=True, inline="always")
def log_mean(a, b):
    """Logarithmic mean (a − b)/(log a − log b) of two positive numbers (a if a == b)."""
    if a == b:
        return a
    # log1p keeps full relative accuracy when b ≈ a (b − a is exact there, by Sterbenz)
    return (b - a) / math.log1p((b - a) / a)


@njit(cache=True)
def peclet_from_potential(U, D, axis, periodic):
    """Face Péclet numbers P = −ΔU / D_f on the faces k | k+1 along ``axis`` of 3D arrays.

    Output has the shape of U; entry k holds the face between k and k+1. On a non-periodic axis
    the last entry (a wall) is set to 0 and never used; on a periodic axis it is the wrap face.
    """
    n0, n1, n2 = U.shape
    P = np.zeros_like(U)
    n = U.shape[axis]
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                idx = (i, j, k)[axis]
                if idx == n - 1 and not periodic:
                    continue
                if axis == 0:
                    i2, j2, k2 = _next(i, n0), j, k
                elif axis == 1:
                    i2, j2, k2 = i, _next(j, n1), k
                else:
                    i2, j2, k2 = i, j, _next(k, n2)
                P[i, j, k] = -(U[i2, j2, k2] - U[i, j, k]) / log_mean(D[i, j, k], D[i2, j2, k2])
    return P


@njit(cache=True)
def peclet_from_drift(b_face, D, axis, h, periodic):
    """Face Péclet numbers P = h b_f / D_f, with ``b_face`` the normal drift at the faces."""
    n0, n1, n2 = D.shape
    P = np.zeros_like(D)
    n = D.shape[axis]
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                idx = (i, j, k)[axis]
                if idx == n - 1 and not periodic:
                    continue
                if axis == 0:
                    i2, j2, k2 = _next(i, n0), j, k
                elif axis == 1:
                    i2, j2, k2 = i, _next(j, n1), k
                else:
                    i2, j2, k2 = i, j, _next(k, n2)
                P[i, j, k] = h * b_face[i, j, k] / log_mean(D[i, j, k], D[i2, j2, k2])
    return P


@njit(cache=True)
def log_face_rates(P, D, axis, h, alpha, periodic):
    """Log jump rates (per unit time) across the faces along ``axis``.

    Returns (log_fwd, log_bwd): rate k → k+1 and k+1 → k for the face stored at k; −inf on walls.
    """
    n0, n1, n2 = D.shape
    n = D.shape[axis]
    log_fwd = np.full(D.shape, NEG_INF)
    log_bwd = np.full(D.shape, NEG_INF)
    log_h2 = 2.0 * math.log(h)
    log_D = np.empty(D.shape)  # once per cell, not once per face side
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                log_D[i, j, k] = math.log(D[i, j, k])
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                idx = (i, j, k)[axis]
                if idx == n - 1 and not periodic:
                    continue
                if axis == 0:
                    i2, j2, k2 = _next(i, n0), j, k
                elif axis == 1:
                    i2, j2, k2 = i, _next(j, n1), k
                else:
                    i2, j2, k2 = i, j, _next(k, n2)
                d1 = D[i, j, k]
                d2 = D[i2, j2, k2]
                lb_up, lb_down = _log_bernoulli_pair(P[i, j, k])  # log B(P), log B(−P)
                face = alpha * math.log(log_mean(d1, d2)) if alpha != 0.0 else 0.0
                log_fwd[i, j, k] = face + (1.0 - alpha) * log_D[i, j, k] + lb_down - log_h2
                log_bwd[i, j, k] = face + (1.0 - alpha) * log_D[i2, j2, k2] + lb_up - log_h2
    return log_fwd, log_bwd
