"""Xie, Sato & Sugiyama, *A diffusion theory for minima selection* (seed 003): validation cases.

The model (eq. 8, docs/theory/xie): the Itô SDE dθ = −∇L dt + sqrt(2D) dW, time t = k·η, with
D = (η/2B) H near minima and (η/2B)[H]⁺ near saddles ([H]⁺: eigenvalues replaced by their absolute
values); D vanishes where an eigenvalue of H crosses zero and is floored there.

Cases: the noise model and its floor; Theorem 3.1 (SGLD) in 1D and 2D; Theorem 3.2 (SGD): the
exponent as the path integral I = ∫L′/D_ee, the implied s, and the prefactor per convention (the
printed 2π/|H_be| is the isothermal one; SGD is Itô, 2π/H_ae); Rules 1–2 (parallel paths add
rates, sequential paths add times); Corollary 3.2.2 (basin probabilities); the scaling laws of
−log γ in B, 1/η and 1/k; the Styblinski–Tang valley boundary of Appendix C.
"""
from __future__ import annotations

from contextlib import nullcontext

import numpy as np

import fpsolve as fp
from fpsolve import analysis, theory
from fpsolve.theory import xie

from .framework import Case, Check
from .registry import case

PAPER = "xie"


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def _one_blas_thread():
    """OpenBLAS threads spinning on a loaded 2-core machine slow pyamg's setup (used for
    non-reversible stationary states) by ~40×; one thread is faster for these sizes."""
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(1)
    except ImportError:
        return nullcontext()


# The symmetric double well L = (θ² − 1)²/4: minima ±1 (H_a = 2), saddle 0 (H_b = −1), ΔL = ¼,
# inflection points ±1/√3 where D = (η/2B)|L″| vanishes and the floor takes over.
def _dw(x):
    return (x ** 2 - 1) ** 2 / 4


def _dw1(x):
    return x ** 3 - x


def _dw2(x):
    return 3 * x ** 2 - 1


def _floor_kinks(floor, scale=1.0):
    """Points where |L″| = floor for L = (θ²−1)²/4 rescaled as L(√k θ) (scale = k)."""
    pts = []
    for t in (-1, 1):
        v = (1 + t * floor / scale) / 3
        if v > 0:
            pts += [-np.sqrt(v / scale), np.sqrt(v / scale)]
    return sorted(pts)


