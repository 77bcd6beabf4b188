"""Particles of underdamped Langevin dynamics (BAOAB) and real heavy-ball SGD chains.

* :func:`simulate` — BAOAB particles of dX = V dt, dV = −γV dt − ∇U dt + sqrt(2γT) dW
  (:mod:`fpsolve.kinetic.kernels`; weak order 2) for a 1D
  :class:`~fpsolve.kinetic.model.Langevin` model or a :class:`KineticSDE` in any dimension;
  positions and velocities at recorded times, first passage of the position into a box of
  positions.
* :func:`heavy_ball` — the actual recursion v ← βv − η ĝ, θ ← θ + v with mini-batch gradients
  of a finite dataset; times reported both as iterations k and as t = k√η
  (:mod:`fpsolve.kinetic.mapping`).

Compare either with the PDE through :mod:`fpsolve.compare` (``moments``, ``histogram_l1``,
``first_passage_mean``): results expose ``positions`` (a list of (n, d) arrays) and
first-passage results ``times``/``censored``.

Fast paths (compiled once, cached on disk): a 1D polynomial potential (the potentials of
:mod:`fpsolve.particles.potentials` carry ``coefficients``) with T(x) given as a table (linear
interpolation between nodes). In d dimensions a jitted ``gradient(x, out)`` is compiled into a
kernel per process. Anything else runs vectorised in numpy (:func:`simulate` with a plain Python
force: same algorithm, slower).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numba.core.registry import CPUDispatcher

from ..errors import InputError
from ..particles.rng import stream_states
from . import kernels, mapping

CHUNK = 256
#: nodes of the T(x) table when T is a callable (linear interpolation; error ~ (Δx)²T″/8)
TABLE_NODES = 4097


@dataclass
class KineticSDE:
    """dX = V dt, dV = −γV dt − ∇U(X) dt + sqrt(2γ T) dW in ``dim`` dimensions.

    gradient : jitted ``gradient(x, out)`` writing ∇U(x) into out (both float64[dim]) — or, for
        the numpy route, a plain callable X (n, dim) → ∇U (n, dim).
    friction : γ > 0. temperature : a positive number, an SPD (dim, dim) matrix (anisotropic
        noise: T is the stationary covariance of V), or a jitted scalar function T(x).
    """

    dim: int
    gradient: object
    friction: float
    temperature: object = 1.0

    def __post_init__(self):
        if not (isinstance(self.dim, (int, np.integer)) and self.dim >= 1):
            raise InputError(f"KineticSDE: dim must be a positive integer; got {self.dim!r}.")
        if not (np.isfinite(self.friction) and self.friction > 0):
            raise InputError(f"KineticSDE: friction must be positive; got {self.friction!r}.")
        T = self.temperature
        if not callable(T):
            Tm = np.asarray(T, dtype=float)
            if Tm.ndim == 0:
                if not (np.isfinite(Tm) and Tm > 0):
                    raise InputError(f"KineticSDE: temperature must be positive; got {T!r}.")
            elif Tm.shape != (self.dim, self.dim) or not np.allclose(Tm, Tm.T):
                raise InputError(f"KineticSDE: a temperature matrix must be symmetric "
                                 f"({self.dim}, {self.dim}); got shape {Tm.shape}.")
            else:
                try:
                    np.linalg.cholesky(Tm)
                except np.linalg.LinAlgError:
                    raise InputError("KineticSDE: the temperature matrix must be positive "
                                     "definite.") from None


@dataclass
class KineticParticles:
    """Positions and velocities at the recorded times.

    times : (m,) times (units t). positions, velocities : lists of m arrays (n, d) (all
    particles; those that reached the target are frozen where they entered it). hit_times : (n,)
    first-passage times (NaN: not reached). steps, dt : the step count and size; route: "poly",
    "compiled" or "numpy".
    """

    times: np.ndarray
    positions: list
    velocities: list
    hit_times: np.ndarray
    n: int
    dt: float
    steps: int
    route: str
    seed: object = None
    wall_time: float = 0.0
    info: dict = field(default_factory=dict)

    def phase_points(self, t_index=-1):
        """(n, 2) points (x, v) of a 1D run, for histograms on a phase-space grid."""
        X, V = self.positions[t_index], self.velocities[t_index]
        if X.shape[1] != 1:
            raise InputError("phase_points: only for a one-dimensional position.")
        return np.column_stack([X[:, 0], V[:, 0]])

    def first_passage(self) -> "FirstPassageTimes":
        """The first-passage times of the run (censored at the last time)."""
        return FirstPassageTimes.from_hits(self.hit_times, float(self.times[-1]))


@dataclass
class FirstPassageTimes:
    """First-passage times (units t) of the particles that arrived; ``censored``: how many had
    not by ``t_max`` (a censored mean is biased low). ``mean``/``stderr`` of the arrived ones."""

    times: np.ndarray
    censored: int
    n: int
    t_max: float

    @classmethod
    def from_hits(cls, hit_times, t_max):
        h = np.asarray(hit_times, dtype=float)
        return cls(times=h[np.isfinite(h)], censored=int(np.sum(~np.isfinite(h))), n=h.size,
                   t_max=t_max)

    @property
    def mean(self):
        return float(self.times.mean())

    @property
    def stderr(self):
        return float(self.times.std(ddof=1) / np.sqrt(self.times.size))


# -- set-up helpers --------------------------------------------------------------------------
def _steps(dt, t_end, record):
    if not (np.isfinite(dt) and dt > 0):
        raise InputError(f"simulate: dt must be positive; got {dt!r}.")
    if not (np.isfinite(t_end) and t_end > 0):
        raise InputError(f"simulate: t_end must be positive; got {t_end!r}.")
    n_steps = int(np.ceil(t_end / dt - 1e-9))
    h = t_end / n_steps
    rec = np.array([n_steps]) if record is None else np.unique(
        np.clip(np.round(np.asarray(record, float) / h).astype(np.int64), 0, n_steps))
    return n_steps, h, rec


def _points(val, n, d, what):
    a = np.asarray(val, dtype=float)
    if a.ndim == 0:
        return np.full((n, d), float(a))
    if a.shape == (d,):
        return np.tile(a, (n, 1))
    if a.shape == (n,) and d == 1:
        return a[:, None].copy()
    if a.shape == (n, d):
        return a.copy()
    raise InputError(f"simulate: {what} must be a number, a point ({d},) or an array ({n}, {d}); "
                     f"got shape {a.shape}.")


def _target_box(target, d):
    if target is None:
        return np.full(d, 1.0), np.full(d, -1.0)   # empty box
    box = [target] if d == 1 and len(target) == 2 and np.ndim(target[0]) == 0 else list(target)
    if len(box) != d or any(len(iv) != 2 for iv in box):
        raise InputError(f"simulate: target must be a box of positions, one (lo, hi) per "
                         f"dimension ({d}); got {target!r}. The velocity is free.")
    lo = np.array([-np.inf if iv[0] is None else float(iv[0]) for iv in box])
    hi = np.array([np.inf if iv[1] is None else float(iv[1]) for iv in box])
    return lo, hi


def _temperature_table(model):
    """(t0, dx, table) of T on the x cells of a Langevin model, or a fine table of T(x)."""
    T = model.temperature
    if model.constant_T:
        return 0.0, 1.0, np.array([float(model.T_cells[0])])
    lo, hi = model.grid.bounds[0]
    if callable(T):
        x = np.linspace(lo, hi, TABLE_NODES)
        return float(lo), float(x[1] - x[0]), np.asarray(model.temperature_at(x), float)
    x = model.grid.axes[0]
    return float(x[0]), float(model.grid.h[0]), np.asarray(model.T_cells, float)


# -- simulate ----------------------------------------------------------------------------------
def simulate(model, x0, v0="gibbs", n=None, dt=1e-2, t_end=1.0, record=None, target=None,
             seed=None, chunk=CHUNK):
    """BAOAB particles of the underdamped Langevin SDE of ``model``.

    model : a :class:`~fpsolve.kinetic.model.Langevin` (1D position) or a
        :class:`KineticSDE` (any dimension).
    x0 : a number, a point (d,) or an array (n, d); v0 : the same, or "gibbs" (Maxwellian at
        T(x0), the default). n : particles (default len(x0)).
    dt : step (units t; weak error O(dt²)); t_end : final time; record : times to store (default
        t_end; rounded to the step grid). target : a box of positions [(lo, hi), …] (1D: (lo, hi));
        particles stop when X enters it (velocity free) and their hit times are recorded.
    seed : None, int or SeedSequence; same seed and chunk → same result on any number of threads.

    Returns :class:`KineticParticles`.
    """
    d = model.dim if isinstance(model, KineticSDE) else 1
    if n is None:
        a = np.asarray(x0, dtype=float)
        n = len(a) if a.ndim >= 1 and a.shape != (d,) else None
    if n is None or int(n) < 1:
        raise InputError("simulate: give n, the number of particles (or x0 as an array).")
    n = int(n)
    n_steps, h, rec = _steps(dt, t_end, record)
    X = np.ascontiguousarray(_points(x0, n, d, "x0"))
    gamma = float(model.friction)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    if isinstance(v0, str):
        if v0 != "gibbs":
            raise InputError(f"simulate: v0 must be a number, an array or 'gibbs'; got {v0!r}.")
        V = _maxwellian(model, X, np.random.default_rng(ss.spawn(1)[0]))
    else:
        V = np.ascontiguousarray(_points(v0, n, d, "v0"))
    tlo, thi = _target_box(target, d)
    states = stream_states(ss, -(-n // chunk), key=(17,))
    status = np.zeros(n, dtype=np.int64)
    hit = np.full(n, -1, dtype=np.int64)
    c1 = float(np.exp(-gamma * h))
    step, route = _stepper(model, d, X, h, c1, states, chunk, tlo, thi)
    t0 = time.perf_counter()
    pos, vel, k = [], [], 0
    for r in rec:
        if r > k:
            step(X, V, status, hit, k, int(r - k))
            k = int(r)
        pos.append(X.copy())
        vel.append(V.copy())
    hit_t = np.where(hit >= 0, hit * h, np.nan)
    return KineticParticles(times=rec * h, positions=pos, velocities=vel, hit_times=hit_t, n=n,
                            dt=h, steps=int(rec[-1]), route=route, seed=seed,
                            wall_time=time.perf_counter() - t0)


def first_passage(model, target, x0, v0="gibbs", n=10_000, dt=1e-2, t_max=100.0, seed=None,
                  chunk=CHUNK) -> FirstPassageTimes:
    """First-passage times of the position into ``target`` (a box of positions), censored at
    ``t_max``; see :func:`simulate` for the arguments."""
    run = simulate(model, x0, v0, n=n, dt=dt, t_end=t_max, target=target, seed=seed, chunk=chunk)
    return run.first_passage()


def _maxwellian(model, X, rng):
    n, d = X.shape
    if isinstance(model, KineticSDE):
        T = model.temperature
        if callable(T):
            Tx = np.array([T(x) for x in X])
            return rng.standard_normal((n, d)) * np.sqrt(Tx)[:, None]
        Tm = np.asarray(T, float)
        if Tm.ndim == 0:
            return rng.standard_normal((n, d)) * np.sqrt(Tm)
        return rng.standard_normal((n, d)) @ np.linalg.cholesky(Tm).T
    return rng.standard_normal((n, 1)) * np.sqrt(model.temperature_at(X[:, 0]))[:, None]


def _stepper(model, d, X, h, c1, states, chunk, tlo, thi):
    """The step function step(X, V, status, hit, k0, nsteps) for this model, and its route."""
    if not isinstance(model, KineticSDE):
        coef = getattr(model.potential, "coefficients", None)
        t0, tdx, tab = _temperature_table(model)
        if coef is not None:
            dcoef = np.ascontiguousarray(np.asarray(coef, float)[1:] * np.arange(1, len(coef)))
            if dcoef.size == 0:
                dcoef = np.zeros(1)
            F = -np.polyval(dcoef[::-1], X[:, 0])

            def step(X, V, status, hit, k0, nsteps):
                xv, vv = X[:, 0].copy(), V[:, 0].copy()
                kernels.baoab_poly_1d(xv, vv, F, status, hit, k0, nsteps, h, c1, states, chunk,
                                      dcoef, t0, tdx, tab, tlo[0], thi[0])
                X[:, 0], V[:, 0] = xv, vv
            return step, "poly"
        return _numpy_stepper(lambda Y: model.force_at(Y), lambda Y: model.temperature_at(Y[:, 0]),
                              X, h, c1, tlo, thi, states), "numpy"
    grad, T = model.gradient, model.temperature
    if isinstance(grad, CPUDispatcher):
        tfn = T if callable(T) else None
        Lc = np.eye(d) if callable(T) else np.linalg.cholesky(np.asarray(T, float) * np.eye(d)
                                                              if np.ndim(T) == 0
                                                              else np.asarray(T, float))
        kern = kernels.compiled_kernel(d, grad, tfn)
        F = np.empty_like(X)
        g = np.empty(d)
        for i in range(len(X)):
            grad(X[i], g)
            F[i] = -g

        def step(X, V, status, hit, k0, nsteps):
            kern(X, V, F, status, hit, k0, nsteps, h, c1, states, chunk, Lc, tlo, thi)
        return step, "compiled"
    if callable(T):
        raise InputError("simulate: a callable temperature needs a jitted gradient(x, out) "
                         "(numba route).")
    Tm = np.asarray(T, float)
    Lc = np.sqrt(Tm) * np.eye(d) if Tm.ndim == 0 else np.linalg.cholesky(Tm)
    return _numpy_stepper(lambda Y: -np.asarray(grad(Y), float).reshape(Y.shape), None, X, h, c1,
                          tlo, thi, states, Lc), "numpy"


def _numpy_stepper(force, temp, X, h, c1, tlo, thi, states, Lc=None):
    """BAOAB vectorised over the particles with numpy (any Python force)."""
    rng = np.random.default_rng(np.random.SeedSequence(states[0].tolist()))
    F = force(X)
    sq = np.sqrt(1 - c1 * c1)

    def step(X, V, status, hit, k0, nsteps):
        for k in range(nsteps):
            run = status == 0
            if not run.any():
                return
            Xr, Vr, Fr = X[run], V[run], F[run]
            Vr = Vr + 0.5 * h * Fr
            Xr = Xr + 0.5 * h * Vr
            z = rng.standard_normal(Xr.shape)
            if temp is not None:
                Vr = c1 * Vr + sq * np.sqrt(temp(Xr))[:, None] * z
            else:
                Vr = c1 * Vr + sq * z @ Lc.T
            Xr = Xr + 0.5 * h * Vr
            Fr = force(Xr)
            Vr = Vr + 0.5 * h * Fr
            X[run], V[run], F[run] = Xr, Vr, Fr
            inside = np.all((Xr >= tlo) & (Xr <= thi), axis=1)
            idx = np.flatnonzero(run)[inside]
            status[idx] = 1
            hit[idx] = k0 + k + 1
    return step


# -- heavy-ball SGD --------------------------------------------------------------------------
@dataclass
class HeavyBallResult:
    """Heavy-ball chains at the recorded iterations.

    iterations : (m,) k; times : k√η (the Langevin model's time). theta, velocity : lists of m
    arrays (n_chains, d) (velocity in θ-units per iteration, v = √η V). hit_iterations : (n,)
    first iteration at which θ entered the target (−1: never); lr, momentum, batch_size; friction
    γ = (1 − β)/√η.
    """

    iterations: np.ndarray
    times: np.ndarray
    theta: list
    velocity: list
    hit_iterations: np.ndarray
    lr: float
    momentum: float
    batch_size: int
    friction: float
    seed: object = None
    wall_time: float = 0.0
    route: str = ""

    @property
    def positions(self):
        """Alias of ``theta`` (the layout :mod:`fpsolve.compare` reads)."""
        return self.theta

    def langevin_velocity(self, index=-1):
        """V = v/√η, the velocity of the Langevin model (variance T in equilibrium)."""
        return self.velocity[index] / np.sqrt(self.lr)

    def first_passage(self) -> FirstPassageTimes:
        """First-passage times in units of t = k√η, censored at the last iteration."""
        h = np.where(self.hit_iterations >= 0, self.hit_iterations * np.sqrt(self.lr), np.nan)
        return FirstPassageTimes.from_hits(h, float(self.times[-1]))


def heavy_ball(loss, theta0, lr, momentum, batch_size, n_steps, *, data=None, v0=0.0,
               n_chains=None, record=None, target=None, seed=None, chunk=CHUNK,
               replacement=True) -> HeavyBallResult:
    """Heavy-ball SGD chains: v ← βv − η ĝ(θ), θ ← θ + v, ĝ the mean of B per-sample gradients.

    loss : either a 1D polynomial potential with ``coefficients`` (e.g.
        :func:`fpsolve.particles.potentials.double_well`) together with ``data`` — per-sample
        gradients are U′(θ) + data[i] (a dataset of N shifts with mean 0, as
        :func:`fpsolve.particles.sgd.double_well_problem`'s ``data``), sampled with replacement
        in a Numba kernel — or a :class:`fpsolve.particles.sgd.FiniteSumProblem` (any dimension,
        its ``grad_i``; numpy, with or without replacement).
    theta0 : a number/point or an array (n_chains, d); v0 : initial velocity (θ-units per step).

    lr η, momentum β ∈ [0, 1), batch_size B, n_steps iterations; record : iterations to store
    (default the last); target : box of θ [(lo, hi), …] whose first entry is recorded per chain.

    The Langevin limit (:mod:`fpsolve.kinetic.mapping`): γ = (1 − β)/√η,
    T = η Σ₁/(2B(1 − β)), t = k√η.
    """
    gamma = mapping.friction(lr, momentum)
    B = int(batch_size)
    if B < 1:
        raise InputError(f"heavy_ball: batch_size must be ≥ 1; got {batch_size!r}.")
    coef = getattr(loss, "coefficients", None)
    d = 1 if coef is not None else int(getattr(loss, "dim", 1))
    th0 = np.asarray(theta0, dtype=float)
    if n_chains is None:
        if th0.ndim == 0 or th0.shape == (d,):
            raise InputError("heavy_ball: give n_chains when theta0 is a single point.")
        n_chains = len(th0)
    n = int(n_chains)
    TH = _points(th0, n, d, "theta0")
    VV = _points(v0, n, d, "v0")
    if n_steps < 0 or int(n_steps) != n_steps:
        raise InputError(f"heavy_ball: n_steps must be a non-negative integer; got {n_steps}.")
    rec = np.array([int(n_steps)]) if record is None else np.unique(np.asarray(record, int))
    if rec.min() < 0 or rec.max() > n_steps:
        raise InputError(f"heavy_ball: record must hold iterations in [0, {n_steps}].")
    tlo, thi = _target_box(target, d)
    status = np.zeros(n, dtype=np.int64)
    hit = np.full(n, -1, dtype=np.int64)
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    t0 = time.perf_counter()
    if coef is not None:
        if data is None or not replacement:
            raise InputError("heavy_ball: the Numba route needs data= (per-sample gradient shifts) "
                             "and samples with replacement; use a FiniteSumProblem otherwise.")
        dat = np.ascontiguousarray(np.asarray(data, dtype=float).ravel())
        dcoef = np.ascontiguousarray(np.asarray(coef, float)[1:] * np.arange(1, len(coef)))
        states = stream_states(ss, -(-n // chunk), key=(23,))
        th, vv = TH[:, 0].copy(), VV[:, 0].copy()

        def advance(k0, m):
            kernels.heavy_ball_poly_1d(th, vv, status, hit, k0, m, float(lr), float(momentum),
                                       dcoef, dat, B, states, chunk, tlo[0], thi[0])

        def snap():
            return th[:, None].copy(), vv[:, None].copy()
        route = "numba"
    else:
        if not hasattr(loss, "grad_i"):
            raise InputError("heavy_ball: loss must be a polynomial potential (with data=) or a "
                             "FiniteSumProblem (with grad_i).")
        rng = np.random.default_rng(ss)
        N = int(loss.n_samples)
        if not replacement and B > N:
            raise InputError(f"heavy_ball: batch_size {B} > dataset size {N} without replacement.")
        state = {"th": TH, "v": VV}

        def advance(k0, m):
            th, v = state["th"], state["v"]
            for k in range(m):
                run = status == 0
                if not run.any():
                    break
                idx = (rng.integers(0, N, size=(n, B)) if replacement else
                       np.argsort(rng.random((n, N)), axis=1)[:, :B])
                g = np.asarray(loss.grad_i(th, idx), float).reshape(n, B, d).mean(axis=1)
                v = np.where(run[:, None], momentum * v - lr * g, v)
                th = np.where(run[:, None], th + v, th)
                inside = run & np.all((th >= tlo) & (th <= thi), axis=1)
                status[inside] = 1
                hit[inside] = k0 + k + 1
            state["th"], state["v"] = th, v

        def snap():
            return state["th"].copy(), state["v"].copy()
        route = "numpy"
    thetas, vels, k = [], [], 0
    for r in rec:
        if r > k:
            advance(k, int(r - k))
            k = int(r)
        a, b = snap()
        thetas.append(a)
        vels.append(b)
    return HeavyBallResult(iterations=rec, times=rec * np.sqrt(lr), theta=thetas, velocity=vels,
                           hit_iterations=hit, lr=float(lr), momentum=float(momentum),
                           batch_size=B, friction=gamma, seed=seed,
                           wall_time=time.perf_counter() - t0, route=route)
