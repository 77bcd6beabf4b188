"""Timings of fpsolve.kinetic: the phase-space questions on a 512² grid and the particle kernels.

Targets (issue 17): 512² phase-space grid — stationary ≤ 1 s, MFPT ≤ 2 s, spectrum (k = 6) ≤ 2 s
on 2 cores; particles ≥ 5·10⁷ steps/s per core.

Problems
  grid      the double well U = (x² − 1)²/4, T = 0.05, γ = 1, box [−2, 2] × [−1.3, 1.3] for the
            stationary state and the spectrum; [−2, 1.2] × [−1.3, 1.3] for the MFPT from (−1, 0)
            to x ≥ 1 (ΔU/T = 5). Rows for both schemes and for a state-dependent
            T(x) = 0.05(1 + U) (stationary by a sparse-LU null vector).
  particles BAOAB in the cached polynomial kernel (constant T; and T(x) from a table), and the
            heavy-ball kernel with B = 4 mini-batch draws per step; 10⁶ particles × 100 steps.
            One subprocess per thread count (NUMBA_NUM_THREADS is read at import); rate per
            core = rate / threads; also per CPU-second.

Every timing is the median of --repeat runs after a warm-up (compiled kernels loaded), as wall
and CPU time (time.process_time, all threads); on a shared machine the CPU time is the better
estimate of the unloaded wall time.

  python benchmarks/bench_kinetic.py                      # everything, writes the results
  python benchmarks/bench_kinetic.py --n 256 --repeat 1 --out /tmp   # quick look
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _timed(fn, repeat):
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return float(np.median(walls)), float(np.median(cpus)), out


def grid_rows(n, repeat):
    import warnings

    import fpsolve as fp
    from fpsolve.kinetic import Langevin

    warnings.simplefilter("ignore", RuntimeWarning)
    U = lambda x: (x ** 2 - 1) ** 2 / 4  # noqa: E731
    full = fp.Grid([(-2.0, 2.0), (-1.3, 1.3)], n)
    half = fp.Grid([(-2.0, 1.2), (-1.3, 1.3)], n)
    # warm-up: compiled kernels loaded from the cache, SuperLU and ARPACK imported
    small = Langevin(fp.Grid([(-2.0, 1.2), (-1.3, 1.3)], 32), U, friction=1.0, temperature=0.05)
    small.stationary(), small.eigenvalues(3), small.mean_first_passage_time((1.0, None))
    rows = []
    for scheme in ("central", "upwind"):
        def make(grid, T=0.05):
            return Langevin(grid, U, friction=1.0, temperature=T, scheme=scheme)

        w, c, p = _timed(lambda: make(full).stationary(), repeat)
        rows.append(dict(question="stationary (Gibbs)", scheme=scheme, n=n, wall=w, cpu=c,
                         target=1.0, check=f"residual {p.info['residual']:.1e}"))
        w, c, tau = _timed(lambda: make(half).mean_first_passage_time((1.0, None)), repeat)
        rows.append(dict(question="MFPT to x ≥ 1", scheme=scheme, n=n, wall=w, cpu=c, target=2.0,
                         check=f"E τ(−1, 0) = {tau.at((-1.0, 0.0)):.6g}, balance "
                               f"{tau.info['balance_defect']:.1e}"))
        w, c, lam = _timed(lambda: make(full).eigenvalues(6), repeat)
        rows.append(dict(question="spectrum k = 6", scheme=scheme, n=n, wall=w, cpu=c,
                         target=2.0, check=f"λ₁ = {np.real(lam[1]):.6g}"))
    T = lambda x: 0.05 * (1 + U(x))  # noqa: E731
    w, c, p = _timed(lambda: Langevin(full, U, friction=1.0, temperature=T).stationary(), repeat)
    rows.append(dict(question="stationary T(x) (LU null vector)", scheme="central", n=n, wall=w,
                     cpu=c, target=None, check=f"residual {p.info['residual']:.1e}"))
    return rows


PARTICLE_CODE = r"""
import json, sys, time, numpy as np
N, STEPS, REPEAT = map(int, sys.argv[1:4])
import fpsolve as fp
from fpsolve.kinetic import Langevin, particles
from fpsolve.particles import potentials
U = potentials.double_well()
g = fp.Grid([(-2.5, 2.5), (-2.0, 2.0)], 64)
out = {}
for name, T in (("BAOAB, constant T", 0.1),
                ("BAOAB, T(x) table", lambda x: 0.1 * (1 + 0.1 * x * x))):
    m = Langevin(g, U, friction=1.0, temperature=T)
    particles.simulate(m, -1.0, n=1000, dt=0.01, t_end=0.1, seed=0)        # warm-up
    best = None
    for _ in range(REPEAT):
        w0, c0 = time.perf_counter(), time.process_time()
        particles.simulate(m, -1.0, n=N, dt=0.01, t_end=STEPS * 0.01, seed=1)
        w, c = time.perf_counter() - w0, time.process_time() - c0
        best = (w, c) if best is None or w < best[0] else best
    out[name] = {"wall": best[0], "cpu": best[1], "steps": N * STEPS}
