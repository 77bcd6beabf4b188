"""Deprecated alias of :mod:`fpsolve.nets.minibatch_noise` (moved in 0.2; the alias goes in 0.3)."""
import warnings

from .minibatch_noise import *  # noqa: F401,F403

warnings.warn("fpsolve.nets.noise is deprecated; use fpsolve.nets.minibatch_noise.", DeprecationWarning, stacklevel=2)
