#!/usr/bin/env python
"""Where fpsolve's time goes on the 2D benchmark problem, and what two proposed kernels save.

Evidence for the performance notes in ``benchmarks/README.md`` (nothing here is used by fpsolve):

1. stage breakdown of ``model.rates``, ``model.generator()`` and ``model.stationary()`` (auto);
2. ``log_face_rates_one_bernoulli``: the face-rate kernel with one log-Bernoulli per face, using
   log B(−P) = log B(P) + P, instead of two (``fpsolve.numerics.flux.log_face_rates``);
3. ``assemble_l_nonperiodic``: the CSR assembly of L (ψ = 0, all cells, no periodic axis) with
   each face rate exponentiated once, no integer div/mod per neighbour, rows born sorted and 32-bit
   indices written directly (``fpsolve.numerics.generator.assemble_csr`` + ``to_csr``);
4. ``residual_matrix_free``: ‖L p‖₁ / (max|L_kk| ‖p‖₁) from the log rates without building L,
   which is what ``stationary()`` builds the whole generator for.

All times are process CPU seconds (min and median of ``--repeat``), so a loaded machine does not
distort them much. Results are checked against fpsolve's own kernels before timing.

    python benchmarks/profile_fpsolve_2d.py --n 1000
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
from numba import njit

import fpsolve as fp
from fpsolve.fields.field import Density
from fpsolve.numerics import flux
from fpsolve.numerics.discretisation import as3d, scharfetter_gummel
from fpsolve.numerics.flux import log_bernoulli, log_mean
from fpsolve.numerics.generator import (assemble_csr, comb_log_density,
                                        detailed_balance_defect, to_csr)
from fpsolve.numerics.linalg import relative_residual

D = 1.0 / 8.0


def potential(x, y):
    return (x**2 - 1.0) ** 2 / 4.0 + 0.5 * (1.0 + x**2 / 2.0) * y**2


@njit(cache=True)
def log_face_rates_one_bernoulli(P, D, axis, h, alpha, periodic):
    """Same result as flux.log_face_rates with one log_bernoulli per face."""
    n0, n1, n2 = D.shape
    n = D.shape[axis]
    log_fwd = np.empty(D.shape)
    log_bwd = np.empty(D.shape)
    log_h2 = 2.0 * math.log(h)
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                idx = (i, j, k)[axis]
                if idx == n - 1 and not periodic:
                    log_fwd[i, j, k] = -np.inf
                    log_bwd[i, j, k] = -np.inf
                    continue
                if axis == 0:
                    i2, j2, k2 = (i + 1) % n0, j, k
                elif axis == 1:
                    i2, j2, k2 = i, (j + 1) % n1, k
                else:
                    i2, j2, k2 = i, j, (k + 1) % n2
                d1 = D[i, j, k]
                d2 = D[i2, j2, k2]
                p = P[i, j, k]
                face = alpha * math.log(log_mean(d1, d2)) if alpha != 0.0 else 0.0
                lb = log_bernoulli(p)          # log B(−p) = log B(p) + p
                l1 = (1.0 - alpha) * math.log(d1)
                l2 = l1 if d2 == d1 else (1.0 - alpha) * math.log(d2)
                log_fwd[i, j, k] = face + l1 + lb + p - log_h2
                log_bwd[i, j, k] = face + l2 + lb - log_h2
    return log_fwd, log_bwd


@njit(cache=True)
def assemble_l_nonperiodic(log_fwd, log_bwd, shape3):
    """CSR arrays of L for a full grid without periodic axes (psi = 0, no removed cells)."""
    n0, n1, n2 = shape3[0], shape3[1], shape3[2]
    ndim = log_fwd.shape[0]
    N = n0 * n1 * n2
    s = (n1 * n2, n2, 1)
    nn = (n0, n1, n2)
    rf = np.exp(log_fwd)   # each face rate exponentiated once; exp(−inf) = 0 on walls
    rb = np.exp(log_bwd)
    indptr = np.empty(N + 1, dtype=np.int32)
    indptr[0] = 0
    c = 0
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                ijk = (i, j, k)
                cnt = 1
                for a in range(ndim):
                    if ijk[a] > 0:
                        cnt += 1
                    if ijk[a] < nn[a] - 1:
                        cnt += 1
                indptr[c + 1] = indptr[c] + cnt
                c += 1
    nnz = indptr[N]
    indices = np.empty(nnz, dtype=np.int32)
    data = np.empty(nnz)
    c = 0
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                ijk = (i, j, k)
                q = indptr[c]
                diag = 0.0
                for a in range(ndim):                  # lower neighbours: ascending columns
                    if ijk[a] > 0:
                        lo = c - s[a]
                        indices[q] = lo
                        data[q] = rf[a, lo]
                        q += 1
                        diag -= rb[a, lo]
                qd = q
                q += 1
                for a in range(ndim - 1, -1, -1):      # upper neighbours: ascending columns
                    if ijk[a] < nn[a] - 1:
                        indices[q] = c + s[a]
                        data[q] = rb[a, c]
                        q += 1
                        diag -= rf[a, c]
                indices[qd] = c
                data[qd] = diag
                c += 1
    return data, indices, indptr


@njit(cache=True)
def residual_matrix_free(log_fwd, log_bwd, p, shape3):
    """‖L p‖₁ / (max_k |L_kk| ‖p‖₁) from face rates (non-periodic), without forming L."""
    n0, n1, n2 = shape3[0], shape3[1], shape3[2]
    ndim = log_fwd.shape[0]
    N = n0 * n1 * n2
    s = (n1 * n2, n2, 1)
    nn = (n0, n1, n2)
    lp = np.zeros(N)
    out_rate = np.zeros(N)
    c = 0
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                ijk = (i, j, k)
                for a in range(ndim):
                    if ijk[a] < nn[a] - 1:
                        hi = c + s[a]
                        f = math.exp(log_fwd[a, c])
                        b = math.exp(log_bwd[a, c])
                        J = f * p[c] - b * p[hi]
                        lp[c] -= J
                        lp[hi] += J
                        out_rate[c] += f
                        out_rate[hi] += b
                c += 1
    return np.sum(np.abs(lp)) / (np.max(out_rate) * np.sum(np.abs(p)))


def cpu(f, repeat):
    ts = []
    out = None
    for _ in range(repeat):
        out = None
        c0 = time.process_time()
        out = f()
        ts.append(time.process_time() - c0)
    return min(ts), float(np.median(ts)), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n, rep = args.n, args.repeat
    box = [(-2.6, 2.6)] * 2

    # warm-up (Numba cache load / compile) on a small grid
    m = fp.FokkerPlanck(fp.Grid(box, 16), potential=potential, diffusion=D)
    m.stationary()
    R = m.rates
    s3 = np.array([16, 16, 1], dtype=np.int64)
    assemble_l_nonperiodic(R.log_fwd, R.log_bwd, s3)
    residual_matrix_free(R.log_fwd, R.log_bwd, np.ones(256), s3)
    D3 = as3d(m.D)
    log_face_rates_one_bernoulli(flux.peclet_from_potential(as3d(m.U), D3, 0, False), D3, 0,
                                 0.1, 0.0, False)

    g = fp.Grid(box, n)
    model = fp.FokkerPlanck(g, potential=potential, diffusion=D)
    D3, U3 = as3d(model.D), as3d(model.U)
    h = float(g.h[0])
    rows = []

    def row(name, f):
        lo, med, out = cpu(f, rep)
        rows.append((name, lo, med))
        return out

    print(f"n = {n} ({g.size} cells), CPU seconds, min / median of {rep}\n")
    R = row("model.rates (scharfetter_gummel)",
            lambda: scharfetter_gummel(g, model.D, 0.0, potential=model.U))
    P0 = row("  peclet_from_potential, axis 0", lambda: flux.peclet_from_potential(U3, D3, 0, False))
    ref = row("  log_face_rates, axis 0",
              lambda: flux.log_face_rates(P0, D3, 0, h, 0.0, False))
    new = row("  proposed log_face_rates_one_bernoulli, axis 0",
              lambda: log_face_rates_one_bernoulli(P0, D3, 0, h, 0.0, False))
    fin = np.isfinite(ref[0])
    assert np.array_equal(fin, np.isfinite(new[0]))
    dr = max(np.max(np.abs(ref[0][fin] - new[0][fin])), np.max(np.abs(ref[1][fin] - new[1][fin])))
    L = row("model.generator() (assemble_csr + to_csr)", lambda: R.generator())
    N = g.size
    psi0 = np.zeros(N)
    index = np.arange(N, dtype=np.int64)
    row("  assemble_csr", lambda: assemble_csr(*R.linear_rates, R.log_fwd, R.log_bwd, psi0,
                                               index, R.shape, R.periodic))
    shape3 = np.array(list(g.shape) + [1] * (3 - g.ndim), dtype=np.int64)
    L2 = row("  proposed assemble_l_nonperiodic + csr_matrix",
             lambda: to_csr(*assemble_l_nonperiodic(R.log_fwd, R.log_bwd, shape3), N))
    dl = abs(L - L2).max() / abs(L).max()
    assert L2.has_canonical_format
    model.rates  # build and cache, as a user's model would have
    row("model.stationary() (auto, closed form)", lambda: model.stationary())
    psi = row("  reference_log_density (comb + defect)", lambda: R.reference_log_density())[0]
    row("    comb_log_density", lambda: comb_log_density(R.log_fwd, R.log_bwd, R.shape))
    row("    detailed_balance_defect",
        lambda: detailed_balance_defect(R.log_fwd, R.log_bwd, psi, R.shape, R.periodic))
    p = np.exp(psi - psi.max())
    r1 = row("  residual as now: generator() + relative_residual",
             lambda: relative_residual(R.generator(), p))
    r2 = row("  proposed residual_matrix_free",
             lambda: residual_matrix_free(R.log_fwd, R.log_bwd, p, shape3))
    row("  Density.from_log", lambda: Density.from_log(g, psi.reshape(g.shape)))

    w = max(len(r[0]) for r in rows)
    for name, lo, med in rows:
        print(f"{name:<{w}}  {lo:7.3f}  {med:7.3f}")
    print(f"\nchecks: log rates max |Δ| = {dr:.1e}; generator max|ΔL|/max|L| = {dl:.1e}; "
          f"residual now {r1:.3e}, matrix-free {r2:.3e}")


if __name__ == "__main__":
    main()
