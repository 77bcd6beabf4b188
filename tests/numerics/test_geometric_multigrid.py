"""The geometric multigrid (fpsolve.numerics.boxmg, solver="gmg") against independent
references: its Galerkin coarse operators against SciPy's sparse triple product, its cycle
against exact solutions, and its solves against the existing direct path (SuperLU) at tight
tolerances on reversible, non-reversible, tensor and 3D problems, both directions, on whole
grids and on the kept cells of a killed process."""
import re

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import fpsolve as fp
from fpsolve.escape.jumps import jump_rates, killed_generator, moving_rates
from fpsolve.escape.targets import index_map
from fpsolve.numerics import boxmg, krylov, linalg
from fpsolve.numerics import stencil as st
from tests.conftest import tensor_model


def _box_matrix(shape, periodic, seed):
    """A random M-matrix coupling each cell to (most of) its 3^d box neighbours."""
    rng = np.random.default_rng(seed)
    N = int(np.prod(shape))
    rows, cols = [], []
    for c in range(N):
        x = np.array(np.unravel_index(c, shape))
        for off in np.ndindex(*(3,) * len(shape)):
            y = x + np.array(off) - 1
            if not np.any(y != x):
                continue
            ok = True
            for a, n in enumerate(shape):
                if periodic[a]:
                    y[a] %= n
                elif not 0 <= y[a] < n:
                    ok = False
            if ok and rng.random() < 0.8:
                rows.append(c), cols.append(np.ravel_multi_index(tuple(y), shape))
    A = sp.csr_matrix((-rng.random(len(rows)), (rows, cols)), shape=(N, N))
    return (A + sp.diags(-np.asarray(A.sum(axis=1)).ravel() + 0.1)).tocsr()


def _transfer(level):
    """Interpolation and restriction of a level as sparse matrices (fine × coarse)."""
    N, Q = level.P.shape
    Nc = int(np.prod(level.cshape))
    out = []
    for W in (level.P, level.R):
        r, c = np.nonzero(W)
        coarse = [boxmg._unpad_index(level.corners[i, q], level.cshape) for i, q in zip(r, c)]
        out.append(sp.csr_matrix((W[r, c], (r, coarse)), shape=(N, Nc)))
    return out


@pytest.mark.parametrize("shape,periodic", [((9, 8), (False, False)), ((8, 10), (True, False)),
                                            ((7, 6, 5), (False, False, False)),
                                            ((6, 7, 8), (True, False, True))])
def test_galerkin_coarse_operator_is_the_sparse_triple_product(shape, periodic, monkeypatch):
    monkeypatch.setattr(boxmg, "MAX_COARSE", 10)
    A = _box_matrix(shape, periodic, seed=sum(shape))
    mg = boxmg.BoxMG(A, shape, periodic)
    fine, coarse = mg.levels[0], mg.levels[1]
    P, R = _transfer(fine)
    ref = (R.T @ A @ P).toarray()
    got = st.to_csr(coarse.coef, coarse.offs, coarse.K, coarse.shape, coarse.periodic).toarray()
    assert np.max(np.abs(got - ref)) < 1e-13 * np.max(np.abs(ref))  # round-off of 27³ terms


def test_interpolation_reproduces_constants_for_zero_row_sums():
    # −Lᵀ (a backward generator) has zero row sums, so the collapsed rows give weights that add
    # up to 1 in every fine cell: P·1 = 1 exactly (up to round-off), walls included
    m = fp.FokkerPlanck(fp.Grid([(-2, 2), (-1.5, 1.5), (-1, 1)], (14, 11, 9)),
                        drift=lambda x, y, z: (x - x ** 3 - 0.3 * y, -y + 0.3 * x, -z),
                        diffusion=lambda x, y, z: 0.3 + 0.1 * np.cos(x + y))
    A = (-m.generator().T).tocsr()
    mg = boxmg.BoxMG(A, m.grid.shape, m.grid.periodic)
    for level in mg.levels[:-1]:
        P, _ = _transfer(level)
        assert np.max(np.abs(P @ np.ones(P.shape[1]) - 1)) < 1e-12


