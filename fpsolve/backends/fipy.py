r"""FiPy cross-check: the same Fokker–Planck model discretised and solved by FiPy.

FiPy (NIST, https://www.ctcms.nist.gov/fipy) composes an equation from terms. For a scalar
diffusion D and the α-convention (:doc:`/theory/conventions`; α = 0 Itô, ½ Stratonovich, 1
isothermal)

    J = b p − D^α ∇(D^(1−α) p) = (b − (1−α)∇D) p − D ∇p,

so the Fokker–Planck equation ∂t p = −∇·J reads, in FiPy's terms,

    TransientTerm() == DiffusionTerm(D_f) − ExponentialConvectionTerm(v_f),   v = b − (1−α)∇D,

with everything on the faces built by FiPy itself from the model's cell values: D_f is FiPy's
arithmetic face value of D, ∇D and (for a potential) b = −∇U are FiPy face gradients; a drift
model's normal face drift (``model.b_faces``) is used as given. FiPy's exponential scheme is the
Scharfetter–Gummel flux for velocity v and diffusion D_f, which differs from fpsolve's (fitted
on g = D^(1−α) p with logarithmic-mean D_f, :mod:`fpsolve.numerics.flux`) at O(h²): the two
agree within the discretisation error, and their difference shrinks 4× per halving of h.
FiPy's default boundary is zero flux (reflecting walls); periodic axes use FiPy's periodic
grids. A schedule s(t) multiplies D, so D_f → s D_f and v → b − (1−α) s ∇D.

Stationary state — the choice (``method``):

- ``"transient"`` (default): a *long implicit transient* solved by FiPy itself,
  ``(TransientTerm() == …).solve(dt=Δt)`` with Δt growing 100× per step from 10 box diffusion
  times. A backward-Euler step is one step of inverse iteration, p ← (I − Δt L)⁻¹ p: every mode
  λ is damped by 1/(1 + λΔt), so after a few steps with λ₁Δt ≫ 1 only the null vector is left,
  and each step conserves mass exactly. Stops when the relative ℓ¹ change of the normalised
  state is below ``tol``. Chosen as the default because it is FiPy solving its own equation (no
  penalty term: pinning a cell in FiPy needs a large implicit source that spoils conditioning).
- ``"pinned"``: FiPy's assembled steady matrix with one row replaced by p_j = 1, one sparse LU.
  Exact null vector of the same discrete operator; a check on the first.

Time stepping (:func:`evolve`): variable-step BDF2 (second order; first step backward Euler),

    c₁ (pⁿ⁺¹ − pⁿ)/Δt − c₂ (pⁿ − pⁿ⁻¹)/Δt = L pⁿ⁺¹,   c₁ = (1+2ω)/(1+ω), c₂ = ω²/(1+ω),

ω = Δtₙ/Δtₙ₋₁. ``engine="matrix"`` (default) assembles FiPy's operator once per schedule value
and steps with a reused SciPy LU (fast); ``engine="fipy"`` calls FiPy's ``solve`` every step
(TransientTerm(c₁) == operator + explicit source; pure FiPy, ~50 ms a step even in 1D). Both
solve the same discrete equations. Output times and schedule breakpoints are hit exactly, as in
:meth:`fpsolve.FokkerPlanck.evolve`.

Not supported (raise or fall outside the cross-check): densities below the double-precision
range (FiPy works in linear, not log, space: barriers ΔU/D ≳ 600 underflow).

Needs ``pip install "fpsolve[fipy]"`` (FiPy ≥ 4). FiPy is imported on first use. FiPy's solves
use ``fipy.solvers.scipy.LinearLUSolver`` unless a ``solver`` is given, so that results do not
depend on which FiPy solver suite happens to be installed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..errors import InputError, SolverError
from ..fields.field import Density
from ..models.fokker_planck import Evolution, FokkerPlanck
from ..numerics.timestepping import check_times

__all__ = ["stationary", "evolve", "build", "FiPyModel", "SCHEMES", "ENGINES",
           "STATIONARY_METHODS", "default_solver"]

#: Time schemes of :func:`evolve`.
SCHEMES = ("bdf2", "backward-euler")
#: Engines of :func:`evolve`: FiPy's operator assembled once and stepped with a reused SciPy LU
#: ("matrix"), or FiPy's own ``solve`` every step ("fipy").
ENGINES = ("matrix", "fipy")
#: Methods of :func:`stationary`: a long implicit transient, or the steady matrix with the most
#: probable cell pinned.
STATIONARY_METHODS = ("transient", "pinned")


def _fipy():
    try:
        import fipy
    except ImportError as exc:
        raise ImportError("fpsolve.backends.fipy needs FiPy: pip install \"fpsolve[fipy]\" "
                          "(or pip install fipy).") from exc
    return fipy


def default_solver(tolerance=1e-14):
    """FiPy's SciPy sparse LU (with its iterative refinement), whatever FIPY_SOLVERS says."""
    _fipy()
    from fipy.solvers.scipy import LinearLUSolver

    return LinearLUSolver(tolerance=tolerance, iterations=10)


