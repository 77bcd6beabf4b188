#!/usr/bin/env python
"""fpsolve vs fplanck 0.2.2 vs FiPy on the 2D stationary state of a double well.

Problem: U(x, y) = (x² − 1)²/4 + ½(1 + x²/2) y², D = 1/8, reflecting walls on [−2.6, 2.6]²,
n × n cells (cell centres). Questions timed for each code:

- stationary state: set-up, solve, error, memory;
- one implicit (backward Euler) time step (fpsolve and FiPy; fplanck has no implicit stepper).

Every (code, variant, size) runs in its own subprocess (``--worker``), so the peak RSS it reports
(``ru_maxrss`` after the timed runs minus ``ru_maxrss`` before them, after imports and a warm-up)
belongs to that measurement alone. Python allocations are measured in one extra, untimed run under
``tracemalloc`` (it sees numpy buffers, not memory malloc'd inside SuperLU/ARPACK or Numba's runtime,
hence the RSS column too). Times are medians over ``--repeat`` runs of wall clock
(``perf_counter``) and of process CPU time (``process_time``); on a loaded machine the CPU time of
these single-threaded codes is the better estimate of the unloaded wall time, so both are kept.

Usage::

    python benchmarks/bench_stationary_2d.py                       # full run, ~10-15 min
    python benchmarks/bench_stationary_2d.py --sizes 100,200 --codes fpsolve,fipy --repeat 1

Writes ``benchmarks/results/stationary_2d.json`` and ``stationary_2d.md`` and prints the tables.
See ``benchmarks/README.md`` for the definitions and the recorded results.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
HALF_WIDTH = 2.6           # box [−2.6, 2.6]²
D = 1.0 / 8.0              # constant diffusion
T_FINAL = 0.5              # time-step benchmark: evolve to T with k steps, dt = T / k
MARK = "@@RESULT@@ "


def potential(x, y):
    return (x**2 - 1.0) ** 2 / 4.0 + 0.5 * (1.0 + x**2 / 2.0) * y**2


def initial_density(x, y):
    return np.exp(-((x + 1.0) ** 2 + y**2) / 0.1)


# ------------------------------------------------------------------------------------------------
# references and errors
# ------------------------------------------------------------------------------------------------
def log_partition_function():
    """log Z, Z = ∫∫ exp(−U/D) over the box (inner y-integral in closed form via erf)."""
    from scipy.integrate import quad

    L = HALF_WIDTH

    def inner(x):
        a = (1.0 + x * x / 2.0) / (2.0 * D)
        return math.exp(-((x * x - 1.0) ** 2) / (4.0 * D)) * math.sqrt(math.pi / a) * math.erf(
            L * math.sqrt(a))

    # the integrand is symmetric in x and peaked at ±1: integrate [0, L] with the peak as a break
    z, _ = quad(inner, 0.0, L, points=[1.0], epsabs=0.0, epsrel=1e-13, limit=400)
    return math.log(2.0 * z)


def stationary_errors(p, X, Y, h):
    """Errors of a computed stationary density ``p`` (any normalisation, any cell ordering, the
    cell centres given by X, Y).

    - err_discrete: max_k |p̂_k − q_k| / max_k q_k with p̂ = p / Σp and q the exact discrete
      stationary state of fpsolve's scheme, q ∝ exp(−U/D) at the cell centres (built in log
      space and normalised to Σq = 1);
    - err_pointwise: max_k |p̂_k / q_k − 1| over the cells with q_k ≥ 1e−8 max q (relative
      accuracy in the bulk, including the barrier region);
    - err_gibbs: max_k |ρ_k − g_k| / max g with ρ = p / (Σp h²) and g = exp(−U/D)/Z the
      continuum Gibbs density at the cell centres (Z by quadrature);
    - min_over_max: min p / max p (negative if the solver produced negative values).
    """
    p = np.asarray(p, dtype=float).ravel()
    X = np.asarray(X, dtype=float).ravel()
    Y = np.asarray(Y, dtype=float).ravel()
    lq = -potential(X, Y) / D
    q = np.exp(lq - lq.max())
    q /= q.sum()
    ps = p.sum()
    pn = p / ps
    bulk = q >= 1e-8 * q.max()
    g = np.exp(lq - log_partition_function())
    rho = p / (ps * h * h)
    return {
        "err_discrete": float(np.max(np.abs(pn - q)) / q.max()),
        "err_pointwise": float(np.max(np.abs(pn[bulk] / q[bulk] - 1.0))),
        "err_gibbs": float(np.max(np.abs(rho - g)) / g.max()),
        "min_over_max": float(p.min() / p.max()),
    }


# ------------------------------------------------------------------------------------------------
# measurement protocol (inside a worker)
# ------------------------------------------------------------------------------------------------
class Clock:
    """Records wall and CPU seconds of named phases."""

    def __init__(self):
        self.wall = {}
        self.cpu = {}

    def phase(self, name):
        clock = self

        class _P:
            def __enter__(self):
                gc.collect()
                self.w = time.perf_counter()
                self.c = time.process_time()

            def __exit__(self, *exc):
                clock.wall[name] = time.perf_counter() - self.w
                clock.cpu[name] = time.process_time() - self.c

        return _P()


def maxrss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def measure(run_once, repeat, max_repeat_time, derive=None):
    """Run ``run_once() -> (Clock, payload)`` up to ``repeat`` times (once only if the first run
    takes longer than ``max_repeat_time`` s), then once more under tracemalloc.

    Returns (record, payload of the last timed run)."""
    gc.collect()
    rss0 = maxrss_mib()
    clocks, payload = [], None
    for _ in range(repeat):
        payload = None
        gc.collect()
        clock, payload = run_once()
        if derive is not None:
            derive(clock)
        clocks.append(clock)
        if sum(v for k, v in clock.wall.items() if not k.startswith("_")) > max_repeat_time:
            break
    rss1 = maxrss_mib()
    names = list(clocks[0].wall)
    rec = {
        "runs": len(clocks),
        "wall": {k: float(np.median([c.wall[k] for c in clocks])) for k in names},
        "cpu": {k: float(np.median([c.cpu[k] for c in clocks])) for k in names},
        "wall_min": {k: float(np.min([c.wall[k] for c in clocks])) for k in names},
        "wall_all": {k: [c.wall[k] for c in clocks] for k in names},
        "rss_before_mib": rss0,
        "rss_peak_mib": rss1,
        "rss_delta_mib": rss1 - rss0,
    }
    return rec, payload


def traced_peak(run_once):
    """Peak of Python-visible allocations (tracemalloc) during one more, untimed run."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    out = run_once()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del out
    return (peak - base) / 2**20


