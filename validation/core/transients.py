"""Transients: mass conservation and positivity, the Ornstein–Uhlenbeck spectrum and moments in
closed form, and observed orders in space and time on the Cox–Ingersoll–Ross process."""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla

import fpsolve as fp

from ..framework import Case, Check
from ..registry import case
from .common import PAPER, observed_order


# ---------------------------------------------------------------------------------------------
# mass conservation and positivity
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="mass_conservation")
def mass_conservation(ctx):
    """Mass is conserved to round-off over 1000 implicit steps (non-gradient drift, 2D)."""
    n = ctx.pick(quick=48, full=128)
    steps = 1000
    T = 10.0
    grid = fp.Grid([(-2.5, 2.5), (-2.5, 2.5)], n)
    omega = 1.5

    def drift(x, y):  # gradient part plus a rotation: a circulating, non-reversible flow
        return (-(x ** 3 - x) - omega * y, -y + omega * x)

    def D(x, y):
        return 0.1 + 0.05 * x ** 2

    model = fp.FokkerPlanck(grid, drift=drift, diffusion=D)

    def p0(x, y):
        return np.exp(-((x - 1.5) ** 2 + y ** 2) / 0.02)

    times = np.linspace(T / 20, T, 20)
    runs = {s: model.evolve(p0, times, scheme=s, dt=T / steps)
            for s in ("tr-bdf2", "backward-euler")}
    checks = []
    numbers = {"n": n, "steps": steps, "T": T, "omega": omega}
    for s, r in runs.items():
        drift_mass = float(np.max(np.abs(r.mass - 1.0)))
        numbers[f"{s}: max |mass − 1|"] = drift_mass
        numbers[f"{s}: steps"] = r.steps
        numbers[f"{s}: min density"] = r.min_value
        checks.append(Check(f"max |mass − 1| ({s})", drift_mass, reference=0.0, atol=1e-12,
                            why="zero column sums: each solve conserves mass up to ~ε; 1000 "
                                "steps × 1e-15"))
    neg = max(0.0, -runs["backward-euler"].min_value)
    checks.append(Check("largest negative density (backward Euler)", neg, reference=0.0,
                        atol=0.0, why="(I − ΔtL)⁻¹ is a non-negative matrix (M-matrix): "
                                      "exactly no negative values"))
    fig, (ax, ax2) = ctx.figure(1, 2)
    for s, r in runs.items():
        ax.semilogy(r.times, np.abs(r.mass - 1) + 1e-18, "o-", label=s)
    ax.axhline(1e-12, color="k", ls=":", label="tolerance")
    ax.set(xlabel="t", ylabel="|mass − 1| + 1e-18", title=f"{steps} steps, {n}×{n} cells")
    ax.legend()
    runs["tr-bdf2"].densities[-1].plot(ax=ax2)
    ax2.set_title(f"density at t = {T:g} (TR-BDF2)")
    return Case(
        title="Mass conservation over 1000 implicit steps; positivity of backward Euler",
        equation="Conventions, numerics: SG fluxes conserve mass and keep densities positive",
        claim="the generator has zero column sums (mass) and is an M-matrix (positivity)",
        method=f"evolve(..., scheme=tr-bdf2 | backward-euler, dt=T/{steps}), drift with a "
               f"rotation ω={omega}, D = 0.1 + 0.05x², on {n}×{n} cells",
        reference_method="exact: mass 1 at every time, no negative values (BE)",
        tolerance_note="round-off accumulated over 1000 solves",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig, dpi=90))


