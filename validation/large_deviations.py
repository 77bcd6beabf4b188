"""Large deviations of SGD's diffusion: minimum-action paths, quasi-potentials and
transition-path theory against exact references.

Convention (``docs/theory/large_deviations.rst``): dX = b dt + sqrt(2εD) dW (Itô), action
¼∫(φ̇ − b)ᵀD⁻¹(φ̇ − b) dt, so that b = −∇U with D = I has V = U and p_ε ≍ exp(−V/ε); a
FokkerPlanck model with diffusion εD has escape times τ ≍ exp(V̄/ε).

Cases: (1) gradient drift, isotropic D: V̄ = ΔU/D and MAP = MEP; (2) 1D state-dependent D:
V = ∫U'/D (Xie et al. Thm 3.2's exponent) for the path, the grid and the PDE; (3) the
non-reversible OU process: V = ½xᵀΣ₀⁻¹x; (4) b = −(D + Q)∇U: V = U with a MAP that is not the
gradient path; (5) a non-reversible double well with state-dependent tensor D: the PDE's MFPT
exponent and −ε log p_ε converge to the path's V̄ and the grid's V (Hu et al. Thm 2 beyond
isotropic noise); (6) TPT rates against renewal and flux-over-population identities; (7) a
trained network (``--full``, torch): two minima through a reduced plane and its PDE
(``network_map``), and a converged MAP in the full parameter space from a minimum to a saddle
(``network_saddle``).
"""
from __future__ import annotations

import numpy as np
import scipy.integrate as si
import scipy.linalg as sla

import fpsolve as fp
from fpsolve.large_deviations import (Dynamics, minimum_action_path, plot_action_along_path,
                                      plot_path, plot_quasipotential, plot_reactive_current,
                                      quasipotential, string_method, transition_paths)
from fpsolve.large_deviations.paths.curves import resample

from .framework import Case, Check
from .registry import case

PAPER = "large_deviations"
A_CURVE = 0.6     # U = (x² − 1)²/4 + (y − a(1 − x²))²: minima (±1, 0), saddle (0, a), ΔU = 1/4


# ---------------------------------------------------------------------------------------------
# problems and independent references (numpy/scipy only)
# ---------------------------------------------------------------------------------------------
def _U(x, y):
    return (x ** 2 - 1) ** 2 / 4 + (y - A_CURVE * (1 - x ** 2)) ** 2


def _grad_U(x, y):
    r = y - A_CURVE * (1 - x ** 2)
    return (x * (x ** 2 - 1) + 4 * A_CURVE * r * x, 2 * r)


def _linear_drift(B):
    """b = −B∇U for a constant matrix B (works on arrays of any shape)."""
    B = np.asarray(B, dtype=float)

    def drift(x, y):
        g = np.stack(np.broadcast_arrays(*_grad_U(x, y)))
        return tuple(-np.einsum("ij,j...->i...", B, g))
    return drift


def _lyapunov_hessian(A, D):
    """Σ₀⁻¹ with AΣ₀ + Σ₀Aᵀ = 2D (scipy): V(x) = ½xᵀΣ₀⁻¹x for dX = −AX dt + sqrt(2εD) dW."""
    S0 = sla.solve_continuous_lyapunov(np.asarray(A, float), 2 * np.asarray(D, float))
    return np.linalg.inv(0.5 * (S0 + S0.T))


def _curve_distance(a, b):
    """Largest distance from a point of polyline a to polyline b (brute force)."""
    q0, e = b[:-1], np.diff(b, axis=0)
    out = 0.0
    for p in a:
        t = np.clip(np.einsum("ij,ij->i", p - q0, e) / np.einsum("ij,ij->i", e, e), 0, 1)
        out = max(out, float(np.min(np.linalg.norm(q0 + t[:, None] * e - p, axis=1))))
    return out


def _order(hs, errs):
    return float(np.polyfit(np.log(hs), np.log(errs), 1)[0])


