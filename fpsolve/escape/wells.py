"""The wells of a landscape Φ = −log π on a grid: their depths, by a union-find sweep in order of
Φ, and the trap parameters of the escape solvers (:mod:`.green`)."""
from __future__ import annotations

import numpy as np

from ..jit import njit

#: Default trap depth (in units of Φ = −log π, i.e. ΔU/D): wells shallower than this are left to
#: the plain LU, whose relative error grows like ε·e^depth·poly(N) (≈ 1e-11 at depth 3).
TRAP_DEPTH = 3.0
MAX_TRAPS = 64
#: Deepest well (ΔU/D) whose escape weight e^(−depth) is representable with full precision:
#: beyond it the weight is subnormal (e^(−708) is the smallest normal double).
MAX_DEPTH = 700.0
#: A balance defect above this raises a warning (and ``info["accurate"] = False``).
BALANCE_TOL = 1e-6
#: Balance defects (and backward error ≤ 1e-8) below which an iterative answer tried in place of
#: the LU is kept (``KilledProcess(gmg_trial=True)``). A thousandth of BALANCE_TOL because the
#: defect understates the error: max|u − u_LU| / max|u_LU| was 3–10× the defect of the
#: multigrid answers on 600×20 strips, 128² grids and a 128² tensor problem at ΔU/D = 5–40
#: (tests/escape/test_escape_gmg_trial.py), so a kept answer is within ~1e-8 of the LU's.
CERTIFY_TOL = 1e-9


@njit(cache=True)
def find_root(parent, c):
    """Root of c in a union-find forest ``parent`` (parent[r] = r at a root), compressing the
    path on the way."""
    root = c
    while parent[root] != root:
        root = parent[root]
    while parent[c] != root:  # path compression
        nxt = parent[c]
        parent[c] = root
        c = nxt
    return root


@njit(cache=True)
def well_depths(phi, order, indptr, indices, absorbing):
    """Depth of every local minimum of ``phi`` over the kept cells (union-find sweep).

    Cells are added in ``order`` (ascending phi). A component dies when it merges with a
    component whose minimum is lower (earlier in the order), or with the sink, which a cell
    joins when it is added if ``absorbing`` (it has a killing rate: a target next to it); its
    depth is phi(merge cell) − phi(its minimum), stored at its minimum cell. Returns depths (NaN
    for cells that are not minima, +inf for minima that never die: a component with no path to
    the target). Adjacency: CSR pattern (indptr, indices) of the jumps between kept cells.
    """
    N = phi.size
    sink = N
    parent = np.full(N + 1, -1, dtype=np.int64)
    parent[sink] = sink
    rank = np.full(N + 1, -1, dtype=np.int64)  # position in order of the component's minimum
    mincell = np.full(N + 1, -1, dtype=np.int64)
    depth = np.full(N, np.nan)
    for pos in range(order.size):
        c = order[pos]
        parent[c] = c
        rank[c] = pos
        mincell[c] = c
        for q in range(indptr[c], indptr[c + 1] + 1):
            if q == indptr[c + 1]:  # after the neighbours: the sink, if c is absorbing
                if not absorbing[c]:
                    continue
                r2 = sink
            else:
                n = indices[q]
                if n == c or parent[n] < 0:
                    continue
                r2 = find_root(parent, n)
            r1 = find_root(parent, c)
            if r1 == r2:
                continue
            # the component whose minimum came later (higher phi) dies here
            if r2 == sink or (r1 != sink and rank[r1] > rank[r2]):
                die, keep = r1, r2
            else:
                die, keep = r2, r1
            m = mincell[die]
            depth[m] = phi[c] - phi[m]
            parent[die] = keep
    for pos in range(order.size):
        c = order[pos]
        if parent[c] >= 0 and find_root(parent, c) != sink and mincell[find_root(parent, c)] == c:
            depth[c] = np.inf
    return depth