def test_transposed_hierarchy_is_the_hierarchy_of_the_transpose():
    A = _box_matrix((10, 9), (False, True), seed=4)
    b = np.random.default_rng(5).random(A.shape[0])
    x1 = boxmg.BoxMG(A, (10, 9), (False, True)).apply(b, trans=True)
    x2 = boxmg.BoxMG(A, (10, 9), (False, True), transpose=True).apply(b)
    x3 = boxmg.BoxMG(A.T.tocsr(), (10, 9), (False, True)).apply(b)
    # R from Aᵀ and P from A: transposing every level is the set-up for Aᵀ, to round-off
    assert np.max(np.abs(x1 - x3)) < 1e-12 * np.max(np.abs(x3))
    assert np.max(np.abs(x2 - x3)) < 1e-12 * np.max(np.abs(x3))


@pytest.mark.parametrize("shape,periodic", [((64, 48), (False, False)), ((32, 24), (True, True)),
                                            ((20, 18, 16), (False, False, False)),
                                            ((16, 12, 10), (True, False, False))])
def test_v_cycle_contracts_on_a_poisson_problem(shape, periodic):
    def lap(n, per):
        L = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1]).tolil()
        if per:
            L[0, n - 1] = L[n - 1, 0] = -1
        return L.tocsr()

    A = sp.csr_matrix((int(np.prod(shape)),) * 2)
    for a, n in enumerate(shape):
        ops = [sp.identity(k) for k in shape]
        ops[a] = lap(n, periodic[a])
        term = ops[0]
        for op in ops[1:]:
            term = sp.kron(term, op)
        A = A + term
    A = (A + 1e-3 * sp.identity(A.shape[0])).tocsr()  # fully periodic: not singular
    mg = boxmg.BoxMG(A, shape, periodic)
    b = np.random.default_rng(0).random(A.shape[0])
    exact = spla.spsolve(A.tocsc(), b)
    x = np.zeros_like(b)
    errors = []
    for _ in range(6):
        x += mg.apply(b - A @ x)
        errors.append(np.max(np.abs(x - exact)))
    # symmetric Gauss–Seidel V(1,1) with Galerkin coarse grids: 0.03–0.1 per cycle measured;
    # 0.25 is what a V-cycle that works at all reaches on Poisson
    assert (errors[-1] / errors[1]) ** (1 / 4) < 0.25


# -- solves against the LU ----------------------------------------------------------------------
def _models():
    yield "reversible 3D", fp.FokkerPlanck(
        fp.Grid([(-2.5, 2.5), (-2, 2), (-2, 2)], (14, 12, 10)),
        potential=lambda x, y, z: (x ** 2 - 1) ** 2 / 4 + y ** 2 / 2 + z ** 2 / 2, diffusion=0.3)
    yield "non-reversible 2D, periodic", fp.FokkerPlanck(
        fp.Grid([(-2.5, 2.5), (0, 2 * np.pi)], (40, 32), periodic=[False, True]),
        drift=lambda x, y: (x - x ** 3, 1.0 + 0.5 * np.sin(y) + 0.2 * x),
        diffusion=lambda x, y: 0.3 + 0.1 * np.cos(x) * np.sin(y))
    yield "tensor 2D", tensor_model(40)
    yield "non-reversible 3D", fp.FokkerPlanck(
        fp.Grid([(-2, 2), (-1.5, 1.5), (-1.5, 1.5)], 14),
        drift=lambda x, y, z: (x - x ** 3 - 0.4 * y, -y + 0.4 * x, -z),
        diffusion=lambda x, y, z: 0.2 * (1 + 0.2 * np.cos(x + z)))


@pytest.mark.parametrize("name,model", list(_models()), ids=[n for n, _ in _models()])
def test_gmg_solves_match_the_lu_both_ways(name, model):
    g = model.grid
    L = model.generator()
    A = (-L + 1e-3 * np.abs(L.diagonal()).max() * sp.identity(g.size)).tocsr()
    B = np.random.default_rng(1).random((g.size, 2))
    for trans in (True, False):  # the hierarchy is built for the first direction asked
        ref = linalg.LinearSolver(A, "direct").solve(B, trans=trans)
        ls = linalg.LinearSolver(A, "gmg", grid=g)
        x = ls.solve(B, trans=trans)
        x2 = ls.solve(B[:, 0], trans=not trans)  # the other direction, same hierarchy
        ref2 = linalg.LinearSolver(A, "direct").solve(B[:, 0], trans=not trans)
        # backward error ≤ 100 ε ‖A‖‖x‖ at the stop; cond(A) ≲ 1e4 here, so 1e-9 leaves a
        # margin of 100 over the expected forward error (measured ≤ 3e-12)
        assert np.max(np.abs(x / ref - 1)) < 1e-9
        assert np.max(np.abs(x2 / ref2 - 1)) < 1e-9
        assert ls.name == "gmg" and max(ls.iterations) < 30  # ~10 per solve; a regression shows


