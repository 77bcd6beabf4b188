"""Itô (what SGD does) against the isothermal Fokker–Planck equation several papers print.

With a state-dependent diffusion the three conventions give different stationary laws. Take
Dai & Zhu's open case: L(w) = w²/2 and β(w) = β₀(1 + L), i.e. D(w) = c (1 + w²/2) with
c = γβ₀/(2M). The zero-flux law of J = −L′p − D^α ∂(D^(1−α) p) is

    p∞ ∝ (1 + w²/2)^(−q),   q = 1/c + 1 − α,   Var w = 2/(2q − 3)   (a Student-t law),

α = 0 Itô, ½ Stratonovich, 1 isothermal ("J = −L′p − D ∂p", the printed form). The script
solves all three with fpsolve, compares each with this closed form, and then simulates the SDE
dw = −w dt + sqrt(2D(w)) dW with Euler–Maruyama (which evaluates the noise at the current point,
as SGD does): the particles follow the Itô law, not the printed one. Time is t = k·η.

Run:  python docs/examples/ito_vs_isothermal.py [--small] [--out DIR]
"""
import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fpsolve as fp  # noqa: E402

C = 0.25                  # c = γβ₀/(2M)
ALPHA = {"ito": 0.0, "stratonovich": 0.5, "isothermal": 1.0}


def loss(w):
    return w**2 / 2


def diffusion(w):
    return C * (1 + w**2 / 2)


def student_t_variance(alpha):
    q = 1 / C + 1 - alpha
    return 2 / (2 * q - 3)


def euler_maruyama(n, dt, t_end, rng):
    """Itô Euler–Maruyama for dw = −w dt + sqrt(2D(w)) dW from w = 0 (numpy, n particles)."""
    w = np.zeros(n)
    for _ in range(int(round(t_end / dt))):
        w += -w * dt + np.sqrt(2 * diffusion(w) * dt) * rng.standard_normal(n)
    return w


def main(small=False, out=None):
    out = out or tempfile.mkdtemp(prefix="fpsolve_example_")
    # The tails decay like |w|^(−2q): a box of ±40 holds all but ~1e-11 of the mass.
    grid = fp.Grid([(-40.0, 40.0)], 1600 if small else 8000)
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

    # SGD-like particles: the noise is evaluated where the particle is (Itô).
    n, dt = (20_000, 0.01) if small else (200_000, 0.002)
    sample = euler_maruyama(n, dt, 8.0, np.random.default_rng(1))
    v = sample.var()
    # standard error of a sample variance: sqrt((E w⁴ − Var²)/n), from the sample itself
    se = np.sqrt((np.mean(sample**4) - v**2) / n)
    print(f"  Euler–Maruyama, {n} particles, dt = {dt}: variance {v:.4f} ± {se:.4f}")
    for conv, alpha in ALPHA.items():
        z = (v - student_t_variance(alpha)) / se
        print(f"    {conv:<13s} z = {z:+7.1f}")
    # EM has an O(dt) bias, here ≈ +dt·Var: allow it besides 4 standard errors
    ok &= abs(v - student_t_variance(0.0)) < 4 * se + 2 * dt * v
    ok &= abs(v - student_t_variance(1.0)) > 10 * se   # the printed law is rejected
    print("  the particles follow the Itô law" if ok else "  UNEXPECTED: see the numbers above")

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
    return bool(ok)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", default=os.environ.get(
        "FPSOLVE_EXAMPLE_SMALL", "") not in ("", "0"), help="coarse grid, fewer particles")
    ap.add_argument("--out", default=os.environ.get("FPSOLVE_EXAMPLE_OUT"),
                    help="folder for the figure (default: a new temporary folder)")
    args = ap.parse_args()
    raise SystemExit(0 if main(args.small, args.out) else 1)
