"""Torch backend: the same Euler–Maruyama semantics as the Numba one, on CPU or CUDA tensors.

torch is imported here only, so ``import fpsolve.particles`` works without it.

Coefficients. The model's numpy pipeline (``model.coefficients.drift``) cannot run on GPU
tensors, so this backend calls the user's own ``gradient``/``potential``/``drift``/``diffusion``
callables (``model.coefficients.user``) with torch tensors (one per axis), differentiates the
potential with ``torch.func.grad`` (exact, where the numpy pipeline uses central differences),
and applies the model's diffusion schedule s(t) step by step; coefficients that depend on time
are refused (use the numba backend). Callables written with operators (``x**2``, ``x*y``,
``abs``) work on both; numpy functions do not (they fail on tensors that carry gradients, or
silently leave the device). At the start the torch coefficients are checked against
``model.coefficients.drift``/``diffusion`` on a few particles at the first, middle and last time,
in float64; a mismatch (a coefficient that went through numpy) raises
:class:`~fpsolve.InputError` explaining how to write them.

Work layout. Particles are processed in batches of ``chunk`` (all steps of one batch, then the
next), which bounds device memory; each batch has its own ``torch.Generator`` seeded from
(seed, batch index), so results depend on seed and chunk only (on CUDA also on ``fuse``: the
Philox stream depends on how the draws are batched). With ``fuse=K`` (default 8 on
CUDA, off on CPU) K steps are traced into one ``torch.compile``'d function: the noise of the K
steps is drawn in one ``randn`` call and the K updates (drift, noise, walls, target) fuse into a
single elementwise kernel, so a particle is read and written once per K steps instead of once
per elementwise operation. Compilation takes tens of seconds once per shape (keep n a multiple
of chunk); a function that cannot be compiled falls back to eager with a warning.
"""
from __future__ import annotations

import time
import warnings

import numpy as np

from ..errors import InputError
from .domain import ABSORBING, PERIODIC
from .progress import particle_progress
from .results import FirstPassageResult, SimulationResult
from .stepping import plan as step_plan

try:
    import torch
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError("fpsolve.particles: backend='torch' needs PyTorch (pip install "
                      "'fpsolve[torch]'); the default backend 'numba' does not.") from exc


_HOWTO = ("For backend='torch' the model's potential/drift/diffusion are called with one torch "
          "tensor per axis. Write them with operators that work on numpy arrays and torch "
          "tensors alike (x**2, x*y, abs(x), 1/(1+x**2)); for exp, sin, where etc. pick the "
          "namespace from the argument, e.g. `xp = torch if isinstance(x, torch.Tensor) else np; "
          "return xp.exp(-x**2)`. Or use backend='numba', which evaluates them with numpy.")


def _resolve(device, dtype):
    dev = torch.device(device if device is not None else "cpu")
    if dtype is None:
        dt = torch.float64
    elif isinstance(dtype, torch.dtype):
        dt = dtype
    else:
        name = np.dtype(dtype).name
        if name not in ("float32", "float64"):
            raise InputError(f"particles: dtype must be float32 or float64; got {dtype!r}.")
        dt = getattr(torch, name)
    if dt not in (torch.float32, torch.float64):
        raise InputError(f"particles: dtype must be float32 or float64; got {dt}.")
    return dev, dt


def _seed_int(seed, key):
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    ss = np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + (2,) + tuple(key))
    return int(ss.generate_state(1, np.uint64)[0] & np.uint64(2 ** 63 - 1))


