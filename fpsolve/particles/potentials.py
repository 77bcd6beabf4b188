"""Numba-jitted standard potentials, for models that the particle kernels can compile.

Each factory returns an ``@njit`` function U(x₁, …, x_d) that works on numbers and on numpy
arrays (so ``FokkerPlanck(grid, potential=U)`` evaluates it on the grid as usual), with its exact
gradient attached as ``U.gradient`` (a float in 1D, a tuple in 2D/3D). The compiled
Euler–Maruyama kernel uses ``U.gradient`` when present (one evaluation instead of two central
differences per axis); the PDE only ever sees U.

The 1D potentials are polynomials and also carry ``U.coefficients`` (ascending powers): with a
constant diffusion they run in one kernel that takes the coefficients as data
(:func:`fpsolve.particles.kernels.poly_kernel_1d`), compiled once and cached on disk, so no
compilation is paid per process.

Usage::

    U = potentials.double_well()
    model = FokkerPlanck(Grid([(-2.5, 2.5)], 200), potential=U, diffusion=0.2)
    simulate(model, -1.0, n=10**6, dt=1e-3, t_end=10.0)   # compiled, cached kernel
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..errors import InputError


def polynomial(coefficients):
    """U(x) = Σ_k c_k x^k (ascending powers, 1D), with U.gradient and U.coefficients."""
    c = np.asarray(coefficients, dtype=float).ravel()
    if c.size < 1 or not np.all(np.isfinite(c)):
        raise InputError(f"polynomial: coefficients must be finite numbers; got {coefficients}.")
    cu = tuple(float(v) for v in c[::-1])                       # Horner order
    dc = c[1:] * np.arange(1, c.size) if c.size > 1 else np.zeros(1)
    cg = tuple(float(v) for v in dc[::-1])

    @njit
    def U(x):
        r = 0.0 * x
        for ck in cu:
            r = r * x + ck
        return r

    @njit
    def gradient(x):
        r = 0.0 * x
        for ck in cg:
            r = r * x + ck
        return r

    U.gradient = gradient
    U.coefficients = c.copy()
    return U


def double_well(tilt=0.0, scale=1.0):
    """U(x) = scale·(x² − 1)²/4 + tilt·x: minima near ±1, barrier scale/4 at x = 0 (tilt 0).

    With tilt = 0 this is the loss of the balanced double-well dataset of
    :func:`fpsolve.particles.sgd.double_well_problem`.
    """
    s = float(scale)
    return polynomial([s / 4, float(tilt), -s / 2, 0.0, s / 4])


def quadratic(curvature=1.0, center=0.0):
    """U(x) = curvature·(x − center)²/2 in 1D (OU drift −curvature·(x − center))."""
    k, c = float(curvature), float(center)
    return polynomial([0.5 * k * c * c, -k * c, 0.5 * k])


def quadratic_2d(hessian):
    """U(x, y) = ½ (x, y) H (x, y)ᵀ for a symmetric 2×2 matrix H."""
    H = np.asarray(hessian, dtype=float)
    if H.shape != (2, 2) or not np.allclose(H, H.T):
        raise InputError(f"quadratic_2d: hessian must be a symmetric 2×2 matrix; got {H.tolist()}.")
    a, b, c = float(H[0, 0]), float(H[0, 1]), float(H[1, 1])

    @njit
    def U(x, y):
        return 0.5 * (a * x * x + 2.0 * b * x * y + c * y * y)

    @njit
    def gradient(x, y):
        return a * x + b * y, b * x + c * y

    U.gradient = gradient
    return U


def double_well_2d(transverse=1.0, coupling=0.0):
    """U(x, y) = (x² − 1)²/4 + ½·transverse·(1 + coupling·x²)·y²: two minima at (±1, 0), saddle at
    the origin; ``coupling`` makes the transverse curvature differ between minimum and saddle."""
    k = float(transverse)
    g = float(coupling)

    @njit
    def U(x, y):
        return (x * x - 1.0) ** 2 / 4.0 + 0.5 * k * (1.0 + g * x * x) * y * y

    @njit
    def gradient(x, y):
        return x * x * x - x + k * g * x * y * y, k * (1.0 + g * x * x) * y

    U.gradient = gradient
    return U


__all__ = ["polynomial", "double_well", "quadratic", "quadratic_2d", "double_well_2d"]
