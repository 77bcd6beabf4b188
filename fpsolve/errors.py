"""Errors raised by fpsolve.

Every check on user input raises :class:`InputError` *before* any work starts, with a message
that says what was wrong, where, and what to do about it. It subclasses ``ValueError`` so that
generic handlers keep working.
"""


class InputError(ValueError):
    """Bad user input: a coefficient, array, grid or option that cannot be used as given."""


class SolverError(RuntimeError):
    """A numerical solve failed or lost accuracy beyond what the caller asked for."""
