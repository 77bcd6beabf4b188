"""Chaudhari & Soatto, *SGD performs variational inference, converges to limit cycles*.

Their OU case (constant D̃, quadratic f) is in :mod:`.ornstein_uhlenbeck`
(:func:`~fpsolve.theory.ornstein_uhlenbeck.chaudhari_soatto_ou`). Here: Theorem 10's statement
that a non-isotropic D̃ moves the most likely point of a non-quadratic f linearly in
β⁻¹ = η/(2b), with the first-order slope computed exactly (conventions:
:doc:`/theory/conventions`; the paper's page: :doc:`/theory/chaudhari_soatto`).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .ornstein_uhlenbeck import ou_stationary_state

__all__ = ["most_likely_shift"]


def most_likely_shift(H, Dt, F3):
    """Slope of the most likely point in β⁻¹: x*(β⁻¹) = x₀ + β⁻¹·v + O(β⁻²); returns v (2,).

    H : Hessian ∇²f(x₀) at the minimum (2×2, positive definite). Dt : the constant noise
    tensor D̃ of dX = −∇f dt + sqrt(2β⁻¹D̃) dW (2×2, symmetric positive definite). F3 : the third
    derivatives f_ijk at x₀ (2×2×2, symmetric). v = 0 when D̃ ∝ I (Gibbs: the mode is x₀).

    Derivation (constant D̃, f = ½xᵀHx + ⅙f_ijk x_i x_j x_k + …, T = β⁻¹ → 0): in y = x/√T the
    stationary equation is ∇·((Hy + √T g)ρ + D̃∇ρ) = 0, g_i = ½ f_ijk y_j y_k. With ρ = ρ₀(1 +
    √T c), ρ₀ ∝ e^{−yᵀPy/2}, P = S⁻¹, HS + SH = 2D̃, Q̃ = (HS − SH)/2 (so H − D̃P = Q̃P):

        A c := −((D̃ − Q̃)Py)·∇c + D̃:∇∇c = (Py)·g − ∇·g,

    solved for an odd polynomial c (cubic + linear). The mode of log ρ₀ + √T c is y* = √T S∇c(0)
    (the O(T) even correction does not move it at this order), so x* = T S ∇c(0). For D̃ ∝ I
    the solution is c = −f₃/6 with ∇c(0) = 0: no shift (Gibbs).
    """
    H, Dt, F3 = (np.asarray(a, dtype=float) for a in (H, Dt, F3))
    if H.shape != (2, 2) or Dt.shape != (2, 2) or F3.shape != (2, 2, 2):
        raise InputError(f"most_likely_shift: needs 2×2 H and D̃ and a 2×2×2 F3; got shapes "
                         f"{H.shape}, {Dt.shape}, {F3.shape}.")
    st = ou_stationary_state(H, Dt)
    S, P = st.covariance, st.precision
    Q = 0.5 * (H @ S - S @ H)
    Y = [{(1, 0): 1.0}, {(0, 1): 1.0}]

    def lin(row):
        return _poly_add(_poly_scale(Y[0], row[0]), _poly_scale(Y[1], row[1]))

    g = [_poly_add(*[_poly_scale(_poly_mul(Y[j], Y[k]), 0.5 * F3[i, j, k])
                     for j in range(2) for k in range(2)]) for i in range(2)]
    Py = [lin(P[i]) for i in range(2)]
    rhs = _poly_add(*[_poly_mul(Py[i], g[i]) for i in range(2)],
                    *[_poly_scale(_poly_diff(g[i], i), -1.0) for i in range(2)])
    My = [lin(((Dt - Q) @ P)[i]) for i in range(2)]

    def A(c):
        grad = [_poly_diff(c, 0), _poly_diff(c, 1)]
        drift = _poly_add(*[_poly_scale(_poly_mul(My[i], grad[i]), -1.0) for i in range(2)])
        diff = _poly_add(*[_poly_scale(_poly_diff(grad[i], j), Dt[i, j])
                           for i in range(2) for j in range(2)])
        return _poly_add(drift, diff)

    basis = [(1, 0), (0, 1), (3, 0), (2, 1), (1, 2), (0, 3)]
    Amat = np.array([[A({b: 1.0}).get(r, 0.0) for b in basis] for r in basis])
    coef = np.linalg.solve(Amat, np.array([rhs.get(r, 0.0) for r in basis]))
    return S @ coef[:2]


# -- polynomials in (y₁, y₂) as {(i, j): coefficient} -------------------------------------------
def _poly_add(*ps):
    out = {}
    for p in ps:
        for k, v in p.items():
            out[k] = out.get(k, 0.0) + v
    return out


def _poly_scale(p, s):
    return {k: s * v for k, v in p.items()}


def _poly_mul(p, q):
    out = {}
    for (a, b), u in p.items():
        for (c, d), v in q.items():
            out[(a + c, b + d)] = out.get((a + c, b + d), 0.0) + u * v
    return out


def _poly_diff(p, axis):
    out = {}
    for (a, b), v in p.items():
        e = (a, b)[axis]
        if e:
            k = (a - 1, b) if axis == 0 else (a, b - 1)
            out[k] = out.get(k, 0.0) + e * v
    return out