# ------------------------------------------------------------------------------------------------
# workers: one (code, variant, size) each
# ------------------------------------------------------------------------------------------------
def worker_fpsolve(n, variant, repeat, max_repeat_time):
    t0 = time.perf_counter()
    import fpsolve as fp
    t_import = time.perf_counter() - t0
    box = [(-HALF_WIDTH, HALF_WIDTH)] * 2
    method, solver = {"auto": ("auto", "auto"), "direct": ("solve", "direct"),
                      "amg": ("solve", "amg")}[variant]

    # warm-up on a small grid: loads (or compiles) every Numba kernel used below
    m = fp.FokkerPlanck(fp.Grid(box, 24), potential=potential, diffusion=D)
    m.stationary(method=method, solver=solver)
    m.generator()
    del m

    def run_once():
        c = Clock()
        with c.phase("construct"):
            grid = fp.Grid(box, n)
            model = fp.FokkerPlanck(grid, potential=potential, diffusion=D)
        with c.phase("rates"):
            model.rates
        with c.phase("solve"):
            dens = model.stationary(method=method, solver=solver)
        # the assembly target: face rates (above) + one sparse generator, timed on its own
        with c.phase("generator"):
            L = model.generator()
        del L
        return c, (dens, grid)

    def derive(c):
        for d in (c.wall, c.cpu):
            d["_setup"] = d["construct"] + d["rates"]
            d["_total"] = d["_setup"] + d["solve"]
            d["_assembly"] = d["rates"] + d["generator"]

    rec, (dens, grid) = measure(run_once, repeat, max_repeat_time, derive)
    rec.update(stationary_errors(dens.values, grid.coords[0], grid.coords[1], float(grid.h[0])))
    rec["info"] = {k: (v if isinstance(v, (str, bool, int, float)) else str(v))
                   for k, v in dens.info.items()}
    del dens
    rec["tracemalloc_peak_mib"] = traced_peak(run_once)
    rec["import_s"] = t_import
    rec["fpsolve_file"] = fp.__file__
    return rec


def worker_fpsolve_step(n, repeat, max_repeat_time, k1=10, k2=110):
    import fpsolve as fp
    box = [(-HALF_WIDTH, HALF_WIDTH)] * 2
    m = fp.FokkerPlanck(fp.Grid(box, 24), potential=potential, diffusion=D)
    m.evolve(initial_density, [T_FINAL], scheme="backward-euler", dt=T_FINAL / 3)
    del m

    def run_once():
        c = Clock()
        with c.phase("construct"):
            grid = fp.Grid(box, n)
            model = fp.FokkerPlanck(grid, potential=potential, diffusion=D)
            p0 = model.density(initial_density)
        with c.phase("evolve_k1"):
            r1 = model.evolve(p0, [T_FINAL], scheme="backward-euler", dt=T_FINAL / k1)
        with c.phase("evolve_k2"):
            r2 = model.evolve(p0, [T_FINAL], scheme="backward-euler", dt=T_FINAL / k2)
        assert r1.steps == k1 and r2.steps == k2 and r2.factorisations == 1
        return c, (r2.mass[-1], r2.min_value)

    def derive(c):
        for d in (c.wall, c.cpu):
            d["_step"] = (d["evolve_k2"] - d["evolve_k1"]) / (k2 - k1)
            # what one evolve() call pays besides its steps: generator assembly, I − Δt L,
            # CSC conversion and the sparse LU factorisation
            d["_overhead"] = d["evolve_k1"] - k1 * d["_step"]

    rec, (mass, pmin) = measure(run_once, repeat, max_repeat_time, derive)
    rec.update(k1=k1, k2=k2, mass_error=float(abs(mass - 1.0)), min_value=float(pmin),
               solver="fpsolve: one scipy SuperLU factorisation (MMD_AT_PLUS_A) per evolve(), "
                      "reused for every step")
    rec["tracemalloc_peak_mib"] = traced_peak(run_once)
    return rec


