"""Implicit time stepping in 3D: the CPU path's step solvers, and the torch device path (GPU).

The problem is ``ou3d`` of ``bench_codes.py``: the Ornstein–Uhlenbeck process b = −diag(1, 2, 3)x,
D = 0.1, on [−2, 2]³ with reflecting walls, from a Gaussian p₀ (mean (0.5, −0.3, 0.2), variance
0.04) to T = 0.5, TR-BDF2 with ``--steps`` equal steps. Its exact solution is a Gaussian, so
each run reports its error against it as well as its time, and every path's final state is
compared with the first path's (same scheme, same matrix: they differ by the solves' residuals,
≤ 1e-12 relative each).

Paths (``--paths``):

* ``cpu``: ``model.evolve(...)``, the default: in 3D from 2.5·10³ cells each stage is solved by
  Jacobi-preconditioned BiCGStab (``fpsolve.numerics.krylov.bicgstab``), with AMG-GMRES as the
  fall-back;
* ``cpu-amg``: the same steps with every stage solved by ``LinearSolver(A, "auto",
  reused=True)``, pyamg's classical AMG as the preconditioner of fpsolve's GMRES: the default
  before the Jacobi-first solve;
* ``torch``: ``model.evolve(..., device=--device)``: the stepping on a torch device
  (``fpsolve.numerics.torch_implicit``; "cuda" for a GPU; "cpu" runs torch's CPU kernels).

For each size n (n³ cells) the model is built once; each path runs ``--repeat`` times on it and
the median wall is kept (the first run includes the set-up: the hierarchy, or the device
transfer; later runs reuse it, and the first run's wall is reported separately). Walls are
wall-clock seconds; the device path returns host arrays, so every call is synchronised. GPU
memory: ``torch.cuda.max_memory_allocated``.

Usage::

    python benchmarks/bench_implicit.py                                    # CPU paths, 32³–96³
    python benchmarks/bench_implicit.py --paths torch,cpu --device cuda --sizes 128,256 \\
        --cpu-sizes 128 --json results/implicit_gpu.json                   # on a GPU machine
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
A = (1.0, 2.0, 3.0)
M0 = (0.5, -0.3, 0.2)
S0, D, T, L = 0.04, 0.1, 0.5, 2.0


def p0(x, y, z):
    return np.exp(-sum((xi - m) ** 2 for xi, m in zip((x, y, z), M0)) / (2 * S0))


def exact(x, y, z):
    out = 1.0
    for xi, a, m in zip((x, y, z), A, M0):
        e = math.exp(-a * T)
        var = e * e * S0 + D / a * (1 - e * e)
        out = out * np.exp(-(xi - m * e) ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var)
    return out


def evolve_amg(model, steps):
    """The TR-BDF2 steps of ``model.evolve`` with each stage solved by LinearSolver "auto"
    (AMG-GMRES in 3D): the CPU default before the Jacobi-first solve, for comparison."""
    from fpsolve.numerics import timestepping
    from fpsolve.numerics.linalg import LinearSolver

    dt = T / steps
    kept = model.__dict__.setdefault("_bench_amg", {})  # reused by later runs, as evolve's are
    if dt not in kept:
        stepper = timestepping._Implicit(model.generator(), "tr-bdf2", ndim=3)
        A_ = timestepping._shifted_identity(stepper.L, timestepping.GAMMA / 2 * dt)
        stepper.cache[round(dt, 15)] = LinearSolver(A_, "auto", ndim=3, reused=True).solve
        kept[dt] = stepper
    stepper = kept[dt]
    p = model.density(p0).values.ravel()
    return stepper.step(p, dt, steps)


def run(model, path, steps, device):
    if path == "cpu-amg":
        return evolve_amg(model, steps), {}
    r = model.evolve(p0, [T], dt=T / steps, device=device if path == "torch" else None)
    return r.densities[-1].values.ravel(), r.extra


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--paths", default="cpu,cpu-amg,torch")
    ap.add_argument("--device", default="cpu", help="torch device of the torch path")
    ap.add_argument("--sizes", default="32,48,64,96", help="n per axis (n³ cells)")
    ap.add_argument("--cpu-sizes", default=None,
                    help="sizes at which the CPU paths run (default: all)")
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default=str(HERE / "results" / "implicit.json"))
    args = ap.parse_args(argv)

    import fpsolve as fp

    paths = [p for p in args.paths.split(",") if p]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    cpu_sizes = set(sizes) if args.cpu_sizes is None else {
        int(s) for s in args.cpu_sizes.split(",") if s}
    cuda = False
    if "torch" in paths:
        import torch
        cuda = torch.device(args.device).type == "cuda"
    rows = []
    for n in sizes:
        t = time.perf_counter()
        model = fp.FokkerPlanck(fp.Grid([(-L, L)] * 3, n),
                                potential=lambda x, y, z: 0.5 * (x ** 2 + 2 * y ** 2 + 3 * z ** 2),
                                diffusion=D)
        model.rates  # the face rates: the construction a user pays once
        row = {"n": n, "cells": n ** 3, "steps": args.steps,
               "build_s": time.perf_counter() - t}
        ref = exact(*model.grid.coords).ravel()
        first_state = None
        for path in paths:
            if path != "torch" and n not in cpu_sizes:
                continue
            if cuda and path == "torch":
                torch.cuda.reset_peak_memory_stats()
            walls, state, extra = [], None, {}
            for _ in range(args.repeat):
                t = time.perf_counter()
                state, extra = run(model, path, args.steps, args.device)
                walls.append(time.perf_counter() - t)
            rec = {"first_s": walls[0], "median_s": statistics.median(walls[1:] or walls),
                   "runs": len(walls),
                   "mass_error": float(abs(state.sum() * model.grid.cell_volume - 1)),
                   "error_vs_exact": float(np.abs(state - ref).max() / ref.max())}
            rec.update({k: v for k, v in extra.items() if isinstance(v, (int, float, str))})
            if cuda and path == "torch":
                rec["gpu_peak_gib"] = torch.cuda.max_memory_allocated() / 2 ** 30
            if first_state is None:
                first_state = state
            else:
                rec["vs_first_path"] = float(np.abs(state - first_state).max()
                                             / np.abs(first_state).max())
            row[path] = rec
        print(json.dumps(row), flush=True)
        rows.append(row)
        del model
    info = {"paths": paths, "device": args.device, "platform": platform.platform(),
            "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    if "torch" in paths:
        info["torch"] = torch.__version__
        info["gpu"] = torch.cuda.get_device_name() if cuda else None
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": info, "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
