"""Input checks (and two small coefficient helpers) shared by the theory modules.

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


def drift_of(drift, potential_derivative, where):
    """The drift b from exactly one of ``drift`` (b) and ``potential_derivative`` (U′, b = −U′)."""
    if (drift is None) == (potential_derivative is None):
        raise InputError(f"{where}: give exactly one of `drift` (b) or `potential_derivative` (U′, "
                         "with b = −U′).")
    if drift is not None:
        return drift
    if callable(potential_derivative):
        return lambda x: -np.asarray(potential_derivative(x), dtype=float)
    return -float(potential_derivative)


def mirror(fn, sign):
    """x ↦ sign·fn(−x): mirrors a coefficient so that the reflecting end is on the left."""
    if callable(fn):
        return lambda y: sign * np.asarray(fn(-np.asarray(y)), dtype=float)
    return sign * float(fn)


def interval(lower, upper, where, names=("lower", "upper")):
    """(lower, upper) as finite floats with lower < upper."""
    lo, hi = finite(lower, names[0], where), finite(upper, names[1], where)
    if not lo < hi:
        raise InputError(f"{where}: need {names[0]} < {names[1]}, got {lo} and {hi}.")
    return lo, hi


def interval_to_infinity(lower, upper, where, names=("lower", "upper")):
    """(lower, upper) as floats with lower < upper; an end may be infinite (−inf below, +inf
    above)."""
    vals = []
    for v, name, bad in zip((lower, upper), names, (np.inf, -np.inf)):
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise InputError(f"{where}: {name} must be a real number or ±inf, got {v!r}.") from None
        if np.isnan(f) or f == bad:
            raise InputError(f"{where}: {name} = {f} does not bound an interval.")
        vals.append(f)
    lo, hi = vals
    if not lo < hi:
        raise InputError(f"{where}: need {names[0]} < {names[1]}, got {lo} and {hi}.")
    return lo, hi


def finite_core(lo, hi, points):
    """A finite interval [a, b] inside [lo, hi] holding the finite ends and every point (one
    unit beyond the outermost point towards an infinite end): where the panels go, the rest
    being tails (:func:`fpsolve.theory._panels.log_tail_integral`)."""
    pts = np.asarray(points, dtype=float).ravel()
    ends = [v for v in (lo, hi) if np.isfinite(v)]
    pool = np.concatenate([pts[np.isfinite(pts)], ends]) if (pts.size or ends) else np.zeros(1)
    pool = pool if pool.size else np.zeros(1)
    a = lo if np.isfinite(lo) else float(pool.min()) - 1.0
    b = hi if np.isfinite(hi) else float(pool.max()) + 1.0
    return a, b


def points_inside(x, lo, hi, name, where):
    """``x`` as a finite float array inside [lo, hi]."""
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        raise InputError(f"{where}: {name} must be finite.")
    if np.any((x < lo) | (x > hi)):
        raise InputError(f"{where}: every {name} must lie in [{lo}, {hi}]; got values in "
                         f"[{x.min()}, {x.max()}].")
    return x


def breakpoints_array(breakpoints, where):
    """Breakpoints of the coefficients (kinks, jumps) as a finite 1D array (empty if None)."""
    b = np.asarray(breakpoints if breakpoints is not None else [], dtype=float).ravel()
    if not np.all(np.isfinite(b)):
        raise InputError(f"{where}: breakpoints must be finite.")
    return b
