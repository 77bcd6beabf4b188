"""Sparse linear algebra used by the solvers: one solver object per matrix (sparse LU with a
fill-reducing ordering, MKL PARDISO, or multigrid-preconditioned GMRES: algebraic, or geometric
where the matrix's grid is known), pinned null-space solves, and residual checks. Never forms a
dense matrix.

Choosing the solver (``solver="auto"``; measured in ``benchmarks/bench_general.py``, CPU
seconds on 2 cores, its tensor 2D and 3D problems; the table is in ``benchmarks/README.md``): a
sparse LU in 1D at every size (LAPACK's tridiagonal LU where the matrix is tridiagonal, i.e. no
periodic seam); with the grid known, the geometric multigrid
(:mod:`fpsolve.numerics.boxmg`) for stationary states from 10⁴ cells in 2D and 500 in 3D
(512²: 0.47 s against the LU's 1.73 s and AMG's 1.24 s), and for first-passage solves beyond
:data:`DIRECT_LIMIT`; below it, first-passage solves with deep wells keep the LU (its
componentwise accuracy behind barriers, see :data:`DIRECT_LIMIT_STATIONARY`), and those without
try the geometric multigrid from 10⁴ cells in 2D and 2·10³ in 3D
(:data:`DIRECT_LIMIT_FIRST_PASSAGE`), keeping its answer only where the caller's balance
diagnostics certify it and re-solving with the LU where they do not (256² tensor MFPT, cold:
0.17 s against the LU's 0.36 s); without the grid, the algebraic multigrid beyond
:data:`DIRECT_LIMIT`. Where the geometric multigrid does not converge, "auto" falls back to the
LU (within :data:`DIRECT_LIMIT`) or AMG, and says so. Time stepping
reuses one factorisation for hundreds of solves, which moves its crossover to about 2.5·10⁵
unknowns (:data:`DIRECT_LIMIT_REUSED`). In 3D the LU's fill grows like N^(4/3) and its time like
N²: 128³ (2·10⁶ unknowns) is out of its reach (≈ 100 GB), while the multigrids need 1–2 GB.
"""
from __future__ import annotations

import contextlib
import functools

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import InputError, SolverError
from ..jit import njit
from . import krylov, memory
from .boxmg import BoxMG, NotStructured, coarsenable
from .generator import to_csc
from .multigrid import VCycle

