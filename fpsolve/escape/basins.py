"""Basins of attraction of the stationary state, their probabilities, and the rates between them.

Basins (``method``):

- ``"gradient"``: steepest descent on the grid. Every cell points to the neighbour (across a
  face) with the steepest descent of the landscape Φ, and belongs to the local minimum that its
  descent path ends in. Φ is by default the effective potential −log π (π the discrete
  stationary density: U/D + const for a gradient drift with constant D; the right landscape for
  state-dependent D and any convention), or the model's potential U with ``potential="model"``,
  or a user array/callable. Basins shallower than ``min_depth`` (rise of Φ from the minimum to
  the lowest point where the basin touches a deeper one: topological persistence) are merged
  into their neighbour, so that plateaus and grid-scale ripples do not make basins.
- ``"committor"``: the same minima, but each cell goes to the minimum cell it is most likely to
  reach first (argmax of the committors h_m(x) = P_x(first minimum cell reached is m)).

Probabilities are the stationary masses of the basins, summed in log space.

Rates (``rates=True``): an exact renewal description between the minimum cells. From minimum i,
t_i = mean time until the process reaches the minimum cell of another basin, and Q_ij = the
probability that it is basin j's; the rate matrix is K_ij = Q_ij / t_i (i ≠ j), K_ii = −Σ_j K_ij,
in 1/time. Computed with the trap-reduced Green's functions of :mod:`fpsolve.escape.green` (no
cancellation however high the barriers); as D → 0 each K_ij tends to the Eyring–Kramers rate
over the lowest saddle between i and j.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from ..jit import njit

from ..errors import InputError
from ..coefficients.evaluate import check_finite, evaluate
from .green import KilledProcess, log_stationary
from .jumps import jump_rates
from .wells import find_root


@njit(cache=True)
def _watershed(phi, order, indptr, indices, dist, min_depth):
    N = phi.size
    parent = np.full(N, -1, dtype=np.int64)
    rank = np.full(N, -1, dtype=np.int64)
    mincell = np.full(N, -1, dtype=np.int64)
    for pos in range(order.size):
        c = order[pos]
        best = -1
        best_slope = -np.inf
        for q in range(indptr[c], indptr[c + 1]):
            n = indices[q]
            if n == c or parent[n] < 0:
                continue
            slope = (phi[c] - phi[n]) / dist[q]
            if slope > best_slope:
                best_slope = slope
                best = n
        if best < 0:  # a new local minimum
            parent[c] = c
            rank[c] = pos
            mincell[c] = c
            continue
        parent[c] = find_root(parent, best)
        # persistence: a basin that first touches a deeper one less than min_depth above its
        # own minimum is merged into it
        for q in range(indptr[c], indptr[c + 1]):
            n = indices[q]
            if n == c or parent[n] < 0:
                continue
            r1 = find_root(parent, c)
            r2 = find_root(parent, n)
            if r1 == r2:
                continue
            if rank[r1] > rank[r2]:
                shallow, deep = r1, r2
            else:
                shallow, deep = r2, r1
            if phi[c] - phi[mincell[shallow]] < min_depth:
                parent[shallow] = deep
    labels = np.empty(N, dtype=np.int64)
    for c in range(N):
        labels[c] = mincell[find_root(parent, c)]
    return labels


@dataclass
class Basins:
    """Basins of a model's landscape.

    labels : int array (grid shape), basin number of each cell (0 = the most probable basin).
    minima : flat cell index of each basin's minimum; points : their cell centres (k, ndim).
    probabilities, log_probabilities : stationary mass of each basin.
    rates : (k, k) rate matrix K (1/time; K_ij for i ≠ j the rate i → j, rows sum to 0), or None.
    mean_exit_times : t_i; jump_probabilities : Q_ij (see the module docstring), or None.
    info : method, landscape, min_depth, and the Green's-solve diagnostics.
    """

    labels: np.ndarray
    minima: np.ndarray
    points: np.ndarray
    probabilities: np.ndarray
    log_probabilities: np.ndarray
    rates: np.ndarray | None = None
    mean_exit_times: np.ndarray | None = None
    jump_probabilities: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.minima)

    def mask(self, i) -> np.ndarray:
        """Boolean mask (grid shape) of basin i (usable as a target or source set)."""
        return self.labels == i


def _log_pi(model):
    return log_stationary(model)[0]


def _landscape(model, potential, log_pi):
    g = model.grid
    if potential is None:
        return -log_pi, "effective potential −log π"
    if isinstance(potential, str):
        if potential != "model":
            raise InputError(f"basins: potential={potential!r}; give None (−log π), 'model' (the "
                             f"model's U), an array or a callable.")
        if getattr(model, "U", None) is None:
            raise InputError("basins: potential='model' but the model has no potential; use "
                             "potential=None (the effective potential −log π).")
        return np.asarray(model.U, dtype=float).ravel(), "model potential U"
    U = evaluate(potential, g.coords, g.shape, "potential")
    check_finite(U, g.coords, "potential")
    return U.ravel(), "user potential"


def _adjacency(model):
    """CSR neighbour pattern of the cells (across faces, periodic where the grid is) and the
    centre-to-centre distance of each entry."""
    g = model.grid
    R = jump_rates(model.rates)
    rows = np.repeat(np.arange(g.size), np.diff(R.indptr))
    a = np.array(np.unravel_index(rows, g.shape))
    b = np.array(np.unravel_index(R.indices, g.shape))
    axis = np.argmax(a != b, axis=0)
    dist = np.asarray(g.h)[axis].astype(float)
    return R.indptr.astype(np.int64), R.indices.astype(np.int64), dist


def basins(model, *, method="gradient", potential=None, min_depth=0.5, rates=True) -> Basins:
    """Basins of attraction, their stationary probabilities, and the rates between them.

    Parameters
    ----------
    model : FokkerPlanck
    method : "gradient" (steepest descent of the landscape) or "committor" (most likely minimum
        reached first); see the module docstring.
    potential : None (Φ = −log π), "model" (the model's U), or an array/callable on the grid.
    min_depth : persistence threshold for a basin, in the units of the landscape (ΔU/D for the
        default −log π).
    rates : compute the renewal rate matrix between the basins (one sparse factorisation and
        one solve per basin).
    """
    if method not in ("gradient", "committor"):
        raise InputError(f"basins: method {method!r} is unknown; choose 'gradient' or "
                         f"'committor'.")
    g = model.grid
    log_pi = _log_pi(model)
    phi, what = _landscape(model, potential, log_pi)
    indptr, indices, dist = _adjacency(model)
    order = np.argsort(phi, kind="stable")
    raw = _watershed(phi, order, indptr, indices, dist, float(min_depth))
    mins = np.unique(raw)
    # order basins by probability (most probable first)
    lab = np.searchsorted(mins, raw)
    logp = np.array([np.logaddexp.reduce(log_pi[lab == i]) for i in range(mins.size)])
    kp = None
    info = {"method": method, "landscape": what, "min_depth": float(min_depth)}
    if method == "committor" or (rates and mins.size > 1):
        kp = KilledProcess(model, np.zeros(g.size, dtype=bool), trap_depth=np.inf,
                           extra_traps=mins, log_pi=log_pi)
        # kp.traps is sorted, as mins is
    if method == "committor" and mins.size > 1:
        H = kp.H
        lab = np.empty(g.size, dtype=np.int64)
        lab[kp.kept2] = np.argmax(H, axis=1)
        lab[kp.traps] = np.arange(mins.size)
        logp = np.array([np.logaddexp.reduce(log_pi[lab == i]) for i in range(mins.size)])
    perm = np.argsort(-logp, kind="stable")
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    labels = inv[lab].reshape(g.shape)
    logp = logp[perm] - np.logaddexp.reduce(logp)
    minima = mins[perm]
    points = g.points[minima]
    K = t = Q = None
    if rates and mins.size > 1:
        Gw, Gm, Qr, _ = kp.renewal()
        t = (Gw.sum(axis=1) + Gm)[perm]
        Q = Qr[np.ix_(perm, perm)]
        K = Q / t[:, None]
        np.fill_diagonal(K, 0.0)
        np.fill_diagonal(K, -K.sum(axis=1))
        info["condition_estimate"] = kp.condition_estimate()
    elif rates:
        K, t, Q = np.zeros((1, 1)), np.array([np.inf]), np.zeros((1, 1))
    return Basins(labels=labels, minima=minima, points=points, probabilities=np.exp(logp),
                  log_probabilities=logp, rates=K, mean_exit_times=t, jump_probabilities=Q,
                  info=info)
