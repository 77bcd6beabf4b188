"""Deprecated alias of :mod:`fpsolve.sweeps` (``fpsolve.sweep.run`` is ``fpsolve.sweeps.run``;
the command line is :mod:`fpsolve.sweeps.cli`). Will be removed in 0.3."""
import warnings

from .sweeps import QUANTITIES, Sweep, SweepResult, load, read_table, run
from .sweeps.cli import main as cli_main

warnings.warn("fpsolve.sweep is deprecated; use fpsolve.sweeps.", DeprecationWarning,
              stacklevel=2)

__all__ = ["run", "load", "cli_main", "Sweep", "SweepResult", "read_table", "QUANTITIES"]