def worker_fpsolve_firstcall(cold):
    """Time of the first calls of every kernel on a 32² grid, with an empty Numba cache
    (``cold``: compilation) or the normal one (loading the cache), and of the same calls again."""
    t0 = time.perf_counter()
    import fpsolve as fp
    t_import = time.perf_counter() - t0
    box = [(-HALF_WIDTH, HALF_WIDTH)] * 2

    def sequence():
        t = time.perf_counter()
        m = fp.FokkerPlanck(fp.Grid(box, 32), potential=potential, diffusion=D)
        m.rates
        m.generator()
        m.stationary()
        m.stationary(method="solve", solver="direct")
        m.evolve(initial_density, [T_FINAL], scheme="backward-euler", dt=T_FINAL / 4)
        return time.perf_counter() - t

    first = sequence()
    second = min(sequence() for _ in range(3))
    return {"cold_cache": cold, "import_s": t_import, "fpsolve_file": fp.__file__, "first_s": first, "again_s": second,
            "compile_or_load_s": first - second,
            "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR", "(default: __pycache__)")}


def _fplanck():
    if not hasattr(np, "product"):  # fplanck 0.2.2 calls np.product, removed in numpy 2
        np.product = np.prod
    import fplanck
    return fplanck


def _fplanck_model(fplanck, n):
    from scipy import constants
    extent = 2.0 * HALF_WIDTH
    res = extent / n
    while int(np.ceil(extent / res)) > n:   # fplanck: Ngrid = ceil(extent / resolution)
        res = np.nextafter(res, np.inf)
    # kT = D and drag 1: diffusion kT/drag = D and β = 1/kT = 1/D, so p ∝ exp(−βU) = exp(−U/D)
    sim = fplanck.fokker_planck(temperature=D / constants.k, drag=1.0, extent=[extent, extent],
                                resolution=res, potential=potential,
                                boundary=fplanck.boundary.reflecting)
    assert tuple(sim.Ngrid) == (n, n), sim.Ngrid
    return sim


def worker_fplanck(n, repeat, max_repeat_time):
    t0 = time.perf_counter()
    fplanck = _fplanck()
    t_import = time.perf_counter() - t0
    _fplanck_model(fplanck, 12).steady_state()

    def run_once():
        c = Clock()
        with c.phase("setup"):
            sim = _fplanck_model(fplanck, n)
        with c.phase("solve"):
            p = sim.steady_state()
        return c, (p, sim.grid[0], sim.grid[1], float(sim.resolution[0]))

    def derive(c):
        for d in (c.wall, c.cpu):
            d["_setup"] = d["setup"]
            d["_total"] = d["setup"] + d["solve"]

    rec, (p, X, Y, h) = measure(run_once, repeat, max_repeat_time, derive)
    # fplanck's master matrix: rate D/h² exp(−ΔU/(2D)) (square-root approximation), whose
    # discrete stationary state is exp(−U/D) at the nodes too; steady_state() = ARPACK
    # shift-invert eigs(k=1, sigma=0), i.e. a SuperLU factorisation of the singular matrix
    rec.update(stationary_errors(p, X, Y, h))
    del p
    rec["tracemalloc_peak_mib"] = traced_peak(run_once)
    rec["import_s"] = t_import
    return rec


def _fipy_problem(fv, n, steady):
    """Mesh, variables and equation. The drift is the discrete gradient −U.faceGrad (normal
    component (U_k − U_{k+1})/h on the faces, 0 on the walls), so that FiPy's exponential
    (Scharfetter–Gummel) convection scheme has the same Péclet numbers, hence the same exact
    discrete stationary state exp(−U/D), as fpsolve."""
    h = 2.0 * HALF_WIDTH / n
    mesh = fv.Grid2D(dx=h, dy=h, nx=n, ny=n) + ((-HALF_WIDTH,), (-HALF_WIDTH,))
    X, Y = (np.asarray(c) for c in mesh.cellCenters)
    Uc = potential(X, Y)
    Uv = fv.CellVariable(mesh=mesh, value=Uc)
    u = -Uv.faceGrad
    if steady:
        # pure-Neumann steady problem is singular: pin the most probable cell to 1 with FiPy's
        # documented internal-fixed-value recipe (a large implicit source on one cell). At the
        # exact solution the pinned row's flux terms vanish, so the pin adds no error.
        phi = fv.CellVariable(mesh=mesh, value=0.0)
        mask = np.zeros(mesh.numberOfCells)
        mask[int(np.argmin(Uc))] = 1.0
        maskv = fv.CellVariable(mesh=mesh, value=mask)
        big = 1e6 * 4.0 * D / h**2
        eq = (fv.DiffusionTerm(coeff=D) - fv.ExponentialConvectionTerm(coeff=u)
              - fv.ImplicitSourceTerm(coeff=big * maskv) + big * maskv == 0)
    else:
        phi = fv.CellVariable(mesh=mesh, value=initial_density(X, Y))
        eq = fv.TransientTerm() == fv.DiffusionTerm(coeff=D) - fv.ExponentialConvectionTerm(coeff=u)
    return mesh, X, Y, h, phi, eq


