"""Errors raised by fpsolve.

Every check on user input raises :class:`InputError` *before* any work starts, with a message
that says what was wrong, where, and what to do about it. It subclasses ``ValueError`` so that
generic handlers keep working.
"""


class InputError(ValueError):
    """Bad user input: a coefficient, array, grid or option that cannot be used as given."""


class SolverError(RuntimeError):
    """A numerical solve failed or lost accuracy beyond what the caller asked for."""


class InputWarning(UserWarning):
    """Input that can be used but probably does not mean what was intended (e.g. a potential
    that jumps across the seam of a periodic axis)."""


class AccuracyWarning(RuntimeWarning):
    """An answer was computed but may be less accurate than the caller expects; the message says
    by how much and what to change."""