class TorchCoefficients:
    """Drift and noise of a model as functions of a tensor X (n, d)."""

    def __init__(self, model, ndim):
        c = model.coefficients  # the user's callables, as given (fpsolve.coefficients)
        if c.time_dependent:
            raise InputError("particles: backend='torch' takes coefficients that do not depend "
                             "on time; for a potential or drift with a t argument use "
                             "backend='numba'.")
        self.ndim = ndim
        self.grad_fn = c.user.gradient
        self.potential = c.user.potential
        self.schedule = c.schedule
        self.drift_fn = c.user.drift
        self.diffusion = c.user.diffusion
        self.alpha = float(c.alpha)
        self.const_D = None   # python float or (d, d) numpy array
        D = self.diffusion
        if not callable(D):
            arr = np.asarray(D, dtype=float)
            if arr.ndim == 0:
                self.const_D = float(arr)
            elif arr.shape == (ndim, ndim):
                self.const_D = arr
            else:
                raise InputError(f"particles: backend='torch' takes a diffusion that is a number, "
                                 f"a ({ndim}, {ndim}) matrix or a callable; got an array of shape "
                                 f"{arr.shape} (interpolating grid arrays is not supported).")
        for what, f in (("gradient", self.grad_fn), ("potential", self.potential),
                        ("drift", self.drift_fn)):
            if f is not None and not callable(f):
                raise InputError(f"particles: backend='torch' needs the {what} as a callable of "
                                 f"the coordinates; got {type(f).__name__}.")

    # -- evaluation ----------------------------------------------------------------------------
    def _call(self, f, X, what):
        cols = X.unbind(-1)
        try:
            val = f(*cols)
        except Exception as exc:
            raise InputError(f"particles: calling the {what} with torch tensors failed with "
                             f"{type(exc).__name__}: {exc}. {_HOWTO}") from exc
        return val

    def _as_tensor(self, val, X, what):
        if isinstance(val, torch.Tensor):
            return val
        if isinstance(val, (int, float)):
            return torch.full(X.shape[:1], float(val), dtype=X.dtype, device=X.device)
        raise InputError(f"particles: the {what} returned {type(val).__name__} for torch "
                         f"inputs, not a tensor. {_HOWTO}")

    def _grad(self, f, X, what):
        def total(x):
            v = self._as_tensor(self._call(f, x, what), x, what)
            return v.sum()
        return torch.func.grad(total)(X)

    def s(self, t):
        """Diffusion schedule s(t) (1 without one)."""
        return 1.0 if self.schedule is None else float(self.schedule(t))

    def drift(self, X, s=1.0):
        """Itô drift at X for schedule value s: −∇U (or the user's drift) + α·s·∇D."""
        if self.grad_fn is not None:
            val = self._call(self.grad_fn, X, "gradient")
            if self.ndim == 1 and not isinstance(val, (list, tuple)):
                val = [val]
            b = -torch.stack([self._as_tensor(v, X, "gradient").expand(X.shape[:1]) for v in val],
                             dim=-1)
        elif self.potential is not None:
            b = -self._grad(self.potential, X, "potential")
        elif self.drift_fn is not None:
            val = self._call(self.drift_fn, X, "drift")
            if self.ndim == 1 and not isinstance(val, (list, tuple)):
                val = [val]
            if len(val) != self.ndim:
                raise InputError(f"particles: the drift returned {len(val)} components for a "
                                 f"{self.ndim}D model.")
            b = torch.stack([self._as_tensor(v, X, "drift").expand(X.shape[:1]) for v in val],
                            dim=-1)
        else:
            b = torch.zeros_like(X)
        if self.alpha != 0.0 and callable(self.diffusion):
            b = b + (self.alpha * s) * self._grad(self.diffusion, X, "diffusion")
        return b

    def diffusion_values(self, X):
        """D(x) without the schedule: a float, a (d, d) array, or tensors (n,) / (n, d, d)."""
        if self.const_D is not None:
            return self.const_D
        val = self._as_tensor(self._call(self.diffusion, X, "diffusion"), X, "diffusion")
        n, d = X.shape
        if val.shape == (n,) or val.ndim == 0:
            return val.expand(n)
        if val.shape[:2] == (d, d) and val.shape[2:] == (n,):
            return val.permute(2, 0, 1)
        if val.shape == (n, d, d):
            return val
        raise InputError(f"particles: the diffusion returned shape {tuple(val.shape)}; expected "
                         f"({n},) (scalar) or ({d}, {d}, {n}) (tensor).")

    def const_factor(self):
        """C (nested lists of floats) with C Cᵀ = 2 D for a constant tensor D; computed once,
        outside any traced code (call it before a compiled block), h-independent so that the
        compiled block holds it as constants."""
        if "_factor" not in self.__dict__:
            A = 2.0 * self.const_D
            w = np.linalg.eigvalsh(A)
            L = np.linalg.cholesky(A) if w.min() > 1e-12 * w.max() else _psd_sqrt(A)
            self._factor = [[float(v) for v in row] for row in L]
        return self._factor

    def noise(self, X, s, xi, h):
        """The increment L ξ with L Lᵀ = 2 s D h (s: schedule value, float or 0-d tensor; h:
        float or 0-d tensor). Written with tensor operations only (no math.sqrt, no float()):
        under torch.compile a Python scalar conversion breaks the graph, and each break cost a
        factor ≈ 20 on an H100 (1.1e10 against 2.7e11 particle-steps/s, measured)."""
        D = self.diffusion_values(X)
        rs = s ** 0.5
        if isinstance(D, float):
            return ((2.0 * D * h) ** 0.5 * rs) * xi
        if isinstance(D, np.ndarray):  # constant tensor: explicit sums keep it elementwise
            C = self.const_factor()
            cols = [sum(C[a][q] * xi[..., q] for q in range(self.ndim) if C[a][q] != 0.0)
                    for a in range(self.ndim)]
            return (rs * h ** 0.5) * torch.stack(cols, dim=-1)
        if D.ndim == 1:
            return rs * torch.sqrt(torch.clamp(2.0 * h * D, min=0.0))[:, None] * xi
        A = (2.0 * h * s) * D
        L, info = torch.linalg.cholesky_ex(A)
        if bool((info != 0).any()):
            w, V = torch.linalg.eigh(A)
            L = V * torch.sqrt(torch.clamp(w, min=0.0))[..., None, :]
        return torch.einsum("nij,nj->ni", L, xi)


