"""Large problems: which linear solver should ``solver="auto"`` pick, by size and dimension?

Times, peak memory and accuracy of the three solvers of :func:`fpsolve.numerics.linalg.null_vector`
("direct": SuperLU with the MMD_AT_PLUS_A ordering; "amg": pyamg Ruge–Stüben with GMRES
acceleration; "gmres": ILU-preconditioned GMRES), as the core runs them, and of the iterative
ones with an attainable stopping rule ("amg-be", "air-be", "gmres-be": :func:`solve_backward_error`),
on two kinds of solve:

- ``stationary``: ``model.stationary(method="solve", solver=...)`` of a 2D/3D double well with a
  state-dependent diffusion that breaks detailed balance (so the solve is what a user gets: a
  least-squares log-density ψ from one AMG-CG solve, then the pinned null-vector solve);
- ``mfpt``: the backward equation Lᵀτ = −1 on the cells outside a target ball around the right
  minimum (the sub-generator of the killed process, ``rates.generator(index=...)``), solved with
  the same three solvers (``linalg.factorize`` / ``linalg.LinearSolver``), as an MFPT solver would.

Every case runs in its own subprocess, so that its peak resident memory (``ru_maxrss``) is its
own, under a wall-clock limit and an address-space cap (a direct LU that does not fit fails with
MemoryError instead of taking the machine down). Usage::

    python benchmarks/bench_large.py                     # everything (hours on 2 cores)
    python benchmarks/bench_large.py --quick             # small sizes, minutes
    python benchmarks/bench_large.py --only 3d --sizes3d 128 --solvers amg-be,gmres-be

Times are CPU seconds of the solve (user + system; all solvers here are single-threaded) with
the wall time beside them: the CPU time is the number to compare on a shared machine.

Results: a Markdown table on stdout (``--md FILE`` to also write it, ``--json FILE`` for
every number). The measured table and the recommendation for ``solver="auto"`` follow.

Measured (2 shared cores, Python 3.11, scipy 1.17, pyamg 5.4; CPU s of the linear solve, both
passes of the core's two-pass stationary solve included (×2); peak = ru_maxrss of the case,
≈190 MB of it is the interpreter and imports; "vs direct" = max relative difference)::

    problem            cells      direct             amg (RS+GMRES)         ILU-GMRES
    stationary 2D 256²   65,536   0.83 s    271 MB    0.91 s   271 MB       1.2 s    287 MB  (-be)
    stationary 2D 512²  262,144   5.2 s     546 MB    3.1 s    402 MB       9.7 s    618 MB  (-be)
    stationary 2D 1000² 10⁶      26.2 s   1683 MB   10.4 s    967 MB       ILU breakdown (exactly singular factor)
    mfpt       2D 512²  262,144   3.3 s     524 MB    1.5 s    354 MB       6.3 s    578 MB  (-be)
    mfpt       2D 1000² 10⁶      14.6 s   1530 MB    5.5 s    710 MB       1138 s  1739 MB  (-be, 3427 its)
    stationary 3D 32³    32,768  10.8 s     549 MB    FAILS (core)  /  0.38 s 229 MB (-be)   5.2 s (-be)
    stationary 3D 64³   262,144   868 s    5651 MB    5.4 s    466 MB (-be) ILU breakdown
    stationary 3D 96³   884,736   —                  22.4 s   1020 MB (-be) ILU breakdown (457 s)
    stationary 3D 128³  2.1·10⁶   not run (> 24 GB) 62.9 s   2139 MB (-be) stopped (> 30 min)
    mfpt       3D 32³    32,768  10.6 s     513 MB    0.25 s   220 MB       4.3 s    254 MB
    mfpt       3D 64³   262,144   905 s    8005 MB    1.8 s    415 MB (-be) stopped (> 30 min)
    mfpt       3D 96³   884,736   —                  10.3 s    921 MB (-be) stopped
    mfpt       3D 128³  2.1·10⁶   not run           28.8 s   1934 MB (-be) stopped

Accuracy: every successful iterative answer agrees with the direct one to ≤ 2e-11 (stationary)
and ≤ 1e-9 (MFPT); AMG needs 17–33 GMRES iterations at every size (operator complexity 2.2 in
2D, 3.0 in 3D). The least-squares ψ of a non-reversible stationary problem adds 6.8 s at 1000²
and 23 s at 128³. A 3D direct LU grows like N² in time (32³ → 64³: ×40–85) and N^(4/3) in
memory: 128³ would need ~100 GB. The core's "gmres" (and "amg" on 3D stationary problems) fail
only because their stopping test ‖Ax − b‖ ≤ 1e-12‖b‖ (b = e_j) lies below the round-off floor
ε‖A‖‖x‖ once N ≳ 10⁴: stationary 2D 128²/256² and 3D 32³ "did not converge" after 52–198 s
although the answer was accurate; the "-be" rule of :func:`solve_backward_error` fixes it.

Recommendation for ``null_vector(solver="auto")`` and MFPT solves: direct in 1D; in 2D direct
up to ~2.5·10⁵ unknowns (512²: direct and AMG within 1.7×), Ruge–Stüben AMG + GMRES beyond
(1000²: 2.5× faster, 58% of the memory); in 3D AMG from ~5·10³ unknowns (16³ already 4×
faster; 32³ 30–40×; 64³ 160–490× and 12–20× less memory). Never ILU-GMRES automatically. And
an attainable stopping rule for the iterative solvers, e.g. ‖Ax − b‖ ≤ tol·(‖A‖_∞‖x‖ + ‖b‖),
without which ``auto`` raises SolverError on 3D stationary problems from 32³ on.

Both are now in the core (:class:`fpsolve.numerics.linalg.LinearSolver`: ``auto`` = direct up
to 2.5·10⁵ cells in 2D and 5·10³ in 3D, AMG beyond; the "-be" stopping rule for "amg" and
"gmres"), and the first-passage solvers use it too; the rows above were measured before, with
the solvers named as they were then. ``benchmarks/bench_3d.py`` measures the result at 128³.
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

#: the core's three solvers as ``null_vector`` runs them ("direct", "amg", "gmres"), and the
#: iterative ones with an attainable stopping rule ("-be"; see
#: :func:`solve_backward_error`; "air-be"/"sa-be": AIR / smoothed aggregation instead of RS)
SOLVERS = ("direct", "amg", "gmres", "amg-be", "air-be", "gmres-be")


# ---------------------------------------------------------------------------------------------
# one case (runs in a child process)
# ---------------------------------------------------------------------------------------------
def build_model(dim, n):
    import numpy as np

    import fpsolve as fp

    if dim == 2:
        grid = fp.Grid([(-2.5, 2.5), (-2.5, 2.5)], n)
        U = lambda x, y: (x ** 2 - 1) ** 2 / 4 + 0.5 * (1 + 0.5 * x ** 2) * y ** 2  # noqa: E731
        D = lambda x, y: 0.15 * (1 + 0.3 * np.sin(2 * x) * np.cos(y))  # noqa: E731
    else:
        grid = fp.Grid([(-2.5, 2.5), (-2.0, 2.0), (-2.0, 2.0)], n)
        U = lambda x, y, z: ((x ** 2 - 1) ** 2 / 4 + 0.5 * (1 + 0.5 * x ** 2) * y ** 2  # noqa: E731
                             + z ** 2 / 2 + 0.2 * x * z)
        D = lambda x, y, z: 0.15 * (1 + 0.3 * np.sin(2 * x) * np.cos(y) + 0.1 * z ** 2)  # noqa: E731
    return fp.FokkerPlanck(grid, potential=U, diffusion=D)


class clock:
    """Wall and CPU (user + system) seconds of a block: on a shared machine the CPU time is
    the robust number (every solver here is single-threaded; children run with 1 BLAS thread)."""

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w
        self.cpu = time.process_time() - self.c
        return False


def rss_mb():
    """Peak resident memory of this process so far, MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def solve_backward_error(A, rhs, kind, info):
    """GMRES preconditioned like the core ("amg": Ruge–Stüben V-cycle with a sparse LU on the
    coarsest level; "gmres": ILU(1e-5, fill 20)) or with pyamg's AIR / smoothed aggregation
    ("air", "sa"), on −A, stopped at an *attainable* residual.

    The core stops at ‖Ax − b‖ ≤ rtol‖b‖ with rtol = 1e-12; with b = e_j that is below the
    round-off floor ε‖A‖‖x‖ once N ≳ 10³–10⁴, so GMRES reports failure although its answer is
    accurate. Here: a first pass to rtol 1e-6 estimates ‖x‖, then the solve continues to
    rtol = max(1e-12, 100 ε ‖A‖_∞ ‖x‖ / ‖b‖) (a backward-error criterion).
    """
    import numpy as np
    import pyamg
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    from fpsolve.errors import SolverError

    n = A.shape[0]
    # Generators have a negative diagonal and positive off-diagonals. Ruge–Stüben does not mind;
    # AIR's strength of connection does (given A it builds one level, whose default "coarse"
    # solve is a dense pinv of all of A). So solve (−A) x = −b, whose matrix is an M-matrix.
    A, rhs = -A, -rhs
    with clock() as c:
        if kind in ("amg", "air", "sa"):
            if kind == "amg":  # the core's choice: classical Ruge–Stüben, sparse LU at the bottom
                ml = pyamg.ruge_stuben_solver(A.tocsr(), coarse_solver="splu", max_coarse=500)
            elif kind == "air":
                ml = pyamg.air_solver(A.tocsr(), coarse_solver="splu", max_coarse=500)
            else:
                ml = pyamg.smoothed_aggregation_solver(A.tocsr(), coarse_solver="splu",
                                                       max_coarse=500)
            M = ml.aspreconditioner(cycle="V")
            info["operator_complexity"] = float(ml.operator_complexity())
            info["levels"] = len(ml.levels)
        else:
            ilu = spla.spilu(sp.csc_matrix(A), drop_tol=1e-5, fill_factor=20)
            M = spla.LinearOperator((n, n), ilu.solve)
            info["ilu_nnz"] = int(ilu.nnz)
    info.update(precond_setup_s=c.wall, precond_setup_cpu_s=c.cpu)
    its = [0]
    count = lambda _r: its.__setitem__(0, its[0] + 1)  # noqa: E731
    x1, _ = spla.gmres(A, rhs, M=M, rtol=1e-6, atol=0.0, restart=50, maxiter=20,
                       callback=count, callback_type="pr_norm")
    normA = float(abs(A).sum(axis=1).max())
    rtol = max(1e-12, 100 * np.finfo(float).eps * normA * np.linalg.norm(x1)
               / np.linalg.norm(rhs))
    x, flag = spla.gmres(A, rhs, x0=x1, M=M, rtol=rtol, atol=0.0, restart=50, maxiter=200,
                         callback=count, callback_type="pr_norm")
    info.update(iterations=its[0], rtol_used=rtol)
    if flag != 0:
        raise SolverError(f"{kind}-be: GMRES did not reach rtol={rtol:.2g} (info={flag})")
    return x