# ---------------------------------------------------------------------------------------------
# 1. gradient drift, isotropic constant D
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="gradient_isotropic")
def gradient_isotropic(ctx):
    """Gradient drift, D = ¼I: the minimum action is ΔU/D = 1 and the MAP is the string's MEP."""
    D0 = 0.25
    dyn = Dynamics(2, potential=_U, gradient=_grad_U, diffusion=D0)
    Ps = ctx.pick(quick=(50, 100), full=(50, 100, 200))
    runs = [minimum_action_path(dyn, [-1, 0], [1, 0], n_points=P) for P in Ps]
    errs = [abs(r.action - 0.25 / D0) for r in runs]
    order = _order([1 / (P - 1) for P in Ps], errs)
    mep = string_method(dyn, [-1, 0], [1, 0], n_points=Ps[-1])
    dist = _curve_distance(runs[-1].path, mep.path)
    h = 1 / (Ps[-1] - 1)
    fig, (ax, ax2) = ctx.figure(1, 2)
    g = fp.Grid([(-1.6, 1.6), (-0.6, 1.3)], 120)
    ax.contour(g.axes[0], g.axes[1], _U(*g.coords).T, levels=20, colors="0.6", linewidths=0.5)
    plot_path(runs[-1], ax=ax, color="C0", label="MAP (gMAM)")
    plot_path(mep, ax=ax, color="C3", ls="--", label="MEP (string)")
    ax.legend(fontsize=7)
    plot_action_along_path(runs[-1], ax=ax2)
    ax2.axhline(1.0, color="k", ls=":", lw=0.8)
    return Case(
        title="Gradient drift, isotropic D: action ΔU/D exactly; MAP = MEP",
        equation="Freidlin–Wentzell: V̄ = ΔU/D for b = −∇U, D = const·I",
        claim="min action = (U(saddle) − U(min))/D; the MAP is the minimum-energy path",
        method=f"minimum_action_path (gMAM) with P = {list(Ps)}; string_method (string + "
               f"Newton saddle + steepest-descent orbits, DOP853) with P = {Ps[-1]}",
        reference_method="closed form ΔU/D = (1/4)/(1/4) = 1; the MEP from the string method",
        tolerance_note="midpoint rule O(h²) with h = 1/(P − 1) in the path parameter",
        checks=[
            Check(f"action (P = {Ps[-1]})", runs[-1].action, reference=1.0, rtol=30 * h ** 2,
                  why=f"O(h²): observed error ≈ 2.3 h² (h = {h:.3g})"),
            Check("observed order of the action error", order, reference=2.0, atol=0.3,
                  why="midpoint rule on a smooth MAP: second order"),
            Check("saddle found by gMAM (Newton-refined)", runs[-1].saddle,
                  reference=[0.0, A_CURVE], atol=1e-9, why="Newton on b = 0: round-off"),
            Check("MAP–MEP curve distance", dist, reference=0.0, atol=10 * h ** 2 + 1e-4,
                  why="both O(h²) discretisations of the same curve"),
            Check("string barrier U(saddle) − U(min)", mep.barrier, reference=0.25, atol=1e-12,
                  why="Newton-refined saddle: round-off"),
        ],
        numbers={"P": list(Ps), "actions": [r.action for r in runs], "errors": errs,
                 "order": order, "curve distance": dist,
                 "seconds": [r.info["seconds"] for r in runs]},
        figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# 2. 1D state-dependent D (Xie et al. Theorem 3.2's exponent)
# ---------------------------------------------------------------------------------------------
def _xie_1d(delta=0.3):
    """U = x⁴/4 − x²/2 (minima ±1, saddle 0) and Xie et al.'s D ∝ [H]⁺ = |U''|, regularised
    smoothly, sqrt(U''² + δ²): the kinks of |U''| would make every method first order."""
    U = lambda x: x ** 4 / 4 - x ** 2 / 2                 # noqa: E731
    dU = lambda x: x ** 3 - x                             # noqa: E731
    D = lambda x: np.sqrt((3 * x ** 2 - 1) ** 2 + delta ** 2)   # noqa: E731
    return U, dU, D


@case(paper=PAPER, name="state_dependent_1d")
def state_dependent_1d(ctx):
    """1D, D ∝ [H]⁺ (regularised): V = ∫U'/D (Xie et al. Thm 3.2's exponent) for path, grid
    and PDE."""
    U, dU, D = _xie_1d()
    f = lambda y: dU(y) / D(y)                            # noqa: E731
    Vbar = si.quad(f, -1.0, 0.0, points=[-1 / np.sqrt(3)], epsabs=1e-13)[0]
    dyn = Dynamics(1, potential=U, gradient=lambda x: (dU(x),), diffusion=D)
    r = minimum_action_path(dyn, [-1.0], [1.0], n_points=ctx.pick(quick=201, full=401))
    # OLIM on a 1D grid against the quadrature
    n = ctx.pick(quick=321, full=1281)
    g = fp.Grid([(-1.6, 1.6)], n)
    V = quasipotential(dyn, g, [-1.0], radius=1.5)
    x = g.axes[0]
    ref = np.array([si.quad(f, -1.0, min(xi, 0.0), points=[-1 / np.sqrt(3)])[0]
                    + (si.quad(f, 1.0, xi)[0] if xi > 1 else 0.0) for xi in x])
    err_grid = float(np.max(np.abs(V.values - ref)))
    # the PDE: MFPT from −1 to x ≥ 0.6 (the other basin) at several ε; log τ = V̄/ε + c₀ + c₁ε
    eps = np.array(ctx.pick(quick=(0.05, 0.04, 0.03, 0.025, 0.02),
                            full=(0.05, 0.04, 0.03, 0.025, 0.02, 0.015)))
    gp = fp.Grid([(-1.6, 1.6)], ctx.pick(quick=1600, full=4000))
    logt = []
    for e in eps:
        model = fp.FokkerPlanck(gp, potential=U, diffusion=lambda x, e=e: e * D(x))
        logt.append(float(np.log(model.mean_first_passage_time(lambda x: x >= 0.6).at(-1.0))))
    coef = np.linalg.lstsq(np.stack([1 / eps, np.ones_like(eps), eps], 1), logt, rcond=None)[0]
    fig, (ax, ax2) = ctx.figure(1, 2)
    ax.plot(x, ref, "k-", label="∫U'/D (quadrature)")
    ax.plot(x, V.values, "C1--", label="OLIM on the grid")
    ax.axhline(r.action, color="C0", ls=":", label=f"gMAM action {r.action:.5f}")
    ax.set(xlabel="x", ylabel="V", title="D = sqrt(U''² + 0.3²)")
    ax.legend(fontsize=7)
    ax2.plot(1 / eps, logt, "o", label="log E τ (PDE)")
    ax2.plot(1 / eps, coef[0] / eps + coef[1] + coef[2] * eps, "-", label="fit")
    ax2.plot(1 / eps, Vbar / eps + coef[1], ":", label="slope V̄")
    ax2.set(xlabel="1/ε", ylabel="log E τ")
    ax2.legend(fontsize=7)
    h = 2 / (len(r.path) - 1)
    return Case(
        title="1D state-dependent D: V = ∫U'/D (Xie et al. Thm 3.2) for path, grid and PDE",
        equation="Xie, Sato & Sugiyama, Theorem 3.2: τ ∝ exp(∫ L'/D dθ) along the escape path",
        claim="the escape exponent is the path integral ∫_a^b L'/D (D = η[H]⁺/(2B)); here "
              "D = sqrt(U''² + 0.3²) (a smooth regularisation of the paper's [H]⁺) in units of ε",
        method=f"gMAM (P = {len(r.path)}); OLIM on {n} nodes; FokkerPlanck MFPT from −1 to "
               f"x ≥ 0.6 on {gp.shape[0]} cells at ε = {eps.tolist()}",
        reference_method="scipy.integrate.quad of U'/D; least-squares fit log τ = a/ε + c₀ + c₁ε",
        tolerance_note="gMAM O(h²), OLIM (nearest neighbours) O(h²), PDE fit: truncated "
                       "expansion in ε",
        checks=[
            Check("gMAM action vs ∫_{−1}^{0} U'/D", r.action, reference=Vbar,
                  rtol=20 * h ** 2, why=f"O(h²), h = {h:.3g}"),
            Check("OLIM max |V − ∫U'/D| on the grid", err_grid, reference=0.0,
                  atol=30 * g.h[0] ** 2, why="O(h²) with nearest-neighbour updates"),
            Check("MFPT exponent a in log τ = a/ε + c₀ + c₁ε", float(coef[0]), printed=Vbar,
                  claim_rtol=0.02, why="the prefactor's O(ε) corrections are fitted; the rest "
                                       "is O(ε²) in log τ over ε ∈ [0.02, 0.05]"),
        ],
        numbers={"V bar": Vbar, "gMAM action": r.action, "OLIM error": err_grid,
                 "eps": eps, "log tau": logt, "fit": coef},
        figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# 3. the non-reversible OU process
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="nonreversible_ou")
def nonreversible_ou(ctx):
    """2D OU, drift −Ax with AD ≠ DA: V = ½xᵀΣ₀⁻¹x, AΣ₀ + Σ₀Aᵀ = 2D, for paths and the grid."""
    A = np.array([[1.0, 2.0], [-0.5, 1.5]])           # complex eigenvalues: spiralling MAPs
    D = np.array([[1.0, 0.3], [0.3, 0.5]])
    K = _lyapunov_hessian(A, D)
    dyn = Dynamics(2, drift=lambda x, y: (-(A[0, 0] * x + A[0, 1] * y),
                                          -(A[1, 0] * x + A[1, 1] * y)), diffusion=D)
    targets = np.array([[1.0, 0.5], [-0.8, 0.9], [0.3, -1.1]])
    exact = 0.5 * np.einsum("ni,ij,nj->n", targets, K, targets)
    paths = [minimum_action_path(dyn, [0, 0], t, n_points=40, end_critical=False)
             for t in targets]
    actions = np.array([p.action for p in paths])
    ns = ctx.pick(quick=(65, 129), full=(65, 129, 257))
    errs = []
    for n in ns:
        g = fp.Grid([(-1.5, 1.5), (-1.5, 1.5)], n)
        V = quasipotential(dyn, g, [0.0, 0.0])
        X = g.points
        ex = (0.5 * np.einsum("ni,ij,nj->n", X, K, X)).reshape(g.shape)
        errs.append(float(np.max(np.abs(V.values - ex)[ex <= 1.0])))
    # the PDE at ε = 0.05: p_ε is Gaussian with covariance εΣ₀ exactly (continuum)
    eps = 0.05
    spreads, hs = [], []
    for n in ctx.pick(quick=(61, 121), full=(121, 241)):
        gp = fp.Grid([(-1.2, 1.2), (-1.2, 1.2)], n)
        model = fp.FokkerPlanck(gp, drift=lambda x, y: (-(A[0, 0] * x + A[0, 1] * y),
                                                        -(A[1, 0] * x + A[1, 1] * y)),
                                diffusion=eps * D)
        p = model.stationary().values
        phi = -eps * np.log(p / p.max())
        X = gp.points
        ex = (0.5 * np.einsum("ni,ij,nj->n", X, K, X)).reshape(gp.shape)
        m = ex <= 0.5
        spreads.append(float(np.max((phi - ex)[m]) - np.min((phi - ex)[m])))
        hs.append(float(gp.h[0]))
    pde_order = _order(hs, spreads)
    fig, (ax, ax2) = ctx.figure(1, 2)
    plot_quasipotential(V, ax=ax, paths=paths, vmax=1.5)
    ax.set_title("OLIM V and three MAPs")
    ax2.loglog([3 / (n - 1) for n in ns], errs, "o-", label="OLIM max error (V ≤ 1)")
    ax2.set(xlabel="h", ylabel="error")
    ax2.legend(fontsize=7)
    return Case(
        title="Non-reversible OU: V = ½xᵀΣ₀⁻¹x (AΣ₀ + Σ₀Aᵀ = 2D) for gMAM, OLIM and the PDE",
        equation="Freidlin–Wentzell; Chaudhari–Soatto's OU case (HS + SH = 2D)",
        claim="V(x) = ½ xᵀ Σ₀⁻¹ x with A Σ₀ + Σ₀ Aᵀ = 2D, although AD ≠ DA (no detailed balance)",
        method="gMAM to three points (P = 40, end_critical=False); OLIM (K = 5) on "
               f"{list(ns)}² nodes; FokkerPlanck.stationary at ε = {eps} on two grids",
        reference_method="scipy.linalg.solve_continuous_lyapunov",
        tolerance_note="gMAM: for a linear drift with constant D every segment of the discrete "
                       "optimum satisfies ½cost ≥ ΔV with equality when aligned with the "
                       "characteristic, so the discrete action is exact up to round-off; OLIM "
                       "O(h); PDE O(h²)",
        checks=[
            Check("gMAM actions vs ½xᵀΣ₀⁻¹x", actions, reference=exact, rtol=1e-10,
                  why="exact for quadratic V (segment-wise bound attained)"),
            Check(f"OLIM max error on V ≤ 1 ({ns[-1]}²)", errs[-1], reference=0.0,
                  atol=5e-3, why="O(h) with K = 5 (Dahiya & Cameron): ~2e-3 at h = 0.023"),
            Check("OLIM error decreases with h", bool(errs[-1] < errs[0]), reference=True),
            Check("PDE: observed order of the spread of −ε log p − V on V ≤ ½", pde_order,
                  reference=2.0, atol=0.4,
                  why="the stationary law is exactly Gaussian; the tensor scheme is O(h²)"),
            Check(f"PDE spread of −ε log p − V (h = {hs[-1]:.3g})", spreads[-1], reference=0.0,
                  atol=10 * hs[-1] ** 2, why="O(h²); observed constant ≈ 4"),
        ],
        numbers={"targets": targets, "actions": actions, "exact": exact,
                 "OLIM errors": errs, "n": list(ns), "PDE spreads": spreads, "PDE h": hs,
                 "PDE order": pde_order},
        figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# 4. b = −(D + Q)∇U
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="rotated_gradient")
def rotated_gradient(ctx):
    """b = −(D + Q)∇U, Q antisymmetric: V = U exactly, but the MAP is not the gradient path."""
    D = np.array([[1.0, 0.4], [0.4, 0.5]])
    Q = np.array([[0.0, 0.35], [-0.35, 0.0]])
    dyn = Dynamics(2, drift=_linear_drift(D + Q), diffusion=D)
    Ps = ctx.pick(quick=(50, 100), full=(50, 100, 200))
    runs = [minimum_action_path(dyn, [-1, 0], [1, 0], n_points=P) for P in Ps]
    errs = [abs(r.action / 0.25 - 1) for r in runs]
    order = _order([1 / (P - 1) for P in Ps], errs)
    mep = string_method(Dynamics(2, potential=_U, gradient=_grad_U, diffusion=D), [-1, 0],
                        [1, 0], n_points=Ps[-1], metric=D)
    dist = _curve_distance(runs[-1].path, mep.path)
    g = fp.Grid([(-1.8, 1.8), (-0.8, 1.4)], ctx.pick(quick=(145, 89), full=(289, 177)))
    V = quasipotential(dyn, g, [-1.0, 0.0], max_value=0.3)
    Ug = _U(*g.coords)
    basin = (g.coords[0] < -0.15) & (Ug <= 0.2)
    err_grid = float(np.max(np.abs(V.values - Ug)[basin]))
    h = 1 / (Ps[-1] - 1)
    fig, (ax, ax2) = ctx.figure(1, 2)
    plot_quasipotential(V, ax=ax, vmax=0.3, paths=[runs[-1], mep])
    ax.set_title("V (OLIM), MAP (cyan) and gradient path (white)")
    ax2.plot(mep.arclength, mep.energy, "C3--", label="U along the gradient path")
    ax2.plot(runs[-1].arclength, runs[-1].cumulative, "C0", label="action along the MAP")
    ax2.set(xlabel="arclength", ylabel="V")
    ax2.legend(fontsize=7)
    return Case(
        title="b = −(D + Q)∇U: V = U exactly while the MAP differs from the gradient path",
        equation="b·∇U + ∇UᵀD∇U = −∇UᵀQ∇U = 0 (Hamilton–Jacobi); MAP: φ' ∥ (D − Q)∇U",
        claim="the quasi-potential of the non-gradient drift −(D + Q)∇U is U; its MAP solves "
              "φ' ∥ (D − Q)∇U, not the gradient path φ' ∥ D∇U",
        method=f"gMAM (P = {list(Ps)}); OLIM (K = 5) on {g.shape}; string_method with metric D",
        reference_method="closed form V = U, barrier 1/4; the gradient path from the string",
        tolerance_note="gMAM O(h²); OLIM O(h)",
        checks=[
            Check(f"action (P = {Ps[-1]}) vs ΔU", runs[-1].action, reference=0.25,
                  rtol=25 * h ** 2, why=f"O(h²): observed ≈ 2 h² relative (h = {h:.3g})"),
            Check("observed order", order, reference=2.0, atol=0.3, why="midpoint rule"),
            Check("OLIM max |V − U| in the basin (U ≤ 0.2)", err_grid, reference=0.0,
                  atol=5e-3, why="O(h) with K = 5"),
            Check("MAP differs from the gradient path (distance > 0.05)", bool(dist > 0.05),
                  reference=True, why=f"observed distance {dist:.3f}"),
        ],
        numbers={"P": list(Ps), "actions": [r.action for r in runs], "errors": errs,
                 "order": order, "distance MAP–gradient path": dist, "OLIM error": err_grid},
        figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# 5. non-reversible double well, state-dependent tensor D: PDE against paths and grid
# ---------------------------------------------------------------------------------------------
ROT = np.array([[1.0, 0.5], [-0.5, 1.0]])


def _tensor_D(x, y):
    o = 0 * x + 0 * y
    return [[1 + 0.3 * x ** 2 + o, 0.2 + o], [0.2 + o, 0.6 + 0.2 * y ** 2 + o]]


@case(paper=PAPER, name="tensor_double_well")
def tensor_double_well(ctx):
    """Non-reversible double well, state-dependent tensor D: the PDE's MFPT exponent → V̄ of
    the MAP (Hu et al. Thm 2 beyond isotropic noise), and −ε log p_ε → the grid's V."""
    drift = _linear_drift(ROT)
    dyn = Dynamics(2, drift=drift, diffusion=_tensor_D)
    r = minimum_action_path(dyn, [-1, 0], [1, 0], n_points=ctx.pick(quick=100, full=200))
    Vbar = r.action
    box = [(-1.6, 1.6), (-0.7, 1.3)]
    g = fp.Grid(box, ctx.pick(quick=(96, 60), full=(160, 100)))
    V = quasipotential(dyn, g, [-1.0, 0.0])
    V_saddle = float(V.at(r.saddle))
    eps = np.array(ctx.pick(quick=(0.03, 0.025, 0.02, 0.015),
                            full=(0.03, 0.025, 0.02, 0.015, 0.0125)))
    logt, phi_err = [], []
    basin = (V.values <= 0.6 * Vbar) & (g.coords[0] < 0)
    for e in eps:
        model = fp.FokkerPlanck(g, drift=drift,
                                diffusion=lambda x, y, e=e: e * np.array(_tensor_D(x, y)))
        tau = model.mean_first_passage_time(lambda x, y: (x - 1) ** 2 + y ** 2 < 0.09)
        logt.append(float(np.log(tau.at([-1.0, 0.0]))))
        p = model.stationary().values
        i0 = np.unravel_index(np.argmin(V.values), g.shape)
        phi = -e * np.log(p / p[i0])
        phi_err.append(float(np.max(np.abs(phi - V.values)[basin])))
    coef = np.linalg.lstsq(np.stack([1 / eps, np.ones_like(eps), eps], 1), logt, rcond=None)[0]
    slope_err = np.polyfit(eps, phi_err, 1)
    fig, (ax, ax2) = ctx.figure(1, 2)
    plot_quasipotential(V, ax=ax, paths=[r], vmax=0.5)
    ax.set_title("OLIM V and the MAP (tensor D, rotated drift)")
    ax2.plot(1 / eps, logt, "o", label="log E τ (PDE)")
    ax2.plot(1 / eps, Vbar / eps + coef[1] + coef[2] * eps, "-", label="slope V̄ of the MAP")
    ax2.set(xlabel="1/ε", ylabel="log E τ(A → B)")
    ax2.legend(fontsize=7)
    h = float(np.max(g.h))
    return Case(
        title="Non-reversible double well, tensor D(x): PDE exponent → MAP's V̄; −ε log p → V",
        equation="Hu, Li, Li & Liu, Theorem 2: η log E𝒯 → V̄ (quasi-potential barrier)",
        claim="log E τ = V̄/ε + O(1) with V̄ the minimum action to the saddle, for anisotropic "
              "state-dependent D without detailed balance; −ε log p_ε → V",
        method=f"gMAM (P = {len(r.path)}); OLIM (K = 5) on {g.shape}; FokkerPlanck (tensor, "
               f"Itô) MFPT from (−1, 0) to the disk |x − (1, 0)| < 0.3 and stationary density "
               f"at ε = {eps.tolist()} on the same grid",
        reference_method="the MAP's action V̄; least-squares fit log τ = a/ε + c₀ + c₁ε",
        tolerance_note="the fit's truncation O(ε²) in log τ; OLIM O(h); −ε log p = V + O(ε)",
        checks=[
            Check("OLIM V(saddle) vs the MAP's V̄", V_saddle, reference=Vbar, rtol=0.02,
                  why=f"OLIM O(h) (h = {h:.3g}), gMAM O(h²)"),
            Check("MFPT exponent a vs V̄", float(coef[0]), printed=Vbar, claim_rtol=0.03,
                  why="fit over V̄/ε ∈ [7.7, 18.5]; the prefactor's O(ε) term is fitted"),
            Check("max |−ε log p_ε − V| in the basin at the smallest ε", phi_err[-1],
                  reference=0.0, atol=3 * eps[-1] + 2 * h,
                  why="O(ε) from the prefactor, plus OLIM's O(h)"),
            Check("that error shrinks with ε (positive slope in ε)", bool(slope_err[0] > 0),
                  reference=True),
        ],
        numbers={"V bar (gMAM)": Vbar, "V(saddle) (OLIM)": V_saddle, "eps": eps,
                 "log tau": logt, "fit": coef, "phi errors": phi_err,
                 "summary": f"V̄ {Vbar:.5f}; OLIM {V_saddle:.5f}; MFPT exponent "
                            f"{coef[0]:.5f}; −ε log p err {phi_err[-1]:.3g} at ε = {eps[-1]}"},
        key="summary",
        figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# 6. transition-path theory
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="tpt_rates")
def tpt_rates(ctx):
    """TPT: k_AB = 1/(E_{μ_A}τ_B + E_{μ_B}τ_A) and = fpsolve's reactive-flux rate × ρ_A."""
    g = fp.Grid([(-1.8, 1.8), (-1.0, 1.5)], ctx.pick(quick=(54, 38), full=(108, 76)))
    A = lambda x, y: (x + 1) ** 2 + y ** 2 < 0.1      # noqa: E731
    B = lambda x, y: (x - 1) ** 2 + y ** 2 < 0.1      # noqa: E731
    models = {"reversible": fp.FokkerPlanck(g, potential=_U, diffusion=0.08),
              "non-reversible": fp.FokkerPlanck(g, drift=_linear_drift(ROT), diffusion=0.08)}
    checks, numbers, results = [], {}, {}
    for name, model in models.items():
        T = transition_paths(model, A, B)
        tB = model.mean_first_passage_time(B).values
        tA = model.mean_first_passage_time(A).values
        cycle = 1.0 / (np.sum(T.entrance_A * tB) + np.sum(T.entrance_B * tA))
        er = model.escape_rate(A, B, method="reactive-flux").rate
        results[name] = T
        numbers[name] = {"k_AB": T.rate, "renewal": cycle, "k_AB/rho_A": T.rate_from_A,
                         "escape_rate reactive-flux": er, "q- vs 1-q+": T.info[
                             "reversibility_gap"], "flux defect": T.info["flux_defect"]}
        checks += [
            Check(f"k_AB vs 1/(E_μA τ_B + E_μB τ_A) ({name})", T.rate, reference=cycle,
                  rtol=1e-9, why="renewal identity, exact for the jump process: round-off"),
            Check(f"k_AB/ρ_A vs escape_rate(reactive-flux) ({name})", T.rate_from_A,
                  reference=er, rtol=1e-9, why="same definition, independent code: round-off"),
            Check(f"divergence of the reactive current off A ∪ B ({name})",
                  T.info["divergence_defect"], reference=0.0, atol=1e-10, why="round-off"),
        ]
    checks.append(Check("q⁻ = 1 − q⁺ under detailed balance",
                        results["reversible"].info["reversibility_gap"], reference=0.0,
                        atol=1e-10, why="time reversal is the process itself"))
    fig, (ax, ax2) = ctx.figure(1, 2)
    plot_reactive_current(results["reversible"], ax=ax)
    plot_reactive_current(results["non-reversible"], ax=ax2)
    ax.set_title("reversible: " + ax.get_title(), fontsize=8)
    ax2.set_title("non-reversible: " + ax2.get_title(), fontsize=8)
    return Case(
        title="TPT rates: renewal identity and flux-over-population, with and without "
              "detailed balance",
        equation="Metzner, Schütte & Vanden-Eijnden (2009), discrete TPT",
        claim="k_AB = Σ_{i∈A, j∉A} π_i r_ij q⁺_j = 1/(E_{μ_A} τ_B + E_{μ_B} τ_A); "
              "k_AB/ρ_A is the reactive-flux escape rate",
        method=f"transition_paths on {g.shape} (committors from FokkerPlanck.committor, the "
               f"backward committor from the reversed chain)",
        reference_method="FokkerPlanck.mean_first_passage_time averaged over the entrance laws; "
                         "FokkerPlanck.escape_rate(method='reactive-flux')",
        tolerance_note="identities exact for the discrete process: round-off only",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# 7. a small trained network (torch, --full)
# ---------------------------------------------------------------------------------------------
def _mountain_pass(U, start, end):
    """The lowest height at which the cells ``start`` and ``end`` of a 2D array U connect
    through edge-neighbours (Dijkstra's algorithm on the maximum along the path), and the cell
    where that path reaches it, and the lowest value on the path: ``(top_cell, height,
    lowest)``."""
    import heapq
    best = np.full(U.shape, np.inf)
    best[start] = U[start]
    came = {}
    queue = [(U[start], start)]
    while queue:
        h, c = heapq.heappop(queue)
        if c == end:
            break
        if h > best[c]:
            continue
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            n = (c[0] + di, c[1] + dj)
            if 0 <= n[0] < U.shape[0] and 0 <= n[1] < U.shape[1] and max(h, U[n]) < best[n]:
                best[n] = max(h, U[n])
                came[n] = c
                heapq.heappush(queue, (best[n], n))
    path = [end]
    while path[-1] != start:
        path.append(came[path[-1]])
    top = max(path, key=lambda c: U[c])
    return top, float(U[top]), float(min(U[c] for c in path))


@case(paper=PAPER, name="network_map", quick=False, requires=("torch",))
def network_map(ctx):
    """A trained network: minimum-action paths in its full parameter space with the measured
    gradient-noise covariance (floored) as D, against the straight line, the minimum-energy path
    and the reduced 2D PDE's escape exponent."""
    import scipy.interpolate as sip
    import scipy.optimize as so
    import torch

    from fpsolve import nets
    from fpsolve.large_deviations import network_dynamics

    torch.set_num_threads(1)
    wd, lr, batch = 1e-3, 0.1, 8
    widths = [2, 3, 1]
    data = nets.teacher_student(n=200, n_features=2, hidden=(3,), noise=0.3, seed=1)
    obj = nets.Objective(nets.mlp(widths, activation="tanh", seed=0), data)

    def fg(th):
        t = torch.tensor(th, requires_grad=True)
        val = obj.loss(t) + 0.5 * wd * (t ** 2).sum()
        (g,) = torch.autograd.grad(val, t)
        return float(val), g.detach().numpy()

    frozen = network_dynamics(obj, lr=lr, batch_size=batch, floor=1e-8, state_dependent=False,
                              weight_decay=wd)
    # minima: BFGS from ten initialisations, Newton-refined; the two lowest distinct losses
    minima = []
    for seed in range(10):
        th = nets.flat_parameters(nets.mlp(widths, activation="tanh", seed=seed)).numpy()
        x = frozen.refine_critical_point(so.minimize(fg, th, jac=True, method="BFGS",
                                                     options={"gtol": 1e-10}).x)
        if frozen.classify(x)["kind"] == "attractor":
            minima.append(x)
    losses = np.array([fg(x)[0] for x in minima])
    o = np.argsort(losses)
    a = minima[o[0]]
    b = [minima[k] for k in o if losses[k] > losses[o[0]] + 1e-6][0]
    # D at a: (η/2)Σ₁/B, floored at 1% of its largest eigenvalue where Σ₁ is nearly singular
    noise = nets.gradient_noise(obj, theta=a)
    lam_max = float(noise.eigenvalues[0]) * 0.5 * lr / batch
    floor = 0.01 * lam_max
    dyn_f = network_dynamics(obj, lr=lr, batch_size=batch, floor=floor, state_dependent=False,
                             theta=a, weight_decay=wd)
    dyn_s = network_dynamics(obj, lr=lr, batch_size=batch, floor=floor, state_dependent=True,
                             weight_decay=wd)
    P = 24
    line = np.linspace(a, b, P)
    S_line_f = dyn_f.action_state(line).action
    S_line_s = dyn_s.action_state(line).action
    # the reduced 2D landscape: the plane through a, b and the most negative curvature direction
    # at their midpoint, tabulated and splined (the same potential for the path and the PDE)
    H = nets.hessian(obj, theta=0.5 * (a + b)) + wd * np.eye(len(a))
    w, U = np.linalg.eigh(H)
    e1 = (b - a) / np.linalg.norm(b - a)
    v = U[:, 0] - (U[:, 0] @ e1) * e1
    V = np.stack([e1, v / np.linalg.norm(v)], 1)
    # rotate the basis of the plane so that the reduced D is diagonal: the finite-volume tensor
    # scheme is an M-matrix only for a diagonally dominant D (fpsolve.numerics.anisotropic)
    red = nets.reduced_model(obj, theta=a, directions=V)
    _, R = np.linalg.eigh(red.diffusion(lr, batch))
    V = V @ R
    V = V * np.sign(V[np.argmax(np.abs(V), axis=0), [0, 1]])
    red = nets.reduced_model(obj, theta=a, directions=V)
    ell = float(np.linalg.norm(b - a))
    zb0 = V.T @ (b - a)
    span = [(min(0.0, zb0[k]) - 0.6 * ell, max(0.0, zb0[k]) + 0.6 * ell) for k in (0, 1)]
    zs = (np.linspace(*span[0], 121), np.linspace(*span[1], 121))
    Z1, Z2 = np.meshgrid(*zs, indexing="ij")
    TH = a + np.stack([Z1, Z2], -1) @ V.T
    tab = red.potential(Z1, Z2) + 0.5 * wd * np.sum(TH ** 2, -1)
    spl = sip.RectBivariateSpline(*zs, tab, kx=5, ky=5)

    # whiten the plane: w = z·sqrt(Λ_max/Λ) with D_red = diag(Λ) at η = lr; there D = Λ_max·I,
    # the reduced SDE is a gradient system with isotropic noise, reversible, and the PDE is solved
    # with its exact discrete Gibbs state (an anisotropic D would leave no discrete potential)
    Dred = red.diffusion(lr, batch)
    dmax = float(np.max(np.diag(Dred)))
    sc = np.sqrt(np.diag(Dred) / dmax)      # only the quieter axis is stretched: D = dmax·I

    def U2(w1, w2):
        return spl.ev(w1 * sc[0], w2 * sc[1])

    def gU2(w1, w2):
        return (sc[0] * spl.ev(w1 * sc[0], w2 * sc[1], dx=1),
                sc[1] * spl.ev(w1 * sc[0], w2 * sc[1], dy=1))

    dyn2 = Dynamics(2, potential=U2, gradient=gU2, diffusion=dmax)
    za = dyn2.refine_critical_point([0.0, 0.0])
    zb = dyn2.refine_critical_point((V.T @ (b - a)) / sc)
    ellw = float(np.linalg.norm(zb - za))
    # a descent method finds the MAP of the valley its start lies in: the straight line crosses
    # a hump between the minima, so the paths round it on either side are tried too
    mid = 0.5 * (za + zb)
    perp = np.array([-(zb - za)[1], (zb - za)[0]]) / ellw
    starts = [None] + [np.array([mid + s * 0.3 * ellw * perp]) for s in (1, -1)]
    found = []
    for w in starts:
        try:
            found.append(minimum_action_path(dyn2, za, zb, n_points=80, tol=1e-7, initial=w))
        except fp.SolverError:   # the start across the hump stalls on the maximum: not a MAP
            continue
    r2 = min(found, key=lambda r: r.action)
    embedded = a + (r2.path * sc) @ V.T
    S_emb_f = dyn_f.action_state(np.vstack([a, embedded[1:-1:max(1, len(embedded) // P)],
                                            b])).action
    # the PDE of the reduced SDE: the time from A to (a disk round) B. Its exponent is not
    # V_A(B), the quasi-potential (the cheapest sum of climbs, OLIM): the plane has shallow
    # wells between A and B, and the time to cross a chain of wells grows with its highest
    # climb above the deepest well before it (Freidlin–Wentzell's cycles). A is the deepest, so
    # the exponent is the mountain pass U(S*) − U(A): S* is the highest cell of the grid's
    # minimax path from A to B, refined to a saddle of the spline by Newton's method. The
    # learning rates put that barrier over ε between 8 and 20 (D ∝ η)
    lo = np.maximum(r2.path.min(0) - 0.2 * ellw, [zs[0][0] / sc[0], zs[1][0] / sc[1]])
    hi = np.minimum(r2.path.max(0) + 0.2 * ellw, [zs[0][-1] / sc[0], zs[1][-1] / sc[1]])
    g = fp.Grid(list(zip(lo, hi)), ctx.pick(quick=(120, 96), full=(240, 192)))
    Ucell = U2(*g.coords)
    Vq = quasipotential(dyn2, g, za)
    barrier = float(Vq.at(zb))
    top_cell, grid_pass, lowest = _mountain_pass(Ucell, *(tuple(g.cell_index(z)[0])
                                                          for z in (za, zb)))
    if lowest < float(U2(*za)):   # a well deeper than A on the way: its climb would count
        raise fp.SolverError("the minimax path from A to B passes a well deeper than A; the "
                             "mountain pass above A is not the exponent there")
    pass_point = dyn2.refine_critical_point([c[top_cell] for c in g.coords])
    if dyn2.classify(pass_point)["kind"] != "saddle":
        raise fp.SolverError(f"the top of the minimax path refines to {pass_point}, not a saddle")
    mountain = float(U2(*pass_point) - U2(*za)) / dmax       # at η = lr
    S1 = mountain * lr                                      # at η = 1 (V scales as 1/η)
    etas = S1 / np.array(ctx.pick(quick=(8.0, 11.0, 14.0, 17.0), full=(8.0, 11, 14, 17, 20)))
    logt = []
    for eta in etas:
        model = fp.FokkerPlanck(g, potential=Ucell, diffusion=dmax * eta / lr)
        tau = model.mean_first_passage_time(
            lambda x, y: (x - zb[0]) ** 2 + (y - zb[1]) ** 2 < (0.05 * ellw) ** 2)
        logt.append(float(np.log(tau.at(za))))
    inv = 1.0 / etas
    coef = np.linalg.lstsq(np.stack([inv, np.ones_like(inv), 1 / inv], 1), logt, rcond=None)[0]
    fig, (ax, ax2) = ctx.figure(1, 2)
    cs = ax.contourf(zs[0] / sc[0], zs[1] / sc[1], tab.T, levels=30, cmap="magma_r")
    fig.colorbar(cs, ax=ax, label="L + (λ/2)|θ|² on the plane")
    ax.plot(r2.path[:, 0], r2.path[:, 1], "c-", label="MAP (reduced SDE)")

    ax.plot([0, zb[0]], [0, zb[1]], "w--", label="straight line")
    ax.set(xlabel="w₁", ylabel="w₂", title=f"d = {len(a)}: the plane, whitened (D = I)")
    ax.legend(fontsize=7)
    ax2.plot(inv, logt, "o", label="log E τ(A → B) (reduced PDE)")
    ax2.plot(inv, S1 * inv + coef[1] + coef[2] / inv, "-", label="slope: mountain pass")
    ax2.set(xlabel="1/η", ylabel="log E τ")
    ax2.legend(fontsize=7)
    return Case(
        title="A trained network: paths in the full parameter space with the gradient-noise "
              "covariance as D; the reduced PDE's exponent",
        equation="Hu et al. Thm 2 (η log E𝒯 → V̄); Chaudhari–Soatto: D is the gradient "
                 "covariance, low-rank",
        claim="the escape exponent between two minima is the minimum action with "
              "D = (η/2)Σ₁/B; along a 2D slice the PDE's exponent is the slice's barrier "
              "(here the mountain pass: the slice has shallow wells between A and B)",
        method=f"MLP {widths} (tanh, d = {len(a)}), weight decay {wd}, N = 200; minima by BFGS + "
               f"Newton; torch gMAM actions (Woodbury, floor {floor:.2g} = 1% of λ_max) of the "
               f"straight line and of the reduced MAP embedded; reduced_model on the plane "
               f"(a, b, most negative curvature at the midpoint), splined; gMAM and "
               f"FokkerPlanck MFPTs at η = {np.round(etas, 3).tolist()} on {g.shape}",
        reference_method="the mountain pass of the spline (the grid's minimax path from A to B, "
                         "its top refined to a saddle by Newton) for the PDE exponent; OLIM for "
                         "the reduced gMAM action; the projection inequality (VᵀD V)-norm ≤ "
                         "D-norm for the embedded path",
        tolerance_note="fit of log τ = a/η + c₀ + c₁η over barrier/ε ∈ [8, 20]",
        checks=[
            Check("reduced PDE exponent of τ(A → B) vs the mountain pass × η",
                  float(coef[0]), reference=S1, rtol=0.05,
                  why="Freidlin–Wentzell for the same 2D SDE (A the deepest well on the way): "
                      "fit truncation O(ε²) over barrier/ε ∈ [8, 20]"),
            Check("gMAM's action vs OLIM's V_A(B)", r2.action, reference=barrier, rtol=0.05,
                  why="two methods for the same quasi-potential: OLIM O(h), gMAM O(h²)"),
            Check("reduced action ≤ full (frozen D) action of the same path embedded",
                  bool(r2.action <= S_emb_f * (1 + 1e-9)), reference=True,
                  why="the projected Mahalanobis norm is smaller, segment by segment"),
            Check("embedded MAP ≤ straight line (frozen D, full space)",
                  bool(S_emb_f <= S_line_f), reference=True,
                  why="the line crosses the ridge where the MAP goes round it"),
        ],
        numbers={"d": len(a), "losses": [fg(a)[0], fg(b)[0]], "floor": floor,
                 "noise eigenvalues (top 5)": noise.eigenvalues[:5] * 0.5 * lr / batch,
                 "S line (frozen D)": S_line_f, "S line (state-dependent D)": S_line_s,
                 "S embedded reduced MAP (frozen D)": S_emb_f,
                 "S reduced MAP (eta = 0.1)": r2.action,
                 "pieces (eta = 0.1)": [q["action"] for q in r2.info["pieces"]],
                 "critical points on the reduced MAP": r2.info["critical_points"],
                 "V_A(B) (OLIM, eta = 0.1)": barrier,
                 "mountain pass (eta = 0.1): spline saddle, grid minimax": [
                     mountain, (grid_pass - Ucell.flat[np.ravel_multi_index(
                         tuple(g.cell_index(za)[0]), g.shape)]) / dmax],
                 "mountain pass point (whitened plane)": pass_point,
                 "etas": etas, "log tau": logt,
                 "fit": coef,
                 "summary": f"reduced: mountain pass×η {S1:.4g}, PDE exponent {coef[0]:.4g} "
                            f"(V_A(B)×η {barrier * lr:.4g}); full space "
                            f"(η = {lr}): line {S_line_f:.4g}, embedded MAP {S_emb_f:.4g}"},
        key="summary",
        figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# 7b. a network's minimum-action path out of its basin, in the full parameter space (torch)
# ---------------------------------------------------------------------------------------------
def _descent_path(dyn, saddle, minimum, n_points):
    """The minimum-energy path of a gradient drift from ``minimum`` to an adjacent index-1
    ``saddle``: the steepest-descent orbit ẋ = b(x) from the saddle along its unstable direction
    (scipy's LSODA with the exact Jacobian) until it is within 1e-5·|saddle − minimum| of the
    minimum, reversed and resampled to ``n_points`` points equally spaced in arclength."""
    J = dyn.jacobian_at(saddle)[0]
    lam, vec = np.linalg.eig(J)
    v = np.real(vec[:, int(np.argmax(lam.real))])
    v *= np.sign(v @ (minimum - saddle)) / np.linalg.norm(v)
    size = float(np.linalg.norm(saddle - minimum))

    def near(t, x):
        return np.linalg.norm(x - minimum) - 1e-5 * size
    near.terminal = True
    sol = si.solve_ivp(lambda t, x: dyn.drift_at(x)[0], (0.0, 1e7), saddle + 1e-6 * size * v,
                       method="LSODA", jac=lambda t, x: dyn.jacobian_at(x)[0], events=near,
                       rtol=1e-9, atol=1e-12)
    if sol.status != 1:
        raise fp.SolverError(f"the descent orbit from the saddle did not reach the minimum "
                             f"({sol.message}).")
    return resample(np.vstack([minimum, sol.y.T[::-1]]), n_points)


@case(paper=PAPER, name="network_saddle", quick=False, requires=("torch",))
def network_saddle(ctx):
    """A network's minimum-action path from a minimum to an index-1 saddle in its full parameter
    space (d = 37): with isotropic noise against V̄ = ΔU/c and the minimum-energy path; with the
    measured gradient-noise covariance against the straight line, the minimum-energy path and
    the quasi-potential bounds of a gradient drift."""
    import torch

    from fpsolve import nets
    from fpsolve.large_deviations import TorchDynamics, network_dynamics, whitened_path

    torch.set_num_threads(1)
    wd, lr, batch = 0.1, 0.1, 16
    obj, A, S = nets.teacher_student_saddle(n=128, n_features=4, width=6, weight_decay=wd)
    top = float(nets.gradient_noise(obj, theta=A).eigenvalues[0]) * 0.5 * lr / batch
    dyn = network_dynamics(obj, lr=lr, batch_size=batch, floor=1e-2 * top,
                           state_dependent=False, theta=A, weight_decay=wd)
    a, s = dyn.refine_critical_point(A), dyn.refine_critical_point(S)
    kinds = dyn.classify(a)["kind"], dyn.classify(s)["kind"]
    if kinds != ("attractor", "saddle"):
        raise fp.SolverError(f"the teacher–student endpoints are {kinds}, not a minimum and a "
                             f"saddle.")

    def U(th):                                      # L + ½λ|θ|², the potential of b = −∇U
        t = torch.as_tensor(th)
        return float(obj.loss(t) + 0.5 * wd * (t ** 2).sum())
    dU = U(s) - U(a)
    kw = dict(preconditioner="linearised", anderson=20, max_iter=3000)
    # isotropic noise D = c·I (c = the largest eigenvalue of the measured D): V̄ = ΔU/c exactly.
    # The normal residual of this stiff path levels off near 3e-4 (tol 1e-3), where the action
    # has converged to its O(h²) discretisation error; Richardson's (4S₄₉ − S₂₅)/3 removes it
    iso = TorchDynamics(len(a), dyn.torch_drift, diffusion=top)
    maps = {P: minimum_action_path(iso, a, s, n_points=P, tol=1e-3, **kw) for P in (25, 49)}
    S_rich = (4 * maps[49].action - maps[25].action) / 3
    mep = _descent_path(dyn, s, a, 400)
    size = float(np.linalg.norm(s - a))

    def distance(path):       # largest distance of the path's points from the MEP polyline
        seg = mep[1:] - mep[:-1]
        t = np.clip(np.einsum("pkd,kd->pk", path[:, None] - mep[None, :-1], seg)
                    / np.sum(seg ** 2, 1), 0.0, 1.0)
        gap = path[:, None] - (mep[None, :-1] + t[..., None] * seg)
        return float(np.max(np.min(np.linalg.norm(gap, axis=2), axis=1))) / size
    gaps = {P: distance(r.path) for P, r in maps.items()}
    # the measured covariance, frozen at the minimum and floored at 1% of its top eigenvalue
    r = whitened_path(dyn, a, s, n_points=25, tol=1e-4, **kw)
    S_line = dyn.action_state(np.linspace(a, s, 25)).action
    S_mep = dyn.action_state(_descent_path(dyn, s, a, 25)).action
    lam = np.linalg.eigvalsh(dyn.diffusion_at(a[None])[0])
    fig, (ax, ax2) = ctx.figure(1, 2)
    for P, q in maps.items():
        ax.plot(np.linspace(0, 1, P), [U(x) - U(a) for x in q.path], "o-", ms=3,
                label=f"MAP, D = c·I, {P} points")
    ax.plot(np.linspace(0, 1, len(mep)), [U(x) - U(a) for x in mep], "k--", lw=1, label="MEP")
    ax.set(xlabel="point / (P − 1)", ylabel="U − U(min)", title=f"d = {len(a)}: isotropic noise")
    ax.legend(fontsize=7)
    ax2.plot(r.cumulative, "o-", ms=3, label=f"MAP, measured D: {r.action:.4g}")
    ax2.axhline(S_line, color="C1", ls=":", label=f"straight line: {S_line:.4g}")
    ax2.axhline(S_mep, color="k", ls="--", label=f"MEP: {S_mep:.4g}")
    ax2.set(xlabel="point", ylabel="action along the path", title="measured noise (frozen)")
    ax2.legend(fontsize=7)
    checks = [
        Check("V̄·c, isotropic D = c·I (Richardson 25/49 points) vs ΔU", S_rich * top,
              reference=dU, rtol=1e-4,
              why="gradient drift, isotropic D: V̄ = ΔU/c; the midpoint rule's O(h²) error "
                  "(8e-4 at 25 points, 2e-4 at 49) removed, O(h⁴) and the 1e-3 residual left"),
        Check("distance of the 49-point MAP from the MEP / |saddle − minimum|", gaps[49],
              reference=0.0, atol=2e-3,
              why="for isotropic D the MAP is the MEP; the gap of the discrete path is O(h²) "
                  f"(25 points: {gaps[25]:.1e})"),
        Check("measured D: MAP action < straight line's", bool(r.converged and r.action < S_line),
              reference=True, why="the MAP minimises the action over paths"),
        Check("measured D: MAP action < MEP's", bool(r.converged and r.action < S_mep),
              reference=True,
              why="with anisotropic D the gradient path is not the minimiser (Chaudhari–Soatto)"),
        Check("measured D: ΔU/λ_max(D) ≤ V̄ ≤ S[MEP] ≤ ΔU/λ_min(D)",
              bool(dU / lam[-1] <= r.action <= S_mep <= dU / lam[0]), reference=True,
              why="U/λ_max is a subsolution of b·∇V + ∇VᵀD∇V = 0 (a lower bound on every "
                  "path's action); along the MEP the action is ∫∇UᵀD⁻¹∇U dt ≤ ΔU/λ_min"),
    ]
    return Case(
        title="A network's minimum-action path out of its basin, in the full parameter space",
        equation="Freidlin–Wentzell: V̄ = min action ¼∫|φ̇ − b|²_{D⁻¹}; b = −∇U, D = c·I ⇒ "
                 "V̄ = ΔU/c",
        claim="the escape exponent through a saddle is the minimum action with D = (η/2)Σ₁/B; "
              "with isotropic noise it is ΔU/c along the minimum-energy path",
        method=f"teacher–student tanh MLP [4, 6, 1] (d = {len(a)}, N = 128, weight decay {wd}), "
               f"minimum → the index-1 saddle with one unit removed; torch gMAM "
               f"(linearised damping, Anderson 20) with D = c·I at 25 and 49 points, and with "
               f"the measured D (η = {lr}, B = {batch}, frozen, floor 1% of the top eigenvalue) "
               f"in whitened coordinates, 25 points",
        reference_method="ΔU/c (closed form for a gradient drift); the steepest-descent orbit "
                         "from the saddle (scipy LSODA) as the MEP",
        tolerance_note="Richardson-extrapolated action; O(h²) path gap",
        checks=checks,
        numbers={"d": len(a), "dU": dU, "c": top, "S 25 (D = cI)": maps[25].action,
                 "S 49 (D = cI)": maps[49].action, "dU/c": dU / top,
                 "MAP-MEP gap 25, 49": [gaps[25], gaps[49]],
                 "S MAP (measured D)": r.action, "bisected": r.info["bisected_action"],
                 "S straight line": S_line, "S MEP": S_mep,
                 "D eigenvalues (min, max)": [lam[0], lam[-1]],
                 "steps (25, 49, measured D)": [maps[25].iterations, maps[49].iterations,
                                                r.iterations],
                 "summary": f"ΔU/c {dU / top:.6g} vs Richardson {S_rich:.6g}; measured D: MAP "
                            f"{r.action:.4g} < line {S_line:.4g}, MEP {S_mep:.4g}"},
        key="summary", figure=ctx.save_figure(fig))
