"""The escape exponent of a non-reversible double well with state-dependent anisotropic noise:
minimum-action path, quasi-potential on a grid, the PDE's escape times, and transition paths.

Drift b = −R∇U (R = [[1, ½], [−½, 1]]: a rotation, no detailed balance) on the curved double
well U = (x² − 1)²/4 + (y − 0.6(1 − x²))², noise ε·D(x) with the tensor
D = [[1 + 0.3x², 0.2], [0.2, 0.6 + 0.2y²]]. Large-deviation theory predicts
log E τ(A → B) = V̄/ε + O(1) with V̄ the minimum action to the saddle. The script computes V̄ by
gMAM, the quasi-potential on a grid by the ordered line integral method (its value at the
saddle must agree), the PDE's mean first-passage times at several ε (their exponent must
approach V̄), and the reactive current of transition-path theory (its rate must satisfy the
renewal identity with the mean first-passage times). Times are in the model's units.

Run:  python docs/examples/large_deviations.py [--small] [--out DIR]
"""
import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fpsolve as fp  # noqa: E402
import fpsolve.large_deviations as ld  # noqa: E402

R = np.array([[1.0, 0.5], [-0.5, 1.0]])


def grad_U(x, y):
    r = y - 0.6 * (1 - x ** 2)
    return x * (x ** 2 - 1) + 2.4 * x * r, 2 * r


def drift(x, y):
    gx, gy = grad_U(x, y)
    return -(R[0, 0] * gx + R[0, 1] * gy), -(R[1, 0] * gx + R[1, 1] * gy)


def D(x, y):
    o = 0 * x + 0 * y
    return [[1 + 0.3 * x ** 2 + o, 0.2 + o], [0.2 + o, 0.6 + 0.2 * y ** 2 + o]]


def report(name, value, reference, tol):
    err = abs(value - reference) / abs(reference)
    ok = err <= tol
    print(f"  {name:38s} {value:12.6g}   reference {reference:12.6g}   rel. diff {err:8.2g}  "
          f"{'ok' if ok else 'DIFFERENT'} (tol {tol:g})")
    return ok


def main(small=False, out=None):
    out = out or tempfile.mkdtemp(prefix="fpsolve_example_")
    dyn = ld.Dynamics(2, drift=drift, diffusion=D)
    path = ld.minimum_action_path(dyn, [-1, 0], [1, 0], n_points=60 if small else 150)
    print(f"gMAM: V̄ = {path.action:.6f} across the saddle {np.round(path.saddle, 6)} "
          f"({path.iterations} iterations, {path.info['seconds']:.2f} s)")
    grid = fp.Grid([(-1.6, 1.6), (-0.7, 1.3)], (72, 45) if small else (160, 100))
    V = ld.quasipotential(dyn, grid, [-1.0, 0.0])
    ok = report("OLIM V(saddle) vs gMAM V̄", float(V.at(path.saddle)), path.action,
                0.03 if small else 0.015)
    eps = np.array([0.03, 0.025, 0.02] if small else [0.03, 0.025, 0.02, 0.015, 0.0125])
    B = lambda x, y: (x - 1) ** 2 + y ** 2 < 0.09            # noqa: E731
    A = lambda x, y: (x + 1) ** 2 + y ** 2 < 0.09            # noqa: E731
    logt = []
    for e in eps:
        model = fp.FokkerPlanck(grid, drift=drift,
                                diffusion=lambda x, y, e=e: e * np.array(D(x, y)))
        logt.append(float(np.log(model.mean_first_passage_time(B).at([-1.0, 0.0]))))
    fit = np.polyfit(1 / eps, logt, 1) if small else \
        np.linalg.lstsq(np.stack([1 / eps, np.ones_like(eps), eps], 1), logt, rcond=None)[0]
    print(f"PDE: log E τ(A → B) at ε = {eps.tolist()}: {np.round(logt, 3).tolist()}")
    # the slope d log τ / d(1/ε) carries the prefactor's O(ε) correction: looser at small size
    ok &= report("MFPT exponent d log τ / d(1/ε) vs V̄", float(fit[0]), path.action,
                 0.1 if small else 0.03)
    tpt = ld.transition_paths(model, A, B)
    tB = model.mean_first_passage_time(B).values
    tA = model.mean_first_passage_time(A).values
    cycle = 1 / (np.sum(tpt.entrance_A * tB) + np.sum(tpt.entrance_B * tA))
    ok &= report("TPT rate k_AB vs 1/(E τ_AB + E τ_BA)", tpt.rate, cycle, 1e-8)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), layout="constrained")
    ld.plot_quasipotential(V, ax=axes[0], paths=[path], vmax=0.5)
    axes[0].set_title("quasi-potential and minimum-action path")
    axes[1].plot(1 / eps, logt, "o", label="PDE")
    axes[1].plot(1 / eps, path.action / eps + np.mean(np.array(logt) - path.action / eps), "-",
                 label="slope V̄ (gMAM)")
    axes[1].set(xlabel="1/ε", ylabel="log E τ(A → B)")
    axes[1].legend()
    ld.plot_reactive_current(tpt, ax=axes[2])
    fname = os.path.join(out, "large_deviations.png")
    fig.savefig(fname, dpi=100)
    print(f"figure: {fname}")
    return ok


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", default=bool(os.environ.get(
        "FPSOLVE_EXAMPLE_SMALL")))
    ap.add_argument("--out", default=os.environ.get("FPSOLVE_EXAMPLE_OUT"))
    args = ap.parse_args()
    raise SystemExit(0 if main(args.small, args.out) else 1)
