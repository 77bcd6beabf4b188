"""The jump-rate matrix R[y, z] = rate y → z against the generator it comes from."""
import numpy as np
import pytest
import scipy.sparse as sp

import fpsolve as fp
from fpsolve.escape.jumps import jump_rates


def _models():
    yield "1D state-dependent", fp.FokkerPlanck(
        fp.Grid([(-2, 2)], 50), potential=lambda x: (x ** 2 - 1) ** 2 / 4,
        diffusion=lambda x: 0.2 + 0.1 * x ** 2)
    yield "2D non-reversible, one periodic axis", fp.FokkerPlanck(
        fp.Grid([(-2.5, 2.5), (0, 2 * np.pi)], (20, 16), periodic=[False, True]),
        drift=lambda x, y: (x - x ** 3, 1 + 0.5 * np.sin(y)), diffusion=0.3)
    yield "3D periodic", fp.FokkerPlanck(
        fp.Grid([(0, 2 * np.pi)] * 3, (8, 6, 5), periodic=[True] * 3),
        drift=lambda x, y, z: (np.sin(y), 1 + np.cos(z), 0.5), diffusion=0.2)
    yield "periodic ring of 3 cells", fp.FokkerPlanck(
        fp.Grid([(0, 2 * np.pi)], 3, periodic=[True]), drift=lambda x: 1 + np.sin(x),
        diffusion=0.2)
    yield "2D tensor", fp.FokkerPlanck(
        fp.Grid([(-2, 2)] * 2, 30), potential=lambda x, y: (x ** 2 - 1) ** 2 / 4 + y ** 2 / 2,
        diffusion=[[0.1, 0.02], [0.02, 0.08]])


@pytest.mark.parametrize("name,model", list(_models()), ids=[n for n, _ in _models()])
def test_jump_rates_are_the_transposed_off_diagonal_of_the_generator(name, model):
    # the face-rate route assembles R as the generator of the reversed chain; it must be the
    # generator's off-diagonal transposed, bit for bit (the same face rates, no arithmetic)
    L = sp.csr_matrix(model.generator())
    L.setdiag(0.0)
    L.eliminate_zeros()
    ref = L.T.tocsr()
    ref.sort_indices()
    R = jump_rates(model.rates)
    assert np.array_equal(R.indptr, ref.indptr) and np.array_equal(R.indices, ref.indices)
    assert np.array_equal(R.data, ref.data)
    assert R is jump_rates(model.rates)  # built once per rates object
    with pytest.raises(ValueError):  # and shared read-only
        R.data[0] = 1.0


@pytest.mark.parametrize("name,model", list(_models())[:3], ids=[n for n, _ in _models()][:3])
def test_killed_generator_against_its_dense_definition(name, model):
    from fpsolve.escape.jumps import killed_generator, moving_rates
    from fpsolve.escape.targets import index_map

    N = model.grid.size
    removed = np.zeros(N, dtype=bool)
    removed[::7] = True
    kill = np.linspace(0.0, 2.0, N)
    Rs = moving_rates(jump_rates(model.rates), removed)
    L = killed_generator(Rs, kill, index_map(removed)).toarray()
    # dense definition: L[z, y] = rate y → z between kept cells; diagonal −(all rates out + kill)
    D = Rs.toarray()
    keep = ~removed
    ref = D[np.ix_(keep, keep)].T - np.diag(D.sum(axis=1)[keep] + kill[keep])
    off = ~np.eye(L.shape[0], dtype=bool)
    assert np.array_equal(L[off], ref[off])  # copied rates: exact
    # the diagonal is a sum of rates; its order of summation differs from the dense sum's
    np.testing.assert_allclose(np.diag(L), np.diag(ref), rtol=1e-14, atol=0)


def _scipy_moving_rates(R, removed, cut):
    # the sparse-algebra definition the Numba pass replaces: zero the columns of removed cells,
    # subtract the jumps across a target, drop the zeros
    Rs = sp.csr_matrix(R.multiply((~removed).astype(float)[None, :]))
    Rs = sp.csr_matrix(Rs - cut)
    Rs.eliminate_zeros()
    Rs.sort_indices()
    return Rs


def _scipy_killed_generator(Rs, kill, index):
    keep = np.flatnonzero(index >= 0)
    out = np.asarray(Rs.sum(axis=1)).ravel() + kill
    sub = Rs[keep][:, keep].T.tocsr()
    return (sub - sp.diags(out[keep])).tocsr()


def _diagonal_positions(A):
    """Positions in A.data (CSR, sorted) of the diagonal entries."""
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    return np.flatnonzero(rows == A.indices)


def _same(A, B, rtol=0.0):
    A, B = sp.csr_matrix(A), sp.csr_matrix(B)
    A.sort_indices()
    B.sort_indices()
    return (np.array_equal(A.indptr, B.indptr) and np.array_equal(A.indices, B.indices)
            and np.all(np.abs(A.data - B.data) <= rtol * np.abs(B.data)))


