"""A sweep specification: the base problem, the parameter axes, the quantities; and its points.

A sweep file (TOML) describes one SGD Fokker–Planck problem (:func:`fpsolve.sgd.model`) and lists
of values for some of its parameters; the sweep is their Cartesian product::

    name = "mori_escape"
    quantities = ["spectral_gap", "escape_rate", "mori_rate"]

    [grid]
    bounds = [[-2.0, 2.0]]        # one (low, high) per axis
    shape = 200                   # cells per axis (an int or a list)
    periodic = false

    [model]                       # fpsolve.sgd.model(grid, loss, lr, batch_size, noise, ...)
    loss = "double_well"          # an expression in x (x, y, z or x1, x2, x3), or a name below
    lr = 0.1
    batch_size = 8
    [model.noise]                 # fpsolve.noise.<kind>(**the other keys)
    kind = "LossScaled"
    h_star = 2.0
    loss_offset = 0.05

    [potentials]                  # optional named loss expressions
    double_well = "(x**2 - 1)**2 / 4"
    tilted = "(x**2 - 1)**2 / 4 + tilt * x"

    [params]                      # optional named constants usable in expressions
    tilt = 0.05

    [axes]                        # the swept parameters, by column name (see below)
    lr = [0.05, 0.1, 0.2]
    batch_size = [2, 4, 8]
    loss = ["double_well", "tilted"]

Column names (used by ``[axes]``, the results table and plot expressions): ``model.X`` → ``X``,
``model.noise.X`` → ``noise_X``, ``params.X`` → ``X``, ``grid.X`` → ``grid_X``, ``theory.X`` →
``theory_X``. A dotted path (``"model.noise.h_star"``) is accepted too.

Every point is keyed by a hash of its fully resolved problem (grid, model, parameters, theory
inputs, quantities): the key is what makes a sweep resumable, and a changed base problem never
reuses stale results.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..expressions import Expression
from ..jsonable import jsonable

SECTIONS = ("grid", "model", "params", "potentials", "theory")
#: Quantities a point can compute (see :mod:`fpsolve.sweeps.quantities`).
QUANTITIES = ("spectral_gap", "escape_rate", "mean", "var", "cov", "mode", "mori_rate",
              "kramers_rate", "eigenvalues", "mfpt")
MODEL_KEYS = ("loss", "lr", "batch_size", "noise", "dataset_size", "replacement", "convention",
              "boundary")


@dataclass
class Point:
    """One problem of a sweep: its key, its axis values, and the full resolved configuration."""

    key: str
    values: dict
    config: dict
    quantities: tuple

    def to_dict(self) -> dict:
        """The point as a JSON-ready dict: key, axis values, resolved configuration and quantities.
        """
        return {"key": self.key, "values": self.values, "config": self.config,
                "quantities": list(self.quantities)}


@dataclass
class Sweep:
    """A parsed sweep: ``base`` problem (sections grid, model, params, potentials, theory),
    ``axes`` (column name → list of values), ``quantities``, ``plots`` and ``name``.

    Build with :func:`load` (a TOML file) or :meth:`from_dict`; :meth:`points` expands it.
    """

    base: dict
    axes: dict
    quantities: tuple
    name: str = "sweep"
    plots: list = field(default_factory=list)
    source: Path | None = None
    out: str | None = None

    @classmethod
    def from_dict(cls, d: dict, name: str = "sweep", source=None) -> "Sweep":
        """A sweep from the dict of a sweep file (what :func:`load` reads from TOML), checked;
        ``source`` is the file, for relative paths.
        """
        d = copy.deepcopy(d)
        known = set(SECTIONS) | {"axes", "quantities", "name", "plot", "out"}
        unknown = set(d) - known
        if unknown:
            raise InputError(f"sweep: unknown top-level entries {sorted(unknown)}; expected "
                             f"{sorted(known)}.")
        base = {s: d.get(s, {}) for s in SECTIONS}
        for s in SECTIONS:
            if not isinstance(base[s], dict):
                raise InputError(f"sweep: [{s}] must be a table.")
        if "bounds" not in base["grid"] or "shape" not in base["grid"]:
            raise InputError("sweep: [grid] needs bounds (e.g. [[-2, 2]]) and shape (e.g. 200).")
        for k in ("loss", "lr", "batch_size", "noise"):
            if k not in base["model"]:
                raise InputError(f"sweep: [model] needs {k!r} (arguments of fpsolve.sgd.model).")
        bad = set(base["model"]) - set(MODEL_KEYS)
        if bad:
            raise InputError(f"sweep: unknown [model] entries {sorted(bad)}; fpsolve.sgd.model "
                             f"takes {MODEL_KEYS}.")
        if not isinstance(base["model"]["noise"], dict) or "kind" not in base["model"]["noise"]:
            raise InputError("sweep: [model.noise] must be a table with kind = \"Isotropic\", "
                             "\"LossScaled\", \"WhiteNoise\", \"Covariance\" or \"Hessian\".")
        clash = set(base["params"]) & set(base["model"])
        if clash:
            raise InputError(f"sweep: [params] names {sorted(clash)} clash with [model] entries.")
        quantities = d.get("quantities", ["spectral_gap"])
        if isinstance(quantities, str):
            quantities = [quantities]
        bad = [q for q in quantities if q not in QUANTITIES]
        if bad or not quantities:
            raise InputError(f"sweep: unknown quantities {bad}; choose from {QUANTITIES}.")
        ndim = np.atleast_2d(np.asarray(base["grid"]["bounds"], dtype=float)).shape[0]
        if ndim > 1:
            if "mfpt" in quantities:
                raise InputError("sweep: the mfpt quantity is available in 1D only (its target "
                                 "is the far side of the other minimum).")
            need = {"h_e", "h_s", "loss_minimum", "loss_saddle"} - set(base["theory"])
            if {"mori_rate", "kramers_rate"} & set(quantities) and need:
                raise InputError(f"sweep: mori_rate/kramers_rate in {ndim}D need [theory] "
                                 f"{sorted(need)} (found automatically only in 1D).")
        plots = d.get("plot", [])
        plots = [plots] if isinstance(plots, dict) else list(plots)
        sweep = cls(base=base, axes={}, quantities=tuple(quantities), name=d.get("name", name),
                    plots=plots, source=source, out=d.get("out"))
        axes = d.get("axes", {})
        if not isinstance(axes, dict):
            raise InputError("sweep: [axes] must be a table of lists.")
        for raw, values in axes.items():
            col = sweep.column_of(raw)
            if not isinstance(values, list) or not values:
                raise InputError(f"sweep: axis {raw!r} must be a non-empty list of values.")
            if col in sweep.axes:
                raise InputError(f"sweep: axis {raw!r} is given twice (as {col!r}).")
            sweep.axes[col] = values
        return sweep

    # -- names ------------------------------------------------------------------------------------
    def paths(self) -> dict:
        """Column name → path in ``base`` for every settable entry of the base problem."""
        out = {}
        for k in self.base["grid"]:
            out[f"grid_{k}"] = ("grid", k)
        for k, v in self.base["model"].items():
            if k == "noise":
                for nk in v:
                    out[f"noise_{nk}"] = ("model", "noise", nk)
            else:
                out[k] = ("model", k)
        for k in self.base["params"]:
            out[k] = ("params", k)
        for k in self.base["theory"]:
            out[f"theory_{k}"] = ("theory", k)
        return out

    def column_of(self, name: str) -> str:
        """The column name of an axis given as a column name or a dotted path."""
        paths = self.paths()
        if name in paths:
            return name
        parts = tuple(name.split("."))
        for col, path in paths.items():
            if path == parts:
                return col
        # a model entry or parameter not in the base problem (e.g. dataset_size) may be swept
        if parts[0] == "model" and len(parts) == 2 and parts[1] in MODEL_KEYS:
            return parts[1]
        if len(parts) == 1 and name in MODEL_KEYS:
            return name
        if parts[:2] == ("model", "noise") and len(parts) == 3:
            return f"noise_{parts[2]}"
        if name.startswith("noise_") or name.startswith("theory_"):
            return name
        raise InputError(f"sweep: axis {name!r} names nothing in the base problem; known "
                         f"columns: {sorted(paths)} (or dotted paths such as model.lr).")

    def path_of(self, col: str) -> tuple:
        """Where a table column lives in a point's configuration, as a tuple of keys (e.g.
        ``('model', 'noise', 'h_star')``).
        """
        paths = self.paths()
        if col in paths:
            return paths[col]
        if col in MODEL_KEYS:
            return ("model", col)
        if col.startswith("noise_"):
            return ("model", "noise", col[len("noise_"):])
        if col.startswith("theory_"):
            return ("theory", col[len("theory_"):])
        raise InputError(f"sweep: no path for column {col!r}.")  # pragma: no cover

    # -- points -----------------------------------------------------------------------------------
    def points(self) -> list:
        """All points (Cartesian product of the axes, first axis slowest), each with its key."""
        names = list(self.axes)
        out = []
        for combo in itertools.product(*(self.axes[n] for n in names)):
            cfg = copy.deepcopy(self.base)
            values = dict(zip(names, combo))
            for col, v in values.items():
                _set(cfg, self.path_of(col), copy.deepcopy(v))
            cfg = resolve(cfg)
            out.append(Point(point_key(cfg, self.quantities), values, cfg, self.quantities))
        keys = [p.key for p in out]
        if len(set(keys)) != len(keys):
            raise InputError("sweep: two points resolve to the same problem (an axis repeats a "
                             "value, or sets something to its base value twice).")
        return out


def load(path) -> Sweep:
    """Parse a sweep TOML file (see the module docstring for its format)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            d = tomllib.load(f)
    except FileNotFoundError:
        raise InputError(f"sweep: no such file {str(path)!r}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"sweep: {path} is not valid TOML: {exc}.") from None
    return Sweep.from_dict(d, name=path.stem, source=path)


def _set(cfg, path, value):
    node = cfg
    for p in path[:-1]:
        node = node.setdefault(p, {})
    node[path[-1]] = value


def resolve(cfg: dict) -> dict:
    """Replace a named loss by its expression (keeping the name) and drop unused sections."""
    cfg = copy.deepcopy(cfg)
    loss = cfg["model"]["loss"]
    pots = cfg.get("potentials", {})
    if isinstance(loss, str) and loss in pots:
        cfg["model"]["loss"] = pots[loss]
        cfg["model"]["loss_name"] = loss
    cfg.pop("potentials", None)
    return cfg


def point_key(cfg: dict, quantities) -> str:
    """16 hex digits of the SHA-256 of the canonical JSON of a resolved problem."""
    blob = json.dumps(jsonable({"config": cfg, "quantities": sorted(quantities)}),
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def flatten(cfg: dict) -> dict:
    """The columns of a resolved problem (lists become JSON text)."""
    out = {}
    for k, v in cfg.get("grid", {}).items():
        out[f"grid_{k}"] = v
    for k, v in cfg["model"].items():
        if k == "noise":
            for nk, nv in v.items():
                out[f"noise_{nk}"] = nv
        else:
            out[k] = v
    out.update(cfg.get("params", {}))
    for k, v in cfg.get("theory", {}).items():
        out[f"theory_{k}"] = v
    return {k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in out.items()}


def compile_expression(expr, ndim: int, params: dict, what: str = "expression"):
    """A vectorised callable f(x₁, …, x_d): a number, or a formula in the one expression language
    of fpsolve's files (:mod:`fpsolve.expressions`)."""
    if not isinstance(expr, str):
        value = float(expr)
        return lambda *xs: np.full(np.shape(xs[0]), value)
    return Expression(expr, ndim, params, where=f"sweep: {what}")
