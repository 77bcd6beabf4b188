"""The general (linear-solve) path: tensor, state-dependent and non-reversible problems in 2D and
3D, every linear solver side by side, and how close ``solver="auto"`` comes to the fastest.

Problems (issue 13):

- ``tensor2d``: U = (x² − 1)²/4 + y²/2 on [−2, 2]², n² cells, the state-dependent tensor
  D(x, y) = [[0.12(1 + 0.3y²), 0.03 tanh(xy)], [0.03 tanh(xy), 0.08(1 + 0.3x²)]] (not a
  function of U, no detailed balance). Questions: construction of the model, ``stationary()``,
  ``mean_first_passage_time(x ≥ 1)``, ``committor(x ≤ −1, x ≥ 1)``.
- ``ou``: non-reversible Ornstein–Uhlenbeck, drift −Hx with H = diag(1, 4), constant
  D = 0.1·[[1, ½], [½, 1]], on [−1.5, 1.5] × [−0.75, 0.75] with 2n × n cells: ``stationary()``,
  checked against the exact Gaussian (covariance from the Lyapunov equation HΣ + ΣH = 2D).
- ``coupled3d`` / ``separable3d``: the two problems of ``bench_3d.py`` at n³ cells:
  ``stationary()`` (``method="solve"`` for the separable one, whose closed form would be
  trivial) and the MFPT to x ≥ 1.

Every question runs on a fresh model (cold: the stationary density that an MFPT of a
non-reversible problem needs for its trap selection is part of its cost), once per linear
solver: ``auto`` (the default), ``direct`` (SciPy SuperLU), ``pardiso`` (MKL PARDISO, if
pypardiso is installed), ``amg`` (pyamg hierarchy + right-preconditioned GMRES) and ``gmg``
(the geometric multigrid of ``fpsolve.numerics.boxmg`` + the same GMRES). One subprocess per
(problem, size, solver): warm Numba cache, its own peak RSS. Times are medians over
``--repeat`` runs, wall (perf_counter) and CPU (process_time) of the process.

Usage::

    python benchmarks/bench_general.py --quick   # small sizes, one run each (≈ 3 min)
    python benchmarks/bench_general.py           # tensor2d 256–1000², ou 400–800, 3D 32–128³
    python benchmarks/bench_general.py --problems tensor2d --sizes 512 --solvers auto,amg
    python benchmarks/bench_general.py --sequence separable3d 192 auto   # one model, in turn

Writes ``results/general.json`` (every run, machine, load averages) and ``results/general.md``
(the tables of ``benchmarks/README.md``); ``--out-dir`` to put them elsewhere, ``--name`` for
another file stem (a partial re-run: ``--name general_3d128_rerun``).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

SIZES = {"quick": {"tensor2d": [128, 256], "ou": [200], "coupled3d": [24, 32],
                   "separable3d": [24, 32]},
         "full": {"tensor2d": [256, 512, 1000], "ou": [200, 400], "coupled3d": [32, 64, 128],
                  "separable3d": [32, 64, 128]}}
#: largest size per problem at which the direct solvers run (3D LU fill: ~100 GB at 128³;
#: in 2D the LU is 1.3–1.5× slower than AMG already at 512², and 20 s per solve at 1000²)
DIRECT_MAX = {"tensor2d": 512, "ou": 400, "coupled3d": 40, "separable3d": 40}
QUESTIONS = {"tensor2d": ["stationary", "mfpt", "committor"], "ou": ["stationary"],
             "coupled3d": ["stationary", "mfpt"], "separable3d": ["stationary", "mfpt"]}


# -- the problems ---------------------------------------------------------------------------------
def build(problem, n):
    import numpy as np

    import fpsolve as fp

    if problem == "tensor2d":
        def D(x, y):
            c = 0.03 * np.tanh(x * y)
            return [[0.12 * (1 + 0.3 * y ** 2), c], [c, 0.08 * (1 + 0.3 * x ** 2)]]

        return fp.FokkerPlanck(fp.Grid([(-2, 2), (-2, 2)], n),
                               potential=lambda x, y: (x ** 2 - 1) ** 2 / 4 + y ** 2 / 2,
                               diffusion=D)
    if problem == "ou":
        return fp.FokkerPlanck(fp.Grid([(-1.5, 1.5), (-0.75, 0.75)], [2 * n, n]),
                               drift=lambda x, y: (-x, -4 * y),
                               diffusion=0.1 * np.array([[1.0, 0.5], [0.5, 1.0]]))
    sys.path.insert(0, str(HERE))
    import bench_3d

    return bench_3d._problem("coupled" if problem == "coupled3d" else "separable", n)


def ask(problem, model, question, solver):
    """Run one question; returns (result, diagnostics dict)."""
    if question == "stationary":
        method = "solve" if problem == "separable3d" else "auto"
        p = model.stationary(method=method, solver=solver)
        info = {k: p.info.get(k) for k in ("method", "linear_solver", "residual")}
        if problem == "ou":
            info["err_vs_gaussian"] = _ou_error(model, p)
        return p, info
    if question == "mfpt":
        tau = model.mean_first_passage_time(lambda *x: x[0] >= 1.0, solver=solver)
    else:
        tau = model.committor(lambda *x: x[0] <= -1.0, lambda *x: x[0] >= 1.0, solver=solver)
    info = {k: tau.info.get(k) for k in ("method", "linear_solver", "residual", "balance_defect",
                                         "accurate")}
    return tau, info


def _ou_error(model, p):
    import numpy as np
    from scipy.linalg import solve_continuous_lyapunov

    H = np.diag([1.0, 4.0])
    D = 0.1 * np.array([[1.0, 0.5], [0.5, 1.0]])
    S = np.linalg.inv(solve_continuous_lyapunov(-H, -2 * D))
    X, Y = model.grid.coords
    q = np.exp(-0.5 * (S[0, 0] * X ** 2 + 2 * S[0, 1] * X * Y + S[1, 1] * Y ** 2))
    q /= q.sum() * model.grid.cell_volume
    return float(np.max(np.abs(p.values - q)) / q.max())


# -- one subprocess -------------------------------------------------------------------------------
def worker(problem, n, solver):
    warm = build(problem, 12 if "3d" in problem else 24)
    for q in QUESTIONS[problem]:
        ask(problem, warm, q, solver if solver != "pardiso" else "direct")
        # the small grid takes the LU under auto, and has no coarse level that is smoothed:
        # load (or compile) every multigrid kernel here, for every solver (a first-passage
        # question of a non-reversible model solves for its stationary density under "auto",
        # whatever solver the question itself is given)
        ask(problem, build(problem, 20 if "3d" in problem else 48), q, "gmg")
    out = {"problem": problem, "n": n, "solver": solver}
    t0, c0 = time.perf_counter(), time.process_time()
    model = build(problem, n)
    _ = model.rates
    out["construct"] = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    out["cells"] = model.grid.size
    for q in QUESTIONS[problem]:
        model = build(problem, n)
        _ = model.rates
        t0, c0 = time.perf_counter(), time.process_time()
        _, info = ask(problem, model, q, solver)
        out[q] = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, **info}
    if "mfpt" in QUESTIONS[problem]:  # warm: after stationary() on the same model
        model = build(problem, n)
        ask(problem, model, "stationary", solver)
        t0, c0 = time.perf_counter(), time.process_time()
        ask(problem, model, "mfpt", solver)
        out["mfpt_after_stationary"] = {"wall": time.perf_counter() - t0,
                                        "cpu": time.process_time() - c0}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def sequence(problem, n, solver):
    """Construct one model, then every question on it in turn (what a user does; the
    stationary density is reused by the first-passage questions). For the largest grids, where
    the cold per-question runs of :func:`worker` would take too long; prints one JSON line."""
    out = {"problem": problem, "n": n, "solver": solver}
    t0, c0 = time.perf_counter(), time.process_time()
    model = build(problem, n)
    _ = model.rates
    out["construct"] = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    for q in QUESTIONS[problem]:
        t0, c0 = time.perf_counter(), time.process_time()
        _, info = ask(problem, model, q, solver)
        out[q] = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0, **info}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def run_case(problem, n, solver, timeout, root=ROOT):
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", problem, str(n), solver]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"problem": problem, "n": n, "solver": solver, "error": f"timeout {timeout} s"}
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode != 0 or not lines:
        return {"problem": problem, "n": n, "solver": solver,
                "error": (res.stderr.strip().splitlines() or ["?"])[-1][:300]}
    return json.loads(lines[-1])


def _median_runs(runs):
    """Median of every timed entry over the runs (the diagnostics of the first run)."""
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return runs[0]
    out = dict(ok[0])
    for key, val in ok[0].items():
        if isinstance(val, dict) and "wall" in val:
            out[key] = dict(val, wall=statistics.median(r[key]["wall"] for r in ok),
                            cpu=statistics.median(r[key]["cpu"] for r in ok))
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in ok)
    out["runs"] = len(ok)
    return out


# -- tables ---------------------------------------------------------------------------------------
def _fmt(x):
    return "–" if x is None else (f"{x:.3g}" if isinstance(x, float) else str(x))


def tables(rows):
    lines = []
    lines.append("#### With the defaults (`solver=\"auto\"`): wall / CPU seconds, medians\n")
    lines.append("| problem | size | cells | construct | question | wall | CPU | solver used | "
                 "residual | balance defect | accurate | peak RSS MB |")
    lines.append("|---|---:|---:|---:|---|---:|---:|---|---:|---:|---|---:|")
    for r in rows:
        if r.get("solver") != "auto" or "error" in r:
            continue
        for q in QUESTIONS[r["problem"]] + (["mfpt_after_stationary"] if "mfpt" in r else []):
            e = r[q]
            src = r["mfpt"] if q == "mfpt_after_stationary" else e
            lines.append(
                f"| {r['problem']} | {_size(r)} | {r['cells']} | {r['construct']['wall']:.3g} | "
                f"{q} | {e['wall']:.3g} | {e['cpu']:.3g} | {src.get('linear_solver', '–')} | "
                f"{_fmt(src.get('residual'))} | {_fmt(src.get('balance_defect'))} | "
                f"{_fmt(src.get('accurate'))} | {r['peak_rss_mb']:.0f} |")
    lines.append("\n#### Every solver side by side: CPU seconds (wall in parentheses), and "
                 "auto / fastest\n")
    solvers = sorted({r["solver"] for r in rows},
                     key=["auto", "direct", "pardiso", "amg", "gmg"].index)
    lines.append("| problem | size | question | " + " | ".join(solvers)
                 + " | auto picks | auto / fastest (CPU) |")
    lines.append("|---|---:|---|" + "---:|" * len(solvers) + "---|---:|")
    keys = sorted({(r["problem"], r["n"]) for r in rows},
                  key=lambda k: (list(QUESTIONS).index(k[0]), k[1]))
    for prob, n in keys:
        group = {r["solver"]: r for r in rows if r["problem"] == prob and r["n"] == n}
        for q in QUESTIONS[prob]:
            cells, times = [], {}
            for s in solvers:
                r = group.get(s)
                if r is None or "error" in r or q not in r:
                    cells.append("–" if r is None else "fails" if "error" in r else "–")
                    continue
                times[s] = r[q]["cpu"]
                cells.append(f"{r[q]['cpu']:.3g} ({r[q]['wall']:.3g})")
            auto = group.get("auto")
            pick = auto[q].get("linear_solver", "?") if auto and q in auto else "?"
            others = [v for k, v in times.items() if k != "auto"]
            ratio = (times["auto"] / min(others)) if "auto" in times and others else None
            any_r = next(iter(group.values()))
            lines.append(f"| {prob} | {_size(any_r)} | {q} | " + " | ".join(cells)
                         + f" | {pick} | {_fmt(ratio)} |")
    return "\n".join(lines) + "\n"


def _size(r):
    n = r["n"]
    return f"{2 * n}×{n}" if r["problem"] == "ou" else (f"{n}³" if "3d" in r["problem"]
                                                        else f"{n}²")


def _commit():
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def machine():
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "loadavg_start": os.getloadavg()}
    try:
        import numba
        import numpy
        import pyamg
        import scipy

        info.update(numpy=numpy.__version__, scipy=scipy.__version__, numba=numba.__version__,
                    pyamg=pyamg.__version__)
    except ImportError:
        pass
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--sequence", nargs=3, metavar=("PROBLEM", "N", "SOLVER"),
                    help="one model, every question in turn, one JSON line (largest grids)")
    ap.add_argument("--quick", action="store_true", help="small sizes, one run each")
    ap.add_argument("--problems", default=",".join(QUESTIONS))
    ap.add_argument("--sizes", default=None, help="comma-separated n (overrides the mode's)")
    ap.add_argument("--solvers", default="auto,direct,pardiso,amg,gmg")
    ap.add_argument("--repeat", type=int, default=None, help="runs per case (quick 1, full 3)")
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--out-dir", default=str(HERE / "results"))
    ap.add_argument("--name", default="general",
                    help="file stem of the results: NAME.json and NAME.md (a partial re-run "
                         "gets a name of its own, so that general.json keeps the whole table)")
    args = ap.parse_args(argv)
    if args.worker:
        problem, n, solver = args.worker
        worker(problem, int(n), solver)
        return
    if args.sequence:
        problem, n, solver = args.sequence
        sequence(problem, int(n), solver)
        return
    sys.path.insert(0, str(ROOT))
    from fpsolve.numerics.linalg import pardiso_available

    mode = "quick" if args.quick else "full"
    repeat = args.repeat or (1 if args.quick else 3)
    solvers = [s for s in args.solvers.split(",") if s != "pardiso" or pardiso_available()]
    meta = machine()
    meta.update(mode=mode, repeat=repeat, started=time.strftime("%Y-%m-%d %H:%M:%S"))
    meta["commit"] = _commit()
    rows = []
    t_start = time.perf_counter()
    for problem in args.problems.split(","):
        sizes = ([int(s) for s in args.sizes.split(",")] if args.sizes
                 else SIZES[mode][problem])
        for n in sizes:
            for solver in solvers:
                if solver in ("direct", "pardiso") and n > DIRECT_MAX[problem]:
                    continue
                runs = [run_case(problem, n, solver, args.timeout) for _ in range(repeat)]
                row = _median_runs(runs)
                rows.append(row)
                brief = {q: round(row[q]["cpu"], 3) for q in QUESTIONS[problem] if q in row}
                print(f"{problem} n={n} {solver}: {row.get('error') or brief}", flush=True)
    meta.update(loadavg_end=os.getloadavg(), total_wall_s=time.perf_counter() - t_start)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps({"machine": meta, "rows": rows}, indent=1))
    md = (f"Run {meta['started']} ({mode}, {repeat} run(s) per case, {meta['total_wall_s']:.0f} s), "
          f"commit {meta['commit']}; load average {meta['loadavg_start'][0]:.1f} → "
          f"{meta['loadavg_end'][0]:.1f} on {meta['cpus']} CPUs.\n\n" + tables(rows))
    (out / f"{args.name}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
