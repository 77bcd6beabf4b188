r"""The geometric (time-free) action of a discrete path and its gradient, vectorised over points.

For a curve φ(α), α ∈ [0, 1], the minimum of the Freidlin–Wentzell action over all time
parametrisations of the curve is the geometric action (Heymann & Vanden-Eijnden, *The geometric
minimum action method*, CPAM 61, 2008, eq. (2.9) in the normalisation of
:mod:`fpsolve.large_deviations.dynamics`)

    Ŝ[φ] = ½ ∫₀¹ ( |φ'|_D |b|_D − ⟨φ', b⟩_D ) dα,   ⟨u, v⟩_D = uᵀ D(φ)⁻¹ v,   |u|_D² = ⟨u, u⟩_D,

which is ≥ 0, zero exactly along the flow (φ' ∥ b, same direction), and equal to ΔU/D-scale
uphill in a gradient system. It is invariant under reparametrisation of α, and finite through
critical points (where the time parametrisation takes infinite time).

Discretisation: points φ₀ … φ_P−1, segments Δᵢ = φᵢ₊₁ − φᵢ, and the midpoint rule

    S = ½ Σᵢ ( |Δᵢ|_M |bᵢ|_M − Δᵢᵀ M bᵢ ),   bᵢ = b(mᵢ), M = D(mᵢ)⁻¹, mᵢ = (φᵢ + φᵢ₊₁)/2 ,

second order in the segment length for a smooth path. Every term is ≥ 0 (Cauchy–Schwarz), so the
discrete action is a sum of non-negative segment costs; the cumulative sum is the action along
the path (``cumulative``). Its gradient with respect to the points is exact in Δ and uses
central differences of b and D⁻¹ in the midpoint (2d extra evaluations per call; none for D when
it is constant).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dynamics import FD_STEP


@dataclass
class ActionState:
    """The discrete action of a path and what the gMAM step needs (any backend fills it).

    action : total S (units of 1/ε; a pure number when ε is folded into D).
    segments : (P − 1,) non-negative segment costs (their cumulative sum is the action so far).
    grad : (P, d) ∂S/∂φⱼ, endpoints included.
    lam : (P − 2,) λⱼ = |b(φⱼ)|_D / |φ'ⱼ|_D at the interior points (φ' by central differences
        in α, spacing 1/(P − 1)).
    Dg : (P − 2, d) D(φⱼ) gⱼ at the interior points.
    D_norm : (P − 2,) a norm of D(φⱼ) (Frobenius, or an estimate of the largest eigenvalue).
    cone : (P − 1,) c·‖JᵀMJ‖/β per segment (J = ∂b/∂x at the midpoint, c = |Δ|_M, β = |b|_M):
        a bound on the curvature of the cost in its midpoint, which grows like 1/|b| next to a
        critical point (|b| has a cone there).
    """

    action: float
    segments: np.ndarray
    grad: np.ndarray
    lam: np.ndarray
    Dg: np.ndarray
    D_norm: np.ndarray
    cone: np.ndarray


def _segment_cost(delta, b, M):
    """Per-segment cost |Δ|_M|b|_M − ⟨Δ, b⟩_M and its pieces (c = |Δ|_M, β = |b|_M, MΔ, Mb)."""
    Md = np.einsum("nij,nj->ni", M, delta)
    Mb = np.einsum("nij,nj->ni", M, b)
    c = np.sqrt(np.maximum(np.einsum("ni,ni->n", delta, Md), 0.0))
    beta = np.sqrt(np.maximum(np.einsum("ni,ni->n", b, Mb), 0.0))
    s = c * beta - np.einsum("ni,ni->n", delta, Mb)
    return np.maximum(s, 0.0), c, beta, Md, Mb


def segment_costs(dyn, path) -> np.ndarray:
    """The (P − 1,) segment costs of a path (their half-sum is the action)."""
    delta = np.diff(path, axis=0)
    mid = 0.5 * (path[1:] + path[:-1])
    M, _ = dyn.metric_at(mid)
    return _segment_cost(delta, dyn.drift_at(mid), M)[0]


def geometric_action(dyn, path) -> float:
    """The discrete geometric action of a path (array (P, d)) under ``dyn``."""
    path = np.asarray(path, dtype=float)
    return 0.5 * float(segment_costs(dyn, path).sum())


def action_state(dyn, path) -> ActionState:
    """Action, segment costs, gradient and preconditioner data of a path (P, d) (numpy)."""
    P, d = path.shape
    delta = np.diff(path, axis=0)
    mid = 0.5 * (path[1:] + path[:-1])
    M, _ = dyn.metric_at(mid)
    b = dyn.drift_at(mid)
    s, c, beta, Md, Mb = _segment_cost(delta, b, M)
    # ∂s/∂Δ = (β/c) MΔ − Mb (c = 0: a repeated point, subgradient 0 for the norm term)
    ratio = np.divide(beta, c, out=np.zeros_like(c), where=c > 0)
    ds_ddelta = ratio[:, None] * Md - Mb
    # ∂s/∂m by central differences of b and M at the midpoints (Δ fixed)
    ds_dm = np.empty_like(mid)
    J = np.empty((len(mid), d, d))
    for k in range(d):
        step = FD_STEP * np.maximum(1.0, np.abs(mid[:, k]))
        up, dn = mid.copy(), mid.copy()
        up[:, k] += step
        dn[:, k] -= step
        if dyn.constant_diffusion:
            Mu = Mdn = M
        else:
            Mu, _ = dyn.metric_at(up)
            Mdn, _ = dyn.metric_at(dn)
        bu, bd = dyn.drift_at(up), dyn.drift_at(dn)
        su = _segment_cost(delta, bu, Mu)[0]
        sd = _segment_cost(delta, bd, Mdn)[0]
        ds_dm[:, k] = (su - sd) / (up[:, k] - dn[:, k])
        J[:, :, k] = (bu - bd) / (up[:, k] - dn[:, k])[:, None]
    grad = np.zeros_like(path)
    # S = ½ Σ s(mᵢ, Δᵢ): φⱼ enters Δⱼ₋₁ (+), Δⱼ (−), mⱼ₋₁ and mⱼ (½ each)
    grad[1:-1] = 0.5 * (ds_ddelta[:-1] - ds_ddelta[1:] + 0.5 * (ds_dm[:-1] + ds_dm[1:]))
    grad[0] = 0.5 * (-ds_ddelta[0] + 0.5 * ds_dm[0])
    grad[-1] = 0.5 * (ds_ddelta[-1] + 0.5 * ds_dm[-1])
    JMJ = np.einsum("nki,nkl,nlj->nij", J, M, J)
    cone = c * np.linalg.norm(JMJ, axis=(1, 2)) / np.maximum(beta, 1e-300 + 1e-12 * beta.max())
    # interior points: λ, D g, ‖D‖
    inner = path[1:-1]
    Mn, Dn = dyn.metric_at(inner)
    bn = dyn.drift_at(inner)
    dphi = (path[2:] - path[:-2]) * (P - 1) / 2.0
    nb = np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", bn, Mn, bn), 0.0))
    nphi = np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", dphi, Mn, dphi), 1e-300))
    Dg = np.einsum("nij,nj->ni", Dn, grad[1:-1])
    return ActionState(0.5 * float(s.sum()), s, grad, nb / nphi, Dg,
                       np.linalg.norm(Dn, axis=(1, 2)), cone)
