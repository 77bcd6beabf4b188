"""3D grids up to 128³ through the public API: stationary states and mean first-passage times,
with time, peak memory and the error against an exact reference.

Two problems on [−2.5, 2.5] × [−2, 2] × [−2, 2], reflecting walls, n³ cells:

- ``separable``: U = (x² − 1)²/4 + y²/2 + z²/2, D = 0.15 (ΔU/D = 1.7). References that do not
  use the 3D grid at all: the stationary density is the product Gibbs law (checked against the
  cell averages' midpoint values, O(h²)); the MFPT to the slab x ≥ 1 from the left minimum is the
  1D MFPT of the x-marginal (:func:`fpsolve.theory.mfpt_1d`, adaptive quadrature). The
  stationary solve is forced through the linear solver (``method="solve"``), since the
  closed form would make it trivial.
- ``coupled``: the non-reversible problem of ``bench_large.py``, U = (x² − 1)²/4 +
  ½(1 + x²/2) y² + z²/2 + 0.2 x z with D = 0.15 (1 + 0.3 sin 2x cos y + 0.1 z²): detailed
  balance fails, so ``stationary()`` needs the least-squares potential and the null-vector
  solve; no closed form exists, so the error is judged by the residual and by the
  convergence of ⟨x⟩ and τ under refinement.

Everything runs with the defaults a user gets (``solver="auto"``: AMG-preconditioned GMRES in 3D
beyond 2.5·10³ cells). One subprocess per case, so that ``ru_maxrss`` is the case's own peak.
Usage::

    python benchmarks/bench_3d.py                     # n = 32, 64, 96, 128 (≈ 15 min on 2 cores)
    python benchmarks/bench_3d.py --sizes 32,64 --json /tmp/b3.json
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOX = [(-2.5, 2.5), (-2.0, 2.0), (-2.0, 2.0)]
D0 = 0.15


def _problem(kind, n):
    import numpy as np

    import fpsolve as fp

    g = fp.Grid(BOX, n)
    if kind == "separable":
        U = lambda x, y, z: (x ** 2 - 1) ** 2 / 4 + y ** 2 / 2 + z ** 2 / 2  # noqa: E731
        return fp.FokkerPlanck(g, potential=U, diffusion=D0)
    U = lambda x, y, z: ((x ** 2 - 1) ** 2 / 4 + 0.5 * (1 + 0.5 * x ** 2) * y ** 2  # noqa: E731
                         + z ** 2 / 2 + 0.2 * x * z)
    D = lambda x, y, z: D0 * (1 + 0.3 * np.sin(2 * x) * np.cos(y) + 0.1 * z ** 2)  # noqa: E731
    return fp.FokkerPlanck(g, potential=U, diffusion=D)


def _target(x, y, z):
    return x >= 1.0


def case(kind, n):
    import numpy as np

    import fpsolve as fp

    out = {"problem": kind, "n": n, "cells": n ** 3}
    t0, c0 = time.perf_counter(), time.process_time()
    m = _problem(kind, n)
    _ = m.rates
    out["setup_s"] = time.perf_counter() - t0
    t1, c1 = time.perf_counter(), time.process_time()
    p = m.stationary(method="solve") if kind == "separable" else m.stationary()
    out.update(stationary_s=time.perf_counter() - t1, stationary_cpu_s=time.process_time() - c1,
               stationary_residual=p.info["residual"],
               linear_solver=p.info.get("linear_solver"), mean_x=float(p.mean()[0]),
               rss_after_stationary_mb=_rss())
    if kind == "separable":
        exact = m.stationary(method="detailed-balance")
        out["stationary_rel_err_vs_closed_form"] = float(
            np.max(np.abs(p.values - exact.values)) / np.max(exact.values))
        X, Y, Z = m.grid.coords
        gibbs = np.exp(-((X ** 2 - 1) ** 2 / 4 + Y ** 2 / 2 + Z ** 2 / 2) / D0)
        gibbs /= gibbs.sum() * m.grid.cell_volume
        out["stationary_rel_err_vs_gibbs"] = float(
            np.max(np.abs(p.values - gibbs)) / np.max(gibbs))
    t2, c2 = time.perf_counter(), time.process_time()
    tau = m.mean_first_passage_time(_target)
    out.update(mfpt_s=time.perf_counter() - t2, mfpt_cpu_s=time.process_time() - c2,
               mfpt_method=tau.info["method"], mfpt_accurate=tau.info["accurate"],
               mfpt_backward_error=tau.info["residual"],
               mfpt_balance_defect=tau.info["balance_defect"])
    x0 = (-1.0, 0.0, 0.0)
    out["tau_x0"] = float(tau.at(x0))
    if kind == "separable":
        # the x-coordinate alone is the 1D diffusion in U₁(x) = (x² − 1)²/4, and so is the
        # x-marginal of the discrete chain: the 1D solve on the same x-cells must agree to solver
        # accuracy, and the quadrature (Dirichlet at the first target-cell centre) to O(h²)
        m1 = fp.FokkerPlanck(fp.Grid([BOX[0]], n), potential=lambda x: (x ** 2 - 1) ** 2 / 4,
                             diffusion=D0)
        tau1 = m1.mean_first_passage_time(lambda x: x >= 1.0)
        edge = float(np.min(m1.grid.coords[0][m1.grid.coords[0] >= 1.0]))
        ref = fp.theory.mfpt_1d(-1.0, edge, BOX[0][0],
                                potential_derivative=lambda x: x ** 3 - x, diffusion=D0).mean
        out.update(tau_1d_same_cells=float(tau1.at(-1.0)), tau_quadrature=float(ref))
        out["tau_rel_diff_vs_1d_discrete"] = float(abs(out["tau_x0"] / out["tau_1d_same_cells"] - 1))
        out["tau_rel_err_vs_quadrature"] = float(abs(out["tau_x0"] / ref - 1))
        out["tau_spread_over_yz"] = float(np.ptp(tau.values[np.argmin(np.abs(
            m.grid.coords[0][:, 0, 0] + 1.0))]) / out["tau_x0"])
    out["total_s"] = time.perf_counter() - t0
    out["total_cpu_s"] = time.process_time() - c0
    out["rss_peak_mb"] = _rss()
    return out


def _rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _machine():
    import platform

    import numpy
    import scipy

    import fpsolve
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")), platform.processor())
    try:
        import pyamg
        amg = pyamg.__version__
    except ImportError:
        amg = None
    return {"cpu": cpu, "cores": os.cpu_count(), "load_avg": os.getloadavg(),
            "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "pyamg": amg, "fpsolve": fpsolve.__version__,
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                                     capture_output=True, text=True).stdout.strip(),
            "date": time.strftime("%Y-%m-%d %H:%M")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default="32,64,96,128")
    ap.add_argument("--problems", default="separable,coupled")
    ap.add_argument("--json", default=str(HERE / "results" / "bench_3d.json"))
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args(argv)
    if args.child:
        kind, n = args.child.split(":")
        print("RESULT " + json.dumps(case(kind, int(n))), flush=True)
        return 0
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    results = []
    for kind in args.problems.split(","):
        for n in map(int, args.sizes.split(",")):
            proc = subprocess.run([sys.executable, __file__, "--child", f"{kind}:{n}"],
                                  capture_output=True, text=True, env=env, timeout=args.timeout)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            r = (json.loads(lines[-1][7:]) if lines else
                 {"problem": kind, "n": n, "status": (proc.stderr.strip().splitlines()
                                                      or ["no output"])[-1][:200]})
            results.append(r)
            print(json.dumps(r), flush=True)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"machine": _machine(), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
