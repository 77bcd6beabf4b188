"""SGD with momentum as underdamped Langevin dynamics: the kinetic Fokker–Planck equation in
phase space. Each case compares fpsolve.kinetic with a reference computed here — a
closed form, a quadrature, or a second method (particles, the overdamped solver) — and with the
classical asymptotic formulas (Kramers 1940 in every friction regime; Mel'nikov & Meshkov 1986),
whose own errors go into the claim tolerances.

Conventions: unit mass, dX = V dt, dV = −γV dt − U′ dt + sqrt(2γT(X)) dW — Itô, though here all
conventions coincide (the noise amplitude depends on X, which has no noise of its own). Heavy
ball v ← βv − η ĝ, θ ← θ + v maps to γ = (1 − β)/√η, T = ηΣ₁/(2B(1 − β)), t = k√η
(:mod:`fpsolve.kinetic.mapping`). The double well U = (x² − 1)²/4 has ω_a = √2, ω_b = 1,
ΔU = ¼ and the action I(E_b) = 4/3 of the orbit at the barrier energy.
"""
from __future__ import annotations

import numpy as np

import fpsolve as fp
from fpsolve import compare
from fpsolve.kinetic import Langevin, mapping, particles, theory
from fpsolve.particles import potentials
from fpsolve.theory.quadrature import mfpt_1d, stationary_density_1d

from .framework import Case, Check
from .registry import case

PAPER = "kinetic"
U_DW = lambda x: (x ** 2 - 1) ** 2 / 4     # noqa: E731
dU_DW = lambda x: x ** 3 - x               # noqa: E731
W_A, W_B, DU, ACTION = np.sqrt(2.0), 1.0, 0.25, 4.0 / 3.0
EPS = np.finfo(float).eps


def _gibbs_log(x, v, T, U=U_DW):
    """log exp(−(U(x) + v²/2)/T) on the cell centres, computed here from the formula."""
    return -(U(x)[:, None] + v[None, :] ** 2 / 2) / T


def _observed_order(h, err):
    return float(np.polyfit(np.log(h), np.log(err), 1)[0])