def _fipy_solver_name(fv):
    import fipy.solvers as fs
    return f"{getattr(fs, 'solver_suite', '?')}: {fs.DefaultSolver.__name__}"


def worker_fipy(n, repeat, max_repeat_time):
    t0 = time.perf_counter()
    import fipy as fv
    t_import = time.perf_counter() - t0
    _, _, _, _, phi, eq = _fipy_problem(fv, 16, True)
    eq.solve(var=phi)

    def run_once():
        c = Clock()
        with c.phase("setup"):
            mesh, X, Y, h, phi, eq = _fipy_problem(fv, n, True)
        with c.phase("solve"):
            eq.solve(var=phi)   # FiPy builds the matrix inside solve(), then factorises
        return c, (np.array(phi.value), X, Y, h)

    def derive(c):
        for d in (c.wall, c.cpu):
            d["_setup"] = d["setup"]
            d["_total"] = d["setup"] + d["solve"]

    rec, (p, X, Y, h) = measure(run_once, repeat, max_repeat_time, derive)
    rec.update(stationary_errors(p, X, Y, h))
    del p
    rec["tracemalloc_peak_mib"] = traced_peak(run_once)
    rec["import_s"] = t_import
    rec["solver"] = _fipy_solver_name(fv)
    return rec


def worker_fipy_step(n, repeat, max_repeat_time, steps=5):
    import fipy as fv
    _, _, _, _, phi, eq = _fipy_problem(fv, 16, False)
    eq.solve(var=phi, dt=0.01)
    dt = T_FINAL / 10

    def run_once():
        c = Clock()
        with c.phase("setup"):
            mesh, X, Y, h, phi, eq = _fipy_problem(fv, n, False)
        with c.phase("first_step"):
            eq.solve(var=phi, dt=dt)
        per = []
        for i in range(steps):
            with c.phase(f"_s{i}"):
                eq.solve(var=phi, dt=dt)
            per.append((c.wall.pop(f"_s{i}"), c.cpu.pop(f"_s{i}")))
        c.wall["_step"] = float(np.median([w for w, _ in per]))
        c.cpu["_step"] = float(np.median([u for _, u in per]))
        c.wall["steps"] = sum(w for w, _ in per)
        c.cpu["steps"] = sum(u for _, u in per)
        mass = float(np.sum(phi.value)) * h * h
        return c, (mass, float(np.min(phi.value)))

    rec, (mass, pmin) = measure(run_once, repeat, max_repeat_time)
    rec.update(steps_timed=steps, dt=dt, mass_after=mass, min_value=pmin,
               solver=_fipy_solver_name(fv) + " (matrix rebuilt and refactorised every step)")

    def one_step():
        _, _, _, _, phi, eq = _fipy_problem(fv, n, False)
        eq.solve(var=phi, dt=dt)
    rec["tracemalloc_peak_mib"] = traced_peak(one_step)
    return rec


def run_worker(args):
    kind, n = args.worker, args.n
    if kind == "fpsolve-step":
        rec = worker_fpsolve_step(n, args.repeat, args.max_repeat_time)
    elif kind.startswith("fpsolve-first"):
        rec = worker_fpsolve_firstcall(kind.endswith("cold"))
    elif kind.startswith("fpsolve-"):
        rec = worker_fpsolve(n, kind.split("-", 1)[1], args.repeat, args.max_repeat_time)
    elif kind == "fplanck":
        rec = worker_fplanck(n, args.repeat, args.max_repeat_time)
    elif kind == "fipy":
        rec = worker_fipy(n, args.repeat, args.max_repeat_time)
    elif kind == "fipy-step":
        rec = worker_fipy_step(n, args.repeat, args.max_repeat_time)
    else:
        raise SystemExit(f"unknown worker {kind}")
    print(MARK + json.dumps(rec), flush=True)


# ------------------------------------------------------------------------------------------------
# driver
# ------------------------------------------------------------------------------------------------
def fpsolve_root():
    import importlib.util
    spec = importlib.util.find_spec("fpsolve")
    return None if spec is None else Path(spec.origin).resolve().parent