#: the values ``solver=`` accepts
LINEAR_SOLVERS = ("auto", "direct", "pardiso", "amg", "gmg", "gmres")
# Minimum degree on the pattern of A + Aᵀ: our generators are structurally symmetric (a rate in
# each direction across every face), where it beats COLAMD (3.4 s vs 5.1 s at 512², measured).
ORDERING = "MMD_AT_PLUS_A"
#: largest number of unknowns solved by sparse LU under ``solver="auto"``, by dimension (beyond
#: it: the geometric multigrid where the matrix's grid is known, else the algebraic one)
DIRECT_LIMIT = {1: np.inf, 2: 100_000, 3: 2_500}
#: the same for the pinned null-vector solve of a stationary state when its grid is known: the
#: geometric multigrid is faster than the LU from about 64² and 8³ cells (0.026 against
#: 0.048 s at 128², 0.012 against 0.095 s at 16³; wall, ``bench_codes.py``'s generic 2D and
#: state-dependent 3D models: 7.4 against 8.6 ms at 64², 15 against 21 ms at 90², and in 3D
#: 1.8 against 2.8 ms at 8³, 4.3 against 27 ms at 12³, where 7³ is 1.5 against 2.0 ms for the LU;
#: measured). In 2D the LU stays within 1.5× of it up to 10⁴ cells. First-passage solves keep
#: :data:`DIRECT_LIMIT` unless their answers are certified (:data:`DIRECT_LIMIT_FIRST_PASSAGE`):
#: behind barriers the LU's componentwise accuracy is what the balance-defect diagnostics need
#: (at ΔU/D = 40 on 600×20 cells an iterative solve left a balance defect of 8e-3, the LU
#: 1e-12).
DIRECT_LIMIT_STATIONARY = {1: np.inf, 2: 10_000, 3: 500}
#: the same for a first-passage solve without deep wells (no traps) whose grid is known and
#: whose caller certifies the iterative answer, re-solving with the LU where it is not
#: (:class:`fpsolve.escape.green.KilledProcess` with ``gmg_trial=True``): the geometric
#: multigrid is tried from 10⁴ unknowns in 2D and 2·10³ in 3D, up to :data:`DIRECT_LIMIT`.
#: Measured on the tensor problem of ``benchmarks/bench_general.py`` (CPU, medians of 5, the
#: first-passage part alone): certified GMG against the LU 1.3–1.6× faster for the MFPT and
#: 1.0–1.2× for the committor from 48² to 112², 2.6–3.7× from 128² to 256² (where the LU's
#: condition estimate alone costs 0.08 s); 3D coupled/separable at 10³–13³ 1.2–2.4×. Below
#: the thresholds the saving is a few milliseconds, not worth a failed trial (multigrid and
#: LU both) on a problem the certificate rejects.
DIRECT_LIMIT_FIRST_PASSAGE = {1: np.inf, 2: 10_000, 3: 2_000}
#: the same for a matrix solved many times (implicit time steps: the LU is factorised once)
DIRECT_LIMIT_REUSED = {1: np.inf, 2: 250_000, 3: 2_500}
#: Krylov vectors kept by GMRES between restarts: AMG needs 10–25 iterations on our generators
#: (measured up to 10⁶ unknowns in 2D and 2·10⁶ in 3D), so 40 rarely restarts, and memory stays
#: at 41 vectors.
RESTART = 40
#: the same for the geometric multigrid under ``solver="auto"``: it converges in 10–15
#: iterations on the benchmark problems (tensor 256²–512², OU, 3D 32³–64³, measured), so a
#: cycle of 20 that does not halve the residual means it will not converge, and the fall-back
#: to the LU or AMG starts after 20 wasted iterations instead of 40 (skewed OU at 240²: the
#: failed attempt cost 0.24 s against the LU's 0.23 s)
RESTART_AUTO_GMG = 20
#: pyamg's classical AMG as configured here (see :meth:`LinearSolver.hierarchy`), by grid
#: dimension. 2D: CLJP-c coarsening with one forward Gauss–Seidel sweep before and one backward
#: sweep after the coarse correction (pyamg's default is a symmetric sweep each): 13 iterations
#: where Ruge–Stüben coarsening needed 22, 0.66 against 0.83 s for set-up and solve (512² tensor
#: MFPT, measured). 3D: CLJP-c coarsens too slowly there (26 levels, operator complexity 19 at
#: 48³), so Ruge–Stüben with pyamg's default smoothing (complexity 3; 0.6 against 3.5 s).
AMG_OPTIONS = {
    2: dict(CF="CLJPc", max_coarse=500, coarse_solver="splu",
            presmoother=("gauss_seidel", {"sweep": "forward"}),
            postsmoother=("gauss_seidel", {"sweep": "backward"})),
    3: dict(CF="RS", max_coarse=500, coarse_solver="splu"),
}
#: Gauss–Seidel sweeps of the V-cycle before and after the coarse correction, by dimension
#: (the smoothers named in AMG_OPTIONS; the cycle runs in :mod:`fpsolve.numerics.multigrid`)
AMG_SWEEPS = {2: ("forward", "backward"), 3: ("symmetric", "symmetric")}


def check_solver(solver):
    """Raise :class:`~fpsolve.errors.InputError` unless ``solver`` is one of
    :data:`LINEAR_SOLVERS` ("auto", "direct", "pardiso", "amg", "gmg", "gmres")."""
    if solver not in LINEAR_SOLVERS:
        raise InputError(f"linear solver {solver!r} is unknown; choose one of {LINEAR_SOLVERS}.")


def pardiso_available() -> bool:
    """Whether MKL PARDISO is installed (``pip install fpsolve[pardiso]``: pypardiso)."""
    try:
        import pypardiso  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def choose_solver(n: int, ndim=None, solver: str = "auto", reused: bool = False,
                  structured: bool = False, direct_limit=None) -> str:
    """The concrete solver ("direct", "pardiso", "amg", "gmg" or "gmres") for an n×n system on a
    ``ndim`` grid; ``reused``: the matrix will be solved many times (time stepping);
    ``structured``: the caller gave the grid of the matrix's rows, so the geometric multigrid
    can run (it replaces the algebraic one); ``direct_limit``: the largest n per dimension
    for the LU (default :data:`DIRECT_LIMIT`, or :data:`DIRECT_LIMIT_REUSED`)."""
    check_solver(solver)
    if solver == "pardiso" and not pardiso_available():
        raise InputError("solver='pardiso' needs the optional package pypardiso (MKL PARDISO): "
                         "pip install 'fpsolve[pardiso]'; or use solver='direct' (SuperLU).")
    if solver != "auto":
        return solver
    gmg = structured and (ndim or 2) in (2, 3)
    limits = direct_limit or (DIRECT_LIMIT_REUSED if reused else DIRECT_LIMIT)
    if n <= limits.get(ndim or 2, limits[2]) and memory.fits(
            memory.solver_bytes(n, ndim, "superlu", 2 * (ndim or 2) + 1)):
        return "direct"
    return "gmg" if gmg else "amg"


