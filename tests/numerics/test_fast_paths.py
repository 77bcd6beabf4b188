"""The fast linear-solve paths of issue 13 against the existing direct path (SuperLU), at tight
tolerances, on tensor, non-reversible and 3D problems; and their building blocks against
independent references (a sparse LU for the Poisson solve, pyamg's own cycle, dense algebra)."""
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import fpsolve as fp
from fpsolve.numerics import krylov, linalg
from fpsolve.numerics.multigrid import VCycle
from fpsolve.numerics.poisson import least_squares_potential
from tests.conftest import tensor_model


def test_tensor_stationary_mfpt_committor_amg_match_lu():
    m = tensor_model(48)
    assert not m.rates.reversible
    ref = m.stationary(solver="direct")
    p = m.stationary(solver="amg")
    assert p.info["linear_solver"] == "amg" and ref.info["linear_solver"] == "direct"
    # both solve E⁻¹LE r = e_j to backward error ~100 ε; cond ≈ N·e^(spread of r) ≲ 1e5 here,
    # so 1e-9 is 100× above the expected agreement (measured ≈ 1e-12)
    assert np.max(np.abs(p.values / ref.values - 1)) < 1e-9
    target = lambda x, y: x >= 1  # noqa: E731
    t_ref = m.mean_first_passage_time(target, solver="direct")
    t_amg = m.mean_first_passage_time(target, solver="amg")
    keep = t_ref.values > 0
    assert t_amg.info["accurate"] and t_amg.info["linear_solver"] == "AMG-GMRES"
    assert np.max(np.abs(t_amg.values[keep] / t_ref.values[keep] - 1)) < 1e-9
    q_ref = m.committor(lambda x, y: x <= -1, target, solver="direct")
    q_amg = m.committor(lambda x, y: x <= -1, target, solver="amg")
    # committor values near 0 carry relative accuracy; compare where q > 1e-6 (absolute 1e-10)
    assert np.max(np.abs(q_amg.values - q_ref.values)) < 1e-10


def test_nonreversible_3d_mfpt_amg_matches_lu():
    g = fp.Grid([(-2, 2), (-1.5, 1.5), (-1.5, 1.5)], 14)
    m = fp.FokkerPlanck(g, drift=lambda x, y, z: (x - x ** 3 - 0.4 * y, -y + 0.4 * x, -z),
                        diffusion=lambda x, y, z: 0.2 * (1 + 0.2 * np.cos(x + z)))
    ref = m.mean_first_passage_time(lambda x, y, z: x >= 1, solver="direct")
    tau = m.mean_first_passage_time(lambda x, y, z: x >= 1, solver="amg")
    keep = ref.values > 0
    assert tau.info["accurate"] and not tau.info["reversible"]
    assert np.max(np.abs(tau.values[keep] / ref.values[keep] - 1)) < 1e-9


@pytest.mark.skipif(not linalg.pardiso_available(), reason="pypardiso not installed")
def test_pardiso_matches_superlu_both_ways():
    m = tensor_model(40)
    A = (-m.generator() + 1e-3 * sp.identity(m.grid.size)).tocsr()
    B = np.random.default_rng(0).random((m.grid.size, 2))
    for trans in (False, True):
        x = linalg.LinearSolver(A, "pardiso").solve(B, trans=trans)
        y = linalg.LinearSolver(A, "direct").solve(B, trans=trans)
        assert np.max(np.abs(x / y - 1)) < 1e-10  # two backward-stable LUs, cond ≲ 1e4
    p = m.stationary(solver="pardiso")
    assert p.info["linear_solver"] == "pardiso"
    assert np.max(np.abs(p.values / m.stationary(solver="direct").values - 1)) < 1e-9


def test_pardiso_missing_is_an_input_error(monkeypatch):
    monkeypatch.setattr(linalg, "pardiso_available", lambda: False)
    with pytest.raises(fp.InputError, match=r"pip install 'fpsolve\[pardiso\]'"):
        linalg.choose_solver(10, 2, "pardiso")


