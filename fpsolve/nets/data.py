"""Offline data sets for the network experiments: scikit-learn's bundled digits, synthetic
teacher–student regression and Gaussian-mixture classification. Nothing is downloaded.

A :class:`Dataset` holds float inputs ``X`` of shape (N, n_features) and targets ``y``: integer
class labels of shape (N,) for classification, floats of shape (N, n_outputs) for regression.
Every generator is deterministic under its ``seed``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import InputError

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Dataset:
    """Inputs and targets of a supervised problem.

    Attributes
    ----------
    X : torch.Tensor, shape (N, n_features), float64
    y : torch.Tensor, shape (N,) int64 labels 0..num_classes−1 (classification) or
        (N, n_outputs) float64 (regression)
    task : "classification" or "regression"
    num_classes : int or None
    name : str
    info : dict, generator settings (seed, noise, the teacher's parameters, ...)
    """

    X: torch.Tensor
    y: torch.Tensor
    task: str
    num_classes: int | None = None
    name: str = "data"
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.task not in TASKS:
            raise InputError(f"Dataset: task must be one of {TASKS}; got {self.task!r}.")
        if self.X.ndim != 2:
            raise InputError(
                f"Dataset {self.name!r}: X must have shape (N, n_features); got {tuple(self.X.shape)}.")
        if self.y.shape[0] != self.X.shape[0]:
            raise InputError(
                f"Dataset {self.name!r}: X has {self.X.shape[0]} rows but y has {self.y.shape[0]}; "
                f"give one target per input row.")

    def __len__(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of input features (columns of X)."""
        return int(self.X.shape[1])

    @property
    def n_outputs(self) -> int:
        """Output width a model needs: num_classes (logits) or the regression target width."""
        return int(self.num_classes) if self.task == "classification" else int(self.y.shape[1])

    @property
    def default_loss(self) -> str:
        """"cross_entropy" for classification, "mse" for regression."""
        return "cross_entropy" if self.task == "classification" else "mse"

    def subset(self, index) -> "Dataset":
        """The rows ``index`` (an int n means the first n rows) as a new Dataset."""
        if isinstance(index, (int, np.integer)):
            if not 1 <= index <= len(self):
                raise InputError(
                    f"Dataset.subset: n={index} is outside 1..{len(self)} for {self.name!r}.")
            index = slice(0, int(index))
        elif not isinstance(index, slice):
            index = torch.as_tensor(np.asarray(index), dtype=torch.long)
        return Dataset(self.X[index], self.y[index], self.task, self.num_classes, self.name,
                       dict(self.info))


def as_dataset(data, where: str = "data") -> Dataset:
    """Accept a :class:`Dataset` or an ``(X, y)`` pair (integer y means class labels)."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        X = torch.as_tensor(np.asarray(data[0]) if not torch.is_tensor(data[0]) else data[0])
        y = torch.as_tensor(np.asarray(data[1]) if not torch.is_tensor(data[1]) else data[1])
        if X.ndim == 1:
            X = X[:, None]
        X = X.to(torch.float64)
        if not torch.is_floating_point(y):
            y = y.to(torch.long).reshape(-1)
            if y.numel() and int(y.min()) < 0:
                raise InputError(f"{where}: class labels must be 0, 1, ..., K−1; found {int(y.min())}.")
            k = int(y.max()) + 1 if y.numel() else 0
            return Dataset(X, y, "classification", k, "data")
        y = y.to(torch.float64)
        if y.ndim == 1:
            y = y[:, None]
        return Dataset(X, y, "regression", None, "data")
    raise InputError(
        f"{where}: expected an fpsolve.nets.Dataset or a pair (X, y); got {type(data).__name__}. "
        f"Build one with fpsolve.nets.load_digits / teacher_student / gaussian_mixture.")


def load_digits(n: int | None = None, classes=None, standardize: bool = True,
                seed: int = 0) -> Dataset:
    """scikit-learn's bundled 8×8 digits (1797 images, 64 features, 10 classes); offline.

    Parameters
    ----------
    n : number of images to keep (a seeded random subset), all when None.
    classes : the digit classes to keep (relabelled 0..K−1 in the order given), all when None.
    standardize : rescale each pixel to zero mean and unit variance (constant pixels stay 0).
    seed : seed of the subset permutation.
    """
    try:
        from sklearn.datasets import load_digits as _sk_load
    except ImportError as exc:  # scikit-learn is optional
        raise InputError("load_digits needs scikit-learn (pip install scikit-learn); use "
                         "teacher_student or gaussian_mixture for data without it.") from exc
    X, y = _sk_load(return_X_y=True)
    X = X.astype(np.float64) / 16.0
    if classes is not None:
        classes = [int(c) for c in classes]
        if not classes or any(c not in range(10) for c in classes) or len(set(classes)) != len(classes):
            raise InputError(f"load_digits: classes must be distinct digits 0..9; got {classes}.")
        keep = np.isin(y, classes)
        X, y = X[keep], np.array([classes.index(c) for c in y[keep]])
    perm = np.random.default_rng(seed).permutation(len(y))
    if n is not None:
        if not 1 <= int(n) <= len(y):
            raise InputError(f"load_digits: n={n} must lie in 1..{len(y)} (images available).")
        perm = perm[: int(n)]
    X, y = X[perm], y[perm]
    if standardize:
        mu, sd = X.mean(0), X.std(0)
        X = (X - mu) / np.where(sd > 0, sd, 1.0)
    k = len(classes) if classes is not None else 10
    return Dataset(torch.as_tensor(X), torch.as_tensor(y, dtype=torch.long), "classification", k,
                   "digits", {"seed": seed, "classes": classes, "standardize": standardize})


def teacher_student(n: int = 256, n_features: int = 8, hidden=(16,), n_outputs: int = 1,
                    activation: str = "tanh", noise: float = 0.0, seed: int = 0) -> Dataset:
    """Regression targets from a random teacher MLP: y = f_teacher(x) + noise·ξ, x, ξ ~ N(0, I).

    ``hidden=()`` gives a linear teacher (linear regression). The teacher's flat parameters are in
    ``info["teacher_theta"]``; its weights are N(0, 1/fan_in), biases N(0, 0.1²).
    """
    from .models import mlp, flat_parameters  # local: models imports nothing from here

    if n < 1 or n_features < 1 or n_outputs < 1:
        raise InputError(f"teacher_student: n, n_features, n_outputs must be >= 1; got "
                         f"{n}, {n_features}, {n_outputs}.")
    if noise < 0:
        raise InputError(f"teacher_student: noise is a standard deviation, >= 0; got {noise}.")
    gen = torch.Generator().manual_seed(int(seed))
    X = torch.randn(n, n_features, generator=gen, dtype=torch.float64)
    teacher = mlp([n_features, *hidden, n_outputs], activation=activation, seed=seed + 1)
    with torch.no_grad():
        y = teacher(X) + noise * torch.randn(n, n_outputs, generator=gen, dtype=torch.float64)
    return Dataset(X, y, "regression", None, "teacher_student",
                   {"seed": seed, "noise": noise, "hidden": tuple(hidden), "activation": activation,
                    "teacher_theta": flat_parameters(teacher).numpy()})


def gaussian_mixture(n: int = 256, n_features: int = 2, num_classes: int = 2,
                     separation: float = 3.0, seed: int = 0) -> Dataset:
    """Balanced classification: class c has x ~ N(μ_c, I), with the means at distance
    ``separation`` from the origin along random (seeded) directions."""
    if n < num_classes or num_classes < 2 or n_features < 1:
        raise InputError(f"gaussian_mixture: need num_classes >= 2, n >= num_classes and "
                         f"n_features >= 1; got n={n}, num_classes={num_classes}, "
                         f"n_features={n_features}.")
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((num_classes, n_features))
    means *= separation / np.linalg.norm(means, axis=1, keepdims=True)
    y = np.arange(n) % num_classes
    rng.shuffle(y)
    X = means[y] + rng.standard_normal((n, n_features))
    return Dataset(torch.as_tensor(X), torch.as_tensor(y, dtype=torch.long), "classification",
                   num_classes, "gaussian_mixture",
                   {"seed": seed, "separation": separation, "means": means})