def _psd_sqrt(A):
    w, V = np.linalg.eigh(A)
    return V * np.sqrt(np.clip(w, 0.0, None))[None, :]


def check_against_model(coefs, model, X, t_end):
    """Compare the torch coefficients with model.coefficients.drift/diffusion on a few points at the
    first, middle and last time (float64, CPU)."""
    Xs = np.asarray(X[:64], dtype=float)
    Xt = torch.as_tensor(Xs, dtype=torch.float64)
    for t in (0.0, 0.5 * t_end, t_end):
        sv = coefs.s(t)
        b_np = np.asarray(model.coefficients.drift(Xs, t), dtype=float).reshape(Xs.shape)
        b_t = coefs.drift(Xt, sv).detach().cpu().numpy()
        tol = 1e-6 * (1.0 + np.abs(b_np))
        if not np.all(np.abs(b_t - b_np) <= tol):
            i = int(np.argmax(np.max(np.abs(b_t - b_np) - tol, axis=1)))
            raise InputError(
                f"particles: at t = {t:g} the drift computed from the model's callables with torch "
                f"({b_t[i].tolist()}) disagrees with the model's drift ({b_np[i].tolist()}) at "
                f"x = {Xs[i].tolist()}. The torch backend evaluates the model's grad/potential/"
                f"drift/diffusion and schedule itself; a model whose pointwise drift does more (a "
                f"subclass) needs backend='numba'. {_HOWTO}")
        D_np = _full_tensor(model.coefficients.diffusion(Xs, t), len(Xs), coefs.ndim)
        D_t = coefs.diffusion_values(Xt)
        D_t = D_t.detach().cpu().numpy() if isinstance(D_t, torch.Tensor) else D_t
        D_t = sv * _full_tensor(D_t, len(Xs), coefs.ndim)
        if not np.allclose(D_t, D_np, rtol=1e-9, atol=1e-12):
            raise InputError(f"particles: at t = {t:g} the diffusion computed with torch disagrees "
                             f"with the model's diffusion (max difference "
                             f"{np.abs(D_t - D_np).max():.3g}). {_HOWTO}")


