"""The linear solvers behind stationary(method="solve") agree with each other and with the
closed form; errors come as SolverError/InputError, not raw library exceptions."""
import numpy as np
import pytest

import fpsolve as fp


@pytest.mark.parametrize("solver", ["direct", "amg", "gmres"])
def test_solvers_agree_on_a_3d_reversible_problem(solver):
    g = fp.Grid([(-2.5, 2.5)] * 3, 14)
    m = fp.FokkerPlanck(g, potential=lambda x, y, z: (x ** 2 - 1) ** 2 / 4 + y ** 2 + z ** 2 / 2,
                        diffusion=0.4)
    exact = m.stationary(method="detailed-balance").values
    p = m.stationary(method="solve", solver=solver)
    assert p.info["linear_solver"] == solver
    # iterative solvers stop at relative residual 1e-12; cond ≈ n² amplifies it to ~1e-10
    assert np.max(np.abs(p.values / exact - 1)) < 1e-8


def test_unknown_solver():
    m = fp.FokkerPlanck(fp.Grid([(0, 1)], 10))
    with pytest.raises(fp.InputError, match="linear solver"):
        m.stationary(method="solve", solver="cholesky")


# -- LinearSolver: the object every stationary and first-passage solve goes through -------------
def _generator_2d(n=60):
    g = fp.Grid([(-2.5, 2.5), (-2.5, 2.5)], n)
    m = fp.FokkerPlanck(g, drift=lambda x, y: (x - x ** 3 - 0.5 * y, -y + 0.5 * x),
                        diffusion=lambda x, y: 0.3 + 0.1 * np.cos(x) * np.sin(y))
    return m


@pytest.mark.parametrize("solver", ["amg", "gmres"])
@pytest.mark.parametrize("trans", [False, True])
def test_iterative_solves_match_lu_both_ways(solver, trans):
    from fpsolve.numerics.linalg import LinearSolver

    m = _generator_2d()
    A = -m.generator() + 1e-3 * np.abs(m.generator().diagonal()).max() * _eye(m.grid.size)
    rng = np.random.default_rng(1)
    B = rng.random((m.grid.size, 3))
    ref = LinearSolver(A, "direct").solve(B, trans=trans)
    ls = LinearSolver(A, solver)
    x = ls.solve(B, trans=trans)
    # attainable stopping rule: backward error ≤ max(1e-12, 100 ε ‖A‖‖x‖/‖b‖); with
    # cond(A) ≲ 1e4 here the forward error is below 1e-9 (measured ≤ 9e-12)
    assert np.max(np.abs(x / ref - 1)) < 1e-9
    assert all(i < 60 for i in ls.iterations)  # AMG: ~10 per solve; a regression shows here


def _eye(n):
    import scipy.sparse as sp
    return sp.identity(n, format="csr")


def test_auto_choice_by_dimension_and_size():
    from fpsolve.numerics.linalg import DIRECT_LIMIT, choose_solver

    assert choose_solver(10 ** 7, ndim=1) == "direct"
    assert choose_solver(DIRECT_LIMIT[2], ndim=2) == "direct"
    assert choose_solver(DIRECT_LIMIT[2] + 1, ndim=2) == "amg"
    assert choose_solver(DIRECT_LIMIT[3] + 1, ndim=3) == "amg"
    assert choose_solver(100, ndim=3, solver="gmres") == "gmres"
    with pytest.raises(fp.InputError, match="linear solver"):
        choose_solver(100, solver="umfpack")


def test_nonreversible_stationary_with_amg_matches_lu():
    m = _generator_2d(80)
    ref = m.stationary(method="solve", solver="direct")
    p = m.stationary(method="solve", solver="amg")
    assert p.info["linear_solver"] == "amg" and p.info["residual"] < 1e-12
    assert np.max(np.abs(p.values / ref.values - 1)) < 1e-9


def test_mfpt_with_amg_matches_lu_behind_a_trap():
    # a 2D double well at ΔU/D = 10: the left well is reduced as a trap, and S′ is then solved
    # by AMG-GMRES; the renewal algebra is the same, so the answers must agree to the solver
    # accuracy (≲ e^trap_depth · cond · 100 ε ≈ 1e-8 with cond ~ 1e5; measured 4e-9)
    g = fp.Grid([(-2, 2), (-1.5, 1.5)], [96, 64])
    m = fp.FokkerPlanck(g, potential=lambda x, y: (x ** 2 - 1) ** 2 + y ** 2, diffusion=0.1)
    target = [(0.8, 1.2), (-0.2, 0.2)]
    ref = m.mean_first_passage_time(target, solver="direct")
    tau = m.mean_first_passage_time(target, solver="amg")
    assert ref.info["traps"] >= 1 and ref.info["linear_solver"] == "sparse LU"
    assert tau.info["linear_solver"] == "AMG-GMRES" and tau.info["accurate"]
    keep = ref.values > 0
    assert np.max(np.abs(tau.values[keep] / ref.values[keep] - 1)) < 1e-8


