r"""One network, three answers: the reduced Fokker–Planck PDE, particles of the same SDE, and real
mini-batch SGD on the full network, side by side with standard errors.

What is compared (:doc:`/theory/conventions`; Itô; time t = k·η; z = Vᵀ(θ − θ*) in units of θ):

1. **PDE.** :func:`~fpsolve.nets.reduced_model` builds L_red(z) = L(θ* + V z) on the span V of
   the top-k Hessian eigenvectors at the trained minimum θ* (k = 1 or 2) and the constant
   diffusion D_red = (η/2)·Vᵀ Σ₁(θ*) V·c_B (c_B = 1/B with replacement, (N − B)/((N − 1)B)
   without). ``FokkerPlanck(grid, potential=L_red, diffusion=D_red)`` on the box of
   ``suggest_bounds`` (±``n_std`` linearised standard deviations, reflecting walls) gives the
   stationary mean and covariance of z, and optionally the mean first-passage time (MFPT) from
   z = 0 to an escape target. The grid error is estimated by a second solve on a grid of half
   the resolution (O(h²): error of the fine grid ≈ |fine − coarse|/3).
2. **Particles.** Euler–Maruyama for the *same* SDE (same L_red, D_red, box and walls) with
   :func:`fpsolve.particles.simulate` / :func:`~fpsolve.particles.first_passage` (torch backend,
   CPU or CUDA; the drift −∇L_red is the exact autograd gradient of the network loss).
3. **SGD.** Real mini-batch SGD θ ← θ − η ∇L_B(θ) on all d parameters, from θ*, many
   independent chains vectorised with ``torch.func.vmap`` (each step draws a fresh batch of B
   indices per chain: with replacement by default, so the batch-gradient covariance is Σ₁(θ)/B
   exactly; a uniformly random B-subset with ``replacement=False``). Iterates are projected onto
   V. Many independent chains rather than one long chain: the standard errors then come from the
   spread across chains, with no autocorrelation time to estimate, and burn-in from θ* is paid in
   parallel. Each chain's statistic is its time average over the window after burn-in.

Standard errors. Particles and chains are independent, so every estimate is a mean over
independent units (a particle's or chain's time average of (z − z̄)(z − z̄)ᵀ over the window) and
its standard error is their std/√n. Burn-in and window are in units of the slowest relaxation time
1/h_min of the slice (h the reduced-Hessian eigenvalues): the variance relaxes like e^(−2 h t).

The expected O(η) bias. The discrete chain xₖ₊₁ = (1 − τH)xₖ + noise (cov 2Dτ) has the
stationary covariance of the discrete Lyapunov equation Σ = AΣAᵀ + 2Dτ, A = I − τH, instead of
HΣ + ΣH = 2D; along a Hessian eigendirection h it is Var_SDE/(1 − τh/2) exactly, and the (i, j)
entry in the eigenbasis is multiplied by (h_i + h_j)/(h_i + h_j − τ h_i h_j). Real SGD has τ = η,
the particles τ = dt. The comparison adds this linearised bias to the PDE answer
(Σ_pred = Σ_PDE + Σ_disc,lin − Σ_lyap,lin) and reports, per direction, the predicted factor
1/(1 − ηh/2) against the measured SGD/PDE variance ratio.

Escape (optional, ``escape=``): leaving the box |z_i| < c·s_i (``("box", c)``, s_i the linearised
stationary std, sqrt of the Lyapunov diagonal) or reaching L_red(z) ≥ L* + ΔL (``("loss", ΔL)``),
defined on the projected coordinates for all three methods (for SGD: z_k = Vᵀ(θ_k − θ*) and
L(θ* + V z_k), so that the three answer the same question). Particles and SGD detect the event at
step ends only, which delays it like a boundary moved outwards by 0.5826·sqrt(2 D_nn τ)
(Broadie–Glasserman–Kou, :func:`fpsolve.compare.monitoring_shift`); for the box target the PDE
is solved again with the box widened by exactly that shift for τ = dt and τ = η, and those are the
references of the particle and SGD MFPTs. For the loss target no such correction is made (the
report says so). Times are SDE times t = k·η.

What the cross-check guarantees, and what not. PDE and particles solve the same model, so
beyond their standard errors (after the predicted τ-bias, and the grid error) they must agree:
a disagreement is a bug. Real SGD is a different process: it also moves in the d − k directions
orthogonal to V (which the reduced model freezes at θ*; through the non-quadratic loss they
shift and broaden the projected law), its noise is state dependent (Σ₁(θ), not Σ₁(θ*)) and not
Gaussian, and its O(η) bias is predicted here only for the linearised landscape. SGD vs PDE
agreement is therefore approximate; the report gives the gap in standard errors, with and
without the bias correction, and does not hide it. Exact agreement is expected only for a model
whose loss is quadratic with (nearly) additive noise, at small η.

Layout: :mod:`.arguments` (every argument checked first) → :mod:`.network` (the network on the
device, as functions of z and of many θ) → :mod:`.run` (the phases: slice, PDE, predicted bias,
particles, escape, SGD chains of :mod:`.chains`) → :mod:`.result` (:class:`CrossCheck`), with the
statistics over independent units in :mod:`.statistics`.
"""
from .result import CrossCheck
from .run import BGK, crosscheck

__all__ = ["crosscheck", "CrossCheck", "BGK"]