def _full_tensor(D, n, d):
    D = np.asarray(D, dtype=float)
    if D.ndim == 0 or D.shape == (n,):
        return np.broadcast_to(D, (n,))[:, None, None] * np.eye(d)
    return np.broadcast_to(D, (n, d, d))


def _walls(x, lo, hi, kinds):
    """Reflect / wrap / flag absorbed, per axis (elementwise, fusable)."""
    dead = torch.zeros(x.shape[:1], dtype=torch.bool, device=x.device)
    cols = []
    for a, kind in enumerate(kinds):
        y = x[..., a]
        l, u = lo[a], hi[a]
        L = u - l
        if kind == PERIODIC:
            y = l + torch.remainder(y - l, L)
            y = torch.where(y >= u, torch.full_like(y, l), y)
        elif kind == ABSORBING:
            dead = dead | (y < l) | (y > u)
        else:
            out = (y < l) | (y > u)
            z = torch.remainder(y - l, 2.0 * L)
            z = torch.where(z > L, 2.0 * L - z, z)
            y = torch.where(out, torch.clamp(l + z, l, u), y)
        cols.append(y)
    return torch.stack(cols, dim=-1), dead


class _Stepper:
    """K Euler–Maruyama steps on one batch, eager or torch.compile'd."""

    def __init__(self, coefs, domain, fuse, device):
        self.coefs = coefs
        self.lo = [float(v) for v in domain.lo]
        self.hi = [float(v) for v in domain.hi]
        self.kinds = [int(k) for k in domain.kinds]
        self.box = None if domain.box is None else [(float(a), float(b)) for a, b in domain.box]
        self.mask = domain.mask
        self.fn = self._block
        self.compiled = False
        self.compile_ok = False
        if fuse and fuse > 1:
            try:
                self.fn = torch.compile(self._block, dynamic=False)
                self.compiled = True
            except Exception as exc:  # pragma: no cover - depends on the installation
                warnings.warn(f"particles: torch.compile unavailable ({exc}); running eager.")

    def in_target(self, x):
        if self.box is not None:
            ok = torch.ones(x.shape[:1], dtype=torch.bool, device=x.device)
            for a, (l, u) in enumerate(self.box):
                ok = ok & (x[..., a] >= l) & (x[..., a] <= u)
            return ok
        if self.mask is not None:
            m = self.coefs._call(self.mask, x, "target mask")
            if not isinstance(m, torch.Tensor):
                raise InputError(f"particles: the target mask returned {type(m).__name__} for "
                                 f"torch inputs. {_HOWTO}")
            return m.to(torch.bool).expand(x.shape[:1])
        return None

    def _block(self, x, status, hit, xi, h, k0, svals):
        """status: 0 alive, 1 target, 2 wall; hit: step index of removal; k0 (0-d) and svals
        (schedule values per step) are tensors, since Python numbers would make torch.compile
        specialise (recompile) on every block."""
        for k in range(xi.shape[0]):
            alive = status == 0
            sk = svals[k]
            y = x + self.coefs.drift(x, sk) * h + self.coefs.noise(x, sk, xi[k], h)
            y, dead = _walls(y, self.lo, self.hi, self.kinds)
            x = torch.where(alive[:, None], y, x)
            tgt = self.in_target(x)
            new_dead = alive & dead
            status = torch.where(new_dead, torch.full_like(status, 2), status)
            hit = torch.where(new_dead, k0 + (k + 1), hit)
            if tgt is not None:
                new_hit = alive & ~dead & tgt
                status = torch.where(new_hit, torch.full_like(status, 1), status)
                hit = torch.where(new_hit, k0 + (k + 1), hit)
        return x, status, hit

    def run(self, x, status, hit, gen, nsteps, h, k0, t0, fuse):
        """Advance nsteps (in blocks of ``fuse``) from step index k0 at time t0."""
        K = max(1, int(fuse or 1))
        if self.coefs.const_D is not None and not isinstance(self.coefs.const_D, float):
            self.coefs.const_factor()
        # h as a 0-d tensor: a Python float argument becomes a symbolic float under
        # torch.compile, and any math on it outside torch ops forces a graph break
        ht = torch.tensor(h, dtype=x.dtype, device=x.device)
        k = 0
        while k < nsteps:
            m = min(K, nsteps - k)
            xi = torch.randn((m,) + tuple(x.shape), generator=gen, device=x.device,
                             dtype=x.dtype)
            k0t = torch.tensor(k0 + k, dtype=torch.int64, device=x.device)
            sv = torch.tensor([self.coefs.s(t0 + (k + j) * h) for j in range(m)],
                              dtype=x.dtype, device=x.device)
            if self.compiled and m == K:
                try:
                    x, status, hit = self.fn(x, status, hit, xi, ht, k0t, sv)
                except Exception as exc:
                    if self.compile_ok:  # it compiled before: a genuine error
                        raise
                    warnings.warn(f"particles: torch.compile failed ({type(exc).__name__}: "
                                  f"{str(exc)[:200]}); running eager.")
                    self.compiled = False
                    x, status, hit = self._block(x, status, hit, xi, ht, k0t, sv)
                else:
                    self.compile_ok = True
            else:
                x, status, hit = self._block(x, status, hit, xi, ht, k0t, sv)
            k += m
        return x, status, hit


