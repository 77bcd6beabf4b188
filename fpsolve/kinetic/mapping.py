r"""Heavy-ball SGD as underdamped Langevin dynamics: the map between (η, β, B, Σ₁) and (γ, T, t).

Heavy ball (Polyak 1964) with learning rate η, momentum β ∈ [0, 1) and mini-batch gradients
ĝ_k = ∇L(θ_k) + ξ_k, E ξ_k = 0, Cov ξ_k = C(θ_k) = Σ₁(θ_k)/B (× (N − B)/(N − 1) without
replacement), in the form used by PyTorch's ``SGD(momentum=β)`` up to the scaling of v:

    v_{k+1} = β v_k − η ĝ_k,     θ_{k+1} = θ_k + v_{k+1}.

Derivation. Take the time step Δt = √η and the velocity V = v/√η, so that
θ_{k+1} − θ_k = Δt·V_{k+1}. Then

    V_{k+1} − V_k = −(1 − β) V_k − √η ∇L(θ_k) − √η ξ_k
                  = −γ V_k Δt − ∇L(θ_k) Δt − √η ξ_k,      with  γ = (1 − β)/√η.

The noise has covariance η C = Δt²·C per step, and matches a Brownian increment
sqrt(2γT) ΔW (covariance 2γT Δt) when 2γT Δt = η C, i.e.

    T = √η C / (2γ) = η C / (2(1 − β)).

So heavy ball is a first-order splitting (an Euler step of the friction and the kick, then a
drift with the new velocity: symplectic Euler) of the underdamped Langevin equation

    dX = V dt,   dV = −γ V dt − ∇L(X) dt + sqrt(2γ T(X)) dW,
    γ = (1 − β)/√η,   T(θ) = η Σ₁(θ) / (2 B (1 − β)),   t = k √η,

with step Δt = √η, hence weak errors O(√η) (the velocity variance of the chain is T/(1 − γ√η/2)
on any potential to first order, by the Euler friction step; the position marginal's error is
O(η) on a quadratic — :func:`fpsolve.kinetic.theory.heavy_ball_quadratic_covariance` gives the
chain's exact stationary covariance there). Note the time: t = k√η, not the plain-SGD t = kη.

Consequences (for constant C): the stationary density of the Langevin equation is
exp(−(L(θ) + V²/2)/T), whose θ-marginal exp(−L/T) is plain SGD's Gibbs law exp(−L/D) with
D = η_eff C/2 and the *effective learning rate* η_eff = η/(1 − β). Momentum changes the time
course instead: relaxation and escape follow Kramers' friction dependence in γ. For γ ≫ ω (the
curvature frequencies), the position obeys the overdamped equation with D = T/γ in time t, and
per *iteration* heavy ball then takes the same time as plain SGD with η_eff (t/√η = (t/γ)/η_eff);
for γ ≲ ω it escapes more slowly or quickly by the Kramers factors.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def _check(lr, momentum):
    if not (np.isscalar(lr) and np.isfinite(lr) and lr > 0):
        raise InputError(f"heavy ball: the learning rate must be a positive number; got {lr!r}.")
    if not (np.isscalar(momentum) and np.isfinite(momentum) and 0 <= momentum < 1):
        raise InputError(f"heavy ball: the momentum β must lie in [0, 1); got {momentum!r} "
                         f"(β = 1 has no friction, β ≥ 1 diverges).")


def friction(lr, momentum) -> float:
    """γ = (1 − β)/√η (units 1/time, time t = k√η)."""
    _check(lr, momentum)
    return (1.0 - momentum) / np.sqrt(lr)


def momentum_for(lr, friction_) -> float:
    """β = 1 − γ√η: the momentum that gives friction γ at learning rate η."""
    beta = 1.0 - float(friction_) * np.sqrt(lr)
    _check(lr, beta)
    return beta


def time_step(lr) -> float:
    """Δt = √η: SDE time per iteration."""
    if not (np.isfinite(lr) and lr > 0):
        raise InputError(f"heavy ball: the learning rate must be positive; got {lr!r}.")
    return float(np.sqrt(lr))


def temperature(lr, momentum, covariance):
    """T = η C / (2(1 − β)) with C = Σ₁/B the mini-batch gradient covariance (number or array)."""
    _check(lr, momentum)
    return lr * np.asarray(covariance, dtype=float) / (2.0 * (1.0 - momentum))


def effective_learning_rate(lr, momentum) -> float:
    """η/(1 − β): plain SGD with this rate has the same stationary law (to leading order)."""
    _check(lr, momentum)
    return lr / (1.0 - momentum)


def iterations(t, lr):
    """Iterations k for SDE time t = k√η."""
    return np.asarray(t, dtype=float) / time_step(lr)


def sde_time(k, lr):
    """SDE time t = k√η of iteration k."""
    return np.asarray(k, dtype=float) * time_step(lr)