# ---------------------------------------------------------------------------------------------
# Ornstein–Uhlenbeck: spectrum and transients in closed form
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="ou_eigenvalues")
def ou_eigenvalues(ctx):
    """OU eigenvalues λ_n = n·k (1D) and n₁k₁ + n₂k₂ (2D)."""
    n1 = ctx.pick(quick=400, full=4000)
    n2 = ctx.pick(quick=100, full=300)
    k, D, m = 1.0, 0.5, 6
    sigma = np.sqrt(D / k)
    half = 10 * sigma
    g1 = fp.Grid([(-half, half)], n1)
    lam1 = fp.FokkerPlanck(g1, potential=lambda x: k * x ** 2 / 2, diffusion=D).eigenvalues(m + 1)
    exact1 = k * np.arange(m + 1)
    h1 = float(g1.h[0])
    # 2D anisotropic: eigenvalues n₁k₁ + n₂k₂
    k2 = (1.0, 2.5)
    s2 = np.sqrt(D / min(k2))
    g2 = fp.Grid([(-8 * s2, 8 * s2), (-8 * s2, 8 * s2)], n2)
    lam2 = fp.FokkerPlanck(g2, potential=lambda x, y: (k2[0] * x ** 2 + k2[1] * y ** 2) / 2,
                           diffusion=D).eigenvalues(m + 1)
    exact2 = np.sort([a * k2[0] + b * k2[1] for a in range(8) for b in range(8)])[:m + 1]
    # Leading error of the SG discretisation of OU: ≈ (n+1) h²/(12σ²) relative for mode n.
    tol1 = (h1 / sigma) ** 2
    h2 = float(g2.h[0])
    tol2 = (h2 / np.sqrt(D / max(k2))) ** 2
    fig, ax = ctx.figure()
    ax.plot(exact1[1:], np.abs(lam1[1:] / exact1[1:] - 1), "o-", label=f"1D, {n1} cells")
    ax.plot(exact2[1:], np.abs(lam2[1:] / exact2[1:] - 1), "s-", label=f"2D, {n2}² cells")
    ax.axhline(tol1, ls=":", color="C0")
    ax.axhline(tol2, ls=":", color="C1")
    ax.set(yscale="log", xlabel="exact eigenvalue", ylabel="relative error",
           title="OU spectrum: λ = Σ nᵢkᵢ")
    ax.legend()
    return Case(
        title="Ornstein–Uhlenbeck spectrum λ_n = n·k",
        equation="OU generator: −L has eigenvalues Σ nᵢ kᵢ (Hermite functions)",
        claim="λ_n = n k (1D), n₁k₁ + n₂k₂ (2D), independent of D",
        method=f"FokkerPlanck.eigenvalues({m + 1}) on {n1} cells (1D, ±10σ) and {n2}² cells "
               f"(2D, ±8σ)",
        reference_method="closed form",
        tolerance_note="O(h²) discretisation error; tolerance (h/σ)² bounds (n+1)h²/(12σ²) "
                       "for n ≤ 6",
        checks=[
            Check("λ₀…λ₆ (1D)", lam1, reference=exact1, rtol=tol1, atol=1e-9,
                  why=f"O(h²): (h/σ)² = {tol1:.2g}; λ₀ = 0 to 1e-9"),
            Check("λ₀…λ₆ (2D)", lam2, reference=exact2, rtol=tol2, atol=1e-9,
                  why=f"O(h²) with the narrower σ: (h/σ)² = {tol2:.2g}"),
        ],
        numbers={"n_1d": n1, "n_2d": n2, "k": k, "k_2d": k2, "D": D, "lambda_1d": lam1,
                 "lambda_2d": lam2, "exact_1d": exact1, "exact_2d": exact2},
        figure=ctx.save_figure(fig))


def _ou_moments(m0, v0, k, D, t):
    """Closed-form OU mean and variance from initial mean m0 and variance v0."""
    e = np.exp(-k * np.asarray(t))
    return m0 * e, D / k + (v0 - D / k) * e ** 2


