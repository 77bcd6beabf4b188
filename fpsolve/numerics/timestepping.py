"""Time stepping of dp/dt = L p on a fixed sparse generator.

Schemes and what they guarantee (L an M-matrix with zero column sums):

- ``backward-euler``: first order, L-stable; (I − Δt L)⁻¹ is non-negative with unit column sums,
  so positivity and mass are preserved for every Δt (to round-off with the sparse LU; to the
  iterative solver's tolerance where one is used, see below: mass drifts by ~1e-12 over 16
  TR-BDF2 steps at 16³, measured).
- ``tr-bdf2`` (default): second order, L-stable (Bank et al. 1985, γ = 2 − √2). Both stages use the
  same matrix I − (γΔt/2) L, so one factorisation serves the whole run. Mass is conserved; the
  trapezoidal stage can produce small negative values when Δt ≫ 1/rate (reported as
  ``min_value``).
- ``explicit``: forward Euler in a Numba kernel; positive and stable iff Δt ≤ 1 / max|L_kk|,
  which is enforced.
- ``expm``: the exponential e^{tL} p itself (:mod:`fpsolve.numerics.exponential`): with detailed
  balance on the grid (the caller passes ψ) the symmetric Lanczos process, to a relative error of
  1e-12 by its estimate, with the stationary part and hence the mass kept exactly; otherwise
  SciPy's Krylov/Taylor ``expm_multiply``.

Output times are hit exactly: each interval is divided into an integer number of equal steps,
and factorisations are cached by step size, so equal intervals never refactorise.

Linear solves: a sparse LU (:class:`~fpsolve.numerics.linalg.LinearSolver`, factorised once per
step size) in 1D and in 2D up to 2.5·10⁵ cells; beyond, and in 3D from 2.5·10³ cells, where the
LU fills (32³: 8.6 s for one TR-BDF2 factorisation, measured), BiCGStab preconditioned with the
diagonal (a few iterations: I − cΔt L is strongly diagonally dominant for the steps a
second-order scheme takes), falling back to AMG-preconditioned GMRES for a step size where it
does not converge within 60 iterations.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from ..errors import InputError, SolverError
from ..jit import njit
from .exponential import Exponential
from .generator import _csr_like, _csr_matvec, explicit_euler
from .krylov import bicgstab
from .linalg import LinearSolver, choose_solver
from .torch_implicit import DeviceSolve, resolve_device, to_device  # torch: on use

SCHEMES = ("tr-bdf2", "backward-euler")
METHODS = ("implicit", "explicit", "expm")
GAMMA = 2.0 - math.sqrt(2.0)


def check_times(times) -> np.ndarray:
    """The output times of :func:`evolve` as a float array, checked: a non-empty 1D sequence of
    finite, non-negative, non-decreasing times (units of t; the evolution starts at t = 0).
    Raises :class:`~fpsolve.errors.InputError` otherwise, before any work."""
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1 or t.size == 0:
        raise InputError("evolve: times must be a non-empty 1D sequence of output times.")
    v = t.tolist()  # Python floats: a few output times are checked without NumPy's overheads
    if not all(map(math.isfinite, v)):
        raise InputError(f"evolve: times must be finite; got {v}.")
    negative = [x for x in v if x < 0]
    if negative:
        raise InputError(f"evolve: times must be non-negative (the evolution starts at t = 0); "
                         f"got {negative[0]:g}.")
    if any(b < a for a, b in zip(v, v[1:])):
        raise InputError("evolve: times must be non-decreasing.")
    return t


def _steps(interval, dt):
    """Number of equal steps of size ≤ dt that divide ``interval`` exactly."""
    return max(1, int(math.ceil(interval / dt * (1 - 1e-12))))


def _shifted_identity(L, s):
    """I − s·L (CSR). For a CSR L that stores its diagonal once in every row (our generators) it
    is built on L's own pattern, without SciPy's identity and sparse subtraction (four CSR
    objects: 45 µs of a 45-cell step, measured) or SciPy's constructor checks (L passed them);
    the values are the same to the bit (1 + (−s·d) = 1 − s·d). Any other L goes the SciPy way."""
    data, diagonal_once = _shifted_values(L.data, L.indices, L.indptr, s)
    if not (diagonal_once and L.has_canonical_format):
        return sp.identity(L.shape[0], format="csr") - s * L
    return _csr_like(L, data)


@njit(cache=True)
def _shifted_values(data, indices, indptr, s):
    """The values of I − s·L on the CSR pattern of L (−s·L_ij, plus 1 on the diagonal), and
    whether every row stores its diagonal exactly once (else the values are not I − s·L)."""
    out = np.empty(data.size)
    once = True
    for r in range(indptr.size - 1):
        seen = 0
        for q in range(indptr[r], indptr[r + 1]):
            v = -s * data[q]
            if indices[q] == r:
                v += 1.0
                seen += 1
            out[q] = v
        once = once and seen == 1
    return out, once


@njit(cache=True)
def _trapezoid_rhs(data, indices, indptr, p, c):
    """p + c·(L p) for L in CSR form, rounded as SciPy's product and NumPy's p + c·(…) are,
    without their overheads (0.8 against 2.9 µs at 45 cells, measured; no slower at 256²)."""
    out = _csr_matvec(data, indices, indptr, p)
    for r in range(p.size):
        out[r] = p[r] + c * out[r]
    return out


@njit(cache=True)
def _bdf2_rhs(p_mid, p, a, b):
    """(p_mid − a·p) / b elementwise, rounded as NumPy's three operations are."""
    out = np.empty(p.size)
    for i in range(p.size):
        out[i] = (p_mid[i] - a * p[i]) / b
    return out


