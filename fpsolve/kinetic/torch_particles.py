"""BAOAB particles and heavy-ball chains in torch, on whatever device the inputs live on.

The same algorithms as :mod:`fpsolve.kinetic.particles` (BAOAB for dX = V dt, dV = −γV dt + F dt +
sqrt(2γT) dW; heavy ball v ← βv − η ĝ, θ ← θ + v), vectorised over particles with torch: device
and dtype follow ``x0`` / ``theta0`` (CPU or CUDA; float32 or float64), random numbers come from
the ``generator`` given (or torch's default one for that device). No global state is touched.

Results are returned as numpy arrays (copied to the host at the recorded steps), in the same
result objects as the Numba routes, so :mod:`fpsolve.compare` reads them unchanged.
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..errors import InputError
from .mapping import friction as friction_of
from .particles import HeavyBallResult, KineticParticles


def _torch():
    try:
        import torch
    except ImportError as exc:  # optional dependency
        raise InputError("fpsolve.kinetic.torch_particles needs torch (pip install torch).") \
            from exc
    return torch


def _force_fn(torch, force=None, potential=None):
    if force is not None:
        return force
    if potential is None:
        raise InputError("simulate_torch: give force(X) → −∇U or potential(X) → U per particle.")

    def f(X):
        with torch.enable_grad():
            Y = X.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(potential(Y).sum(), Y)
        return -g
    return f


def simulate_torch(x0, friction, temperature, dt, n_steps, *, force=None, potential=None, v0=None,
                   record=None, target=None, generator=None) -> KineticParticles:
    """BAOAB particles with torch tensors.

    x0 : tensor (n, d) (device and dtype of the run). force : callable X (n, d) → −∇U (n, d), or
    potential : callable X → U (n,) (differentiated by autograd). temperature : a number, a (d, d)
    SPD tensor/array, or a callable X → T (n,). v0 : tensor (n, d), default Maxwellian at T(x0).
    dt, n_steps : step and number of steps (time t = n_steps·dt); record : steps to store (default
    the last). target : box of positions [(lo, hi), …] (velocity free); hit times are recorded.
    """
    torch = _torch()
    X = x0.clone()
    if X.ndim != 2:
        raise InputError(f"simulate_torch: x0 must have shape (n, d); got {tuple(X.shape)}.")
    n, d = X.shape
    kw = {"device": X.device, "dtype": X.dtype}
    if not (friction > 0 and dt > 0 and int(n_steps) >= 1):
        raise InputError("simulate_torch: need friction > 0, dt > 0 and n_steps ≥ 1.")
    F_of = _force_fn(torch, force, potential)
    if callable(temperature):
        Lc = None
    else:
        Tm = torch.as_tensor(temperature, **kw)
        Lc = (Tm.sqrt() * torch.eye(d, **kw) if Tm.ndim == 0 else torch.linalg.cholesky(Tm))

    def noise(Y):
        z = torch.randn(Y.shape, generator=generator, **kw)
        if Lc is None:
            return z * torch.sqrt(temperature(Y)).reshape(-1, 1)
        return z @ Lc.T

    V = noise(X) if v0 is None else v0.clone()
    c1 = math.exp(-friction * dt)
    sq = math.sqrt(1 - c1 * c1)
    rec = np.array([int(n_steps)]) if record is None else np.unique(np.asarray(record, int))
    box = None
    if target is not None:
        tb = [target] if d == 1 and len(target) == 2 and np.ndim(target[0]) == 0 else target
        if len(tb) != d:
            raise InputError("simulate_torch: target must be one (lo, hi) per dimension.")
        box = (torch.tensor([-math.inf if a is None else float(a) for a, _ in tb], **kw),
               torch.tensor([math.inf if b is None else float(b) for _, b in tb], **kw))
    running = torch.ones(n, dtype=torch.bool, device=X.device)
    hit = torch.full((n,), -1, dtype=torch.int64, device=X.device)
    F = F_of(X)
    pos, vel = [], []
    t0 = time.perf_counter()
    k = 0
    for r in rec:
        while k < r:
            m = running.unsqueeze(1)
            Vn = V + 0.5 * dt * F
            Xn = X + 0.5 * dt * Vn
            Vn = c1 * Vn + sq * noise(Xn)
            Xn = Xn + 0.5 * dt * Vn
            Fn = F_of(Xn)
            Vn = Vn + 0.5 * dt * Fn
            X, V, F = torch.where(m, Xn, X), torch.where(m, Vn, V), torch.where(m, Fn, F)
            k += 1
            if box is not None:
                inside = running & torch.all((X >= box[0]) & (X <= box[1]), dim=1)
                hit = torch.where(inside, torch.full_like(hit, k), hit)
                running = running & ~inside
        pos.append(X.detach().cpu().numpy().astype(float))
        vel.append(V.detach().cpu().numpy().astype(float))
    h = hit.cpu().numpy()
    return KineticParticles(times=rec * dt, positions=pos, velocities=vel,
                            hit_times=np.where(h >= 0, h * dt, np.nan), n=n, dt=float(dt),
                            steps=int(rec[-1]), route=f"torch:{X.device.type}",
                            wall_time=time.perf_counter() - t0)


def heavy_ball_torch(grad_i, n_samples, theta0, lr, momentum, batch_size, n_steps, *, v0=None,
                     record=None, target=None, generator=None) -> HeavyBallResult:
    """Heavy-ball chains with torch: v ← βv − η·mean_b grad_i(θ, idx)_b, θ ← θ + v.

    grad_i : callable (θ (n, d) tensor, idx (n, B) int64 tensor) → per-sample gradients
    (n, B, d). Indices uniform with replacement. theta0 : tensor (n, d) (device and dtype of the
    run); other arguments as :func:`fpsolve.kinetic.particles.heavy_ball`.
    """
    torch = _torch()
    gamma = friction_of(lr, momentum)
    TH = theta0.clone()
    n, d = TH.shape
    V = torch.zeros_like(TH) if v0 is None else v0.clone()
    rec = np.array([int(n_steps)]) if record is None else np.unique(np.asarray(record, int))
    running = torch.ones(n, dtype=torch.bool, device=TH.device)
    hit = torch.full((n,), -1, dtype=torch.int64, device=TH.device)
    box = None
    if target is not None:
        tb = [target] if d == 1 and len(target) == 2 and np.ndim(target[0]) == 0 else target
        box = (torch.tensor([-math.inf if a is None else float(a) for a, _ in tb],
                            device=TH.device, dtype=TH.dtype),
               torch.tensor([math.inf if b is None else float(b) for _, b in tb],
                            device=TH.device, dtype=TH.dtype))
    thetas, vels, k = [], [], 0
    t0 = time.perf_counter()
    for r in rec:
        while k < r:
            idx = torch.randint(0, int(n_samples), (n, int(batch_size)), generator=generator,
                                device=TH.device)
            g = grad_i(TH, idx).reshape(n, int(batch_size), d).mean(dim=1)
            m = running.unsqueeze(1)
            Vn = momentum * V - lr * g
            V = torch.where(m, Vn, V)
            TH = torch.where(m, TH + Vn, TH)
            k += 1
            if box is not None:
                inside = running & torch.all((TH >= box[0]) & (TH <= box[1]), dim=1)
                hit = torch.where(inside, torch.full_like(hit, k), hit)
                running = running & ~inside
        thetas.append(TH.detach().cpu().numpy().astype(float))
        vels.append(V.detach().cpu().numpy().astype(float))
    return HeavyBallResult(iterations=rec, times=rec * math.sqrt(lr), theta=thetas,
                           velocity=vels, hit_iterations=hit.cpu().numpy(), lr=float(lr),
                           momentum=float(momentum), batch_size=int(batch_size), friction=gamma,
                           wall_time=time.perf_counter() - t0, route=f"torch:{TH.device.type}")
