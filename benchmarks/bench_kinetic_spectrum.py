"""Where the time of the kinetic spectrum goes (512², k = 6), and what the alternatives cost.

``Langevin.eigenvalues`` is shift-invert Arnoldi (ARPACK through ``scipy.sparse.linalg.eigs``)
on a SuperLU factor of the Gibbs-scaled −L − σ (:class:`fpsolve.kinetic.linalg.GridLU`). Issue
17 asks for ≤ 2 s on the 512² grid of ``bench_kinetic.py``; this script measures, in one run and
on the same matrices, the pieces of that time and the levers one might pull:

  factor      GridLU (nested dissection + SuperLU) as eigenvalues() builds it. SuperLU's relax
              and panel_size options are not measured: they changed the 512² factor time by
              < 5 % (1.33–1.41 s), and passing them to splu (SciPy 1.17.1) corrupted the heap in
              about one run in three here ("corrupted double-linked list" at exit)
  solve       CPU per right-hand side of a SuperLU solve with 1, 2, 4, 8, 16 right-hand sides
              (one BLAS thread; multi-RHS solves read the factor once for all columns)
  arpack      the solve count and CPU time of eigs as eigenvalues() calls it, and with another
              tol, ncv, start vector, or with λ₀ = 0 deflated (the Gibbs vector g = √π is both
              the left and right null vector of the scaled generator for constant T)
  block       block shift-invert Arnoldi (no restart; basis grown by b columns per step, two
              passes of block Gram–Schmidt, ARPACK's convergence test |μ| tol on the Ritz
              residual estimate) with b = 2, 4, 8: columns solved, CPU, difference to ARPACK

Problem: U = (x² − 1)²/4, T = 0.05, γ = 1, box [−2, 2] × [−1.3, 1.3] (as bench_kinetic.py).
Every number is one run after a warm-up; CPU time = time.process_time (the machine is shared).

  python benchmarks/bench_kinetic_spectrum.py             # 512², both schemes; ≈ 2 min
  python benchmarks/bench_kinetic_spectrum.py --n 256 --out /tmp
"""
from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
K_SEARCH = 8          # eigenvalues(k=6) searches k + 2
TOL = 1e-10           # eigenvalues' ARPACK tolerance


