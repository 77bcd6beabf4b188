"""Step-size checks of Euler–Maruyama: the drift's explicit stability limit, and blow-up.

Euler–Maruyama is explicit in the drift. Near a point where the drift has Jacobian J, one step
multiplies a deviation by I + J·dt; with J's eigenvalues λ (Re λ < 0 for a restoring drift) the
step is stable only for |1 + λ dt| < 1, i.e. dt < 2/|λ| for real λ. Beyond that limit particles
overshoot the well further at every step: with walls they rattle between them (a stationary
variance of 1.17 where the Fokker–Planck answer is 0.0151, for U = 50x⁴, D = 0.1, dt = 0.5),
without walls they overflow. Neither is an O(dt) bias that a smaller error bar would expose.

:func:`drift_stiffness` bounds |λ| over the grid by Gershgorin's theorem, κ = max_x max_i
Σ_j |J_ij(x)|, with J from central differences of ``model.coefficients.drift`` (step a tenth of the cell)
on at most ``max_points`` cell centres (a sub-lattice of the grid, its edges included).
:func:`check_step` warns when dt·κ > 2 and suggests dt = 0.2/κ (a tenth of the limit, where the
O(dt) bias of a linear drift is ≲ 10% of the variance). The bound covers the whole grid: where
the particles never go, a steep drift can trigger the warning for a run that is fine, which the
message says. :func:`check_finite` turns non-finite positions into a :class:`SolverError`.
"""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import SolverError

#: fraction of the explicit limit 2/κ suggested as the step
SAFETY = 0.1


def drift_stiffness(model, t=0.0, max_points=4096):
    """(κ, x*): the Gershgorin bound on the drift Jacobian's eigenvalues over the grid (1/time)
    and the point where it is largest."""
    g = model.grid
    d = g.ndim
    per_axis = max(3, int(round(max_points ** (1.0 / d))))
    axes = []
    for a in range(d):
        n = g.shape[a]
        idx = np.unique(np.linspace(0, n - 1, min(n, per_axis)).round().astype(int))
        lo, _ = g.bounds[a]
        axes.append(lo + (idx + 0.5) * g.h[a])
    X = np.stack([c.ravel() for c in np.meshgrid(*axes, indexing="ij")], axis=-1)
    J = np.zeros((len(X), d, d))
    for j in range(d):
        s = 0.1 * g.h[j]
        up, dn = X.copy(), X.copy()
        up[:, j] += s
        dn[:, j] -= s
        bu = np.asarray(model.coefficients.drift(up, t), dtype=float).reshape(X.shape)
        bd = np.asarray(model.coefficients.drift(dn, t), dtype=float).reshape(X.shape)
        J[:, :, j] = (bu - bd) / (2 * s)
    rows = np.sum(np.abs(J), axis=2).max(axis=1)
    rows = np.where(np.isfinite(rows), rows, np.inf)
    i = int(np.argmax(rows))
    return float(rows[i]), X[i]


def check_step(model, dt, stacklevel=3):
    """Warn (RuntimeWarning) when dt exceeds the drift's explicit stability limit on the grid.

    Returns κ (the stiffness bound; 0 when the drift could not be evaluated for the check)."""
    try:
        kappa, where = drift_stiffness(model)
    except Exception:  # the run itself will report a bad drift with its own message
        return 0.0
    x = ", ".join(f"{v:.3g}" for v in where)
    if not np.isfinite(kappa):
        warnings.warn(f"particles: the drift or its derivative is not finite at x = ({x}) on "
                      f"the grid; particles that get there will fail.", RuntimeWarning,
                      stacklevel=stacklevel)
        return 0.0
    if kappa * dt > 2.0:
        warnings.warn(
            f"particles: dt = {dt:g} exceeds the explicit stability limit of Euler–Maruyama "
            f"for this drift, 2/κ = {2.0 / kappa:.3g}, where κ = {kappa:.3g} bounds the drift's "
            f"Jacobian on the grid (largest at x = ({x})). Particles that get there overshoot "
            f"at every step and the statistics are wrong, not just O(dt) biased. Use "
            f"dt ≤ {SAFETY * 2.0 / kappa:.3g} (or restrict the grid to where the particles go, "
            f"if they never reach that region).", RuntimeWarning, stacklevel=stacklevel)
    return kappa


def check_finite(X, t, dt, kappa):
    """Raise SolverError when positions are no longer finite (a step too large for the drift)."""
    bad = ~np.all(np.isfinite(X), axis=1)
    if np.any(bad):
        limit = (f" (explicit stability limit 2/κ = {2.0 / kappa:.3g}; try "
                 f"dt ≤ {SAFETY * 2.0 / kappa:.3g})" if kappa > 0 else "")
        raise SolverError(
            f"particles: {int(bad.sum())} of {len(X)} positions became non-finite by "
            f"t = {t:g}: the step dt = {dt:g} is too large for the drift{limit}, or the drift "
            f"overflows where the particles went.")
