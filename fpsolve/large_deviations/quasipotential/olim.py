r"""The quasi-potential V(x) of an attractor on a grid, by an ordered line integral method.

V(x) = inf over paths from the attractor x* to x of the action (:mod:`..dynamics`), i.e. the
viscosity solution of b·∇V + ∇VᵀD∇V = 0 with V(x*) = 0, for anisotropic and state-dependent
D. The method is Dahiya & Cameron's OLIM-MID (*Ordered line integral methods for computing the
quasi-potential*, J. Sci. Comput. 75, 2018), written here for a metric D(x)⁻¹ and for 1D, 2D and
3D grids:

- nodes are accepted in increasing V (Dijkstra-like, a binary heap with decrease-key);
- an accepted node x₀ updates every non-accepted node x within the update radius K·h by the
  one-point update V(x₀) + S(x₀ → x) and by triangle updates min_s (1 − s)V(x₀) + sV(x₁) +
  S(x_s → x) over its accepted nearest neighbours x₁ (x_s on the edge x₀x₁; the minimum over s
  in closed form with the midpoint coefficients frozen, iterated three times);
- S is the geometric action of the straight segment by the midpoint rule, the midpoint drift and
  metric interpolated linearly from the segment's ends (values at the nodes, computed once);
- near the attractor the nodes within ``init_radius``·h get the exact quasi-potential of the
  linearisation, ½ δxᵀ Σ₀⁻¹ δx with J Σ₀ + Σ₀ Jᵀ = −2D(x*) (J = ∂b/∂x at x*).

Guarantees: V ≥ 0, V = 0 only at the attractor; V is exact for the quadratic quasi-potential of
a linear drift with constant D up to the discretisation of the minimisation (the triangle
updates make the error O(h) in general, with the constant shrinking as K grows; observed orders
are reported in the tests). Not guaranteed: accuracy where the minimum-action path leaves the
grid (the box must contain the paths to the points of interest), nor for paths whose direction
changes within K·h of a node by more than the triangle updates resolve (increase K where the
anisotropy of D or the rotation of b is strong; Dahiya & Cameron find the error smallest for K
between about 4 and 20 at these grid sizes). Cost: O(N K^d log N) for N nodes.
"""
from __future__ import annotations

import itertools
import time

import numpy as np

from ...errors import InputError
from ... import Field, Grid
from ..dynamics import fmt_point
from ..paths.gmam import as_dynamics
from .kernels import ACCEPTED, olim_sweep


def _offsets(ndim, h, radius):
    """Integer offsets of the update ball (physical radius ``radius``·max h, centre excluded)
    and of the nearest neighbours {−1, 0, 1}^d \\ {0}."""
    hmax = float(np.max(h))
    reach = [int(np.ceil(radius * hmax / ha)) for ha in h]
    ball = [o for o in itertools.product(*[range(-r, r + 1) for r in reach])
            if any(o) and sum((oa * ha) ** 2 for oa, ha in zip(o, h)) <= (radius * hmax) ** 2]
    near = [o for o in itertools.product(*[range(-1, 2)] * ndim) if any(o)]
    return np.asarray(ball, dtype=np.int64), np.asarray(near, dtype=np.int64), (radius * hmax) ** 2


def quasipotential(dynamics, grid: Grid, attractor, *, radius: float = 5.0,
                   init_radius: float = 2.0, max_value: float | None = None,
                   refine_attractor: bool = True) -> Field:
    """The quasi-potential of ``attractor`` on the nodes (cell centres) of ``grid`` (OLIM-MID).

    Parameters
    ----------
    dynamics : :class:`~fpsolve.large_deviations.Dynamics` or an :class:`fpsolve.FokkerPlanck`
        model (then ε = 1: V is in the model's units, −log p ≈ V).
    grid : an :class:`fpsolve.Grid` (1 to 3 axes, not periodic); V is computed at its cell
        centres, so that it compares directly with a density on the same grid.
    attractor : the attractor x* (refined by Newton's method unless ``refine_attractor=False``);
        it must lie inside the grid.
    radius : update radius K in units of the largest grid spacing (default 5).
    init_radius : nodes within this many spacings of x* get the linearisation's exact V.
    max_value : stop once every node with V ≤ max_value is accepted (the rest stay +inf).

    Returns
    -------
    Field
        V on the grid (+inf at nodes not reached: beyond ``max_value``, or cut off by the box);
        ``info`` holds the attractor, K, the local Hessian Σ₀⁻¹, the number of accepted nodes
        and the run time.
    """
    t0 = time.perf_counter()
    dyn = as_dynamics(dynamics)
    if not isinstance(grid, Grid):
        raise InputError(f"quasipotential: grid must be an fpsolve.Grid; got "
                         f"{type(grid).__name__}.")
    if grid.ndim != dyn.ndim:
        raise InputError(f"quasipotential: the grid has {grid.ndim} axes but the dynamics "
                         f"{dyn.ndim} coordinates.")
    if any(grid.periodic):
        raise InputError("quasipotential: periodic axes are not supported; use a box that "
                         "contains the minimum-action paths of interest.")
    if not (np.isfinite(radius) and radius >= 1.0):
        raise InputError(f"quasipotential: radius (the update radius K in grid spacings) must be "
                         f"≥ 1; got {radius!r}.")
    x_star = dyn.as_points(attractor, "quasipotential: attractor")[0]
    if refine_attractor:
        x_star = dyn.refine_critical_point(x_star)
    if not grid.contains(x_star)[0]:
        raise InputError(f"quasipotential: the attractor {fmt_point(x_star)} lies outside the grid "
                         f"{grid!r}.")
    kind = dyn.classify(x_star)
    if kind["kind"] != "attractor":
        raise InputError(f"quasipotential: {fmt_point(x_star)} is not an attractor (|b| = "
                         f"{kind['drift_norm']:.3g}, eigenvalues of ∂b/∂x "
                         f"{fmt_point(kind['eigenvalues'].real)}); give a stable critical "
                         f"point (or refine_attractor=True).")
    K_loc = dyn.local_quasipotential(x_star)
    X = grid.points
    b = np.ascontiguousarray(dyn.drift_at(X))
    M = np.ascontiguousarray(dyn.metric_at(X)[0])
    h = np.asarray(grid.h, dtype=float)
    Q = np.full(grid.size, np.inf)
    status = np.zeros(grid.size, dtype=np.int8)
    dx = X - x_star
    near_star = np.sum(dx ** 2, axis=1) <= (init_radius * float(np.max(h))) ** 2
    cell = np.ravel_multi_index(tuple(grid.cell_index(x_star)[0]), grid.shape)
    near_star[cell] = True
    seeds = np.flatnonzero(near_star).astype(np.int64)
    Q[seeds] = 0.5 * np.einsum("ni,ij,nj->n", dx[seeds], K_loc, dx[seeds])
    status[seeds] = ACCEPTED
    ball, near, r2 = _offsets(grid.ndim, h, radius)
    lower = np.array([ax[0] for ax in grid.axes])
    accepted = olim_sweep(np.asarray(grid.shape, dtype=np.int64), h, lower, b, M, Q, status,
                          seeds, ball, near, float(r2),
                          np.inf if max_value is None else float(max_value))
    if max_value is not None:
        Q[Q > max_value] = np.inf
    info = {"method": "OLIM-MID", "attractor": x_star.tolist(), "radius": float(radius),
            "local_hessian": K_loc.tolist(), "accepted": int(accepted), "seeds": int(seeds.size),
            "seconds": time.perf_counter() - t0, "quantity": "quasi-potential"}
    return Field(grid, Q.reshape(grid.shape), info)
