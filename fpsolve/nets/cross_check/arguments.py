"""The arguments of :func:`fpsolve.nets.crosscheck`, all checked before any work starts."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from ...errors import InputError
from ..objective import Objective
from ..train import TrainResult


def resolve_device(device):
    """A torch device name: CUDA when available for None; InputError for an unusable one."""
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"crosscheck: device {device!r} is not a torch device.") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("crosscheck: device 'cuda' was asked for but CUDA is not available; "
                         "pass device=None (automatic) or 'cpu'.")
    return str(dev)


def positive(name, v, integer=False, minimum=None):
    """v as a positive float (or int), at least ``minimum``; InputError otherwise."""
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    ok = ok and math.isfinite(float(v)) and v > 0
    if ok and integer:
        ok = int(v) == v
    if ok and minimum is not None:
        ok = v >= minimum
    if not ok:
        what = "an integer" if integer else "a number"
        lim = f" ≥ {minimum}" if minimum is not None else " > 0"
        raise InputError(f"crosscheck: {name} must be {what}{lim}; got {v!r}.")
    return int(v) if integer else float(v)


def escape_spec(escape):
    """None, or (kind, level) with kind 'box' (half-widths in linearised stds) or 'loss' (ΔL,
    None = default)."""
    if escape is None or escape is False:
        return None
    if isinstance(escape, str):
        escape = (escape, None)
    if not (isinstance(escape, (tuple, list)) and len(escape) == 2 and escape[0] in ("box",
                                                                                     "loss")):
        raise InputError(f"crosscheck: escape must be None, 'box', 'loss', ('box', c) with c the "
                         f"box half-width in stationary standard deviations, or ('loss', ΔL) with "
                         f"ΔL > 0 the loss increase above L(θ*); got {escape!r}.")
    kind, level = escape
    if level is not None:
        level = positive(f"the escape level of {kind!r}", level)
    return kind, level


def check_arguments(model, data, loss, *, lr, batch_size, k, theta, replacement, escape,
                    grid_cells, n_std, n_particles, particle_dt, n_chains, burn_in, window,
                    n_snapshots, escape_t_max, seed, device, backend) -> SimpleNamespace:
    """Every argument of :func:`~fpsolve.nets.crosscheck` checked (InputError otherwise) and
    normalised, with the objective built and the seeds of the four random parts drawn."""
    if isinstance(model, TrainResult):
        model = model.model
    if not isinstance(model, (nn.Module, Objective)):
        raise InputError(f"crosscheck: model must be a torch.nn.Module (a trained network) or a "
                         f"TrainResult; got {type(model).__name__}.")
    if isinstance(model, Objective):
        if data is not None or loss is not None:
            raise InputError("crosscheck: an Objective carries its data and loss; pass data=None.")
        module = model.module
    else:
        module = model
        if data is None:
            raise InputError("crosscheck: data is required (a Dataset or an (X, y) pair).")
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules()):
        raise InputError("crosscheck: networks with BatchNorm are not supported: in training mode "
                         "the loss is not a sum of per-sample terms, so SGD is not the SDE of "
                         "the reduced model.")
    lr = positive("lr", lr)
    batch_size = positive("batch_size", batch_size, integer=True)
    if k not in (1, 2) or isinstance(k, bool):
        raise InputError(f"crosscheck: k must be 1 or 2 (top-Hessian directions); got {k!r}.")
    n_std = positive("n_std", n_std, minimum=3.0)
    n_particles = positive("n_particles", n_particles, integer=True, minimum=16)
    n_chains = positive("n_chains", n_chains, integer=True, minimum=4)
    burn_in = positive("burn_in", burn_in)
    window = positive("window", window)
    n_snapshots = positive("n_snapshots", n_snapshots, integer=True)
    if particle_dt is not None:
        particle_dt = positive("particle_dt", particle_dt)
    if escape_t_max is not None:
        escape_t_max = positive("escape_t_max", escape_t_max)
    if grid_cells is None:
        grid_cells = 201 if k == 1 else 81
    grid_cells = positive("grid_cells", grid_cells, integer=True, minimum=11)
    grid_cells += 1 - grid_cells % 2  # odd: a cell centre at z = 0
    if backend not in ("torch", "numba"):
        raise InputError(f"crosscheck: backend must be 'torch' or 'numba'; got {backend!r}.")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"crosscheck: seed must be a non-negative integer; got {seed!r}.")
    esc = escape_spec(escape)
    device = resolve_device(device)
    if backend == "numba" and torch.device(device).type != "cpu":
        raise InputError("crosscheck: backend='numba' runs on the CPU; use backend='torch' for "
                         f"device {device!r}.")
    obj = model if isinstance(model, Objective) else Objective(module, data, loss)
    N = obj.n_samples
    if (replacement and batch_size < 1) or (not replacement and batch_size > N):
        raise InputError(f"crosscheck: batch_size={batch_size} is invalid for N={N} samples.")
    if not replacement and batch_size == N:
        raise InputError("crosscheck: batch_size = N without replacement is full-batch gradient "
                         "descent: there is no noise to compare.")
    ss = np.random.SeedSequence(int(seed))
    seed_lanczos, seed_part, seed_esc, seed_sgd = (int(s.generate_state(1)[0]) for s in
                                                   ss.spawn(4))

    return SimpleNamespace(
        obj=obj, lr=lr, batch_size=batch_size, k=k, theta=theta, replacement=bool(replacement),
        esc=esc, grid_cells=grid_cells, n_std=n_std, n_particles=n_particles,
        particle_dt=particle_dt, n_chains=n_chains, burn_in=burn_in, window=window,
        n_snapshots=n_snapshots, escape_t_max=escape_t_max, seed=int(seed), device=device,
        backend=backend, seed_lanczos=seed_lanczos, seed_part=seed_part, seed_esc=seed_esc,
        seed_sgd=seed_sgd)