# ---------------------------------------------------------------------------------------------
# the model in FiPy
# ---------------------------------------------------------------------------------------------
@dataclass
class FiPyModel:
    """A :class:`~fpsolve.FokkerPlanck` model rebuilt in FiPy (see :func:`build`).

    mesh : the FiPy mesh (origin at 0: only the spacings enter the equation).
    perm : ``perm[c]`` is the fpsolve (C-order) cell index of FiPy cell c.
    diffusion_faces : D on the faces (FiPy's arithmetic face value), (n_faces,), at s = 1.
    drift_faces : b on the faces as vectors, (ndim, n_faces) (only the normal part counts).
    grad_diffusion_faces : ∇D on the faces (FiPy face gradient), (ndim, n_faces), at s = 1.
    alpha : the convention (v = b − (1−α) s ∇D).
    """

    model: FokkerPlanck
    mesh: object
    perm: np.ndarray
    diffusion_faces: np.ndarray
    drift_faces: np.ndarray
    grad_diffusion_faces: np.ndarray
    alpha: float
    _generators: dict = field(default_factory=dict, repr=False)

    def to_fipy(self, values) -> np.ndarray:
        """fpsolve grid-shaped values → a FiPy cell array."""
        return np.asarray(values, dtype=float).ravel()[self.perm]

    def from_fipy(self, values) -> np.ndarray:
        """A FiPy cell array → grid-shaped fpsolve values."""
        out = np.empty(self.perm.size)
        out[self.perm] = np.asarray(values, dtype=float)
        return out.reshape(self.model.grid.shape)

    def velocity(self, s=1.0) -> np.ndarray:
        """v = b − (1 − α)·s∇D on the faces, (ndim, n_faces), for the schedule factor s."""
        return self.drift_faces - (1.0 - self.alpha) * s * self.grad_diffusion_faces

    def operator(self, s=1.0):
        """The FiPy terms ∇·(s D_f ∇p) − ∇·(v p), built fresh for each factor s.

        Fresh terms each time: a FiPy convection term caches its exponential-scheme weights on
        first use, so a term must not be reused after its coefficients change.
        """
        fipy = _fipy()
        Df = fipy.FaceVariable(mesh=self.mesh, value=s * self.diffusion_faces)
        v = fipy.FaceVariable(mesh=self.mesh, rank=1, value=self.velocity(s))
        return fipy.DiffusionTerm(coeff=Df) - fipy.ExponentialConvectionTerm(coeff=v)

    def generator(self, s=1.0) -> sp.csr_matrix:
        """FiPy's assembled operator as a generator L (dp/dt = L p; FiPy cell order, 1/time).

        FiPy assembles the volume-integrated operator of ``operator(s) == 0``; dividing each row
        by its cell volume gives L. Cached per s.
        """
        if s not in self._generators:
            fipy = _fipy()
            from fipy.solvers import DummySolver

            if len(self._generators) > 64:
                self._generators.clear()
            op = self.operator(s)
            var = fipy.CellVariable(mesh=self.mesh, value=0.0)
            op.cacheMatrix()
            op.cacheRHSvector()
            op.sweep(var=var, solver=DummySolver())
            M = sp.csr_matrix(op.matrix.matrix)
            vol = np.asarray(self.mesh.cellVolumes, dtype=float)
            self._generators[s] = sp.diags(1.0 / vol) @ M
            if np.any(np.asarray(op.RHSvector) != 0):  # pragma: no cover - no sources here
                raise SolverError("fipy backend: FiPy's operator has a non-zero right-hand side.")
        return self._generators[s]


