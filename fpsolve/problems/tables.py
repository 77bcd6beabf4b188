"""The tables of a problem file — [parameters], [grid], [model] — read and checked.

Every value is checked before any solve; a bad one raises :class:`ProblemError` (an
:class:`~fpsolve.errors.InputError`) whose message names the table and key and says what is
allowed. Formulas are :class:`fpsolve.expressions.Expression`; ``"module:function"`` imports a
function from a file next to the problem file (or any importable module).
"""
from __future__ import annotations

import importlib
import importlib.util
import numbers
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError
from ..expressions import AXIS_NAMES, FUNCTIONS, Expression
from ..geometry.grid import Grid
from ..coefficients.evaluate import describe
from ..models.fokker_planck import FokkerPlanck


class ProblemError(InputError):
    """A problem file that cannot be used as written."""


TOP_KEYS = ("title", "description", "parameters", "grid", "model", "question")
GRID_KEYS = ("bounds", "shape", "periodic")
MODEL_KEYS = ("potential", "drift", "diffusion", "floor", "boundary", "convention")


def import_function(spec: str, where: str, base: Path | None) -> Callable:
    """``"module:function"``: a module file next to the problem file (loaded from there, so
    two problems in different folders may each have their own ``mymodel.py``), else an
    importable module."""
    module_name, _, func_name = spec.partition(":")
    module_name, func_name = module_name.strip(), func_name.strip()
    local = base / (module_name.replace(".", "/") + ".py") if base is not None else None
    try:
        if local is not None and local.is_file():
            unique = f"fpsolve_problem_{abs(hash(str(local)))}_{module_name.replace('.', '_')}"
            spec_ = importlib.util.spec_from_file_location(unique, local)
            module = importlib.util.module_from_spec(spec_)
            sys.path.insert(0, str(base))  # its own imports of sibling files
            try:
                spec_.loader.exec_module(module)
            finally:
                sys.path.remove(str(base))
        else:
            module = importlib.import_module(module_name)
    except Exception as exc:
        raise ProblemError(f"{where} = {spec!r}: cannot import module {module_name!r} "
                           f"({type(exc).__name__}: {exc}).") from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise ProblemError(f"{where} = {spec!r}: module {module_name!r} has no function "
                           f"{func_name!r}.")
    return func


_MODULE_FUNCTION = re.compile(r"^\s*[A-Za-z_][\w.]*\s*:\s*[A-Za-z_]\w*\s*$")


def coefficient(value, where: str, ndim: int, parameters: dict, base: Path | None = None):
    """A number, an :class:`Expression`, or an imported function, from a TOML value."""
    if isinstance(value, bool):
        raise ProblemError(f"{where} must be a number or an expression string; got {value}.")
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        if _MODULE_FUNCTION.match(value):
            return import_function(value, where, base)
        return Expression(value, ndim, parameters, where)
    raise ProblemError(f"{where} must be a number or an expression string; got "
                       f"{type(value).__name__} {value!r}.")


def evaluate_on(func, grid: Grid, where: str, tensor_hint: str | None = None) -> np.ndarray:
    """Evaluate a scalar coefficient on the cell centres, turning any failure into a
    ProblemError that says what the function returned."""
    if not callable(func):
        return np.full(grid.shape, float(func))
    try:
        with np.errstate(all="ignore"):
            val = func(*grid.coords)
    except InputError:  # the expression's own message names it
        raise
    except Exception as exc:
        raise ProblemError(f"{where} does not evaluate on the grid: {type(exc).__name__}: "
                           f"{exc}.") from None
    try:
        return np.broadcast_to(np.asarray(val, dtype=float), grid.shape)
    except (TypeError, ValueError):
        tensor = (f", or a {grid.ndim}×{grid.ndim} tensor (nested lists or an array of shape "
                  f"({grid.ndim}, {grid.ndim}, *grid shape); as a constant: {tensor_hint})"
                  if tensor_hint else "")
        raise ProblemError(f"{where} must give one value per cell (arrays of the grid shape "
                           f"{grid.shape}){tensor}; it returned {describe(val)}.") from None


def check_keys(table: dict, allowed, where: str):
    """Raise :class:`ProblemError` if ``table`` is not a table or has a key outside ``allowed``;
    ``where`` names it in the message.
    """
    if not isinstance(table, dict):
        raise ProblemError(f"{where} must be a table ([{where.strip('[]')}]); got "
                           f"{type(table).__name__}.")
    unknown = [k for k in table if k not in allowed]
    if unknown:
        raise ProblemError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; allowed "
                           f"keys are {', '.join(allowed)}.")


