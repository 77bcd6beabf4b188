"""A landscape from a trained network: the Fokker–Planck equation on a Hessian slice (torch).

1. Train a small MLP with SGD (learning rate η, batch size B) on a teacher–student regression.
2. fpsolve.nets.reduced_model restricts the loss to the plane of the top-2 Hessian
   eigenvectors at the trained minimum θ*: L_red(z) = L(θ* + V z). Projecting SGD's Itô SDE
   onto it (the other coordinates frozen) gives dz = −∇L_red dt + sqrt(2 D_red) dW with the
   constant matrix D_red = (η/2) Vᵀ Σ₁ V / B (Σ₁ the per-sample gradient covariance at θ*),
   in time t = k·η.
3. fpsolve.FokkerPlanck(grid, potential=L_red, diffusion=D_red) solves the stationary state of
   that 2D problem with the full (non-quadratic) reduced loss and the anisotropic D.

Reference: near θ* the process is Ornstein–Uhlenbeck with drift matrix H = Vᵀ∇²L V, so its
covariance solves H Σ + Σ H = 2 D_red (fpsolve.theory.ou_stationary_state). Because D_red is not
diagonal in the Hessian basis (H D ≠ D H), the stationary state carries a probability current
(Chaudhari & Soatto): detailed balance fails, visible as positive entropy production.

Needs torch (pip install "fpsolve[nets]").
Run:  python docs/examples/network_landscape.py [--small] [--out DIR]
"""
import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fpsolve as fp  # noqa: E402
from fpsolve import nets  # noqa: E402  (imports torch)
from fpsolve.theory import ou_stationary_state  # noqa: E402

LR, BATCH = 0.05, 8


def main(small=False, out=None):
    out = out or tempfile.mkdtemp(prefix="fpsolve_example_")
    data = nets.teacher_student(n=64 if small else 256, n_features=2, hidden=(3,), noise=0.3,
                                seed=0)
    net = nets.mlp([2, 6, 1], activation="tanh", seed=0)
    run = nets.train(net, data, lr=LR, batch_size=BATCH, epochs=50 if small else 300, seed=0)
    red = nets.reduced_model(run.model, data, k=2)
    D = red.diffusion(LR, BATCH)                 # constant 2×2 matrix, units θ² per unit t = kη
    H = red.reduced_hessian
    print(f"network: {nets.count_parameters(run.model)} parameters, N = {red.n_samples}, "
          f"η = {LR}, B = {BATCH}; L(θ*) = {red.loss_star:.4g}")
    print(f"top Hessian eigenvalues {np.round(red.hessian_eigenvalues, 4)}; "
          f"|∇L_red(0)| = {np.linalg.norm(red.gradient_star):.1e}")
    print(f"D_red = (η/2B) VᵀΣ₁V =\n{D}")

    grid = fp.Grid(red.suggest_bounds(LR, BATCH), 40 if small else 100)
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
    # cubic terms of the reduced loss, the small gradient at θ* and the O(h²) discretisation
    # (a few cells per standard deviation in small mode) separate the two; 3% is generous
    ok = rel < 0.03

    fig, ax = plt.subplots(figsize=(4.5, 4))
    z1, z2 = grid.coords
    ax.contour(z1, z2, red.potential(z1, z2), 12, colors="grey", linewidths=0.5)
    ax.contourf(z1, z2, p.values, 12, cmap="Blues")
    ax.set(xlabel="z₁ (top eigenvector)", ylabel="z₂", title="p∞ on the Hessian plane")
    fig.tight_layout()
    path = os.path.join(out, "network_landscape.png")
    fig.savefig(path, dpi=80)
    print(f"figure: {path}")
    print("as expected" if ok else "UNEXPECTED: see the numbers above")
    return bool(ok)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", default=os.environ.get(
        "FPSOLVE_EXAMPLE_SMALL", "") not in ("", "0"), help="small data set, coarse grid")
    ap.add_argument("--out", default=os.environ.get("FPSOLVE_EXAMPLE_OUT"),
                    help="folder for the figure (default: a new temporary folder)")
    args = ap.parse_args()
    raise SystemExit(0 if main(args.small, args.out) else 1)