def _setup(model, domain, X, t_end, device, dtype, chunk, fuse):
    dev, dt_ = _resolve(device, dtype)
    coefs = TorchCoefficients(model, domain.ndim)
    check_against_model(coefs, model, X, t_end)
    if fuse is None or fuse == "auto":
        fuse = 8 if dev.type == "cuda" else 1
    if chunk is None:
        chunk = 2 ** 24 if dev.type == "cuda" else 2 ** 16
    return dev, dt_, coefs, _Stepper(coefs, domain, fuse, dev), int(chunk), int(fuse)


def simulate_torch(model, domain, X, out_t, dt, seed, device, dtype, chunk, progress, fuse=None):
    """Torch counterpart of :func:`fpsolve.particles.simulate` (called from it)."""
    t_start = time.perf_counter()
    dev, tdt, coefs, stepper, chunk, fuse = _setup(model, domain, X, out_t[-1], device, dtype,
                                                   chunk, fuse)
    plan = step_plan(out_t, dt)
    n = len(X)
    bar = particle_progress(n * sum(m for m, _, _ in plan), progress)
    pos = [[] for _ in out_t]
    removed = []
    done = 0
    with torch.no_grad():
        for c, start in enumerate(range(0, n, chunk)):
            ids = np.arange(start, min(n, start + chunk))
            gen = torch.Generator(device=dev)
            gen.manual_seed(_seed_int(seed, (c,)))
            x = torch.as_tensor(X[ids], dtype=tdt, device=dev)
            status = torch.zeros(len(ids), dtype=torch.int8, device=dev)
            hit = torch.zeros(len(ids), dtype=torch.int64, device=dev)
            tgt = stepper.in_target(x)
            if tgt is not None:
                status = torch.where(tgt, torch.ones_like(status), status)
            k0 = 0
            times_of_step = []  # (first step index, h, t0) per interval
            for j, (m, a, b) in enumerate(plan):
                if m:
                    h = (b - a) / m
                    times_of_step.append((k0, h, a))
                    x, status, hit = stepper.run(x, status, hit, gen, m, h, k0, a, fuse)
                    k0 += m
                    done += len(ids) * m
                    bar.advance_to(done)
                alive = (status == 0).cpu().numpy()
                pos[j].append(x.detach().cpu().numpy().astype(float)[alive])
            st = status.cpu().numpy()
            gone = st != 0
            if np.any(gone):
                ks = hit.cpu().numpy()[gone]
                when = np.zeros(len(ks))
                for first, h, a in times_of_step:
                    sel = ks > first
                    when[sel] = a + (ks[sel] - first) * h
                removed.append((ids[gone], when, x.cpu().numpy().astype(float)[gone], st[gone]))
    bar.close()
    positions = [np.concatenate(p) if p else np.zeros((0, domain.ndim)) for p in pos]
    if removed:
        r_ids, r_t, r_x, r_st = (np.concatenate(v) for v in zip(*removed))
    else:
        r_ids, r_t, r_x, r_st = (np.zeros(0, int), np.zeros(0), np.zeros((0, domain.ndim)),
                                 np.zeros(0, np.int8))
    return SimulationResult(
        times=out_t, positions=positions, alive=np.array([len(p) for p in positions]), n=n,
        dt=float(dt), steps=int(sum(m for m, _, _ in plan)), grid=model.grid, backend="torch",
        route="torch" + ("-compiled" if stepper.compiled else ""), seed=seed,
        removed_times=r_t, removed_points=r_x, wall_time=time.perf_counter() - t_start,
        info={"particle_steps": done, "removed_status": r_st, "removed_ids": r_ids,
              "device": str(dev), "dtype": str(tdt), "chunk": chunk, "fuse": fuse})


