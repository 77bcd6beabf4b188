"""
Plug in your own potential
==========================

Stationary law, basin weights, spectral gap and escape times of a 1D landscape of your own,
each against an independent reference.

Replace ``U``, ``dU`` and ``D`` below with your own (vectorised numpy functions; ``D`` a
number or a function of x). The script finds the minima and the barrier of U, then compares
fpsolve's answers with

* the exact 1D quadrature (:mod:`fpsolve.theory.quadrature`) for the stationary basin
  probabilities and the mean first-passage times between the minima;
* Kramers' law for the escape time, when D is constant (relative error O(D/ΔU));
* the two-well limit :math:`\\lambda_1 \\approx 1/E\\tau_{l\\to r} + 1/E\\tau_{r\\to l}` for the
  spectral gap.

Convention: the Itô SDE :math:`dX = -U'(X)\\,dt + \\sqrt{2D(X)}\\,dW`, reflecting walls at the
ends of the grid; time is the SDE's (for SGD, t = k·η).

Run: ``python docs/examples/own_potential.py [--small] [--out DIR]``
"""
import argparse
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from scipy.optimize import brentq

import fpsolve as fp
from fpsolve.escape import mean_first_passage_time
from fpsolve.theory import basin_probabilities_1d, kramers_time_1d, mfpt_1d

# --small (or FPSOLVE_EXAMPLE_SMALL=1): a coarse grid, seconds; --out DIR: the figure's folder
parser = argparse.ArgumentParser(description="stationary law, basins, gap and escape of U")
parser.add_argument("--small", action="store_true",
                    default=os.environ.get("FPSOLVE_EXAMPLE_SMALL", "") not in ("", "0"))
parser.add_argument("--out", default=os.environ.get("FPSOLVE_EXAMPLE_OUT"))
args, _ = parser.parse_known_args()
out = args.out or tempfile.mkdtemp(prefix="fpsolve_example_")
os.makedirs(out, exist_ok=True)


# %%
# Your landscape
# --------------
# An asymmetric double well: the left minimum is deeper and sharper than the right one.


def U(x):
    return (x**2 - 1) ** 2 / 4 + 0.05 * x**3


def dU(x):
    return x**3 - x + 0.15 * x**2


D = 0.04               # constant diffusion (try a function: lambda x: 0.03 * (1 + x**2))
BOUNDS = (-2.0, 2.0)   # reflecting walls


# %%
# Minima and saddle
# -----------------
# The roots of U′: sign changes on a fine mesh, refined by :func:`scipy.optimize.brentq`.


def critical_points(dU, lo, hi, n=4001):
    x = np.linspace(lo, hi, n)
    g = dU(x)
    roots = list(x[g == 0])
    roots += [brentq(dU, a, b, xtol=1e-14) for a, b, ga, gb in zip(x[:-1], x[1:], g[:-1], g[1:])
              if ga * gb < 0]
    return sorted(roots)


def second_derivative(f, x, h=1e-4):
    return (f(x + h) - 2 * f(x) + f(x - h)) / h**2


lo, hi = BOUNDS
left, saddle, right = critical_points(dU, lo, hi)
print(f"minima {left:.4f}, {right:.4f}; saddle {saddle:.4f}; barrier from the left "
      f"ΔU = {U(saddle) - U(left):.4f}, from the right {U(saddle) - U(right):.4f}")

# %%
# fpsolve's answers
# -----------------
# The stationary density, the spectral gap, and the mean first-passage times from each
# minimum into the other (targets are sets of cells; the absorbing points of the quadrature
# are the centres of their first cells).

grid = fp.Grid([BOUNDS], 600 if args.small else 4000)
model = fp.FokkerPlanck(grid, potential=U, diffusion=D)   # Itô by default
x = grid.coords[0]

p = model.stationary()
gap = model.spectral_gap()
c_right, c_left = x[x >= right].min(), x[x <= left].max()
tau_lr = mean_first_passage_time(model, lambda y: y >= right)   # into the right minimum
tau_rl = mean_first_passage_time(model, lambda y: y <= left)
t_lr, t_rl = float(tau_lr.at(left)), float(tau_rl.at(right))

# %%
# Against the references
# ----------------------
# Finite volumes are second order in h (a generous constant here); the two-well formula for
# λ₁ holds up to the ratio of the relaxation time inside a well to the escape time.

Dfun = D if callable(D) else (lambda y: np.full_like(np.asarray(y, float), D))
quad = dict(potential_derivative=dU, diffusion=Dfun)
ref_basins = basin_probabilities_1d([saddle], lo, hi, **quad).probabilities
ref_lr = float(mfpt_1d(left, c_right, lo, **quad).mean)
ref_rl = float(mfpt_1d(right, c_left, hi, **quad).mean)


def compare(label, value, reference, rtol):
    """Print value against reference; return True when they agree within rtol."""
    err = abs(value / reference - 1)
    ok = err <= rtol
    print(f"  {label:<30s} fpsolve {value:11.6g}  reference {reference:11.6g}  "
          f"rel. diff {err:7.1e}  {'ok' if ok else 'DIFFERENT'} (tol {rtol:.2g})")
    return ok


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

# %%
# The figure
# ----------

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

if not all(ok):
    raise SystemExit(1)
