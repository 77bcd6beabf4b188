"""
Power-law tails and escape (Mori et al.)
========================================

Loss-scaled SGD noise gives a stationary law that is a power of the loss, with polynomial
tails, and escape rates that are powers of the loss ratio (Mori, Ziyin, Liu & Ueda).

Near a minimum of a mean-square loss the SGD noise scales with the loss,
:math:`\\Sigma_1 \\approx 2L(\\theta)H^*`, so with batch size B and learning rate η the Itô SDE
:math:`d\\theta = -\\nabla L\\,dt + \\sqrt{2D}\\,dW` has

.. math::

   D(\\theta) = \\frac{\\eta}{B}\\,L(\\theta)\\,H^* \\qquad \\text{(eq. 12; time } t = k\\eta).

1. Stationary law (eq. 17): for isotropic :math:`H^* = h` the zero-flux law is exactly
   :math:`p_\\infty \\propto L^{-\\varphi}`, :math:`\\varphi = 1 + B/(\\eta h)`: a power law in
   the loss, with polynomial tails in θ, where SGLD (constant D) would give a Gaussian.
2. Escape (eq. 15): from a minimum with loss :math:`L^*` over a saddle with loss :math:`L_s`,
   :math:`\\kappa \\approx \\frac{\\sqrt{h_e|h_s|}}{2\\pi}\\,
   (L_s/L^*)^{-(B/(\\eta h_e) + 1 - n/2)}`
   — a power of the loss ratio, not :math:`\\exp(-\\Delta L/D)`. It depends on η/B only and is
   asymptotic in η/B → 0; fpsolve's exact :math:`\\kappa = 1/E\\tau` (mean first-passage time
   to the other minimum) shows the approach.

Run: ``python docs/examples/power_law_tails.py [--small] [--out DIR]``
"""
import argparse
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import erfc

import fpsolve as fp
from fpsolve import noise, sgd
from fpsolve.escape import mean_first_passage_time
from fpsolve.theory import mori

# --small (or FPSOLVE_EXAMPLE_SMALL=1): coarse grids, fewer points; --out DIR: the figure
parser = argparse.ArgumentParser(description="power-law tails and escape (Mori et al.)")
parser.add_argument("--small", action="store_true",
                    default=os.environ.get("FPSOLVE_EXAMPLE_SMALL", "") not in ("", "0"))
parser.add_argument("--out", default=os.environ.get("FPSOLVE_EXAMPLE_OUT"))
args, _ = parser.parse_known_args()
out = args.out or tempfile.mkdtemp(prefix="fpsolve_example_")
os.makedirs(out, exist_ok=True)

L_STAR = 0.05          # irreducible loss at the minimum (the noise does not vanish there)
H = 2.0                # curvature at the minimum (= h_e of the double well below)
ok = True

# %%
# 1. A power law in the loss
# --------------------------
# :math:`L = L^* + h\theta^2/2`, given as the loss :math:`h\theta^2/2` with
# ``loss_offset = L*``. D is affine in L, so the discrete stationary state equals
# :math:`L^{-\varphi}` to round-off.

lr, B = 0.1, 1
phi = mori.stationary_exponent(lr, B, H)
grid = fp.Grid([(-10.0, 10.0)], 4000 if args.small else 16000)
th = grid.coords[0]
model = sgd.model(grid, loss=lambda t: H * t**2 / 2, lr=lr, batch_size=B,
                  noise=noise.LossScaled(H, loss_offset=L_STAR))
p = model.stationary()
ell = L_STAR + H * th**2 / 2
log_ref = -phi * np.log(ell)
log_ref -= np.log(np.sum(np.exp(log_ref)) * grid.h[0])   # normalised on the grid
dev = np.max(np.abs(np.log(p.values) - log_ref))
tail = np.abs(th) > 2
slope = np.polyfit(np.log(ell[tail]), np.log(p.values[tail]), 1)[0]
print(f"η = {lr}, B = {B}, h = {H}:  φ = 1 + B/(ηh) = {phi:g}")
print(f"max |log p_fpsolve − log L^(−φ)/Z| on the grid = {dev:.1e}   (exact: D is affine in L)")
print(f"tail slope d log p / d log L = {slope:.6f}   (−φ = {-phi:g})")
ok &= dev < 1e-8 and abs(slope + phi) < 1e-6

# %%
# SGLD with the noise of the minimum, :math:`D = (\eta/B)L^*h`, would be Gaussian with
# variance D/h: its tails are many orders of magnitude lighter.

sd = np.sqrt(lr * L_STAR / B)
for c in (0.25, 0.5, 1.0):
    print(f"P(|θ| > {c}) = {p.integrate(np.abs(th) > c):.3e}   Gaussian with the same D at "
          f"the minimum: {erfc(c / (sd * np.sqrt(2))):.3e}")

# %%
# 2. Escape from a double well
# ----------------------------
# :math:`L = L^* + (\theta^2 - 1)^2/4` (:math:`h_e = 2`, :math:`h_s = -1`): the exact rate
# :math:`\kappa = 1/E\tau(-1 \to +1)` against eq. (15) as B/η grows.

grid = fp.Grid([(-2.0, 2.0)], 400 if args.small else 2000)
print("double well L* + (θ²−1)²/4, L* = 0.05, L_s/L* = 6; κ = 1/E[τ(−1 → +1)]")
print(f"{'B/η':>5} {'κ fpsolve':>12} {'κ eq. (15)':>12} {'ratio':>7}")
ratios = []
for lr, B in ([(0.4, 1), (0.2, 1), (0.1, 1), (0.05, 1)] if args.small else
              [(0.4, 1), (0.2, 1), (0.1, 1), (0.05, 1), (0.025, 1), (0.0125, 1)]):
    m = sgd.model(grid, loss=lambda t: (t**2 - 1) ** 2 / 4, lr=lr, batch_size=B,
                  noise=noise.LossScaled(H, loss_offset=L_STAR))
    tau = mean_first_passage_time(m, lambda t: t >= 1.0)
    kappa = 1.0 / float(tau.at(-1.0))
    k15 = mori.escape_rate(h_e=H, h_s=-1.0, loss_saddle=L_STAR + 0.25, loss_minimum=L_STAR,
                           learning_rate=lr, batch_size=B, n=1).rate
    ratios.append(kappa / k15)
    print(f"{B / lr:5.1f} {kappa:12.4e} {k15:12.4e} {kappa / k15:7.3f}")
# asymptotic in η/B: the ratio tends to 1, monotonically here
ok &= all(abs(b - 1) < abs(a - 1) for a, b in zip(ratios, ratios[1:]))
ok &= abs(ratios[-1] - 1) < 0.05
print("as expected" if ok else "UNEXPECTED: see the numbers above")

# %%
# The figure
# ----------

fig, ax = plt.subplots(figsize=(5, 3.4))
right = th > 0
ax.loglog(ell[right], p.values[right], label="fpsolve p∞(θ > 0)")
ax.loglog(ell[right], np.exp(log_ref[right]), "k:", label="L^(−φ)/Z")
ax.set(xlabel="L(θ)", ylabel="p∞", title=f"p∞ ∝ L^(−φ), φ = {phi:g}")
ax.legend(fontsize=8)
fig.tight_layout()
path = os.path.join(out, "power_law_tails.png")
fig.savefig(path, dpi=80)
print(f"figure: {path}")

if not ok:
    raise SystemExit(1)
