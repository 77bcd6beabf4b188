r"""A matrix-valued stiffness for gMAM's implicit step: the linearisation at an attractor.

gMAM (:mod:`.gmam`) damps each interior point's increment by its local stiffness κⱼ, the
largest curvature of the action there, times the identity. On a stiff drift (rates of ∂b/∂x
spread over decades, as at the minima of a network's loss) that damps the slow directions as
much as the fastest, so they relax at the rate (slowest/fastest)² per step: a linear drift
b = −Hx in d = 50 with rates spread by 100 did not converge in 1500 steps (measured).

Here the identity is replaced by the shape of the stiffness at the attractor x₀,

    Kⱼ = κⱼ N̄,   N̄ = D₀ J₀ᵀ D₀⁻¹ J₀ / ‖·‖,   J₀ = ∂b/∂x(x₀), D₀ = D(x₀),

normalised to largest eigenvalue 1, so that every direction is damped by its own stiffness.
N̄ = W diag(μ) W⁻¹ with W = D₀^(1/2) V from the symmetric eigenproblem of
D₀^(1/2) J₀ᵀ D₀⁻¹ J₀ D₀^(1/2) = V diag(μ) Vᵀ (one d × d eigendecomposition per piece). In the
basis W the step's tridiagonal coupling along the path is diagonal too, so the implicit step is
d independent tridiagonal solves of P unknowns.

What it changes and what not: the step is the same residual multiplied by another positive
definite matrix, so the fixed points — the discrete minimum-action paths with equal chords —
are the same; only the number of steps changes. It is built for each piece of the path that
leaves an attractor, at that attractor (``minimum_action_path(...,
preconditioner="linearised")``). For a linear drift N̄ is exact everywhere; for a nonlinear one it
is the attractor's shape at every point, which helps while the stiff directions turn slowly
along the path. Where they turn (the curved double well of the tests) the damped steps keep
failing the stability test; after 30 rejections within 100 steps the relaxation falls back to
the default damping for the rest of the piece (``info["pieces"][k]["preconditioner"]`` says
which damping it ended with): the curved well then converges in 536 + 277 steps against the
default's 290 + 277, to the same action (1e-15).

Measured (b = −Hx, D = I or I + 0.3·CCᵀ, d = 12, from the minimum to a point where V = 1/4,
33 points, tol 1e-4, 1500 steps per relaxation; steps counted over all stages): with the rates
of H spread over 100 the default does not converge (residual 4e-3 … 7e-3) and this converges
in 280–830 steps, with an anisotropic D or a mildly non-normal H (skew part 0.3) too; with a
skew part 1.0 it stops at residual 7e-4. Over 1000 it converges with D = I (655 steps); with
the anisotropic D its steps are rejected and it falls back to the default. Over 7000 neither
converges. On a network (d = 1013, weight decay 0.1, rates 8e-3 … 3.9), from a minimum to the
saddle with one unit removed, 1050 steps end at residual 0.027 against the default's 20 (not
converged, 114 s each); with Anderson extrapolation on top (:mod:`.anderson`) it converges in
507 steps with ``anderson=20`` and 629 with ``anderson=10`` (25 points).
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError


class LinearisedStiffness:
    """The shape N̄ of the stiffness at the attractor ``x0`` of ``dyn`` (a
    :class:`~fpsolve.large_deviations.Dynamics` or a torch one), in its eigenbasis: ``basis`` W
    (d, d), ``inverse`` W⁻¹, ``mu`` (the eigenvalues, largest 1). One dense Jacobian and two
    d × d eigendecompositions."""

    def __init__(self, dyn, x0):
        x0 = np.asarray(x0, dtype=float)
        J = np.asarray(dyn.jacobian_at(x0[None])[0], dtype=float)
        D = np.asarray(dyn.diffusion_at(x0[None])[0], dtype=float)
        s, U = np.linalg.eigh(0.5 * (D + D.T))      # D₀ symmetric positive definite
        root = (U * np.sqrt(s)) @ U.T               # D₀^(1/2)
        M = root @ J.T @ np.linalg.solve(D, J) @ root
        mu, V = np.linalg.eigh(0.5 * (M + M.T))
        top = float(mu.max()) if mu.size else 0.0
        if not (np.isfinite(top) and top > 0.0):
            raise InputError(f"preconditioner='linearised': the drift's Jacobian at the attractor "
                             f"is zero or not finite (largest eigenvalue of JᵀD⁻¹J: {top!r}); "
                             f"use the default preconditioner.")
        self.mu = np.maximum(mu, 0.0) / top
        self.basis = root @ V
        self.inverse = V.T @ ((U / np.sqrt(s)) @ U.T)   # W⁻¹ = Vᵀ D₀^(−1/2)

    def interior_step(self, w, a, kappa, dtau):
        """The increment x of the interior points, (I + Δτ κⱼ N̄)xⱼ + a-coupling = Δτ wⱼ:
        the system (1 + 2aⱼ + Δτκⱼμ)x̃ⱼ − aⱼ(x̃ⱼ₋₁ + x̃ⱼ₊₁) = Δτ w̃ⱼ per mode, x̃ = W⁻¹x."""
        rhs = (dtau * w) @ self.inverse.T           # (n, d), the modes of each point
        diag = 1.0 + 2.0 * a[:, None] + dtau * kappa[:, None] * self.mu[None, :]
        return _tridiagonal_modes(a, diag, rhs) @ self.basis.T

    def point_step(self, r, damp_scalar, kappa, dtau):
        """One point's increment (damp_scalar·I + Δτκ N̄)⁻¹ Δτ r."""
        return self.basis @ ((self.inverse @ (dtau * r)) / (damp_scalar + dtau * kappa * self.mu))


def _tridiagonal_modes(a, diag, rhs):
    """Solve diag[j]·x[j] − a[j]·(x[j−1] + x[j+1]) = rhs[j] for j = 0 … n−1 (x[−1] = x[n] = 0),
    column by column (Thomas algorithm, vectorised over the columns; stable: diagonally
    dominant, diag ≥ 1 + 2a)."""
    n = len(a)
    c = np.zeros_like(diag)
    y = np.empty_like(rhs)
    m = diag[0]
    y[0] = rhs[0] / m
    if n > 1:
        c[0] = -a[0] / m
    for j in range(1, n):
        m = diag[j] + a[j] * c[j - 1]
        if j < n - 1:
            c[j] = -a[j] / m
        y[j] = (rhs[j] + a[j] * y[j - 1]) / m
    for j in range(n - 2, -1, -1):
        y[j] -= c[j] * y[j + 1]
    return y