def clock(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def scaled_operator(n, scheme):
    import fpsolve as fp
    from fpsolve.kinetic import Langevin
    from fpsolve.kinetic.questions import scaling_log_density

    m = Langevin(fp.Grid([(-2.0, 2.0), (-1.3, 1.3)], n), lambda x: (x ** 2 - 1) ** 2 / 4,
                 friction=1.0, temperature=0.05, scheme=scheme)
    psi = scaling_log_density(m).ravel()
    half = 0.5 * (psi - psi.max())
    A = (sp.diags(np.exp(-half)) @ (-m.generator()) @ sp.diags(np.exp(half))).tocsr()
    scale = float(np.max(np.abs(A.diagonal())))
    return m, A, np.exp(half), -1e-8 * scale


def arpack(A, sigma, solve, v0, k=K_SEARCH, tol=TOL, ncv=None):
    n = A.shape[0]
    count = [0]

    def matvec(b):
        count[0] += 1
        return solve(b)

    op = spla.LinearOperator((n, n), matvec=matvec, dtype=float)
    w, c, vals = clock(lambda: spla.eigs(A, k=k, sigma=sigma, which="LM", OPinv=op, v0=v0,
                                         ncv=ncv, tol=tol, return_eigenvectors=False))
    return w, c, count[0], np.sort_complex(vals)


def block_arnoldi(block_solve, v0, want, b, tol=TOL, max_cols=200, seed=0):
    """Ritz values of the shift-inverted operator from a block Krylov space grown until the
    ``want`` largest in modulus pass ARPACK's test ‖r‖ ≤ tol |μ|; (μ, columns, converged)."""
    n = v0.size
    X = np.random.default_rng(seed).standard_normal((n, b))
    X[:, 0] = v0
    blocks = [np.linalg.qr(X)[0]]
    H = np.zeros((max_cols + b, max_cols))
    while True:
        j = len(blocks) - 1
        W = block_solve(blocks[j])
        Q = np.hstack(blocks)
        m = Q.shape[1]
        h = Q.T @ W
        W -= Q @ h
        h2 = Q.T @ W           # second pass: orthogonal to working precision
        W -= Q @ h2
        Qn, R = np.linalg.qr(W)
        H[:m, j * b:(j + 1) * b] = h + h2
        H[m:m + b, j * b:(j + 1) * b] = R
        mu, S = sla.eig(H[:m, :m])
        idx = np.argsort(-np.abs(mu))[:want]
        S = S[:, idx] / np.linalg.norm(S[:, idx], axis=0)
        ok = np.linalg.norm(R @ S[m - b:, :], axis=0) <= tol * np.abs(mu[idx])
        if ok.all() or m + b > max_cols:
            return mu[idx], m, bool(ok.all())
        blocks.append(Qn)


def rel_diff(vals, ref, k=6):
    """max relative difference of the k eigenvalues eigenvalues(k) would return (smallest real
    part first), compared as (Re λ, |Im λ|): a conjugate pair cut at the n_search-th value may
    come out as either member. λ₀ = 0 is compared absolutely."""
    def first(z):
        z = np.real(z) + 1j * np.abs(np.imag(z))
        return z[np.lexsort((z.imag, z.real))][:k]

    a, r = first(vals), first(ref)
    return float(max(abs(a[0] - r[0]), np.max(np.abs(a[1:] - r[1:]) / np.abs(r[1:]))))


def measure(n, scheme):
    from fpsolve.kinetic.linalg import GridLU, nested_dissection

    m, A, g, sigma = scaled_operator(n, scheme)
    N = A.shape[0]
    M = (A - sigma * sp.identity(N, format="csr")).tocsr()
    rows = {"scheme": scheme, "n": n}
    with threadpool_limits(1, user_api="blas"):
        w, c, lu = clock(lambda: GridLU(M, m.grid.shape))
        # the same factor through SciPy directly (GridLU's ordering and pivoting), to time the
        # bare SuperLU solves with several right-hand sides
        order = nested_dissection(m.grid.shape)
        f = spla.splu(M[order][:, order].tocsc(), permc_spec="NATURAL",
                      diag_pivot_thresh=lu.pivot_threshold, options={"SymmetricMode": True})
        rows["factor"] = [dict(what="GridLU (ND + SuperLU, as eigenvalues)", wall=w, cpu=c,
                               nnz=int(f.L.nnz + f.U.nnz))]
        rng = np.random.default_rng(1)
        rows["solve"] = []
        for nrhs in (1, 2, 4, 8, 16):
            B = np.asfortranarray(rng.random((N, nrhs)) if nrhs > 1 else rng.random(N))
            w, c, _ = clock(lambda: [f.solve(B) for _ in range(3)])
            rows["solve"].append(dict(nrhs=nrhs, cpu_per_column_ms=1e3 * c / 3 / nrhs,
                                      wall_per_column_ms=1e3 * w / 3 / nrhs))
        w, c, _ = clock(lambda: [lu.solve(B[:, 0]) for _ in range(3)])
        rows["solve"].append(dict(nrhs="1 (GridLU.solve: permutation, backward error)",
                                  cpu_per_column_ms=1e3 * c / 3, wall_per_column_ms=1e3 * w / 3))

        def solve(b):
            return lu.solve(b)[0]

        def deflated(b):
            y = lu.solve(b)[0]
            return y - gn * (gn @ y)

        gn = g / np.linalg.norm(g)
        x, v = (c.ravel() for c in m.grid.coords)
        smooth = gn * (1 + x + v + x * v + x * x + v * v + x ** 3 + v ** 3)
        perturbed = gn * (1 + 0.5 * rng.standard_normal(N))
        rows["arpack"] = []
        w, c, ns, ref = arpack(A, sigma, solve, g)
        rows["arpack"].append(dict(what="as eigenvalues(): v0 = g, ncv default, tol 1e-10",
                                   wall=w, cpu=c, solves=ns, diff=0.0))
        for what, kw in (("tol 1e-8", dict(tol=1e-8)), ("ncv 12", dict(ncv=12)),
                         ("ncv 24", dict(ncv=24)), ("ncv 32", dict(ncv=32)),
                         ("v0 = g·(1 + 0.5·noise)", dict(v0=perturbed)),
                         ("v0 = g·(cubic in x, v)", dict(v0=smooth))):
            kw = dict(dict(v0=g), **kw)
            w, c, ns, vals = arpack(A, sigma, solve, **kw)
            rows["arpack"].append(dict(what=what, wall=w, cpu=c, solves=ns,
                                       diff=rel_diff(vals, ref)))
        v0 = smooth - gn * (gn @ smooth)
        w, c, ns, vals = arpack(A, sigma, deflated, v0, k=K_SEARCH - 1)
        rows["arpack"].append(dict(what="λ₀ deflated (k − 1 on g⊥), v0 = cubic", wall=w, cpu=c,
                                   solves=ns, diff=rel_diff(np.r_[0.0, vals], ref)))

        def block_solve(X):
            Y = f.solve(np.asfortranarray(X[order]))
            out = np.empty_like(Y)
            out[order] = Y
            return out

        rows["block"] = []
        for b in (2, 4, 8):
            w, c, (mu, cols, ok) = clock(lambda: block_arnoldi(block_solve, gn, K_SEARCH, b))
            rows["block"].append(dict(b=b, wall=w, cpu=c, columns=cols, converged=ok,
                                      diff=rel_diff(sigma + 1 / mu, ref)))
    rows["reference"] = [[float(z.real), float(z.imag)] for z in ref]
    return rows


def table(results, meta):
    out = ["# Kinetic spectrum (k = 6): where the time goes", "",
           f"{meta['machine']}; {meta['when']}; load average at start {meta['load']:.2f}; one run "
           f"each after a warm-up; CPU = process time, one BLAS thread.", ""]
    for r in results:
        out += [f"## {r['scheme']}, {r['n']}²", "", "| factorisation | CPU s | wall s | nnz(L+U) |",
                "| --- | ---: | ---: | ---: |"]
        out += [f"| {f['what']} | {f['cpu']:.2f} | {f['wall']:.2f} | {f['nnz'] / 1e6:.1f}M |"
                for f in r["factor"]]
        out += ["", "| right-hand sides per solve | CPU ms per column | wall ms per column |",
                "| --- | ---: | ---: |"]
        out += [f"| {s['nrhs']} | {s['cpu_per_column_ms']:.1f} | {s['wall_per_column_ms']:.1f} |"
                for s in r["solve"]]
        out += ["", "| ARPACK (8 eigenvalues nearest 0) | solves | CPU s | wall s | "
                    "max rel. diff (k = 6) to the first row |", "| --- | ---: | ---: | ---: | ---: |"]
        out += [f"| {a['what']} | {a['solves']} | {a['cpu']:.2f} | {a['wall']:.2f} | "
                f"{a['diff']:.1e} |" for a in r["arpack"]]
        out += ["", "| block Arnoldi, b | columns solved | converged | CPU s | wall s | "
                    "max rel. diff (k = 6) to ARPACK |", "| ---: | ---: | --- | ---: | ---: | ---: |"]
        out += [f"| {b['b']} | {b['columns']} | {b['converged']} | {b['cpu']:.2f} | "
                f"{b['wall']:.2f} | {b['diff']:.1e} |" for b in r["block"]]
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--schemes", default="central,upwind")
    ap.add_argument("--out", default=str(HERE / "results"))
    a = ap.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)
    meta = {"machine": f"{os.cpu_count()} cores (shared with other jobs)",
            "when": time.strftime("%Y-%m-%d %H:%M"), "load": os.getloadavg()[0]}
    measure(32, "central")                      # warm-up: kernels compiled or loaded
    results = [measure(a.n, s) for s in a.schemes.split(",")]
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "kinetic_spectrum.json").write_text(json.dumps({"meta": meta, "results": results},
                                                          indent=1), encoding="utf-8")
    md = table(results, meta)
    (out / "kinetic_spectrum.md").write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
