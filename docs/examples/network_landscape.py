"""
A landscape from a trained network (torch)
==========================================

Train a small network with SGD, restrict its loss to the plane of the top two Hessian
eigenvectors, and solve the Fokker–Planck equation there with SGD's anisotropic diffusion.

1. Train a small MLP with SGD (learning rate η, batch size B) on a teacher–student regression.
2. :func:`fpsolve.nets.reduced_model` restricts the loss to the plane of the top-2 Hessian
   eigenvectors at the trained minimum θ*: :math:`L_{red}(z) = L(\\theta^* + Vz)`. Projecting
   SGD's Itô SDE onto it (the other coordinates frozen) gives
   :math:`dz = -\\nabla L_{red}\\,dt + \\sqrt{2D_{red}}\\,dW` with the constant matrix
   :math:`D_{red} = (\\eta/2)\\,V^T\\Sigma_1V/B` (:math:`\\Sigma_1` the per-sample gradient
   covariance at θ*), in time t = k·η.
3. :class:`fpsolve.FokkerPlanck` solves the stationary state of that 2D problem with the full
   (non-quadratic) reduced loss and the anisotropic D.

Reference: near θ* the process is Ornstein–Uhlenbeck with drift matrix
:math:`H = V^T\\nabla^2L\\,V`, so its covariance solves :math:`H\\Sigma + \\Sigma H = 2D_{red}`
(:func:`fpsolve.theory.ou_stationary_state`). Because :math:`D_{red}` is not diagonal in the
Hessian basis (HD ≠ DH), the stationary state carries a probability current (Chaudhari &
Soatto): detailed balance fails, visible as positive entropy production.

Needs torch (``pip install "fpsolve[nets]"``).
Run: ``python docs/examples/network_landscape.py [--small] [--out DIR]``
"""
import argparse
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import fpsolve as fp
from fpsolve import nets  # imports torch
from fpsolve.theory import ou_stationary_state

# --small (or FPSOLVE_EXAMPLE_SMALL=1): small data set, coarse grid; --out DIR: the figure
parser = argparse.ArgumentParser(description="a landscape from a trained network")
parser.add_argument("--small", action="store_true",
                    default=os.environ.get("FPSOLVE_EXAMPLE_SMALL", "") not in ("", "0"))
parser.add_argument("--out", default=os.environ.get("FPSOLVE_EXAMPLE_OUT"))
args, _ = parser.parse_known_args()
out = args.out or tempfile.mkdtemp(prefix="fpsolve_example_")
os.makedirs(out, exist_ok=True)

LR, BATCH = 0.05, 8

# %%
# Train, then reduce
# ------------------

data = nets.teacher_student(n=64 if args.small else 256, n_features=2, hidden=(3,), noise=0.3,
                            seed=0)
net = nets.mlp([2, 6, 1], activation="tanh", seed=0)
run = nets.train(net, data, lr=LR, batch_size=BATCH, epochs=50 if args.small else 300, seed=0)
red = nets.reduced_model(run.model, data, k=2)
D = red.diffusion(LR, BATCH)                 # constant 2×2 matrix, units θ² per unit t = kη
H = red.reduced_hessian
print(f"network: {nets.count_parameters(run.model)} parameters, N = {red.n_samples}, "
      f"η = {LR}, B = {BATCH}; L(θ*) = {red.loss_star:.4g}")
print(f"top Hessian eigenvalues {np.round(red.hessian_eigenvalues, 4)}; "
      f"|∇L_red(0)| = {np.linalg.norm(red.gradient_star):.1e}")
print(f"D_red = (η/2B) VᵀΣ₁V =\n{D}")

# %%
# The Fokker–Planck equation on the Hessian plane
# -----------------------------------------------
# Cubic terms of the reduced loss, the small gradient at θ* and the O(h²) discretisation (a
# few cells per standard deviation in small mode) separate fpsolve from the OU closed form;
# 3 % is generous.

grid = fp.Grid(red.suggest_bounds(LR, BATCH), 40 if args.small else 100)
model = fp.FokkerPlanck(grid, potential=red.potential, diffusion=D)
p = model.stationary()
ou = ou_stationary_state(H, D)

cov, ref = p.cov(), ou.covariance
rel = np.abs(cov - ref).max() / np.abs(ref).max()
print("stationary covariance  fpsolve (full reduced loss) | OU closed form (H Σ + Σ H = 2D):")
for a, b in zip(cov, ref):
    print(f"  [{a[0]: .4e} {a[1]: .4e}]   [{b[0]: .4e} {b[1]: .4e}]")
print(f"  max difference / max entry = {rel:.1e}")
print(f"H D − D H ≠ 0: {ou.has_current};  entropy production of p∞ = "
      f"{model.entropy_production(p):.3e} (> 0: no detailed balance)")
ok = rel < 0.03
print("as expected" if ok else "UNEXPECTED: see the numbers above")

# %%
# The figure
# ----------

fig, ax = plt.subplots(figsize=(4.5, 4))
z1, z2 = grid.coords
ax.contour(z1, z2, red.potential(z1, z2), 12, colors="grey", linewidths=0.5)
ax.contourf(z1, z2, p.values, 12, cmap="Blues")
ax.set(xlabel="z₁ (top eigenvector)", ylabel="z₂", title="p∞ on the Hessian plane")
fig.tight_layout()
path = os.path.join(out, "network_landscape.png")
fig.savefig(path, dpi=80)
print(f"figure: {path}")

if not ok:
    raise SystemExit(1)
