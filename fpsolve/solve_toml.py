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
from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import numbers
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import InputError, SolverError
from .fields.field import Density
from .geometry.grid import Grid
from .models.coefficients import describe
from .models.fokker_planck import FokkerPlanck


class ProblemError(InputError):
    """A problem file that cannot be used as written."""


#: Names available in expressions besides the coordinates and [parameters].
FUNCTIONS = {
    "np": np, "pi": np.pi, "e": np.e, "inf": np.inf,
    **{name: getattr(np, name) for name in (
        "exp", "log", "log1p", "expm1", "log10", "log2", "sqrt", "cbrt", "sin", "cos", "tan",
        "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
        "arctanh", "where", "abs", "minimum", "maximum", "clip", "sign", "heaviside", "square",
        "power", "hypot", "floor", "ceil", "mod", "logaddexp", "sinc")},
}
AXIS_NAMES = ("x", "y", "z")
TOP_KEYS = ("title", "description", "parameters", "grid", "model", "question")
GRID_KEYS = ("bounds", "shape", "periodic")
MODEL_KEYS = ("potential", "drift", "diffusion", "floor", "boundary", "convention")


# ---------------------------------------------------------------------------------------------
# expressions
# ---------------------------------------------------------------------------------------------
def coordinate_names(ndim: int) -> list[list[str]]:
    """Accepted names of each coordinate: [["x", "x1"], ["y", "x2"], ...]."""
    return [[AXIS_NAMES[a], f"x{a + 1}"] for a in range(ndim)]


class Expression:
    """A checked expression of the coordinates, callable as ``f(x1, ..., x_d)`` on arrays."""

    def __init__(self, text: str, where: str, ndim: int, parameters: dict):
        self.text, self.where, self.ndim = text, where, ndim
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except SyntaxError as exc:
            col = f" at column {exc.offset}" if exc.offset else ""
            raise ProblemError(f"{where} = {text!r}: syntax error{col} ({exc.msg}).") from None
        coords = [n for names in coordinate_names(ndim) for n in names]
        allowed = set(FUNCTIONS) | set(parameters) | set(coords)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id not in allowed:
                other = [n for names in coordinate_names(3)[ndim:] for n in names]
                hint = (f" — a {ndim}D grid has coordinates "
                        f"{', '.join('/'.join(n) for n in coordinate_names(ndim))}"
                        if node.id in other else "")
                raise ProblemError(
                    f"{where} = {text!r}: unknown name {node.id!r}{hint}. Allowed: the "
                    f"coordinates {', '.join(coords)}; [parameters] "
                    f"{', '.join(parameters) or '(none)'}; and {', '.join(sorted(FUNCTIONS))}.")
            if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
                raise ProblemError(f"{where} = {text!r}: attribute {node.attr!r} is not allowed "
                                   f"(no names starting with '_').")
            if isinstance(node, (ast.Lambda, ast.NamedExpr)):
                raise ProblemError(f"{where} = {text!r}: lambdas and ':=' are not allowed; write "
                                   f"a plain expression or use 'module:function'.")
        self._code = compile(tree, f"<{where}>", "eval")
        self._namespace = {**FUNCTIONS, **parameters}

    def __call__(self, *coords):
        ns = dict(self._namespace)
        for arr, names in zip(coords, coordinate_names(self.ndim)):
            for n in names:
                ns[n] = arr
        try:
            with np.errstate(all="ignore"):  # NaN/inf are reported by the model's checks
                return eval(self._code, {"__builtins__": {}}, ns)
        except Exception as exc:
            raise ProblemError(f"{self.where} = {self.text!r} does not evaluate on the grid: "
                               f"{type(exc).__name__}: {exc}.") from None

    def __repr__(self):
        return f"Expression({self.text!r})"


def _import_function(spec: str, where: str, base: Path | None) -> Callable:
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
            return _import_function(value, where, base)
        return Expression(value, where, ndim, parameters)
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
    except ProblemError:
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


# ---------------------------------------------------------------------------------------------
# the problem
# ---------------------------------------------------------------------------------------------
def _check_keys(table: dict, allowed, where: str):
    if not isinstance(table, dict):
        raise ProblemError(f"{where} must be a table ([{where.strip('[]')}]); got "
                           f"{type(table).__name__}.")
    unknown = [k for k in table if k not in allowed]
    if unknown:
        raise ProblemError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; allowed "
                           f"keys are {', '.join(allowed)}.")