def run_case(kind, dim, n, solver, save=None):
    import numpy as np

    from fpsolve.numerics import linalg
    from fpsolve.numerics import stationary as st

    out = {"kind": kind, "dim": dim, "n": n, "cells": n ** dim, "solver": solver}
    with clock() as c:
        model = build_model(dim, n)
        rates = model.rates
    out["setup_s"] = c.wall
    out["rss_setup_mb"] = rss_mb()
    be = solver.endswith("-be")
    base = solver[:-3] if be else solver
    try:
        if kind == "stationary" and not be:
            timing = {}
            real_null_vector = st.null_vector
            real_ls = st.least_squares_log_density

            def timed_null_vector(*a, **k):  # the core may solve twice (rescaled 2nd pass)
                with clock() as c:
                    try:
                        return real_null_vector(*a, **k)
                    finally:
                        timing["linear_solve_s"] = (timing.get("linear_solve_s", 0.0)
                                                    + time.perf_counter() - c.w)
                        timing["linear_solve_cpu_s"] = (timing.get("linear_solve_cpu_s", 0.0)
                                                        + time.process_time() - c.c)
                        timing["solves"] = timing.get("solves", 0) + 1

            def timed_ls(*a, **k):
                with clock() as c:
                    r = real_ls(*a, **k)
                timing.update(psi_s=c.wall, psi_cpu_s=c.cpu)
                return r

            st.null_vector, st.least_squares_log_density = timed_null_vector, timed_ls
            try:
                with clock() as c:
                    p = model.stationary(method="solve", solver=solver)
                out.update(total_s=c.wall, total_cpu_s=c.cpu, residual=p.info["residual"])
            finally:
                out.update(timing)
            x = p.values.ravel() / p.values.sum()
        elif kind == "stationary":
            # the same pipeline as stationary_log_density(method="solve"), with the solve above
            with clock() as ct:
                psi, defect = rates.reference_log_density()
                if defect > st.reversibility_tolerance(psi):
                    with clock() as c:
                        psi = st.least_squares_log_density(rates)
                    out.update(psi_s=c.wall, psi_cpu_s=c.cpu)
                out.update(linear_solve_s=0.0, linear_solve_cpu_s=0.0, solves=0)
                for _ in range(2):  # the core's two passes (the second rescaled by the first)
                    M = rates.generator(psi=psi)
                    j = int(np.argmax(psi))
                    A = linalg.pin_row(M, j)
                    rhs = np.zeros(A.shape[0])
                    rhs[j] = 1.0
                    with clock() as c:
                        try:
                            r = solve_backward_error(A, rhs, base, out)
                        finally:
                            out["linear_solve_s"] += time.perf_counter() - c.w
                            out["linear_solve_cpu_s"] += time.process_time() - c.c
                            out["solves"] += 1
                    if np.any(r <= 0):
                        raise RuntimeError(f"{int(np.sum(r <= 0))} non-positive cells")
                    psi = psi + np.log(r)
                    if np.ptp(np.log(r)) < 1.0:
                        break
                log_p = psi
                x = np.exp(log_p - log_p.max())
                out["residual"] = linalg.relative_residual(rates.generator(), x)
                x = x / x.sum()
            out.update(total_s=ct.wall, total_cpu_s=ct.cpu)
        else:
            g = model.grid
            coords = [c.ravel() for c in g.coords]
            r2 = (coords[0] - 1.0) ** 2 + sum(c ** 2 for c in coords[1:])
            keep = r2 > 0.3 ** 2
            index = np.full(g.size, -1, dtype=np.int64)
            index[keep] = np.arange(int(keep.sum()))
            with clock() as c0:
                A = rates.generator(index=index).T.tocsr()  # backward operator, live cells
            rhs = -np.ones(A.shape[0])
            out.update(assembly_s=c0.wall)
            with clock() as c:
                try:
                    if solver == "direct":
                        x = linalg.factorize(A)(rhs)
                    elif be:
                        x = solve_backward_error(A, rhs, base, out)
                    else:
                        x = linalg.LinearSolver(A, solver, ndim=dim, rtol=1e-10).solve(rhs)
                finally:
                    out.update(linear_solve_s=time.perf_counter() - c.w,
                               linear_solve_cpu_s=time.process_time() - c.c)
            out.update(total_s=c0.wall + out["linear_solve_s"], total_cpu_s=c0.cpu + out["linear_solve_cpu_s"])
            out["residual"] = float(np.linalg.norm(A @ x - rhs) / np.linalg.norm(rhs))
            out["tau_max"] = float(x.max())
        out["status"] = "ok"
    except MemoryError:
        out["status"] = "out of memory"
        x = None
    except Exception as exc:  # a solver that fails is a result too
        out["status"] = f"{type(exc).__name__}: {str(exc)[:140]}"
        x = None
    out["rss_peak_mb"] = rss_mb()
    if save and x is not None:
        np.save(save, x)
    return out