class _Implicit:
    """Cached solvers of I − c Δt L, keyed by the step size: an LU, a Jacobi-first Krylov solve,
    or (``device``: a torch device name) the same Krylov solve on that device, where the steps
    then keep their state (:mod:`fpsolve.numerics.torch_implicit`). ``iterations`` and
    ``max_residual`` count the device solves' work."""

    def __init__(self, L, scheme, ndim=None, device=None):
        self.L = L if isinstance(L, sp.csr_matrix) else sp.csr_matrix(L)
        self.ndim = ndim
        self.scheme = scheme
        self.device = device
        self.L_device = None if device is None else to_device(self.L, device)
        self.cache = {}
        self.factorisations = 0
        self.iterations = 0
        self.max_residual = 0.0

    #: factorisations kept per generator (oldest dropped first): a run with many distinct step
    #: sizes must not hold an LU for each (at 512², one is ≈ 60 MB)
    KEEP = 8

    def solver(self, dt):
        key = round(dt, 15)
        if key not in self.cache:
            c = GAMMA / 2.0 if self.scheme == "tr-bdf2" else 1.0
            if len(self.cache) >= self.KEEP:
                self.cache.pop(next(iter(self.cache)))
            A = _shifted_identity(self.L, c * dt)
            if self.device is not None:
                self.cache[key] = DeviceSolve(A, self.device)
            elif choose_solver(A.shape[0], self.ndim, "auto", reused=True) == "direct":
                # a factorisation's own solve: the steps' vectors are already contiguous float
                # arrays, which is all LinearSolver.solve would see to
                self.cache[key] = LinearSolver(A, "auto", ndim=self.ndim, reused=True).lu.solve
            else:
                self.cache[key] = _JacobiFirst(A, self.ndim)
            self.factorisations += 1
        return self.cache[key]

    def step(self, p, dt, n=1):
        """``n`` steps of size ``dt`` from ``p``."""
        solve = self.solver(dt)
        if self.device is not None:
            return self._step_on_device(solve, p, dt, n)
        if self.scheme == "backward-euler":
            for _ in range(n):
                p = solve(p)
            return p
        # TR-BDF2: trapezoid to t + γΔt, then BDF2 through t, t + γΔt, t + Δt.
        half = 0.5 * GAMMA * dt
        L = self.L
        for _ in range(n):
            p_mid = solve(_trapezoid_rhs(L.data, L.indices, L.indptr, p, half))  # p + half·L p
            p = solve(_bdf2_rhs(p_mid, p, (1.0 - GAMMA) ** 2, GAMMA * (2.0 - GAMMA)))
        return p

    def _step_on_device(self, solve, p, dt, n):
        """The same stages with the state on the device, each solve started from the latest
        state; a host array in and out."""
        def run(b, x0):
            x, its, res = solve(b, x0)
            self.iterations += its
            self.max_residual = max(self.max_residual, res)
            return x

        x = solve.vector(p)
        half = 0.5 * GAMMA * dt
        for _ in range(n):
            if self.scheme == "backward-euler":
                x = run(x, x)
                continue
            mid = run(x + half * (self.L_device @ x), x)
            x = run((mid - (1.0 - GAMMA) ** 2 * x) / (GAMMA * (2.0 - GAMMA)), mid)
        return x.cpu().numpy()


