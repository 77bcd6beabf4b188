"""Shared models for the particle tests.

The compiled route builds one Numba kernel per set of jitted coefficients (a few seconds each),
so the tests share these function objects: one kernel per object, memoised for the session.
"""
import numpy as np
import pytest
from numba import njit

import fpsolve as fp
from fpsolve.particles import potentials

DOUBLE_WELL = potentials.double_well()   # U = (x² − 1)²/4, U.gradient = x³ − x
QUADRATIC = potentials.quadratic(1.0)    # U = x²/2: OU with rate 1


@njit
def tilted_bowl_2d(x, y):
    """A 2D potential without an attached gradient (the kernel differentiates it)."""
    return 0.25 * x ** 4 - 0.5 * x ** 2 + 0.3 * x + 0.5 * (1.0 + 0.2 * x ** 2) * y ** 2


@njit
def state_dependent_d_2d(x, y):
    return 0.15 * (1.0 + 0.5 * np.sin(x) ** 2 + 0.2 * y ** 2)


def TensorOU(A, D, bounds=((-6.0, 6.0), (-6.0, 6.0)), boundary="reflecting", jit_drift=True,
             floor=None):
    """dX = −A X dt + sqrt(2 D) dW in 2D as a FokkerPlanck with a tensor diffusion: D a constant
    matrix (drift jitted, so the compiled route applies) or a state-dependent field (a callable
    returning (2, 2, …)). ``floor`` for a singular D (the PDE's tensor is floored; the particles
    use D as given)."""
    A = np.asarray(A, dtype=float)
    a00, a01, a10, a11 = (float(v) for v in A.ravel())

    def drift(x, y):
        return -(a00 * x + a01 * y), -(a10 * x + a11 * y)

    # jitted: the compiled route applies; plain: works on numpy arrays and torch tensors
    return fp.FokkerPlanck(fp.Grid(list(bounds), 16), drift=njit(drift) if jit_drift else drift,
                           diffusion=D, boundary=boundary, floor=floor)


@pytest.fixture(scope="session")
def dw_model():
    """1D double well, constant D = 0.25, reflecting walls at ±2.5 (compiled route)."""
    return fp.FokkerPlanck(fp.Grid([(-2.5, 2.5)], 250), potential=DOUBLE_WELL, diffusion=0.25)


@pytest.fixture(scope="session")
def ou_model():
    """OU dX = −X dt + sqrt(2·0.5) dW on a box wide enough that the walls are never reached."""
    return fp.FokkerPlanck(fp.Grid([(-10.0, 10.0)], 200), potential=QUADRATIC, diffusion=0.5)
