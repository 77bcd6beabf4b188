"""Problem files end to end: read and check (:func:`load_problem`, :func:`parse_problem`), then
answer the question and write the results (:func:`solve`)."""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

from .. import __version__
from ..errors import SolverError
from ..jsonable import jsonable
from ..numerics import memory
from .questions import QUESTIONS
from .tables import (TOP_KEYS, Problem, ProblemError, check_keys, grid_table, model_table,
                     parameters_table, require)


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
    """Check a problem given as a dict (the parsed TOML).

    Examples
    --------
    The same double well as the README, from a dict (what :func:`load_problem` reads from TOML):

    >>> from fpsolve.problems import parse_problem
    >>> problem = parse_problem({
    ...     "grid": {"bounds": [[-2.5, 2.5]], "shape": 400},
    ...     "model": {"potential": "(x**2 - 1)**2 / 4", "diffusion": "0.05"},
    ...     "question": {"kind": "stationary"}})
    >>> print(f"{problem.model().stationary().var():.4f}")
    0.9368
    """
    check_keys(raw, TOP_KEYS, "top level")
    for t in ("grid", "model", "question"):
        if t not in raw:
            raise ProblemError(f"missing table [{t}]; a problem needs [grid], [model] and "
                               f"[question].")
    for k in ("title", "description"):
        if k in raw and not isinstance(raw[k], str):
            raise ProblemError(f"{k} must be a string.")
    parameters = parameters_table(raw.get("parameters", {}))
    grid = grid_table(raw["grid"])
    # before any coefficient is evaluated on the grid: does a model of this size fit at all?
    memory.check(memory.model_bytes(grid.size, grid.ndim, False),
                 f"[grid]: a model on {grid.size} cells",
                 "Use a coarser [grid] shape (memory grows in proportion to the number of cells).")
    base = source.resolve().parent if source is not None else None
    kw = model_table(raw["model"], grid, parameters, base)
    q = raw["question"]
    if not isinstance(q, dict):
        raise ProblemError("[question] must be a table with a 'kind' key.")
    kind = require(q, "kind", "[question]")
    if kind not in QUESTIONS:
        raise ProblemError(f"[question] kind {kind!r} is unknown; known kinds: "
                           f"{', '.join(QUESTIONS)}.")
    check_keys(q, ("kind",) + QUESTIONS[kind].keys, f"[question] (kind = {kind!r})")
    if QUESTIONS[kind].check is not None:
        QUESTIONS[kind].check(q, grid, parameters)
    problem = Problem(grid, kw, dict(q), raw.get("title", source.stem if source else ""),
                      parameters, source, raw)
    problem.model()  # boundary/convention checks now, before any output is written
    return problem


def solve(problem: Problem, out_dir) -> dict:
    """Answer the problem's question, write its files to ``out_dir``, return the summary dict
    (also written to ``out_dir/summary.json``)."""
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
    summary = jsonable(summary)
    summary["result"]["files"] = list(summary["result"].get("files", [])) + ["summary.json"]
    (out / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    return summary