def require(table: dict, key: str, where: str):
    """``table[key]``, or :class:`ProblemError` saying that ``where`` misses the key."""
    if key not in table:
        raise ProblemError(f"{where}: missing required key {key!r}.")
    return table[key]


@dataclass
class Problem:
    """A parsed, checked problem: grid, model keyword arguments, question, and its source."""

    grid: Grid
    model_kwargs: dict
    question: dict
    title: str = ""
    parameters: dict = field(default_factory=dict)
    source: Path | None = None
    raw: dict = field(default_factory=dict)

    def model(self) -> FokkerPlanck:
        """The :class:`~fpsolve.FokkerPlanck` model of the problem's [model] table on its grid; a
        bad coefficient raises :class:`ProblemError` naming the key.
        """
        try:
            return FokkerPlanck(self.grid, **self.model_kwargs)
        except ProblemError:
            raise
        except InputError as exc:
            raise ProblemError(f"[model]: {exc}") from None


def grid_table(table: dict) -> Grid:
    """The :class:`~fpsolve.Grid` of a problem's [grid] table (bounds, shape, periodic), checked.
    """
    check_keys(table, GRID_KEYS, "[grid]")
    bounds = require(table, "bounds", "[grid]")
    shape = require(table, "shape", "[grid]")
    periodic = table.get("periodic", False)
    try:
        b = np.asarray(bounds, dtype=float)
    except (TypeError, ValueError):
        raise ProblemError(f"[grid] bounds must be numbers: a list of [low, high] pairs, e.g. "
                           f"[[-2, 2], [-1, 1]]; got {bounds!r}.") from None
    if not (isinstance(shape, int) and not isinstance(shape, bool)) and not (
            isinstance(shape, list) and all(isinstance(n, int) and not isinstance(n, bool)
                                            for n in shape)):
        raise ProblemError(f"[grid] shape must be an integer or a list of integers; got "
                           f"{shape!r}.")
    if not isinstance(periodic, bool) and not (
            isinstance(periodic, list) and all(isinstance(p, bool) for p in periodic)):
        raise ProblemError(f"[grid] periodic must be true/false or a list of them; got "
                           f"{periodic!r}.")
    try:
        return Grid(b, shape, periodic)
    except InputError as exc:
        raise ProblemError(f"[grid]: {exc}") from None


def parameters_table(table) -> dict:
    """The named constants of a problem's [parameters] table ({name: number}); names that are
    coordinates or functions are refused.
    """
    if not isinstance(table, dict):
        raise ProblemError("[parameters] must be a table of name = number.")
    out = {}
    for k, v in table.items():
        if not k.isidentifier() or k.startswith("_"):
            raise ProblemError(f"[parameters]: {k!r} is not a valid name.")
        if k in FUNCTIONS or k in AXIS_NAMES or re.fullmatch(r"x[123]", k):
            raise ProblemError(f"[parameters]: {k!r} is reserved (a coordinate or function "
                               f"name); rename it.")
        if isinstance(v, bool) or not isinstance(v, (numbers.Real, list)):
            raise ProblemError(f"[parameters] {k} must be a number (or a list of numbers); got "
                               f"{v!r}.")
        out[k] = np.asarray(v, dtype=float) if isinstance(v, list) else float(v)
    return out


def model_table(table: dict, grid: Grid, parameters: dict, base: Path | None) -> dict:
    """The keyword arguments of :class:`~fpsolve.FokkerPlanck` from a problem's [model] table:
    coefficients compiled from expressions or ``module:function`` names (looked up next to the
    file in ``base``) and checked on the grid.
    """
    check_keys(table, MODEL_KEYS, "[model]")
    nd = grid.ndim
    if "potential" in table and "drift" in table:
        raise ProblemError("[model]: give either potential (drift −∇U) or drift, not both.")
    kw = {}
    if "potential" in table:
        U = coefficient(table["potential"], "[model] potential", nd, parameters, base)
        evaluate_on(U, grid, "[model] potential")
        kw["potential"] = U
    if "drift" in table:
        drift = table["drift"]
        if isinstance(drift, str) and _MODULE_FUNCTION.match(drift):
            kw["drift"] = import_function(drift, "[model] drift", base)
        else:
            if nd == 1 and not isinstance(drift, list):
                drift = [drift]
            if not isinstance(drift, list) or len(drift) != nd:
                raise ProblemError(f"[model] drift must be a list of {nd} expression(s), one "
                                   f"per axis; got {table['drift']!r}.")
            comps = [coefficient(d, f"[model] drift[{a}]", nd, parameters, base)
                     for a, d in enumerate(drift)]
            for a, c in enumerate(comps):
                evaluate_on(c, grid, f"[model] drift[{a}]")

            def drift_fn(*coords, comps=comps):
                shape = coords[0].shape
                return tuple(np.broadcast_to(c(*coords) if callable(c) else c, shape)
                             for c in comps)

            kw["drift"] = drift_fn
    kw["diffusion"] = _diffusion(table.get("diffusion", 1.0), grid, parameters, base)
    if "floor" in table:
        floor = table["floor"]
        if isinstance(floor, bool) or not isinstance(floor, numbers.Real) or not floor > 0:
            raise ProblemError(f"[model] floor must be a positive number (the smallest eigenvalue "
                               f"a tensor diffusion is raised to); got {floor!r}.")
        kw["floor"] = float(floor)
    for key in ("boundary", "convention"):
        if key in table:
            val = table[key]
            if not (isinstance(val, str) or (key == "boundary" and isinstance(val, list))):
                raise ProblemError(f"[model] {key} must be a string; got {val!r}.")
            kw[key] = val
    return kw