def test_gmg_on_the_kept_cells_of_a_killed_process():
    # the matrix first-passage solves use: −L restricted to the cells outside the target (a
    # principal submatrix, rates into the target kept as loss), solved by GMG on the grid
    m = tensor_model(48)
    g = m.grid
    removed = (g.coords[0] >= 1.0).ravel()
    Rs = moving_rates(jump_rates(m.rates), removed)
    leak = np.asarray(jump_rates(m.rates)[:, removed].sum(axis=1)).ravel()
    A = (-killed_generator(Rs, leak, index_map(removed))).tocsr()
    kept = np.flatnonzero(~removed)
    F = np.ones(kept.size)
    ref = linalg.LinearSolver(A, "direct").solve(F, trans=True)  # E τ, backward equation
    tau = linalg.LinearSolver(A, "gmg", grid=g, cells=kept).solve(F, trans=True)
    assert np.max(np.abs(tau / ref - 1)) < 1e-9  # as above: cond ≲ 1e5, measured 2e-13


def test_stationary_with_gmg_matches_the_lu():
    for model in (tensor_model(48), dict(_models())["non-reversible 3D"]):
        ref = model.stationary(solver="direct")
        p = model.stationary(solver="gmg")
        assert p.info["linear_solver"] == "gmg" and p.info["residual"] < 1e-13
        # pinned solve of E⁻¹LE r = e_j, both to backward error ~100 ε; cond ≲ 1e5: 1e-9 is
        # 1000× the measured agreement
        assert np.max(np.abs(p.values / ref.values - 1)) < 1e-9


def test_first_passage_under_auto_takes_gmg_beyond_the_lu_limit(monkeypatch):
    # the escape solvers pass their grid: beyond DIRECT_LIMIT (lowered here so that a 48² grid
    # is "large") "auto" takes GMG-GMRES, with the balance diagnostics and the LU's answer
    m = tensor_model(48)
    target = lambda x, y: x >= 1.0  # noqa: E731
    ref = m.mean_first_passage_time(target, solver="direct")
    monkeypatch.setitem(linalg.DIRECT_LIMIT, 2, 1000)
    tau = m.mean_first_passage_time(target)
    assert tau.info["linear_solver"] == "GMG-GMRES" and tau.info["accurate"]
    # backward error ~100 ε and cond ≲ 1e5 (as above): 1e-9 keeps a margin of 100
    ok = ref.values > 0
    assert np.max(np.abs(tau.values[ok] / ref.values[ok] - 1)) < 1e-9


# -- choice, fall-backs and failures ------------------------------------------------------------
def test_auto_takes_gmg_only_with_a_grid_and_above_the_lu_limits():
    lim = linalg.DIRECT_LIMIT_STATIONARY
    assert linalg.choose_solver(lim[2] + 1, 2, structured=True, direct_limit=lim) == "gmg"
    assert linalg.choose_solver(lim[2], 2, structured=True, direct_limit=lim) == "direct"
    assert linalg.choose_solver(lim[3] + 1, 3, structured=True, direct_limit=lim) == "gmg"
    assert linalg.choose_solver(10 ** 6, 1, structured=True, direct_limit=lim) == "direct"
    # without the grid the algebraic multigrid, at the previous limits, as before
    assert linalg.choose_solver(linalg.DIRECT_LIMIT[2] + 1, 2) == "amg"
    assert linalg.choose_solver(linalg.DIRECT_LIMIT[2] + 1, 2, structured=True) == "gmg"


def test_a_grid_that_cannot_be_coarsened_takes_amg_or_is_refused():
    g = fp.Grid([(0, 1), (0, 1)], (151, 151), periodic=[True, True])  # odd periodic axes
    m = fp.FokkerPlanck(g, drift=lambda x, y: (1 + 0 * x, 0.5 + 0 * y), diffusion=0.1)
    A = (-m.generator() + sp.identity(g.size)).tocsr()
    assert not boxmg.coarsenable(g.shape, g.periodic)
    lim = linalg.DIRECT_LIMIT_STATIONARY  # 151² cells: above it, so a multigrid
    assert linalg.LinearSolver(A, "auto", grid=g, direct_limit=lim).name == "amg"
    with pytest.raises(fp.InputError, match="cannot be coarsened"):
        linalg.LinearSolver(A, "gmg", grid=g)
    with pytest.raises(fp.InputError, match="needs the grid"):
        linalg.LinearSolver(A, "gmg")


