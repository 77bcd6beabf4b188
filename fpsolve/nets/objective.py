"""The data loss as a function of one flat parameter vector θ, L(θ) = (1/N) Σ_μ ℓ(f_θ(x_μ), y_μ).

Every curvature and noise computation goes through :class:`Objective`, which evaluates the
network with ``torch.func.functional_call`` on a flat θ, so Hessians, Hessian-vector products and
per-sample gradients are over *all* parameters at once.

BatchNorm: the objective always evaluates the network in inference mode (running statistics).
Only then is L a sum of per-sample terms, which is what per-sample gradients, the gradient
covariance and the Hessian of "the loss at θ" presuppose. During training (:func:`train`) BatchNorm
uses batch statistics as usual.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, grad, vjp, vmap

from ..errors import InputError
from .data import as_dataset
from .models import LOSSES, loss_function, prepare_targets

# elements (points × samples × width) evaluated at once when vmapping over many θ
_VMAP_BUDGET = 2 ** 23


class Objective:
    """L(θ) for a network, a data set and a loss, over a flat float64 parameter vector.

    Parameters
    ----------
    model : torch.nn.Module. It is copied (and cast to ``dtype``); the original is not changed.
    data : Dataset or (X, y)
    loss : "cross_entropy", "mse", a callable, or None for the data's default.
    dtype : torch dtype of every computation (float64 by default).

    Attributes
    ----------
    theta0 : torch.Tensor (d,), the model's current parameters (the default point θ)
    n_params (d), n_samples (N), n_outputs (K), X (N, n_in), Y (N, K) targets, loss_name
    """

    def __init__(self, model: nn.Module, data, loss=None, dtype=torch.float64):
        if not isinstance(model, nn.Module):
            raise InputError(f"Objective: model must be a torch.nn.Module; got "
                             f"{type(model).__name__}. Build one with fpsolve.nets.mlp.")
        data = as_dataset(data, "Objective")
        loss = data.default_loss if loss is None else loss
        if not callable(loss) and loss not in LOSSES:
            raise InputError(f"Objective: unknown loss {loss!r}; use one of {LOSSES} or a callable.")
        self.dtype = dtype
        self.data = data
        self.loss_name = loss if isinstance(loss, str) else getattr(loss, "__name__", "custom")
        #: the per-sample loss ℓ(f(x), y) → (n,) (unreduced)
        self.ell = loss_function(loss)
        self.module = copy.deepcopy(model).to(dtype).eval()
        self.names = [n for n, _ in self.module.named_parameters()]
        self.shapes = [p.shape for _, p in self.module.named_parameters()]
        self.numels = [p.numel() for _, p in self.module.named_parameters()]
        self.buffers = {n: b.detach() for n, b in self.module.named_buffers()}
        self.theta0 = torch.cat([p.detach().reshape(-1) for p in self.module.parameters()]).clone()
        self.n_params = int(self.theta0.numel())
        self.X = data.X.to(dtype)
        self.n_samples = int(self.X.shape[0])
        with torch.no_grad():
            out = self.module(self.X[:2])
        if out.ndim != 2:
            raise InputError(f"Objective: the model must map (n, n_features) to (n, K); it returned "
                             f"shape {tuple(out.shape)}.")
        self.n_outputs = int(out.shape[1])
        self.Y = prepare_targets(data, loss, self.n_outputs, dtype)

    # -- parameters --------------------------------------------------------------------------
    def theta(self, theta=None) -> torch.Tensor:
        """θ as a float tensor of shape (d,): ``None`` means the model's own parameters."""
        if theta is None:
            return self.theta0
        t = torch.as_tensor(np.asarray(theta) if not torch.is_tensor(theta) else theta)
        t = t.detach().to(self.dtype).reshape(-1) if t.numel() == self.n_params else t
        if t.shape != (self.n_params,):
            raise InputError(f"theta has shape {tuple(t.shape)} but the network has "
                             f"{self.n_params} parameters; pass a flat vector of that length "
                             f"(fpsolve.nets.flat_parameters(model) gives one).")
        if not torch.all(torch.isfinite(t)):
            raise InputError("theta contains NaN or inf; check the training run that produced it.")
        return t

    def unflatten(self, theta: torch.Tensor) -> dict:
        """The named parameter tensors of a flat θ (a dict for torch.func.functional_call)."""
        parts = torch.split(theta, self.numels)
        return {n: p.view(s) for n, p, s in zip(self.names, parts, self.shapes)}

    def to_module(self, theta=None) -> nn.Module:
        """A copy of the network carrying parameters θ."""
        from .models import set_flat_parameters
        return set_flat_parameters(copy.deepcopy(self.module), self.theta(theta))

    # -- the function and its derivatives (torch, differentiable) ----------------------------
    def forward(self, theta, X):
        """The network's output on inputs X with the flat parameters θ (a functional call; the
        module's own parameters are untouched).
        """
        return functional_call(self.module, (self.unflatten(theta), self.buffers), (X,))

    def loss(self, theta, X=None, Y=None):
        """Mean loss over (X, Y), the whole data set by default; differentiable in θ."""
        X = self.X if X is None else X
        Y = self.Y if Y is None else Y
        return self.ell(self.forward(theta, X), Y).mean()

    def sample_loss(self, theta, x, y):
        """ℓ for one sample (x of shape (n_in,), y of shape (K,))."""
        return self.ell(self.forward(theta, x[None]), y[None])[0]

    def per_sample_losses(self, theta=None) -> torch.Tensor:
        """ℓ_μ(θ) for every sample μ, a tensor of length N (no gradient)."""
        with torch.no_grad():
            t = self.theta(theta)
            return self.ell(self.forward(t, self.X), self.Y)

    def value(self, theta=None) -> float:
        """L(θ), the mean loss over the data set (θ defaults to the trained parameters)."""
        with torch.no_grad():
            return float(self.loss(self.theta(theta)))

    def gradient(self, theta=None) -> torch.Tensor:
        """∇L(θ), a flat tensor of length d (θ defaults to the trained parameters)."""
        return grad(self.loss)(self.theta(theta)).detach()

    def value_and_gradient(self, theta, weight_decay: float = 0.0):
        """(L(θ) + ½λ‖θ‖², its gradient) as a float and a numpy array, for scipy's minimisers
        (``scipy.optimize.minimize(obj.value_and_gradient, θ₀, jac=True)``); λ =
        ``weight_decay``."""
        t = torch.tensor(np.asarray(theta, dtype=float), dtype=self.dtype, requires_grad=True)
        value = self.loss(t) + 0.5 * weight_decay * (t ** 2).sum()
        (g,) = torch.autograd.grad(value, t)
        return float(value.detach()), g.detach().numpy()

    def hvp(self, theta, v) -> torch.Tensor:
        """H(θ) v as the vector–Jacobian product of the gradient (reverse-over-reverse; H is
        symmetric, so vᵀH = Hv). For these small nets it is about twice as fast as
        forward-over-reverse and avoids loading torch's forward-mode decompositions."""
        return vjp(grad(self.loss), theta)[1](v)[0]

    def hvp_many(self, theta, V, chunk_size=None) -> torch.Tensor:
        """H V for the columns of V (d, m), vmapped over columns in chunks. Returns (d, m)."""
        if chunk_size is None:
            chunk_size = max(1, min(V.shape[1], _VMAP_BUDGET // max(1, self.n_samples * self.width())))
        f = vmap(lambda v: self.hvp(theta, v), chunk_size=chunk_size)
        return f(V.T).T

    def per_sample_gradients(self, theta=None, chunk_size=None) -> torch.Tensor:
        """∇ℓ_μ(θ) for every sample, shape (N, d), by ``vmap(grad)``."""
        t = self.theta(theta)
        g = vmap(grad(self.sample_loss), in_dims=(None, 0, 0), chunk_size=chunk_size)
        return g(t, self.X, self.Y).detach()

    def losses_at(self, thetas: torch.Tensor, points_per_batch=None) -> torch.Tensor:
        """L at many parameter vectors (shape (M, d)) without gradients; returns (M,)."""
        if points_per_batch is None:
            points_per_batch = max(1, _VMAP_BUDGET // max(1, self.n_samples * self.width()))
        f = vmap(self.loss)
        out = []
        with torch.no_grad():
            for i in range(0, thetas.shape[0], points_per_batch):
                out.append(f(thetas[i:i + points_per_batch]))
        return torch.cat(out) if out else torch.zeros(0, dtype=self.dtype)

    def width(self) -> int:
        """The widest layer of the network (sizes vmapped batches of evaluations)."""
        widths = [m.out_features for m in self.module.modules() if isinstance(m, nn.Linear)]
        widths += [m.in_features for m in self.module.modules() if isinstance(m, nn.Linear)]
        return max(widths) if widths else 256


def as_objective(model, data=None, loss=None, where: str = "fpsolve.nets") -> Objective:
    """An :class:`Objective` from (model, data, loss), or the objective itself."""
    if isinstance(model, Objective):
        if data is not None or loss is not None:
            raise InputError(f"{where}: an Objective already carries its data and loss; pass "
                             f"data=None and loss=None, or pass the model instead.")
        return model
    if data is None:
        raise InputError(f"{where}: data is required with a model (a Dataset or (X, y) pair).")
    return Objective(model, data, loss)