def child_main(spec, mem_gb, save):
    if mem_gb:
        lim = int(mem_gb * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    kind, dim, n, solver = spec.split(":")
    try:
        res = run_case(kind, int(dim), int(n), solver, save)
    except MemoryError:  # while building the model
        res = {"status": "out of memory", "rss_peak_mb": rss_mb()}
    print("RESULT " + json.dumps(res), flush=True)


# ---------------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------------
def run_in_child(kind, dim, n, solver, timeout, mem_gb, save):
    spec = f"{kind}:{dim}:{n}:{solver}"
    cmd = [sys.executable, __file__, "--child", spec, "--mem-gb", str(mem_gb)]
    if save:
        cmd += ["--save", str(save)]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1")
    t = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"kind": kind, "dim": dim, "n": n, "cells": n ** dim, "solver": solver,
                "status": f"timeout > {timeout} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    base = {"kind": kind, "dim": dim, "n": n, "cells": n ** dim, "solver": solver,
            "wall_s": time.perf_counter() - t}
    if not lines:
        tail = (proc.stderr or "").strip().splitlines()[-1:] or ["no output"]
        base["status"] = f"died (rc {proc.returncode}): {tail[0][:160]}"
        return base
    return {**base, **json.loads(lines[-1][len("RESULT "):])}


