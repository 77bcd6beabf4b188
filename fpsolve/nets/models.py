"""Small multilayer perceptrons, flat parameter vectors, and the two losses.

Loss conventions (per sample μ, outputs f ∈ R^K, the data loss is L = (1/N) Σ_μ ℓ_μ):

* ``"cross_entropy"``: ℓ_μ = −log softmax(f)_y (targets are class labels);
* ``"mse"``: ℓ_μ = ½ ‖f − y‖² summed over outputs (Mori et al.'s convention, so that the
  Gauss–Newton matrix of a linear model is (1/N) Σ JᵀJ); class labels become one-hot targets.

A custom loss is a callable ``loss(outputs, targets) -> per-sample losses`` on batches of shape
(n, K) and (n, K), returning shape (n,).
"""
from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from ..errors import InputError

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "softplus": nn.Softplus, "identity": nn.Identity, "elu": nn.ELU}
LOSSES = ("cross_entropy", "mse")


def mlp(widths, activation: str = "relu", batchnorm: bool = False, bias: bool = True,
        seed: int | None = 0, dtype=torch.float64) -> nn.Sequential:
    """Fully connected network ``widths[0] → widths[1] → … → widths[-1]``.

    Each hidden layer is Linear → (BatchNorm1d) → activation; the output layer is Linear alone
    (logits for cross-entropy, values for mean-square). ``widths=[d_in, d_out]`` is a linear
    model. Weights use PyTorch's default (Kaiming-uniform) initialisation drawn from a private
    generator seeded with ``seed``, so the global RNG is neither used nor changed.
    float64 by default: the nets are small and curvature needs the precision.
    """
    widths = [int(w) for w in widths]
    if len(widths) < 2 or min(widths) < 1:
        raise InputError(f"mlp: widths must list at least input and output sizes, all >= 1; got "
                         f"{widths}. Example: mlp([64, 32, 10]).")
    if activation not in ACTIVATIONS:
        raise InputError(f"mlp: unknown activation {activation!r}; choose one of "
                         f"{sorted(ACTIVATIONS)}.")
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if i < len(widths) - 2:
            if batchnorm:
                layers.append(nn.BatchNorm1d(b))
            layers.append(ACTIVATIONS[activation]())
    net = nn.Sequential(*layers).to(dtype)
    if seed is not None:
        gen = torch.Generator().manual_seed(int(seed))
        with torch.no_grad():
            for layer in net:
                if isinstance(layer, nn.Linear):
                    # same law as nn.Linear.reset_parameters: U(−1/√fan_in, 1/√fan_in) for the
                    # bias, Kaiming-uniform(a=√5) for the weight, which is the same bound
                    bound = 1.0 / layer.in_features ** 0.5
                    layer.weight.copy_((torch.rand(layer.weight.shape, generator=gen,
                                                   dtype=dtype) * 2 - 1) * bound)
                    if layer.bias is not None:
                        layer.bias.copy_((torch.rand(layer.bias.shape, generator=gen,
                                                     dtype=dtype) * 2 - 1) * bound)
    return net


def flat_parameters(model: nn.Module) -> torch.Tensor:
    """All trainable parameters concatenated in ``named_parameters`` order (a detached copy)."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()]).clone()


def set_flat_parameters(model: nn.Module, theta) -> nn.Module:
    """Write the flat vector ``theta`` back into ``model`` (in place; returns the model)."""
    theta = torch.as_tensor(theta)
    n = sum(p.numel() for p in model.parameters())
    if theta.shape != (n,):
        raise InputError(f"set_flat_parameters: theta has shape {tuple(theta.shape)}; the model "
                         f"has {n} parameters, so give shape ({n},).")
    with torch.no_grad():
        i = 0
        for p in model.parameters():
            p.copy_(theta[i:i + p.numel()].reshape(p.shape).to(p.dtype))
            i += p.numel()
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars in a torch module (the dimension d of θ)."""
    return sum(p.numel() for p in model.parameters())


def _cross_entropy(outputs, targets):
    # targets are one-hot (float); written without integer indexing so that vmap and
    # forward-mode AD work on every path
    return -(F.log_softmax(outputs, dim=-1) * targets).sum(-1)


def _mse(outputs, targets):
    return 0.5 * ((outputs - targets) ** 2).sum(-1)


def loss_function(loss):
    """The per-sample loss ``(outputs (n, K), targets (n, K)) -> (n,)`` for a name or callable."""
    if callable(loss):
        return loss
    if loss == "cross_entropy":
        return _cross_entropy
    if loss == "mse":
        return _mse
    raise InputError(f"unknown loss {loss!r}; use 'cross_entropy', 'mse' or a callable "
                     f"loss(outputs, targets) -> per-sample losses.")


def prepare_targets(data, loss, n_outputs: int, dtype=torch.float64) -> torch.Tensor:
    """Targets as a float tensor (N, K) matching the model output: one-hot for class labels."""
    y = data.y
    if data.task == "classification":
        if int(y.max()) >= n_outputs:
            raise InputError(f"data {data.name!r} has class label {int(y.max())} but the model has "
                             f"{n_outputs} outputs; the last layer needs num_classes outputs.")
        return F.one_hot(y, n_outputs).to(dtype)
    if loss == "cross_entropy":
        raise InputError(f"data {data.name!r} is a regression problem; cross-entropy needs class "
                         f"labels. Use loss='mse'.")
    if y.shape[1] != n_outputs:
        raise InputError(f"data {data.name!r} has targets of width {y.shape[1]} but the model has "
                         f"{n_outputs} outputs.")
    return y.to(dtype)
