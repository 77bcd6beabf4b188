"""
A batch-size schedule
=====================

SGD on a quadratic while the batch grows 8 → 32 → 128 at a fixed learning rate, against the
closed-form Ornstein–Uhlenbeck moments.

SGD with learning rate η and batch size B(t) is the Itô SDE
:math:`d\\theta = -\\nabla L\\,dt + \\sqrt{2D}\\,dW` with
:math:`D(\\theta, t) = (\\eta/2)\\,\\Sigma_1(\\theta)/B(t)`, in time t = k·η (k the iteration).
With isotropic noise :math:`\\Sigma_1 = \\beta` (Dai & Zhu) and :math:`L = h\\theta^2/2` this is
an Ornstein–Uhlenbeck process whose variance obeys

.. math::

   \\frac{dv}{dt} = -2h\\,v + 2D(t), \\qquad D(t) = \\frac{\\eta\\beta}{2B(t)},

so between switches v relaxes to D/h at rate 2h. The script builds the model with
:func:`fpsolve.sgd.model` and a schedule from :func:`fpsolve.sgd.lr_batch_schedule`, evolves a
density through the switches, and compares its mean and variance with this closed form.
Increasing the batch (rather than decreasing η) is what anneals the noise; Hu et al. (§5)
print the schedule the wrong way round (see :doc:`/theory/hu_li`).

Run: ``python docs/examples/batch_size_schedule.py [--small] [--out DIR]``
"""
import argparse
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp
from fpsolve import noise, sgd

# --small (or FPSOLVE_EXAMPLE_SMALL=1): coarse grid and steps; --out DIR: the figure's folder
parser = argparse.ArgumentParser(description="SGD through a batch-size schedule")
parser.add_argument("--small", action="store_true",
                    default=os.environ.get("FPSOLVE_EXAMPLE_SMALL", "") not in ("", "0"))
parser.add_argument("--out", default=os.environ.get("FPSOLVE_EXAMPLE_OUT"))
args, _ = parser.parse_known_args()
out = args.out or tempfile.mkdtemp(prefix="fpsolve_example_")
os.makedirs(out, exist_ok=True)

H, BETA, LR = 1.0, 16.0, 0.1           # curvature, per-sample gradient variance, learning rate
SWITCHES = [2.0, 4.0]                  # SDE times t = k·η of the batch-size changes
BATCHES = [8, 32, 128]


def batch_size(t):
    return BATCHES[int(np.searchsorted(SWITCHES, t, side="right"))]


# %%
# The model
# ---------
# :func:`~fpsolve.sgd.lr_batch_schedule` turns the batch size into a time-dependent factor of
# the diffusion; the density starts as a narrow Gaussian at θ = 1.

grid = fp.Grid([(-1.5, 2.0)], 700 if args.small else 3500)
schedule = sgd.lr_batch_schedule(LR, batch_size, lr0=LR, batch_size0=BATCHES[0],
                                 breakpoints=SWITCHES)
model = sgd.model(grid, loss=lambda th: H * th**2 / 2, lr=LR, batch_size=BATCHES[0],
                  noise=noise.Isotropic(BETA), schedule=schedule)
p0 = model.density(lambda th: np.exp(-(th - 1.0) ** 2 / (2 * 0.01)))
times = [0.5, 1.0, 2.0, 3.0, 4.0, 6.0]
run = model.evolve(p0, times, dt=0.01 if args.small else 0.0025)

# %%
# Against the closed form
# -----------------------
# The mean decays like :math:`e^{-ht}`; the variance relaxes piecewise towards D(t)/h.


def exact_moments(times, m0, v0):
    """Mean e^(−ht) m0 and the piecewise closed-form variance of the OU process."""
    out = []
    edges = [0.0] + SWITCHES
    for t in times:
        v = v0
        for a, b, B in zip(edges, SWITCHES + [np.inf], BATCHES):   # piece [a, b) with batch B
            if t <= a:
                break
            Dk = LR * BETA / (2 * B)
            v = Dk / H + (v - Dk / H) * np.exp(-2 * H * (min(t, b) - a))
        out.append((m0 * np.exp(-H * t), v))
    return np.array(out)


ref = exact_moments(times, float(p0.mean()[0]), p0.var())
print(f"η = {LR}, β = {BETA}, h = {H}; B = {BATCHES} switching at t = {SWITCHES}")
print(f"{'t = kη':>7} {'k':>6} {'B':>4} {'mean':>10} {'exact':>10} {'var':>11} {'exact':>11}")
ok = True
for t, p, (m, v) in zip(times, run.densities, ref):
    mean, var = float(p.mean()[0]), p.var()
    k = int(round(float(sgd.iterations(t, LR))))
    print(f"{t:7.2f} {k:6d} {batch_size(t - 1e-12):4d} {mean:10.6f} {m:10.6f} "
          f"{var:11.4e} {v:11.4e}")
    # O(h²) in space (h² ≪ var here) and O(Δt²) in time (TR-BDF2)
    ok &= abs(mean - m) < 2e-3 * max(abs(m), 0.05) and abs(var / v - 1) < 5e-3
print(f"mass at the end: {run.mass[-1]:.15f}  (conserved to round-off)")
print("matches the closed form" if ok else "DIFFERENT from the closed form")

# %%
# The figure
# ----------

fig, ax = plt.subplots(figsize=(5, 3.4))
ts = np.linspace(0, times[-1], 300)
ax.semilogy(ts, exact_moments(ts, float(p0.mean()[0]), p0.var())[:, 1], "k-",
            label="closed form")
ax.semilogy(times, [p.var() for p in run.densities], "o", label="fpsolve")
for s in SWITCHES:
    ax.axvline(s, color="grey", lw=0.5)
ax.set(xlabel="t = k·η", ylabel="Var θ", title="batch 8 → 32 → 128")
ax.legend(fontsize=8)
fig.tight_layout()
path = os.path.join(out, "batch_size_schedule.png")
fig.savefig(path, dpi=80)
print(f"figure: {path}")

if not ok:
    raise SystemExit(1)