def compare_to_direct(results, tmp):
    """Max relative difference of each iterative answer from the direct one (same case)."""
    import numpy as np

    for r in results:
        if r["solver"] == "direct" or r.get("status") != "ok":
            continue
        ref = tmp / f"{r['kind']}-{r['dim']}-{r['n']}-direct.npy"
        mine = tmp / f"{r['kind']}-{r['dim']}-{r['n']}-{r['solver']}.npy"
        if ref.exists() and mine.exists():
            a, b = np.load(ref), np.load(mine)
            r["rel_diff_vs_direct"] = float(np.max(np.abs(a - b)) / np.max(np.abs(a)))


def markdown(results) -> str:
    head = ("| problem | cells | solver | status | linear solve CPU s (wall) [×passes] | total CPU s | "
            "peak MB | setup MB | residual | vs direct |\n|---|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in results:
        f = lambda k, fmt: (fmt.format(r[k]) if k in r and r[k] is not None else "")  # noqa: E731
        lines.append(
            f"| {r['kind']} {r['dim']}D {r['n']}^{r['dim']} | {r['cells']:,} | {r['solver']} | "
            f"{r.get('status')} | {f('linear_solve_cpu_s', '{:.2f}')} ({f('linear_solve_s', '{:.2f}')})"
            f"{' ×' + str(r['solves']) if r.get('solves', 1) > 1 else ''} | "
            f"{f('total_cpu_s', '{:.2f}')} | "
            f"{f('rss_peak_mb', '{:.0f}')} | {f('rss_setup_mb', '{:.0f}')} | "
            f"{f('residual', '{:.1e}')} | {f('rel_diff_vs_direct', '{:.1e}')} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--save", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--only", choices=["2d", "3d"], help="one dimension only")
    ap.add_argument("--kinds", default="stationary,mfpt")
    ap.add_argument("--sizes2d", default="128,256,512,1000")
    ap.add_argument("--sizes3d", default="32,64,96,128")
    ap.add_argument("--solvers", default=",".join(SOLVERS))
    ap.add_argument("--direct-max3d", type=int, default=96,
                    help="largest n of a 3D direct LU to try (fill grows like n⁴)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per case")
    ap.add_argument("--mem-gb", type=float, default=14.0, help="address-space cap per case")
    ap.add_argument("--json", help="also write the results (and machine notes) as JSON here")
    ap.add_argument("--md", help="also write the Markdown table here")
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args.child, args.mem_gb, args.save)
    if args.quick:
        args.sizes2d, args.sizes3d = "64,128", "16,32"
    solvers = args.solvers.split(",")
    cases = []
    for kind in args.kinds.split(","):
        if args.only != "3d":
            cases += [(kind, 2, int(n), s) for n in args.sizes2d.split(",") for s in solvers]
        if args.only != "2d":
            cases += [(kind, 3, int(n), s) for n in args.sizes3d.split(",") for s in solvers
                      if s != "direct" or int(n) <= args.direct_max3d]
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_large_{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    results = []
    for kind, dim, n, s in cases:
        save = tmp / f"{kind}-{dim}-{n}-{s}.npy"
        r = run_in_child(kind, dim, n, s, args.timeout, args.mem_gb, save)
        results.append(r)
        print(f"{kind:10s} {dim}D n={n:5d} {s:6s} {r.get('status')}: solve "
              f"{r.get('linear_solve_cpu_s', float('nan')):.2f} s CPU "
              f"({r.get('linear_solve_s', float('nan')):.2f} s wall), total "
              f"{r.get('total_cpu_s', float('nan')):.2f} s CPU, peak "
              f"{r.get('rss_peak_mb', 0):.0f} MB",
              file=sys.stderr, flush=True)
    compare_to_direct(results, tmp)
    for f in tmp.glob("*.npy"):
        f.unlink()
    tmp.rmdir()
    if args.json:
        meta = {"cpu_count": os.cpu_count(), "python": sys.version.split()[0],
                "date": time.strftime("%Y-%m-%d %H:%M")}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
    table = markdown(results)
    print(table)
    if args.md:
        Path(args.md).write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
