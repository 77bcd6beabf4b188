"""
Quickstart: a double well
=========================

A double well :math:`U(x) = (x^2 - 1)^2/4` in 1D with constant diffusion D = 0.04: its
stationary law, its spectral gap, the mean first-passage time from one minimum into the other,
the exact quadrature for that time and Kramers' law. The :doc:`/quickstart` explains each line.

The Itô SDE :math:`dX = -U'(X)\\,dt + \\sqrt{2D}\\,dW` on [−2, 2] with reflecting walls; times
are in the SDE's units (for SGD, t = k·η). Runs in about a second after the imports.

Run: ``python docs/examples/quickstart.py``
"""
import matplotlib.pyplot as plt

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

# %%
# The stationary density and the mean first-passage time from every starting point:

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3))
p.plot(ax=ax1)
ax1.set(title="stationary density p∞")
x = grid.coords[0]
ax2.semilogy(x[x < 1], tau.values[x < 1])
ax2.set(xlabel="start x", ylabel="E τ", title="mean time to reach x ≥ 1")
fig.tight_layout()
