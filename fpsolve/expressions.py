"""The expression language of problem and sweep files: formulas in the coordinates.

An expression such as ``"(x**2 - 1)**2 / 4 + tilt * x"`` is a Python expression in

- the coordinates: ``x`` (1D), ``x, y`` (2D), ``x, y, z`` (3D), or equivalently ``x1, x2, x3``;
- named parameters (``[parameters]`` of a problem file, ``[params]`` of a sweep);
- the numpy functions and constants of :data:`FUNCTIONS` (also as ``np.NAME``).

It is checked once, when it is read (syntax, every name, only arithmetic, comparisons,
conditional expressions and calls of those functions: no attributes other than ``np.NAME``, no
subscripts, lambdas or assignments), and then evaluated on whole numpy arrays. The check keeps
typos and stray names out and lets sweep workers evaluate files they did not write; it is not a
sandbox for untrusted input.
"""
from __future__ import annotations

import ast

import numpy as np

from .errors import InputError

__all__ = ["Expression", "ExpressionError", "FUNCTIONS", "coordinate_names", "evaluate",
           "names_in"]

#: Names available in expressions besides the coordinates and the parameters.
FUNCTIONS = {
    "np": np, "pi": np.pi, "e": np.e, "inf": np.inf,
    **{name: getattr(np, name) for name in (
        "exp", "log", "log1p", "expm1", "log10", "log2", "sqrt", "cbrt", "sin", "cos", "tan",
        "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
        "arctanh", "where", "abs", "minimum", "maximum", "clip", "sign", "heaviside", "square",
        "power", "hypot", "floor", "ceil", "mod", "logaddexp", "sinc")},
}
AXIS_NAMES = ("x", "y", "z")

_ALLOWED = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp,
            ast.Call, ast.keyword, ast.Name, ast.Load, ast.Constant, ast.Tuple, ast.Attribute,
            ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


class ExpressionError(InputError):
    """An expression that cannot be used as written (the message names where it came from)."""


def coordinate_names(ndim: int) -> list[list[str]]:
    """Accepted names of each coordinate: [["x", "x1"], ["y", "x2"], ...]."""
    return [[AXIS_NAMES[a], f"x{a + 1}"] for a in range(ndim)]


class Expression:
    """A checked expression of the coordinates, callable as ``f(x1, ..., x_d)`` on arrays.

    text : the formula. ndim : number of coordinates (1–3). parameters : name → number (or
    array). where : how error messages name it (e.g. ``"[model] potential"``).

    Examples
    --------
    >>> import numpy as np
    >>> from fpsolve.expressions import Expression
    >>> U = Expression("a * (x**2 - 1)**2", 1, {"a": 0.25})
    >>> U(np.array([0.0, 1.0, 2.0]))
    array([0.25, 0.  , 2.25])
    """

    def __init__(self, text: str, ndim: int, parameters: dict | None = None,
                 where: str = "expression"):
        self.text, self.ndim, self.where = text, ndim, where
        self._parameters = dict(parameters or {})
        coords = [n for names in coordinate_names(ndim) for n in names]
        other = [n for names in coordinate_names(3)[ndim:] for n in names]
        hint = {n: (f" — a {ndim}D grid has coordinates "
                    f"{', '.join('/'.join(c) for c in coordinate_names(ndim))}") for n in other}
        allowed = (f"the coordinates {', '.join(coords)}; parameters "
                   f"{', '.join(self._parameters) or '(none)'}")
        self._code = _compile(text, where, set(coords) | set(self._parameters), allowed, hint)
        self._namespace = {**FUNCTIONS, **{k: _number(v) for k, v in self._parameters.items()}}

    def __reduce__(self):  # picklable (sweep workers): rebuilt from its text
        return type(self), (self.text, self.ndim, self._parameters, self.where)

    def __call__(self, *coords):
        ns = dict(self._namespace)
        for arr, names in zip(coords, coordinate_names(self.ndim)):
            for n in names:
                ns[n] = arr
        return _eval(self._code, ns, self.text, self.where, "on the grid")

    def __repr__(self):
        return f"Expression({self.text!r})"


def evaluate(text: str, values: dict, where: str = "expression"):
    """Evaluate a formula over named values (e.g. the columns of a results row)."""
    code = _compile(text, where, set(values), f"the names {', '.join(sorted(values))}", {})
    return _eval(code, {**FUNCTIONS, **values}, text, where, "")


def names_in(text: str) -> set:
    """The names a formula uses (functions included)."""
    return {n.id for n in ast.walk(ast.parse(text, mode="eval")) if isinstance(n, ast.Name)}


def _compile(text, where, names, allowed_text, hints):
    """Parse and check a formula: every name known, only allowed constructs."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise ExpressionError(f"{where} = {text!r}: syntax error{col} ({exc.msg}).") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Lambda, ast.NamedExpr)):
            raise ExpressionError(f"{where} = {text!r}: lambdas and ':=' are not allowed; write "
                                  f"a plain expression or use a 'module:function'.")
        if not isinstance(node, _ALLOWED):
            raise ExpressionError(f"{where} = {text!r}: {type(node).__name__} is not allowed; "
                                  f"only arithmetic, comparisons and numpy functions.")
        if isinstance(node, ast.Attribute) and not (
                isinstance(node.value, ast.Name) and node.value.id == "np"
                and not node.attr.startswith("_") and hasattr(np, node.attr)):
            raise ExpressionError(f"{where} = {text!r}: attribute {node.attr!r} is not allowed "
                                  f"(only np.NAME for a public numpy name).")
        if isinstance(node, ast.Name) and node.id not in names and node.id not in FUNCTIONS:
            raise ExpressionError(
                f"{where} = {text!r}: unknown name {node.id!r}{hints.get(node.id, '')}. "
                f"Allowed: {allowed_text}; and {', '.join(sorted(FUNCTIONS))}.")
        if isinstance(node, ast.Call) and not (
                (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS)
                or isinstance(node.func, ast.Attribute)):
            raise ExpressionError(f"{where} = {text!r}: only numpy functions can be called.")
    return compile(tree, f"<{where}>", "eval")


def _eval(code, namespace, text, where, on):
    try:
        with np.errstate(all="ignore"):  # NaN/inf are reported by the callers' checks
            return eval(code, {"__builtins__": {}}, namespace)  # noqa: S307 - checked above
    except Exception as exc:
        raise ExpressionError(f"{where} = {text!r} does not evaluate{' ' + on if on else ''}: "
                              f"{type(exc).__name__}: {exc}.") from None


def _number(v):
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
