"""Stationary states: the exact discrete Gibbs state in 1D–3D (discrete stationarity to
round-off) and a 1D state-dependent density against quadrature, in the three conventions."""
from __future__ import annotations

import numpy as np
import scipy.integrate as si

import fpsolve as fp

from ..framework import Case, Check
from ..registry import case
from .common import (ALPHAS, PAPER, RESIDUAL_WHY, generator_residual, log_mean, max_rel,
                     normalise_log, plot_per_convention, residual_tol)


# ---------------------------------------------------------------------------------------------
# discrete stationarity of the exact discrete Gibbs state
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="discrete_gibbs_1d")
def discrete_gibbs_1d(ctx):
    """1D: the exact discrete zero-flux state is stationary to round-off, in all conventions."""
    n = ctx.pick(quick=400, full=4000)
    grid = fp.Grid([(-3.0, 3.0)], n)
    x = grid.axes[0]

    def U(x):
        return (x ** 2 - 1) ** 2 / 4 + 0.3 * x

    def D(x):
        return 0.1 + 0.05 * np.sin(3 * x)

    Uc, Dc = U(x), D(x)
    # Reference (docs/theory/conventions, flux.py docstring): p_{k+1}/p_k = (D_k/D_{k+1})^(1−α)
    # e^{P_k}, P_k = −ΔU/D_f, D_f the logarithmic mean; summed here in extended precision.
    inc = (np.diff(Uc) / log_mean(Dc[:-1], Dc[1:])).astype(np.longdouble)
    phi = np.concatenate([[0.0], np.cumsum(inc)]).astype(float)
    checks, numbers, curves = [], {"n": n}, {}
    for conv, alpha in ALPHAS.items():
        ref = normalise_log((alpha - 1.0) * np.log(Dc) - phi, grid.cell_volume)
        model = fp.FokkerPlanck(grid, potential=U, diffusion=D, convention=conv)
        res = generator_residual(model.generator(), ref)
        p = model.stationary()
        err = max_rel(p.values, ref)
        span = float(np.log(ref.max() / ref.min()))
        numbers[f"{conv}: residual of reference"] = res
        numbers[f"{conv}: max rel. difference"] = err
        numbers[f"{conv}: log-range of p"] = span
        checks += [
            Check(f"‖L p_ref‖ ({conv})", res, reference=0.0, atol=residual_tol(span),
                  why=RESIDUAL_WHY),
            Check(f"stationary() vs reference ({conv})", err, reference=0.0,
                  atol=1e-13 * max(1.0, span),
                  why="exp of a log-density summed over n faces: ε·(log-range of p) relative"),
        ]
        curves[conv] = (p.values, ref)
    fig = plot_per_convention(ctx, x, curves, reference="reference", logy=True,
                              title="discrete Gibbs state",
                              error_ylabel="|p/p_ref − 1| + 1e-18",
                              error_title="relative difference")
    return Case(
        title="1D: the exact discrete zero-flux state is stationary to round-off",
        equation="Conventions: zero-flux state; flux.py: p_{k+1}/p_k = (D_k/D_{k+1})^(1−α) e^P",
        claim="p ∝ D^(α−1) exp(−Σ ΔU/D_f) is the discrete null vector for Itô, Stratonovich "
              "and isothermal conventions",
        method=f"FokkerPlanck(potential, state-dependent D).stationary() on {n} cells",
        reference_method="independent cumulative sum of −ΔU/D_f (log mean) in long double; "
                         "its residual under fpsolve's generator",
        tolerance_note="round-off only: the discrete state is exact",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig))


