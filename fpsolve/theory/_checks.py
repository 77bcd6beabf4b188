"""Input checks shared by the theory modules.

Each raises InputError saying what was wrong, where, and what to do.
"""
import numpy as np

from ..errors import InputError


def positive(value, name, where):
    """A finite scalar > 0, as float."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {name} must be a positive number, got {value!r}.") from None
    if not np.isfinite(v) or v <= 0:
        raise InputError(f"{where}: {name} must be finite and > 0, got {v!r}.")
    return v


def finite(value, name, where):
    """A finite scalar, as float."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {name} must be a real number, got {value!r}.") from None
    if not np.isfinite(v):
        raise InputError(f"{where}: {name} must be finite, got {v!r}.")
    return v


def square_matrix(a, name, where, *, symmetric=False, positive_definite=False):
    """A finite 2-D square float array (a scalar is read as a 1×1 matrix)."""
    m = np.atleast_2d(np.asarray(a, dtype=float))
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise InputError(f"{where}: {name} must be a square matrix, got shape {np.shape(a)}.")
    if not np.all(np.isfinite(m)):
        raise InputError(f"{where}: {name} has non-finite entries.")
    if symmetric or positive_definite:
        scale = max(1.0, float(np.abs(m).max()))
        if not np.allclose(m, m.T, rtol=0, atol=1e-12 * scale):
            raise InputError(f"{where}: {name} must be symmetric; pass (A + A.T)/2 if the "
                             "asymmetry is round-off.")
        m = 0.5 * (m + m.T)
    if positive_definite and np.linalg.eigvalsh(m)[0] <= 0:
        raise InputError(f"{where}: {name} must be positive definite; its smallest eigenvalue is "
                         f"{np.linalg.eigvalsh(m)[0]:.3g}.")
    return m
