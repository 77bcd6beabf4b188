"""Euler–Maruyama for the SDE of a Fokker–Planck model, and first-passage times.

The scheme (Itô, :doc:`/theory/conventions`), one step of size h from (X, t):

    X ← X + b(X, t) h + L ξ,   L Lᵀ = 2 D(X, t) h,   ξ ~ N(0, I),

with b = ``model.coefficients.drift`` (which already contains the α∇D correction of a Stratonovich
or isothermal model, so the particles sample the same Fokker–Planck equation as the PDE) and D =
``model.coefficients.diffusion`` (scalar now; an (n, d, d) tensor is handled by Cholesky). Then
walls and targets (``particles/domain.py``). Weak order 1 in h (bias O(h) in expectations), strong order ½.

Each interval between output times is split into equal steps no longer than ``dt``, so that the
outputs are exact step ends.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from ..errors import InputError, SolverError
from . import routes as coef
from . import stability
from .domain import ALIVE, HIT_TARGET, HIT_WALL, Domain
from .initial import initial_positions
from .kernels import (compiled_kernel, em_step_scalar, em_step_scalar_serial, em_step_tensor,
                      em_step_tensor_serial, poly_kernel_1d)
from .progress import particle_progress
from .results import FirstPassageResult, SimulationResult
from .stepping import steps_for
from .rng import stream_states

BACKENDS = ("numba", "torch")
#: ``compiled="auto"`` compiles plain Python coefficients when the numpy route would take longer
#: than this (s): compiling a new kernel costs 2–6 s on the shared 2-core machine (measured)
AUTO_JIT_SECONDS = 3.0


def numpy_route_seconds(n, steps):
    """Rough time of the numpy route: ~50 µs of Python per step plus ~200 ns per particle-step
    (measured on the shared 2-core machine, README double well with lambdas: 2.8·10⁶
    particle-steps/s at 2·10⁵ particles, 1–2·10⁷ at 2·10⁴; the issue's report: 1.4·10⁶)."""
    return steps * (5e-5 + n * 2e-7)
_SAID = set()


def _say_once(why):
    """One warning per distinct reason why the coefficients run on the numpy route."""
    if why in _SAID:
        return
    _SAID.add(why)
    warnings.warn(f"particles: the coefficients run on the numpy route (≈ 30× slower than "
                  f"compiled) because {why}. Write them as numpy/math expressions of the "
                  f"coordinates (they are then compiled automatically), or decorate them "
                  f"with @numba.njit.", RuntimeWarning, stacklevel=4)
DEFAULT_CHUNK = 1024
# work per kernel call of the compiled route: bounds the progress-update latency
_WORK_PER_CALL = 2e7
# numpy route: below this many coordinates a step runs on one thread. The numpy evaluation of the
# coefficients is single-threaded anyway, and a parallel launch per step costs ~10 µs idle but
# milliseconds on an oversubscribed machine (OpenMP threads spin-wait between launches).
_SERIAL_BELOW = 1 << 17


def _check_common(model, n, dt, backend):
    if not hasattr(model, "grid") or not hasattr(model, "coefficients"):
        raise InputError("particles: model must be a FokkerPlanck (or provide grid, boundary "
                         "and coefficients: an fpsolve.coefficients.Coefficients).")
    if backend not in BACKENDS:
        raise InputError(f"particles: backend {backend!r} is unknown; choose one of {BACKENDS}.")
    if not (np.isfinite(dt) and dt > 0):
        raise InputError(f"particles: dt must be a positive number; got {dt}.")
    if n is not None and int(n) < 1:
        raise InputError(f"particles: n must be at least 1; got {n}.")


def _output_times(times, t_end):
    if times is None:
        t_end = 1.0 if t_end is None else t_end
        if not (np.isfinite(t_end) and t_end >= 0):
            raise InputError(f"particles: t_end must be a finite number ≥ 0; got {t_end}.")
        return np.array([float(t_end)])
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if (t.ndim != 1 or len(t) == 0 or not np.all(np.isfinite(t)) or t[0] < 0
            or np.any(np.diff(t) <= 0)):
        raise InputError("particles: times must be a non-empty increasing sequence of finite "
                         "times ≥ 0.")
    if t_end is not None and t[-1] > t_end * (1 + 1e-12):
        raise InputError(f"particles: the last output time {t[-1]:g} exceeds t_end = {t_end:g}.")
    return t


class _NumbaRun:
    """Particles in play (compacted), their random streams, and removals so far."""

    def __init__(self, model, domain, X, seed, chunk, compiled, t_span, steps=None):
        self.model = model
        self.domain = domain
        self.X = np.ascontiguousarray(X, dtype=float)
        self.ids = np.arange(len(X))
        self.chunk = int(chunk)
        self.states = stream_states(seed, -(-len(X) // self.chunk), key=(1,))
        self.removed = []  # (ids, times, points, status)
        self.kappa = 0.0  # the drift's stiffness bound (stability.check_step), for messages
        self.spec = None
        self.route = "vectorised"
        self.kernel = None
        if compiled not in ("auto", True, False):
            raise InputError(f"particles: compiled must be 'auto', True or False; got "
                             f"{compiled!r}.")
        if compiled is not False:
            # plain Python coefficients are compiled when the run is long enough to repay the
            # compilation (≈ 1–3 s for a new kernel; the numpy route does ~1.4·10⁶ steps/s)
            long_run = steps is None or numpy_route_seconds(len(X), steps) >= AUTO_JIT_SECONDS
            spec, why = coef.compiled_spec(model, auto=compiled is True or long_run)
            ts = (t_span[0], 0.5 * (t_span[0] + t_span[1]), t_span[1])
            if spec is not None and not spec.matches(model, self.X[:16], ts):
                spec, why = None, ("the compiled coefficients differ from the model's "
                                   "pointwise drift or diffusion")
            if spec is None and compiled is True:
                raise InputError(f"particles: compiled=True but {why}. Write the coefficients as "
                                 f"@numba.njit functions of the coordinates, or use "
                                 f"compiled='auto' to evaluate them with numpy.")
            if spec is None and long_run:
                _say_once(why)
            if spec is not None and spec.polynomial is not None and not domain.mask_jitted:
                self.spec = spec
                self.route = "compiled"
                self.kernel = self._polynomial_kernel
            elif spec is not None:
                self.spec = spec
                self.route = "compiled"
                self.kernel = compiled_kernel(
                    spec.ndim, potential=spec.potential, gradient=spec.gradient,
                    drift=spec.drift, diffusion=spec.diffusion_fn, alpha=spec.alpha,
                    mask=domain.mask if domain.mask_jitted else None)

    def _polynomial_kernel(self, X, status, hit, k0, m, h, svals, states, chunk, lo, hi, kinds,
                           box, Lc):
        poly_kernel_1d(X, status, hit, k0, m, h, svals, states, chunk, lo, hi, kinds, box,
                       float(Lc[0, 0]), self.spec.polynomial)

    @property
    def n_alive(self):
        return len(self.X)

    def remove_initial_hits(self, t):
        if self.domain.box is None and self.domain.mask is None:
            return
        hit = self.domain.in_target(self.X)
        if np.any(hit):
            st = np.where(hit, HIT_TARGET, ALIVE).astype(np.int8)
            self._compact(st, np.full(len(self.X), t))

    def _compact(self, status, when):
        dead = status != ALIVE
        if not np.any(dead):
            return
        if np.any(status == 3):
            i = np.flatnonzero(status == 3)[0]
            raise SolverError(f"particles: the diffusion is negative or not finite at "
                              f"x = {self.X[i].tolist()}; D must be ≥ 0 where particles go.")
        self.removed.append((self.ids[dead], when[dead], self.X[dead].copy(), status[dead]))
        keep = ~dead
        self.X = np.ascontiguousarray(self.X[keep])
        self.ids = self.ids[keep]

    def advance(self, nsteps, h, t0, progress=None, done=0):
        """nsteps steps of size h from time t0; returns the number of particle-steps done."""
        if nsteps == 0 or self.n_alive == 0:
            return 0
        d = self.domain
        box = d.box_array
        work = 0
        if self.route == "compiled":
            Lc = self.spec.noise_matrix(h)
            python_mask = d.mask is not None and not d.mask_jitted
            # a Python mask is checked by numpy after every step
            per_call = 1 if python_mask else max(1, min(nsteps, int(_WORK_PER_CALL / self.n_alive)))
            k = 0
            while k < nsteps and self.n_alive:
                m = min(per_call, nsteps - k)
                status = np.zeros(self.n_alive, np.int8)
                hit = np.zeros(self.n_alive, np.int64)
                svals = self.spec.schedule_values(t0 + k * h, h, m)
                self.kernel(self.X, status, hit, 0, m, h, svals, self.states, self.chunk, d.lo,
                            d.hi, d.kinds, box, Lc)
                stability.check_finite(self.X, t0 + (k + m) * h, h, self.kappa)
                work += self.n_alive * m
                if python_mask:
                    alive = status == ALIVE
                    inside = d.in_target(self.X) & alive
                    status[inside] = HIT_TARGET
                    hit[inside] = m
                self._compact(status, t0 + (k + hit) * h)
                k += m
                if progress is not None:
                    progress.advance_to(done + work)
            return work
        for k in range(nsteps):
            if not self.n_alive:
                break
            t = t0 + k * h
            b = coef.evaluate_drift(self.model, self.X, t)
            kind, fac = coef.noise_factor(self.model.coefficients.diffusion(self.X, t), self.n_alive,
                                          d.ndim, h)
            status = np.zeros(self.n_alive, np.int8)
            if self.n_alive * d.ndim < _SERIAL_BELOW:
                step = em_step_scalar_serial if kind == "scalar" else em_step_tensor_serial
            else:
                step = em_step_scalar if kind == "scalar" else em_step_tensor
            step(self.X, b, fac, h, self.states, self.chunk, d.lo, d.hi, d.kinds, box, status)
            stability.check_finite(self.X, t + h, h, self.kappa)
            if d.mask is not None:
                alive = status == ALIVE
                status[d.in_target(self.X) & alive] = HIT_TARGET
            work += self.n_alive
            self._compact(status, np.full(self.n_alive, t + h))
            if progress is not None:
                progress.advance_to(done + work)
        return work

    def removed_arrays(self):
        if not self.removed:
            e = np.zeros(0)
            return (np.zeros(0, int), e, np.zeros((0, self.domain.ndim)), np.zeros(0, np.int8))
        ids, when, pts, st = (np.concatenate(a) for a in zip(*self.removed))
        order = np.argsort(ids, kind="stable")
        return ids[order], when[order], pts[order], st[order]


def _initial(model, x0, n, seed, domain):
    if seed is None:
        rng = np.random.default_rng()
    else:  # child (0,) of the seed's sequence, derived without spawning from (mutating) it
        ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        rng = np.random.default_rng(np.random.SeedSequence(
            ss.entropy, spawn_key=tuple(ss.spawn_key) + (0,), pool_size=ss.pool_size))
    X = initial_positions(x0, n, model, rng)
    return domain.check_inside(X)


def simulate(model, x0, n=None, dt=1e-3, t_end=None, times=None, backend="numba", device=None,
             dtype=None, seed=None, target=None, chunk=None, compiled="auto", progress=None,
             fuse=None):
    """Euler–Maruyama particles for the SDE of ``model``; positions at the output times.

    Parameters
    ----------
    model : FokkerPlanck (or an object with ``grid``, ``boundary`` and ``coefficients``, an
        :class:`fpsolve.coefficients.Coefficients`: what the particles read of a model).
    x0 : a point (d,), an array of points (n, d), or a Density to sample n points from (a cell by
        probability, then uniformly within the cell).
    n : number of particles (None: len(x0) for an array of points).
    dt : largest step (units of t; for SGD t = k·η). Each output interval is split into equal
        steps ≤ dt. Bias O(dt) in expectations (weak order 1).
    t_end : final time (default: the last of ``times``, else 1.0); ``times`` : output times in
        [0, t_end] (default: t_end only; the run stops
        at the last output time).
    backend : "numba" (parallel over particles, CPU) or "torch" (CPU or CUDA tensors;
        ``device``/``dtype``, default "cpu"/float64; see :mod:`.torch_backend`).
    seed : None, int or SeedSequence. Same seed and chunk size → identical results (numba: any
        number of threads).
    target : optional absorbing target (box [(lo, hi), …] or callable mask): particles that
        reach it are removed (recorded in ``removed_times``/``removed_points``).
    chunk : particles per random stream (numba, default 1024) or per batch (torch).
    compiled : "auto" (compile @njit coefficients into the kernel when the model allows it),
        True (require it), False (always evaluate model.coefficients.drift/diffusion with numpy).
    progress : True/False, or None for a progress line on an interactive stderr in long runs.
    fuse : torch only — steps traced into one torch.compile'd kernel (default 8 on CUDA, none
        on CPU; 1 = eager).

    Returns
    -------
    SimulationResult with ``times``, ``positions`` (list of (n_alive, d)), ``alive``,
    ``histogram(t_index)`` (Density on model.grid), ``mean``, ``cov``.
    """
    _check_common(model, n, dt, backend)
    out_t = _output_times(times, t_end)
    domain = Domain(model, target)
    X = _initial(model, x0, n, seed, domain)
    kappa = stability.check_step(model, float(dt))
    if backend == "torch":
        from .torch_backend import simulate_torch
        return simulate_torch(model, domain, X, out_t, float(dt), seed, device, dtype, chunk,
                              progress, fuse)
    t_start = time.perf_counter()
    n_steps = sum(steps_for(b - a, dt) for a, b in zip(np.r_[0.0, out_t[:-1]], out_t))
    total = len(X) * n_steps
    run = _NumbaRun(model, domain, X, seed, chunk or DEFAULT_CHUNK, compiled, (0.0, out_t[-1]),
                    steps=n_steps)
    run.kappa = kappa
    run.remove_initial_hits(0.0)
    bar = particle_progress(total, progress)
    positions, alive = [], []
    t, done, steps = 0.0, 0, 0
    for T in out_t:
        m = steps_for(T - t, dt)
        if m:
            done += run.advance(m, (T - t) / m, t, bar, done)
            steps += m
        t = T
        positions.append(run.X.copy())
        alive.append(run.n_alive)
    bar.close()
    ids, when, pts, st = run.removed_arrays()
    return SimulationResult(
        times=out_t, positions=positions, alive=np.asarray(alive), n=len(X), dt=float(dt),
        steps=steps, grid=model.grid, backend="numba", route=run.route, seed=seed,
        removed_times=when, removed_points=pts, wall_time=time.perf_counter() - t_start,
        info={"particle_steps": done, "removed_status": st, "removed_ids": ids,
              "chunk": run.chunk})


def first_passage(model, x0, target, n=None, dt=1e-3, t_max=np.inf, backend="numba",
                  device=None, dtype=None, seed=None, chunk=None, compiled="auto",
                  progress=None, fuse=None):
    """First-passage times of the model's SDE into ``target``.

    target : a box [(lo, hi), …] (closed; ±inf for half-spaces) or a callable mask
        target(x₁, …, x_d) → bool array (a Numba-jitted mask is compiled into the kernel).
    t_max : give up at this time (finite); particles still out are ``censored``.

    Other arguments as in :func:`simulate`. A particle is counted at the first step end that
    lies in the target (τ = k·dt, starting points inside give τ = 0); discrete monitoring
    overestimates τ by O(sqrt(dt)) — :func:`fpsolve.compare.monitoring_shift`.

    Returns a FirstPassageResult: ``times``, ``mean``, ``stderr``, ``censored``, ``cdf(t)``,
    ``exit_points``.
    """
    _check_common(model, n, dt, backend)
    if target is None:
        raise InputError("first_passage: give a target (a box [(lo, hi), …] or a callable mask).")
    if not (np.isfinite(t_max) and t_max > 0):
        raise InputError(f"first_passage: t_max must be a finite positive time; got {t_max}.")
    domain = Domain(model, target)
    X = _initial(model, x0, n, seed, domain)
    kappa = stability.check_step(model, float(dt))
    nsteps = max(1, int(math.floor(t_max / dt * (1 + 1e-12))))
    if backend == "torch":
        from .torch_backend import first_passage_torch
        return first_passage_torch(model, domain, X, float(dt), nsteps, seed, device, dtype,
                                   chunk, progress, fuse)
    t_start = time.perf_counter()
    run = _NumbaRun(model, domain, X, seed, chunk or DEFAULT_CHUNK, compiled, (0.0, nsteps * dt),
                    steps=nsteps)
    run.kappa = kappa
    run.remove_initial_hits(0.0)
    bar = particle_progress(len(X) * nsteps, progress)
    done = run.advance(nsteps, float(dt), 0.0, bar, 0)
    bar.close()
    ids, when, pts, st = run.removed_arrays()
    hit = st == HIT_TARGET
    return FirstPassageResult(
        times=when[hit], exit_points=pts[hit], n=len(X), censored=run.n_alive,
        t_max=nsteps * dt, dt=float(dt), backend="numba", route=run.route,
        absorbed=int(np.sum(st == HIT_WALL)), seed=seed,
        wall_time=time.perf_counter() - t_start, info={"particle_steps": done, "ids": ids[hit]})
