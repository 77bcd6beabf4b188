"""A batch-size schedule: SGD on a quadratic while the batch grows 8 → 32 → 128.

SGD with learning rate η and batch size B(t) is the Itô SDE dθ = −∇L dt + sqrt(2D) dW with
D(θ, t) = (η/2)·Σ₁(θ)/B(t), in time t = k·η (k = iteration). With isotropic noise Σ₁ = β
(Dai & Zhu) and L = hθ²/2 this is an Ornstein–Uhlenbeck process whose variance obeys

    dv/dt = −2h v + 2 D(t),   D(t) = ηβ/(2B(t)),

so between switches v relaxes to D/h at rate 2h. The script builds the model with
fpsolve.sgd.model and a schedule from fpsolve.sgd.lr_batch_schedule, evolves a
density through the switches, and compares mean and variance with this closed form.
Increasing the batch (rather than decreasing η) is what anneals the noise; Hu et al. §5 print
the schedule the wrong way round (THEORY §3).

Run:  python docs/examples/batch_size_schedule.py [--small] [--out DIR]
"""
import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fpsolve as fp  # noqa: E402
from fpsolve import noise, sgd  # noqa: E402

H, BETA, LR = 1.0, 16.0, 0.1           # curvature, per-sample gradient variance, learning rate
SWITCHES = [2.0, 4.0]                  # SDE times t = k·η of the batch-size changes
BATCHES = [8, 32, 128]


def batch_size(t):
    return BATCHES[int(np.searchsorted(SWITCHES, t, side="right"))]


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


def main(small=False, out=None):
    out = out or tempfile.mkdtemp(prefix="fpsolve_example_")
    grid = fp.Grid([(-1.5, 2.0)], 700 if small else 3500)
    schedule = sgd.lr_batch_schedule(LR, batch_size, lr0=LR, batch_size0=BATCHES[0],
                                     breakpoints=SWITCHES)
    model = sgd.model(grid, loss=lambda th: H * th**2 / 2, lr=LR, batch_size=BATCHES[0],
                      noise=noise.Isotropic(BETA), schedule=schedule)
    p0 = model.density(lambda th: np.exp(-(th - 1.0) ** 2 / (2 * 0.01)))
    times = [0.5, 1.0, 2.0, 3.0, 4.0, 6.0]
    run = model.evolve(p0, times, dt=0.01 if small else 0.0025)
    ref = exact_moments(times, float(p0.mean()[0]), p0.var())

    print(f"η = {LR}, β = {BETA}, h = {H}; B = {BATCHES} switching at t = {SWITCHES}")
    print(f"{'t = kη':>7} {'k':>6} {'B':>4} {'mean':>10} {'exact':>10} {'var':>11} "
          f"{'exact':>11}")
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
    return bool(ok)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", default=os.environ.get(
        "FPSOLVE_EXAMPLE_SMALL", "") not in ("", "0"), help="coarse grid and steps")
    ap.add_argument("--out", default=os.environ.get("FPSOLVE_EXAMPLE_OUT"),
                    help="folder for the figure (default: a new temporary folder)")
    args = ap.parse_args()
    raise SystemExit(0 if main(args.small, args.out) else 1)
