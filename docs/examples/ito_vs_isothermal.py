"""
Itô against the printed (isothermal) convention
===============================================

With a state-dependent diffusion, the same symbols b and D give different stationary laws in
the Itô, Stratonovich and isothermal conventions; SGD follows the Itô one.

Take Dai & Zhu's open case: :math:`L(w) = w^2/2` and :math:`\\beta(w) = \\beta_0(1 + L)`, i.e.
:math:`D(w) = c\\,(1 + w^2/2)` with :math:`c = \\gamma\\beta_0/(2M)`. The zero-flux law of
:math:`J = -L'p - D^\\alpha\\,\\partial(D^{1-\\alpha}p)` is the Student-t law

.. math::

   p_\\infty \\propto (1 + w^2/2)^{-q}, \\qquad q = 1/c + 1 - \\alpha, \\qquad
   \\operatorname{Var} w = \\frac{2}{2q - 3},

with α = 0 (Itô), ½ (Stratonovich) or 1 (isothermal: :math:`J = -L'p - D\\,\\partial p`, the
form Chaudhari & Soatto and Xie et al. print). The script solves all three with fpsolve,
compares each with this closed form, and then simulates
:math:`dw = -w\\,dt + \\sqrt{2D(w)}\\,dW` by Euler–Maruyama, which evaluates the noise at the
current point as SGD does: the particles follow the Itô law, not the printed one. Time is
t = k·η.

Run: ``python docs/examples/ito_vs_isothermal.py [--small] [--out DIR]``
"""
import argparse
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp

# --small (or FPSOLVE_EXAMPLE_SMALL=1): coarse grid, fewer particles; --out DIR: the figure
parser = argparse.ArgumentParser(description="Itô against the isothermal convention")
parser.add_argument("--small", action="store_true",
                    default=os.environ.get("FPSOLVE_EXAMPLE_SMALL", "") not in ("", "0"))
parser.add_argument("--out", default=os.environ.get("FPSOLVE_EXAMPLE_OUT"))
args, _ = parser.parse_known_args()
out = args.out or tempfile.mkdtemp(prefix="fpsolve_example_")
os.makedirs(out, exist_ok=True)

C = 0.25                  # c = γβ₀/(2M)
ALPHA = {"ito": 0.0, "stratonovich": 0.5, "isothermal": 1.0}


def loss(w):
    return w**2 / 2


def diffusion(w):
    return C * (1 + w**2 / 2)


def student_t_variance(alpha):
    q = 1 / C + 1 - alpha
    return 2 / (2 * q - 3)


# %%
# Three conventions, three stationary laws
# ----------------------------------------
# The tails decay like :math:`|w|^{-2q}`: a box of ±40 holds all but about 1e-11 of the mass.

grid = fp.Grid([(-40.0, 40.0)], 1600 if args.small else 8000)
w = grid.coords[0]
ok = True
print(f"D(w) = {C}·(1 + w²/2), L = w²/2:  stationary variance of w")
densities = {}
for conv, alpha in ALPHA.items():
    p = fp.FokkerPlanck(grid, potential=loss, diffusion=diffusion, convention=conv).stationary()
    densities[conv] = p
    var, ref = p.var(), student_t_variance(alpha)
    good = abs(var / ref - 1) < 1e-3
    ok &= good
    print(f"  {conv:<13s} fpsolve {var:.5f}   closed form 2/(2q−3) = {ref:.5f}   "
          f"{'ok' if good else 'DIFFERENT'}")

# %%
# SGD-like particles
# ------------------
# Euler–Maruyama evaluates the noise where the particle is (Itô). The standard error of the
# sample variance, :math:`\sqrt{(E w^4 - \mathrm{Var}^2)/n}`, comes from the sample itself.


def euler_maruyama(n, dt, t_end, rng):
    """Itô Euler–Maruyama for dw = −w dt + sqrt(2D(w)) dW from w = 0 (n particles)."""
    w = np.zeros(n)
    for _ in range(int(round(t_end / dt))):
        w += -w * dt + np.sqrt(2 * diffusion(w) * dt) * rng.standard_normal(n)
    return w


n, dt = (20_000, 0.01) if args.small else (200_000, 0.002)
sample = euler_maruyama(n, dt, 8.0, np.random.default_rng(1))
v = sample.var()
se = np.sqrt((np.mean(sample**4) - v**2) / n)
print(f"Euler–Maruyama, {n} particles, dt = {dt}: variance {v:.4f} ± {se:.4f}")
for conv, alpha in ALPHA.items():
    z = (v - student_t_variance(alpha)) / se
    print(f"  {conv:<13s} z = {z:+7.1f}")
# EM has an O(dt) bias, here ≈ +dt·Var: allow it besides 4 standard errors
ok &= abs(v - student_t_variance(0.0)) < 4 * se + 2 * dt * v
ok &= abs(v - student_t_variance(1.0)) > 10 * se   # the printed law is rejected
print("the particles follow the Itô law" if ok else "UNEXPECTED: see the numbers above")

# %%
# The figure
# ----------

fig, ax = plt.subplots(figsize=(5, 3.4))
for conv, p in densities.items():
    ax.semilogy(w, p.values, label=conv)
ax.hist(sample, bins=np.linspace(-8, 8, 161), density=True, histtype="step", color="k",
        label="Euler–Maruyama")
ax.set(xlim=(-8, 8), ylim=(1e-6, 2), xlabel="w", ylabel="p∞",
       title="same SDE symbols, three conventions")
ax.legend(fontsize=8)
fig.tight_layout()
path = os.path.join(out, "ito_vs_isothermal.png")
fig.savefig(path, dpi=80)
print(f"figure: {path}")

if not ok:
    raise SystemExit(1)
