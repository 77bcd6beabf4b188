"""Running a sweep on Dask: submit the unfinished points, store each row as it arrives.

The client (this process) owns the files; workers only compute (:func:`.quantities.evaluate_point`
takes and returns plain data), so a remote cluster needs no shared filesystem. Rows are stored
in completion order; a point whose worker dies, or whose task fails inside Dask, is recorded as
an error like any other failure. ``max_points`` stops after that many points have been computed
(an interruption on purpose: a re-run picks up the rest).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..jsonable import jsonable
from ..progress import Progress
from .plots import summary_plots
from .quantities import evaluate_point
from .spec import Sweep, flatten, load
from .store import PointStore, read_table, write_table


@dataclass
class SweepResult:
    """What :func:`run` did.

    rows : one dict per point of the sweep that has finished (this run or an earlier one), in
        the sweep's point order. table : path of the table (Parquet or CSV).
    computed : keys computed in this run. skipped : keys found finished on disk. pending : keys
        not run (``max_points`` reached). failed : keys whose row has status "error".
    plots : paths of the summary plots. out : the output folder.
    """

    sweep: Sweep
    out: Path
    rows: list
    table: Path
    computed: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    pending: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    plots: list = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def complete(self) -> bool:
        """Every point has a row (ok or error)."""
        return not self.pending

    def read_table(self) -> list:
        """The rows of the sweep's table (Parquet or CSV), one dict per point."""
        return read_table(self.table)

    def to_pandas(self):
        """The table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows)

    def summary(self) -> str:
        """One line: points computed now, already done, pending and failed, and where the table is.
        """
        n = len(self.sweep.points())
        return (f"sweep {self.sweep.name!r}: {n} points, {len(self.computed)} computed now, "
                f"{len(self.skipped)} already done, {len(self.pending)} pending, "
                f"{len(self.failed)} failed; table {self.table}")


def run(sweep, out=None, scheduler=None, client=None, n_workers=2, processes=True,
        max_points=None, retry_failed=False, plots=True, progress=False,
        table_format="auto") -> SweepResult:
    """Run a sweep (a :class:`~.spec.Sweep`, a dict, or the path of a TOML file) on Dask.

    out : output folder (default: the file's ``out`` entry, relative to the file, or
        ``<name>_results`` next to it / in the working directory).
    scheduler : address of a running Dask scheduler (``tcp://host:8786``); else ``client``
        (a ``dask.distributed.Client`` to use as is); else a LocalCluster with ``n_workers``
        single-threaded workers (processes, or threads with ``processes=False``), closed after.
    max_points : compute at most this many unfinished points, then stop (resume by re-running).
    retry_failed : recompute points whose stored row is an error (default: keep them).
    plots : write the summary plots. progress : one line per finished point on stderr.
    table_format : "auto" (Parquet if pyarrow is installed, else CSV), "parquet", "csv".

    From a script, call it under ``if __name__ == "__main__":``: Dask starts local worker
    processes with "spawn", which re-imports the script in each of them.
    """
    t0 = time.perf_counter()
    sweep = _as_sweep(sweep)
    out = output_folder(sweep, out)
    store = PointStore(out)
    points = sweep.points()
    keys = [p.key for p in points]
    done = store.finished(keys, retry_failed=retry_failed)
    todo = [p for p in points if p.key not in done]
    if max_points is not None:
        if max_points < 0:
            raise InputError(f"sweep: max_points must be ≥ 0; got {max_points}.")
        todo, later = todo[:max_points], todo[max_points:]
    else:
        later = []
    computed = []
    if todo:
        with _client(scheduler, client, n_workers, processes) as c:
            computed = _submit_and_store(c, todo, store, progress, len(points))
    rows = [r for r in (store.read(k) for k in keys) if r is not None]
    table = write_table(rows, out, fmt=table_format)
    result = SweepResult(sweep=sweep, out=out, rows=rows, table=table, computed=computed,
                         skipped=[k for k in keys if k in done],
                         pending=[p.key for p in later],
                         failed=[r["key"] for r in rows if r.get("status") != "ok"])
    if plots and rows:
        result.plots = summary_plots(sweep, rows, out / "plots")
    result.elapsed_s = time.perf_counter() - t0
    _write_manifest(result)
    return result


def _as_sweep(sweep) -> Sweep:
    if isinstance(sweep, Sweep):
        return sweep
    if isinstance(sweep, dict):
        return Sweep.from_dict(sweep)
    if isinstance(sweep, (str, Path)):
        return load(sweep)
    raise InputError(f"sweep: expected a Sweep, a dict or a TOML path; got {type(sweep).__name__}.")


def output_folder(sweep: Sweep, out) -> Path:
    """Where a sweep writes: ``out`` if given, else the file's ``out``, else
    ``<name>_results`` next to the sweep file (or in the working directory)."""
    if out is not None:
        return Path(out)
    base = sweep.source.parent if sweep.source is not None else Path.cwd()
    if sweep.out:
        return base / sweep.out
    return base / f"{sweep.name}_results"


class _client:
    """Context manager: the given client, a client of a running scheduler, or a LocalCluster."""

    def __init__(self, scheduler, client, n_workers, processes):
        self.args = (scheduler, client, n_workers, processes)
        self.owned = []

    def __enter__(self):
        scheduler, client, n_workers, processes = self.args
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ImportError('fpsolve sweeps run on Dask: pip install "fpsolve[sweep]" (or '
                              'pip install "dask[distributed]").') from None
        if client is not None:
            return client
        if scheduler is not None:
            c = Client(scheduler)
            self.owned.append(c)
            return c
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=processes,
                               dashboard_address=None)
        c = Client(cluster)
        self.owned += [c, cluster]
        return c

    def __exit__(self, *exc):
        for obj in self.owned:
            obj.close()
        return False


def _submit_and_store(client, todo, store, progress, total) -> list:
    from dask.distributed import as_completed

    futures = {client.submit(evaluate_point, p.to_dict(), pure=False): p for p in todo}
    computed = []
    bar = Progress(len(todo), "fpsolve sweep", unit="point", enabled=None if progress else False)
    try:
        for fut in as_completed(futures):
            p = futures[fut]
            try:
                row = fut.result()
            except Exception as exc:  # the task itself failed in Dask (e.g. a worker died)
                row = {"key": p.key, **flatten(p.config), "status": "error",
                       "error": f"{type(exc).__name__}: {exc}", "traceback": None,
                       "duration_s": None, "worker": None, "finished": time.time()}
            store.write(row)
            computed.append(p.key)
            bar.advance()
            if progress:
                what = "ok" if row["status"] == "ok" else f"ERROR {row['error']}"
                vals = ", ".join(f"{k}={v}" for k, v in p.values.items())
                bar.log(f"[{len(computed)}/{len(todo)} of {total}] {p.key} {vals}: {what}")
    except BaseException:
        for f in futures:
            f.cancel()
        raise
    finally:
        bar.close()
    return computed


def _write_manifest(result: SweepResult):
    s = result.sweep
    manifest = {
        "name": s.name, "source": str(s.source) if s.source else None,
        "axes": s.axes, "quantities": list(s.quantities), "points": len(s.points()),
        "finished": len(result.rows), "failed": len(result.failed),
        "pending": len(result.pending), "table": result.table.name,
        "plots": [str(p.relative_to(result.out)) for p in result.plots],
    }
    with open(result.out / "sweep.json", "w") as f:
        json.dump(jsonable(manifest), f, indent=2)
