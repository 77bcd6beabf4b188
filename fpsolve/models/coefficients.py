"""Deprecated alias of :mod:`fpsolve.coefficients` (moved in 0.2; the alias goes in 0.3)."""
import warnings

from ..coefficients.evaluate import *  # noqa: F401,F403
from ..coefficients.drift import *  # noqa: F401,F403

warnings.warn("fpsolve.models.coefficients is deprecated; use fpsolve.coefficients.", DeprecationWarning, stacklevel=2)
