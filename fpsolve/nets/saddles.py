r"""A network landscape with a known index-1 saddle: a minimum and its one-unit-removed saddle.

Removing a hidden unit of a one-hidden-layer network and minimising over the others gives a
critical point of the full network: the narrower network's minimum embedded with the removed
unit's weights at zero (Fukumizu & Amari, Neural Networks 13, 2000). With weight decay, and a
teacher in which every unit matters, it is a saddle of index one (measured: one negative
Hessian eigenvalue at d = 37 and d = 1013), so a minimum-action path from the minimum to it
is a well-posed large-deviation question in the network's full parameter space (the benchmark
and the tests of :func:`fpsolve.large_deviations.whitened_path` use it).

Conventions: the loss is the model's mean-square loss plus ½·λ‖θ‖² (λ = ``weight_decay``), θ in
``flat_parameters`` order of ``mlp([n_features, width, 1])``: first-layer weights (width ×
n_features, row by row), first-layer biases, output weights, output bias.
"""
from __future__ import annotations

import numpy as np
import scipy.optimize as so
import torch

from .data import Dataset
from .models import flat_parameters, mlp
from .objective import Objective


def teacher_student_saddle(n: int = 512, n_features: int = 20, width: int = 46,
                           weight_decay: float = 0.1, noise: float = 0.1, seed: int = 1):
    """A tanh MLP [n_features, width, 1] fitted (L-BFGS) to a teacher of the same width, and the
    saddle of one unit removed.

    The teacher's output weights are ±3/√width and its input weights of scale 1.5/√n_features,
    so that no unit is dead (a dead unit gives a flat direction, not a saddle); targets carry
    Gaussian noise of standard deviation ``noise``. Returns ``(objective, theta_min,
    theta_saddle)``: the :class:`~fpsolve.nets.Objective` (without the weight decay, which
    belongs to the dynamics: ``network_dynamics(..., weight_decay=...)``), the minimum reached
    from the teacher's weights, and the critical point with the weakest unit (smallest
    |output weight|·‖input weights‖) removed. Refine both with the dynamics' Newton method and
    check their kind (``dyn.classify``) before use.
    """
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, n_features, generator=g, dtype=torch.float64)
    teacher = mlp([n_features, width, 1], activation="tanh", seed=2)
    with torch.no_grad():
        teacher[0].weight.copy_(torch.randn(width, n_features, generator=g, dtype=torch.float64)
                                * 1.5 / n_features ** 0.5)
        teacher[0].bias.copy_(0.3 * torch.randn(width, generator=g, dtype=torch.float64))
        teacher[2].weight.copy_(torch.sign(torch.randn(1, width, generator=g,
                                                       dtype=torch.float64)) * 3.0 / width ** 0.5)
        teacher[2].bias.zero_()
        y = teacher(X) + noise * torch.randn(n, 1, generator=g, dtype=torch.float64)
    obj = Objective(mlp([n_features, width, 1], activation="tanh", seed=0),
                    Dataset(X, y, "regression", None, "custom", {}))
    theta = _minimise(obj, flat_parameters(teacher).numpy(), weight_decay, np.ones(obj.n_params))
    return obj, theta, remove_weakest_unit(obj, theta, n_features, width, weight_decay)


def remove_weakest_unit(obj, theta, n_features: int, width: int, weight_decay: float):
    """The critical point of ``obj`` + ½λ‖θ‖² with the weakest hidden unit of ``theta`` (smallest
    |output weight|·‖input weights‖) set to zero and the other parameters minimised (L-BFGS)."""
    theta = np.asarray(theta, dtype=float)
    first = n_features * width
    W = theta[:first].reshape(width, n_features)
    a = theta[first + width:first + 2 * width]
    k = int(np.argmin(np.abs(a) * np.linalg.norm(W, axis=1)))
    unit = np.r_[np.arange(k * n_features, (k + 1) * n_features), first + k, first + width + k]
    keep = np.ones(theta.size)
    keep[unit] = 0.0
    return _minimise(obj, np.where(keep > 0, theta, 0.0), weight_decay, keep)


def _minimise(obj, theta, weight_decay, keep):
    """L-BFGS on the weight-decayed loss over the parameters where ``keep`` is 1 (the others
    stay where they are: their gradient is masked)."""
    def value_and_gradient(th):
        value, grad = obj.value_and_gradient(th, weight_decay)
        return value, grad * keep

    return so.minimize(value_and_gradient, theta, jac=True, method="L-BFGS-B",
                       options=dict(maxiter=20000, gtol=1e-11, ftol=1e-17)).x