@case(paper=PAPER, name="ou_transient")
def ou_transient(ctx):
    """OU transient mean and variance against the closed form (TR-BDF2)."""
    n = ctx.pick(quick=400, full=2000)
    dt = ctx.pick(quick=2e-3, full=4e-4)
    k, D = 1.0, 0.5
    sigma = np.sqrt(D / k)
    half = 10 * sigma
    grid = fp.Grid([(-half, half)], n)
    model = fp.FokkerPlanck(grid, potential=lambda x: k * x ** 2 / 2, diffusion=D)
    p0 = model.density(lambda x: np.exp(-(x - 2.0) ** 2 / (2 * 0.05)))
    # the discrete initial moments: the moment ODEs hold for any initial law, so the reference
    # carries no error from sampling the initial Gaussian on the grid
    m0, v0 = float(p0.mean()[0]), p0.var()
    times = np.array([0.1, 0.25, 0.5, 1.0, 2.0, 4.0])
    run = model.evolve(p0, times, scheme="tr-bdf2", dt=dt)
    mean = np.array([d.mean()[0] for d in run.densities])
    var = np.array([d.var() for d in run.densities])
    m_ref, v_ref = _ou_moments(m0, v0, k, D, times)
    h = float(grid.h[0])
    # errors: O(h²) in space (relative to σ²; the constant is ≈ 0.2 here) plus O(Δt²) in time
    # (relative to the rate k); the tolerance bounds the space term by (h/σ)²/2
    tol = (h / sigma) ** 2 / 2 + (k * dt) ** 2
    fine = np.linspace(0, times[-1], 200)
    mf, vf = _ou_moments(m0, v0, k, D, fine)
    fig, (ax, ax2) = ctx.figure(1, 2)
    ax.plot(fine, mf, label="closed form")
    ax.plot(times, mean, "o", label="fpsolve")
    ax.set(xlabel="t", ylabel="mean")
    ax.legend()
    ax2.plot(fine, vf, label="closed form")
    ax2.plot(times, var, "o", label="fpsolve")
    ax2.set(xlabel="t", ylabel="variance")
    ax2.legend()
    return Case(
        title="Ornstein–Uhlenbeck transient mean and variance",
        equation="OU: m(t) = m₀e^{−kt}, v(t) = D/k + (v₀ − D/k)e^{−2kt}",
        claim="the moments of the discrete evolution follow the closed form",
        method=f"evolve(scheme='tr-bdf2', dt={dt:g}) on {n} cells, from N(2, 0.05)",
        reference_method="closed-form moments from the discrete initial mean and variance",
        tolerance_note="O(h²) space + O(Δt²) time",
        checks=[
            Check("mean(t)", mean, reference=m_ref, atol=tol * sigma,
                  why=f"(h/σ)²/2 + (kΔt)² = {tol:.2g}, times σ"),
            Check("variance(t)", var, reference=v_ref, atol=tol * sigma ** 2,
                  why=f"(h/σ)²/2 + (kΔt)² = {tol:.2g}, times σ²"),
        ],
        numbers={"n": n, "dt": dt, "k": k, "D": D, "m0": m0, "v0": v0, "times": times,
                 "mean": mean, "var": var, "mean_ref": m_ref, "var_ref": v_ref,
                 "max mass error": float(np.max(np.abs(run.mass - 1)))},
        figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# observed orders of accuracy
# ---------------------------------------------------------------------------------------------
# Cox–Ingersoll–Ross: dX = a(b − X) dt + σ √X dW, i.e. D(x) = σ²x/2 (state-dependent, Itô), with
# closed-form mean and variance for any initial law. 2ab/σ² = 5.6 > 1: X never reaches 0, and the
# density vanishes like x^4.6 at the wall.
CIR = {"a": 1.0, "b": 1.0, "sigma": 0.6, "upper": 6.0, "T": 0.7, "x0": 2.0, "s0": 0.15}


def _cir_model(n, convention="ito"):
    c = CIR
    grid = fp.Grid([(0.0, c["upper"])], n)
    return fp.FokkerPlanck(grid, potential=lambda x: c["a"] * (x - c["b"]) ** 2 / 2,
                           diffusion=lambda x: c["sigma"] ** 2 * x / 2, convention=convention)


def _cir_p0(model):
    c = CIR
    return model.density(lambda x: np.exp(-(x - c["x0"]) ** 2 / (2 * c["s0"] ** 2)))


def _cir_moments(m0, v0, t):
    """CIR mean and variance at t from initial mean m0 and variance v0 (Itô moment ODEs)."""
    a, b, s = CIR["a"], CIR["b"], CIR["sigma"]
    e = np.exp(-a * t)
    mean = b + (m0 - b) * e
    var = v0 * e ** 2 + s ** 2 * b * (1 - e ** 2) / (2 * a) + s ** 2 * (m0 - b) * e * (1 - e) / a
    return mean, var


def _exact_in_time(model, p0, T):
    """p(T) = exp(T L) p0 by a dense matrix exponential: a second, time-exact method."""
    return sla.expm(model.generator().toarray() * T) @ p0.values.ravel()


@case(paper=PAPER, name="spatial_order")
def spatial_order(ctx):
    """Second order in space with state-dependent D (CIR transient mean and variance)."""
    sizes = ctx.pick(quick=[100, 200, 400], full=[200, 400, 800, 1600])
    T = CIR["T"]
    err_m, err_v, hs = [], [], []
    for n in sizes:
        model = _cir_model(n)
        p0 = _cir_p0(model)
        m0, v0 = float(p0.mean()[0]), p0.var()
        pT = fp.Density(model.grid, _exact_in_time(model, p0, T))
        m_ref, v_ref = _cir_moments(m0, v0, T)
        err_m.append(abs(pT.mean()[0] - m_ref))
        err_v.append(abs(pT.var() - v_ref))
        hs.append(float(model.grid.h[0]))
    order_m, order_v = observed_order(hs, err_m), observed_order(hs, err_v)
    fig, ax = ctx.figure()
    ax.loglog(hs, err_m, "o-", label=f"|mean error|, order {order_m:.2f}")
    ax.loglog(hs, err_v, "s-", label=f"|variance error|, order {order_v:.2f}")
    ax.loglog(hs, err_m[0] * (np.array(hs) / hs[0]) ** 2, "k:", label="slope 2")
    ax.set(xlabel="h", ylabel="error at t = T", title="CIR, D = σ²x/2: spatial convergence")
    ax.legend()
    return Case(
        title="Observed spatial order 2 with state-dependent D",
        equation="flux.py: SG flux with log-mean D_f is second order for smooth coefficients",
        claim="errors of transient moments scale as h²",
        method=f"CIR (a={CIR['a']}, b={CIR['b']}, σ={CIR['sigma']}, D = σ²x/2) on [0, "
               f"{CIR['upper']}], cells {sizes}, evolved exactly in time (dense expm of L)",
        reference_method="closed-form CIR mean and variance at T from the discrete initial "
                         "moments",
        tolerance_note="observed orders from a least-squares fit; ±0.15 allows the "
                       "pre-asymptotic curvature of the coarsest grids",
        checks=[
            Check("observed order (mean)", order_m, reference=2.0, atol=0.15,
                  why="second-order scheme; fit over a factor 4–8 in h"),
            Check("observed order (variance)", order_v, reference=2.0, atol=0.15,
                  why="second-order scheme; fit over a factor 4–8 in h"),
        ],
        numbers={"sizes": sizes, "h": hs, "mean errors": err_m, "variance errors": err_v,
                 "order mean": order_m, "order variance": order_v, **CIR},
        figure=ctx.save_figure(fig))


@case(paper=PAPER, name="temporal_order")
def temporal_order(ctx):
    """Temporal orders: backward Euler 1, TR-BDF2 2 (against the exact exponential)."""
    n = ctx.pick(quick=200, full=400)
    steps = ctx.pick(quick=[10, 20, 40, 80], full=[10, 20, 40, 80, 160, 320])
    T = CIR["T"]
    model = _cir_model(n)
    p0 = _cir_p0(model)
    exact = _exact_in_time(model, p0, T)
    h = float(model.grid.h[0])
    errs = {}
    for scheme in ("backward-euler", "tr-bdf2"):
        errs[scheme] = [float(np.abs(model.evolve(p0, [T], scheme=scheme, dt=T / s)
                                     .densities[-1].values.ravel() - exact).sum() * h)
                        for s in steps]
    dts = [T / s for s in steps]
    orders = {s: observed_order(dts, e) for s, e in errs.items()}
    fig, ax = ctx.figure()
    for s, e in errs.items():
        ax.loglog(dts, e, "o-", label=f"{s}: order {orders[s]:.2f}")
    ax.set(xlabel="Δt", ylabel="L¹ error at T vs exp(TL)p₀", title="temporal convergence (CIR)")
    ax.legend()
    return Case(
        title="Observed temporal orders: backward Euler 1, TR-BDF2 2",
        equation="timestepping.py: backward Euler O(Δt), TR-BDF2 O(Δt²)",
        claim="the L¹ error at fixed T scales as Δt (BE) and Δt² (TR-BDF2)",
        method=f"evolve(scheme=…, dt=T/m), m = {steps}, CIR on {n} cells",
        reference_method="exp(T L) p₀ by scipy.linalg.expm on the same grid (time-exact)",
        tolerance_note="least-squares slope over a factor 8–32 in Δt; ±0.1",
        checks=[
            Check("observed order (backward Euler)", orders["backward-euler"], reference=1.0,
                  atol=0.1, why="first order; fit over a factor ≥ 8 in Δt"),
            Check("observed order (TR-BDF2)", orders["tr-bdf2"], reference=2.0, atol=0.1,
                  why="second order; fit over a factor ≥ 8 in Δt"),
        ],
        numbers={"n": n, "steps": steps, "dt": dts, "errors backward-euler": errs["backward-euler"],
                 "errors tr-bdf2": errs["tr-bdf2"], "orders": orders, "T": T},
        figure=ctx.save_figure(fig))
