"""Deprecated alias of :mod:`fpsolve.conventions` (moved in 0.2; the alias goes in 0.3)."""
import warnings

from ..conventions import *  # noqa: F401,F403

warnings.warn("fpsolve.models.conventions is deprecated; use fpsolve.conventions.", DeprecationWarning, stacklevel=2)
