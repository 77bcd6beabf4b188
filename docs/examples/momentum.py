"""
SGD with momentum: the kinetic equation against heavy-ball chains
=================================================================

SGD with momentum on a double well: the kinetic Fokker–Planck equation against real heavy-ball
chains.

Heavy ball v ← βv − η ĝ, θ ← θ + v with mini-batches of a finite data set is, with friction
γ = (1 − β)/√η, temperature T = ηΣ₁/(2B(1 − β)) and time t = k√η, a discretisation of
underdamped Langevin dynamics (fpsolve.kinetic.mapping). The script

* builds the phase-space model with ``fpsolve.Langevin.sgd`` from (η, β, B, noise model);
* compares its stationary position law with the Gibbs law exp(−L/T) (quadrature) and with the
  chains, and its relaxation spectrum (complex: the iterates oscillate);
* compares the mean escape time from one minimum into the other with the chains (standard
  errors) and with plain SGD at the effective learning rate η/(1 − β), which has the same
  stationary law but escapes in a different number of iterations.

Run:  python docs/examples/momentum.py [--small] [--out DIR]
"""
import argparse
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fpsolve as fp  # noqa: E402
from fpsolve.kinetic import mapping, particles  # noqa: E402
from fpsolve.noise import Isotropic  # noqa: E402
from fpsolve.particles import potentials  # noqa: E402
from fpsolve.particles.sgd import double_well_problem  # noqa: E402
from fpsolve.theory.quadrature import mfpt_1d  # noqa: E402


def compare(label, value, reference, tol):
    """Print value against reference; True when |value − reference| ≤ tol."""
    ok = abs(value - reference) <= tol
    print(f"  {label:<44s} {value:11.5g}   reference {reference:11.5g}   "
          f"(tol {tol:.2g})  {'ok' if ok else 'DIFFERENT'}")
    return ok


def main(small=False, out=None):
    out = out or tempfile.mkdtemp(prefix="fpsolve_example_")
    eta, beta, B = 0.01, 0.9, 4               # learning rate, momentum, batch size
    s = 2 * np.sqrt(2.0)                       # data: per-sample gradient shifts ±s
    problem = double_well_problem(s)           # L(θ) = (θ² − 1)²/4, Σ₁ = s²
    L = potentials.double_well()
    gamma = mapping.friction(eta, beta)
    T = mapping.temperature(eta, beta, s * s / B)
    print(f"η = {eta}, β = {beta}, B = {B}: γ = {gamma:.3g}, T = {T:.3g}, "
          f"η/(1 − β) = {mapping.effective_learning_rate(eta, beta):.3g}, t = k·{np.sqrt(eta)}")

    n = (192, 128) if small else (384, 256)
    grid = fp.Grid([(-2.3, 2.3), (-1.8, 1.8)], n)
    model = fp.Langevin.sgd(grid, L, lr=eta, momentum=beta, batch_size=B, noise=Isotropic(s * s))
    p = model.stationary()
    px = model.marginal(p)
    xq = np.linspace(-3, 3, 30001)
    wq = np.exp(-L(xq) / T)
    gibbs_x2 = float((wq * xq ** 2).sum() / wq.sum())
    lam = model.eigenvalues(4, n_search=8)

    # escape from the left minimum into the right one (x ≥ 1 is a face of this grid)
    g2 = fp.Grid([(-2.3, 1.2), (-1.8, 1.8)], (n[0] * 35 // 46, n[1]))
    m2 = fp.Langevin.sgd(g2, L, lr=eta, momentum=beta, batch_size=B, noise=Isotropic(s * s))
    tau = m2.mean_first_passage_time(lambda x: x >= 1.0)
    tau_pde = float(tau.at((-1.0, 0.0)))

    chains = 4000 if small else 20000
    th0 = np.where(np.arange(chains) % 2 == 0, -1.0, 1.0)
    run = particles.heavy_ball(L, th0, eta, beta, B, 3000, data=problem.data, seed=1)
    th = run.theta[-1][:, 0]
    esc = particles.heavy_ball(L, -1.0, eta, beta, B, 30000, data=problem.data,
                               n_chains=chains // 4, target=(1.0, None), seed=2)
    fpt = esc.first_passage()
    eff = mapping.effective_learning_rate(eta, beta)
    plain = particles.heavy_ball(L, -1.0, eff, 0.0, B, 30000, data=problem.data,
                                 n_chains=chains // 4, target=(1.0, None), seed=3)
    k_plain = plain.hit_iterations[plain.hit_iterations >= 0]
    tau_od = float(mfpt_1d(-1.0, 1.0, -2.3, potential_derivative=lambda x: x ** 3 - x,
                           diffusion=T).mean)

    ok = [
        compare("E θ², Langevin PDE vs Gibbs (quadrature)", px.expect(lambda x: x ** 2),
                gibbs_x2, 1e-8),
        # 4 standard errors + the chains' O(η) position bias (a few 1e-3 here)
        compare("E θ², heavy-ball chains vs Gibbs", float(np.mean(th ** 2)), gibbs_x2,
                4 * float(np.std(th ** 2)) / np.sqrt(chains) + 0.01),
        # 4 standard errors + heavy ball's O(γ√η) weak error as a scheme with step √η
        compare("E τ (t = k√η), chains vs PDE", fpt.mean, tau_pde,
                4 * fpt.stderr + 0.05 * tau_pde),
        # PDE: τ_kinetic/(γ τ_overdamped), since k = t/√η for heavy ball and t/η_eff for SGD
        compare("escape iterations: heavy ball / plain SGD",
                float(esc.hit_iterations[esc.hit_iterations >= 0].mean() / k_plain.mean()),
                tau_pde / (gamma * tau_od), 0.15),
    ]
    print(f"  relaxation rates λ (complex pairs: damped oscillations): {np.round(lam, 4)}")

    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(12, 3.4))
    p.plot(ax=a1, log=True, vmin=-8)
    a1.set(xlabel="θ", ylabel="V", title="stationary density (log10)")
    a2.hist(th, bins=80, density=True, alpha=0.5, label="heavy-ball chains")
    a2.plot(px.grid.axes[0], px.values, label="Langevin PDE")
    a2.set(xlabel="θ", title="position law")
    a2.legend(fontsize=7)
    keep = g2.axes[0] < 1.0
    a3.imshow(np.log10(tau.values[keep].T), origin="lower", aspect="auto",
              extent=[g2.bounds[0][0], 1.0, *g2.bounds[1]])
    a3.set(xlabel="θ", ylabel="V", title=f"log10 E τ to θ ≥ 1 (E τ(−1, 0) = {tau_pde:.3g})")
    fig.tight_layout()
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "momentum.png")
    fig.savefig(path, dpi=80)
    print(f"figure: {path}")
    return all(ok)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="SGD with momentum: the kinetic equation against "
                                             "heavy-ball chains")
    ap.add_argument("--small", action="store_true", default=os.environ.get(
        "FPSOLVE_EXAMPLE_SMALL", "") not in ("", "0"), help="coarse grid (seconds)")
    ap.add_argument("--out", default=os.environ.get("FPSOLVE_EXAMPLE_OUT"),
                    help="folder for the figure (default: a new temporary folder)")
    args, _ = ap.parse_known_args()
    if not main(args.small, args.out):  # an exception, not SystemExit: the gallery runs this
        raise RuntimeError("momentum.py: a comparison is outside its tolerance (see above)")