# ---------------------------------------------------------------------------------------------
# 1. exact discrete Gibbs state and mass conservation
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="discrete_gibbs_and_mass")
def discrete_gibbs_and_mass(ctx):
    """Constant T: the discrete Gibbs state is stationary to round-off; mass is conserved."""
    n = ctx.pick(quick=96, full=512)
    T = 0.1
    grid = fp.Grid([(-2.4, 2.4), (-1.9, 1.9)], n)
    x, v = grid.axes
    ref = _gibbs_log(x, v, T)
    pi = np.exp(ref - ref.max())
    checks, numbers = [], {"n": n, "T": T}
    curves = {}
    for scheme in ("central", "upwind"):
        for gamma in (0.05, 1.0, 20.0):
            m = Langevin(grid, U_DW, friction=gamma, temperature=T, scheme=scheme)
            L = m.generator()
            res = float(np.abs(L @ pi.ravel()).max() / np.abs(L.diagonal()).max())
            p = m.stationary()
            err = float(np.max(np.abs(p.values / p.values.max() - pi)))
            cols = float(np.abs(np.asarray(L.sum(axis=0))).max() / np.abs(L.diagonal()).max())
            tag = f"{scheme}, γ = {gamma:g}"
            numbers[f"residual ({tag})"] = res
            checks += [
                Check(f"‖L π‖/max rate ({tag})", res, reference=0.0, atol=100 * EPS,
                      why="round-off: each row sums a handful of rates times π"),
                Check(f"stationary() vs π ({tag})", err, reference=0.0, atol=1e-13,
                      why="closed form exp(log π): ε·(log-range of π) ≈ 60 ε"),
                Check(f"column sums / max rate ({tag})", cols, reference=0.0, atol=100 * EPS,
                      why="mass: every flux leaves one cell and enters another"),
            ]
        # mass along an evolution from a point-like start (TR-BDF2, one LU reused)
        p0 = lambda x, v: np.exp(-((x + 1.2) ** 2 + (v - 0.6) ** 2) / 0.02)  # noqa: E731
        run = m.evolve(p0, [0.5, 2.0, 8.0], dt=0.1)
        drift = float(np.max(np.abs(run.mass - 1.0)))
        numbers[f"evolve mass drift ({scheme})"] = drift
        numbers[f"evolve min value ({scheme})"] = float(run.min_value)
        solves = 2 * run.steps
        tol = solves * np.sqrt(grid.size) * EPS
        checks.append(Check(f"mass during evolve ({scheme})", drift, reference=0.0, atol=tol,
                            why=f"zero column sums: only round-off, each of the {solves} sparse "
                                f"solves adding ≲ √N ε (measured 2.7e-12 at 512², 320 solves)"))
        curves[scheme] = run
    fig, (a1, a2) = ctx.figure(1, 2)
    im = a1.imshow(np.log10(pi.T + 1e-300), origin="lower", aspect="auto",
                   extent=[*grid.bounds[0], *grid.bounds[1]], vmin=-12)
    fig.colorbar(im, ax=a1, label="log10 π")
    a1.set(xlabel="x", ylabel="v", title="discrete Gibbs state")
    for scheme, run in curves.items():
        px = [d.values.sum(axis=1) * grid.h[1] for d in run.densities]
        for t, q in zip(run.times, px):
            a2.plot(x, q, label=f"{scheme}, t = {t:g}")
    a2.set(xlabel="x", ylabel="density of X", title="evolution (γ = 20)")
    a2.legend(fontsize=6)
    return Case(
        title="Discrete Gibbs state exactly stationary; mass conserved to round-off",
        equation="fpsolve.kinetic.scheme: stream-function fluxes, Ψ = −T exp(−H/T) on corners",
        claim="L π = 0 for π_ij = exp(−(U(x_i) + v_j²/2)/T), columns of L sum to 0, for both "
              "schemes and every friction",
        method=f"Langevin(...).generator() and .stationary() on {n}², double well, T = {T}; "
               f"evolve by TR-BDF2",
        reference_method="π computed here from U and the cell centres",
        tolerance_note="round-off only",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# 2. kinetic Ornstein–Uhlenbeck spectrum
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="ou_spectrum")
def ou_spectrum(ctx):
    """Kinetic OU: eigenvalues n μ₊ + m μ₋, real (γ > 2ω) and complex (γ < 2ω), second order."""
    sizes = ctx.pick(quick=(64, 128), full=(128, 256))
    omega, T = 1.0, 1.0
    checks, numbers = [], {"sizes": list(sizes)}
    fig, axes = ctx.figure(1, 2)
    for ax, (gamma, n_search) in zip(axes, ((3.0, 8), (0.5, 16))):
        ref = theory.kinetic_ou_eigenvalues(omega, gamma, 6)
        errs = []
        for n in sizes:
            m = Langevin(fp.Grid([(-6.5, 6.5), (-6.5, 6.5)], n), lambda x: 0.5 * x ** 2,
                         friction=gamma, temperature=T)
            ev = m.eigenvalues(6, n_search=n_search)
            errs.append(np.array([np.min(np.abs(ev - r)) for r in ref]))
        # order from the three slowest non-zero rates (the faster ones are pre-asymptotic on the
        # coarse grid: measured 1.7 for λ₅ from 64² to 128², → 2 beyond)
        order = _observed_order(13.0 / np.asarray(sizes), [e[1:4].max() for e in errs])
        regime = "real" if gamma > 2 * omega else "complex"
        numbers[f"γ = {gamma}: eigenvalues"] = ev
        numbers[f"γ = {gamma}: max error per grid"] = [float(e.max()) for e in errs]
        numbers[f"γ = {gamma}: observed order"] = order
        h = 13.0 / sizes[-1]
        tol = 0.5 * h * h
        checks += [
            Check(f"{regime} regime (γ = {gamma}): max error of the six slowest rates",
                  float(errs[-1].max()), reference=0.0, atol=tol,
                  why=f"each exact n μ₊ + m μ₋ against the nearest computed eigenvalue; "
                      f"O(h²): measured ≈ 0.2 h² (tolerance 0.5 h², h = {h:.3g})"),
            Check(f"{regime} regime: observed order", order, reference=2.0, atol=0.3,
                  why="second-order scheme; pre-asymptotic spread ±0.3"),
        ]
        ax.plot(ref.real, ref.imag, "o", mfc="none", ms=9, label="n μ₊ + m μ₋")
        ax.plot(ev.real, ev.imag, "x", label=f"fpsolve {sizes[-1]}²")
        ax.set(xlabel="Re λ", ylabel="Im λ", title=f"γ = {gamma} ({regime})")
        ax.legend(fontsize=7)
    return Case(
        title="Kinetic Ornstein–Uhlenbeck spectrum in the real and complex regimes",
        equation="Risken, The Fokker–Planck Equation, §10.2",
        claim="the eigenvalues of −L are n μ₊ + m μ₋, μ± = γ/2 ± sqrt(γ²/4 − ω²), n, m ≥ 0",
        method=f"Langevin(U = x²/2).eigenvalues(6) (shift-invert ARPACK) on {sizes} grids, "
               f"box ±6.5 (6.5 σ)",
        reference_method="closed form",
        tolerance_note="second order in h (measured orders reported)",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# 3. Kramers' rate across friction
# ---------------------------------------------------------------------------------------------
def _box(T):
    """x-box from beyond the left well's Gibbs tail to just past the target x ≥ 1 (a face),
    v-box ±(barrier speed + 6 thermal velocities)."""
    vmax = float(np.sqrt(2 * (DU + 8 * T)) + 2 * np.sqrt(T))
    lo = -float(np.sqrt(1 + 2 * np.sqrt(30 * T)))   # U(lo) = 7.5 T above the barrier level
    return lo, vmax


def _mfpt_well(gamma, T, nx, nv):
    """E τ from the bottom of the left well (x = −1, v = 0) to x ≥ 1 (the other minimum)."""
    lo, vmax = _box(T)
    h = (1.0 - lo) / (nx - 8)           # x = 1 is the face after nx − 8 cells
    grid = fp.Grid([(lo, lo + nx * h), (-vmax, vmax)], (nx, nv))
    m = Langevin(grid, U_DW, friction=gamma, temperature=T)
    tau = m.mean_first_passage_time(lambda x: x >= 1.0)
    return float(tau.at((-1.0, 0.0))), tau.info


@case(paper=PAPER, name="kramers_friction")
def kramers_friction(ctx):
    """Kramers' escape rate from low to high friction on the double well, against the
    moderate-to-high friction formula, the Smoluchowski limit, the energy-diffusion (turnover)
    formula, with the ratios → 1 as T → 0 where each applies."""
    checks, numbers = [], {}
    # (a) moderate friction γ = 1: Kramers (1940); correction O(T)
    Ts = ctx.pick(quick=(0.05, 0.025), full=(0.05, 0.025, 0.0125))
    nK = ctx.pick(quick=(128, 96), full=(384, 256))
    dev = []
    for T in Ts:
        tau, info = _mfpt_well(1.0, T, *nK)
        r = tau * float(theory.kramers_rate(1.0, W_A, W_B, DU, T))
        dev.append(r - 1)
        numbers[f"γ=1, T={T}: τ·k_Kramers"] = r
        numbers[f"γ=1, T={T}: balance defect"] = info["balance_defect"]
        checks.append(Check(f"τ·k_Kramers at γ = 1, T = {T}", r, printed=1.0,
                            claim_rtol=2.0 * T,
                            why="Kramers' rate is the T → 0 limit; measured correction "
                                "≈ 1.2 T (Laplace corrections)"))
    checks.append(Check("Kramers deviation ratio (T/2 against T)", dev[-1] / dev[-2],
                        printed=0.5, claim_atol=0.3,
                        why="O(T) correction: halving T halves it, up to O(T²)"))
    # (b) high friction: the overdamped equation with D = T in time t/γ (Smoluchowski)
    gammas = ctx.pick(quick=(6.0, 12.0), full=(6.0, 12.0, 24.0))
    T = 0.1
    for g in gammas:
        tau, _ = _mfpt_well(g, T, *ctx.pick(quick=(200, 64), full=(560, 160)))
        lo, _ = _box(T)
        od = g * mfpt_1d(-1.0, 1.0, lo, potential_derivative=dU_DW, diffusion=T).mean
        numbers[f"γ={g}: τ / (γ τ_overdamped)"] = tau / od
        checks.append(Check(f"τ vs γ·τ_overdamped (quadrature) at γ = {g}", tau, printed=od,
                            claim_rtol=2.0 / g ** 2,
                            why="Smoluchowski limit: corrections O(ω²/γ²) (measured "
                                "≈ 1.0–1.4/γ²)"))
    # (c) low friction at fixed Δ = γ I(E_b)/T: Mel'nikov–Meshkov, exact as T → 0
    delta = 1.0
    Tl = ctx.pick(quick=(0.05,), full=(0.05, 0.025, 0.0125))
    grids = ctx.pick(quick=((256, 112),), full=((768, 256), (1024, 256)))
    mm_dev = []
    for T in Tl:
        g = delta * T / ACTION
        taus = [_mfpt_well(g, T, *n)[0] for n in grids]
        kmm = float(theory.melnikov_meshkov_rate(g, ACTION, W_A, W_B, DU, T))
        ked = float(theory.energy_diffusion_rate(g, ACTION, W_A, DU, T))
        r = taus[-1] * kmm
        mm_dev.append(r - 1)
        numbers[f"Δ=1, T={T}: τ·k_MM"] = r
        numbers[f"Δ=1, T={T}: τ·k_ED"] = taus[-1] * ked
        if len(taus) > 1:
            numbers[f"Δ=1, T={T}: grid change"] = taus[-1] / taus[-2] - 1
        checks.append(Check(f"τ·k_MM at Δ = 1, T = {T} (γ = {g:.3g})", r, printed=1.0,
                            claim_rtol=4.0 * T + 0.02,
                            why="Mel'nikov–Meshkov is exact as T → 0 at fixed Δ; measured "
                                "deviation ≈ 3.5 T, plus the grid's (≤ 1% at the finest)"))
    # energy-diffusion quadrature (the γ → 0 limit at fixed T) and the pure low-friction formula
    well = theory.Well(U_DW, -1.0, (-2.0, 0.0))
    T = Tl[-1]
    g = delta * T / ACTION
    t_ed = theory.energy_diffusion_mfpt(well, g, T, DU)
    numbers["ED quadrature × k_ED at T"] = t_ed * float(theory.energy_diffusion_rate(
        g, ACTION, W_A, DU, T))
    # (d) the turnover: k(γ) rises ∝ γ, peaks, then falls ∝ 1/γ
    Tt = ctx.pick(quick=0.05, full=0.025)
    sweep = np.array(ctx.pick(quick=(0.03, 0.1, 0.3, 1.0, 3.0, 10.0),
                              full=(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)))
    ng = ctx.pick(quick=(192, 80), full=(768, 256))
    k_pde = np.array([1.0 / _mfpt_well(g, Tt, *ng)[0] for g in sweep])
    k_mm = np.asarray(theory.melnikov_meshkov_rate(sweep, ACTION, W_A, W_B, DU, Tt))
    k_kr = np.asarray(theory.kramers_rate(sweep, W_A, W_B, DU, Tt))
    k_ed = np.asarray(theory.energy_diffusion_rate(sweep, ACTION, W_A, DU, Tt))
    numbers.update({"turnover T": Tt, "turnover γ": sweep, "k PDE": k_pde, "k MM": k_mm,
                    "k PDE / k MM": k_pde / k_mm})
    i = int(np.argmax(k_pde))
    checks += [
        Check("turnover: k_PDE/k_MM over the sweep", k_pde / k_mm, printed=1.0,
              claim_rtol=6.0 * Tt, why="MM interpolates the two limits; its error is the "
                                       "O(T) of (a) and (c), largest near the turnover"),
        Check("turnover: k rises below the peak and falls above it",
              float(np.all(np.diff(k_pde[:i + 1]) > 0) and np.all(np.diff(k_pde[i:]) < 0)),
              reference=1.0, why="one maximum (the Kramers turnover)"),
        Check("turnover: γ at the peak lies between the ED and Smoluchowski regimes",
              float(sweep[i]), printed=float(sweep[np.argmax(k_mm)]), claim_rtol=2.0,
              why="a factor ≤ 3 of the MM peak (the sweep's spacing)"),
    ]
    fig, (a1, a2) = ctx.figure(1, 2)
    gg = np.geomspace(sweep[0] / 2, sweep[-1] * 2, 200)
    a1.loglog(sweep, k_pde, "o", label="fpsolve (PDE)")
    a1.loglog(gg, theory.melnikov_meshkov_rate(gg, ACTION, W_A, W_B, DU, Tt), label="MM")
    a1.loglog(gg, theory.kramers_rate(gg, W_A, W_B, DU, Tt), "--", label="Kramers")
    a1.loglog(gg, theory.energy_diffusion_rate(gg, ACTION, W_A, DU, Tt), ":", label="energy diff.")
    a1.loglog(gg, theory.smoluchowski_rate(gg, W_A, W_B, DU, Tt), "-.", label="Smoluchowski")
    a1.set(xlabel="friction γ", ylabel="rate 1/E τ", title=f"turnover, T = {Tt}",
           ylim=(k_pde.min() / 5, k_pde.max() * 3))
    a1.legend(fontsize=7)
    a2.plot(Ts, 1 + np.array(dev), "o-", label="τ k_Kramers (γ = 1)")
    a2.plot(Tl, 1 + np.array(mm_dev), "s-", label="τ k_MM (Δ = 1)")
    a2.axhline(1, color="k", lw=0.5)
    a2.set(xlabel="T", ylabel="ratio", title="→ 1 as T → 0")
    a2.legend(fontsize=7)
    del k_kr, k_ed
    return Case(
        title="Kramers' escape rate across friction: low-friction (energy diffusion), turnover, "
              "moderate-to-high friction, Smoluchowski",
        equation="Kramers 1940; Hänggi, Talkner & Borkovec 1990 eqs. (4.5), (4.8), (4.49); "
                 "Mel'nikov & Meshkov 1986",
        claim="k = (sqrt(γ²/4 + ω_b²) − γ/2)/ω_b · (ω_a/2π) e^(−ΔU/T) (moderate-high γ); "
              "→ ω_aω_b/(2πγ) e^(−ΔU/T) (high γ); = γ I(E_b)/T · (ω_a/2π) e^(−ΔU/T) (low γ), "
              "bridged by A(Δ) k_Kramers",
        method="Langevin.mean_first_passage_time from (−1, 0) to x ≥ 1 (trap-reduced LU; "
               "rate = 1/E τ)",
        reference_method="overdamped MFPT by quadrature (fpsolve.theory.quadrature, Smoluchowski "
                         "limit); the formulas, with O(T) and O(1/γ²) claim tolerances",
        tolerance_note="asymptotic formulas: tolerances scale with T (Laplace) and 1/γ²",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig), key=None)