def test_solve_similar_reuses_the_factorisation():
    # B = E⁻¹ A E: solving B with A's LU (as a preconditioner) equals a fresh LU of B
    m = tensor_model(30)
    A = (-m.generator() + 1e-2 * sp.identity(m.grid.size)).tocsr()
    # a scaling spanning about e^±3 (B is then far worse conditioned than A)
    s = np.random.default_rng(1).normal(scale=1.0, size=m.grid.size)
    E = sp.diags(np.exp(s))
    B = (sp.diags(np.exp(-s)) @ A @ E).tocsr()
    b = np.random.default_rng(2).random(m.grid.size)
    ref = np.linalg.solve(B.toarray(), b)
    cond = np.linalg.cond(B.toarray())
    for method in ("direct", "amg"):
        ls = linalg.LinearSolver(A, method)
        x = ls.solve_similar(B, s, b)
        # the iterative stop is a normwise backward error ≤ 10 ε ‖B‖‖x‖ ≈ 2e-15, so the forward
        # error is ≤ cond(B)·2e-15 (cond ≈ 5e6 here; measured 4e-12 direct, 1.5e-9 AMG)
        assert np.max(np.abs(x / ref - 1)) < 5 * 2e-15 * cond
    assert ls.iterations[-1] < 40  # the AMG hierarchy of A preconditions B: no new set-up


def test_least_squares_potential_by_transforms_matches_a_sparse_lu():
    rng = np.random.default_rng(3)
    for shape, per in [((7, 5), (False, False)), ((6, 4, 3), (True, False, True))]:
        g = fp.Grid([(0, 1)] * len(shape), list(shape), periodic=list(per))
        G = rng.normal(size=(len(shape), g.size))
        # reference: the normal equations BᵀB ψ = Bᵀ G with one value pinned, by SuperLU
        idx = np.arange(g.size).reshape(shape)
        lo, hi, inc = [], [], []
        for a in range(len(shape)):
            keep = np.ones(shape, bool)
            if not per[a]:
                keep[(slice(None),) * a + (-1,)] = False
            lo.append(idx[keep]), hi.append(np.roll(idx, -1, a)[keep])
            inc.append(G[a].reshape(shape)[keep])
        lo, hi, inc = map(np.concatenate, (lo, hi, inc))
        e = np.arange(lo.size)
        Bm = sp.csr_matrix((np.r_[-np.ones(e.size), np.ones(e.size)], (np.r_[e, e], np.r_[lo, hi])),
                           shape=(e.size, g.size))
        pin = sp.csr_matrix(([1.0], ([0], [0])), shape=(g.size, g.size))
        ref = spla.spsolve((Bm.T @ Bm + pin).tocsc(), Bm.T @ inc)
        psi = least_squares_potential(G, shape, per)
        assert np.max(np.abs((psi - psi.max()) - (ref - ref.max()))) < 1e-11


def test_numba_v_cycle_is_pyamgs_cycle():
    import pyamg

    m = tensor_model(40)
    A = (-m.generator()).tocsr()
    A = A + 1e-3 * sp.identity(A.shape[0], format="csr")
    ml = pyamg.ruge_stuben_solver(A, max_coarse=50, coarse_solver="splu",
                                  presmoother=("gauss_seidel", {"sweep": "forward"}),
                                  postsmoother=("gauss_seidel", {"sweep": "backward"}))
    b = np.random.default_rng(4).random(A.shape[0])
    ours = VCycle(ml, "forward", "backward")(b)
    theirs = ml.aspreconditioner(cycle="V") @ b
    assert np.max(np.abs(ours - theirs)) < 1e-12 * np.max(np.abs(theirs))


def test_right_preconditioned_gmres_reaches_the_true_residual():
    rng = np.random.default_rng(5)
    n = 200
    A = np.eye(n) * 4 + rng.normal(scale=0.1, size=(n, n))  # eigenvalues in |z − 4| ≲ 1.4
    b = rng.random(n)
    Minv = np.diag(1 / np.diag(A))
    x, ok, res, its = krylov.gmres(lambda v: A @ v, b, lambda v: Minv @ v, atol=1e-12,
                                   restart=10)  # restarts too
    assert ok and np.linalg.norm(b - A @ x) <= 1e-12 and res <= 1e-12
    assert np.max(np.abs(x - np.linalg.solve(A, b))) < 1e-11


def test_non_convergence_is_a_solver_error_that_says_what_to_try(monkeypatch):
    # the real GMRES with a budget of two iterations cannot reach the attainable residual on
    # a 40² tensor generator: the error must name the solver, the residual reached, the
    # iterations and what to try
    real = krylov.gmres
    monkeypatch.setattr(krylov, "gmres", lambda *a, **k: real(*a, **dict(k, restart=2,
                                                                       max_cycles=1)))
    m = tensor_model(40)
    A = (-m.generator() + 1e-3 * sp.identity(m.grid.size)).tocsr()
    with pytest.raises(fp.SolverError, match=r"AMG-preconditioned GMRES: stopped at residual "
                                             r".* after 2 iterations .*Try solver='direct'"):
        linalg.LinearSolver(A, "amg").solve(np.ones(m.grid.size))


