"""Plug in your own potential: stationary law, basin weights, spectral gap and escape time.

Replace ``U``, ``dU`` and ``D`` below with your own (vectorised numpy functions; ``D`` a number or
a function of x). The script finds the minima and the barrier of U, then compares fpsolve's
answers with independent references:

* stationary basin probabilities against the exact 1D quadrature (fpsolve.theory.quadrature);
* the mean first-passage time from the left minimum into the right one against the same
  quadrature and, when D is constant, against Kramers' law;
* the spectral gap λ₁ against 1/E[τ_left→right] + 1/E[τ_right→left] (two-well limit).

Convention: the Itô SDE dX = −U′(X) dt + sqrt(2 D(X)) dW, reflecting walls at the ends of the
grid. Time is the SDE's (for SGD, t = k·η).

Run:  python docs/examples/own_potential.py [--small] [--out DIR]
"""
import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

import fpsolve as fp  # noqa: E402
from fpsolve.escape import mean_first_passage_time  # noqa: E402
from fpsolve.theory import basin_probabilities_1d, kramers_time_1d, mfpt_1d  # noqa: E402


# --- your landscape ------------------------------------------------------------------------
def U(x):
    """An asymmetric double well: the left minimum is deeper and sharper than the right."""
    return (x**2 - 1) ** 2 / 4 + 0.05 * x**3


def dU(x):
    return x**3 - x + 0.15 * x**2


D = 0.04               # constant diffusion (try a function: lambda x: 0.03 * (1 + x**2))
BOUNDS = (-2.0, 2.0)   # reflecting walls


# --- helpers -------------------------------------------------------------------------------
def critical_points(dU, lo, hi, n=4001):
    """Roots of U′ on [lo, hi] (sign changes on a fine mesh, refined by brentq)."""
    x = np.linspace(lo, hi, n)
    g = dU(x)
    roots = list(x[g == 0])
    roots += [brentq(dU, a, b, xtol=1e-14) for a, b, ga, gb in zip(x[:-1], x[1:], g[:-1], g[1:])
              if ga * gb < 0]
    return sorted(roots)


def second_derivative(f, x, h=1e-4):
    return (f(x + h) - 2 * f(x) + f(x - h)) / h**2


def compare(label, value, reference, rtol):
    """Print value against reference; return True when they agree within rtol."""
    err = abs(value / reference - 1)
    ok = err <= rtol
    print(f"  {label:<34s} fpsolve {value:12.6g}   reference {reference:12.6g}   "
          f"rel. diff {err:8.1e}  {'ok' if ok else 'DIFFERENT'} (tol {rtol:g})")
    return ok


def main(small=False, out=None):
    out = out or tempfile.mkdtemp(prefix="fpsolve_example_")
    n = 600 if small else 4000
    lo, hi = BOUNDS
    left, saddle, right = critical_points(dU, lo, hi)
    print(f"minima {left:.4f}, {right:.4f}; saddle {saddle:.4f}; barrier from the left "
          f"ΔU = {U(saddle) - U(left):.4f}, from the right {U(saddle) - U(right):.4f}")

    grid = fp.Grid([BOUNDS], n)
    model = fp.FokkerPlanck(grid, potential=U, diffusion=D)   # Itô by default
    x = grid.coords[0]
    Dfun = D if callable(D) else (lambda y: np.full_like(np.asarray(y, float), D))
    quad = dict(potential_derivative=dU, diffusion=Dfun)

    p = model.stationary()
    gap = model.spectral_gap()
    # Targets are sets of cells; the absorbing points are the centres of their first cells.
    c_right, c_left = x[x >= right].min(), x[x <= left].max()
    tau_lr = mean_first_passage_time(model, lambda y: y >= right)   # into the right minimum
    tau_rl = mean_first_passage_time(model, lambda y: y <= left)
    t_lr, t_rl = float(tau_lr.at(left)), float(tau_rl.at(right))

    ref_basins = basin_probabilities_1d([saddle], lo, hi, **quad).probabilities
    ref_lr = float(mfpt_1d(left, c_right, lo, **quad).mean)
    ref_rl = float(mfpt_1d(right, c_left, hi, **quad).mean)

    # Finite volumes are second order in h (a generous constant here); the two-well formula
    # for λ₁ holds up to the ratio of the relaxation time inside a well to the escape time.
    tol = 5 * grid.h[0] ** 2
    ok = [compare("P(left basin)", p.integrate(x < saddle), ref_basins[0], tol),
          compare("E τ(left → right)", t_lr, ref_lr, tol),
          compare("E τ(right → left)", t_rl, ref_rl, tol),
          compare("λ₁ vs 1/Eτ_lr + 1/Eτ_rl", gap, 1 / ref_lr + 1 / ref_rl, 0.05)]
    if not callable(D):
        kr = kramers_time_1d(second_derivative(U, left), second_derivative(U, saddle),
                             U(saddle) - U(left), D)
        # Kramers' law is asymptotic: relative error O(D/ΔU)
        ok.append(compare("E τ(left → right) vs Kramers", t_lr, kr.mean_time,
                          D / (U(saddle) - U(left))))

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(11, 3.2))
    ax1.plot(x, U(x), "k")
    ax1.set(xlabel="x", ylabel="U(x)", title="potential")
    ax2.plot(x, p.values)
    ax2.set(xlabel="x", ylabel="p∞", title=f"P(left) = {p.integrate(x < saddle):.3f}")
    keep = x < c_right
    ax3.semilogy(x[keep], tau_lr.values[keep])
    ax3.set(xlabel="start x", ylabel="E τ", title=f"to the right minimum; λ₁ = {gap:.3g}")
    fig.tight_layout()
    path = os.path.join(out, "own_potential.png")
    fig.savefig(path, dpi=80)
    print(f"figure: {path}")
    return all(ok)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", default=os.environ.get(
        "FPSOLVE_EXAMPLE_SMALL", "") not in ("", "0"), help="coarse grid (seconds)")
    ap.add_argument("--out", default=os.environ.get("FPSOLVE_EXAMPLE_OUT"),
                    help="folder for the figure (default: a new temporary folder)")
    args = ap.parse_args()
    raise SystemExit(0 if main(args.small, args.out) else 1)