def _diffusion(value, grid: Grid, parameters: dict, base: Path | None):
    """D from [model] diffusion: a number, an expression or a function (scalar D(x)), or a
    tensor — a d×d matrix of numbers/expressions, or a function returning d×d values.
    Positivity (scalar) is checked here; symmetry and definiteness (tensor) by the model."""
    where, nd = "[model] diffusion", grid.ndim
    example = "[" + ", ".join("[" + ", ".join("0.1" if i == j else "0.02" for j in range(nd))
                              + "]" for i in range(nd)) + "]"
    if isinstance(value, list):
        if len(value) != nd or not all(isinstance(r, list) and len(r) == nd for r in value):
            raise ProblemError(f"{where}: a tensor diffusion is a {nd}×{nd} matrix, a list of "
                               f"{nd} rows of {nd} numbers or expressions, e.g. {example}; got "
                               f"{value!r}.")
        entries = [[coefficient(v, f"{where}[{i}][{j}]", nd, parameters, base)
                    for j, v in enumerate(row)] for i, row in enumerate(value)]
        if not any(callable(e) for row in entries for e in row):
            return np.array(entries, dtype=float)  # a constant matrix
        return _tensor_function(lambda *c: entries, nd, where)
    D = coefficient(value, where, nd, parameters, base)
    if not callable(D):
        if not (np.isfinite(D) and D > 0):
            raise ProblemError(f"{where} must be positive (it is D in dX = b dt + sqrt(2D) dW); "
                               f"got {D:g}.")
        return D
    try:
        with np.errstate(all="ignore"):
            sample = D(*grid.coords)
    except InputError:  # the expression's own message names it
        raise
    except Exception as exc:
        raise ProblemError(f"{where} does not evaluate on the grid: {type(exc).__name__}: "
                           f"{exc}.") from None
    if _is_tensor_value(sample, nd):
        return _tensor_function(D, nd, where)
    vals = evaluate_on(D, grid, where, tensor_hint=example)
    bad = ~(np.isfinite(vals) & (vals > 0))
    if np.any(bad):
        i = tuple(np.argwhere(bad)[0])
        at = ", ".join(f"{c[i]:.4g}" for c in grid.coords)
        raise ProblemError(f"{where} must be positive and finite on the whole grid; it is "
                           f"{vals[i]:.4g} at ({at}). Shrink the grid or add a floor.")
    return D


def _is_tensor_value(value, nd: int) -> bool:
    """A d×d value: nested lists/tuples d × d, or an array whose first two axes are (d, d)."""
    if isinstance(value, (list, tuple)):
        return len(value) == nd and all(isinstance(r, (list, tuple, np.ndarray)) and len(r) == nd
                                        for r in value)
    arr = np.asarray(value)
    return nd > 1 and arr.ndim >= 2 and arr.shape[:2] == (nd, nd) and arr.ndim in (2, 2 + nd)


def _tensor_function(func, nd: int, where: str):
    """Wrap a function returning d×d entries (numbers, arrays or callables of the coordinates,
    nested or stacked) as one returning an array (d, d, *shape)."""
    def tensor(*coords):
        val = func(*coords)
        rows = [[val[i][j] for j in range(nd)] for i in range(nd)]
        flat = [e(*coords) if callable(e) else e for row in rows for e in row]
        with np.errstate(all="ignore"):
            arrays = np.broadcast_arrays(*[np.asarray(e, dtype=float) for e in flat],
                                         np.zeros(np.shape(coords[0])))[:-1]
        return np.stack(arrays).reshape((nd, nd) + np.shape(coords[0]))
    tensor.__name__ = f"tensor {where}"
    return tensor