class _JacobiFirst:
    """x = A⁻¹ b for A = I − cΔt·L where the LU would not fit: BiCGStab preconditioned with the
    diagonal, started from b, within :attr:`MAXITER` iterations; otherwise (a large Δt makes A
    nearly as ill-conditioned as L) the solver ``"auto"`` chooses, built on first need and kept.

    Why: A's diagonal 1 + cΔt|L_kk| dominates it, so a handful of Jacobi-BiCGStab iterations
    solve it, where an algebraic multigrid pays its set-up and a V-cycle per iteration (48³,
    32 TR-BDF2 steps: 0.36 s against 7.8 s, ``benchmarks/bench_implicit.py``). It stops at
    ‖b − A x‖ ≤ max(1e-12‖b‖, 100ε‖A‖∞‖b‖), the attainable residual of
    :class:`~fpsolve.numerics.linalg.LinearSolver` with ‖b‖ for ‖x‖ (equal to a few per cent
    over a time step)."""

    MAXITER = 60

    def __init__(self, A, ndim):
        self.A, self.ndim = A, ndim
        self.inv_diag = 1.0 / A.diagonal()
        # relative to ‖b‖: 1e-12, or the attainable 100ε‖A‖∞ (see below) if that is larger
        self.rtol = max(1e-12, 100.0 * np.finfo(float).eps * float(abs(A).sum(axis=1).max()))
        self.fallback = None
        self.iterations = 0

    def __call__(self, b):
        if self.fallback is None:
            try:
                x, its, _ = bicgstab(self.A, b, b, self.inv_diag, rtol=self.rtol,
                                     maxiter=self.MAXITER)
                self.iterations += its
                return x
            except SolverError:
                self.fallback = LinearSolver(self.A, "auto", ndim=self.ndim, reused=True).solve
        return self.fallback(b)


def explicit_limit(L) -> float:
    """Largest forward-Euler step that keeps I + Δt L non-negative (hence stable in ℓ¹)."""
    return 1.0 / float(np.max(np.abs(L.diagonal())))