def build(model: FokkerPlanck) -> FiPyModel:
    """Rebuild ``model`` in FiPy: the mesh, the cell ordering, and the face coefficients."""
    if not isinstance(model, FokkerPlanck):
        raise InputError(f"fpsolve.backends.fipy: expected a FokkerPlanck model; got "
                         f"{type(model).__name__}.")
    fipy = _fipy()
    g = model.grid
    mesh = _mesh(fipy, g)
    perm = _cell_permutation(mesh, g)
    Dc = fipy.CellVariable(mesh=mesh, value=np.asarray(model.D, float).ravel()[perm])
    Df = np.array(Dc.arithmeticFaceValue.value, dtype=float)
    gradD = np.array(Dc.faceGrad.value, dtype=float).reshape(g.ndim, -1)
    if model.U is not None:
        Uc = fipy.CellVariable(mesh=mesh, value=np.asarray(model.U, float).ravel()[perm])
        b = -np.array(Uc.faceGrad.value, dtype=float).reshape(g.ndim, -1)
    elif model.b_faces is not None:
        b = _drift_on_fipy_faces(mesh, g, model.b_faces)
    else:
        b = np.zeros_like(gradD)
    return FiPyModel(model, mesh, perm, Df, b, gradD, float(model.alpha))


def _mesh(fipy, g):
    h = [float(v) for v in g.h]
    n = list(g.shape)
    per = tuple(g.periodic)
    if g.ndim == 1:
        return (fipy.PeriodicGrid1D if per[0] else fipy.Grid1D)(nx=n[0], dx=h[0])
    if g.ndim == 2:
        cls = {(False, False): fipy.Grid2D, (True, True): fipy.PeriodicGrid2D,
               (True, False): fipy.PeriodicGrid2DLeftRight,
               (False, True): fipy.PeriodicGrid2DTopBottom}[per]
        return cls(nx=n[0], ny=n[1], dx=h[0], dy=h[1])
    from fipy.meshes import periodicGrid3D as p3

    cls = {(False, False, False): fipy.Grid3D, (True, True, True): p3.PeriodicGrid3D,
           (True, False, False): p3.PeriodicGrid3DLeftRight,
           (False, True, False): p3.PeriodicGrid3DTopBottom,
           (False, False, True): p3.PeriodicGrid3DFrontBack,
           (True, True, False): p3.PeriodicGrid3DLeftRightTopBottom,
           (True, False, True): p3.PeriodicGrid3DLeftRightFrontBack,
           (False, True, True): p3.PeriodicGrid3DTopBottomFrontBack}[per]
    return cls(nx=n[0], ny=n[1], nz=n[2], dx=h[0], dy=h[1], dz=h[2])


def _values(x) -> np.ndarray:
    """A FiPy variable's (or a plain array's) values as a float numpy array."""
    return np.array(getattr(x, "value", x), dtype=float)


def _cell_permutation(mesh, g):
    """fpsolve C-order index of each FiPy cell, from the cell centres (FiPy numbers x fastest)."""
    centres = _values(mesh.cellCenters).reshape(g.ndim, -1)
    idx = [np.floor(centres[a] / g.h[a]).astype(int) for a in range(g.ndim)]
    flat = np.ravel_multi_index(idx, g.shape)
    if not np.array_equal(np.sort(flat), np.arange(g.size)):  # pragma: no cover - FiPy internals
        raise SolverError("fpsolve.backends.fipy: FiPy's cell centres do not map one-to-one onto "
                          "the grid's cells.")
    return flat


