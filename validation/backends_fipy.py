"""fpsolve against FiPy (:mod:`fpsolve.backends.fipy`): two independent finite-volume codes on
matched grids agree within the discretisation error, the difference shrinks at second order
under refinement, and both converge to the continuum density (scipy quadrature or closed form).

fpsolve fits g = D^(1−α) p across each face with a logarithmic-mean D_f; FiPy's exponential
scheme fits p with velocity b − (1−α)∇D and an arithmetic-mean D_f. Both are second order and
differ at O(h²). Needs the ``fipy`` extra (``pip install "fpsolve[fipy]"``); without it the
cases raise (recorded as FAIL with the reason).

Registry key: ``backends_fipy`` (this module's name).
"""
from __future__ import annotations

import numpy as np
import scipy.integrate as si

import fpsolve as fp

from .framework import Case, Check
from .registry import case

PAPER = "backends_fipy"


def _order(h, err):
    """Least-squares slope of log(err) against log(h)."""
    return float(np.polyfit(np.log(h), np.log(err), 1)[0])


def _refinement_case(ctx, title, sizes, make_model, exact, claim, reference_method):
    from fpsolve.backends import fipy as fb

    hs, diff, err_fp, err_fipy = [], [], [], []
    for n in sizes:
        m = make_model(n)
        p_fp, p_fipy = m.stationary(), fb.stationary(m)
        ref = exact(m.grid)
        hs.append(float(np.max(m.grid.h)))
        diff.append(float(np.max(np.abs(p_fp.values - p_fipy.values))))
        err_fp.append(float(np.max(np.abs(p_fp.values - ref))))
        err_fipy.append(float(np.max(np.abs(p_fipy.values - ref))))
    fig, ax = ctx.figure()
    for e, lab in ((diff, "|fpsolve − FiPy|"), (err_fp, "|fpsolve − exact|"),
                   (err_fipy, "|FiPy − exact|")):
        ax.loglog(hs, e, "o-", label=lab)
    ax.loglog(hs, diff[0] * (np.asarray(hs) / hs[0]) ** 2, "k:", label="h²")
    ax.set_xlabel("h")
    ax.set_ylabel("max error of the density")
    ax.legend(fontsize=8)
    why = "both schemes are second order: the slope of log error vs log h is 2 ± 0.3"
    scale = float(np.max(ref))
    return Case(
        title=title,
        equation="Conventions: J = b p − ∇(D p) = (b − ∇D) p − D∇p",
        claim=claim,
        method=f"FokkerPlanck.stationary and fpsolve.backends.fipy.stationary on n = {sizes}",
        reference_method=reference_method,
        tolerance_note="max-norm errors in units of the density; orders from a least-squares "
                       "fit over the refinements",
        checks=[
            Check("order of |fpsolve − FiPy|", _order(hs, diff), reference=2.0, atol=0.3,
                  why=why),
            Check("order of |FiPy − exact|", _order(hs, err_fipy), reference=2.0, atol=0.3,
                  why=why),
            Check("order of |fpsolve − exact|", _order(hs, err_fp), reference=2.0, atol=0.3,
                  why=why),
            Check("|fpsolve − FiPy| at the finest grid", diff[-1], reference=0.0,
                  atol=2e-3 * scale, why="O(h²) at the finest grid: below 0.2% of max p"),
        ],
        numbers={"n": list(sizes), "h": hs, "diff": diff, "err_fpsolve": err_fp,
                 "err_fipy": err_fipy,
                 "ratios_diff": [a / b for a, b in zip(diff[:-1], diff[1:])]},
        key="ratios_diff",
        figure=ctx.save_figure(fig),
    )


@case(paper=PAPER, name="stationary_1d_state_dependent")
def stationary_1d_state_dependent(ctx):
    """1D reflecting, D(x) state-dependent (Itô): fpsolve and FiPy converge to quadrature."""
    a, b = -2.0, 2.0
    U = lambda x: (x ** 2 - 1) ** 2 / 4  # noqa: E731
    D = lambda x: 0.2 + 0.1 * x ** 2  # noqa: E731

    def log_p(x):
        return -np.log(D(x)) - si.quad(lambda s: (s ** 3 - s) / D(s), 0.0, x, epsabs=1e-13)[0]

    Z = si.quad(lambda x: np.exp(log_p(x)), a, b, epsabs=1e-13, limit=200)[0]
    sizes = ctx.pick(quick=(50, 100, 200), full=(100, 200, 400, 800))
    return _refinement_case(
        ctx, "FiPy cross-check: 1D stationary density, state-dependent D", sizes,
        lambda n: fp.FokkerPlanck(fp.Grid([(a, b)], n), potential=U, diffusion=D),
        lambda g: np.exp([log_p(x) for x in g.axes[0]]) / Z,
        "p∞ ∝ D⁻¹ exp(−∫U′/D) (Itô zero-flux state)",
        "scipy quad of ∫U′/D at each cell centre and of the normalisation")


