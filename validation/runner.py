"""Running cases: one at a time or in parallel processes, timing each, never stopping on errors.

A case that raises is recorded with verdict ``FAIL`` and its traceback, and the run goes on. With
``jobs > 1`` the cases run in a :class:`~concurrent.futures.ProcessPoolExecutor` (fork start
method where available, so that cases registered at run time, e.g. by tests, reach the workers);
a worker that dies takes only its own case down.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from fpsolve.progress import Progress as BaseProgress

from .framework import FAIL, VERDICTS, Case, Context


def run_case(spec, mode: str = "quick", out_dir="validation-report") -> dict:
    """Run one case and return its JSON record; never raises (errors become FAIL records)."""
    if "matplotlib.pyplot" not in sys.modules:  # figures are files: no display needed (CI,
        import matplotlib                         # workers); leave a user's pyplot alone

        matplotlib.use("Agg")
    ctx = Context(spec.paper, spec.name, mode, Path(out_dir))
    t0 = time.perf_counter()
    caught = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            result = spec.func(ctx)
        if not isinstance(result, Case):
            raise TypeError(f"case {spec.key} returned {type(result).__name__}; a case function "
                            f"must return a fpsolve.validation.Case.")
        result.paper, result.name = spec.paper, spec.name
        if result.figure is not None and not (ctx.out_dir / result.figure).is_file():
            raise FileNotFoundError(f"case {spec.key}: figure {result.figure!r} was not written "
                                    f"under {ctx.out_dir}; use ctx.save_figure(fig).")
    except Exception:
        result = Case.failed(spec.paper, spec.name, traceback.format_exc(), spec.title)
    result.duration = time.perf_counter() - t0
    try:
        record = result.to_record()
    except Exception:  # a case whose numbers cannot be serialised still gets a record
        bad = Case.failed(spec.paper, spec.name, traceback.format_exc(), spec.title)
        bad.duration = result.duration
        record = bad.to_record()
    # warnings go into the record (they would garble the progress bar), each message once
    msgs = [f"{w.category.__name__}: {str(w.message).strip()} ({Path(w.filename).name}:"
            f"{w.lineno})" for w in caught or []]
    record["warnings"] = list(dict.fromkeys(msgs))[:20]
    return record


class Progress:
    """The run's progress (:class:`fpsolve.progress.Progress`): a bar on a terminal with the
    case running and the FAIL count; one line per finished case otherwise."""

    def __init__(self, total: int, stream=None):
        self.total = total
        self.failed = 0
        self.bar = BaseProgress(total, "fpsolve validate", unit="case", stream=stream)

    def start(self, label: str):
        """Show which case is running."""
        self.bar.note(f"running {label}")

    def finish(self, record: dict):
        """Record a finished case (its record from results.json) and show its verdict."""
        self.failed += record["verdict"] == FAIL
        self.bar.advance()
        label = f"{record['paper']}/{record['name']}"
        fail = f", {self.failed} FAIL" if self.failed else ""
        self.bar.note(f"{label}: {record['verdict']}{fail}")
        if not self.bar.enabled:
            n = len(str(self.total))
            self.bar.log(f"[{int(self.bar.done):>{n}}/{self.total}] {label}: "
                         f"{record['verdict']} ({record['duration_s']:.1f} s)")

    def close(self):
        """Close the progress display."""
        self.bar.close()


@dataclass
class RunResult:
    """All records of a run (in registry order) and its metadata."""

    records: list
    mode: str
    jobs: int
    duration_s: float
    started: str
    metadata: dict = field(default_factory=dict)

    @property
    def counts(self) -> dict:
        """{verdict: number of cases} over every verdict."""
        return {v: sum(r["verdict"] == v for r in self.records) for v in VERDICTS}

    @property
    def failed(self) -> bool:
        """Whether any case is ``FAIL``."""
        return any(r["verdict"] == FAIL for r in self.records)


def _context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run(specs, mode: str = "quick", out_dir="validation-report", jobs: int = 1,
        progress: Progress | None = None) -> RunResult:
    """Run ``specs`` (from :meth:`Registry.select`) and return a :class:`RunResult`.

    jobs : number of worker processes (1: in this process).
    progress : a :class:`Progress` (None: no progress output).
    """
    specs = list(specs)
    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    records: dict[str, dict] = {}
    jobs = max(1, int(jobs))
    if jobs == 1 or len(specs) <= 1:
        for spec in specs:
            if progress:
                progress.start(spec.key)
            records[spec.key] = rec = run_case(spec, mode, out_dir)
            if progress:
                progress.finish(rec)
    else:
        with cf.ProcessPoolExecutor(max_workers=min(jobs, len(specs)),
                                    mp_context=_context()) as pool:
            futures = {pool.submit(run_case, spec, mode, out_dir): spec for spec in specs}
            if progress:
                progress.start(f"{len(specs)} cases on {min(jobs, len(specs))} processes")
            for fut in cf.as_completed(futures):
                spec = futures[fut]
                try:
                    rec = fut.result()
                except Exception:  # the worker died (or the case could not be sent to it)
                    rec = Case.failed(spec.paper, spec.name, traceback.format_exc(),
                                      spec.title).to_record()
                records[spec.key] = rec
                if progress:
                    progress.finish(rec)
    if progress:
        progress.close()
    ordered = [records[s.key] for s in specs]
    return RunResult(ordered, mode, jobs, time.perf_counter() - t0, started)
