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
