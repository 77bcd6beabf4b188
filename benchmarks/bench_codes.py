#!/usr/bin/env python
"""fpsolve vs fplanck 0.2.2, FiPy 4.0.3 and py-pde 0.59 at matched accuracy, 1D/2D/3D.

Twelve problems, each with an exact or high-accuracy reference (all Itô, dX = b dt + sqrt(2D) dW):

* ``stat{1,2,3}d`` — stationary density of U = (x₁² − 1)²/4 + ½(1 + x₁²/2)·Σᵢ cᵢxᵢ²
  (c = 1, 2 for x₂, x₃), b = −∇U, state-dependent D = d₀·sqrt(1 + U), reflecting walls on
  [−2.5, 2.5]^d. b/D = −∇G with G = 2/d₀·(sqrt(1 + U) − 1), so the Itô zero-flux density is
  p ∝ exp(−G)/D in closed form (normaliser by composite Gauss–Legendre quadrature).
  D is *not* affine in U, so fpsolve's discrete state is not exact (O(h²)), and in 2D/3D
  detailed balance fails on the grid: ``stationary()`` takes its linear-solve path.
* ``gstat{1,2,3}d`` — the same, with a D that is *not* a function of U, D = 0.1·(1 + 0.4
  sin(2x₁ + 0.3)·Πᵢ cos xᵢ), and the drift b = −D∇G, G = U/0.1, so that p ∝ e^(−G)/D stays
  exact. Why both: a face average of D that is exact for one family of D favours that family.
  For D = d₀·sqrt(1 + U) the arithmetic face mean (FiPy) integrates ∫dU/D(U) with no O(h³)
  term per face (the D′² and D″ terms of its error cancel), while fpsolve's logarithmic mean is
  exact for D affine in U (the papers' noise models, D ∝ L or β₀(1 + L)). ``gstat`` favours
  neither.
* ``ou{1,2,3}d`` — transient: Ornstein–Uhlenbeck b = −A x, A = diag(1, 2, 3), D = 0.1, a
  Gaussian initial density (mean (0.5, −0.3, 0.2), variance 0.04), T = 0.5, box [−2, 2]^d;
  exact Gaussian at T.
* ``mfpt{1,2,3}d`` — mean first-passage time to x₁ = 1 (the right minimum) of the separable
  U = (x₁² − 1)²/4 + ½Σᵢ cᵢxᵢ², D = 0.15, reflecting at x₁ = −2.5 and on the other walls
  ([−2, 2]); τ depends on x₁ only: reference ``fpsolve.theory.mfpt_1d`` (quadrature, ≤ 1e-9).

Error (one number per run): relative max error max|p̂ − ρ|/max ρ of the density normalised on
the grid (Σp̂ hᵈ = 1) against the reference at the cell centres (nodes for fplanck); for MFPT
max|τ − τ_ref|/max τ_ref over the non-absorbed cells. The L1 error is recorded as well.

How each code is run (every code on its own cell-centred grid of n^d cells, same box):

* fpsolve — ``FokkerPlanck(Grid(box, n), potential=U, diffusion=D)``: ``stationary()``
  (default) and ``stationary(method="solve")``; ``evolve(p0, [T], scheme="tr-bdf2",
  dt=T/k)`` and ``evolve(..., method="expm")``; ``mean_first_passage_time(target)`` with the
  target = the last cell along x₁, whose centre is at x₁ = 1 (fpsolve's Dirichlet convention).
  Variant ``richardson``: ``fpsolve.analysis.richardson`` asks the same question on n and 2n
  cells per axis and extrapolates (fourth order for the stationary densities, about third for
  the MFPT, whose target is then the wall x₁ = 1; for the transients the exponential on n and
  3n cells, linearly); its cells column counts both grids. The
  tables give every ratio twice: against fpsolve's cheapest variant, and against the plain
  scheme (without extrapolation), which any code could be given by hand.
* fplanck — ``temperature = 1/k_B`` (β = 1), ``drag = 1/D(x)`` (diffusion D), ``potential = G``:
  fplanck's rates D_src/h²·e^(−βΔG/2) discretise the Itô equation with drift −Dβ∇G = b, i.e.
  exactly our problem, with stationary state e^(−G)/D; OU: G = U/D. ``steady_state()``
  (ARPACK shift-invert) and ``propagate()`` (``expm_multiply``: exact in time). It has no
  absorbing boundary, hence no MFPT.
* FiPy — ``DiffusionTerm(D_f) − ExponentialConvectionTerm(v)``, v = −U.faceGrad − D.faceGrad
  (Itô: v = b − ∇D; D_f = arithmetic face value), as ``fpsolve.backends.fipy`` builds it.
  Stationary: the steady equation with the most probable cell pinned (FiPy's large implicit
  source recipe); transient: ``TransientTerm() == …``, backward Euler with k equal steps (FiPy's
  time discretisation; it rebuilds and refactorises every step); MFPT: the backward equation
  D∇²τ + v·∇τ = −1 written as ``DiffusionTerm(D) + ExponentialConvectionTerm(v) −
  ImplicitSourceTerm(∇·v)`` (FiPy's non-conservative-convection recipe), τ = 0 constrained on
  the face x₁ = 1. Solver: scipy ``LinearLUSolver`` (default suite here).
* py-pde — a ``PDEBase`` subclass with ``evolution_rate`` = laplace(D p) − divergence(b p)
  (backward: D laplace τ + b·∇τ + 1), Neumann walls (Dirichlet τ = 0 at x₁ = 1),
  ``ScipySolver(method="BDF", jac_sparsity=<stencil pattern>)``: the only py-pde stepper that
  is stable at large steps (its ``ImplicitSolver``/``CrankNicolsonSolver`` iterate a fixed
  point, which converges only below the explicit step limit). py-pde has no stationary solver
  for this equation (``solve_poisson_equation`` only): stationary state and MFPT by integrating
  to steady state (T = 400 and 40·τ-scale). Transient accuracy knob: rtol. (The
  ``pde.PDE("…")`` expression route compiles Numba code on every ``solve`` call — 26-97 s per
  call measured here — so the equivalent hand-written class is used.)

Matched accuracy: for each (problem, code, variant) a worker subprocess (OMP/NUMBA threads = 1)
walks a ladder of grid sizes n (ratio ≈ √2) — and, for time stepping, a ladder of step counts
(or rtol) at each n, stopping when the error no longer improves — recording error, wall and CPU
time of set-up + solve (after a warm-up run on a small grid: JIT excluded; repeated and the
minimum kept when a run takes < 1 s: up to 10 runs within 1 s, and up to 50 for runs under
10 ms). For each target error the cheapest recorded run (CPU time) with error ≤ target is the
code's cost; "not reached" says why (cost cap or error floor).

Scaling: fpsolve ``stationary()`` (default) and ``stationary(method="solve")`` on the 2D/3D
double well with constant D = 0.1 (detailed balance: default = closed form) from ~1e3 to 1e6
cells; fitted exponent of CPU time vs N over N ≥ 1e4; ``results/codes_scaling.png``.

Usage::

    python benchmarks/bench_codes.py            # full (≤ 30 min on 2 shared cores)
    python benchmarks/bench_codes.py --quick    # a few minutes, smaller caps
    python benchmarks/bench_codes.py --only stat2d,ou1d --codes fpsolve,fipy
    python benchmarks/bench_codes.py --from-json benchmarks/results/codes_results.json

Writes ``results/codes_results.json`` (every number), ``codes_table.md``, ``codes_scaling.png``
(``--tag X`` → ``codes_X_*``).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MARK = "@@RESULT@@ "

# ------------------------------------------------------------------------------------------------
# problems
# ------------------------------------------------------------------------------------------------
CY = (1.0, 2.0)            # cᵢ for x₂, x₃
D0_STAT = 0.1              # stationary: D = D0·sqrt(1 + U)
L_STAT = 2.5
A_OU = (1.0, 2.0, 3.0)
M0_OU = (0.5, -0.3, 0.2)
S0_OU = 0.04               # initial variance
D_OU = 0.1
T_OU = 0.5
L_OU = 2.0
D_MFPT = 0.15
X_REFLECT, X_TARGET, L_MFPT_OTHER = -2.5, 1.0, 2.0
T_SS = 400.0               # py-pde: integrate the stationary problem to this time
D_SCALING = 0.1

PROBLEMS = {}
for _d in (1, 2, 3):
    PROBLEMS[f"stat{_d}d"] = {"kind": "stationary", "dim": _d, "model": "sqrt"}
    PROBLEMS[f"gstat{_d}d"] = {"kind": "stationary", "dim": _d, "model": "generic"}
    PROBLEMS[f"ou{_d}d"] = {"kind": "transient", "dim": _d}
    PROBLEMS[f"mfpt{_d}d"] = {"kind": "mfpt", "dim": _d}

PROBLEM_TEXT = {
    "stationary": "stationary density, U = (x₁²−1)²/4 + ½(1+x₁²/2)Σcᵢxᵢ², D = 0.1·sqrt(1+U) (Itô), "
                  "walls ±2.5; exact p ∝ e^(−G)/D",
    "stationary-generic": "stationary density, b = −D∇G, G = 10·U (U as above), D = 0.1·(1 + "
                          "0.4 sin(2x₁ + 0.3) Πcos xᵢ) (Itô), walls ±2.5; exact p ∝ e^(−G)/D",
    "transient": "OU b = −diag(1,2,3)x, D = 0.1, Gaussian p₀ (mean (0.5,−0.3,0.2), var 0.04), "
                 "T = 0.5, walls ±2; exact Gaussian",
    "mfpt": "MFPT to x₁ = 1, U = (x₁²−1)²/4 + ½Σcᵢxᵢ², D = 0.15, reflecting x₁ = −2.5; "
            "mfpt_1d quadrature",
}


def U_stat(*x):
    x1 = x[0]
    u = (x1 ** 2 - 1.0) ** 2 / 4.0
    for c, xi in zip(CY, x[1:]):
        u = u + 0.5 * (1.0 + x1 ** 2 / 2.0) * c * xi ** 2
    return u


def grad_U_stat(*x):
    x1 = x[0]
    g0 = x1 ** 3 - x1
    out = [g0 + 0.0 * x1]
    for c, xi in zip(CY, x[1:]):
        out[0] = out[0] + 0.5 * x1 * c * xi ** 2
        out.append((1.0 + x1 ** 2 / 2.0) * c * xi)
    return out


def D_stat(*x):
    return D0_STAT * np.sqrt(1.0 + U_stat(*x))


def G_stat(*x):
    """G with ∇G = ∇U/D: zero-flux Itô density e^(−G)/D."""
    return 2.0 / D0_STAT * (np.sqrt(1.0 + U_stat(*x)) - 1.0)


def log_m_stat(*x):
    return -G_stat(*x) - np.log(D_stat(*x))


# the generic stationary problem: D is not a function of U (neither face average of D is
# privileged), the drift is b = −D∇G so that p ∝ e^(−G)/D stays exact in every dimension
def D_gen(*x):
    f = 1.0 + 0.0 * x[0]
    for xi in x[1:]:
        f = f * np.cos(xi)
    return D0_STAT * (1.0 + 0.4 * np.sin(2.0 * x[0] + 0.3) * f)


def G_gen(*x):
    return U_stat(*x) / D0_STAT


def drift_gen(*x):
    dv = D_gen(*x)
    return [-dv * g / D0_STAT for g in grad_U_stat(*x)]


def log_m_gen(*x):
    return -G_gen(*x) - np.log(D_gen(*x))


def stat_model(problem):
    """(drift(*x) → list, D(*x), log m(*x), potential U or None) of a stationary problem."""
    if PROBLEMS[problem].get("model") == "generic":
        return drift_gen, D_gen, log_m_gen, None
    return (lambda *x: [-g for g in grad_U_stat(*x)]), D_stat, log_m_stat, U_stat


def problem_text(problem):
    spec = PROBLEMS[problem]
    key = "stationary-generic" if spec.get("model") == "generic" else spec["kind"]
    return PROBLEM_TEXT[key]


def U_ou(*x):
    return sum(0.5 * a * xi ** 2 for a, xi in zip(A_OU, x))


def p0_ou(*x):
    return np.exp(-sum((xi - m) ** 2 for xi, m in zip(x, M0_OU)) / (2.0 * S0_OU))


def ou_exact(*x):
    out = 1.0
    for xi, a, m in zip(x, A_OU, M0_OU):
        e = math.exp(-a * T_OU)
        var = e * e * S0_OU + D_OU / a * (1.0 - e * e)
        out = out * np.exp(-(xi - m * e) ** 2 / (2.0 * var)) / math.sqrt(2.0 * math.pi * var)
    return out


def U_mfpt(*x):
    u = (x[0] ** 2 - 1.0) ** 2 / 4.0
    for c, xi in zip(CY, x[1:]):
        u = u + 0.5 * c * xi ** 2
    return u


def grad_U_mfpt(*x):
    return [x[0] ** 3 - x[0]] + [c * xi for c, xi in zip(CY, x[1:])]


_LOGZ = {}


def log_z_stat(dim, panels=None, log_m=None):
    """log ∫_box e^(−G)/D by composite Gauss–Legendre (8 nodes/panel) in every dimension."""
    panels = panels or {1: 400, 2: 120, 3: 30}[dim]
    log_m = log_m or log_m_stat
    key = (dim, panels, log_m.__name__)
    if key not in _LOGZ:
        t, w = np.polynomial.legendre.leggauss(8)
        edges = np.linspace(-L_STAT, L_STAT, panels + 1)
        mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
        x = (mid[:, None] + half[:, None] * t[None, :]).ravel()
        wx = (half[:, None] * w[None, :]).ravel()
        X = np.meshgrid(*([x] * dim), indexing="ij")
        W = wx
        for _ in range(dim - 1):
            W = np.multiply.outer(W, wx)
        lm = log_m(*X)
        mx = lm.max()
        _LOGZ[key] = float(mx + np.log(np.sum(W * np.exp(lm - mx))))
    return _LOGZ[key]


def reference(problem, coords):
    """Reference values at the given points (list of arrays)."""
    spec = PROBLEMS[problem]
    if spec["kind"] == "stationary":
        log_m = stat_model(problem)[2]
        return np.exp(log_m(*coords) - log_z_stat(spec["dim"], log_m=log_m))
    if spec["kind"] == "transient":
        return ou_exact(*coords)
    from fpsolve.theory import mfpt_1d
    x1 = np.asarray(coords[0], float)
    u, inv = np.unique(np.round(x1, 13), return_inverse=True)
    inside = u < X_TARGET
    tau = np.zeros_like(u)
    tau[inside] = mfpt_1d(u[inside], X_TARGET, X_REFLECT,
                          potential_derivative=lambda z: z ** 3 - z, diffusion=D_MFPT).mean
    return tau[inv].reshape(x1.shape)


def errors(problem, values, coords, h):
    """(relative max error, L1 error) of a computed result against the reference."""
    kind = PROBLEMS[problem]["kind"]
    v = np.asarray(values, float)
    ref = reference(problem, coords)
    if kind == "mfpt":
        keep = np.asarray(coords[0]) < X_TARGET - 1e-9
        diff = np.abs(v[keep] - ref[keep])
        return float(diff.max() / ref.max()), float(diff.sum() / np.abs(ref[keep]).sum())
    vol = float(np.prod(h))
    p = v / (v.sum() * vol)
    diff = np.abs(p - ref)
    return float(diff.max() / ref.max()), float(diff.sum() * vol)


# ------------------------------------------------------------------------------------------------
# the codes: each run(problem, n, q) → (values, coords, h); q = inner accuracy knob or None
# ------------------------------------------------------------------------------------------------
def centres(lo, hi, n):
    h = (hi - lo) / n
    return lo + (np.arange(n) + 0.5) * h, h


def boxes(problem, n):
    """Box per axis; for MFPT the x₁ interval of fpsolve ends half a cell beyond the target."""
    spec = PROBLEMS[problem]
    d = spec["dim"]
    if spec["kind"] == "stationary":
        return [(-L_STAT, L_STAT)] * d
    if spec["kind"] == "transient":
        return [(-L_OU, L_OU)] * d
    return [(X_REFLECT, X_TARGET)] + [(-L_MFPT_OTHER, L_MFPT_OTHER)] * (d - 1)


class FpsolveCode:
    name = "fpsolve"

    def __init__(self, variant):
        import fpsolve as fp
        self.fp = fp
        self.variant = variant

    def run(self, problem, n, q):
        if self.variant == "richardson":
            return self.richardson(problem, n)
        fp = self.fp
        spec = PROBLEMS[problem]
        box = boxes(problem, n)
        if spec["kind"] == "stationary":
            drift, D, _, U = stat_model(problem)
            if U is not None:
                model = fp.FokkerPlanck(fp.Grid(box, n), potential=U, diffusion=D)
            else:
                b = (lambda x: drift(x)[0]) if spec["dim"] == 1 else (  # noqa: E731
                    lambda *x: tuple(drift(*x)))
                model = fp.FokkerPlanck(fp.Grid(box, n), drift=b, diffusion=D)
            dens = model.stationary() if self.variant == "default" else model.stationary(
                method="solve")
            g = model.grid
            return dens.values, g.coords, g.h, dens.info
        if spec["kind"] == "transient":
            model = fp.FokkerPlanck(fp.Grid(box, n), potential=U_ou, diffusion=D_OU)
            if self.variant == "expm":
                r = model.evolve(p0_ou, [T_OU], method="expm")
            else:
                r = model.evolve(p0_ou, [T_OU], scheme="tr-bdf2", dt=T_OU / q)
            g = model.grid
            return r.densities[-1].values, g.coords, g.h, {"steps": r.steps}
        lo, c = box[0]
        h1 = (c - lo) / (n - 0.5)          # the last cell's centre sits at the target x₁ = c
        box = [(lo, c + h1 / 2)] + box[1:]
        model = fp.FokkerPlanck(fp.Grid(box, n), potential=U_mfpt, diffusion=D_MFPT)
        tau = model.mean_first_passage_time(lambda *x: x[0] >= c - h1 / 4)
        g = model.grid
        info = {k: v for k, v in tau.info.items() if isinstance(v, (str, bool, int, float))}
        return tau.values, g.coords, g.h, info


    def richardson(self, problem, n):
        """``fpsolve.analysis.richardson`` from n and 2n cells per axis: the same question as the
        default variant, asked on both grids and extrapolated. The MFPT's target is the wall at
        x₁ = 1 (``escape.Wall``), which stays on a face of both grids; the default variant's
        target cell centred on x₁ = 1 would move with the grid. Transient: the exponential on n
        and 3n cells, extrapolated linearly."""
        fp = self.fp
        from fpsolve.analysis import richardson
        spec = PROBLEMS[problem]
        dim = spec["dim"]
        if spec["kind"] == "stationary":
            drift, D, _, U = stat_model(problem)
            box = boxes(problem, n)
            if U is not None:
                def solve(grid):
                    return fp.FokkerPlanck(grid, potential=U, diffusion=D).stationary()
            else:
                b = ((lambda x: drift(x)[0]) if dim == 1  # noqa: E731
                     else (lambda *x: tuple(drift(*x))))

                def solve(grid):
                    return fp.FokkerPlanck(grid, drift=b, diffusion=D).stationary()
        elif spec["kind"] == "mfpt":
            box = [(X_REFLECT, X_TARGET)] + boxes(problem, n)[1:]
            wall = fp.escape.Wall(0, "high")

            def solve(grid):
                return fp.FokkerPlanck(grid, potential=U_mfpt,
                                       diffusion=D_MFPT).mean_first_passage_time(wall)
        else:
            # the exponential (no time error); an evolved density may carry round-off
            # negatives, so linearly, and with ratio 3 (no interpolation of a peaked density)
            box = boxes(problem, n)

            def solve(grid):
                model = fp.FokkerPlanck(grid, potential=U_ou, diffusion=D_OU)
                return model.evolve(p0_ou, [T_OU], method="expm").densities[-1]
        grid = fp.Grid(box, n)
        transient = spec["kind"] == "transient"
        r = richardson(solve, grid, log=False, ratio=3) if transient else richardson(solve, grid)
        info = {"cells": n ** dim + (r.info["ratio"] * n) ** dim,
                "fine_error_estimate": r.info["fine_error_estimate"]}
        return r.values, grid.coords, grid.h, info


class FplanckCode:
    name = "fplanck"

    def __init__(self, variant):
        if not hasattr(np, "product"):   # fplanck 0.2.2 calls np.product (removed in numpy 2)
            np.product = np.prod
        import fplanck
        from scipy import constants
        self.fplanck, self.kB = fplanck, constants.k

    def model(self, problem, n):
        spec = PROBLEMS[problem]
        d = spec["dim"]
        lo, hi = boxes(problem, n)[0]
        extent = hi - lo
        res = extent / n
        while int(np.ceil(extent / res)) > n:   # Ngrid = ceil(extent / resolution)
            res = np.nextafter(res, np.inf)
        if spec["kind"] == "stationary":
            # force F = b/D (β = 1): fplanck's drift is D·β·F = b; it integrates F along each
            # face by the trapezoid rule (its potential= would need the antiderivative G)
            drift, D, _, _ = stat_model(problem)

            def force(*x):
                dv = D(*x)
                return [g / dv for g in drift(*x)]
            kw = {"drag": lambda *x: 1.0 / D(*x), "force": force}
        else:
            kw = {"drag": 1.0 / D_OU, "potential": lambda *x: U_ou(*x) / D_OU}
        sim = self.fplanck.fokker_planck(temperature=1.0 / self.kB, extent=[extent] * d,
                                         resolution=res, boundary=self.fplanck.boundary.reflecting,
                                         **kw)
        assert tuple(sim.Ngrid) == (n,) * d, sim.Ngrid
        return sim

    def run(self, problem, n, q):
        kind = PROBLEMS[problem]["kind"]
        if kind == "mfpt":
            raise NotImplementedError("fplanck 0.2.2 has no absorbing boundary / MFPT")
        sim = self.model(problem, n)
        if kind == "stationary":
            p = sim.steady_state()
        else:
            p = sim.propagate(p0_ou, T_OU)
        return p, list(sim.grid), np.asarray(sim.resolution, float), {}


class FipyCode:
    name = "FiPy"

    def __init__(self, variant):
        import fipy
        from fipy.solvers.scipy import LinearLUSolver
        self.fv = fipy
        self.solver_cls = LinearLUSolver

    def mesh(self, problem, n):
        fv = self.fv
        box = boxes(problem, n)
        d = len(box)
        h = [(b - a) / n for a, b in box]
        if d == 1:
            m = fv.Grid1D(dx=h[0], nx=n)
        elif d == 2:
            m = fv.Grid2D(dx=h[0], dy=h[1], nx=n, ny=n)
        else:
            m = fv.Grid3D(dx=h[0], dy=h[1], dz=h[2], nx=n, ny=n, nz=n)
        m = m + tuple((a,) for a, _ in box)
        X = [np.asarray(c) for c in m.cellCenters]
        return m, X, np.array(h)

    def run(self, problem, n, q):
        fv = self.fv
        kind = PROBLEMS[problem]["kind"]
        mesh, X, h = self.mesh(problem, n)
        solver = self.solver_cls(tolerance=1e-14, iterations=10)
        if kind == "stationary":
            drift, D, log_m, U = stat_model(problem)
            Dv = fv.CellVariable(mesh=mesh, value=D(*X))
            if U is not None:
                Uv = fv.CellVariable(mesh=mesh, value=U(*X))
                v = -Uv.faceGrad - Dv.faceGrad        # Itô: v = b − ∇D
            else:                                     # b at the face centres
                F = [np.asarray(c) for c in mesh.faceCenters]
                bF = fv.FaceVariable(mesh=mesh, rank=1, value=np.array(drift(*F)))
                v = bF - Dv.faceGrad
            phi = fv.CellVariable(mesh=mesh, value=0.0)
            mask = np.zeros(mesh.numberOfCells)
            mask[int(np.argmax(log_m(*X)))] = 1.0
            maskv = fv.CellVariable(mesh=mesh, value=mask)
            big = 1e6 * 2 * len(h) * float(np.max(Dv.value)) / float(np.min(h)) ** 2
            eq = (fv.DiffusionTerm(coeff=Dv.arithmeticFaceValue)
                  - fv.ExponentialConvectionTerm(coeff=v)
                  - fv.ImplicitSourceTerm(coeff=big * maskv) + big * maskv == 0)
            eq.solve(var=phi, solver=solver)
            return np.array(phi.value), X, h, {}
        if kind == "transient":
            Uv = fv.CellVariable(mesh=mesh, value=U_ou(*X))
            phi = fv.CellVariable(mesh=mesh, value=p0_ou(*X))
            eq = (fv.TransientTerm() == fv.DiffusionTerm(coeff=D_OU)
                  - fv.ExponentialConvectionTerm(coeff=-Uv.faceGrad))
            dt = T_OU / q
            for _ in range(q):
                eq.solve(var=phi, dt=dt, solver=solver)
            return np.array(phi.value), X, h, {"steps": q}
        # self-adjoint form of D∇²τ − ∇U·∇τ = −1: ∇·(D w ∇τ) = −w, w = e^(−U/D) (the
        # convection form DiffusionTerm + ConvectionTerm(v) − ImplicitSourceTerm(∇·v) gave
        # errors ≈ 1 for every sign choice here; see README)
        w = fv.CellVariable(mesh=mesh, value=np.exp(-U_mfpt(*X) / D_MFPT))
        tau = fv.CellVariable(mesh=mesh, value=0.0)
        tau.constrain(0.0, mesh.facesRight)
        eq = fv.DiffusionTerm(coeff=D_MFPT * w.arithmeticFaceValue) + w == 0
        eq.solve(var=tau, solver=solver)
        return np.array(tau.value), X, h, {}


class PypdeCode:
    name = "py-pde"

    def __init__(self, variant):
        warnings.simplefilter("ignore")
        import pde
        from pde.pdes.base import PDEBase
        self.pde = pde

        class FP(PDEBase):
            """∂t p = laplace(D p) − divergence(b p) (forward) or D laplace τ + b·∇τ + 1."""

            def __init__(self, D, b, bc, backward=False):
                super().__init__()
                self.D, self.b, self.bc, self.backward = D, b, bc, backward

            def evolution_rate(self, state, t=0):
                if self.backward:
                    return (state.laplace(self.bc) * self.D + self.b.dot(state.gradient(self.bc))
                            + 1.0)
                # zero flux at the walls: Neumann for the diffusive part, zero normal value
                # of the advective flux b·p on the wall (ghost = −interior)
                return ((state * self.D).laplace(self.bc)
                        - (self.b * state).divergence({"value": 0}))

        self.FP = FP

    @staticmethod
    def sparsity(shape):
        import scipy.sparse as sp
        n = int(np.prod(shape))
        idx = np.arange(n).reshape(shape)
        rows, cols = [idx.ravel()], [idx.ravel()]
        for a in range(len(shape)):
            for s in (1, -1):
                src = [slice(None)] * len(shape)
                dst = [slice(None)] * len(shape)
                src[a] = slice(0, -1) if s == 1 else slice(1, None)
                dst[a] = slice(1, None) if s == 1 else slice(0, -1)
                rows.append(idx[tuple(src)].ravel())
                cols.append(idx[tuple(dst)].ravel())
        r, c = np.concatenate(rows), np.concatenate(cols)
        return sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))

    def run(self, problem, n, q):
        pde = self.pde
        spec = PROBLEMS[problem]
        d, kind = spec["dim"], spec["kind"]
        box = boxes(problem, n)
        grid = pde.CartesianGrid([list(b) for b in box], [n] * d)
        X = [grid.cell_coords[..., a] for a in range(d)]
        h = np.array([(b - a) / n for a, b in box])
        jac = self.sparsity((n,) * d)
        if kind == "stationary":
            drift, Dfun, _, _ = stat_model(problem)
            D = pde.ScalarField(grid, Dfun(*X))
            b = pde.VectorField(grid, np.array(drift(*X)))
            eq = self.FP(D, b, {"derivative": 0})
            state = pde.ScalarField(grid, 1.0)
            res = eq.solve(state, t_range=T_SS, tracker=None, backend="numpy", solver="scipy",
                           method="BDF", rtol=1e-10, atol=1e-14, jac_sparsity=jac)
            return res.data, X, h, {}
        if kind == "transient":
            D = pde.ScalarField(grid, D_OU)
            b = pde.VectorField(grid, -np.array([a * xi for a, xi in zip(A_OU, X)]))
            eq = self.FP(D, b, {"derivative": 0})
            state = pde.ScalarField(grid, p0_ou(*X))
            res = eq.solve(state, t_range=T_OU, tracker=None, backend="numpy", solver="scipy",
                           method="BDF", rtol=q, atol=q * 1e-3, jac_sparsity=jac)
            return res.data, X, h, {"rtol": q}
        b = pde.VectorField(grid, -np.array(grad_U_mfpt(*X)))
        bc = [[{"derivative": 0}, {"value": 0}]] + [{"derivative": 0}] * (d - 1)
        eq = self.FP(D_MFPT, b, bc, backward=True)
        state = pde.ScalarField(grid, 0.0)
        res = eq.solve(state, t_range=T_SS, tracker=None, backend="numpy", solver="scipy",
                       method="BDF", rtol=1e-10, atol=1e-12, jac_sparsity=jac)
        return res.data, X, h, {}


CODES = {
    # code: {variant: (class, inner-knob ladder per problem kind or None, description)}
    "fpsolve": {
        "default": (FpsolveCode, {"transient": None}, {
            "stationary": "stationary() (default)", "mfpt": "mean_first_passage_time()"}),
        "solve": (FpsolveCode, {}, {"stationary": "stationary(method='solve')"}),
        "tr-bdf2": (FpsolveCode, {"transient": [4, 8, 16, 32, 64, 128, 256, 512]},
                    {"transient": "evolve(scheme='tr-bdf2', dt=T/k)"}),
        "expm": (FpsolveCode, {}, {"transient": "evolve(method='expm')"}),
        "richardson": (FpsolveCode, {}, {
            "stationary": "richardson(stationary, n & 2n)",
            "mfpt": "richardson(mean_first_passage_time, n & 2n)",
            "transient": "richardson(evolve(method='expm'), n & 3n)"}),
    },
    "fplanck": {
        "default": (FplanckCode, {}, {"stationary": "steady_state() (ARPACK)",
                                      "transient": "propagate() (expm_multiply)"}),
    },
    "fipy": {
        "default": (FipyCode, {"transient": [8, 32, 128, 512, 2048, 8192]}, {
            "stationary": "steady eq., pinned cell, LinearLUSolver",
            "transient": "TransientTerm, backward Euler, k steps",
            "mfpt": "∇·(D e^(−U/D)∇τ) = −e^(−U/D), τ=0 on face x₁=1, LU"}),
    },
    "pypde": {
        "default": (PypdeCode, {"transient": [1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]}, {
            "stationary": "PDEBase + ScipySolver BDF to t=400",
            "transient": "PDEBase + ScipySolver BDF (rtol ladder)",
            "mfpt": "backward eq. + ScipySolver BDF to t=400"}),
    },
}
CODE_LABEL = {"fpsolve": "fpsolve", "fplanck": "fplanck 0.2.2", "fipy": "FiPy 4.0.3",
              "pypde": "py-pde 0.59"}


def variants_for(code, kind):
    out = []
    for var, (_, knobs, desc) in CODES[code].items():
        if kind in desc:
            out.append(var)
    return out


def ladder(dim, kind):
    base = {1: [16, 23, 32, 45, 64, 90, 128, 181, 256, 362, 512, 724, 1024, 1448, 2048, 2896,
                4096, 5793, 8192, 16384],
            2: [8, 11, 16, 23, 32, 45, 64, 90, 128, 181, 256, 362, 512, 724, 1024],
            3: [6, 8, 11, 16, 23, 32, 45, 64, 90, 128]}[dim]
    return base


# ------------------------------------------------------------------------------------------------
# worker: one (problem, code, variant), the whole ladder search
# ------------------------------------------------------------------------------------------------
SHORT_RUN, SHORT_REPS, SHORT_TOTAL = 0.01, 50, 0.2


def timed(fn, min_total=1.0, max_reps=10):
    """Run fn(); repeat while cheap: up to ``max_reps`` times while the runs total less than
    ``min_total`` seconds, and a run shorter than SHORT_RUN (10 ms) up to SHORT_REPS (50) times
    while they total less than SHORT_TOTAL (0.2 s) — the minimum of three sub-millisecond runs
    still carries the first runs' cold caches (fpsolve's 1D stationary solve: 0.12 ms in the
    worker against 0.05 ms warm, measured), and so did the minimum of three 10-ms runs
    (fpsolve's 64² MFPT: 13.4 ms in the worker against 7.7 ms warm, measured; hence up to ten
    runs within a second). Every code is timed the same way.
    Returns (result, min wall, min cpu, reps)."""
    walls, cpus, out = [], [], None
    while True:
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
        short = min(walls) < SHORT_RUN and len(walls) < SHORT_REPS and sum(walls) < SHORT_TOTAL
        if not short and (sum(walls) >= min_total or len(walls) >= max_reps):
            break
    return out, min(walls), min(cpus), len(walls)


def worker(problem, code, variant, targets, cap, budget):
    spec = PROBLEMS[problem]
    kind, dim = spec["kind"], spec["dim"]
    t0 = time.perf_counter()
    cls, knobs, _ = CODES[code][variant]
    obj = cls(variant)
    t_import = time.perf_counter() - t0
    knob_ladder = knobs.get(kind)
    ns = ladder(dim, kind)
    # warm-up on a small grid (JIT, caches)
    w0 = time.perf_counter()
    obj.run(problem, ns[1], knob_ladder[0] if knob_ladder else None)
    if code == "fpsolve" and dim > 1:
        # solver="auto" takes the geometric multigrid from 10⁴ cells in 2D and 2·10³ in 3D:
        # compile its kernels here too, or the first run past that size times the JIT
        obj.run(problem, {2: 104, 3: 14}[dim], knob_ladder[0] if knob_ladder else None)
    warm = time.perf_counter() - w0
    records, note = [], ""
    best_prev = None
    stall = 0
    goal = min(targets)
    spent = 0.0
    last_cost = None
    for n in ns:
        # predicted cost of the cheapest run at this n (grows ~ n^dim · log)
        if last_cost is not None:
            grow = (n / last_cost[0]) ** dim * 1.2
            if last_cost[1] * grow > cap:
                note = f"stopped before n={n}: predicted {last_cost[1] * grow:.0f} s > cap {cap:g} s"
                break
            if spent + last_cost[1] * grow > budget:
                note = f"stopped before n={n}: worker budget {budget:g} s"
                break
        best_n = None
        prev_err = None
        prev_q, prev_wall = None, None
        for q in (knob_ladder or [None]):
            if prev_wall is not None:
                # predicted cost of the next knob value: steps scale the cost, rtol ~ 1.6× per decade
                grow = q / prev_q if q > prev_q else 1.6
                if prev_wall * grow > cap or spent + prev_wall * grow > budget:
                    note = f"n={n}: next q={q:g} predicted {prev_wall * grow:.0f} s > cap/budget"
                    break
            def fn():
                return obj.run(problem, n, q)
            try:
                (vals, coords, h, info), wall, cpu, reps = timed(fn)
            except NotImplementedError as exc:
                return {"status": "cannot express", "why": str(exc), "records": []}
            except Exception as exc:   # a failure of the code at this size: record and stop
                records.append({"n": n, "q": q, "failed": f"{type(exc).__name__}: {exc}"[:300]})
                note = f"failed at n={n}: {type(exc).__name__}"
                break
            # the search budget counts three runs at most, as before the extra repetitions
            # of timed(): they sharpen the minimum, they should not shorten the search
            spent += wall * min(reps, 3)
            err, l1 = errors(problem, vals, coords, h)
            rec = {"n": n, "cells": info.get("cells", n ** dim), "q": q, "err": err, "l1": l1, "wall": wall,
                   "cpu": cpu, "reps": reps,
                   "info": {k: v for k, v in info.items() if isinstance(v, (str, bool, int, float))}}
            records.append(rec)
            print(f"   {problem} {code}/{variant} n={n} q={q} err={err:.3g} cpu={cpu:.3g}s",
                  file=sys.stderr, flush=True)
            if best_n is None or err < best_n["err"]:
                best_n = rec
            if err <= goal:
                break
            if prev_err is not None and err > 0.7 * prev_err:   # time error no longer dominant
                break
            prev_err = err
            prev_q, prev_wall = q, wall
            if q is None or wall > cap or spent > budget:
                break
        if best_n is None:
            break
        last_cost = (n, min(r["wall"] for r in records if r.get("n") == n and "wall" in r))
        if best_n["err"] <= goal:
            note = note or "reached the smallest target"
            break
        if best_prev is not None and best_n["err"] > 0.9 * best_prev:
            stall += 1
            if stall >= 2:
                note = f"error stopped decreasing (floor ≈ {best_n['err']:.2g})"
                break
        else:
            stall = 0
        best_prev = best_n["err"] if best_prev is None else min(best_prev, best_n["err"])
        if spent > budget:
            note = f"worker budget {budget:g} s spent"
            break
    return {"status": "ok", "records": records, "note": note, "import_s": t_import,
            "warmup_s": warm}


def worker_scaling(dim, method, n):
    import fpsolve as fp
    U = U_stat
    box = [(-L_STAT, L_STAT)] * dim
    m = fp.FokkerPlanck(fp.Grid(box, 12), potential=U, diffusion=D_SCALING)
    m.stationary() if method == "default" else m.stationary(method="solve")

    def fn():
        model = fp.FokkerPlanck(fp.Grid(box, n), potential=U, diffusion=D_SCALING)
        return model.stationary() if method == "default" else model.stationary(method="solve")
    dens, wall, cpu, reps = timed(fn, min_total=2.0)
    info = {k: v for k, v in dens.info.items() if isinstance(v, (str, bool, int, float))}
    return {"status": "ok", "dim": dim, "method": method, "n": n, "cells": n ** dim,
            "wall": wall, "cpu": cpu, "reps": reps, "info": info}


# ------------------------------------------------------------------------------------------------
# driver
# ------------------------------------------------------------------------------------------------
def launch(args_list, timeout):
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(args_list)]
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        rec = {"status": f"timeout after {timeout:.0f} s"}
        lines = [ln for ln in (exc.stderr or b"").decode(errors="replace").splitlines()
                 if ln.strip().startswith(args_list[0])] if isinstance(exc.stderr, bytes) else []
        rec["stderr_tail"] = "\n".join(lines[-5:])
    else:
        sys.stderr.write(proc.stderr[-3000:] if proc.returncode else "")
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
        if proc.returncode == 0 and lines:
            rec = json.loads(lines[-1][len(MARK):])
        else:
            rec = {"status": f"failed (exit {proc.returncode})", "stderr_tail": proc.stderr[-2000:]}
    rec.update(job_wall_s=time.perf_counter() - t0, loadavg_before=load0,
               loadavg_after=os.getloadavg()[0])
    return rec


def fpsolve_commit():
    """HEAD commit of the repository, read from .git files (no git command is run)."""
    try:
        git = ROOT / ".git"
        if git.is_file():        # a worktree: ".git" names the real git directory
            git = (ROOT / git.read_text().split(":", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if (git / "commondir").exists():      # a worktree's branches live in the common dir
            git = (git / (git / "commondir").read_text().strip()).resolve()
        if head.startswith("ref:"):
            ref = head.split(None, 1)[1]
            p = git / ref
            if p.exists():
                return ref, p.read_text().strip()
            packed = git / "packed-refs"
            if packed.exists():
                for ln in packed.read_text().splitlines():
                    if ln.endswith(" " + ref):
                        return ref, ln.split()[0]
            return ref, None
        return "detached", head
    except Exception as exc:  # pragma: no cover - informational only
        return None, f"({exc})"


def fpsolve_source_hash():
    import hashlib
    root = ROOT / "fpsolve"
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
        except Exception as exc:  # pragma: no cover
            return f"({exc})"

    from importlib import metadata
    versions = {}
    for pkg in ("fpsolve", "numpy", "scipy", "numba", "pyamg", "fipy", "fplanck", "py-pde"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    try:
        import fpsolve
        versions["fpsolve.__version__"] = fpsolve.__version__
    except Exception:  # pragma: no cover
        pass
    keep = ("Architecture", "CPU(s):", "Model name", "Thread(s) per core", "Core(s) per socket",
            "L2 cache", "L3 cache", "Hypervisor vendor")
    ref, commit = fpsolve_commit()
    return {
        "lscpu": [ln.strip() for ln in sh("lscpu").splitlines() if ln.strip().startswith(keep)],
        "nproc": sh("nproc"), "mem_total": sh("free -h | awk '/Mem:/{print $2}'"),
        "python": sys.version.split()[0], "platform": platform.platform(), "versions": versions,
        "git_ref": ref, "git_commit": commit, "fpsolve_source_sha256": fpsolve_source_hash(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "loadavg_start": list(os.getloadavg()),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small caps: a few minutes")
    ap.add_argument("--only", default="", help="comma-separated problems (default all)")
    ap.add_argument("--codes", default="fpsolve,fplanck,fipy,pypde")
    ap.add_argument("--targets", default="1e-2,1e-3,1e-4")
    ap.add_argument("--cap", type=float, default=None, help="max seconds of one run")
    ap.add_argument("--budget", type=float, default=None, help="max seconds per worker search")
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--no-match", action="store_true", help="only the scaling part")
    ap.add_argument("--scaling-cap", type=float, default=None,
                    help="stop a scaling series after a point slower than this (s)")
    ap.add_argument("--tag", default="", help="output names codes_<tag>_*")
    ap.add_argument("--out-dir", default=str(HERE / "results"))
    ap.add_argument("--from-json", help="re-render tables/plot from a saved JSON")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        a = json.loads(args.worker)
        if a[0] == "scaling":
            rec = worker_scaling(*a[1:])
        else:
            rec = worker(*a)
        print(MARK + json.dumps(rec), flush=True)
        return
    out_dir = Path(args.out_dir)
    prefix = "codes_" + (args.tag + "_" if args.tag else "")
    if args.from_json:
        payload = json.loads(Path(args.from_json).read_text())
        render(payload, out_dir, prefix)
        return
    cap = args.cap or (4.0 if args.quick else 12.0)
    budget = args.budget or (10.0 if args.quick else 25.0)
    scap = args.scaling_cap or (5.0 if args.quick else 60.0)
    targets = [float(t) for t in args.targets.split(",")]
    problems = [p for p in (args.only.split(",") if args.only else PROBLEMS) if p]
    codes = [c for c in args.codes.split(",") if c]
    info = machine_info()
    t_start = time.perf_counter()
    matched = []
    if not args.no_match:
        for prob in problems:
            kind = PROBLEMS[prob]["kind"]
            for code in codes:
                vs = variants_for(code, kind)
                if not vs:
                    why = ("fplanck 0.2.2 has reflecting/periodic walls only: no absorbing "
                           "target, no backward equation" if code == "fplanck" else "")
                    matched.append({"problem": prob, "code": code, "variant": "—",
                                    "status": "cannot express", "why": why})
                    continue
                for var in vs:
                    print(f"[{time.perf_counter() - t_start:6.0f} s] {prob} {code}/{var}",
                          file=sys.stderr, flush=True)
                    rec = launch([prob, code, var, targets, cap, budget], timeout=budget + 4 * cap
                                 + 180)
                    rec.update(problem=prob, code=code, variant=var)
                    matched.append(rec)
    scaling = []
    if not args.no_scaling:
        series = {2: [32, 64, 128, 256, 512, 724, 1000], 3: [10, 16, 24, 32, 48, 64, 80, 100]}
        if args.quick:
            series = {2: [32, 64, 128, 256, 512, 1000], 3: [10, 16, 24, 32, 48]}
        for dim, ns in series.items():
            for method in ("default", "solve"):
                for n in ns:
                    print(f"[{time.perf_counter() - t_start:6.0f} s] scaling {dim}D {method} n={n}",
                          file=sys.stderr, flush=True)
                    rec = launch(["scaling", dim, method, n], timeout=max(4 * scap, 120))
                    rec.update(dim=dim, method=method, n=n, cells=n ** dim)
                    scaling.append(rec)
                    if rec.get("status") != "ok" or rec.get("cpu", 0) > scap:
                        break
    info["bench_wall_s"] = time.perf_counter() - t_start
    info["loadavg_end"] = list(os.getloadavg())
    info["fpsolve_source_sha256_end"] = fpsolve_source_hash()
    payload = {"targets": targets, "cap_s": cap, "budget_s": budget, "quick": args.quick,
               "problems": {p: dict(PROBLEMS[p], text=problem_text(p))
                            for p in problems},
               "machine": info, "matched": matched, "scaling": scaling}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{prefix}results.json").write_text(json.dumps(payload, indent=1))
    render(payload, out_dir, prefix)


# ------------------------------------------------------------------------------------------------
# tables and plot
# ------------------------------------------------------------------------------------------------
def fmt(x):
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 0.01:
        return f"{x:.3g}"
    return f"{x:.1e}"


def cheapest(rec, target):
    ok = [r for r in rec.get("records", []) if "err" in r and r["err"] <= target]
    return min(ok, key=lambda r: r["cpu"]) if ok else None


def why_not(rec):
    if rec.get("status") == "cannot express":
        return "cannot express" + (f" ({rec['why']})" if rec.get("why") else "")
    if rec.get("status") != "ok":
        return rec.get("status", "?")
    errs = [r["err"] for r in rec.get("records", []) if "err" in r]
    best = f"best err {min(errs):.1e}" if errs else "no run"
    return f"not reached ({best}; {rec.get('note', '')})"


def fit_exponent(points, nmin=1e4):
    pts = [(c, t) for c, t in points if c >= nmin and t > 0]
    if len(pts) < 2:
        return None
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def render(payload, out_dir, prefix):
    info, targets = payload["machine"], payload["targets"]
    lines = []
    lscpu = {ln.split(":", 1)[0]: ln.split(":", 1)[1].strip() for ln in info["lscpu"] if ":" in ln}
    lines.append(f"Machine: {lscpu.get('Model name', '?')}, {info['nproc']} CPUs, "
                 f"{info.get('mem_total', '?')} RAM, {info['platform']}; Python {info['python']}; "
                 + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
                 + f"; fpsolve commit {str(info.get('git_commit'))[:10]} "
                   f"(source sha256 {info['fpsolve_source_sha256']}); {info['date']}; load "
                   f"average {info['loadavg_start'][0]:.1f} at start, "
                   f"{info.get('loadavg_end', [float('nan')])[0]:.1f} at end; whole run "
                   f"{info.get('bench_wall_s', 0):.0f} s wall.\n")
    if info.get("fpsolve_source_sha256_end") not in (None, info["fpsolve_source_sha256"]):
        lines.append(f"**Warning:** fpsolve's source changed during this run (sha256 "
                     f"{info['fpsolve_source_sha256']} → {info['fpsolve_source_sha256_end']}); "
                     f"later rows may have run against the newer code.\n")
    if payload.get("matched"):
        lines.append("### Matched accuracy\n")
        lines.append("Cost of the cheapest run (CPU time) whose relative max error is ≤ the "
                     "target; set-up + solve, warm (JIT excluded). Ratio = other code ÷ fpsolve's "
                     "cheapest variant (transient: tr-bdf2, expm or richardson; stationary and "
                     "MFPT: the default or richardson), CPU / wall; 'plain' = ÷ fpsolve without "
                     "extrapolation (CPU). `q` = steps k (time stepping) or rtol (py-pde).\n")
        lines.append("| problem | target | code | variant | n (cells) | q | error | wall s | CPU s "
                     "| ratio CPU | ratio wall | ratio CPU, plain |")
        lines.append("|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        recs = payload["matched"]
        for prob in payload["problems"]:
            for tgt in targets:
                rows = [r for r in recs if r["problem"] == prob]
                plain = [cheapest(r, tgt) for r in rows if r["code"] == "fpsolve"
                         and r["variant"] in ("default", "tr-bdf2", "expm")]
                plain = [f for f in plain if f]
                fps = plain + [f for f in (cheapest(r, tgt) for r in rows if r["code"] == "fpsolve"
                                           and r["variant"] == "richardson") if f]
                ref = min(fps, key=lambda r: r["cpu"]) if fps else None
                ref_plain = min(plain, key=lambda r: r["cpu"]) if plain else None
                for r in rows:
                    c = cheapest(r, tgt)
                    desc = CODES.get(r["code"], {}).get(r["variant"], (None, None, {}))[2].get(
                        PROBLEMS[prob]["kind"], r["variant"])
                    label = CODE_LABEL.get(r["code"], r["code"])
                    if c is None:
                        lines.append(f"| {prob} | {tgt:g} | {label} | {desc} | – | – | – | – | – "
                                     f"| {why_not(r)} | | |")
                        continue
                    rc = f"{c['cpu'] / ref['cpu']:.3g}×" if ref else "–"
                    rw = f"{c['wall'] / ref['wall']:.3g}×" if ref else "–"
                    rp = f"{c['cpu'] / ref_plain['cpu']:.3g}×" if ref_plain else "–"
                    q = "–" if c["q"] is None else f"{c['q']:g}"
                    lines.append(f"| {prob} | {tgt:g} | {label} | {desc} | {c['n']} "
                                 f"({c['cells']:,}) | {q} | {c['err']:.1e} | {fmt(c['wall'])} | "
                                 f"{fmt(c['cpu'])} | {rc} | {rw} | {rp} |")
        lines.append("\n#### Error vs grid (best error at each n over the inner ladder)\n")
        lines.append("| problem | code/variant | n: error (CPU s) |")
        lines.append("|---|---|---|")
        for r in recs:
            by_n = {}
            for x in r.get("records", []):
                if "err" in x and (x["n"] not in by_n or x["err"] < by_n[x["n"]]["err"]):
                    by_n[x["n"]] = x
            s = ", ".join(f"{n}: {x['err']:.1e} ({fmt(x['cpu'])})" for n, x in by_n.items())
            lines.append(f"| {r['problem']} | {r['code']}/{r['variant']} | {s or why_not(r)} |")
    sc = payload.get("scaling") or []
    if sc:
        lines.append("\n### fpsolve stationary cost vs cells (constant D = 0.1, detailed balance)\n")
        lines.append("| dim | method | n | cells | wall s | CPU s | path (info) |")
        lines.append("|---:|---|---:|---:|---:|---:|---|")
        for r in sc:
            if r.get("status") != "ok":
                lines.append(f"| {r['dim']} | {r['method']} | {r['n']} | {r['cells']:,} | "
                             f"{r.get('status')} | | |")
                continue
            path = r["info"].get("method", "") + (
                "/" + r["info"]["linear_solver"] if r["info"].get("linear_solver") else "")
            lines.append(f"| {r['dim']} | {r['method']} | {r['n']} | {r['cells']:,} | "
                         f"{fmt(r['wall'])} | {fmt(r['cpu'])} | {path} |")
        lines.append("\nFitted exponent p in CPU ∝ N^p (least squares over N ≥ 1e4):\n")
        for dim in (2, 3):
            for method in ("default", "solve"):
                pts = [(r["cells"], r["cpu"]) for r in sc if r.get("status") == "ok"
                       and r["dim"] == dim and r["method"] == method]
                p = fit_exponent(pts)
                if pts:
                    lines.append(f"- {dim}D `{method}`: p = {p:.2f} (N up to {max(c for c, _ in pts):,})"
                                 if p is not None else f"- {dim}D `{method}`: too few points")
        plot_scaling(sc, out_dir / f"{prefix}scaling.png")
    md = "\n".join(lines) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{prefix}table.md").write_text(md)
    print(md)


def plot_scaling(sc, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    allN, allT = [], []
    for (dim, method), mk in {(2, "default"): "o-", (2, "solve"): "s-", (3, "default"): "^--",
                              (3, "solve"): "v--"}.items():
        pts = sorted((r["cells"], r["cpu"]) for r in sc if r.get("status") == "ok"
                     and r["dim"] == dim and r["method"] == method)
        if not pts:
            continue
        N, T = zip(*pts)
        p = fit_exponent(pts)
        ax.loglog(N, T, mk, label=f"{dim}D {method}" + (f" (p={p:.2f})" if p else ""))
        allN += N
        allT += T
    if allN:
        N = np.logspace(np.log10(min(allN)), np.log10(max(allN)), 50)
        t0 = np.median([t / n for n, t in zip(allN, allT)])
        for f, lab, ls in ((lambda n: n, "∝ N", ":"), (lambda n: n * np.log(n), "∝ N log N", "-.")):
            ref = f(N)
            ax.loglog(N, ref / f(1e5) * t0 * 1e5, "k" + ls, lw=0.8, label=lab)
    ax.set_xlabel("cells N")
    ax.set_ylabel("CPU s (set-up + stationary)")
    ax.set_title("fpsolve stationary(): cost vs N")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", lw=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
