"""The questions a problem file can ask, one runner each: ``run(problem, model, out) -> dict``
writes its files to ``out`` and returns the answers for the JSON summary. A new question is one
entry in :data:`QUESTIONS` (with the keys it takes, the answers ``fpsolve solve`` prints, and an
optional check of its keys that runs before any solve)."""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InputError
from ..fields.field import Density
from ..geometry.grid import Grid
from ..models.fokker_planck import FokkerPlanck
from . import figures
from .tables import Problem, ProblemError, coefficient, evaluate_on, require


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


def _stationary(problem: Problem, model: FokkerPlanck, out: Path) -> dict:
    method = problem.question.get("method", "auto")
    try:
        p = model.stationary(method=method)
    except InputError as exc:
        raise ProblemError(f"[question] {exc}") from None
    p.save(out / "stationary.npz")
    figures.field(p, out / "stationary.png", f"{problem.title}: stationary density")
    res = {**_moments(p), "info": p.info, "files": ["stationary.npz", "stationary.png"]}
    if any(problem.grid.periodic):
        # the mean current through each periodic axis (non-zero in a non-equilibrium state)
        res["mean_flux"] = [float(np.mean(J)) for J, per in
                            zip(model.face_flux(p), problem.grid.periodic) if per]
    return res


def _evolve(problem: Problem, model: FokkerPlanck, out: Path) -> dict:
    q, where = problem.question, "[question]"
    p0 = coefficient(require(q, "p0", where), "[question] p0", problem.grid.ndim,
                     problem.parameters)
    vals = evaluate_on(p0, problem.grid, "[question] p0")
    if not np.all(np.isfinite(vals)) or np.any(vals < 0) or not vals.sum() > 0:
        raise ProblemError("[question] p0 must be finite, non-negative and not identically "
                           "zero on the grid.")
    times = require(q, "times", where)
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
    figures.evolution(run, problem.grid, out / "evolve.png", problem.title)
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
    figures.spectrum(lam, out / "spectrum.png", problem.title)
    real = np.real(lam)
    with np.errstate(divide="ignore"):
        times = np.where(real > 0, 1.0 / np.where(real > 0, real, 1.0), np.inf)
    res = {"eigenvalues": real if np.isrealobj(lam) else lam, "relaxation_times": times,
           "spectral_gap": float(real[1]) if len(real) > 1 else None,
           "files": ["spectrum.npz", "spectrum.png"]}
    return res


def _mfpt_target(q, grid: Grid, parameters: dict) -> np.ndarray:
    where = "[question]"
    expr = require(q, "target", where)
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
    figures.field(tau, out / "mfpt.png", f"{problem.title}: mean first-passage time")
    res = {"max": float(tau.values.max()), "info": tau.info, "files": ["mfpt.npz", "mfpt.png"]}
    if start is not None:
        res["start"] = start
        res["mfpt_from_start"] = float(np.ravel(tau.at(start[None, :]))[0])
    return res


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
