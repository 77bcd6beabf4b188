"""SGD with momentum: underdamped Langevin dynamics and its kinetic Fokker–Planck equation in
phase space (x, v).

Heavy-ball SGD v ← βv − η∇L_B, θ ← θ + v is, with friction γ = (1 − β)/√η, temperature
T(θ) = η Σ₁(θ)/(2B(1 − β)) and time t = k√η, a discretisation of

    dX = V dt,   dV = −γ V dt − ∇L(X) dt + sqrt(2γ T(X)) dW

(:mod:`fpsolve.kinetic.mapping` derives it). This subpackage solves its density's equation for
a 1D position on a 2D phase-space grid and simulates it in any dimension:

* :class:`~fpsolve.kinetic.model.Langevin` — the model (``Langevin.sgd`` from (η, β, B, noise
  model)) and its questions: stationary state, spectrum (complex in the underdamped regime),
  evolution, mean first-passage times and committors of the position, escape rates.
* :mod:`fpsolve.kinetic.scheme` — the structure-preserving finite volumes (exact discrete Gibbs
  state, mass to round-off; "central": second order, χ²-dissipative; "upwind": M-matrix).
* :mod:`fpsolve.kinetic.particles` — BAOAB particles of the SDE and real heavy-ball chains with
  mini-batch noise, first passage included (Numba; :mod:`fpsolve.kinetic.torch_particles` for
  torch on any device).
* :mod:`fpsolve.kinetic.theory` — closed forms: kinetic Ornstein–Uhlenbeck spectrum, Kramers'
  rates in every friction regime, the energy-diffusion quadrature, heavy ball on a quadratic.
"""
from . import mapping, positions, scheme, theory
from .escape import (KilledKinetic, KineticEscapeRate, committor, escape_rate,
                            mean_first_passage_time)
from .model import Langevin
from .questions import eigenvalues, evolve, marginal, stationary

__all__ = ["Langevin", "mapping", "scheme", "positions", "theory", "stationary", "eigenvalues",
           "evolve", "marginal", "mean_first_passage_time", "committor", "escape_rate",
           "KilledKinetic", "KineticEscapeRate"]