def _drift_on_fipy_faces(mesh, g, b_faces):
    """The model's normal face drift (fpsolve layout) as FiPy face vectors (ndim, n_faces)."""
    centres = _values(mesh.faceCenters).reshape(g.ndim, -1)
    normals = _values(mesh.faceNormals).reshape(g.ndim, -1)
    axis = np.argmax(np.abs(normals), axis=0)
    out = np.zeros_like(centres)
    for a in range(g.ndim):
        on = np.flatnonzero(axis == a)
        # face between cells k and k+1 along a sits at (k + 1) h
        k = np.rint(centres[a, on] / g.h[a]).astype(int) - 1
        if g.periodic[a]:
            k = np.mod(k, g.shape[a])
            keep = np.ones(on.size, dtype=bool)
        else:
            keep = (k >= 0) & (k <= g.shape[a] - 2)  # walls: zero flux, velocity unused
        idx = []
        for c in range(g.ndim):
            if c == a:
                idx.append(k[keep])
            else:
                idx.append(np.clip(np.floor(centres[c, on[keep]] / g.h[c]).astype(int), 0,
                                   g.shape[c] - 1))
        out[a, on[keep]] = np.asarray(b_faces[a])[tuple(idx)]
    return out


# ---------------------------------------------------------------------------------------------
# questions
# ---------------------------------------------------------------------------------------------
def stationary(model: FokkerPlanck, method: str = "transient", tol: float = 1e-12,
               max_steps: int = 40, solver=None) -> Density:
    """The stationary density of ``model`` computed with FiPy's discretisation.

    method : "transient" (default; FiPy solves a long implicit transient, i.e. inverse
        iteration, until the relative ℓ¹ change is below ``tol``) or "pinned" (FiPy's assembled
        steady matrix with the most probable cell pinned, SciPy LU); see the module docstring
        for the choice.
    tol, max_steps : convergence of the transient.
    solver : a FiPy solver for the transient (default: SciPy LU).

    Uses the coefficients at t = 0 (schedule factor s(0)). Returns a :class:`~fpsolve.Density`
    whose ``info`` has backend, method, steps, last Δt, change and the relative residual
    ‖L p‖₁/(max|L_kk| ‖p‖₁) against FiPy's operator. Raises :class:`~fpsolve.SolverError` when
    the transient does not converge (a spectral gap below ~1e-13 of the fastest rate).
    """
    if method not in STATIONARY_METHODS:
        raise InputError(f"fipy.stationary: method {method!r} is unknown; choose one of "
                         f"{STATIONARY_METHODS}.")
    if not (tol > 0 and max_steps >= 1):
        raise InputError(f"fipy.stationary: need tol > 0 and max_steps ≥ 1; got tol={tol}, "
                         f"max_steps={max_steps}.")
    fipy = _fipy()
    fm = build(model)
    g = model.grid
    s = float(model.schedule(0.0))
    info = {"backend": "fipy", "fipy_version": fipy.__version__, "method": method,
            "convention": model.convention}
    if method == "pinned":
        # pin cell 0, then re-pin the most probable cell (where relative accuracy is best)
        j, new = 0, None
        for _ in range(2):
            new = _pinned_null_vector(fm.generator(s), j)
            if int(np.argmax(new)) == j:
                break
            j = int(np.argmax(new))
        info.update(steps=1, pinned_cell=int(fm.perm[j]))
    else:
        solver = default_solver() if solver is None else solver
        eq = fipy.TransientTerm() == fm.operator(s)
        p = fipy.CellVariable(mesh=fm.mesh, value=1.0 / g.volume)
        diameter2 = float(np.sum((g.bounds[:, 1] - g.bounds[:, 0]) ** 2))
        dt = 10.0 * diameter2 / (s * float(np.mean(model.D)))
        # beyond this step 1/Δt is below the round-off of the fastest rate: stop growing
        fastest = s * float(np.max(model.D)) * float(np.sum(1.0 / g.h ** 2))
        dt_max = 1e13 / fastest
        change = np.inf
        for step in range(1, max_steps + 1):
            old = np.array(p.value, dtype=float)
            eq.solve(var=p, dt=dt, solver=solver)
            new = np.array(p.value, dtype=float)
            if not np.all(np.isfinite(new)) or not new.sum() > 0:
                raise SolverError(f"fipy.stationary: FiPy returned an unusable state at step "
                                  f"{step} (Δt = {dt:.3g}).")
            new /= new.sum() * g.cell_volume
            p.value = new
            change = float(np.sum(np.abs(new - old)) * g.cell_volume)
            if change < tol:
                break
            dt = min(100.0 * dt, dt_max)
        else:
            raise SolverError(f"fipy.stationary: no convergence in {max_steps} implicit steps "
                              f"(last relative change {change:.3g} > tol {tol:g}): the spectral "
                              f"gap is too small for inverse iteration in double precision. "
                              f"Raise max_steps or tol, or use method='pinned'.")
        info.update(steps=step, dt=dt, change=change)
    if not np.all(np.isfinite(new)):
        raise SolverError("fipy.stationary: the solve returned non-finite values.")
    # FiPy's exponential scheme gives an M-matrix too: negatives can only be round-off
    if new.min() < -1e-10 * new.max():
        raise SolverError(f"fipy.stationary: negative density {new.min():.3g} (max "
                          f"{new.max():.3g}); the solve lost accuracy.")
    new = np.maximum(new, 0.0)
    L = fm.generator(s)
    scale = np.max(np.abs(L.diagonal())) * np.sum(new)
    info["residual"] = float(np.sum(np.abs(L @ new)) / scale)
    return Density(g, fm.from_fipy(new), info)