@contextlib.contextmanager
def _seeded_numpy_rng(seed=0):
    """pyamg's CLJP coarsening draws from numpy's global generator: seed it for a reproducible
    hierarchy, and give the user's generator state back afterwards."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


class LinearSolver:
    """Solves A x = b and Aᵀ x = b for one sparse matrix A, many right-hand sides.

    ``solver``: "direct" (SciPy's SuperLU, minimum-degree ordering; accuracy ~cond(A)·ε),
    "pardiso" (MKL PARDISO through the optional ``pypardiso``: nested-dissection ordering,
    multithreaded), "gmg" (the geometric multigrid of :mod:`fpsolve.numerics.boxmg` on the
    grid of A's rows; needs ``grid``), "amg" (classical AMG V-cycle from pyamg, CLJP-c
    coarsening and Gauss–Seidel smoothing, suited to M-matrices such as our generators), each
    multigrid as the preconditioner of a right-preconditioned GMRES
    (:mod:`fpsolve.numerics.krylov`), "gmres" (ILU-preconditioned GMRES; never chosen
    automatically: its incomplete factor breaks down on large generators), or "auto"
    (:func:`choose_solver`). Factorisations and hierarchies are built once per matrix and
    reused by every later solve; the geometric hierarchy serves both directions (A and Aᵀ).

    ``grid``: the grid whose cells the rows of A belong to (anything with ``shape`` and
    ``periodic``), ``cells``: the flat (C-order) cell of each row when A is a principal
    submatrix (default: every cell, in order). Without them "auto" never takes "gmg".

    The iterative solvers stop at an *attainable* residual: ‖Ax − b‖₂ ≤ max(rtol‖b‖₂,
    c·ε·‖A‖∞‖x‖₂) with c = 100 — a backward error of a few hundred ε. A test ‖Ax − b‖ ≤ rtol‖b‖
    alone lies below the round-off floor ε‖A‖‖x‖ of any method once N ≳ 10⁴ (b = e_j,
    ‖x‖ ~ √N), and GMRES would report failure although its answer is accurate. Not converging
    to that raises :class:`SolverError`; nothing is returned silently.

    ``diag_pivot_thresh``: passed to SuperLU (1.0 = partial pivoting; 0.0 keeps diagonal pivots,
    right for column diagonally dominant M-matrices). ``reused``: the matrix will be solved
    many times (time stepping), which favours a factorisation under "auto"; ``direct_limit``:
    the LU's size limits for "auto" (see :func:`choose_solver`).

    Attributes: ``method`` — the family, "direct" (SuperLU or PARDISO), "amg" (a multigrid,
    algebraic or geometric, with GMRES) or "gmres"; ``backend`` — what runs underneath:
    "superlu", "tridiagonal" (LAPACK's tridiagonal LU, chosen for "direct" on a 1D grid without
    a periodic seam), "pardiso", "amg", "gmg" or "ilu"; ``iterations`` — GMRES iterations per
    solve.
    """

    def __init__(self, A, solver="auto", ndim=None, rtol=1e-12, diag_pivot_thresh=None,
                 reused=False, grid=None, cells=None, direct_limit=None):
        # no new CSR object for a CSR matrix (its check costs ~7 µs, a small solve's scale)
        self.A = A if isinstance(A, sp.csr_matrix) else sp.csr_matrix(A)
        n = self.A.shape[0]
        if grid is not None:
            ndim = len(grid.shape)
        if solver == "gmg" and grid is None:
            raise InputError("solver='gmg' needs the grid of the matrix's rows (grid=); "
                             "use solver='amg' for a matrix without one.")
        chosen = choose_solver(n, ndim, solver, reused, structured=grid is not None,
                               direct_limit=direct_limit)
        self._grid = grid
        self._cells = cells
        self._mg = None
        self._mg_trans = False
        if chosen == "gmg" and not coarsenable(grid.shape, grid.periodic):
            if solver == "gmg":
                raise InputError(f"solver='gmg': the grid {tuple(grid.shape)} cannot be coarsened "
                                 f"far enough (a periodic axis of odd length); use "
                                 f"solver='amg'.")
            chosen = "amg"
        self.ndim = ndim
        self.rtol = float(rtol)
        self.iterations = []
        self._diag_pivot_thresh = diag_pivot_thresh
        self._auto = solver == "auto"
        #: why the automatic choice was revised (None: it was not), see :meth:`solve`
        self.fallback = None
        self._setup(chosen)

    def _setup(self, chosen):
        n = self.A.shape[0]
        #: "superlu", "tridiagonal", "pardiso", "amg", "gmg" or "ilu": what runs underneath.
        #: ``method`` is the family ("direct", "amg" for either multigrid, "gmres"), as callers
        #: read it
        self.backend = {"direct": "superlu", "gmres": "ilu"}.get(chosen, chosen)
        self.method = {"pardiso": "direct", "gmg": "amg"}.get(chosen, chosen)
        nnz_row = self.A.nnz / max(n, 1)
        memory.check(memory.solver_bytes(n, self.ndim, self.backend, nnz_row),
                     f"the linear solver ({self.backend}, {n} unknowns)",
                     "Use a coarser grid (a multigrid solve needs about 1 kB per unknown; a "
                     "sparse LU grows like N log N in 2D and N^(4/3) in 3D), solver='amg' "
                     "instead of a direct solver, or a machine with more memory.")
        self._pre = {}
        self._gain = {}  # ‖x‖/‖b‖ of the last solve, per direction
        self._lu = None
        bands = (_Tridiagonal.bands(self.A) if self.backend == "superlu" and self.ndim == 1
                 else None)
        if bands is not None:
            self.backend = "tridiagonal"
            self._lu = _Tridiagonal(bands)
        elif self.backend == "superlu":
            kw = ({} if self._diag_pivot_thresh is None
                  else {"diag_pivot_thresh": self._diag_pivot_thresh})
            self._lu = spla.splu(to_csc(self.A), permc_spec=ORDERING, **kw)
        elif self.backend == "pardiso":
            self._lu = _Pardiso(self.A)
        else:
            # AMG wants a positive diagonal (an M-matrix); our generators have a negative one
            self._sign = -1.0 if self.A.diagonal().sum() < 0 else 1.0

    def _fall_back(self, failure):
        """Under ``solver="auto"``: the geometric multigrid did not converge (a Galerkin
        hierarchy loses the M-matrix property on strongly skewed, drift-dominated stencils, e.g.
        the far tails of a stationary solve scaled by a poor potential). Take the sparse LU
        where it would have been chosen without a grid, else the algebraic multigrid."""
        n = self.A.shape[0]
        ndim = self.ndim or 2
        lu = n <= DIRECT_LIMIT.get(ndim, DIRECT_LIMIT[2]) and memory.fits(
            memory.solver_bytes(n, ndim, "superlu", self.A.nnz / max(n, 1)))
        why = str(failure).split(":")[0] + " did not converge"
        self.fallback = f"{why} — solved with {'a sparse LU' if lu else 'AMG'} instead"
        self._mg = None
        self._setup("direct" if lu else "amg")

    @functools.cached_property
    def _normA(self) -> float:
        """‖A‖∞, for the iterative solvers' stopping test (a direct solve never needs it)."""
        return norm_inf(self.A)

    @property
    def name(self) -> str:
        """The solver that runs, as ``solver=`` names it: "direct", "pardiso", "amg", "gmg" or
        "gmres"."""
        return {"superlu": "direct", "tridiagonal": "direct", "ilu": "gmres"}.get(self.backend,
                                                                                  self.backend)

    # -- public ----------------------------------------------------------------------------------
    def solve(self, b, trans=False):
        """A⁻¹ b (or A⁻ᵀ b); ``b`` of shape (n,) or (n, p)."""
        b = np.asarray(b, dtype=float)
        if self.method == "direct":
            return self._lu.solve(np.ascontiguousarray(b), trans="T" if trans else "N")
        if b.ndim == 1:
            return self._iterate(b, trans)
        return np.column_stack([self._iterate(b[:, i], trans) for i in range(b.shape[1])])

    def _iterate(self, b, trans):
        try:
            return self._krylov(b, trans)
        except SolverError as exc:
            if not (self._auto and self.backend == "gmg"):
                raise
            self._fall_back(exc)
            with self._second_attempt(exc):
                return self.solve(b, trans)

    @contextlib.contextmanager
    def _second_attempt(self, first):
        """Under "auto", after the geometric multigrid failed (``first``): a failure of the
        solver that replaced it names both, how far each got, and what is left to try."""
        try:
            yield
        except SolverError as exc:
            n = self.A.shape[0]
            lu = memory.solver_bytes(n, self.ndim or 2, "superlu", self.A.nnz / max(n, 1))
            raise SolverError(
                f"solver='auto' tried two solvers and neither converged: first "
                f"{getattr(first, 'progress', first)}; then {getattr(exc, 'progress', exc)}. "
                f"Try solver='direct' (or 'pardiso'; a sparse LU of these {n} unknowns needs "
                f"about {lu / 2**30:.2g} GB{'' if memory.fits(lu) else ', more than is free'}),"
                f" or a finer grid if the drift is strong (cell Péclet numbers ≫ 1 slow both "
                f"multigrids down).") from exc

    def solve_similar(self, B, log_scale, b, x0=None):
        """Solve B x = b for B = E⁻¹ A E, E = diag(exp(log_scale)), reusing this solver's
        factorisation or hierarchy (no new set-up): GMRES on B, preconditioned by E⁻¹ A⁻¹ E
        (exact for "direct"/"pardiso": one or two iterations; the AMG V-cycle otherwise).

        ``B`` is passed assembled (in the caller's well-scaled form) because forming it from A
        and E could overflow; E itself must stay within double range: raises InputError when
        log_scale spans more than 600 (then build a new LinearSolver for B).
        """
        s = np.asarray(log_scale, dtype=float)
        span = float(np.ptp(s)) if s.size else 0.0
        if not span < 600.0:
            raise InputError(f"solve_similar: the scaling spans {span:.0f} in log units; "
                             f"e^(±300) is the most that stays finite.")
        e = np.exp(s - 0.5 * (s.max() + s.min()))
        B = sp.csr_matrix(B)
        if self.method == "direct":
            def pre(v):
                return self.solve(e * v) / e
            sign = 1.0
        else:
            _, M, _ = self._preconditioner(False)
            sign = self._sign

            def pre(v):
                return (M @ (e * v)) / e
        normB = norm_inf(B)
        try:
            return self._gmres(lambda v: sign * (B @ v), pre, sign * np.asarray(b, dtype=float),
                               normB, None, x0)
        except SolverError as exc:
            if not (self._auto and self.backend == "gmg"):
                raise
            self._fall_back(exc)
            with self._second_attempt(exc):
                return self.solve_similar(B, log_scale, b, x0)

    @property
    def lu(self):
        """The factorisation (direct solvers only; None otherwise): an object with
        ``solve(b, trans="N" | "T")``: SciPy's SuperLU, LAPACK's tridiagonal LU or the PARDISO
        wrapper."""
        return self._lu if self.method == "direct" else None

    # -- iterative -------------------------------------------------------------------------------
    def hierarchy(self, trans=False):
        """The multigrid hierarchy of ±A (or ±Aᵀ): pyamg's multilevel solver for "amg", the
        :class:`~fpsolve.numerics.boxmg.BoxMG` (both directions) for "gmg"."""
        return self._preconditioner(trans)[2]

    def _preconditioner(self, trans):
        if trans not in self._pre and self.backend == "gmg":
            self._gmg_preconditioner(trans)
        if trans not in self._pre:
            A = self._sign * (self.A.T.tocsr() if trans else self.A)
            n = A.shape[0]
            ml = None
            if self.method == "amg":
                import pyamg

                dim = 3 if self.ndim == 3 else 2
                with _seeded_numpy_rng():
                    ml = pyamg.ruge_stuben_solver(A, **AMG_OPTIONS[dim])
                M = VCycle(ml, *AMG_SWEEPS[dim])
            else:
                try:
                    ilu = spla.spilu(A.tocsc(), drop_tol=1e-5, fill_factor=20)
                except RuntimeError as exc:
                    raise SolverError(f"gmres: the incomplete LU preconditioner failed ({exc}); "
                                      f"use solver='amg' or 'direct'.") from exc
                M = spla.LinearOperator((n, n), ilu.solve)
            self._pre[trans] = (A, M, ml)
        return self._pre[trans]

    def _gmg_preconditioner(self, trans):
        """The geometric hierarchy, built on first use for the direction asked first (the
        other direction then uses its transpose, :class:`~fpsolve.numerics.boxmg.BoxMG`), and
        A or Aᵀ applied without a signed or transposed copy."""
        if self._mg is None:
            try:
                self._mg = BoxMG(self.A, self._grid.shape, self._grid.periodic, self._cells,
                                 scale=self._sign, transpose=trans)
                self._mg_trans = trans
            except NotStructured as exc:
                if not self._auto:  # asked for by name: say so rather than run another method
                    raise InputError(
                        f"solver='gmg': {exc} (grid {tuple(self._grid.shape)}); use "
                        f"solver='amg' or 'auto' (which then takes the algebraic "
                        f"multigrid).") from exc
                self.backend = "amg"  # auto: the algebraic multigrid instead
                return
        ml, flip, sign = self._mg, trans != self._mg_trans, self._sign
        At = self.A.T if trans else self.A  # Aᵀ v through the CSC view of the CSR arrays
        self._pre[trans] = (_Applied(lambda v: sign * (At @ v)),
                            _Applied(lambda v: ml.apply(v, flip)), ml)

    def _krylov(self, b, trans):
        A, M, _ = self._preconditioner(trans)
        rhs = self._sign * b
        return self._gmres(lambda v: A @ v, lambda v: M @ v, rhs, self._normA, trans, None)

    def _gmres(self, A, M, rhs, normA, key, x0):
        nb = float(krylov.norm(rhs))
        if nb == 0.0:
            return np.zeros_like(rhs)
        eps = np.finfo(float).eps
        gain = self._gain.get(key)
        # the floor 100 ε ‖A‖ ‖x‖ scales with the answer: re-evaluated at every restart from the
        # current iterate; before the first one, from ‖x‖/‖b‖ of the last solve, or (first solve)
        # from a loose first cycle: the test ‖r‖ ≤ 1e-6 ‖b‖ stops it early enough to learn ‖x‖
        first = [gain is None]

        # Aim 10× below the stated tolerance and accept anything up to 10× above it once GMRES
        # stagnates: right preconditioning minimises ‖r‖₂, which leaves relatively more error
        # in the slow modes than the left-preconditioned ‖M⁻¹r‖ of the former scipy solve
        # (1.5e-8 against 4e-9 behind a trap at 96×64, measured); the margin restores it.
        def atol(nx):
            if first[0] and nx == 0.0:
                return 1e-6 * nb
            first[0] = False
            ref = nx if nx > 0 else (gain or 0.0) * nb
            return 0.1 * max(self.rtol * nb, 100 * eps * normA * ref)

        restart = RESTART_AUTO_GMG if self._auto and self.backend == "gmg" else RESTART
        x, ok, res, its = krylov.gmres(A, rhs, M, x0=x0, atol=atol, restart=restart,
                                       max_cycles=50)
        self.iterations.append(its)
        nx = float(krylov.norm(x))
        wanted = max(self.rtol * nb, 100 * eps * normA * nx)
        if nx > 0:
            self._gain[key] = nx / nb
        if not np.all(np.isfinite(x)) or res > 10 * wanted:
            name = {"amg": "AMG-preconditioned GMRES", "gmg": "geometric-multigrid-"
                    "preconditioned GMRES", "ilu": "ILU-preconditioned GMRES"}.get(
                self.backend, f"GMRES preconditioned by {self.backend}")
            progress = (f"{name}: stopped at residual {res / nb:.2g}·‖b‖ after {its} "
                        f"iterations (wanted {wanted / nb:.2g}·‖b‖)")
            err = SolverError(
                f"{progress}. Try solver='direct' (or 'pardiso') if the problem fits in memory, "
                f"or a finer grid if the drift is strong (cell Péclet numbers ≫ 1 slow the "
                f"multigrid down).")
            err.progress = progress  # which solver, how far it got: for a combined message
            raise err
        return x


class _Applied:
    """``M @ v`` for a function v ↦ M v (a preconditioner without LinearOperator's checks)."""

    def __init__(self, fun):
        self.fun = fun

    def __matmul__(self, v):
        return self.fun(v)


class _Tridiagonal:
    """LAPACK's tridiagonal LU (``dgttrf``/``dgttrs``: partial pivoting, no fill) with SuperLU's
    ``solve(b, trans)`` interface, for the matrices of 1D grids without a periodic seam.

    Why not SuperLU there: at 45 unknowns its set-up (CSC copy, ordering, factorisation) costs
    37 µs against 0.8 µs, and a solve 2.8 µs against 0.9 µs (measured), which is most of a small
    1D time-stepping run. Pivots: on a column diagonally dominant M-matrix (our generators'
    I − cΔtL and killed generators) partial pivoting keeps every diagonal pivot (ties too), as
    SuperLU with ``diag_pivot_thresh=1.0`` does: the same elimination without cancellation.
    """

    def __init__(self, bands):
        from scipy.linalg import lapack

        self._gttrs = lapack.dgttrs
        dl, d, du, du2, ipiv, info = lapack.dgttrf(*bands)
        if info > 0:  # the message SuperLU gives, so that callers see one kind of failure
            raise RuntimeError(f"Factor is exactly singular (pivot {info})")
        self._factors = (dl, d, du, du2, ipiv)

    @staticmethod
    def bands(A):
        """(sub-, main and super-diagonal) of the CSR matrix A, as ``A.diagonal(k)`` gives them
        (duplicates summed), when A is tridiagonal (every entry within one of the diagonal)
        with n ≥ 2; None otherwise. One pass over A's arrays, where the test and the three
        diagonals took four (1.9 against 10 µs at 45 unknowns, measured)."""
        n = A.shape[0]
        if n < 2 or A.nnz > 3 * n:
            return None
        ok, dl, d, du = _tridiagonal_bands(A.data, A.indices, A.indptr)
        return (dl, d, du) if ok else None

    def solve(self, b, trans="N"):
        b = np.asarray(b, dtype=float)
        x, info = self._gttrs(*self._factors, b, trans=trans)
        if info != 0:
            raise InputError(f"tridiagonal solve: argument {-info} is invalid (shape {b.shape}).")
        return x


class _Pardiso:
    """MKL PARDISO factors of a CSR matrix A with SuperLU's ``solve(b, trans)`` interface.

    PARDISO reads the CSC matrix on A's CSR arrays (that is Aᵀ) as a request for a transposed
    solve with the factors it already has, so Aᵀ x = b costs no second factorisation.
    """

    def __init__(self, A):
        import pypardiso

        self.A = sp.csr_matrix(A)
        self.A.sort_indices()
        n = self.A.shape[0]
        self._solver = pypardiso.PyPardisoSolver()
        self._solver.factorize(self.A)
        self._AT = sp.csc_matrix((self.A.data, self.A.indices, self.A.indptr), shape=(n, n))

    def solve(self, b, trans="N"):
        b = np.asarray(b, dtype=float)
        x = self._solver.solve(self._AT if trans == "T" else self.A, b)
        return np.asarray(x).reshape(b.shape)


@njit(cache=True)
def _tridiagonal_bands(data, indices, indptr):
    """(all entries within one of the diagonal?, sub-, main and super-diagonal) of a square CSR
    matrix; each diagonal entry summed from 0 over the row's entries in storage order, as
    SciPy's ``diagonal`` does."""
    n = indptr.size - 1
    dl, d, du = np.zeros(max(n - 1, 0)), np.zeros(n), np.zeros(max(n - 1, 0))
    ok = True
    for r in range(n):
        for q in range(indptr[r], indptr[r + 1]):
            c = indices[q]
            if c == r:
                d[r] += data[q]
            elif c == r + 1:
                du[r] += data[q]
            elif c == r - 1:
                dl[c] += data[q]
            else:
                ok = False
    return ok, dl, d, du


@njit(cache=True)
def _row_abs_sum_max(data, indptr):
    best = 0.0
    for r in range(indptr.shape[0] - 1):
        acc = 0.0
        for q in range(indptr[r], indptr[r + 1]):
            acc += abs(data[q])
        best = max(best, acc)
    return best


def norm_inf(A) -> float:
    """‖A‖∞ = max_i Σ_j |A_ij| of a sparse matrix, without a copy of it."""
    A = A if isinstance(A, sp.csr_matrix) else sp.csr_matrix(A)
    return float(_row_abs_sum_max(A.data, A.indptr)) if A.nnz else 0.0


@njit(cache=True)
def _col_abs_sum_max(data, indices, indptr, n):
    acc = np.zeros(n)
    for r in range(indptr.shape[0] - 1):  # rows in order, as a CSC product Aᵀ·1 sums them
        for q in range(indptr[r], indptr[r + 1]):
            acc[indices[q]] += abs(data[q])
    best = 0.0
    for j in range(n):
        best = max(best, acc[j])
    return best


def norm_1(A) -> float:
    """‖A‖₁ = max_j Σ_i |A_ij| = ‖Aᵀ‖∞ of a sparse matrix, without a copy of it."""
    A = A if isinstance(A, sp.csr_matrix) else sp.csr_matrix(A)
    return float(_col_abs_sum_max(A.data, A.indices, A.indptr, A.shape[1])) if A.nnz else 0.0


#: most iterations of :func:`inverse_norm_1_estimate` (LAPACK's ITMAX)
ESTIMATE_ITERATIONS = 5


def _signs(y):
    """+1 where y ≥ 0, −1 elsewhere (dlacn2's test, −0.0 counted as ≥ 0)."""
    return np.where(y >= 0.0, 1.0, -1.0)


def inverse_norm_1_estimate(solve, n) -> float:
    """An estimate of ‖A⁻¹‖₁ from a factorisation's ``solve(b, trans="N" | "T")``: Hager's
    method with Higham's refinements, as LAPACK's ``dlacn2`` (N. J. Higham, ACM TOMS 14, 1988).

    A lower bound: every value taken is ‖A⁻¹x‖₁/‖x‖₁ for some x (up to the solves' rounding),
    usually within a factor 3 of the norm, and exact when A⁻¹ is entrywise non-negative (an
    M-matrix, e.g. a killed generator: there the first sign vector is all ones and the
    iteration stops at the largest column sum). Deterministic, unlike SciPy's ``onenormest``,
    which draws random columns; and leaner: 3 solves for an M-matrix, where ``onenormest``'s
    block iteration through a ``LinearOperator`` costs several times a small solve in Python
    alone. dlacn2's closing test vector x_i = (−1)^i (1 + i/(n − 1)), which does not depend on
    the iteration, is solved with the first vector as one two-column solve; the largest value
    seen is returned (dlacn2 returns the last, which can be smaller once it cycles).
    """
    if n == 1:
        return float(abs(solve(np.ones(1))[0]))
    x = np.empty((n, 2), order="F")
    x[:, 0] = 1.0 / n
    x[:, 1] = 1.0 + np.arange(n) / (n - 1)
    x[1::2, 1] *= -1.0
    first = solve(x)
    est = float(np.abs(first[:, 0]).sum())
    signs = _signs(first[:, 0])
    j = int(np.abs(solve(signs, trans="T")).argmax())
    for _ in range(ESTIMATE_ITERATIONS - 1):
        x = np.zeros(n)
        x[j] = 1.0
        y = solve(x)
        old, est = est, max(est, float(np.abs(y).sum()))
        new = _signs(y)
        if (new == signs).all() or est <= old:  # converged, or cycling
            break
        signs = new
        z = solve(signs, trans="T")
        j_last, j = j, int(np.abs(z).argmax())
        if z[j_last] == abs(z[j]):  # no larger column found
            break
    return max(est, 2.0 * float(np.abs(first[:, 1]).sum()) / (3 * n))


def factorize(A: sp.spmatrix):
    """Sparse LU with a fill-reducing ordering; returns a solve callable."""
    lu = spla.splu(sp.csc_matrix(A), permc_spec=ORDERING)
    return lu.solve


def pin_row(A: sp.csr_matrix, j: int) -> sp.csr_matrix:
    """Copy of A with row j replaced by e_jᵀ (fixes one unknown of a singular system)."""
    A = A.tocsr(copy=True)
    start, end = A.indptr[j], A.indptr[j + 1]
    cols = A.indices[start:end]
    A.data[start:end] = np.where(cols == j, 1.0, 0.0)
    if j not in cols:
        raise SolverError("pin_row: the matrix has no diagonal entry in the pinned row.")
    A.eliminate_zeros()
    return A


def null_vector(M: sp.csr_matrix, j: int, solver: str = "auto", rtol: float = 1e-12, ndim=None,
                return_solver=False, grid=None):
    """Solve M r = 0 with r_j = 1 (M singular with a one-dimensional null space; ``grid``: the
    grid of its rows, for the geometric multigrid).

    Returns (r, the solver used), and the :class:`LinearSolver` of the pinned matrix when
    ``return_solver`` (for a rescaled second pass through :meth:`LinearSolver.solve_similar`).
    Accuracy of the direct solve: ~cond(A)·ε ≈ N^(2/d)·ε relative (the scaled entries carry
    ε-level rounding of ψ differences that refinement cannot remove); the closed form has no
    such floor.
    """
    check_solver(solver)
    n = M.shape[0]
    A = pin_row(M, j)
    rhs = np.zeros(n)
    rhs[j] = 1.0
    ls = LinearSolver(A, solver, ndim=ndim, rtol=rtol, grid=grid,
                      direct_limit=DIRECT_LIMIT_STATIONARY if grid is not None else None)
    r = ls.solve(rhs)
    return (r, ls.name, ls) if return_solver else (r, ls.name)


def relative_residual(L: sp.csr_matrix, p: np.ndarray) -> float:
    """‖L p‖₁ / (‖diag L‖_∞ ‖p‖₁): the size of dp/dt relative to the fastest rate."""
    scale = np.max(np.abs(L.diagonal())) * np.sum(np.abs(p))
    return float(np.sum(np.abs(L @ p)) / scale) if scale > 0 else 0.0