def fpsolve_source_hash(root=None):
    """sha256 over fpsolve's Python sources: identifies the code measured."""
    import hashlib
    root = root or fpsolve_root()
    if root is None:
        return None
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def machine_info():
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                                  timeout=20).stdout.strip()
        except Exception as exc:  # pragma: no cover - informational only
            return f"({exc})"

    from importlib import metadata
    versions = {}
    for pkg in ("fpsolve", "numpy", "scipy", "numba", "pyamg", "fipy", "fplanck"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    lscpu = sh("lscpu")
    keep = ("Architecture", "CPU(s):", "Model name", "Thread(s) per core", "Core(s) per socket",
            "L1d cache", "L2 cache", "L3 cache", "Hypervisor vendor")
    return {
        "lscpu": [ln for ln in lscpu.splitlines() if ln.strip().startswith(keep)],
        "nproc": sh("nproc"),
        "free_h": sh("free -h"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": versions,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def plan(args):
    sizes = args.sizes
    codes = args.codes
    jobs = []
    if "fpsolve" in codes:
        jobs.append(("fpsolve-first-cold", 0))
        jobs.append(("fpsolve-first-warm", 0))
    for n in sizes:
        if "fpsolve" in codes:
            if "auto" in args.fpsolve_variants:
                jobs.append(("fpsolve-auto", n))
            if "direct" in args.fpsolve_variants and n <= args.direct_max:
                jobs.append(("fpsolve-direct", n))
            if "amg" in args.fpsolve_variants and n <= args.amg_max:
                jobs.append(("fpsolve-amg", n))
            if n <= args.step_max:
                jobs.append(("fpsolve-step", n))
        if "fplanck" in codes and n <= args.fplanck_max:
            jobs.append(("fplanck", n))
        if "fipy" in codes:
            if n <= args.fipy_max:
                jobs.append(("fipy", n))
            if n <= args.fipy_step_max:
                jobs.append(("fipy-step", n))
    skipped = []
    for n in sizes:
        if "fplanck" in codes and n > args.fplanck_max:
            skipped.append(f"fplanck {n}² (> --fplanck-max {args.fplanck_max})")
        if "fipy" in codes and n > args.fipy_max:
            skipped.append(f"FiPy stationary {n}² (> --fipy-max {args.fipy_max})")
        if "fipy" in codes and n > args.fipy_step_max:
            skipped.append(f"FiPy step {n}² (> --fipy-step-max {args.fipy_step_max})")
        if "fpsolve" in codes and n > args.step_max:
            skipped.append(f"fpsolve step {n}² (> --step-max {args.step_max})")
        if "fpsolve" in codes and n > args.direct_max:
            skipped.append(f"fpsolve solve/direct {n}² (> --direct-max {args.direct_max})")
        if "fpsolve" in codes and "amg" in args.fpsolve_variants and n > args.amg_max:
            skipped.append(f"fpsolve solve/amg {n}² (> --amg-max {args.amg_max})")
    return jobs, skipped


def snapshot_fpsolve(dest):
    """Copy the fpsolve package to ``dest``/fpsolve. fpsolve is installed in editable mode and
    may be edited while a long run is going on; every worker imports this one copy (first on
    PYTHONPATH), so all rows measure the same code. Its Numba cache is primed here."""
    src = fpsolve_root()
    shutil.copytree(src, Path(dest) / "fpsolve",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(dest)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    prime = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import bench_stationary_2d as b; "
             f"b.worker_fpsolve_firstcall(False)")
    # cwd=dest: with "-c", sys.path[0] is the working directory, which must not hold another
    # fpsolve (running from the repository root would prime the live package instead)
    subprocess.run([sys.executable, "-c", prime], env=env, check=True, capture_output=True,
                   cwd=str(dest))
    return env["PYTHONPATH"]


def launch(kind, n, args):
    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath
    tmp = None
    if kind == "fpsolve-first-cold":
        tmp = tempfile.TemporaryDirectory(prefix="numba-cold-")
        env["NUMBA_CACHE_DIR"] = tmp.name
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--n", str(n),
           "--repeat", str(args.repeat), "--max-repeat-time", str(args.max_repeat_time)]
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
    except subprocess.TimeoutExpired:
        rec = {"status": f"timeout after {args.timeout} s"}
    else:
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
        if proc.returncode == 0 and lines:
            rec = json.loads(lines[-1][len(MARK):])
            rec["status"] = "ok"
        else:
            rec = {"status": f"failed (exit {proc.returncode})",
                   "stderr_tail": proc.stderr[-2000:]}
    finally:
        if tmp is not None:
            tmp.cleanup()
    rec.update(kind=kind, n=n, job_wall_s=time.perf_counter() - t0, loadavg_before=load0,
               loadavg_after=os.getloadavg()[0])
    return rec


# ------------------------------------------------------------------------------------------------
# tables
# ------------------------------------------------------------------------------------------------
LABEL = {
    "fpsolve-auto": ("fpsolve", "stationary() auto → closed form (detailed balance)"),
    "fpsolve-direct": ("fpsolve", "stationary(method='solve', solver='direct'): SuperLU"),
    "fpsolve-amg": ("fpsolve", "stationary(method='solve', solver='amg'): RS-AMG + GMRES"),
    "fplanck": ("fplanck 0.2.2", "steady_state(): ARPACK shift-invert eigs"),
    "fipy": ("FiPy 4.0.3", "steady eq. + pinned cell, eq.solve(): scipy LinearLUSolver"),
}


def fmt(x, digits=3):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if x == 0:
        return "0"
    ax = abs(x)
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 0.01:
        return f"{x:.{digits}g}"
    return f"{x:.2e}"


def fmt_err(x):
    return "–" if x is None else f"{x:.1e}"


def get(results, kind, n):
    for r in results:
        if r["kind"] == kind and r["n"] == n and r.get("status") == "ok":
            return r
    return None


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def tables(results, args, skipped, info):
    out = []
    sizes = args.sizes
    out.append("### Stationary state\n")
    out.append("Medians over the runs (`runs`); times in seconds, wall clock (process CPU time in "
               "the `total CPU` column). *set-up* and *solve* follow each code's own API split "
               "(README); *total* is the comparable number. Errors: `err∞` = max|p̂−q|/max q "
               "against the exact discrete state q ∝ exp(−U/D) at the cell centres; `bulk` = "
               "max|p̂/q − 1| where q ≥ 1e−8·max q; `Gibbs` = max|ρ−g|/max g against the "
               "continuum density. Memory: tracemalloc peak of Python allocations, and peak-RSS "
               "growth of the worker process, in MiB.\n")
    out.append("| code | method | n² | set-up | solve | total | total CPU | err∞ | bulk | Gibbs "
               "| tracemalloc | ΔRSS | runs |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for kind in ("fpsolve-auto", "fpsolve-direct", "fpsolve-amg", "fplanck", "fipy"):
        for n in sizes:
            r = next((x for x in results if x["kind"] == kind and x["n"] == n), None)
            if r is None:
                continue
            code, meth = LABEL[kind]
            if r.get("status") != "ok":
                out.append(f"| {code} | {meth} | {n} | {r['status']} |||||||||")
                continue
            w, c = r["wall"], r["cpu"]
            out.append(
                f"| {code} | {meth} | {n} | {fmt(w['_setup'])} | {fmt(w['solve'])} | "
                f"{fmt(w['_total'])} | {fmt(c['_total'])} | {fmt_err(r['err_discrete'])} | "
                f"{fmt_err(r['err_pointwise'])} | {fmt_err(r['err_gibbs'])} | "
                f"{r['tracemalloc_peak_mib']:.0f} | {r['rss_delta_mib']:.0f} | {r['runs']} |")

    out.append("\n### fpsolve assembly (`model.rates` + `model.generator()`, after construction)\n")
    out.append("| n² | face rates | generator() | assembly wall | assembly CPU |")
    out.append("|---:|---:|---:|---:|---:|")
    for n in sizes:
        r = get(results, "fpsolve-auto", n)
        if r:
            w, c = r["wall"], r["cpu"]
            out.append(f"| {n} | {fmt(w['rates'])} | {fmt(w['generator'])} | "
                       f"{fmt(w['_assembly'])} | {fmt(c['_assembly'])} |")

    out.append("\n### One implicit (backward-Euler) time step\n")
    out.append("fpsolve: `evolve(p0, [T], scheme='backward-euler', dt=T/k)`, per step = "
               "(t(k=110) − t(k=10))/100, i.e. without the one factorisation per call, which is "
               "listed as *per-call overhead* (assembly + LU). FiPy: median of 5 "
               "`eq.solve(var, dt)` after one warm-up step; FiPy rebuilds and refactorises the "
               "matrix on every step. fplanck has no implicit stepper (only expm_multiply).\n")
    out.append("| code | n² | per step wall [ms] | per step CPU [ms] | per-call overhead [s] "
               "| runs | solver |")
    out.append("|---|---:|---:|---:|---:|---:|---|")
    for kind, name in (("fpsolve-step", "fpsolve"), ("fipy-step", "FiPy 4.0.3")):
        for n in sizes:
            r = next((x for x in results if x["kind"] == kind and x["n"] == n), None)
            if r is None:
                continue
            if r.get("status") != "ok":
                out.append(f"| {name} | {n} | {r['status']} ||||||")
                continue
            ov = fmt(r["wall"].get("_overhead")) if kind == "fpsolve-step" else "–"
            out.append(f"| {name} | {n} | {r['wall']['_step'] * 1e3:.3g} | "
                       f"{r['cpu']['_step'] * 1e3:.3g} | {ov} | {r['runs']} | {r['solver']} |")

    out.append("\n### Ratios, measured side by side in this run (other code ÷ fpsolve)\n")
    out.append("Each cell: ratio of wall-clock medians / ratio of CPU-time medians. Totals are "
               "set-up + stationary solve.\n")
    out.append("| n² | fplanck ÷ fpsolve auto | fplanck ÷ fpsolve direct | fplanck ÷ fpsolve amg "
               "| FiPy ÷ fpsolve auto | FiPy ÷ fpsolve direct | FiPy ÷ fpsolve amg "
               "| FiPy step ÷ fpsolve step |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|")

    def tot(kind, n, which="wall"):
        r = get(results, kind, n)
        return r[which]["_total"] if r else None

    def step(kind, n, which="wall"):
        r = get(results, kind, n)
        return r[which]["_step"] if r else None

    def pair(f, other, ours, n):
        w, c = ratio(f(other, n), f(ours, n)), ratio(f(other, n, "cpu"), f(ours, n, "cpu"))
        return None if w is None else f"{w:.3g}× / {c:.3g}×"

    for n in sizes:
        cells = [pair(tot, "fplanck", "fpsolve-auto", n),
                 pair(tot, "fplanck", "fpsolve-direct", n),
                 pair(tot, "fplanck", "fpsolve-amg", n),
                 pair(tot, "fipy", "fpsolve-auto", n),
                 pair(tot, "fipy", "fpsolve-direct", n),
                 pair(tot, "fipy", "fpsolve-amg", n),
                 pair(step, "fipy-step", "fpsolve-step", n)]
        if any(x is not None for x in cells):
            out.append(f"| {n} | " + " | ".join("–" if x is None else x for x in cells) + " |")

    out.append("\n### Targets\n")
    out.append("| target | measured (wall) | measured (CPU) | met? |")
    out.append("|---|---:|---:|---|")

    def row(name, wall, cpu, ok_fn, unit=" s"):
        if wall is None:
            out.append(f"| {name} | not measured | | – |")
            return
        ok_w, ok_c = ok_fn(wall), ok_fn(cpu)
        verdict = "yes" if ok_w else ("wall: no; CPU: yes (load)" if ok_c else "no")
        out.append(f"| {name} | {fmt(wall)}{unit} | {fmt(cpu)}{unit} | {verdict} |")

    row("512²: set-up + stationary ≤ 2 s (auto)", tot("fpsolve-auto", 512),
        tot("fpsolve-auto", 512, "cpu"), lambda v: v <= 2.0)
    row("512²: set-up + stationary ≤ 2 s (method='solve', direct)", tot("fpsolve-direct", 512),
        tot("fpsolve-direct", 512, "cpu"), lambda v: v <= 2.0)
    r = get(results, "fpsolve-auto", 1000)
    row("1000²: assembly (rates + generator()) ≤ 0.5 s", r and r["wall"]["_assembly"],
        r and r["cpu"]["_assembly"], lambda v: v <= 0.5)
    row("400²: fplanck total ÷ fpsolve total (auto) ≥ 10×",
        ratio(tot("fplanck", 400), tot("fpsolve-auto", 400)),
        ratio(tot("fplanck", 400, "cpu"), tot("fpsolve-auto", 400, "cpu")),
        lambda v: v >= 10, "×")
    row("400²: fplanck total ÷ fpsolve total (solve, direct) ≥ 10×",
        ratio(tot("fplanck", 400), tot("fpsolve-direct", 400)),
        ratio(tot("fplanck", 400, "cpu"), tot("fpsolve-direct", 400, "cpu")),
        lambda v: v >= 10, "×")
    row("200²: FiPy step ÷ fpsolve step ≥ 10×",
        ratio(step("fipy-step", 200), step("fpsolve-step", 200)),
        ratio(step("fipy-step", 200, "cpu"), step("fpsolve-step", 200, "cpu")),
        lambda v: v >= 10, "×")

    cold = next((x for x in results if x["kind"] == "fpsolve-first-cold"), None)
    warm = next((x for x in results if x["kind"] == "fpsolve-first-warm"), None)
    if cold and cold.get("status") == "ok":
        out.append("\n### fpsolve first call (Numba)\n")
        out.append("Construct + rates + generator + stationary (auto and solve) + evolve on a 32² "
                   "grid, first time in a fresh process vs. the best of 3 repeats.\n")
        out.append("| Numba cache | import fpsolve [s] | first call [s] | again [s] | "
                   "compile / cache load [s] |")
        out.append("|---|---:|---:|---:|---:|")
        for r, name in ((cold, "empty (cold compile)"), (warm, "populated (cache=True)")):
            if r and r.get("status") == "ok":
                out.append(f"| {name} | {r['import_s']:.2f} | {r['first_s']:.2f} | "
                           f"{r['again_s']:.3f} | {r['compile_or_load_s']:.2f} |")
    imp = {k: get(results, k, n)["import_s"] for k in ("fpsolve-auto", "fplanck", "fipy")
           for n in sizes[:1] if get(results, k, n)}
    if imp:
        out.append("\nImport time (not in any row above): " + ", ".join(
            f"{LABEL[k][0]} {v:.2f} s" for k, v in imp.items()) + ".")
    if skipped:
        out.append("\nSkipped: " + "; ".join(skipped) + ".")
    loads = [x["loadavg_before"] for x in results] + [x["loadavg_after"] for x in results]
    if loads:
        out.append(f"\n1-min load average during the run: {min(loads):.1f} – {max(loads):.1f} "
                   f"on {info.get('nproc')} CPUs.")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,200,400,512,1000",
                    help="comma-separated n (grid n×n); default %(default)s")
    ap.add_argument("--codes", default="fpsolve,fplanck,fipy",
                    help="comma-separated subset of fpsolve,fplanck,fipy")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    ap.add_argument("--max-repeat-time", type=float, default=30.0,
                    help="a measurement whose first run takes longer (s) is not repeated")
    ap.add_argument("--timeout", type=float, default=600.0, help="per-subprocess limit (s)")
    ap.add_argument("--fplanck-max", type=int, default=512,
                    help="largest n for fplanck (its Python assembly loop is O(N) interpreted)")
    ap.add_argument("--fipy-max", type=int, default=512, help="largest n for FiPy stationary")
    ap.add_argument("--fipy-step-max", type=int, default=400, help="largest n for FiPy steps")
    ap.add_argument("--step-max", type=int, default=400, help="largest n for fpsolve steps")
    ap.add_argument("--direct-max", type=int, default=1000,
                    help="largest n for fpsolve solve/direct")
    ap.add_argument("--fpsolve-variants", default="auto,direct,amg",
                    help="fpsolve stationary rows: auto (closed form), direct and amg "
                         "(method='solve' with that linear solver); default %(default)s")
    ap.add_argument("--amg-max", type=int, default=1000, help="largest n for fpsolve solve/amg")
    ap.add_argument("--out-dir", default=str(HERE / "results"))
    ap.add_argument("--no-snapshot", action="store_true",
                    help="measure the installed fpsolve directly instead of a snapshot copy")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--from-json", metavar="PATH",
                    help="only re-render the Markdown tables of a saved results JSON")
    args = ap.parse_args(argv)

    if args.worker:
        return run_worker(args)
    if args.from_json:
        return render(json.loads(Path(args.from_json).read_text()), Path(args.out_dir))

    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.codes = [c.strip().lower() for c in args.codes.split(",") if c.strip()]
    args.fpsolve_variants = [v.strip() for v in args.fpsolve_variants.split(",") if v.strip()]
    bad = set(args.codes) - {"fpsolve", "fplanck", "fipy"}
    if bad:
        ap.error(f"unknown codes {sorted(bad)}")
    info = machine_info()
    jobs, skipped = plan(args)
    snap = None
    args.pythonpath = None
    if "fpsolve" in args.codes and not args.no_snapshot:
        snap = tempfile.TemporaryDirectory(prefix="fpsolve-snapshot-")
        args.pythonpath = snapshot_fpsolve(snap.name)
        info["fpsolve_measured"] = "snapshot copy taken at the start of the run"
        info["fpsolve_source_sha256_start"] = fpsolve_source_hash(Path(snap.name) / "fpsolve")
    else:
        info["fpsolve_measured"] = "installed package"
        info["fpsolve_source_sha256_start"] = fpsolve_source_hash()
    print(f"{len(jobs)} measurements, each in its own subprocess", file=sys.stderr)
    results = []
    t_start = time.perf_counter()
    for kind, n in jobs:
        rec = launch(kind, n, args)
        results.append(rec)
        tot = rec.get("wall", {}).get("_total") or rec.get("wall", {}).get("_step")
        print(f"  {kind:20s} n={n:5d}  {rec['status']:8s} job {rec['job_wall_s']:6.1f} s"
              + (f"  (median {tot:.4g} s)" if tot else ""), file=sys.stderr, flush=True)
    info["bench_wall_s"] = time.perf_counter() - t_start
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    info["bench_children_cpu_s"] = ru.ru_utime + ru.ru_stime
    info["fpsolve_source_sha256_end"] = fpsolve_source_hash(
        Path(snap.name) / "fpsolve" if snap else None)
    info["fpsolve_installed_sha256_end"] = fpsolve_source_hash()
    if info["fpsolve_source_sha256_end"] != info["fpsolve_source_sha256_start"]:
        skipped.append("WARNING: fpsolve's source changed during this run; rows may mix versions")
    files = {r.get("fpsolve_file") for r in results if r.get("fpsolve_file")}
    info["fpsolve_files_imported"] = sorted(files)
    if snap is not None:
        snap.cleanup()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    payload = {"problem": {"potential": "(x^2-1)^2/4 + (1 + x^2/2) y^2 / 2", "D": D,
                           "box": [-HALF_WIDTH, HALF_WIDTH], "T_step_benchmark": T_FINAL},
               "args": {k: v for k, v in vars(args).items()
                        if k not in ("worker", "n", "from_json")},
               "machine": info, "skipped": skipped, "results": results}
    (out_dir / "stationary_2d.json").write_text(json.dumps(payload, indent=1))
    render(payload, out_dir)


def render(payload, out_dir):
    """Markdown tables from a results payload (also: --from-json to re-render a saved run)."""
    info, results, skipped = payload["machine"], payload["results"], payload["skipped"]
    md = tables(results, argparse.Namespace(sizes=payload["args"]["sizes"]), skipped, info)
    header = (f"Machine: {info['nproc']} CPUs, "
              f"{next((ln.split(':', 1)[1].strip() for ln in info['lscpu'] if 'Model name' in ln), '?')}"
              f"; Python {info['python']}; " + ", ".join(f"{k} {v}" for k, v in info['versions'].items())
              + f" (source sha256 {info['fpsolve_source_sha256_start']}); {info['date']}; whole run "
              f"{info['bench_wall_s']:.0f} s wall, {info['bench_children_cpu_s']:.0f} s CPU.\n\n")
    (out_dir / "stationary_2d.md").write_text(header + md + "\n")
    print(header + md)


if __name__ == "__main__":
    main()