def _pinned_null_vector(L, j):
    """Solve L p = 0 with p_j = 1: row j of L replaced by e_jᵀ, one sparse LU."""
    A = L.tocsr(copy=True)
    start, end = A.indptr[j], A.indptr[j + 1]
    A.data[start:end] = np.where(A.indices[start:end] == j, 1.0, 0.0)
    rhs = np.zeros(A.shape[0])
    rhs[j] = 1.0
    return spla.splu(sp.csc_matrix(A), permc_spec="MMD_AT_PLUS_A").solve(rhs)


def evolve(model: FokkerPlanck, p0, times, dt=None, scheme: str = "bdf2",
           engine: str = "matrix", solver=None) -> Evolution:
    """Evolve ``p0`` to the output ``times`` with FiPy's discretisation (start at t = 0).

    p0 : Density, array on the grid, or callable of the coordinates (normalised, as in
        :meth:`fpsolve.FokkerPlanck.evolve`).
    dt : largest step; default T/200. Each interval between output times (and schedule
        breakpoints) is split into equal steps.
    scheme : "bdf2" (second order, variable step; backward Euler for the first step and the
        first step after each schedule breakpoint) or "backward-euler" (first order, keeps
        densities non-negative).
    engine : "matrix" (FiPy's operator assembled once per schedule value, SciPy LU reused) or
        "fipy" (FiPy's ``solve`` every step; slow, pure FiPy). Same discrete equations.
    solver : a FiPy solver for ``engine="fipy"`` (default: SciPy LU).

    The schedule factor s(t) is taken at the end of each step (at the step midpoint for a
    piecewise-constant schedule, so that a jump at a breakpoint acts on the right side of it).
    Returns an :class:`~fpsolve.Evolution` (densities as computed, not renormalised).
    """
    if scheme not in SCHEMES:
        raise InputError(f"fipy.evolve: scheme {scheme!r} is unknown; choose one of {SCHEMES}.")
    if engine not in ENGINES:
        raise InputError(f"fipy.evolve: engine {engine!r} is unknown; choose one of {ENGINES}.")
    fipy = _fipy()
    p_start = model.density(p0)
    t = check_times(times)
    model.schedule.check(t[-1])
    if dt is None:
        dt = max(t[-1], 1e-300) / 200.0
    if not (np.isfinite(dt) and dt > 0):
        raise InputError(f"fipy.evolve: dt must be a positive number; got {dt!r}.")
    fm = build(model)
    g = model.grid
    sched = model.schedule
    bp = np.asarray([b for b in np.atleast_1d(sched.breakpoints) if 0 < b < t[-1]], float)
    cuts = np.unique(np.concatenate([[0.0], t, bp]))
    step = (_FiPyStepper(fipy, fm, default_solver() if solver is None else solver)
            if engine == "fipy" else _MatrixStepper(fm))

    out = []
    p = fm.to_fipy(p_start.values)
    prev, dt_prev, steps = None, None, 0
    out_iter = iter(t)
    t_next = next(out_iter, None)
    while t_next is not None and t_next == 0.0:
        out.append(fm.from_fipy(p).ravel())
        t_next = next(out_iter, None)
    for a, b in zip(cuts[:-1], cuts[1:]):
        n = max(1, int(math.ceil((b - a) / dt * (1 - 1e-12))))
        h = (b - a) / n
        if np.any(bp == a):
            # the coefficients may jump here: a multistep formula straddling the jump would be
            # first order, so restart with one backward-Euler step (local error O(Δt²))
            prev = None
        for i in range(n):
            t_end = a + (i + 1) * h
            s = float(sched(a + (i + 0.5) * h) if sched.piecewise_constant else sched(t_end))
            if scheme == "backward-euler" or prev is None:
                c1, c2 = 1.0, 0.0
            else:
                w = h / dt_prev
                c1, c2 = (1.0 + 2.0 * w) / (1.0 + w), w * w / (1.0 + w)
            new = step(p, prev, s, h, round(c1, 14), c2)
            prev, p, dt_prev = p, new, h
            steps += 1
        while t_next is not None and t_next <= b:
            out.append(fm.from_fipy(p).ravel())
            t_next = next(out_iter, None)
    evo = Evolution.from_states(g, t, out, method="fipy", scheme=scheme, steps=steps,
                                factorisations=step.factorisations, assemblies=step.assemblies,
                                dt=dt)
    evo.extra.update(backend="fipy", engine=engine, fipy_version=fipy.__version__)
    return evo


