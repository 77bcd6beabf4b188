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



def _random_m_matrix(n, seed):
    """A random column diagonally dominant M-matrix: non-positive off-diagonals (density 0.3),
    each diagonal the column's off-diagonal sum plus a margin from 1e-3 to 1 (condition numbers
    up to ~10⁴)."""
    rng = np.random.default_rng(seed)
    A = -rng.random((n, n)) * (rng.random((n, n)) < 0.3)
    np.fill_diagonal(A, 0.0)
    np.fill_diagonal(A, -A.sum(axis=0) + 10.0 ** rng.uniform(-3, 0, n))
    return A


def _exact_inverse_norm_1(A):
    return float(np.abs(np.linalg.inv(np.asarray(A))).sum(axis=0).max())


@pytest.mark.parametrize("seed", range(8))
def test_inverse_norm_estimate_on_random_m_matrices(seed):
    # Hager–Higham (LAPACK's dlacn2) on an M-matrix: a lower bound of ‖A⁻¹‖₁, and within a
    # factor 3 of it (here exact up to rounding: A⁻¹ ≥ 0 makes the first sign vector right)
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla
    from fpsolve.numerics.linalg import inverse_norm_1_estimate

    n = 5 + 11 * seed
    A = _random_m_matrix(n, seed)
    lu = spla.splu(sp.csc_matrix(A))
    calls = []

    def solve(b, trans="N"):
        calls.append(trans)
        return lu.solve(b, trans=trans)

    est = inverse_norm_1_estimate(solve, n)
    exact = _exact_inverse_norm_1(A)
    assert exact / 3 <= est <= exact * (1 + 1e-12)
    assert est == pytest.approx(exact, rel=1e-12)
    assert calls == ["N", "T", "N"]  # three solves: the first two-column, one transposed
    assert inverse_norm_1_estimate(lu.solve, n) == est  # deterministic


@pytest.mark.parametrize("seed", range(8))
def test_inverse_norm_estimate_is_a_lower_bound_on_general_matrices(seed):
    # without a sign pattern to exploit the estimate may fall short, but never exceeds the norm
    # (every value taken is ‖A⁻¹x‖₁/‖x‖₁ for some x); on these it stays within a factor 3
    import scipy.linalg as sla
    from fpsolve.numerics.linalg import inverse_norm_1_estimate

    rng = np.random.default_rng(100 + seed)
    n = 3 + 9 * seed
    A = rng.standard_normal((n, n)) + np.diag(rng.uniform(-2, 2, n))
    lu = sla.lu_factor(A)
    est = inverse_norm_1_estimate(
        lambda b, trans="N": sla.lu_solve(lu, b, trans=1 if trans == "T" else 0), n)
    exact = _exact_inverse_norm_1(A)
    assert exact / 3 <= est <= exact * (1 + 1e-10)


def test_inverse_norm_estimate_of_a_1x1_matrix_is_exact():
    from fpsolve.numerics.linalg import inverse_norm_1_estimate

    assert inverse_norm_1_estimate(lambda b, trans="N": b / -4.0, 1) == 0.25


@pytest.mark.parametrize("target", ["mask", "sharp"])
def test_condition_estimate_of_a_2d_killed_generator(target):
    # the estimate the first-passage diagnostics report, against ‖A‖₁‖A⁻¹‖₁ of the matrix
    # factorised (dense inverse), on a non-reversible 2D model with a mask and a sharp target
    from fpsolve.escape import HalfSpace, killed_process
    from fpsolve.numerics.linalg import norm_1

    m = fp.FokkerPlanck(fp.Grid([(-2, 2), (-1.5, 1.5)], (26, 19)),
                        drift=lambda x, y: (x - x ** 3 + 0.5 * y, -y - 0.5 * x),
                        diffusion=lambda x, y: 0.2 + 0.05 * np.cos(x))
    kp = killed_process(m, (lambda x, y: x >= 1.0) if target == "mask"
                        else HalfSpace([1.0, 0.2], 1.0))
    A = kp._A2
    exact = norm_1(A) * _exact_inverse_norm_1(A.toarray())
    est = kp.condition_estimate()
    assert exact / 3 <= est <= exact * (1 + 1e-12)
    assert kp.solve(np.ones(kp.kept.size))[1]["condition_estimate"] == est

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


def test_bicgstab_breakdown_is_a_solver_error():
    """A breakdown (here: A = [[0, 1], [1, 0]], where r̂·A p = 0 at once) ends in SolverError,
    which the CPU step solve turns into its AMG fall-back, not a ZeroDivisionError."""
    import scipy.sparse as sp

    from fpsolve.numerics.krylov import bicgstab

    A = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(fp.SolverError, match="BiCGStab"):
        bicgstab(A, np.array([1.0, 0.0]), np.zeros(2), np.ones(2))