def _require(table: dict, key: str, where: str):
    if key not in table:
        raise ProblemError(f"{where}: missing required key {key!r}.")
    return table[key]


@dataclass
class Question:
    """A question kind: its allowed keys (besides ``kind``) and the function answering it.

    ``run(problem, model, out_dir) -> dict`` writes its files and returns the JSON summary;
    ``answers`` are the keys of that summary that ``fpsolve solve`` prints; ``check(question,
    grid, parameters)`` checks the question's keys before any solve (raises ProblemError)."""

    keys: tuple
    run: Callable
    doc: str = ""
    answers: tuple = ()
    check: Callable | None = None


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
        try:
            return FokkerPlanck(self.grid, **self.model_kwargs)
        except ProblemError:
            raise
        except InputError as exc:
            raise ProblemError(f"[model]: {exc}") from None


def _grid(table: dict) -> Grid:
    _check_keys(table, GRID_KEYS, "[grid]")
    bounds = _require(table, "bounds", "[grid]")
    shape = _require(table, "shape", "[grid]")
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


def _parameters(table) -> dict:
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


def _model_kwargs(table: dict, grid: Grid, parameters: dict, base: Path | None) -> dict:
    _check_keys(table, MODEL_KEYS, "[model]")
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
            kw["drift"] = _import_function(drift, "[model] drift", base)
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
    except ProblemError:
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