def test_iterative_solver_reaches_the_floor_for_each_right_hand_side():
    """Later solves reuse ‖x‖/‖b‖ of the first; a right-hand side with a much smaller gain must
    still be solved to its own floor (not to the looser one of the first)."""
    from fpsolve.numerics.linalg import LinearSolver

    m = _generator_2d(40)
    L = m.generator()
    A = -L + 1e-6 * np.abs(L.diagonal()).max() * _eye(m.grid.size)  # nearly singular
    ref = LinearSolver(A, "direct")
    ls = LinearSolver(A, "amg")
    rng = np.random.default_rng(2)
    b1 = np.ones(m.grid.size)                 # along the slow mode: ‖x‖/‖b‖ ≈ 1e6/‖A‖
    b2 = L @ rng.random(m.grid.size)          # orthogonal to it: ‖x‖/‖b‖ small
    for b in (b1, b2):
        x, y = ls.solve(b), ref.solve(b)
        assert np.linalg.norm(x - y) / np.linalg.norm(y) < 1e-8


def test_matrix_norms_against_dense():
    import scipy.sparse as sp

    from fpsolve.numerics.linalg import norm_1, norm_inf

    A = sp.random(70, 50, density=0.2, random_state=4, format="csr")
    A.data -= 0.5  # entries of both signs
    dense = np.abs(A.toarray())
    # column/row sums of at most 70 terms: exact up to a few ulps of the sums
    assert norm_1(A) == pytest.approx(dense.sum(axis=0).max(), rel=1e-14)
    assert norm_inf(A) == pytest.approx(dense.sum(axis=1).max(), rel=1e-14)
    assert norm_1(sp.csr_matrix((3, 4))) == 0.0


def _killed_chain(n, seed):
    """−(killed generator) of a random birth–death chain with a leak from every cell: a column
    diagonally dominant tridiagonal M-matrix with condition number ≈ 10² (93–97 for the seeds
    used here, measured)."""
    import scipy.sparse as sp
    rng = np.random.default_rng(seed)
    up, down = np.exp(rng.uniform(-1, 1, n - 1)), np.exp(rng.uniform(-1, 1, n - 1))
    diag = np.full(n, 0.1)  # the leak
    diag[:-1] += up
    diag[1:] += down
    return sp.diags([-up, diag, -down], [-1, 0, 1], format="csr")


@pytest.mark.parametrize("trans", [False, True])
def test_tridiagonal_lu_matches_superlu(trans):
    import scipy.sparse.linalg as spla
    from fpsolve.numerics.linalg import LinearSolver
    A = _killed_chain(200, 1)
    s = LinearSolver(A, "direct", ndim=1)
    assert s.backend == "tridiagonal" and s.name == "direct" and s.method == "direct"
    ref = spla.splu(A.tocsc(), permc_spec="NATURAL", diag_pivot_thresh=1.0)
    B = np.random.default_rng(2).random((200, 3))
    for b in (B[:, 0], B):
        x = s.solve(b, trans=trans)
        assert x.shape == b.shape
        y = ref.solve(b, trans="T" if trans else "N")
        # two backward-stable eliminations of a matrix with condition ≈ 10²: agreement to
        # cond · n · ε ≈ 10² · 200 · 2.2e-16 ≈ 5e-12 relative, at most
        assert np.max(np.abs(x - y)) <= 5e-12 * np.max(np.abs(y))
        # and the residual against the matrix itself
        At = A.T if trans else A
        assert np.max(np.abs(At @ x - b)) <= 1e-12 * np.max(np.abs(b))


def test_tridiagonal_lu_only_where_the_matrix_is_tridiagonal():
    import scipy.sparse as sp
    from fpsolve.numerics.linalg import LinearSolver
    A = _killed_chain(50, 3).tolil()
    A[0, 49] = -0.5  # a periodic seam: not tridiagonal
    A[0, 0] += 0.5
    s = LinearSolver(sp.csr_matrix(A), "direct", ndim=1)
    assert s.backend == "superlu"
    assert LinearSolver(_killed_chain(50, 3), "direct", ndim=2).backend == "superlu"
    singular = sp.diags([np.ones(4), np.zeros(5), np.ones(4)], [-1, 0, 1], format="csr")
    singular = sp.csr_matrix(singular.toarray() * np.array([1, 1, 1, 1, 0])[:, None])
    with pytest.raises(RuntimeError, match="singular"):
        LinearSolver(singular, "direct", ndim=1)


def test_constant_schedule_check_is_the_general_check():
    from fpsolve.coefficients.schedules import Constant, Schedule
    for value in (0.5, 0.0, -1.0, np.inf, np.nan):
        s = Constant(value)
        outcomes = []
        for check in (s.check, lambda t: Schedule.check(s, t)):
            try:
                check(2.0)
                outcomes.append("ok")
            except fp.InputError as err:
                outcomes.append("error: " + str(err).split(";")[0].split(" at t")[0])
        assert outcomes[0] == outcomes[1], (value, outcomes)
