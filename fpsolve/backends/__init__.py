"""Other PDE engines solving the same :class:`~fpsolve.FokkerPlanck` model, for cross-checks.

A backend takes a model as it stands (grid, coefficients on the cells, boundaries, convention,
schedule) and answers the same questions with its own discretisation and solvers, returning the
same result objects (:class:`~fpsolve.Density`, :class:`~fpsolve.Evolution`). Agreement within
the discretisation error, shrinking under refinement, is evidence that both are right.

- :mod:`fpsolve.backends.fipy` — FiPy (NIST) finite volumes: ``stationary(model)``,
  ``evolve(model, p0, times)``. Needs the ``fipy`` extra: ``pip install "fpsolve[fipy]"``.

Backends import their engine lazily, so ``import fpsolve.backends.fipy`` is cheap and fails
with an actionable message only when a solve is asked for without the engine installed.
"""
__all__ = ["fipy"]