def evolve(generator_at, p0, times, method="implicit", scheme="tr-bdf2", dt=None,
           breakpoints=(), piecewise_constant=True, steppers=None, ndim=None,
           log_weights_at=None, device=None):
    """Integrate dp/dt = L(t) p from p(0) = p0 and return the states at ``times``.

    generator_at(t) → (key, L): the generator at time t and a hashable key identifying it, so
    that equal generators share factorisations. A fixed matrix may be passed instead. The time
    axis is cut at every output time and every breakpoint; with ``piecewise_constant`` the
    generator is taken once per piece, otherwise at each step's midpoint.

    ``ndim``: the grid's dimension (chooses the linear solver). ``steppers``: a dict that keeps
    the implicit solvers (and their factorisations) between calls, keyed by (generator key,
    scheme, device); the caller owns it (FokkerPlanck keeps one per model, so a second
    ``evolve`` with the same Δt does not refactorise). ``log_weights_at(t)``: ψ with L(t) e^ψ = 0 in detailed
    balance, or None (method "expm" only: it chooses the Lanczos exponential). ``device``: a
    torch device for the implicit solves (:mod:`fpsolve.numerics.torch_implicit`), or None.

    Returns (list of arrays, stats dict with steps, factorisations (new in this call),
    assemblies, dt used, and for "expm" ``extra``: the exponential's method, Krylov steps and
    largest error estimate).
    """
    if method not in METHODS:
        raise InputError(f"evolve: method {method!r} is unknown; choose one of {METHODS}.")
    if method == "implicit" and scheme not in SCHEMES:
        raise InputError(f"evolve: scheme {scheme!r} is unknown; choose one of {SCHEMES}.")
    t = check_times(times)
    if dt is not None and not (np.isfinite(dt) and dt > 0):
        raise InputError(f"evolve: dt must be a positive number; got {dt!r}.")
    if device is not None:
        if method != "implicit":
            raise InputError(f"evolve: device={device!r} runs the implicit schemes only; got "
                             f"method={method!r}.")
        device = str(resolve_device(device))  # before any work: torch and the device exist
    if not callable(generator_at):
        fixed = generator_at
        generator_at = lambda _t: (None, fixed)  # noqa: E731
    bp = np.asarray([b for b in np.atleast_1d(breakpoints) if 0 < b < t[-1]], dtype=float)
    # the distinct times that cut the axis, ascending (a set of floats: np.unique costs 4 µs)
    cuts = sorted({0.0, *t.tolist(), *bp.tolist()})
    if dt is None and method == "implicit":
        dt = max(t[-1], 1e-300) / 200.0
    steppers = {} if steppers is None else steppers
    stats = {"steps": 0, "factorisations": 0, "assemblies": 0}
    cache = {}

    def op(time):
        key, L = generator_at(time)
        if key is None or key not in cache:
            stats["assemblies"] += 1
            cache[key] = L
        return key, cache[key]

    exponentials = {}  # one prepared e^{tL} per generator (symmetrised and checked once)

    def advance(p, key, L, h, n, time):
        if method == "expm":
            if key is None or key not in exponentials:
                psi = log_weights_at(time) if log_weights_at is not None else None
                exponentials[key] = Exponential(L, psi)
            p, info = exponentials[key](p, h * n)
            extra = stats.setdefault("extra", {"expm": info["method"], "krylov_steps": 0,
                                               "error_estimate": 0.0})
            extra["krylov_steps"] += info.get("krylov_steps", 0)
            extra["error_estimate"] = max(extra["error_estimate"], info.get("error_estimate", 0.0))
            return p
        if method == "explicit":
            limit = explicit_limit(L)
            step = 0.9 * limit if dt is None else dt
            if step > limit * (1 + 1e-12):
                raise InputError(f"evolve(method='explicit'): dt={step:.3g} exceeds the stability "
                                 f"and positivity limit 1/max|L_kk| = {limit:.3g}; use a smaller "
                                 f"dt or method='implicit'.")
            m = _steps(h * n, step)
            Lc = sp.csr_matrix(L)
            stats["steps"] += m
            return explicit_euler(Lc.data, Lc.indices, Lc.indptr, p, h * n / m, m)
        if (key, scheme, device) not in steppers:
            if len(steppers) >= _Implicit.KEEP:  # a long schedule: drop the oldest generator
                steppers.pop(next(iter(steppers)))
            steppers[key, scheme, device] = _Implicit(L, scheme, ndim, device)
        stepper = steppers[key, scheme, device]
        f0 = stepper.factorisations
        i0 = stepper.iterations
        p = stepper.step(p, h, n)
        stats["factorisations"] += stepper.factorisations - f0
        stats["steps"] += n
        if device is not None:
            extra = stats.setdefault("extra", {"device": device, "krylov_iterations": 0,
                                               "max_relative_residual": 0.0})
            extra["krylov_iterations"] += stepper.iterations - i0
            extra["max_relative_residual"] = max(extra["max_relative_residual"],
                                                 stepper.max_residual)
        return p

    out = []
    p = np.asarray(p0, dtype=float).copy()
    t_now = 0.0
    out_iter = iter(t)
    t_next_out = next(out_iter)
    while t_now == t_next_out:  # outputs at t = 0
        out.append(p.copy())
        t_next_out = next(out_iter, None)
        if t_next_out is None:
            break
    for a, b in zip(cuts[:-1], cuts[1:]):
        span = b - a
        if method == "expm" or (method == "explicit" and piecewise_constant):
            n, h = 1, span
        else:
            n = _steps(span, dt if dt is not None else span)
            h = span / n
        if piecewise_constant or method == "expm":
            key, L = op(0.5 * (a + b))
            p = advance(p, key, L, h, n, 0.5 * (a + b))
        else:
            for i in range(n):
                key, L = op(a + (i + 0.5) * h)
                p = advance(p, key, L, h, 1, a + (i + 0.5) * h)
        t_now = b
        while t_next_out is not None and t_next_out <= t_now:
            out.append(p.copy())
            t_next_out = next(out_iter, None)
    stats["dt"] = dt
    return out, stats