def first_passage_torch(model, domain, X, dt, nsteps, seed, device, dtype, chunk, progress,
                        fuse=None):
    """Torch counterpart of :func:`fpsolve.particles.first_passage` (called from it)."""
    t_start = time.perf_counter()
    dev, tdt, coefs, stepper, chunk, fuse = _setup(model, domain, X, nsteps * dt, device, dtype,
                                                   chunk, fuse)
    n = len(X)
    bar = particle_progress(n * nsteps, progress)
    times, points, censored, absorbed, done = [], [], 0, 0, 0
    # check for completion every `every` steps (a device sync)
    every = max(fuse, 64)
    with torch.no_grad():
        for c, start in enumerate(range(0, n, chunk)):
            m_c = min(n, start + chunk) - start
            gen = torch.Generator(device=dev)
            gen.manual_seed(_seed_int(seed, (c,)))
            x = torch.as_tensor(X[start:start + m_c], dtype=tdt, device=dev)
            status = torch.zeros(m_c, dtype=torch.int8, device=dev)
            hit = torch.zeros(m_c, dtype=torch.int64, device=dev)
            status = torch.where(stepper.in_target(x), torch.ones_like(status), status)
            k = 0
            while k < nsteps:
                m = min(every, nsteps - k)
                x, status, hit = stepper.run(x, status, hit, gen, m, dt, k, k * dt, fuse)
                k += m
                done += m_c * m
                bar.advance_to(done)
                if not bool((status == 0).any()):
                    break
            st = status.cpu().numpy()
            hs = hit.cpu().numpy()
            xs = x.cpu().numpy().astype(float)
            sel = st == 1
            times.append(hs[sel] * dt)
            points.append(xs[sel])
            censored += int(np.sum(st == 0))
            absorbed += int(np.sum(st == 2))
    bar.close()
    return FirstPassageResult(
        times=np.concatenate(times), exit_points=np.concatenate(points), n=n, censored=censored,
        t_max=nsteps * dt, dt=float(dt), backend="torch",
        route="torch" + ("-compiled" if stepper.compiled else ""), absorbed=absorbed, seed=seed,
        wall_time=time.perf_counter() - t_start,
        info={"particle_steps": done, "device": str(dev), "dtype": str(tdt), "chunk": chunk,
              "fuse": fuse})
