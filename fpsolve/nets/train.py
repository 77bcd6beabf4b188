"""Plain SGD on a small network, deterministic under a seed, with a per-epoch history.

SGD here is exactly the process that :doc:`/theory/conventions` maps to the Itô SDE: θₖ₊₁ = θₖ − η
∇L_B(θₖ), no momentum, no weight decay, each step a mini-batch of exactly B samples. Time is
reported as iterations k and as SDE time t = k·η.

Mini-batches: ``replacement=False`` (default) shuffles each epoch and takes ⌊N/B⌋ disjoint
batches (the last N mod B samples of the shuffle are skipped that epoch); ``replacement=True``
draws each batch's B indices uniformly with replacement, ⌊N/B⌋ steps per epoch. The mini-batch
noise covariance is Σ₁/B·(N − B)/(N − 1) and Σ₁/B respectively (:mod:`fpsolve.nets.minibatch_noise`).
"""
from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from .data import as_dataset
from .models import LOSSES, flat_parameters, loss_function, prepare_targets


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

    Attributes
    ----------
    model : the trained network (a copy; the model passed in is unchanged)
    theta : final flat parameters, numpy float64 (d,)
    history : dict of per-record arrays: ``epoch``, ``step`` (k), ``t`` (= k·η), ``loss``
        (full-data loss in inference mode), ``accuracy`` (classification), ``batch_loss``
        (mean mini-batch loss over the epoch; NaN at epoch 0), and every callback's keys
        (NaN where a callback returned nothing; non-scalar values are kept in lists)
    success, message : False and the reason when training stopped early (a non-finite loss)
    lr, batch_size, epochs, seed, replacement, n_samples, steps_per_epoch, loss_name
    """
    model: nn.Module
    theta: np.ndarray
    history: dict
    lr: float
    batch_size: int
    epochs: int
    seed: int
    replacement: bool
    n_samples: int
    steps_per_epoch: int
    loss_name: str
    success: bool = True
    message: str = "completed"
    snapshots: dict = field(default_factory=dict)

    @property
    def t(self) -> np.ndarray:
        """SDE time t = k·η of each record."""
        return self.history["t"]


def train(model: nn.Module, data, *, lr: float, batch_size: int, epochs: int, seed: int = 0,
          loss=None, replacement: bool = False, callbacks=(), record_every: int = 1,
          snapshot_epochs=()) -> TrainResult:
    """Train a copy of ``model`` with plain SGD and record a per-epoch history.

    Parameters
    ----------
    model : torch.nn.Module (e.g. from :func:`fpsolve.nets.mlp`); its dtype is used throughout.
    data : Dataset or (X, y).
    lr : learning rate η > 0.   batch_size : B (1 <= B <= N; >= 2 with BatchNorm).
    epochs : number of passes (each ⌊N/B⌋ steps).
    seed : seeds the mini-batch sampler (a private torch.Generator). Together with the model's
        initial parameters it fixes the run bit for bit.
    loss : "cross_entropy", "mse" (½‖f − y‖²), a callable, or None for the data's default.
    replacement : sample mini-batches with replacement (see module docstring).
    callbacks : callables ``cb(model, epoch, step) -> dict`` run at every record (epoch 0 and
        every ``record_every`` epochs, and the last), with the model in inference mode; see
        :mod:`fpsolve.nets.callbacks`.
    snapshot_epochs : epochs at which to keep a copy of the flat parameters in
        ``result.snapshots[epoch]``.
    """
    data = as_dataset(data, "train")
    if not isinstance(model, nn.Module):
        raise InputError(f"train: model must be a torch.nn.Module; got {type(model).__name__}.")
    loss = data.default_loss if loss is None else loss
    if not callable(loss) and loss not in LOSSES:
        raise InputError(f"train: unknown loss {loss!r}; use one of {LOSSES} or a callable.")
    N = len(data)
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise InputError(f"train: lr must be a positive finite number; got {lr!r}.")
    if int(batch_size) != batch_size or not 1 <= batch_size <= N:
        raise InputError(f"train: batch_size must be an integer in 1..N={N}; got {batch_size!r}.")
    if int(epochs) != epochs or epochs < 0:
        raise InputError(f"train: epochs must be a non-negative integer; got {epochs!r}.")
    if int(record_every) != record_every or record_every < 1:
        raise InputError(f"train: record_every must be a positive integer; got {record_every!r}.")
    has_bn = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())
    if has_bn and batch_size < 2:
        raise InputError("train: a network with BatchNorm needs batch_size >= 2 (batch statistics "
                         "of one sample are undefined).")
    for cb in callbacks:
        if not callable(cb):
            raise InputError(f"train: callbacks must be callables cb(model, epoch, step); got "
                             f"{type(cb).__name__}.")

    net = copy.deepcopy(model)
    params = list(net.parameters())
    dtype = params[0].dtype
    ell = loss_function(loss)
    X = data.X.to(dtype)
    net.eval()
    with torch.no_grad():
        K = int(net(X[:2]).shape[1])
    Y = prepare_targets(data, loss, K, dtype)
    gen = torch.Generator().manual_seed(int(seed))
    B, spe = int(batch_size), N // int(batch_size)
    rows: list[dict] = []
    snapshots = {}
    success, message = True, "completed"

    def record(epoch, step, batch_loss):
        net.eval()
        with torch.no_grad():
            out = net(X)
            row = {"epoch": epoch, "step": step, "t": step * lr,
                   "loss": float(ell(out, Y).mean()), "batch_loss": batch_loss}
            if data.task == "classification":
                row["accuracy"] = float((out.argmax(1) == data.y).to(torch.float64).mean())
        for cb in callbacks:
            row.update(cb(net, epoch, step) or {})
        rows.append(row)
        if epoch in snapshot_epochs:
            snapshots[epoch] = flat_parameters(net).to(torch.float64).numpy()
        return row

    record(0, 0, float("nan"))
    step = 0
    for epoch in range(1, int(epochs) + 1):
        net.train()
        total = 0.0
        if replacement:
            batches = torch.randint(0, N, (spe, B), generator=gen)
        else:
            batches = torch.randperm(N, generator=gen)[: spe * B].view(spe, B)
        for idx in batches:
            batch_loss = ell(net(X[idx]), Y[idx]).mean()
            grads = torch.autograd.grad(batch_loss, params)
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p.sub_(lr * g)
            total += float(batch_loss.detach())
            step += 1
        mean_loss = total / spe
        if not math.isfinite(mean_loss) or not all(torch.isfinite(p).all() for p in params):
            success = False
            message = (f"stopped at epoch {epoch}: the loss became non-finite (η={lr} too large "
                       f"for this network? try a smaller lr)")
            warnings.warn(f"train: {message}", RuntimeWarning, stacklevel=2)
            rows.append({"epoch": epoch, "step": step, "t": step * lr, "loss": float("nan"),
                         "batch_loss": mean_loss})
            break
        if epoch % record_every == 0 or epoch == epochs or epoch in snapshot_epochs:
            record(epoch, step, mean_loss)

    net.eval()
    return TrainResult(net, flat_parameters(net).to(torch.float64).numpy(), _collate(rows),
                       float(lr), B, int(epochs), int(seed), bool(replacement), N, spe,
                       loss if isinstance(loss, str) else getattr(loss, "__name__", "custom"),
                       success, message, snapshots)


def _collate(rows: list[dict]) -> dict:
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    hist = {}
    for k in keys:
        vals = [r.get(k, float("nan")) for r in rows]
        if all(isinstance(v, (int, float, np.floating, np.integer)) for v in vals):
            hist[k] = np.asarray(vals, dtype=float if k not in ("epoch", "step") else np.int64)
        else:
            hist[k] = vals
    return hist