def load_problem(path) -> Problem:
    """Read and check a problem file; raises ProblemError with a clear message."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProblemError(f"cannot read {path}: {exc.strerror or exc}.") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProblemError(f"{path.name} is not valid TOML: {exc}.") from None
    return parse_problem(raw, source=path)


def parse_problem(raw: dict, source: Path | None = None) -> Problem:
    """Check a problem given as a dict (the parsed TOML)."""
    _check_keys(raw, TOP_KEYS, "top level")
    for t in ("grid", "model", "question"):
        if t not in raw:
            raise ProblemError(f"missing table [{t}]; a problem needs [grid], [model] and "
                               f"[question].")
    for k in ("title", "description"):
        if k in raw and not isinstance(raw[k], str):
            raise ProblemError(f"{k} must be a string.")
    parameters = _parameters(raw.get("parameters", {}))
    grid = _grid(raw["grid"])
    base = source.resolve().parent if source is not None else None
    kw = _model_kwargs(raw["model"], grid, parameters, base)
    q = raw["question"]
    if not isinstance(q, dict):
        raise ProblemError("[question] must be a table with a 'kind' key.")
    kind = _require(q, "kind", "[question]")
    if kind not in QUESTIONS:
        raise ProblemError(f"[question] kind {kind!r} is unknown; known kinds: "
                           f"{', '.join(QUESTIONS)}.")
    _check_keys(q, ("kind",) + QUESTIONS[kind].keys, f"[question] (kind = {kind!r})")
    if QUESTIONS[kind].check is not None:
        QUESTIONS[kind].check(q, grid, parameters)
    problem = Problem(grid, kw, dict(q), raw.get("title", source.stem if source else ""),
                      parameters, source, raw)
    problem.model()  # boundary/convention checks now, before any output is written
    return problem


# ---------------------------------------------------------------------------------------------
# questions
# ---------------------------------------------------------------------------------------------
def _number(q, key, default, where, positive=True, integer=False):
    val = q.get(key, default)
    ok = isinstance(val, int if integer else numbers.Real) and not isinstance(val, bool)
    if not ok or (positive and not val > 0):
        kind = "a positive integer" if integer else ("a positive number" if positive else
                                                     "a number")
        raise ProblemError(f"{where} {key} must be {kind}; got {val!r}.")
    return val


def _moments(d: Density) -> dict:
    out = {"mean": d.mean(), "cov": d.cov()}
    if d.grid.ndim == 1:
        out["var"] = d.var()
    return out


def _plot_density(d: Density, path: Path, title: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    d.plot(ax=ax)
    ax.set_title(title)
    fig.savefig(path, dpi=110)


def _stationary(problem: Problem, model: FokkerPlanck, out: Path) -> dict:
    method = problem.question.get("method", "auto")
    try:
        p = model.stationary(method=method)
    except InputError as exc:
        raise ProblemError(f"[question] {exc}") from None
    p.save(out / "stationary.npz")
    _plot_density(p, out / "stationary.png", f"{problem.title}: stationary density")
    res = {**_moments(p), "info": p.info, "files": ["stationary.npz", "stationary.png"]}
    if any(problem.grid.periodic):
        # the mean current through each periodic axis (non-zero in a non-equilibrium state)
        res["mean_flux"] = [float(np.mean(J)) for J, per in
                            zip(model.face_flux(p), problem.grid.periodic) if per]
    return res


def _evolve(problem: Problem, model: FokkerPlanck, out: Path) -> dict:
    q, where = problem.question, "[question]"
    p0 = coefficient(_require(q, "p0", where), "[question] p0", problem.grid.ndim,
                     problem.parameters)
    vals = evaluate_on(p0, problem.grid, "[question] p0")
    if not np.all(np.isfinite(vals)) or np.any(vals < 0) or not vals.sum() > 0:
        raise ProblemError("[question] p0 must be finite, non-negative and not identically "
                           "zero on the grid.")
    times = _require(q, "times", where)
    if isinstance(times, numbers.Real) and not isinstance(times, bool):
        times = [times]
    if not isinstance(times, list) or not times or not all(
            isinstance(t, numbers.Real) and not isinstance(t, bool) for t in times):
        raise ProblemError(f"[question] times must be a list of output times; got {times!r}.")
    dt = q.get("dt")
    if dt is not None:
        dt = _number(q, "dt", None, where)
    try:
        run = model.evolve(vals, times, method=q.get("method", "implicit"),
                           scheme=q.get("scheme", "tr-bdf2"), dt=dt)
    except InputError as exc:
        raise ProblemError(f"[question] {exc}") from None
    files = []
    for i, d in enumerate(run.densities):
        name = f"evolve_{i:03d}.npz"
        d.save(out / name)
        files.append(name)
    from matplotlib.figure import Figure

    nd = problem.grid.ndim
    if nd == 1:
        fig = Figure(figsize=(6, 4), layout="constrained")
        ax = fig.subplots()
        for t, d in zip(run.times, run.densities):
            ax.plot(problem.grid.axes[0], d.values, label=f"t = {t:g}")
        ax.set(xlabel="x", ylabel="density", title=f"{problem.title}: evolution")
        ax.legend(fontsize=8)
    else:
        show = list(range(len(run.times)))
        if len(show) > 4:
            show = [int(round(i)) for i in np.linspace(0, len(show) - 1, 4)]
        fig = Figure(figsize=(4 * len(show), 3.4), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(show)))
        for ax, i in zip(axes, show):
            run.densities[i].plot(ax=ax)
            ax.set_title(f"t = {run.times[i]:g}")
    fig.savefig(out / "evolve.png", dpi=110)
    files.append("evolve.png")
    moments = [_moments(d) for d in run.densities]
    return {"times": run.times, "mass": run.mass, "min_value": run.min_value,
            "mean": [m["mean"] for m in moments], "cov": [m["cov"] for m in moments],
            "steps": run.steps, "dt": run.dt, "method": run.method, "scheme": run.scheme,
            "files": files}


def _spectrum(problem: Problem, model: FokkerPlanck, out: Path) -> dict:
    k = _number(problem.question, "k", 6, "[question]", integer=True)
    try:
        lam = model.eigenvalues(k)
    except InputError as exc:
        raise ProblemError(f"[question] {exc}") from None
    np.savez(out / "spectrum.npz", eigenvalues=lam)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(len(lam)), np.real(lam), "o")
    ax.set(xlabel="index n", ylabel="Re λ_n (1/time)", title=f"{problem.title}: spectrum of −L")
    fig.savefig(out / "spectrum.png", dpi=110)
    real = np.real(lam)
    with np.errstate(divide="ignore"):
        times = np.where(real > 0, 1.0 / np.where(real > 0, real, 1.0), np.inf)
    res = {"eigenvalues": real if np.isrealobj(lam) else lam, "relaxation_times": times,
           "spectral_gap": float(real[1]) if len(real) > 1 else None,
           "files": ["spectrum.npz", "spectrum.png"]}
    return res


def _mfpt_target(q, grid: Grid, parameters: dict) -> np.ndarray:
    where = "[question]"
    expr = _require(q, "target", where)
    if not isinstance(expr, str):
        raise ProblemError(f"{where} target must be an expression string such as \"x >= 1\".")
    target = evaluate_on(coefficient(expr, "[question] target", grid.ndim, parameters), grid,
                         "[question] target") != 0
    if not target.any() or target.all():
        raise ProblemError(f"{where} target {expr!r} selects {int(target.sum())} of "
                           f"{target.size} cells; it must select some cells but not all.")
    return target


def _mfpt_start(q, grid: Grid) -> np.ndarray | None:
    """``start`` as a point inside the grid (checked before the solve), or None."""
    if "start" not in q:
        return None
    raw = q["start"]
    items = raw if isinstance(raw, list) else [raw]
    if len(items) != grid.ndim or not all(isinstance(v, numbers.Real) and not isinstance(v, bool)
                                          for v in items):
        raise ProblemError(f"[question] start must be a point with {grid.ndim} coordinate(s), "
                           f"e.g. start = {[0.0] * grid.ndim}; got {raw!r}.")
    start = np.asarray(items, dtype=float)
    for a, (x, (lo, hi), per) in enumerate(zip(start, grid.bounds, grid.periodic)):
        if not per and not lo <= x <= hi:
            raise ProblemError(f"[question] start = {raw!r} lies outside the grid: coordinate "
                               f"{a} is {x:g}, the [grid] bounds are [{lo:g}, {hi:g}].")
    return start


def _check_mfpt(q, grid: Grid, parameters: dict):
    _mfpt_target(q, grid, parameters)
    _mfpt_start(q, grid)


def _mfpt(problem: Problem, model: FokkerPlanck, out: Path) -> dict:
    """E τ to the target ``target = "x >= 1"`` (an expression that is non-zero on the target);
    ``start = [x, ...]`` optionally reports E τ from that point."""
    q = problem.question
    target = _mfpt_target(q, problem.grid, problem.parameters)
    start = _mfpt_start(q, problem.grid)
    try:
        tau = model.mean_first_passage_time(target)
    except InputError as exc:
        raise ProblemError(f"[question] {exc}") from None
    tau.save(out / "mfpt.npz")
    _plot_density_like(tau, out / "mfpt.png", f"{problem.title}: mean first-passage time")
    res = {"max": float(tau.values.max()), "info": tau.info, "files": ["mfpt.npz", "mfpt.png"]}
    if start is not None:
        res["start"] = start
        res["mfpt_from_start"] = float(np.ravel(tau.at(start[None, :]))[0])
    return res


def _plot_density_like(field, path: Path, title: str):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    field.plot(ax=ax)
    ax.set_title(title)
    fig.savefig(path, dpi=110)


def _jsonable(obj):
    """Plain JSON types (numpy arrays and scalars, complex as {"re", "im"}, inf/NaN as strings)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, complex):
        return {"re": _jsonable(obj.real), "im": _jsonable(obj.imag)}
    if isinstance(obj, float) and not np.isfinite(obj):
        return "NaN" if np.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, Path):
        return str(obj)
    return obj


