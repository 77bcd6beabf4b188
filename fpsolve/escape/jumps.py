"""The jump rates of the model's Markov chain on the cells, and of the process killed on a target:
sparse matrices built from the model's face rates."""
from __future__ import annotations

import weakref

import numpy as np
import scipy.sparse as sp

from ..numerics.discretisation import FaceRates

# jump_rates per rates object (keyed by id, dropped when the object dies): a question asks for
# them two or three times, and at 2·10⁶ cells each assembly costs ~0.8 s
_JUMPS: dict[int, tuple] = {}


def moving_rates(R, removed, cut=None):
    """The jump rates of the killed process, R_s[y, z] = rate y → z between cells that are not
    ``removed``, without the jumps in ``cut`` (those that cross a target; see
    :mod:`fpsolve.escape.absorption`). R : the model's rates (R[y, z] = rate y → z, CSR)."""
    keep = (~np.asarray(removed, dtype=bool)).astype(float)
    Rs = sp.csr_matrix(R.multiply(keep[None, :]))
    if cut is not None and cut.nnz:
        Rs = sp.csr_matrix(Rs - cut)
    Rs.eliminate_zeros()
    Rs.sort_indices()
    return Rs


def killed_generator(Rs, kill, index):
    """L restricted to the cells with ``index >= 0``: off-diagonals Rs (transposed: L[z, y] =
    rate y → z), diagonal minus every rate out of the cell, to any cell or killed (``kill``);
    a sum of positive terms, so no cancellation. Rates into cells with index −1 (traps, target)
    stay as loss."""
    keep = np.flatnonzero(index >= 0)
    n = keep.size
    out = np.asarray(Rs.sum(axis=1)).ravel() + kill
    # one pass over the jumps between kept cells (two fancy-indexing passes and a transpose
    # cost 0.55 s at 2·10⁶ cells, this 0.37 s), renumbered by ``index`` (increasing, so the
    # order within a row is kept); the entries are distinct, so nothing is summed
    rows = np.repeat(np.arange(Rs.shape[0]), np.diff(Rs.indptr))
    ok = (index[rows] >= 0) & (index[Rs.indices] >= 0)
    y, z = index[rows[ok]], index[Rs.indices[ok]]
    diag = np.arange(n)
    return sp.coo_matrix((np.concatenate([Rs.data[ok], -out[keep]]),
                          (np.concatenate([z, diag]), np.concatenate([y, diag]))),
                         shape=(n, n)).tocsr()


def jump_rates(rates):
    """R[y, z] = rate y → z (CSR, zero diagonal, sorted indices) of the model's face rates
    (1/time): the off-diagonal of the generator, transposed. Built once per rates object and
    shared: callers must not modify it (its arrays are read-only)."""
    key = id(rates)
    hit = _JUMPS.get(key)
    if hit is not None and hit[0]() is rates:
        return hit[1]
    if isinstance(rates, FaceRates):
        # the chain with every jump reversed has generator L′[y, z] = rate′ z → y = rate y → z:
        # R is its off-diagonal, assembled directly (no transpose, no copy of the model's L;
        # ψ = 0 given so that the temporary object does not cache it)
        back = FaceRates(rates.grid, log_fwd=rates.log_bwd, log_bwd=rates.log_fwd)
        R = sp.csr_matrix(back.generator(psi=np.zeros(rates.grid.size)))
        R.setdiag(0.0)
        R.eliminate_zeros()
    else:
        R = sp.csr_matrix(rates.generator())  # generator() returns a fresh copy
        R.setdiag(0.0)
        R.eliminate_zeros()
        R = R.T.tocsr()
    R.sort_indices()
    for a in (R.data, R.indices, R.indptr):
        a.flags.writeable = False
    _JUMPS[key] = (weakref.ref(rates), R)
    weakref.finalize(rates, _JUMPS.pop, key, None)
    return R