#: the diagonal of a killed generator sums its row's rates (all ≥ 0) and the kill rate: the
#: kernel sums in numpy's pairwise order and matches scipy to the bit here, but numpy may order
#: a reduction differently on another CPU or version, so the sums are held to their round-off
#: bound, (terms − 1)·ε ≤ 400·1.1e-16 < 1e-13 relative; every off-diagonal entry is a copied
#: rate and stays exact (the pattern too)
SUM_RTOL = 1e-13


@pytest.mark.parametrize("sharp", [False, True], ids=["cell mask", "thin sharp target"])
def test_killed_process_matrices_equal_their_sparse_algebra_definition(sharp):
    """moving_rates and killed_generator (one Numba pass each) against scipy's sparse algebra
    on the same rates: the pattern and every copied rate bit for bit, each diagonal (a row sum,
    formed in the order of scipy's ``sum(axis=1)``) to its round-off bound (SUM_RTOL)."""
    from fpsolve.escape import absorption
    from fpsolve.escape.jumps import killed_generator, moving_rates
    from fpsolve.escape.regions import Ball
    from fpsolve.escape.targets import index_map

    m = fp.FokkerPlanck(fp.Grid([(-2, 2), (-1, 1)], (60, 30)),
                        potential=lambda x, y: (x ** 2 - 1) ** 2 / 4 + y ** 2,
                        diffusion=lambda x, y: 0.15 + 0.05 * x ** 2)
    h = m.grid.h
    # a ball smaller than a cell between two centres: the jump across it is cut, no cell removed
    target = (Ball([0.0, -1 + 15.5 * h[1]], 0.2 * h[0]) if sharp
              else (lambda x, y: (x >= 1.0) | (y <= -0.9)))
    ab = absorption.build(m, {"t": target})
    assert (ab.cut.nnz > 0) == sharp
    R = jump_rates(m.rates)
    Rs = moving_rates(R, ab.removed, ab.cut)
    assert _same(Rs, _scipy_moving_rates(R, ab.removed, ab.cut))
    rng = np.random.default_rng(3)
    removed = ab.removed.copy()
    removed[rng.choice(np.flatnonzero(~removed), 9, replace=False)] = True  # traps too
    for idx in (index_map(ab.removed), index_map(removed)):
        ref = _scipy_killed_generator(Rs, ab.kill, idx)
        assert _same(killed_generator(Rs, ab.kill, idx), ref, SUM_RTOL)
        assert _same(killed_generator(Rs, ab.kill, idx, negated=True), -ref, SUM_RTOL)
        off = ~np.isin(np.arange(ref.nnz), _diagonal_positions(ref))
        assert np.array_equal(killed_generator(Rs, ab.kill, idx).data[off], ref.data[off])


def test_killed_generator_sums_long_rows_as_scipy_does():
    # rows of 20–300 jumps exercise every branch of the pairwise sum (< 8, blocks of 8, halves
    # beyond 128): the diagonal must still be scipy's row sum (to its round-off bound)
    from fpsolve.escape.jumps import killed_generator, moving_rates
    from fpsolve.escape.targets import index_map

    rng = np.random.default_rng(0)
    N = 400
    R = sp.random(N, N, density=0.5, random_state=1, format="csr")
    R.setdiag(0.0)
    R.eliminate_zeros()
    removed = rng.random(N) < 0.2
    cut = R.multiply(sp.random(N, N, density=0.3, random_state=2) != 0).tocsr()
    cut = cut.multiply((~removed)[None, :]).multiply((~removed)[:, None]).tocsr()
    cut.data *= rng.choice([1.0, 0.5], cut.nnz)  # some jumps partly cut
    Rs = moving_rates(R, removed, cut)
    assert _same(Rs, _scipy_moving_rates(R, removed, cut))
    kill = rng.random(N)
    idx = index_map(removed | (rng.random(N) < 0.1))
    assert np.diff(Rs.indptr).max() > 128
    assert _same(killed_generator(Rs, kill, idx), _scipy_killed_generator(Rs, kill, idx),
                 SUM_RTOL)


def test_row_sums_are_scipys_row_sums():
    # rows of 0 to ~300 entries (every branch of the pairwise sum), to SUM_RTOL as above
    from fpsolve.escape.jumps import row_sums

    R = sp.random(400, 400, density=0.5, random_state=5, format="csr").tolil()
    R[7, :] = 0.0  # an empty row
    R = sp.csr_matrix(R)
    R.eliminate_zeros()
    got, ref = row_sums(R), np.asarray(R.sum(axis=1)).ravel()
    assert got.shape == ref.shape and got[7] == 0.0
    assert np.all(np.abs(got - ref) <= SUM_RTOL * ref)