@case(paper=PAPER, name="stationary_2d_periodic")
def stationary_2d_periodic(ctx):
    """2D periodic, D = g(U) state-dependent: both converge to the closed form."""
    d0, c = 0.5, 1.0
    L = 2 * np.pi
    U = lambda x, y: np.cos(x) + np.cos(y) + 0.5 * np.cos(x) * np.cos(y)  # noqa: E731
    g_of_u = lambda u: d0 * (1 + c * u ** 2)  # noqa: E731
    unnorm = lambda x, y: (np.exp(-np.arctan(np.sqrt(c) * U(x, y)) / (d0 * np.sqrt(c)))  # noqa: E731
                           / g_of_u(U(x, y)))
    Z = si.dblquad(lambda y, x: unnorm(x, y), 0, L, 0, L, epsabs=1e-12, epsrel=1e-12)[0]
    sizes = ctx.pick(quick=(16, 32, 64), full=(32, 64, 128, 256))
    return _refinement_case(
        ctx, "FiPy cross-check: 2D periodic stationary density, D = g(U)", sizes,
        lambda n: fp.FokkerPlanck(fp.Grid([(0, L), (0, L)], n, periodic=True), potential=U,
                                  diffusion=lambda x, y: g_of_u(U(x, y))),
        lambda g: unnorm(*g.coords) / Z,
        "D = g(U) keeps a potential: p∞ ∝ exp(−∫dU/g(U)) / g(U), ∫dU/g = arctan(√c U)/(d0√c)",
        "closed form, normalised by scipy dblquad")


@case(paper=PAPER, name="transient_2d")
def transient_2d(ctx):
    """2D reflecting transient at t = 0.4: fpsolve (TR-BDF2) and FiPy (BDF2) converge together."""
    from fpsolve.backends import fipy as fb

    U = lambda x, y: (x ** 2 - 1) ** 2 / 4 + y ** 2 / 2  # noqa: E731
    D = lambda x, y: 0.3 * (1 + 0.2 * x ** 2 + 0.1 * y ** 2)  # noqa: E731
    p0 = lambda x, y: np.exp(-((x - 0.5) ** 2 + (y + 0.3) ** 2) / 0.2)  # noqa: E731
    sizes = ctx.pick(quick=(16, 32, 64), full=(32, 64, 128))
    hs, diff, mass = [], [], []
    for n in sizes:
        m = fp.FokkerPlanck(fp.Grid([(-2, 2), (-2, 2)], n), potential=U, diffusion=D)
        dt = 0.02 * 16 / n  # Δt ∝ h: both time schemes are second order
        a = fb.evolve(m, p0, [0.4], dt=dt)
        b = m.evolve(p0, [0.4], dt=dt)
        hs.append(float(m.grid.h[0]))
        diff.append(float(np.max(np.abs(a.densities[-1].values - b.densities[-1].values))))
        mass.append(float(abs(a.mass[-1] - 1)))
    fig, ax = ctx.figure()
    ax.loglog(hs, diff, "o-", label="|fpsolve − FiPy| at t = 0.4")
    ax.loglog(hs, diff[0] * (np.asarray(hs) / hs[0]) ** 2, "k:", label="h²")
    ax.set_xlabel("h (Δt ∝ h)")
    ax.legend(fontsize=8)
    return Case(
        title="FiPy cross-check: 2D transient, state-dependent D",
        equation="Conventions: the Itô SDE and its flux",
        claim="∂t p = −∇·J, J = (b − ∇D) p − D∇p",
        method=f"FokkerPlanck.evolve (TR-BDF2) and fpsolve.backends.fipy.evolve (BDF2), "
               f"n = {sizes}, Δt = 0.32 h",
        reference_method="a second, independent discretisation (FiPy's exponential scheme)",
        checks=[Check("order of |fpsolve − FiPy|", _order(hs, diff), reference=2.0, atol=0.3,
                      why="second order in h and in Δt ∝ h"),
                Check("FiPy mass defect", max(mass), reference=0.0, atol=1e-12,
                      why="FiPy's finite volumes conserve mass to round-off")],
        numbers={"n": list(sizes), "h": hs, "diff": diff,
                 "ratios_diff": [a / b for a, b in zip(diff[:-1], diff[1:])]},
        key="ratios_diff",
        figure=ctx.save_figure(fig),
    )