class _MatrixStepper:
    """(c₁ I − Δt L) pⁿ⁺¹ = c₁ pⁿ + c₂ (pⁿ − pⁿ⁻¹) with FiPy's L, LU cached per (s, Δt, c₁)."""

    def __init__(self, fm):
        self.fm = fm
        self.lu = {}
        self.factorisations = 0
        self.assemblies = 0

    def __call__(self, p, prev, s, h, c1, c2):
        key = (s, round(h, 15), c1)
        if key not in self.lu:
            if len(self.lu) > 64:
                self.lu.clear()
            n_gen = len(self.fm._generators)
            L = self.fm.generator(s)
            self.assemblies += len(self.fm._generators) > n_gen
            A = c1 * sp.identity(L.shape[0], format="csc") - h * sp.csc_matrix(L)
            self.lu[key] = spla.splu(A, permc_spec="MMD_AT_PLUS_A").solve
            self.factorisations += 1
        rhs = c1 * p if prev is None or c2 == 0.0 else c1 * p + c2 * (p - prev)
        return self.lu[key](rhs)


class _FiPyStepper:
    """FiPy solves TransientTerm(c₁) == operator(s) + c₂ (pⁿ − pⁿ⁻¹)/Δt every step."""

    def __init__(self, fipy, fm, solver):
        self.fipy, self.fm, self.solver = fipy, fm, solver
        self.var = fipy.CellVariable(mesh=fm.mesh, value=0.0)
        self.source = fipy.CellVariable(mesh=fm.mesh, value=0.0)
        self.equations = {}
        self.factorisations = 0
        self.assemblies = 0

    def __call__(self, p, prev, s, h, c1, c2):
        key = (s, c1)
        if key not in self.equations:
            if len(self.equations) > 64:
                self.equations.clear()
            self.equations[key] = (self.fipy.TransientTerm(coeff=c1)
                                   == self.fm.operator(s) + self.source)
        self.source.value = 0.0 if prev is None or c2 == 0.0 else c2 * (p - prev) / h
        self.var.value = p
        self.equations[key].solve(var=self.var, dt=h, solver=self.solver)
        self.factorisations += 1
        self.assemblies += 1
        return np.array(self.var.value, dtype=float)
