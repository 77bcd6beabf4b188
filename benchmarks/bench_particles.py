"""Particle-steps per second of fpsolve.particles.simulate.

Problems
  dw1d      1D double well U = (x² − 1)²/4, D = 0.25, reflecting walls at ±2.5. Numba: the
            built-in polynomial potential (cached kernel, exact gradient). Torch: the same
            potential as an operator-only lambda (differentiated by torch.func.grad).
  tensor2d  2D double well b = (x − x³, −y) with a constant anisotropic 2×2 diffusion
            (Cholesky factor, correlated noise), reflecting box. Numba: jitted drift compiled
            into the kernel. Uses a stand-in model with a d×d diffusion (FokkerPlanck does not
            take one yet).

  dw1d_py   the README's double well with a state-dependent D, U and D written as plain Python
            lambdas (compiled automatically with numba.njit under compiled="auto"); dw1d_njit:
            the same functions decorated with @njit. *_fpt: first_passage to x ≥ 1 instead of
            simulate. tensor2d_py: tensor2d with a lambda drift.

Backends
  numba     one subprocess per thread count (NUMBA_NUM_THREADS is read at import), rate per
            core = rate / threads. Also reported: rate per CPU-second (process_time), which is
            what a core delivers when the machine is shared.
  torch     --device cpu|cuda, --dtype float32|float64, --fuse K (K steps traced into one
            torch.compile'd kernel; default 8 on CUDA, eager on CPU), --chunk (particles per
            batch; n is rounded to a multiple so that every batch has the compiled shape).

Examples
  python benchmarks/bench_particles.py            # numba with 1 and 2 threads, torch on cpu
  python benchmarks/bench_particles.py --backend torch --device cuda --n 100000000 --steps 1000 \\
      --dtype float32 --fuse 16                                       # the GPU figure
  python benchmarks/bench_particles.py --json benchmarks/results/particles.json
  python benchmarks/bench_particles.py --backend numba --n 200000 --steps 200 \
      --problems dw1d_py dw1d_njit dw1d_py_fpt dw1d_njit_fpt tensor2d_py tensor2d \
      --json benchmarks/results/particles_python.json       # plain Python vs @njit

Timings exclude compilation (a warm-up run of the same shapes comes first) and include the
host↔device copies of the initial and final positions.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np


class AnisotropicModel:
    """Stand-in for a FokkerPlanck with a constant d×d diffusion (drift_at / diffusion_at plus
    the coefficient attributes the particle kernels read)."""

    def __init__(self, drift, D, bounds):
        import fpsolve as fp

        self.grid = fp.Grid(bounds, 16)
        self.boundary = ("reflecting",) * len(bounds)
        self.alpha, self.schedule, self.potential, self.grad = 0.0, None, None, None
        self.drift = drift
        self.diffusion = np.asarray(D, dtype=float)

    def drift_at(self, X, t=0.0):
        X = np.asarray(X, dtype=float)
        return np.stack([np.asarray(v, float) for v in self.drift(X[:, 0], X[:, 1])], axis=-1)

    def diffusion_at(self, X, t=0.0):
        return np.broadcast_to(self.diffusion, (len(X), 2, 2))


D_TENSOR = [[0.30, 0.12], [0.12, 0.10]]


def build(problem, backend):
    import fpsolve as fp
    from fpsolve.particles import potentials

    if problem == "dw1d":
        U = potentials.double_well() if backend == "numba" else (lambda x: (x ** 2 - 1) ** 2 / 4)
        return fp.FokkerPlanck(fp.Grid([(-2.5, 2.5)], 100), potential=U, diffusion=0.25), -1.0
    if problem in ("dw1d_py", "dw1d_py_fpt", "dw1d_njit", "dw1d_njit_fpt"):
        # the README's double well with a state-dependent D, as plain lambdas (compiled
        # automatically under compiled="auto") or as @njit functions
        U, D = (lambda x: (x ** 2 - 1) ** 2 / 4), (lambda x: 0.05 * (1 + x ** 2))
        if "njit" in problem:
            from numba import njit
            U, D = njit(U), njit(D)
        return fp.FokkerPlanck(fp.Grid([(-2.5, 2.5)], 100), potential=U, diffusion=D), -1.0
    if problem == "tensor2d_py":
        return AnisotropicModel(lambda x, y: (x - x ** 3, -y), D_TENSOR,
                                [(-2.5, 2.5), (-2.0, 2.0)]), [-1.0, 0.0]
    if problem == "tensor2d":
        def drift(x, y):
            return x - x ** 3, -y
        if backend == "numba":
            from numba import njit
            drift = njit(drift)
        return AnisotropicModel(drift, D_TENSOR, [(-2.5, 2.5), (-2.0, 2.0)]), [-1.0, 0.0]
    raise SystemExit(f"unknown problem {problem}")


def run_one(args, problem):
    """Warm up, then time one simulate() call; returns a dict of figures."""
    from fpsolve.particles import simulate

    model, x0 = build(problem, args.backend)
    dt = 1e-3
    kw = dict(backend=args.backend, seed=1)
    n, chunk = args.n, args.chunk
    if args.backend == "torch":
        import torch

        if args.torch_threads:
            torch.set_num_threads(args.torch_threads)
        kw.update(device=args.device, dtype=args.dtype, fuse=args.fuse)
        if chunk is None:
            chunk = min(n, 1 << 24 if args.device.startswith("cuda") else 1 << 16)
        n = max(chunk, (n // chunk) * chunk)
        kw["chunk"] = chunk
        warm_n, warm_steps = chunk, max(args.fuse or 1, 1) * 2
    else:
        warm_n, warm_steps = 4096, 10
        if chunk:
            kw["chunk"] = chunk
    if problem.endswith("_fpt"):  # first passage to x ≥ 1 instead of simulate
        from fpsolve.particles import first_passage

        def call(n_, steps_, compiled="auto"):
            return first_passage(model, x0, [(1.0, np.inf)], n=n_, dt=dt, t_max=steps_ * dt,
                                 compiled=compiled, **kw)
    else:
        def call(n_, steps_, compiled="auto"):
            return simulate(model, x0, n=n_, dt=dt, t_end=steps_ * dt, compiled=compiled, **kw)
    # warm-up with the measured run's route (a plain Python coefficient is compiled only for
    # long runs under "auto": force it here, so that compilation is excluded as for @njit)
    call(warm_n, warm_steps, compiled=True if "_py" in problem and args.backend == "numba"
         else "auto")
    if args.backend == "torch" and args.device.startswith("cuda"):
        torch.cuda.synchronize()
    t0, c0 = time.perf_counter(), time.process_time()
    r = call(n, args.steps)
    if args.backend == "torch" and args.device.startswith("cuda"):
        torch.cuda.synchronize()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    work = r.info["particle_steps"] if problem.endswith("_fpt") else n * args.steps
    out = dict(problem=problem, backend=args.backend, route=r.route, n=n, steps=args.steps,
               particle_steps=work, wall_s=wall, rate=work / wall, rate_per_cpu_s=work / cpu,
               mean_final=float(r.mean[0] if problem.endswith("_fpt") else r.mean()[0])
               if not problem.endswith("_fpt") else float(r.mean))
    if args.backend == "numba":
        import numba

        out["threads"] = numba.get_num_threads()
        out["rate_per_core"] = out["rate"] / out["threads"]
    else:
        import torch

        out.update(device=args.device, dtype=args.dtype, fuse=r.info["fuse"], chunk=chunk,
                   torch=torch.__version__, torch_threads=torch.get_num_threads())
        if args.device.startswith("cuda"):
            out["gpu"] = torch.cuda.get_device_name()
    return out


def child(args):
    res = [run_one(args, p) for p in args.problems]
    print("RESULT " + json.dumps(res))


def spawn(args, threads=None, backend=None):
    env = dict(os.environ)
    if threads is not None:
        env["NUMBA_NUM_THREADS"] = str(threads)
    cmd = [sys.executable, __file__, "--child", "--backend", backend or args.backend,
           "--n", str(args.n), "--steps", str(args.steps), "--device", args.device,
           "--dtype", args.dtype, "--problems", *args.problems]
    if args.fuse is not None:
        cmd += ["--fuse", str(args.fuse)]
    if args.chunk is not None:
        cmd += ["--chunk", str(args.chunk)]
    if args.torch_threads is not None:
        cmd += ["--torch-threads", str(args.torch_threads)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode:
        sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"benchmark child failed ({backend}, threads={threads})")
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--backend", choices=["numba", "torch", "all"], default="all")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default=None, help="torch: float32 or float64 (default: float32 "
                    "on CUDA, float64 on CPU)")
    ap.add_argument("--n", type=int, default=1 << 20)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--fuse", type=int, default=None)
    ap.add_argument("--chunk", type=int, default=None)
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="torch intra-op threads on CPU (default: torch's own)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                    help="numba thread counts (one subprocess each)")
    ap.add_argument("--problems", nargs="+", default=["dw1d", "tensor2d"])
    ap.add_argument("--json", default=None, help="write the figures to this file")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.dtype is None:
        args.dtype = "float32" if args.device.startswith("cuda") else "float64"
    if args.child:
        return child(args)
    rows = []
    if args.backend in ("numba", "all"):
        for th in args.threads:
            rows += spawn(args, threads=th, backend="numba")
    if args.backend in ("torch", "all"):
        rows += spawn(args, backend="torch")
    header = (f"{'problem':9} {'backend':6} {'route':16} {'thr/dev':10} {'n':>10} {'steps':>6} "
              f"{'steps/s':>10} {'per core':>10} {'per cpu-s':>10}")
    print(header)
    print("-" * len(header))
    for r in rows:
        where = str(r.get("threads", r.get("device")))
        per_core = f"{r['rate_per_core']:.3g}" if "rate_per_core" in r else "-"
        print(f"{r['problem']:9} {r['backend']:6} {r['route']:16} {where:10} {r['n']:>10} "
              f"{r['steps']:>6} {r['rate']:>10.3g} {per_core:>10} {r['rate_per_cpu_s']:>10.3g}")
    meta = dict(machine=platform.machine(), cpus=os.cpu_count(), python=platform.python_version(),
                loadavg=os.getloadavg(), date=time.strftime("%Y-%m-%d %H:%M"))
    print(f"load average {meta['loadavg'][0]:.2f} on {meta['cpus']} CPUs (a shared machine "
          f"inflates wall times; 'per cpu-s' is the rate per CPU-second actually used)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(meta=meta, results=rows), f, indent=1)


if __name__ == "__main__":
    main()
