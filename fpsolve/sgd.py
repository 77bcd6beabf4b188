"""SGD as a diffusion: build the Fokker–Planck model of SGD on a loss (:doc:`/theory/conventions`).

SGD θₖ₊₁ = θₖ − η ĝₖ with mini-batches of size B maps to the Itô SDE

    dθ = −∇L(θ) dt + sqrt(2D) dW,   D(θ) = (η/2)·Σ₁(θ)/B,   t = k·η,

with Σ₁ the per-sample gradient covariance (a noise model from :mod:`fpsolve.noise`). Sampling
without replacement from N samples multiplies Σ₁/B by (N − B)/(N − 1). **Every time in a result
of such a model is SDE time t = k·η**; :func:`iterations` converts to iterations k.

Discrete SGD differs from the SDE at O(η) (e.g. the stationary variance of a quadratic with
curvature λ is larger by 1/(1 − ηλ/2)).
"""
from __future__ import annotations

import numpy as np

from .errors import InputError
from .coefficients import schedules
from .coefficients.evaluate import potential_on_cells
from .models.fokker_planck import FokkerPlanck
from .noise import NoiseModel


def model(grid, loss, lr, batch_size, noise, grad=None, dataset_size=None, replacement=True,
          schedule=None, convention="ito", boundary="reflecting") -> "SGDModel":
    """The Fokker–Planck model of SGD with learning rate ``lr`` and batch size ``batch_size``.

    loss : callable L(θ₁, …, θ_d) (vectorised), the drift is −∇L (from L on the grid, consistent
        with the flux; ``grad`` — callable returning one array per axis — is used where the
        gradient is needed pointwise, e.g. by particle simulation; default central differences).
    noise : a :class:`fpsolve.noise.NoiseModel` giving Σ₁.
    dataset_size, replacement : without replacement, D gains the factor (N − B)/(N − 1).
    schedule : learning-rate / batch-size schedule as a factor s(t) on D (see
        :func:`lr_batch_schedule`, :func:`batch_size_switch`).

    Returns an :class:`SGDModel` (a :class:`~fpsolve.FokkerPlanck` that also carries ``lr``,
    ``batch_size``, ``noise`` and ``time_unit = "t = k·lr"``).

    Examples
    --------
    SGD on L = θ²/2 with Σ₁ = 4, η = 0.1, B = 8: D = (η/2)·Σ₁/B = 0.025, and the stationary
    variance of the SDE is D/h = 0.025.

    >>> import fpsolve as fp
    >>> from fpsolve import noise, sgd
    >>> grid = fp.Grid([(-1.0, 1.0)], 200)
    >>> model = sgd.model(grid, loss=lambda th: th**2 / 2, lr=0.1, batch_size=8,
    ...                   noise=noise.Isotropic(4.0))
    >>> print(f"{model.stationary().var():.5f}")
    0.02500
    """
    return SGDModel(grid, loss, lr, batch_size, noise, gradient=grad, dataset_size=dataset_size,
                    replacement=replacement, schedule=schedule, convention=convention,
                    boundary=boundary)


class SGDModel(FokkerPlanck):
    """The Fokker–Planck model of SGD (built by :func:`model`): drift −∇L, diffusion
    D = (η/2)·factor·Σ₁/B from the noise model, time t = k·η.

    Attributes besides those of :class:`~fpsolve.FokkerPlanck`: ``lr`` (η), ``batch_size`` (B),
    ``noise`` (the noise model), ``minibatch_factor`` ((N − B)/(N − 1) without replacement, else
    1), ``loss`` (L as given), ``time_unit``.
    """

    time_unit = "t = k·lr"

    def __init__(self, grid, loss, lr, batch_size, noise, *, gradient=None, dataset_size=None,
                 replacement=True, schedule=None, convention="ito", boundary="reflecting"):
        if not (np.isscalar(lr) and np.isreal(lr) and np.isfinite(lr) and lr > 0):
            raise InputError(f"sgd.model: lr must be a positive number; got {lr!r}.")
        for name, v in (("batch_size", batch_size), ("dataset_size", dataset_size)):
            if v is not None and not _is_count(v):
                raise InputError(f"sgd.model: {name} must be a whole number of samples (≥ 1); "
                                 f"got {v!r}. For a continuous noise scale use a schedule "
                                 f"(lr_batch_schedule) or give the diffusion directly.")
        if not isinstance(noise, NoiseModel):
            raise InputError(f"sgd.model: noise must be a model from fpsolve.noise (Isotropic, "
                             f"Hessian, LossScaled, Covariance, WhiteNoise); got "
                             f"{type(noise).__name__}.")
        factor = minibatch_factor(batch_size, dataset_size, replacement)
        L = potential_on_cells(loss, grid)
        noise.check(grid, L, lr, batch_size)
        sigma1 = noise.sigma1(grid, L, loss_fn=loss)
        D = (lr / 2.0) * factor * sigma1 / batch_size if noise.scales_with_lr_and_batch else \
            sigma1
        if D.ndim == grid.ndim + 2:
            D = _scalar_if_isotropic(D, grid)
        super().__init__(grid, potential=loss, diffusion=D, convention=convention,
                         boundary=boundary, schedule=schedule, gradient=gradient)
        self.lr, self.batch_size, self.noise = float(lr), batch_size, noise
        self.minibatch_factor = factor

    @property
    def loss(self):
        """The loss L as given (the model's potential)."""
        return self.coefficients.user.potential

    @property
    def grad(self):
        """The exact ∇L as given (``grad=`` of :func:`model`), or None."""
        return self.coefficients.user.gradient