#: Question kinds. Adding one (e.g. "mfpt", "escape_rate") is one entry here.
QUESTIONS: dict[str, Question] = {
    "stationary": Question(("method",), _stationary, "the stationary density",
                           answers=("mean", "var", "cov", "mean_flux")),
    "evolve": Question(("p0", "times", "method", "scheme", "dt"), _evolve,
                       "evolve p0 to the output times", answers=("times", "mass", "mean")),
    "spectrum": Question(("k",), _spectrum, "the k slowest relaxation rates",
                         answers=("eigenvalues", "spectral_gap")),
    "mfpt": Question(("target", "start"), _mfpt, "the mean first-passage time to a target",
                     answers=("mfpt_from_start", "start", "max"), check=_check_mfpt),
}


def solve(problem: Problem, out_dir) -> dict:
    """Answer the problem's question, write its files to ``out_dir``, return the summary dict
    (also written to ``out_dir/summary.json``)."""
    from fpsolve import __version__

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = problem.model()
    kind = problem.question["kind"]
    try:
        result = QUESTIONS[kind].run(problem, model, out)
    except SolverError as exc:
        raise SolverError(f"{kind}: {exc}") from None
    summary = {
        "title": problem.title, "source": str(problem.source) if problem.source else None,
        "question": kind, "fpsolve": __version__,
        "grid": {"bounds": problem.grid.bounds, "shape": problem.grid.shape,
                 "periodic": problem.grid.periodic},
        "model": problem.raw.get("model", {}),
        "parameters": problem.parameters,
        "result": result,
    }
    summary = _jsonable(summary)
    summary["result"]["files"] = list(summary["result"].get("files", [])) + ["summary.json"]
    (out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    return summary
