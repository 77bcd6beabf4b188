"""Problems described in TOML, for ``fpsolve solve PROBLEM.toml``.

A problem is a grid, a model and a question::

    title = "double well"                      # optional
    [parameters]                               # optional named constants for the expressions
    eta = 0.1
    [grid]
    bounds = [[-2.5, 2.5]]                     # one (low, high) pair per axis; [lo, hi] in 1D
    shape = 400                                # cells, an int or one per axis
    periodic = false                           # bool or one per axis
    [model]
    potential = "(x**2 - 1)**2 / 4"            # or drift = ["-x + y", "-y"], or "module:function"
    diffusion = "eta/2 * (1 + x**2)"           # number, expression or "module:function"
    boundary = "reflecting"                    # or "periodic"
    convention = "ito"                         # "ito" | "stratonovich" | "isothermal"
    floor = 1e-6                               # optional: eigenvalue floor of a tensor D
    [question]
    kind = "stationary"                        # "stationary" | "evolve" | "spectrum" | "mfpt"

In 2D and 3D ``diffusion`` may be a tensor: a d×d matrix of numbers or expressions
(``[[0.1, 0.02], ["0.02", "0.05*(1 + x**2)"]]``) or a ``"module:function"`` returning d×d values
(nested lists or an array of shape (d, d, *grid shape)). The questions and their keys:

- ``stationary``: ``method`` (``"auto"``, ``"detailed-balance"``, ``"solve"``);
- ``evolve``: ``p0`` (an expression), ``times``, ``method``, ``scheme``, ``dt``;
- ``spectrum``: ``k`` (number of eigenvalues);
- ``mfpt``: ``target`` (an expression, non-zero on the target, e.g. ``"x >= 1"``) and optionally
  ``start`` (a point: E τ from there is printed).

Expressions are Python expressions in the coordinates (x, y, z, or x1, x2, x3) and the
``[parameters]``, evaluated with numpy arrays in a restricted namespace: ``np`` and the numpy
functions listed in :data:`FUNCTIONS`, no builtins, no names starting with "_".
``"module:function"`` imports a function taking the coordinate arrays (modules next to the TOML
file are found). The namespace keeps typos and stray names out; it is not a sandbox: a problem
file, like a script, is code that you trust.

Every problem is checked before any solve; a bad one raises :class:`ProblemError` (an
:class:`~fpsolve.errors.InputError`) whose message names the table and key, and says what is
allowed. A new question is one entry in :data:`QUESTIONS`.
"""
from .files import load_problem, parse_problem, solve
from .questions import QUESTIONS, Question
from .tables import Problem, ProblemError

__all__ = ["load_problem", "parse_problem", "solve", "Problem", "ProblemError", "QUESTIONS",
           "Question"]