particles.heavy_ball(U, -1.0, 0.01, 0.9, 4, 10, data=[2.0, -2.0], n_chains=1000, seed=0)
best = None
for _ in range(REPEAT):
    w0, c0 = time.perf_counter(), time.process_time()
    particles.heavy_ball(U, -1.0, 0.01, 0.9, 4, STEPS, data=[2.0, -2.0], n_chains=N, seed=1)
    w, c = time.perf_counter() - w0, time.process_time() - c0
    best = (w, c) if best is None or w < best[0] else best
out["heavy ball, B = 4"] = {"wall": best[0], "cpu": best[1], "steps": N * STEPS}
print(json.dumps(out))
"""


def particle_rows(threads, n, steps, repeat):
    rows = []
    for t in threads:
        env = dict(os.environ, NUMBA_NUM_THREADS=str(t), PYTHONWARNINGS="ignore")
        res = subprocess.run([sys.executable, "-c", PARTICLE_CODE, str(n), str(steps),
                              str(repeat)], capture_output=True, text=True, env=env, check=True)
        for name, r in json.loads(res.stdout.strip().splitlines()[-1]).items():
            rows.append(dict(kernel=name, threads=t, steps=r["steps"], wall=r["wall"],
                             cpu=r["cpu"], per_core=r["steps"] / r["wall"] / t,
                             per_cpu_second=r["steps"] / r["cpu"], target=5e7))
    return rows


def table(grid, parts, meta):
    lines = ["# fpsolve.kinetic benchmarks", "",
             f"{meta['machine']}; {meta['when']}; load average at start {meta['load']}; "
             f"median of {meta['repeat']} runs after a warm-up.", "",
             "| question | scheme | grid | wall s | CPU s | target s | check |",
             "| --- | --- | --- | ---: | ---: | ---: | --- |"]
    for r in grid:
        tgt = "" if r["target"] is None else f"{r['target']:g}"
        lines.append(f"| {r['question']} | {r['scheme']} | {r['n']}² | {r['wall']:.2f} | "
                     f"{r['cpu']:.2f} | {tgt} | {r['check']} |")
    lines += ["", "| particle kernel | threads | steps | wall s | steps/s per core | "
                  "steps per CPU-second | target per core |", "| --- | ---: | ---: | ---: | ---: | "
                  "---: | ---: |"]
    for r in parts:
        lines.append(f"| {r['kernel']} | {r['threads']} | {r['steps']:.0e} | {r['wall']:.3f} | "
                     f"{r['per_core']:.3g} | {r['per_cpu_second']:.3g} | {r['target']:.0e} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--particles", type=int, default=1_000_000)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", default=str(HERE / "results"))
    a = ap.parse_args()
    meta = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores "
                       f"(shared with other jobs)",
            "when": time.strftime("%Y-%m-%d %H:%M"), "load": os.getloadavg()[0],
            "repeat": a.repeat, "python": sys.version.split()[0]}
    grid = grid_rows(a.n, a.repeat)
    parts = particle_rows([int(t) for t in a.threads.split(",")], a.particles, a.steps, a.repeat)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "kinetic.json").write_text(json.dumps({"meta": meta, "grid": grid,
                                                  "particles": parts}, indent=1),
                                      encoding="utf-8")
    md = table(grid, parts, meta)
    (out / "kinetic.md").write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
