"""Quickstart: a double well in 1D — stationary state, spectral gap, escape time, Kramers.

Itô SDE dX = −U′(X) dt + sqrt(2D) dW on [−2, 2] with reflecting walls; times in the SDE's
units (for SGD, t = k·η). Runs in about a second after the imports; no --small mode needed.
"""
import fpsolve as fp
from fpsolve.escape import mean_first_passage_time
from fpsolve.theory import kramers_time_1d, mfpt_1d

U = lambda x: (x**2 - 1) ** 2 / 4          # minima ±1, saddle 0: ΔU = 1/4, U″(±1) = 2, U″(0) = −1
D = 0.04                                   # constant diffusion, ΔU/D = 6.25
grid = fp.Grid([(-2.0, 2.0)], 800)
model = fp.FokkerPlanck(grid, potential=U, diffusion=D)

p = model.stationary()                     # p∞ ∝ exp(−U/D), exact on the grid
lam1 = model.spectral_gap()                # λ₁: slowest relaxation rate (1/time)
tau = mean_first_passage_time(model, lambda x: x >= 1.0)   # E τ into [1, 2], from every cell
exact = mfpt_1d(-1.0, 1.0, -2.0, potential_derivative=lambda x: x**3 - x, diffusion=D)
kramers = kramers_time_1d(2.0, -1.0, 0.25, D)              # 2π/sqrt(U″(m)|U″(s)|)·e^(ΔU/D)

print(f"P(x < 0) = {p.integrate(grid.coords[0] < 0):.4f}")
print(f"E τ(−1 → +1): fpsolve {float(tau.at(-1.0)):.1f}, quadrature {float(exact.mean):.1f}, "
      f"Kramers {kramers.mean_time:.1f}, 2/λ₁ = {2 / lam1:.1f}")