# ---------------------------------------------------------------------------------------------
# eq. (8): D = (η/2B) H, [H]⁺ near saddles, and the floor at inflection points
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="hessian_noise_eq8")
def hessian_noise_eq8(ctx):
    """Eq. (8): D = (η/2B)[H]⁺; it vanishes at inflection points, where fpsolve needs a floor."""
    eta, B, floor = 0.1, 8, 0.05
    grid = fp.Grid([(-2.0, 2.0)], ctx.pick(quick=400, full=4000))
    x = grid.axes[0]
    exact = (eta / (2 * B)) * np.maximum(np.abs(_dw2(x)), floor)
    try:
        fp.sgd.model(grid, _dw, eta, B, fp.noise.Hessian())
        refused = False
    except fp.InputError as exc:
        refused = "singular" in str(exc)
    m_fd = fp.sgd.model(grid, _dw, eta, B, fp.noise.Hessian(floor=floor))       # FD Hessian
    m_an = fp.sgd.model(grid, _dw, eta, B, fp.noise.Hessian(hessian=_dw2, floor=floor))
    err_fd = float(np.max(np.abs(m_fd.D / exact - 1)))
    err_an = float(np.max(np.abs(m_an.D / exact - 1)))
    # 2D: a Hessian with a negative eigenvalue and off-diagonal terms near the saddle
    g2 = fp.Grid([(-1.5, 1.5), (-1.0, 1.0)], 30)
    loss2 = lambda u, v: _dw(u) + 0.5 * v ** 2 + 0.3 * u * v ** 2            # noqa: E731

    def hess2(u, v):
        return np.array([[_dw2(u), 0.6 * v], [0.6 * v, 1.0 + 0.6 * u]])

    m2 = fp.sgd.model(g2, loss2, eta, B, fp.noise.Hessian(hessian=hess2, floor=floor))
    D2 = m2.D_tensor if getattr(m2, "D_tensor", None) is not None else m2.D
    Hm = np.moveaxis(hess2(*g2.coords).reshape(2, 2, -1), -1, 0)
    w, V = np.linalg.eigh(Hm)
    ref2 = (eta / (2 * B)) * np.einsum("nij,nj,nkj->nik", V, np.maximum(np.abs(w), floor), V)
    got2 = np.moveaxis(np.asarray(D2).reshape(2, 2, -1), -1, 0)
    err2 = float(np.max(np.abs(got2 - ref2)) / np.max(np.abs(ref2)))
    n_negative = int(np.sum(w[:, 0] < 0))
    checks = [
        Check("without a floor fpsolve refuses: [H]⁺ singular at θ = ±1/√3", refused,
              reference=True, why="logical: L″ = 3θ² − 1 changes sign inside the grid"),
        Check("D = (η/2B) max(|L″|, floor), analytic hessian", err_an, reference=0.0, atol=1e-14,
              why="the same closed form: round-off"),
        Check("D = (η/2B) max(|L″|, floor), finite-difference Hessian", err_fd, reference=0.0,
              atol=1e-5, why="central differences, step δ = ε^(1/4)·max(1, |θ|): truncation "
                             "δ²|L⁗|/12 ≈ 3e-8 absolute, over D's smallest value (the floor "
                             "0.05): 6e-7; 1e-5 leaves room for round-off"),
        Check(f"2D: D = (η/2B)[H]⁺ (tensor, {n_negative} cells with a negative eigenvalue)", err2,
              reference=0.0, atol=1e-12, why="eigen-decomposition round-off"),
    ]
    fig, ax = ctx.figure()
    ax.plot(x, (eta / (2 * B)) * np.abs(_dw2(x)), label="(η/2B)|L″|")
    ax.plot(x, m_fd.D, "--", label=f"fpsolve, floor {floor}")
    ax.plot(x, (eta / (2 * B)) * _dw2(x), ":", label="(η/2B) L″ (not a diffusion)")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="θ", ylabel="D(θ)", title="L = (θ²−1)²/4: D vanishes at the inflections")
    ax.legend(fontsize=7)
    return Case(
        title="Eq. (8): D = (η/2B)[H]⁺, floored where H is singular",
        equation="eq. (8) and the [H]⁺ of §2",
        claim="D(θ) = (η/2B) H(θ) near minima, (η/2B)[H]⁺ near saddles",
        method="fpsolve.sgd.model with fpsolve.noise.Hessian (finite differences or an analytic "
               "hessian=, floor=) in 1D and 2D",
        reference_method="closed form (η/2B) max(|λ|, floor) in the Hessian's eigenbasis "
                         "(numpy.linalg.eigh)",
        tolerance_note="round-off, finite-difference truncation",
        checks=checks,
        numbers={"eta": eta, "B": B, "floor": floor, "err analytic": err_an,
                 "err finite differences": err_fd, "err 2D tensor": err2,
                 "refused without floor": refused},
        figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# Theorem 3.1: SGLD (constant D)
# ---------------------------------------------------------------------------------------------
def _k2(x):
    """Transverse curvature of the 2D SGLD landscape: 2 at the minima ±1, 1 at the saddle."""
    return 1.0 + x ** 2


@case(paper=PAPER, name="sgld_escape_thm31")
def sgld_escape_thm31(ctx):
    """Theorem 3.1 (SGLD): τ = 2π sqrt(|det H_b|/det H_a)/|H_be| e^(ΔL/D) vs PDE MFPT, 1D and 2D."""
    from fpsolve.escape import mean_first_passage_time

    c = 2.0                                  # L = c(θ²−1)²/4: H_a = 2c, H_be = −c ≠ −1, ΔL = c/4
    dL = c / 4
    Ds = ctx.pick(quick=[0.1, 0.07, 0.05], full=[0.1, 0.07, 0.05, 0.035, 0.025])
    n1 = ctx.pick(quick=800, full=3200)
    g1 = fp.Grid.aligned(-2.0, 2.0, n=n1)
    h1 = float(g1.h[0])
    t1, t1q, t1p, t1_44 = [], [], [], []
    for D in Ds:
        m = fp.FokkerPlanck(g1, potential=lambda x: c * _dw(x), diffusion=D)
        t1.append(m.mean_first_passage_time(lambda x: x >= 1.0 - h1 / 4).at(-1.0))
        t1q.append(float(theory.quadrature.mfpt_1d(-1.0, 1.0, -2.0 - h1 / 2,
                                                     potential_derivative=lambda x: c * _dw1(x),
                                                     diffusion=D).mean))
        s = xie.sgld_escape_time(2 * c, -c, dL, D)
        t1p.append(s.printed)
        t1_44.append(s.appendix_44)
    t1, t1q, t1p, t1_44 = map(np.array, (t1, t1q, t1p, t1_44))
    # 2D: L = c(x²−1)²/4 + ½(1 + x²) y²: det H_a = 2c·2, det H_b = −c·1 (the det ratio matters)
    sizes = ctx.pick(quick=[(161, 41), (241, 61)], full=[(321, 81), (481, 121)])
    loss2 = lambda x, y: c * _dw(x) + 0.5 * _k2(x) * y ** 2                 # noqa: E731
    D2 = Ds[-1]
    t2 = []
    with _one_blas_thread():
        for nx, ny in sizes:
            hx = 4.0 / (nx - 1)
            g2 = fp.Grid([(-2 - hx / 2, 2 + hx / 2), (-1.0, 1.0)], (nx, ny))
            m2 = fp.FokkerPlanck(g2, potential=loss2, diffusion=D2)
            tau2 = mean_first_passage_time(m2, lambda x, y: x >= 1.0 - hx / 4)
            t2.append(float(tau2.values[g2.cell_index([-1.0, 0.0])[0, 0], ny // 2]))
    Ha2 = np.diag([2 * c, _k2(1.0)])
    Hb2 = np.diag([-c, _k2(0.0)])
    s2 = xie.sgld_escape_time(Ha2, Hb2, dL, D2)
    k1d = xie.sgld_escape_time(2 * c, -c, dL, D2).printed          # without the det ratio
    w = np.sqrt(D2 / (2 * c))                                      # well width
    tol1 = 0.1 * (h1 / w) ** 2 + 1e-6
    checks = [
        Check("1D: PDE MFPT vs quadrature", t1, reference=t1q, rtol=tol1,
              why=f"O(h²): 0.1 (h/w)² with w = {w:.3g}"),
        Check(f"1D: τ vs Theorem 3.1 at ΔL/D = {dL / Ds[-1]:g}", float(t1[-1]),
              printed=float(t1p[-1]), claim_rtol=2 * Ds[-1] / dL,
              why="Eyring–Kramers is the D → 0 limit: O(D/ΔL) corrections, 2D/ΔL"),
        Check(f"2D: PDE MFPT at two resolutions ({sizes[0]} vs {sizes[1]} cells)", t2[-1],
              reference=t2[0], rtol=0.01,
              why="second resolution: the O(h²) error of the coarse grid is below 1%"),
        Check(f"2D: τ vs Theorem 3.1 (det H_a = {4 * c:g}, det H_b = −{c:g}) at ΔL/D = "
              f"{dL / D2:g}", t2[-1], printed=s2.printed, claim_rtol=2 * D2 / dL,
              why="O(D/ΔL) Eyring–Kramers corrections: 2D/ΔL"),
        Check("2D: τ vs the proof's last line (44), 1/|H_be| under the square root", t2[-1],
              printed=s2.appendix_44, corrected=s2.printed, claim_rtol=2 * D2 / dL,
              erratum=True, why="(44) is off by sqrt(|H_be|) = "
                                f"{np.sqrt(c):.3g}; same asymptotic tolerance"),
    ]
    fig, ax = ctx.figure()
    inv = dL / np.array(Ds)
    ax.semilogy(inv, t1q, "k-", label="1D quadrature (exact)")
    ax.semilogy(inv, t1, "o", label="1D PDE MFPT")
    ax.semilogy(inv, t1p, "r--", label="Thm 3.1 (1D)")
    ax.semilogy(inv, t1_44, "m:", label="proof's (44): √ misplaced")
    ax.semilogy([dL / D2], [t2[-1]], "s", label="2D PDE MFPT")
    ax.semilogy([dL / D2], [s2.printed], "r^", label="Thm 3.1 (2D, det ratio)")
    ax.set(xlabel="ΔL / D", ylabel="mean escape time τ", title="SGLD: Theorem 3.1")
    ax.legend(fontsize=7)
    return Case(
        title="Theorem 3.1 (SGLD): τ = 2π sqrt(|det H_b|/det H_a)/|H_be| · exp(ΔL/D)",
        equation="Theorem 3.1; proof eqs. (43)–(44)",
        claim="τ = 2π sqrt(−det H_b / det H_a) (1/|H_be|) exp(ΔL/D) (the Eyring–Kramers law)",
        corrected_claim="the statement is right; the proof's last line (44) puts 1/|H_be| under "
                        "the square root (an erratum, shown in the figure)",
        method=f"fpsolve.escape MFPT from the minimum to the other minimum: 1D ({n1 + 1} "
               f"cells), 2D L = c(x²−1)²/4 + ½(1 + x²)y² (c = {c:g}) at two resolutions",
        reference_method="theory.quadrature.mfpt_1d (1D exact); second resolution (2D)",
        tolerance_note="O(h²) numerics; O(D/ΔL) asymptotics of the theorem",
        checks=checks,
        numbers={"c": c, "D": Ds, "1D tau PDE": t1, "1D tau quadrature": t1q, "1D Thm 3.1": t1p,
                 "1D eq. 44": t1_44, "2D sizes": sizes, "2D tau PDE": t2,
                 "2D Thm 3.1": s2.printed, "2D eq. 44": s2.appendix_44,
                 "2D without det ratio": k1d, "2D D": D2},
        figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# Theorem 3.2: SGD escape, exponent (path integral) and prefactor per convention
# ---------------------------------------------------------------------------------------------
def _sgd_dw_model(grid, eta, B, floor, convention="ito", scale=1.0):
    """SGD on L(√k θ), L = (θ²−1)²/4 (k = scale), D = (η/2B) max(|L″|, floor·k)."""
    def loss(x):
        return _dw(np.sqrt(scale) * x)

    def hess(x):
        return scale * _dw2(np.sqrt(scale) * x)

    return fp.sgd.model(grid, loss, eta, B, fp.noise.Hessian(hessian=hess, floor=floor * scale),
                        convention=convention)


def _sgd_dw_quadrature(eta, B, floor, convention="ito", scale=1.0, reflect=-2.5):
    """Exact MFPT from the minimum −1/√k to the other minimum +1/√k, reflecting at ``reflect``."""
    sk = np.sqrt(scale)
    def dfun(x):
        return (eta / (2 * B)) * np.maximum(np.abs(scale * _dw2(sk * x)), floor * scale)

    q = theory.quadrature.mfpt_1d(-1 / sk, 1 / sk, reflect,
                                  potential_derivative=lambda x: sk * _dw1(sk * x),
                                  diffusion=dfun, convention=convention,
                                  breakpoints=_floor_kinks(floor * scale, scale))
    return q


def _path_exponent(eta, B, floor, scale=1.0):
    """I = ∫_a^b L′/D_ee from the minimum a = −1/√k to the saddle b = 0 (theory.xie)."""
    sk = np.sqrt(scale)
    dfun = lambda x: (eta / (2 * B)) * max(abs(scale * _dw2(sk * x)), floor * scale)  # noqa
    kinks = [p for p in _floor_kinks(floor * scale, scale) if -1 / sk < p < 0]
    return xie.path_exponent(lambda x: sk * _dw1(sk * x), dfun, -1 / sk, 0.0, points=kinks)


@case(paper=PAPER, name="sgd_escape_thm32")
def sgd_escape_thm32(ctx):
    """Theorem 3.2 (SGD): exponent ∫L′/D_ee (s ∉ (0,1)); prefactor 2π/H_ae (Itô), not 2π/|H_be|."""
    eta, floor = 0.1, 0.2
    Ha, Hb, dL = 2.0, -1.0, 0.25
    ratios = ctx.pick(quick=[10, 20, 40, 80], full=[10, 20, 40, 80, 160])     # B/η
    n = ctx.pick(quick=4000, full=16000)
    grid = fp.Grid.aligned(-2.5, 2.5, n=n)
    hg = float(grid.h[0])
    I = np.array([_path_exponent(eta, r * eta, floor) for r in ratios])
    res = {}
    for conv in ("ito", "isothermal"):
        t_pde, t_q = [], []
        for r in ratios:
            B = r * eta
            m = _sgd_dw_model(grid, eta, B, floor, conv)
            t_pde.append(m.mean_first_passage_time(lambda x: x >= 1.0 - hg / 4).at(-1.0))
            t_q.append(float(_sgd_dw_quadrature(eta, B, floor, conv, reflect=-2.5 - hg / 2).mean))
        t_pde, t_q = np.array(t_pde), np.array(t_q)
        x = eta / (eta * np.array(ratios, float))                               # η/B
        R_pde, R_q = t_pde * np.exp(-I), t_q * np.exp(-I)

        def extrapolate(R):   # linear in η/B from the two smallest η/B: the O(η/B) correction
            return float(R[-1] - x[-1] * (R[-2] - R[-1]) / (x[-2] - x[-1]))

        res[conv] = {"tau PDE": t_pde, "tau quadrature": t_q, "P PDE": extrapolate(R_pde),
                     "P quadrature": extrapolate(R_q), "tau e^-I PDE": R_pde,
                     "prefactor (convention)": xie.escape_prefactor(Ha, Hb, Ha, abs(Hb), conv),
                     "slope": analysis.slope(ratios, np.log(t_pde))}
    # the discrete exponent Σ ΔL/D_f misses ∫L′/D by O(h²) per unit length (D has kinks where
    # the floor starts), so the relative error of τ grows like I·h² (observed ≈ 7 I h²)
    tol = 20 * float(I.max()) * hg ** 2 + 1e-6
    I1 = float(I[0] / ratios[0])                      # exponent per unit B/η (I ∝ B/η exactly)
    band = (2 * dL / Ha, 2 * dL / abs(Hb))            # s ∈ (0,1) ⇒ I/(B/η) ∈ this interval
    s_implied = xie.implied_s(I[0], dL, Ha, Hb, eta, ratios[0] * eta)
    checks = []
    for conv, lab in (("ito", "Itô (SGD)"), ("isothermal", "isothermal")):
        d = res[conv]
        checks += [
            Check(f"{lab}: PDE MFPT vs quadrature", d["tau PDE"], reference=d["tau quadrature"],
                  rtol=tol, why=f"O(h²) error of the discrete exponent times I: 20·I·h² = "
                                f"{tol:.2g}"),
            Check(f"{lab}: prefactor lim τ e^(−I) (η/B → 0)", d["P PDE"],
                  reference=d["P quadrature"], rtol=10 * tol,
                  printed=2 * np.pi / abs(Hb), corrected=d["prefactor (convention)"],
                  claim_rtol=0.02,
                  why="linear extrapolation in η/B from the two largest B/η removes the O(η/B) "
                      "Laplace correction; the O((η/B)²) remainder is < 1%; fpsolve vs "
                      "quadrature: the O(h²) error amplified by the extrapolation (×10)"),
        ]
    checks.append(Check(
        "exponent per unit B/η: d log τ / d(B/η) (Itô PDE)", res["ito"]["slope"], reference=I1,
        rtol=0.01, printed=0.5 * (band[0] + band[1]), corrected=I1,
        claim_atol=0.5 * (band[1] - band[0]), claim_rtol=0.0,
        why=f"fpsolve: slope of log τ vs B/η, the prefactor's O(η/B) drift ≲ 1%. Claim: s ∈ "
            f"(0,1) confines I/(B/η) to ({band[0]:g}, {band[1]:g}); the exact path integral "
            f"gives {I1:.4g} (implied s = {s_implied:.3g}): D dips below D_a and D_b between the "
            f"critical points (floor {floor} at the inflections)"))
    floors = np.geomspace(0.02, 2.0, 12)
    I_f = [_path_exponent(eta, eta, f) for f in floors]
    fig, (ax, ax2) = ctx.figure(1, 2)
    for conv, mk in (("ito", "o"), ("isothermal", "s")):
        ax.plot(ratios, res[conv]["tau e^-I PDE"], mk + "-", label=f"PDE τe^(−I), {conv}")
        ax.axhline(res[conv]["prefactor (convention)"], ls=":",
                   color="C0" if conv == "ito" else "C1")
    ax.axhline(2 * np.pi / abs(Hb), color="r", ls="--", label="printed 2π/|H_be|")
    ax.set(xscale="log", xlabel="B/η", ylabel="τ e^(−I)", title="prefactor by convention")
    ax.legend(fontsize=7)
    ax2.semilogx(floors, I_f, "k-", label="exact ∫L′/D_ee per unit B/η")
    ax2.axhspan(*band, color="r", alpha=0.2, label="printed, s ∈ (0, 1)")
    ax2.axvline(floor, color="gray", ls=":", label="floor used")
    ax2.set(xlabel="floor of |L″|", ylabel="I / (B/η)", title="exponent vs the floor")
    ax2.legend(fontsize=7)
    numbers = {"eta": eta, "floor": floor, "H_ae": Ha, "H_be": Hb, "delta L": dL,
               "B/eta": ratios, "n": n, "I": I, "I per B/eta": I1, "implied s": s_implied,
               "printed band": band, "floors": floors, "I per B/eta vs floor": I_f}
    for conv, d in res.items():
        for k, v in d.items():
            numbers[f"{conv}: {k}"] = v
    return Case(
        title="Theorem 3.2 (SGD): exponent ∫L′/D_ee, prefactor 2π/H_ae (Itô) vs printed "
              "2π/|H_be|",
        equation="Theorem 3.2, eqs. (56), (73)–(74)",
        claim="τ = (2π/|H_be|) exp[(2BΔL/η)(s/H_ae + (1 − s)/|H_be|)], s ∈ (0, 1)",
        corrected_claim="τ ≈ P exp(I), I = ∫_a^b L′/D_ee (s is whatever reproduces it, not "
                        "necessarily in (0,1)); P = 2π/H_ae for SGD (Itô); 2π/|H_be| is the "
                        "isothermal convention of the proof's flux (56)",
        method=f"fpsolve.escape MFPT (−1 → +1) of sgd.model(Hessian(floor = {floor})) with "
               f"convention='ito' and 'isothermal', {n + 1} cells",
        reference_method="theory.quadrature.mfpt_1d per convention (kinks as breakpoints); "
                         "theory.xie.path_exponent, escape_prefactor, implied_s",
        tolerance_note="O(h²) numerics; the prefactor extrapolated to η/B → 0",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# Rules 1–2: parallel paths add rates, sequential paths add times
# ---------------------------------------------------------------------------------------------
# A ring L = A(r − 1)² + V(φ), V = −a cos 2φ + b sin φ: minima at sin φ = −b/(4a) on either side
# (x ≷ 0), two parallel saddles at φ = ±π/2 with barriers 2a ± b + b²/(8a). On the ring the
# Hessian has eigenvalues 2A (radial) and V″(φ) (tangential).
RING = {"A": 2.0, "a": 0.25, "b": 0.02}


def _ring(x, y):
    r = np.sqrt(x ** 2 + y ** 2)
    phi = np.arctan2(y, x)
    return RING["A"] * (r - 1) ** 2 - RING["a"] * np.cos(2 * phi) + RING["b"] * np.sin(phi)


@case(paper=PAPER, name="rule1_parallel_paths")
def rule1_parallel_paths(ctx):
    """Rule 1 / Cor. 3.2.1: two parallel saddles, γ = γ₁ + γ₂ (2D PDE MFPT and exit split)."""
    from fpsolve.escape import exit_distribution, mean_first_passage_time
    from fpsolve.landscape import analyze

    A, a, b = RING["A"], RING["a"], RING["b"]
    D = 0.04
    sizes = ctx.pick(quick=[120, 160], full=[240, 320])
    phim = -np.arcsin(b / (4 * a))
    xm, ym = np.cos(phim), np.sin(phim)
    Vmm = 4 * a - b ** 2 / (4 * a)                                 # V″ at the minima
    paths = {"upper (φ = π/2)": +1, "lower (φ = −π/2)": -1}
    gam = {}
    for name, sgn in paths.items():
        lam = -4 * a - sgn * b                                     # V″ at the saddle
        dV = 2 * a + sgn * b + b ** 2 / (8 * a)
        Hm = np.diag([2 * A, Vmm])
        Hs = np.diag([lam, 2 * A])
        gam[name] = 1.0 / xie.sgld_escape_time(Hm, Hs, dV, D).printed    # Thm 3.1 per path
    gsum = xie.parallel_paths_rate(list(gam.values()))
    frac_up = gam["upper (φ = π/2)"] / gsum
    rates, ups = [], []
    with _one_blas_thread():
        for n in sizes:
            g = fp.Grid([(-1.6, 1.6), (-1.6, 1.6)], n)
            m = fp.FokkerPlanck(g, potential=_ring, diffusion=D)
            # crossing time: into a disc around the other minimum (beyond either saddle)
            tau = mean_first_passage_time(
                m, lambda x, y: (x + xm) ** 2 + (y - ym) ** 2 <= 0.3 ** 2)
            rates.append(1.0 / float(tau.at(np.array([xm, ym]))))
            # which saddle: where the process first enters the half plane x ≤ 0
            ex = exit_distribution(m, lambda x, y: x <= 0, np.array([xm, ym]))
            ups.append(float(ex.values[g.coords[1] > 0].sum()))
    land = analyze(_ring, [(-1.6, 1.6), (-1.6, 1.6)], shape=161)
    sad = sorted(land.saddles, key=lambda s: -s.x[1])
    checks = [
        Check(f"escape rate 1/E τ at two resolutions ({sizes[0]}² vs {sizes[1]}²)", rates[-1],
              reference=rates[0], rtol=2e-3,
              why="second resolution: the coarse grid's O(h²) error is ≲ 0.1%"),
        Check("share of escapes through the upper saddle, two resolutions", ups[-1],
              reference=ups[0], rtol=2e-3, why="second resolution"),
        Check("1/E τ vs Rule 1: γ = γ_upper + γ_lower (Thm 3.1 per path)", rates[-1],
              printed=gsum, claim_rtol=2 * D / (2 * a - b),
              why="each γ_p is an Eyring–Kramers limit: O(D/ΔL) corrections, 2D/ΔL_min"),
        Check("share through the upper saddle vs γ_upper/(γ_upper + γ_lower)", ups[-1],
              printed=frac_up, claim_rtol=0.02,
              why="the prefactor corrections are nearly equal on both (mirror-image) paths "
                  "and cancel in the share: 2%"),
        Check("saddle heights from fpsolve.landscape vs closed form", 
              [s.value - land.minima[0].value for s in sad],
              reference=[2 * a + b + b ** 2 / (8 * a), 2 * a - b + b ** 2 / (8 * a)], rtol=1e-6,
              why="Newton-refined critical points: ~1e-9 relative"),
    ]
    fig, ax = ctx.figure()
    n = sizes[-1]
    g = fp.Grid([(-1.6, 1.6), (-1.6, 1.6)], n)
    X, Y = g.coords
    ax.contour(X, Y, np.minimum(_ring(X, Y), 1.5), 25)
    ax.plot([xm, -xm], [ym, ym], "ko", label="minima")
    ax.plot([0, 0], [1, -1], "rx", ms=10, label="saddles")
    ax.set(aspect="equal", title=f"ring: 1/Eτ = {rates[-1]:.3g}, γ₁+γ₂ = {gsum:.3g}, "
                                 f"share up {ups[-1]:.3f} vs {frac_up:.3f}")
    ax.legend(fontsize=7)
    return Case(
        title="Rule 1: parallel escape paths add rates (two saddles on a ring, SGLD)",
        equation="Rule 1, Corollary 3.2.1",
        claim="γ = Σ_p γ_p over parallel most-probable paths, each γ_p from its own saddle",
        method=f"fpsolve.escape.mean_first_passage_time into a disc around the other minimum "
               f"and exit_distribution into x ≤ 0, constant D = {D}, grids {sizes}",
        reference_method="Theorem 3.1 per path (theory.xie.sgld_escape_time) with closed-form "
                         "Hessians; second resolution; fpsolve.landscape for the saddles",
        tolerance_note="second resolution for fpsolve; O(D/ΔL) for the rule",
        checks=checks,
        numbers={"A": A, "a": a, "b": b, "D": D, "gamma per path": gam, "gamma sum": gsum,
                 "share upper (theory)": frac_up, "rates": rates, "share upper (PDE)": ups,
                 "sizes": sizes,
                 "landscape saddles": [s.x.tolist() for s in sad],
                 "landscape minima": [mm.x.tolist() for mm in land.minima]},
        figure=ctx.save_figure(fig))


# A tilted chain of wells L = −a₀(1 + 0.3θ) cos 2πθ − gθ: minima near 0, 1, 2 (each lower than the
# last), saddles near ½ and 3/2; SGD noise D = (η/2B) max(|L″|, floor).
CHAIN = {"a0": 0.05, "g": 0.04, "floor": 0.5}


def _chain(x):
    return -CHAIN["a0"] * (1 + 0.3 * x) * np.cos(2 * np.pi * x) - CHAIN["g"] * x


def _chain1(x):
    c = 2 * np.pi
    return -CHAIN["a0"] * (0.3 * np.cos(c * x) - (1 + 0.3 * x) * c * np.sin(c * x)) - CHAIN["g"]


def _chain2(x):
    c = 2 * np.pi
    return -CHAIN["a0"] * (-0.6 * c * np.sin(c * x) - (1 + 0.3 * x) * c * c * np.cos(c * x))


@case(paper=PAPER, name="rule2_sequential_paths")
def rule2_sequential_paths(ctx):
    """Rule 2: sequential paths add times — a 1D chain of three wells under SGD noise."""
    from fpsolve.escape import mean_first_passage_time
    from fpsolve.landscape import analyze

    eta, floor = 0.1, CHAIN["floor"]
    ratios = ctx.pick(quick=[50, 100], full=[50, 100, 200])           # B/η
    n = ctx.pick(quick=3200, full=12800)
    lo, hi = -0.6, 2.6
    land = analyze(_chain, [(lo, hi)], gradient=lambda x: [_chain1(x)],
                   hessian=lambda x: [[_chain2(x)]])
    mins = sorted(land.minima, key=lambda c: c.x[0])
    sads = sorted([s for s in land.saddles if mins[0].x[0] < s.x[0] < mins[-1].x[0]],
                  key=lambda c: c.x[0])
    m = [float(c.x[0]) for c in mins]
    s = [float(c.x[0]) for c in sads]
    Ha = [float(c.hessian[0, 0]) for c in mins]
    Hb = [float(c.hessian[0, 0]) for c in sads]
    grid = fp.Grid([(lo, hi)], n)
    x = grid.axes[0]
    hg = float(grid.h[0])
    idx = [int(np.argmin(np.abs(x - mm))) for mm in m]
    xm = [float(x[i]) for i in idx]                  # the cell centres standing for the minima
    out = []
    for r in ratios:
        B = r * eta
        model = fp.sgd.model(grid, _chain, eta, B, fp.noise.Hessian(hessian=_chain2, floor=floor))
        t = {}
        for (i, j) in ((0, 2), (0, 1), (1, 2)):
            tau = mean_first_passage_time(model, lambda z, j=j: z >= xm[j] - hg / 4)
            t[(i, j)] = float(tau.values[idx[i]])
        dfun = lambda z, B=B: (eta / (2 * B)) * np.maximum(np.abs(_chain2(z)), floor)  # noqa
        q02 = theory.quadrature.mfpt_1d(xm[0], xm[2], lo, potential_derivative=_chain1,
                                        diffusion=dfun)
        I = [xie.path_exponent(_chain1, dfun, m[k], s[k]) for k in range(2)]
        leg_ito = [xie.escape_prefactor(Ha[k], Hb[k], Ha[k], abs(Hb[k]), "ito") * np.exp(I[k])
                   for k in range(2)]
        leg_pr = [2 * np.pi / abs(Hb[k]) * np.exp(I[k]) for k in range(2)]
        out.append({"B/eta": r, "tau02": t[(0, 2)], "tau01": t[(0, 1)], "tau12": t[(1, 2)],
                    "tau02 quadrature": float(q02.mean), "I": I,
                    "rule2 Thm3.2 Ito": xie.sequential_paths_time(leg_ito),
                    "rule2 Thm3.2 printed": xie.sequential_paths_time(leg_pr)})
    last = out[-1]
    I_tot = sum(last["I"])
    tol = 60 * I_tot * hg ** 2 + 1e-6
    checks = [
        Check("τ(m₀ → m₂): PDE vs quadrature", [o["tau02"] for o in out],
              reference=[o["tau02 quadrature"] for o in out], rtol=tol,
              why=f"O(h²) error of the discrete exponent Σ ΔL/D_f, accumulated over I: "
                  f"60·I·h² = {tol:.2g} (D has kinks where the floor starts)"),
        Check("Rule 2 with exact legs: τ(0→1) + τ(1→2) vs τ(0→2) on the grid",
              [o["tau01"] + o["tau12"] for o in out], reference=[o["tau02"] for o in out],
              rtol=1e-9, printed=[o["tau02"] for o in out], claim_rtol=1e-9,
              why="exact in 1D (a path from m₀ to m₂ passes m₁; nearest-neighbour jumps on the "
                  "grid): round-off of the solves"),
        Check(f"Rule 2 with Theorem 3.2 leg times at B/η = {ratios[-1]}", last["tau02"],
              printed=last["rule2 Thm3.2 printed"], corrected=last["rule2 Thm3.2 Ito"],
              claim_rtol=0.05,
              why="each leg P e^(I_p) is the η/B → 0 limit (corrections O(η/B), ≈ 1.5% at "
                  "B/η = 50), and returns m₁ → m₀ add O(e^(−ΔI)): 5%. The printed prefactor "
                  "2π/|H_be| differs from SGD's 2π/H_ae by H_ae/|H_be| per leg"),
    ]
    fig, (ax, ax2) = ctx.figure(1, 2)
    ax.plot(x, _chain(x), "k")
    ax.plot(m, [c.value for c in mins], "bo", label="minima (fpsolve.landscape)")
    ax.plot(s, [c.value for c in sads], "rx", ms=9, label="saddles")
    ax.set(xlabel="θ", ylabel="L", title="a chain of three wells")
    ax.legend(fontsize=7)
    rr = [o["B/eta"] for o in out]
    ax2.semilogy(rr, [o["tau02"] for o in out], "o", label="PDE τ(m₀→m₂)")
    ax2.semilogy(rr, [o["tau01"] + o["tau12"] for o in out], "+", ms=12,
                 label="PDE τ(m₀→m₁) + τ(m₁→m₂)")
    ax2.semilogy(rr, [o["rule2 Thm3.2 Ito"] for o in out], "g--", label="Σ Thm 3.2 (Itô 2π/H_ae)")
    ax2.semilogy(rr, [o["rule2 Thm3.2 printed"] for o in out], "r:",
                 label="Σ Thm 3.2 (printed 2π/|H_be|)")
    ax2.set(xlabel="B/η", ylabel="mean time", title="sequential paths add times")
    ax2.legend(fontsize=7)
    numbers = {"eta": eta, "floor": floor, "n": n, "minima": m, "saddles": s, "H_a": Ha,
               "H_b": Hb}
    for o in out:
        for k, v in o.items():
            numbers[f"B/eta={o['B/eta']}: {k}"] = v
    return Case(
        title="Rule 2: sequential escape paths add times (1D chain of wells, SGD noise)",
        equation="Rule 2",
        claim="τ = Σ_p τ_p over sequential paths (each τ_p from Theorem 3.2)",
        method=f"fpsolve.escape MFPTs between the minima, sgd.model(Hessian(floor = {floor})), "
               f"{n} cells; critical points by fpsolve.landscape.analyze",
        reference_method="theory.quadrature.mfpt_1d; theory.xie.path_exponent, escape_prefactor",
        tolerance_note="O(h²)·I for fpsolve; O(η/B) for the leg formula",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# Corollary 3.2.2: basin probabilities P_v = τ_v / Σ τ
# ---------------------------------------------------------------------------------------------
# L′ = θ(θ + 1)(θ − β), β = 2: a flat valley at −1 (H = 3) and a sharp one at 2 (H = 6), saddle 0
# (H = −2); SGD noise D = (η/2B) max(|L″|, floor).
ASYM = {"beta": 2.0, "floor": 0.2}


def _asym(x):
    b = ASYM["beta"]
    return x ** 4 / 4 + (1 - b) * x ** 3 / 3 - b * x ** 2 / 2


def _asym1(x):
    return x * (x + 1) * (x - ASYM["beta"])


def _asym2(x):
    b = ASYM["beta"]
    return 3 * x ** 2 + 2 * (1 - b) * x - b


@case(paper=PAPER, name="basin_probabilities_cor322")
def basin_probabilities_cor322(ctx):
    """Cor. 3.2.2: P(V_v) = τ_v/Σ τ; with SGD's Itô prefactor the ratio carries H_a2/H_a1."""
    eta, floor, beta = 0.1, ASYM["floor"], ASYM["beta"]
    ratios = ctx.pick(quick=[10, 20, 40], full=[10, 20, 40, 80])             # B/η
    n = ctx.pick(quick=5000, full=20000)
    lo, hi = -2.0, 3.0
    grid = fp.Grid([(lo, hi)], n)                    # θ = 0 (the saddle) is a face
    x = grid.axes[0]
    left = x < 0
    H1, H2, Hb = _asym2(-1.0), _asym2(beta), _asym2(0.0)
    kinks = []
    for t in (-1, 1):   # |L″| = floor: 3θ² + 2(1−β)θ − β = ±floor
        kinks += list(np.roots([3, 2 * (1 - beta), -beta - t * floor]).real)
    kinks = sorted(k for k in kinks if lo < k < hi)
    out = []
    for r in ratios:
        B = r * eta
        dfun = lambda z, B=B: (eta / (2 * B)) * np.maximum(np.abs(_asym2(z)), floor)  # noqa
        model = fp.sgd.model(grid, _asym, eta, B, fp.noise.Hessian(hessian=_asym2, floor=floor))
        p = model.stationary()
        logp = np.log(np.maximum(p.values, 1e-300))
        lp1 = np.logaddexp.reduce(logp[left])
        lp2 = np.logaddexp.reduce(logp[~left])
        q = theory.quadrature.basin_probabilities_1d([0.0], lo, hi, potential_derivative=_asym1,
                                                      diffusion=dfun, breakpoints=kinks)
        I1 = xie.path_exponent(_asym1, dfun, -1.0, 0.0,
                               points=[k for k in kinks if -1 < k < 0])
        I2 = xie.path_exponent(_asym1, dfun, beta, 0.0,
                               points=[k for k in kinks if 0 < k < beta])
        t1 = theory.quadrature.mfpt_1d(-1.0, beta, lo, potential_derivative=_asym1,
                                       diffusion=dfun, breakpoints=kinks)
        t2 = theory.quadrature.mfpt_1d(beta, -1.0, hi, potential_derivative=_asym1,
                                       diffusion=dfun, breakpoints=kinks)
        out.append({"B/eta": r, "log ratio PDE": float(lp1 - lp2),
                    "log ratio quadrature": float(q.log_probabilities[0] - q.log_probabilities[1]),
                    "I1": I1, "I2": I2,
                    "log ratio printed": I1 - I2,                       # shared 2π/|H_be| cancels
                    "log ratio Ito": I1 - I2 + np.log(H2 / H1),         # 2π/H_av
                    "log ratio exact MFPTs": float(t1.log_mean - t2.log_mean),
                    "P1 PDE": float(np.exp(lp1 - np.logaddexp(lp1, lp2)))})
    last = out[-1]
    Imax = max(o["I1"] + o["I2"] for o in out)
    tol = 60 * Imax * float(grid.h[0]) ** 2 + 1e-9
    checks = [
        Check("log(P₁/P₂): PDE stationary vs quadrature", [o["log ratio PDE"] for o in out],
              reference=[o["log ratio quadrature"] for o in out], atol=tol,
              why=f"O(h²) per unit length of the discrete exponent, accumulated over I: "
                  f"60·I·h² = {tol:.2g}"),
        Check(f"P₁/P₂ vs Cor. 3.2.2 with exact MFPTs τ_v (B/η = {ratios[-1]})",
              float(np.exp(last["log ratio PDE"])),
              printed=float(np.exp(last["log ratio exact MFPTs"])), claim_rtol=0.1,
              why="flux balance P₁/τ₁ = P₂/τ₂ holds up to O(relaxation/escape time) and the "
                  "O(η/B) difference between MFPT from a minimum and the basin average: 10%"),
        Check(f"P₁/P₂ vs Cor. 3.2.2 with Theorem 3.2 times (B/η = {ratios[-1]})",
              float(np.exp(last["log ratio PDE"])),
              printed=float(np.exp(last["log ratio printed"])),
              corrected=float(np.exp(last["log ratio Ito"])), claim_rtol=0.1,
              why="O(η/B) Laplace corrections of each τ_v (≈ 0.3·η/B each): 10%. The printed "
                  f"prefactor 2π/|H_be| is shared and cancels; SGD's 2π/H_av leaves H₂/H₁ = "
                  f"{H2 / H1:g}"),
    ]
    fig, (ax, ax2) = ctx.figure(1, 2)
    ax.plot(x, _asym(x), "k")
    ax.set(xlabel="θ", ylabel="L", ylim=(-3, 1),
           title=f"flat valley H = {H1:g} (left), sharp H = {H2:g}")
    rr = [o["B/eta"] for o in out]
    ax2.plot(rr, [o["log ratio PDE"] for o in out], "o", label="PDE log(P₁/P₂)")
    ax2.plot(rr, [o["log ratio exact MFPTs"] for o in out], "k+", ms=12, label="log(τ₁/τ₂) exact")
    ax2.plot(rr, [o["log ratio Ito"] for o in out], "g--", label="Cor. 3.2.2, Itô prefactor")
    ax2.plot(rr, [o["log ratio printed"] for o in out], "r:", label="Cor. 3.2.2, printed")
    ax2.set(xlabel="B/η", ylabel="log(P₁/P₂)", title="the flat valley gains as B/η falls")
    ax2.legend(fontsize=7)
    numbers = {"eta": eta, "floor": floor, "beta": beta, "n": n, "H_a1": H1, "H_a2": H2,
               "H_b": Hb}
    for o in out:
        for k, v in o.items():
            numbers[f"B/eta={o['B/eta']}: {k}"] = v
    return Case(
        title="Corollary 3.2.2: basin probabilities P(V_v) = τ_v / Σ τ (SGD noise)",
        equation="Corollary 3.2.2, eq. (85)",
        claim="P(θ ∈ V_a) = τ_a / Σ_v τ_v with τ_v from Theorem 3.2",
        corrected_claim="with SGD's (Itô) prefactor 2π/H_av the ratio P₁/P₂ gains H_a2/H_a1",
        method=f"FokkerPlanck.stationary of sgd.model(Hessian(floor = {floor})) on {n} cells, "
               "basin masses split at the saddle (log-sum-exp)",
        reference_method="theory.quadrature.basin_probabilities_1d and mfpt_1d (kinks as "
                         "breakpoints); theory.xie.path_exponent",
        tolerance_note="O(h²)·I for fpsolve; O(η/B) for the corollary",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# §5 scaling laws: −log γ linear in B, in 1/η, and in 1/k under L(√k θ)
# ---------------------------------------------------------------------------------------------
@case(paper=PAPER, name="scaling_laws")
def scaling_laws(ctx):
    """§5: −log γ is linear in B, in 1/η and in 1/k (sharpness L(√k θ)); slopes vs ∫L′/D_ee."""
    floor = 0.2
    n = ctx.pick(quick=4000, full=16000)
    base_eta, base_B = 0.1, 4.0
    sweeps = {
        "B": [(base_eta, B, 1.0) for B in ctx.pick(quick=[2.0, 3.0, 4.0, 6.0],
                                                   full=[2.0, 3.0, 4.0, 6.0, 8.0])],
        "1/eta": [(eta, base_B, 1.0) for eta in ctx.pick(
            quick=[0.2, 2 / 15, 0.1, 1 / 15], full=[0.2, 2 / 15, 0.1, 1 / 15, 0.05])],
        "1/k": [(base_eta, base_B, k) for k in ctx.pick(quick=[1.0, 1.5, 2.0, 3.0],
                                                        full=[1.0, 1.5, 2.0, 3.0, 4.0])],
    }
    res = {}
    for name, pts in sweeps.items():
        xs, g_pde, g_q, Is = [], [], [], []
        for eta, B, k in pts:
            sk = np.sqrt(k)
            grid = fp.Grid.aligned(-2.5 / sk, 2.5 / sk, n=n)
            hg = float(grid.h[0])
            m = _sgd_dw_model(grid, eta, B, floor, scale=k)
            tau = m.mean_first_passage_time(lambda z, sk=sk, hg=hg: z >= 1 / sk - hg / 4).at(-1 / sk)
            q = _sgd_dw_quadrature(eta, B, floor, scale=k, reflect=-2.5 / sk - hg / 2)
            g_pde.append(-np.log(1.0 / tau))
            g_q.append(float(q.log_mean))
            Is.append(_path_exponent(eta, B, floor, scale=k))
            xs.append({"B": B, "1/eta": 1 / eta, "1/k": 1 / k}[name])
        xs = np.array(xs)
        Is = np.array(Is)
        res[name] = {"x": xs, "-log gamma PDE": np.array(g_pde), "-log gamma quad": np.array(g_q),
                     "I": Is, "slope PDE": analysis.slope(xs, g_pde), "slope quad": analysis.slope(xs, g_q),
                     "slope I": analysis.slope(xs, Is), "I/x": Is / xs,
                     "max I": float(Is.max())}
    labels = {"B": "B", "1/eta": "1/η", "1/k": "1/k"}
    checks = []
    for name, d in res.items():
        checks.append(Check(
            f"slope of −log γ against {labels[name]}", d["slope PDE"], reference=d["slope quad"],
            rtol=0.005, printed=d["slope I"], claim_rtol=0.05,
            why="fpsolve vs quadrature: O(h²)·I errors of ~1e-3 in −log γ over a range ≥ 10: "
                "0.5%. Claim: the exponent I = ∫L′/D_ee is exactly linear in the variable "
                "(I ∝ B/η, ∝ 1/k); the prefactor adds O(η/B) drifts and, for k, its log k "
                "(Theorem 3.2's own 2π/H ∝ 1/k): ≈ k̄/I ≲ 5%"))
        checks.append(Check(
            f"exponent I per unit {labels[name]} is constant (path integral)", d["I/x"],
            reference=float(d["I/x"][0]), rtol=1e-8,
            why="exact scaling of ∫L′/D with D ∝ η/B and L(√kθ): quadrature accuracy"))
    fig, axs = ctx.figure(1, 3)
    for ax, (name, d) in zip(axs, res.items()):
        ax.plot(d["x"], d["-log gamma quad"], "k-", label="quadrature")
        ax.plot(d["x"], d["-log gamma PDE"], "o", label="PDE")
        ax.plot(d["x"], d["I"] + (d["-log gamma quad"] - d["I"]).mean(), "r--",
                label="I + const")
        ax.set(xlabel=labels[name], ylabel="−log γ", title=f"slope {d['slope PDE']:.4g}")
        ax.legend(fontsize=7)
    numbers = {"floor": floor, "n": n, "base eta": base_eta, "base B": base_B}
    for name, d in res.items():
        for k_, v in d.items():
            numbers[f"{name}: {k_}"] = v
    return Case(
        title="§5 scaling laws: −log γ linear in B, 1/η and 1/k (sharpness rescaling L(√k θ))",
        equation="§4–5, Figs. 3–5; Theorem 3.2",
        claim="−log γ is linear in B, in 1/η and in 1/k, with slopes from the exponent "
              "(2BΔL/η)(s/H_ae + (1−s)/|H_be|)",
        method=f"fpsolve.escape MFPT (γ = 1/E τ, minimum to minimum) of sgd.model(Hessian(floor "
               f"= {floor}·k)) on {n + 1} cells, four values per sweep",
        reference_method="theory.quadrature.mfpt_1d; the exponent by theory.xie.path_exponent",
        tolerance_note="O(h²)·I numerics; prefactor drifts for the linear laws",
        checks=checks, numbers=numbers, figure=ctx.save_figure(fig))


# ---------------------------------------------------------------------------------------------
# Appendix C, setting 1: the Styblinski–Tang valley boundary
# ---------------------------------------------------------------------------------------------
def _st(t):
    """One coordinate of the Styblinski–Tang function f(θ) = ½(θ⁴ − 16θ² + 5θ)."""
    return 0.5 * (t ** 4 - 16 * t ** 2 + 5 * t)


@case(paper=PAPER, name="styblinski_tang_boundary")
def styblinski_tang_boundary(ctx):
    """App. C: the boundary θ_i < 0.156731 is f's saddle, not the trained loss E_x f(θ − x)'s."""
    from fpsolve.escape import basins
    from fpsolve.landscape import analyze

    # the training loss actually used, L(θ) = E_x f(θ − x), x ~ N(0, 1), by Gauss–Hermite
    # quadrature (exact for this quartic), independent of the closed form in theory.xie
    nodes, weights = np.polynomial.hermite_e.hermegauss(20)
    weights = weights / weights.sum()

    def loss(t):
        t = np.asarray(t, dtype=float)
        return np.tensordot(_st(t[..., None] - nodes), weights, axes=([-1], [0]))

    lo, hi = -4.0, 4.0
    land = analyze(loss, [(lo, hi)], shape=ctx.pick(quick=2001, full=20001))
    saddle = float(land.saddles[0].x[0]) if land.saddles else float("nan")
    left = float(min(mm.x[0] for mm in land.minima))
    land_f = analyze(_st, [(lo, hi)])
    saddle_f = float(land_f.saddles[0].x[0])
    ref = xie.styblinski_tang_critical_points()
    # where the stationary density's basins split (SGLD at a moderate temperature)
    n = ctx.pick(quick=1600, full=6400)
    grid = fp.Grid([(lo, hi)], n)
    model = fp.FokkerPlanck(grid, potential=loss, diffusion=1.0)
    bas = basins(model, rates=False)
    lab = bas.labels
    cut = np.flatnonzero(np.diff(lab) != 0)
    boundary = float(grid.axes[0][cut[0]] + grid.h[0] / 2) if cut.size == 1 else float("nan")
    h = float(grid.h[0])
    checks = [
        Check("saddle of f (fpsolve.landscape) = the printed boundary", saddle_f,
              reference=ref.printed[1], rtol=1e-8, printed=0.156731, claim_atol=1e-6,
              claim_rtol=0.0,
              why="Newton-refined critical point; the paper prints 6 decimals"),
        Check("saddle of the trained loss E_x f(θ − x) (fpsolve.landscape)", saddle,
              reference=ref.averaged[1], rtol=1e-8, printed=0.156731, corrected=ref.averaged[1],
              claim_atol=1e-6, claim_rtol=0.0,
              why="Newton-refined critical point of a Gauss–Hermite (exact) average; the "
                  "closed form is the middle root of 4θ³ − 20θ + 5"),
        Check("left minimum of the trained loss (the printed start −2.903534)", left,
              reference=ref.averaged[0], rtol=1e-8, printed=-2.903534,
              corrected=ref.averaged[0], claim_atol=1e-6, claim_rtol=0.0,
              why="Newton-refined; the printed start point is f's minimum"),
        Check("basin boundary of the stationary density (fpsolve.escape.basins)", boundary,
              reference=ref.averaged[1], atol=h, printed=0.156731, corrected=ref.averaged[1],
              claim_atol=h, why=f"the boundary is a cell face: ± h = {h:.3g}"),
    ]
    fig, ax = ctx.figure()
    xs = grid.axes[0]
    ax.plot(xs, _st(xs), label="f(θ) (printed analysis)")
    ax.plot(xs, loss(xs), label="E_x f(θ − x) (trained)")
    ax.axvline(0.156731, color="C0", ls=":", label="printed boundary 0.156731")
    ax.axvline(ref.averaged[1], color="C1", ls="--", label=f"true saddle {ref.averaged[1]:.4f}")
    ax.set(xlabel="θ_i", ylabel="loss per coordinate", title="Styblinski–Tang, App. C")
    ax.legend(fontsize=7)
    return Case(
        title="App. C: the valley boundary θ_i < 0.156731 is not the saddle of the trained loss",
        equation="Appendix C, experiment setting 1",
        claim="minimum a = −2.903534, boundary (saddle) b = 0.156731 for L(θ) = f(θ − x)",
        corrected_claim=f"the data-averaged loss ½(θ⁴ − 10θ² + 5θ − 13) has its saddle at "
                        f"{ref.averaged[1]:.6f} and left minimum {ref.averaged[0]:.6f}",
        method="fpsolve.landscape.analyze on E_x f(θ − x) (20-node Gauss–Hermite); "
               "fpsolve.escape.basins of FokkerPlanck(potential = E_x f, D = 1)",
        reference_method="theory.xie.styblinski_tang_critical_points (roots of the cubic)",
        tolerance_note="Newton refinement; one cell for the basin boundary",
        checks=checks,
        numbers={"printed": ref.printed, "averaged": ref.averaged, "landscape saddle": saddle,
                 "landscape saddle of f": saddle_f, "landscape left minimum": left,
                 "basin boundary": boundary, "h": h},
        figure=ctx.save_figure(fig))