@case(paper=PAPER, name="discrete_gibbs_2d")
def discrete_gibbs_2d(ctx):
    """2D, D affine in U: the continuum state D^(−1−1/c) is the exact discrete null vector."""
    n = ctx.pick(quick=80, full=400)
    grid = fp.Grid([(-2.5, 2.5), (-2.5, 2.5)], n)
    a, c = 0.2, 0.1

    def U(x, y):
        return (x ** 2 - 1) ** 2 / 4 + y ** 2 / 2 + 0.3 * x * y

    def D(x, y):
        return a + c * U(x, y)

    # For D = a + cU the log-mean face diffusion makes −ΔU/D_f = −log(D₂/D₁)/c exactly, so the
    # Itô state p ∝ D⁻¹ exp(−∫∇U/D) = D^(−1−1/c) holds cell by cell with no discretisation error.
    Dc = D(*grid.coords)
    ref = normalise_log(-(1.0 + 1.0 / c) * np.log(Dc), grid.cell_volume)
    model = fp.FokkerPlanck(grid, potential=U, diffusion=D)
    res = generator_residual(model.generator(), ref)
    p = model.stationary()
    q = model.stationary(method="solve")
    span = float(np.log(ref.max() / ref.min()))
    e_db, e_solve = max_rel(p.values, ref), max_rel(q.values, ref)
    fig, (ax, ax2) = ctx.figure(1, 2)
    p.plot(ax=ax, log=True)
    ax.set_title("fpsolve stationary (log10)")
    im = ax2.imshow(np.log10(np.abs(p.values / ref - 1) + 1e-18).T, origin="lower",
                    extent=[-2.5, 2.5, -2.5, 2.5], aspect="auto")
    fig.colorbar(im, ax=ax2, label="log10 |p/p_ref − 1|")
    ax2.set_title("relative difference")
    return Case(
        title="2D: the exact discrete Gibbs state (D affine in U) is stationary to round-off",
        equation="Conventions: zero-flux state, p ∝ D⁻¹ exp(−∫∇U/D)",
        claim="for D = a + cU the continuum p ∝ D^(−1−1/c) is the discrete null vector",
        method=f"FokkerPlanck on {n}×{n} cells: stationary() (closed form) and "
               f"stationary(method='solve') (pinned sparse solve)",
        reference_method="the continuum closed form sampled at the cell centres (exact for the "
                         "log-mean face diffusion when D is affine in U)",
        tolerance_note="round-off only; the solve route carries cond(L)·ε",
        checks=[
            Check("‖L p_ref‖", res, reference=0.0, atol=residual_tol(span), why=RESIDUAL_WHY),
            Check("stationary() vs reference", e_db, reference=0.0, atol=1e-13 * max(1, span),
                  why="ε·(log-range of p) from the comb sum"),
            Check("stationary(method='solve') vs reference", e_solve, reference=0.0,
                  atol=1e-9, why="direct LU: relative error ≈ cond ε ≈ n²ε ≪ 1e-9"),
        ],
        numbers={"n": n, "a": a, "c": c, "residual": res, "log-range of p": span,
                 "max rel. diff (closed form)": e_db, "max rel. diff (solve)": e_solve,
                 "detailed_balance_defect": p.info.get("detailed_balance_defect")},
        figure=ctx.save_figure(fig, dpi=90))


@case(paper=PAPER, name="discrete_gibbs_3d")
def discrete_gibbs_3d(ctx):
    """3D, constant D: exp(−U/D) at the cell centres is the exact discrete null vector."""
    n = ctx.pick(quick=32, full=96)
    # the linear-solve route: "auto" takes AMG-preconditioned GMRES beyond 2.5·10³ cells in 3D
    n_solve = ctx.pick(quick=20, full=64)
    D = 0.3

    def U(x, y, z):
        return (x ** 2 - 1) ** 2 / 4 + y ** 2 / 2 + z ** 2 / 2 + 0.3 * x * y

    def reference(grid):
        u = U(*grid.coords)
        return normalise_log(-u / D, grid.cell_volume)

    grid = fp.Grid([(-2.5, 2.5)] * 3, n)
    model = fp.FokkerPlanck(grid, potential=U, diffusion=D)
    ref = reference(grid)
    res = generator_residual(model.generator(), ref)
    p = model.stationary()
    span = float(np.log(ref.max() / ref.min()))
    e_db = max_rel(p.values, ref)
    small = fp.Grid([(-2.5, 2.5)] * 3, n_solve)
    q = fp.FokkerPlanck(small, potential=U, diffusion=D).stationary(method="solve")
    e_solve = max_rel(q.values, reference(small))
    fig, (ax, ax2) = ctx.figure(1, 2)
    p.plot(ax=ax, log=True)
    ax.set_title("fpsolve stationary, middle z-slice (log10)")
    mid = n // 2
    ax2.semilogy(grid.axes[0], ref[:, mid, mid], label="exp(−U/D)")
    ax2.semilogy(grid.axes[0], p.values[:, mid, mid], "--", label="fpsolve")
    ax2.set(xlabel="x (y, z at the middle cell)", ylabel="p")
    ax2.legend()
    return Case(
        title="3D: the Gibbs state exp(−U/D) is stationary to round-off",
        equation="Conventions: constant D gives Gibbs, p∞ ∝ exp(−U/D)",
        claim="exp(−U/D) sampled at the cell centres is the discrete null vector",
        method=f"FokkerPlanck on {n}³ cells: stationary() (closed form); "
               f"stationary(method='solve') on {n_solve}³ cells",
        reference_method="closed form exp(−U/D) at the cell centres (exact for constant D)",
        tolerance_note="round-off only",
        checks=[
            Check("‖L p_ref‖", res, reference=0.0, atol=residual_tol(span), why=RESIDUAL_WHY),
            Check("stationary() vs exp(−U/D)", e_db, reference=0.0, atol=1e-13 * max(1, span),
                  why="ε·(log-range of p) from the comb sum"),
            Check(f"stationary(method='solve') vs exp(−U/D) ({n_solve}³)", e_solve,
                  reference=0.0, atol=1e-9,
                  why="AMG-GMRES stopped at backward error ~100ε: error ≲ cond·100ε ≈ 1e-11"),
        ],
        numbers={"n": n, "n_solve": n_solve, "D": D, "residual": res, "log-range of p": span,
                 "max rel. diff (closed form)": e_db, "max rel. diff (solve)": e_solve},
        figure=ctx.save_figure(fig, dpi=90))


