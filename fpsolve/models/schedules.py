"""Deprecated alias of :mod:`fpsolve.coefficients.schedules` (moved in 0.2; the alias goes in 0.3)."""
import warnings

from ..coefficients.schedules import *  # noqa: F401,F403

warnings.warn("fpsolve.models.schedules is deprecated; use fpsolve.coefficients.schedules.", DeprecationWarning, stacklevel=2)
