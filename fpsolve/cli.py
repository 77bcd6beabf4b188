"""The ``fpsolve`` command line::

    fpsolve validate [--quick | --full] [--only PAPER[/CASE]] [--out DIR] [--jobs N] [--list]
    fpsolve info
    fpsolve solve PROBLEM.toml [--out DIR]
    fpsolve sweep SWEEP.toml [--scheduler ADDRESS] [--out DIR] [--workers N] ...

``fpsolve sweep`` has its own parser (:func:`fpsolve.sweep.cli_main`). Exit status: 0 on success;
1 when a validation case is ``FAIL`` (or a solve fails numerically); 2 for bad usage or a bad
problem file (with a one-line message, never a traceback).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fpsolve", description="Fokker–Planck dynamics of SGD: validation, environment, "
                                    "and problems from TOML files.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    v = sub.add_parser("validate", help="run the validation suite and write a report",
                       description="Check fpsolve against exact references and the papers' "
                                   "claims; write report.md, report.html, results.json and "
                                   "figures. Exit status 1 if any case is FAIL.")
    mode = v.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="quick cases at coarse resolution (the default; minutes)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="every case at validation-grade resolution")
    v.set_defaults(mode="quick")
    v.add_argument("--only", action="append", metavar="PAPER[/CASE]", default=[],
                   help="run only these papers or cases (repeatable, comma-separated, shell "
                        "wildcards allowed: core/ou_*)")
    v.add_argument("--out", default="validation-report", metavar="DIR",
                   help="report directory (default: %(default)s)")
    v.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="run cases in N parallel processes (default: 1)")
    v.add_argument("--list", action="store_true", help="list the selected cases and exit")

    sub.add_parser("info", help="versions of fpsolve and its dependencies",
                   description="Versions of fpsolve, numpy, scipy, numba (and its threading "
                               "layer), matplotlib, and the optional pyamg, fipy, torch.")

    s = sub.add_parser("solve", help="solve a problem described in a TOML file",
                       description="Solve a Fokker–Planck problem from a TOML file ([grid], "
                                   "[model], [question]); see fpsolve.problems.")
    s.add_argument("problem", metavar="PROBLEM.toml")
    s.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: PROBLEM-results next to the working dir)")
    sub.add_parser("sweep", add_help=False, help="run a parameter sweep (Dask) from a TOML file",
                   description="see fpsolve.sweeps")
    return parser


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["sweep"]:  # its own parser (fpsolve.sweeps.cli): options pass through
        from .sweeps.cli import main as sweep_main
        return sweep_main(argv[1:])
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2, message printed)
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return {"validate": _validate, "info": _info, "solve": _solve}[args.command](args)


# ---------------------------------------------------------------------------------------------
def _validate(args) -> int:
    from fpsolve import validation as V
    from fpsolve.validation.environment import versions

    if args.jobs < 1:
        print("fpsolve validate: error: --jobs must be at least 1.", file=sys.stderr)
        return EXIT_USAGE
    only = [p for item in args.only for p in item.split(",") if p.strip()]
    registry = V.load()
    try:
        specs = registry.select(args.mode, only)
    except KeyError as exc:
        print(f"fpsolve validate: error: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    unavailable = [s for s in specs if s.missing()]
    if unavailable:
        specs = [s for s in specs if not s.missing()]
        for s in unavailable:
            print(f"fpsolve validate: not running {s.key}: needs {', '.join(s.missing())} "
                  f"(pip install torch==2.13.0 for the CPU build)", file=sys.stderr)
    if args.list:
        for s in specs:
            print(f"{s.key:45s} {'quick' if s.quick else 'full '}  {s.title}")
        return EXIT_OK
    if not specs:
        print("fpsolve validate: no cases selected.", file=sys.stderr)
        return EXIT_USAGE
    out = Path(args.out)
    _clear_old_report(out)
    print(f"fpsolve validate --{args.mode}: {len(specs)} cases, {args.jobs} process(es) → {out}/",
          file=sys.stderr)
    result = V.run(specs, args.mode, out, jobs=args.jobs, progress=V.Progress(len(specs)))
    result.metadata["versions"] = versions(optional=True)
    result.metadata["left_out"] = [{"case": s.key, "title": s.title, "needs": s.missing()}
                                   for s in unavailable]
    result.metadata["command"] = "fpsolve validate " + " ".join(
        [f"--{args.mode}"] + [f"--only {o}" for o in only] + [f"--jobs {args.jobs}"])
    paths = V.write_report(result, out)
    print(V.summary_table(result.records))
    print(f"\n{V.report.counts_line(result.counts)} in {result.duration_s:.1f} s; report: "
          f"{paths['md']}, {paths['html']}, {paths['json']}")
    return EXIT_FAIL if result.failed else EXIT_OK


def _clear_old_report(out: Path):
    """Remove the figures of a previous report in ``out`` (only if it is one), so that stale
    figures of cases not run this time do not linger."""
    if (out / "results.json").is_file() and (out / "figures").is_dir():
        for f in (out / "figures").glob("*.png"):
            f.unlink()


# ---------------------------------------------------------------------------------------------
def _info(args) -> int:
    from fpsolve.jit import cache_dir
    from fpsolve.validation.environment import versions

    v = versions(optional=True, threading=True, torch=True)
    rows = [("fpsolve", v["fpsolve"]), ("python", v["python"]), ("platform", v["platform"]),
            ("cpus", str(v["cpus"]))]
    for name in ("numpy", "scipy", "numba", "matplotlib", "pyamg", "fipy"):
        rows.append((name, v[name] or "not installed"))
    t = v["numba_threading"]
    rows.append(("numba threading", f"{t['active']}; configured {t['configured']}, available "
                                    f"{', '.join(t['available']) or 'none'}, "
                                    f"{t['threads']} threads"))
    tor = v["torch"]
    rows.append(("torch", f"{tor['version']} (device {tor['device']})" if tor else
                 "not installed"))
    rows.append(("kernel cache", str(cache_dir() or "off (compiled anew in every process)")))
    width = max(len(r[0]) for r in rows)
    for k, val in rows:
        print(f"{k:<{width}}  {val}")
    return EXIT_OK


# ---------------------------------------------------------------------------------------------
def _solve(args) -> int:
    from fpsolve.errors import InputError, SolverError
    from fpsolve.problems import QUESTIONS, load_problem, solve

    path = Path(args.problem)
    try:
        problem = load_problem(path)
        out = Path(args.out) if args.out else Path(f"{path.stem}-results")
        summary = solve(problem, out)
    except InputError as exc:
        print(f"fpsolve solve: error in {path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SolverError as exc:
        print(f"fpsolve solve: the solve failed: {exc}", file=sys.stderr)
        return EXIT_FAIL
    res = summary["result"]
    print(f"{summary['title'] or path.stem}: {summary['question']}")
    for key in QUESTIONS[summary["question"]].answers:
        if key in res:
            print(f"  {key} = {_brief(res[key])}")
    print(f"  wrote {', '.join(res['files'])} to {out}/")
    return EXIT_OK


def _brief(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        items = [_brief(v) for v in value[:8]]
        return "[" + ", ".join(items) + (", …" if len(value) > 8 else "") + "]"
    if isinstance(value, dict) and set(value) == {"re", "im"}:
        return f"{value['re']:.6g}{value['im']:+.6g}j"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
