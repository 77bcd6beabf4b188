"""Deprecated: the problem files of ``fpsolve solve`` now live in :mod:`fpsolve.problems`
(and their formulas in :mod:`fpsolve.expressions`). This alias will be removed in 0.3."""
import warnings

from .expressions import FUNCTIONS, Expression
from .problems import (QUESTIONS, Problem, ProblemError, Question, load_problem, parse_problem,
                       solve)

warnings.warn("fpsolve.solve_toml is deprecated; use fpsolve.problems (and fpsolve.expressions).",
              DeprecationWarning, stacklevel=2)

__all__ = ["FUNCTIONS", "Expression", "QUESTIONS", "Problem", "ProblemError", "Question",
           "load_problem", "parse_problem", "solve"]