# ---------------------------------------------------------------------------------------------
# 1D state-dependent stationary density against quadrature
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="stationary_state_dependent_1d")
def stationary_state_dependent_1d(ctx):
    """1D stationary density with state-dependent D against scipy quadrature, all conventions."""
    n = ctx.pick(quick=400, full=4000)
    lo, hi = -2.5, 2.5
    grid = fp.Grid([(lo, hi)], n)
    x = grid.axes[0]
    h = float(grid.h[0])

    def U(x):
        return (x ** 2 - 1) ** 2 / 4

    def dU(x):
        return x ** 3 - x

    def D(x):
        return 0.05 * (1 + x ** 2)

    # Φ(x) = ∫₀ˣ U′/D by adaptive quadrature between consecutive cell centres (cumulative)
    def integrand(s):
        return dU(s) / D(s)

    i0 = n // 2  # Φ = 0 at the centre of cell i0
    steps = np.array([si.quad(integrand, x[i], x[i + 1], epsabs=1e-12, epsrel=1e-12)[0]
                      for i in range(n - 1)])
    phi = np.concatenate([[0.0], np.cumsum(steps)])
    phi -= phi[i0]

    def phi_at(s):
        return si.quad(integrand, x[i0], s, epsabs=1e-12, epsrel=1e-12)[0]

    checks, numbers, curves = [], {"n": n}, {}
    for conv, alpha in ALPHAS.items():
        def weight(s, alpha=alpha):  # D^(α−1) e^(−Φ): the zero-flux law
            return D(s) ** (alpha - 1.0) * np.exp(-phi_at(s))

        kw = dict(epsabs=0, epsrel=1e-11, limit=200, points=[-1.0, 0.0, 1.0])
        Z = si.quad(weight, lo, hi, **kw)[0]
        var_ref = si.quad(lambda s: s * s * weight(s), lo, hi, **kw)[0] / Z
        ref = D(x) ** (alpha - 1.0) * np.exp(-phi) / Z
        p = fp.FokkerPlanck(grid, potential=U, diffusion=D, convention=conv).stationary()
        err = max_rel(p.values, ref)
        mean, var = float(p.mean()[0]), p.var()
        numbers.update({f"{conv}: max rel. density error": err, f"{conv}: variance": var,
                        f"{conv}: variance (quadrature)": var_ref, f"{conv}: mean": mean})
        # O(h²) from the log-mean face diffusion and the midpoint normalisation; the scale is
        # set by the narrowest feature, the well width ℓ = sqrt(D(1)/U″(1)) ≈ 0.22.
        ell = np.sqrt(D(1.0) / 2.0)
        tol = (h / ell) ** 2
        checks += [
            Check(f"density at cell centres ({conv})", err, reference=0.0, atol=tol,
                  why=f"O(h²): (h/ℓ)² = {tol:.2g}, ℓ the well width"),
            Check(f"variance ({conv})", var, reference=var_ref, rtol=tol / 4,
                  why=f"O(h²) relative: (h/ℓ)²/4 = {tol / 4:.2g}"),
            Check(f"mean ({conv})", mean, reference=0.0, atol=1e-12,
                  why="symmetric U and D: the discrete state is symmetric to round-off"),
        ]
        curves[conv] = (p.values, ref)
    fig = plot_per_convention(ctx, x, curves, reference="quadrature", logy=False,
                              title="U = (x²−1)²/4, D = 0.05(1+x²)",
                              error_ylabel="|p/p_ref − 1|", error_title="relative error")
    return Case(
        title="1D stationary density with state-dependent D vs quadrature",
        equation="Conventions: p∞ ∝ D^(α−1) exp(−∫U′/D) (α = 0: Itô, SGD)",
        claim="fpsolve's stationary state converges to D^(α−1)exp(−∫U′/D) in each convention",
        method=f"FokkerPlanck(potential, D = 0.05(1+x²), convention).stationary() on {n} cells",
        reference_method="Φ = ∫U′/D by scipy.integrate.quad between cell centres; normaliser "
                         "and variance by nested quad",
        tolerance_note="O(h²) discretisation, scaled by the well width",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig))