def test_step_matrix_on_the_generators_pattern_is_scipys_to_the_bit():
    # I − sL built on L's own pattern against SciPy's identity minus s·L: the same values
    # (1 + (−s·d) and 1 − s·d are one IEEE operation each), 1D tensor-free, 2D and periodic
    from fpsolve.numerics.timestepping import _shifted_identity
    for grid in (fp.Grid([(-2, 2)], 40),
                 fp.Grid([(-2, 2), (-1, 1)], (12, 9), periodic=(True, False))):
        L = fp.FokkerPlanck(grid, potential=lambda *x: sum(0.5 * c ** 2 for c in x),
                            diffusion=lambda *x: 0.2 + 0.05 * np.cos(x[0])).generator()
        s = 0.0137
        A = _shifted_identity(L, s)
        B = (sp.identity(L.shape[0], format="csr") - s * L).tocsr()
        B.sort_indices()
        assert np.array_equal(A.indptr, B.indptr) and np.array_equal(A.indices, B.indices)
        assert np.array_equal(A.data, B.data)
    # a matrix without a stored diagonal in every row goes the SciPy way
    M = sp.csr_matrix(np.array([[0.0, 1.0], [2.0, -3.0]]))
    assert np.array_equal(_shifted_identity(M, 0.5).toarray(), np.eye(2) - 0.5 * M.toarray())


def test_evolution_reads_the_kept_generator_without_changing_it():
    m = fp.FokkerPlanck(fp.Grid([(-2, 2)], 30), potential=lambda x: x ** 2, diffusion=0.3)
    L0 = m.generator()
    assert m.rates.generator(copy=False) is m.rates.generator(copy=False)
    m.evolve(lambda x: np.exp(-(x - 0.5) ** 2 / 0.1), [0.1, 0.3], dt=0.01)
    L1 = m.rates.generator(copy=False)
    assert np.array_equal(L1.data, L0.data) and np.array_equal(L1.indices, L0.indices)
    assert m.generator() is not L1  # the public generator stays a copy


def _same_matrix(A, B):
    """Same class, shape, index types and arrays, and a format SciPy's full check accepts."""
    assert type(A) is type(B) and A.shape == B.shape and A.dtype == B.dtype
    for name in ("data", "indices", "indptr"):
        a, b = getattr(A, name), getattr(B, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    A.check_format(full_check=True)
    assert A.has_sorted_indices == B.has_sorted_indices


def test_matrices_built_without_scipys_constructor_are_scipys():
    # to_csr, empty_csr, transposed and to_csc skip SciPy's checks on arrays known valid: the
    # matrices must be the ones SciPy's constructors give, and behave as such (products,
    # slicing, arithmetic, conversion), also for a non-square matrix and an empty one
    from fpsolve.numerics import generator as gen

    L = fp.FokkerPlanck(fp.Grid([(-2, 2), (-1, 1)], (9, 7), periodic=(False, True)),
                        potential=lambda x, y: x ** 2 + np.cos(y), diffusion=0.3).generator()
    d, i, p = L.data.copy(), L.indices.astype(np.int64), L.indptr.astype(np.int64)
    A = gen.to_csr(d, i, p, L.shape[0])
    ref = sp.csr_matrix((d, i, p), shape=L.shape)
    ref.has_sorted_indices = True
    _same_matrix(A, ref)
    v = np.random.default_rng(0).random(L.shape[0])
    assert np.array_equal(A @ v, ref @ v) and np.array_equal(A[3:7, 2:5].toarray(),
                                                              ref[3:7, 2:5].toarray())
    assert np.array_equal((A + A).toarray(), (ref + ref).toarray())
    _same_matrix(gen.empty_csr(5), sp.csr_matrix((5, 5)))
    _same_matrix(gen.transposed(A), ref.T)
    assert np.array_equal(gen.transposed(A) @ v, ref.T @ v)
    C = ref.tocsc()
    C.has_sorted_indices = True
    _same_matrix(gen.to_csc(A), C)
    R = sp.random(6, 11, density=0.3, random_state=1, format="csr")
    _same_matrix(gen.to_csc(R), R.tocsc())
    _same_matrix(gen.transposed(R), R.T)
    _same_matrix(gen.to_csc(sp.csr_matrix((4, 3))), sp.csr_matrix((4, 3)).tocsc())