def _is_count(v) -> bool:
    """A whole number ≥ 1: an int, or a float with an integral value (4.0), not a bool."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer, float, np.floating)):
        return False
    return bool(np.isfinite(v) and float(v).is_integer() and v >= 1)


def minibatch_factor(batch_size, dataset_size=None, replacement=True) -> float:
    """Hu et al. Prop. 1: mini-batch covariance Σ₁/B × (N − B)/(N − 1) without replacement
    (= Σ₁·(1/B − 1/N)·N/(N − 1)); 1 with replacement. (Chaudhari–Soatto §3.1 print the two
    cases swapped.)"""
    if replacement:
        return 1.0
    if dataset_size is None:
        raise InputError("sgd: sampling without replacement needs dataset_size=N.")
    N, B = dataset_size, batch_size
    if not 1 <= B <= N or N < 2:
        raise InputError(f"sgd: need 1 ≤ batch_size ≤ dataset_size and N ≥ 2; got B={B}, N={N}.")
    return (N - B) / (N - 1)


def iterations(t, lr):
    """SGD iterations k for SDE time t = k·lr."""
    return np.asarray(t) / lr


def lr_batch_schedule(lr, batch_size, lr0, batch_size0, breakpoints=()):
    """Factor s(t) = (η(t)/B(t)) / (η₀/B₀) for schedules η(t), B(t) (numbers or callables of t).

    ``breakpoints`` are times where η or B jump; pass them so that steps land on them. If both
    are piecewise constant between the breakpoints the stepping reuses factorisations.
    """
    eta = lr if callable(lr) else (lambda t, v=lr: v)
    B = batch_size if callable(batch_size) else (lambda t, v=batch_size: v)
    f = lambda t: (eta(t) / B(t)) / (lr0 / batch_size0)  # noqa: E731
    if not callable(lr) and not callable(batch_size):
        return schedules.Constant(f(0.0))
    bp = np.sort(np.atleast_1d(np.asarray(breakpoints, dtype=float)))
    if bp.size:
        pieces = np.concatenate([[0.0], bp])
        # piecewise constant iff constant on each piece: sample each piece at three points
        consts = []
        for a, b in zip(pieces, np.concatenate([bp, [bp[-1] + 1.0]])):
            vals = [f(a + (b - a) * q) for q in (0.0, 0.37, 0.91)]
            consts.append(np.ptp(vals) == 0)
        if all(consts):
            return schedules.PiecewiseConstant(bp, [f(a) for a in pieces])
    return schedules.Function(f, breakpoints=bp)


def batch_size_switch(t_switch, batch_before, batch_after):
    """Batch size B₀ → B₁ at SDE time t_switch (η fixed): s = 1, then B₀/B₁."""
    return schedules.PiecewiseConstant([t_switch], [1.0, batch_before / batch_after])


def _scalar_if_isotropic(D, grid):
    d = grid.ndim
    off = [D[i, j] for i in range(d) for j in range(d) if i != j]
    diag = [D[i, i] for i in range(d)]
    if all(np.all(o == 0) for o in off) and all(np.array_equal(diag[0], x) for x in diag[1:]):
        return diag[0]
    return D