def test_a_matrix_that_is_not_a_box_stencil_is_refused_by_name_and_rerouted_by_auto():
    g = fp.Grid([(0, 1), (0, 1)], 40)
    n = g.size
    # a Laplacian-like M-matrix plus couplings between cells 3 apart: not a box stencil
    A = (sp.diags([-1.0, -1.0, 4.5, -1.0, -1.0], [-40, -1, 0, 1, 40], shape=(n, n))
         + sp.diags([-0.2, -0.2], [-3, 3], shape=(n, n))).tocsr()
    b = np.ones(n)
    with pytest.raises(fp.InputError, match="solver='gmg': the matrix couples cells"):
        linalg.LinearSolver(A, "gmg", grid=g).solve(b)
    ls = linalg.LinearSolver(A, "auto", grid=g, direct_limit={2: 10})
    x = ls.solve(b)
    assert ls.backend == "amg"  # what ran, not what was first tried
    # GMRES stops at a backward error of ~100 ε; cond(A) ≲ 1e3 here
    assert np.max(np.abs(A @ x - b)) < 1e-10


def _skewed_ou(n=120):
    # a non-reversible OU with a strongly correlated tensor D: its stationary operator, scaled by
    # the least-squares potential, is drift-dominated in the tails (e^−190), where Galerkin
    # coarse grids lose the M-matrix property — neither multigrid converges there
    D = 0.05 * np.array([[1.0, 0.5], [0.5, 1.0]])
    return fp.FokkerPlanck(fp.Grid([(-1.4, 1.4)] * 2, n),
                           potential=lambda x, y: 0.5 * (x * x + 4 * y * y), diffusion=D)


def test_gmg_that_does_not_converge_raises_or_falls_back_under_auto():
    m = _skewed_ou()
    with pytest.raises(fp.SolverError, match=r"geometric-multigrid-preconditioned GMRES: stopped "
                                             r"at residual .* after \d+ iterations.*Try solver="):
        m.stationary(method="solve", solver="gmg")
    auto = _skewed_ou().stationary(method="solve")  # GMG first (14 400 cells), then the LU
    ref = _skewed_ou().stationary(method="solve", solver="direct")
    assert auto.info["linear_solver"] == "direct"
    assert "did not converge" in auto.info["linear_solver_fallback"]
    assert np.max(np.abs(auto.values / ref.values - 1)) < 1e-12  # the same LU solve


def test_a_stalled_gmres_names_the_solver_and_how_far_it_got(monkeypatch):
    m = tensor_model(40)  # 1600 cells: ‖b‖ = 40
    A = (-m.generator() + 1e-3 * sp.identity(m.grid.size)).tocsr()
    monkeypatch.setattr(krylov, "gmres", lambda *a, **k: (np.zeros(A.shape[0]), False, 20.0, 7))
    nb = np.sqrt(m.grid.size)  # ‖b‖ for b = 1: the residual is reported relative to it
    assert 20.0 / nb == pytest.approx(0.5)
    with pytest.raises(fp.SolverError, match=r"geometric-multigrid-preconditioned GMRES: stopped "
                                             r"at residual 0\.5·‖b‖ after 7 iterations"):
        linalg.LinearSolver(A, "gmg", grid=m.grid).solve(np.ones(m.grid.size))


def test_auto_names_both_multigrids_when_the_fall_back_fails_too(monkeypatch):
    # with the LU's limit below the problem, auto's fall-back from GMG is AMG, which does not
    # converge on the skewed OU either: the error must name both, how far each got, and what
    # is left to try (the LU, with its memory estimate)
    monkeypatch.setitem(linalg.DIRECT_LIMIT, 2, 10)
    with pytest.raises(fp.SolverError) as err:
        _skewed_ou().stationary(method="solve")
    msg = str(err.value)
    assert re.search(r"tried two solvers and neither converged: first geometric-multigrid-"
                     r"preconditioned GMRES: stopped at residual \S+ after \d+ iterations "
                     r"\(wanted \S+\); then AMG-preconditioned GMRES: stopped at residual \S+ "
                     r"after \d+ iterations", msg), msg
    assert "Try solver='direct'" in msg and "14400 unknowns needs about" in msg