# ---------------------------------------------------------------------------------------------
# 4. heavy-ball SGD with mini-batch noise: chains vs kinetic particles vs PDE
# ---------------------------------------------------------------------------------------------
def _mean_se(a):
    a = np.asarray(a, dtype=float)
    return float(a.mean()), float(a.std(ddof=1) / np.sqrt(a.size))


@case(paper=PAPER, name="heavy_ball_sgd")
def heavy_ball_sgd(ctx):
    """Heavy-ball SGD on the double well with mini-batch noise: chains vs BAOAB particles vs
    PDE (stationary moments, escape time), the O(√η) bias, and plain SGD at η/(1 − β)."""
    gamma, T, B = 1.0, 0.1, 4
    etas = ctx.pick(quick=(0.01, 0.0025), full=(0.01, 0.0025, 0.000625))
    n = ctx.pick(quick=6_000, full=40_000)
    nf = ctx.pick(quick=1_500, full=8_000)
    U = potentials.double_well()
    # references: the Gibbs law of the position (quadrature, independent of fpsolve) and the PDE
    xq = np.linspace(-3.0, 3.0, 60_001)
    wq = np.exp(-U_DW(xq) / T)
    gibbs_x2 = float((wq * xq ** 2).sum() / wq.sum())
    lo, vmax = -2.3, 1.8
    grid = fp.Grid([(lo, lo + 3.5), (-vmax, vmax)], (280, 160))     # x = 1 is a face
    model = Langevin(grid, U, friction=gamma, temperature=T)
    both = Langevin(fp.Grid([(lo, -lo), (-vmax, vmax)], (368, 160)), U, friction=gamma,
                    temperature=T)                                 # both wells, for the law
    pde_x2 = float(both.marginal(both.stationary()).expect(lambda x: x ** 2))
    tau_pde = float(model.mean_first_passage_time(lambda x: x >= 1.0).at((-1.0, 0.0)))
    tau_od = float(mfpt_1d(-1.0, 1.0, lo, potential_derivative=dU_DW, diffusion=T).mean)
    ratio_pde = tau_pde / (gamma * tau_od)
    checks = [Check("PDE: E θ² of the stationary marginal", pde_x2, reference=gibbs_x2,
                    rtol=1e-10, why="the discrete Gibbs state is exact and midpoint sums of a "
                                    "smooth, fast-decaying integrand converge exponentially")]
    numbers = {"gamma": gamma, "T": T, "B": B, "etas": list(etas), "Gibbs E θ²": gibbs_x2,
               "PDE E τ": tau_pde, "γ τ_overdamped": gamma * tau_od}
    rows = []
    th0 = np.where(np.arange(n) % 2 == 0, -1.0, 1.0)   # symmetric start: no inter-well wait
    for k, eta in enumerate(etas):
        beta = mapping.momentum_for(eta, gamma)
        s = float(np.sqrt(2 * B * (1 - beta) * T / eta))   # T = η s²/(2B(1 − β))
        data = [s, -s]                                     # Σ₁ = s² exactly
        K = int(round(300 / np.sqrt(eta)))                 # t = 300 ≈ 3 escape times
        hb = particles.heavy_ball(U, th0, eta, beta, B, K, data=data, seed=10 + k)
        th, V = hb.theta[-1][:, 0], hb.langevin_velocity()[:, 0]
        x2, x2_se = _mean_se(th ** 2)
        v2, v2_se = _mean_se(V ** 2)
        eff = mapping.effective_learning_rate(eta, beta)
        sgd = particles.heavy_ball(U, th0, eff, 0.0, B, int(round(300 / eff)), data=data,
                                   seed=20 + k)
        s2, s2_se = _mean_se(sgd.theta[-1][:, 0] ** 2)
        esc = particles.heavy_ball(U, -1.0, eta, beta, B, int(round(3000 / np.sqrt(eta))),
                                   data=data, n_chains=nf, target=(1.0, None), seed=30 + k)
        fpt = esc.first_passage()
        esc0 = particles.heavy_ball(U, -1.0, eff, 0.0, B, int(round(3000 / eff)), data=data,
                                    n_chains=nf, target=(1.0, None), seed=40 + k)
        it_hb = esc.hit_iterations[esc.hit_iterations >= 0].astype(float)
        it_sgd = esc0.hit_iterations[esc0.hit_iterations >= 0].astype(float)
        (mh, sh), (ms, ss) = _mean_se(it_hb), _mean_se(it_sgd)
        it_ratio = mh / ms
        it_ratio_se = it_ratio * np.hypot(sh / mh, ss / ms)
        factor = theory.heavy_ball_velocity_variance_factor(eta, beta)
        # O(η) position bias allowance: the exact heavy-ball/quadratic covariance at the wells'
        # curvature U″(±1) = 2 against T/2, times the within-well variance
        P = theory.heavy_ball_quadratic_covariance(eta, beta, 2.0, T * 2 * (1 - beta) / eta)
        pos_bias = abs(P[0, 0] / (T / 2) - 1) * (gibbs_x2 - 1 + T)
        rows.append((eta, x2, x2_se, v2 / T, v2_se / T, factor, s2, s2_se, fpt.mean,
                     fpt.stderr, it_ratio, it_ratio_se))
        numbers[f"η={eta}: β, s"] = [beta, s]
        numbers[f"η={eta}: chains E θ² ± SE"] = [x2, x2_se]
        numbers[f"η={eta}: chains Var V / T ± SE"] = [v2 / T, v2_se / T]
        numbers[f"η={eta}: plain SGD (η_eff = {eff:.4g}) E θ² ± SE"] = [s2, s2_se]
        numbers[f"η={eta}: chains E τ ± SE (t = k√η)"] = [fpt.mean, fpt.stderr]
        numbers[f"η={eta}: escape iterations heavy ball / plain SGD ± SE"] = [it_ratio,
                                                                             it_ratio_se]
        checks += [
            Check(f"η = {eta}: chains E θ² vs Gibbs", x2, reference=gibbs_x2,
                  atol=4 * x2_se + pos_bias,
                  why=f"4 SE ({x2_se:.1e}) + O(η) position bias predicted on the wells' "
                      f"quadratic ({pos_bias:.1e})"),
            Check(f"η = {eta}: chains Var V / T vs 2/(1 + β) (the O(√η) bias)", v2 / T,
                  reference=factor, atol=4 * v2_se / T,
                  why="Euler friction step: Var V = T/(1 − γ√η/2); 4 SE"),
            Check(f"η = {eta}: plain SGD at η/(1 − β) vs heavy ball, E θ²", s2, reference=x2,
                  atol=4 * np.hypot(s2_se, x2_se) + 0.2 * eff,
                  why="same stationary law to leading order; plain SGD's own O(η_eff) bias "
                      "(measured 0.14 η_eff) + 4 combined SE"),
            Check(f"η = {eta}: chains escape time vs PDE", fpt.mean, reference=tau_pde,
                  atol=4 * fpt.stderr + 0.5 * gamma * np.sqrt(eta) * tau_pde,
                  why="4 SE + the O(γ√η) weak error of heavy ball as a scheme (step √η)"),
            Check(f"η = {eta}: escape iterations heavy ball / plain SGD(η_eff)", it_ratio,
                  reference=ratio_pde, atol=4 * it_ratio_se + gamma * np.sqrt(eta) * ratio_pde,
                  why="PDE: τ_kinetic/(γ τ_overdamped) (k = t/√η against t/η_eff, η_eff = "
                      "√η/γ); 4 SE + O(√η)"),
        ]
    # the bias scales as √η: (factor − 1) halves when η quarters
    b = [(r[3] - 1, r[4]) for r in rows]
    scal = b[0][0] / b[1][0]
    scal_se = abs(scal) * np.hypot(b[0][1] / b[0][0], b[1][1] / b[1][0])
    checks.append(Check("velocity-variance bias ratio, η → η/4", scal, printed=2.0,
                        claim_atol=4 * scal_se, why="O(√η): ratio √4 = 2; 4 SE"))
    # kinetic particles (BAOAB) of the same SDE: stationary E θ² and escape time
    part = particles.simulate(model, th0, n=n, dt=0.05, t_end=300.0, seed=7)
    px2, px2_se = _mean_se(part.positions[-1][:, 0] ** 2)
    pf = particles.first_passage(model, (1.0, None), -1.0, v0=0.0, n=nf, dt=0.05,
                                 t_max=3000.0, seed=8)
    cmpf = compare.first_passage_mean(pf, tau_pde, k=4.0, bias=0.01 * tau_pde)
    numbers.update({"BAOAB E θ² ± SE": [px2, px2_se], "BAOAB E τ ± SE": [pf.mean, pf.stderr],
                    "BAOAB vs PDE": cmpf.verdict})
    checks += [
        Check("BAOAB particles E θ² vs Gibbs", px2, reference=gibbs_x2, atol=4 * px2_se,
              why="4 SE (BAOAB's O(dt²) configurational error ~1e-4 is below)"),
        Check("BAOAB particles escape time vs PDE", pf.mean, reference=tau_pde,
              atol=cmpf.tolerance, why="4 SE + 1% (O(dt) monitoring, the PDE's O(h²))"),
    ]
    fig, (a1, a2) = ctx.figure(1, 2)
    sq = np.sqrt(np.array(etas))
    a1.errorbar(sq, [r[3] for r in rows], [r[4] for r in rows], fmt="o", label="chains Var V/T")
    a1.plot(sq, [r[5] for r in rows], "x-", label="2/(1 + β) = 1/(1 − γ√η/2)")
    a1.axhline(1, color="k", lw=0.5)
    a1.set(xlabel="√η", ylabel="Var V / T", title="the O(√η) bias")
    a1.legend(fontsize=7)
    a2.errorbar(sq, [r[8] for r in rows], [r[9] for r in rows], fmt="o", label="heavy-ball chains")
    a2.axhline(tau_pde, color="C1", label="PDE (kinetic)")
    a2.axhline(gamma * tau_od, color="C2", ls="--", label="plain SGD at η/(1 − β), ×γ")
    a2.set(xlabel="√η", ylabel="E τ (t = k√η)", title="escape −1 → +1")
    a2.legend(fontsize=7)
    return Case(
        title="Heavy-ball SGD with mini-batch noise: chains vs kinetic particles vs PDE",
        equation="fpsolve.kinetic.mapping: γ = (1 − β)/√η, T = ηΣ₁/(2B(1 − β)), t = k√η",
        claim="heavy ball is a first-order discretisation (step √η) of underdamped Langevin "
              "dynamics; its stationary law equals plain SGD's at η_eff = η/(1 − β) to leading "
              "order, its escape time does not",
        method=f"heavy-ball chains with real mini-batches (B = {B} draws of ±s, Numba), BAOAB "
               f"particles, Langevin PDE on 280×160; γ = {gamma}, T = {T}",
        reference_method="Gibbs law of the position by quadrature; PDE mean first-passage time; "
                         "overdamped MFPT by quadrature for plain SGD",
        tolerance_note="4 standard errors plus the predicted discretisation bias of the chains",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# 5. state-dependent temperature T(x) (loss-scaled noise)
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="state_dependent_temperature")
def state_dependent_temperature(ctx):
    """T(x) ∝ L(x) + offset: the kinetic stationary law against the overdamped Itô,
    Stratonovich and isothermal answers — Itô is the high-friction limit; what changes at
    finite friction, measured (PDE and particles)."""
    T = lambda x: 0.06 * (1.0 + U_DW(x))      # noqa: E731  Mori et al.'s Σ ∝ L, offset 1
    gammas = np.array(ctx.pick(quick=(0.5, 5.0, 20.0), full=(0.25, 0.5, 1.0, 2.0, 5.0, 10.0,
                                                              20.0)))
    shape = ctx.pick(quick=(192, 96), full=(512, 192))
    grid = fp.Grid([(-2.0, 2.0), (-2.7, 2.7)], shape)
    x = grid.axes[0]
    laws = {c: stationary_density_1d(x, -2.0, 2.0, potential_derivative=dU_DW, diffusion=T,
                                     convention=c).density
            for c in ("ito", "stratonovich", "isothermal")}
    dist = {c: [] for c in laws}
    x2 = []
    marg = {}
    for g in gammas:
        m = Langevin(grid, U_DW, friction=float(g), temperature=T)
        p = m.marginal(m.stationary())
        marg[g] = p.values
        x2.append(p.expect(lambda y: y ** 2))
        for c, ref in laws.items():
            dist[c].append(float(np.abs(p.values - ref).max() / ref.max()))
    ito_x2 = float((laws["ito"] * x ** 2).sum() / laws["ito"].sum())
    d_ito = np.array(dist["ito"])
    big = gammas >= 5
    slope = _observed_order(gammas[big], d_ito[big])
    closest = [min(dist, key=lambda c: dist[c][i]) for i in range(len(gammas))]
    numbers = {"gammas": gammas, "sup distance to Itô": d_ito,
               "sup distance to Stratonovich": dist["stratonovich"],
               "sup distance to isothermal": dist["isothermal"], "E θ² kinetic": x2,
               "E θ² Itô": ito_x2, "closest convention": closest,
               "slope of the Itô distance in γ (γ ≥ 5)": slope}
    checks = [
        Check("γ = 20: sup |p_kinetic − p_Itô| / max p_Itô", float(d_ito[-1]), reference=0.0,
              atol=5e-4, why="O(1/γ²) ≈ 1e-4 plus the grid's O(h²) (2e-4 at 256×128)"),
        Check("γ = 20: Stratonovich and isothermal laws ≥ 20× farther than Itô's",
              float(min(dist["stratonovich"][-1], dist["isothermal"][-1]) > 20 * d_ito[-1]),
              reference=1.0,
              why="the Smoluchowski limit of a constant-γ, T(x) Langevin equation is the Itô "
                  "Fokker–Planck equation J = −(U′p + (Tp)′)/γ; the others differ at O(1)"),
        Check("decay of the Itô distance with γ (log-log slope, γ ≥ 5)", slope, printed=-2.0,
              claim_atol=0.8, why="O(1/γ²) corrections; the grid's floor flattens it"),
    ]
    # finite friction: what changes against Itô, with particles as a second method at γ = 1
    g1 = 1.0
    m1 = Langevin(grid, U_DW, friction=g1, temperature=T)
    p1 = m1.marginal(m1.stationary())
    pde_x2 = p1.expect(lambda y: y ** 2)
    n = ctx.pick(quick=6_000, full=100_000)
    th0 = np.where(np.arange(n) % 2 == 0, -1.0, 1.0)
    run = particles.simulate(m1, th0, n=n, dt=0.04, t_end=ctx.pick(quick=60.0, full=300.0),
                             seed=ctx.rng().integers(1 << 31))
    px2, px2_se = _mean_se(run.positions[-1][:, 0] ** 2)
    numbers.update({"γ=1: E θ² PDE": pde_x2, "γ=1: E θ² BAOAB ± SE": [px2, px2_se],
                    "γ=1: relative change of E θ² against Itô": pde_x2 / ito_x2 - 1})
    checks.append(Check("γ = 1: E θ² PDE vs BAOAB particles with T(X) in the O-step", pde_x2,
                        reference=px2, atol=4 * px2_se + 2e-3,
                        why="4 SE + the PDE's O(h²) and BAOAB's O(dt²) (≈ 1e-3)"))
    # escape: kinetic MFPT vs γ·(Itô overdamped MFPT) at high friction, and the change at γ = 1
    lo = -2.0
    tau_ito = float(mfpt_1d(-1.0, 1.0, lo, potential_derivative=dU_DW, diffusion=T).mean)
    gg = fp.Grid([(lo, 1.25), (-2.7, 2.7)], ctx.pick(quick=(208, 80), full=(520, 192)))
    ratios = {}
    for g in (1.0, 10.0):
        mk = Langevin(gg, U_DW, friction=g, temperature=T)
        ratios[g] = float(mk.mean_first_passage_time(lambda y: y >= 1.0).at((-1.0, 0.0))
                          / (g * tau_ito))
    numbers["τ_kinetic/(γ τ_Itô) at γ = 1, 10"] = [ratios[1.0], ratios[10.0]]
    checks.append(Check("γ = 10: τ_kinetic / (γ τ_Itô overdamped)", ratios[10.0], printed=1.0,
                        claim_rtol=2.0 / 10 ** 2,
                        why="Smoluchowski limit, corrections O(ω²/γ²) (constant T: measured "
                            "≈ 1.0–1.4/γ², case kramers_friction)"))
    fig, (a1, a2) = ctx.figure(1, 2)
    for c, ref in laws.items():
        a1.plot(x, ref, "--", lw=1, label=f"overdamped {c}")
    for g in (gammas[0], gammas[-1]):
        a1.plot(x, marg[g], label=f"kinetic γ = {g:g}")
    a1.set(xlabel="θ", ylabel="density", title="T(θ) = 0.06(1 + L(θ))")
    a1.legend(fontsize=6)
    for c in laws:
        a2.loglog(gammas, dist[c], "o-", label=c)
    a2.set(xlabel="γ", ylabel="sup distance", title="kinetic → Itô as γ → ∞")
    a2.legend(fontsize=7)
    return Case(
        title="State-dependent temperature (loss-scaled noise): the kinetic law against the "
              "overdamped Itô, Stratonovich and isothermal answers",
        equation="dV = −γV dt − U′ dt + sqrt(2γT(X)) dW, T(θ) = 0.06(1 + L(θ))",
        claim="all conventions coincide for the kinetic equation; its γ → ∞ limit is the Itô "
              "overdamped equation (p ∝ T⁻¹e^(−∫U′/T)), the one SGD's diffusion model uses; at "
              "finite γ the law and the escape time move away from it",
        method=f"Langevin(T = callable).stationary() (sparse LU null vector) on {shape}; BAOAB "
               f"particles with T(X) in the O-step; mean first-passage times",
        reference_method="overdamped laws and MFPTs by quadrature (fpsolve.theory.quadrature)",
        tolerance_note="O(1/γ²) asymptotics, O(h²) grids, 4 SE for particles",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig))
