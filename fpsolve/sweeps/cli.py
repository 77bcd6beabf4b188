"""``fpsolve sweep SWEEP.toml``: the command line of :mod:`fpsolve.sweeps`.

From Python the same is::

    import fpsolve.sweeps
    result = fpsolve.sweeps.run("examples/sweeps/mori_escape.toml")   # LocalCluster, 2 workers
    result.rows, result.table, result.plots

From the shell (wired into ``fpsolve`` by :mod:`fpsolve.cli`)::

    fpsolve sweep SWEEP.toml [--scheduler ADDRESS] [--out DIR] [--workers N] [--threads]
                             [--max-points K] [--retry-failed] [--no-plots] [--dry-run]

The format of the sweep file, the point keys and the outputs are described in
:mod:`fpsolve.sweeps` (machinery: :mod:`fpsolve.sweeps.spec`, ``.quantities``, ``.store``,
``.engine``, ``.plots``). Re-running the same command resumes: finished points are skipped.
Exit status: 0 when every point has a row and none failed, 1 when some point failed (its error
is in the table) or is still pending (``--max-points``), 2 for a bad sweep file or options.
"""
from __future__ import annotations

import argparse
import sys

from ..errors import InputError
from .engine import output_folder, run
from .quantities import QUANTITY_DOCS
from .spec import Sweep, load
from .store import PointStore

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    quantities = "\n".join(f"  {k:<13} {v}" for k, v in QUANTITY_DOCS.items())
    p = argparse.ArgumentParser(
        prog="fpsolve sweep", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run a grid of SGD Fokker–Planck problems on Dask; one row per point in "
                    "one table (Parquet or CSV), summary plots; re-running resumes.",
        epilog=f"quantities (the sweep file's `quantities = [...]`):\n{quantities}\n\n"
               f"The file format is documented in fpsolve.sweeps.spec; examples in "
               f"examples/sweeps/.")
    p.add_argument("sweep", help="the sweep file (TOML)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of a running Dask scheduler (default: a LocalCluster)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: from the file, or "
                                                "<name>_results next to it)")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="workers of the LocalCluster (default 2)")
    p.add_argument("--threads", action="store_true",
                   help="LocalCluster workers as threads of this process, not processes")
    p.add_argument("--max-points", type=int, metavar="K",
                   help="compute at most K unfinished points, then stop (resume by re-running)")
    p.add_argument("--retry-failed", action="store_true",
                   help="recompute points whose stored row is an error")
    p.add_argument("--no-plots", action="store_true", help="skip the summary plots")
    p.add_argument("--dry-run", action="store_true",
                   help="list the points and which are finished; compute nothing")
    p.add_argument("--quiet", action="store_true", help="no line per finished point")
    return p


def main(argv=None) -> int:
    """Entry point of ``fpsolve sweep``; returns the exit status (see the module docstring)."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error (argparse has printed why)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        sweep = load(args.sweep)
        if args.dry_run:
            return _dry_run(sweep, args.out)
        if args.workers < 1:
            raise InputError(f"--workers must be ≥ 1; got {args.workers}.")
        result = run(sweep, out=args.out, scheduler=args.scheduler, n_workers=args.workers,
                     processes=not args.threads, max_points=args.max_points,
                     retry_failed=args.retry_failed, plots=not args.no_plots,
                     progress=not args.quiet)
    except (InputError, ImportError) as exc:
        print(f"fpsolve sweep: {exc}", file=sys.stderr)
        return 2
    except (OSError, TimeoutError) as exc:  # an unreachable --scheduler
        print(f"fpsolve sweep: could not reach the Dask scheduler {args.scheduler!r}: {exc}",
              file=sys.stderr)
        return 2
    print(result.summary())
    for path in result.plots:
        print(f"plot: {path}")
    for key in result.failed:
        row = next(r for r in result.rows if r["key"] == key)
        print(f"failed: {key}: {row.get('error')}", file=sys.stderr)
    return 0 if result.complete and not result.failed else 1


def _dry_run(sweep: Sweep, out) -> int:
    folder = output_folder(sweep, out)
    points = sweep.points()
    done = {}
    if (folder / "points").is_dir():
        done = PointStore(folder).finished([p.key for p in points])
    for p in points:
        state = done[p.key]["status"] if p.key in done else "to do"
        vals = ", ".join(f"{k}={v}" for k, v in p.values.items())
        print(f"{p.key}  {state:<6} {vals}")
    print(f"{len(points)} points, {len(done)} finished; output folder {folder}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
