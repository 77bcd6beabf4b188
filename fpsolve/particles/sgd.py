"""Discrete SGD vectorised over many independent chains — the process the SDE approximates.

Two noise models (:doc:`/theory/conventions`, D = (η/2)·C with C = Σ₁/B, time t = k·η):

* :func:`gaussian_sgd` — θ ← θ − η ∇L(θ) + η·sqrt(C(θ)) ξ, ξ ~ N(0, I): the SDE's own noise
  model with the SDE's time step dt = η, i.e. Euler–Maruyama of dθ = −∇L dt + sqrt(2D) dW.
* :func:`minibatch_sgd` — real mini-batches of a finite dataset of N per-sample losses: θ ← θ −
  (η/B) Σ_{i∈batch} ∇L_i(θ). With replacement the batch-gradient covariance is exactly Σ₁/B;
  without replacement (B distinct samples per step) it is Σ₁/B · (N − B)/(N − 1)
  (Hu et al., Prop. 1, Σ₁ the per-sample covariance with the 1/N normalisation).

Both differ from the SDE at O(η): on a quadratic with curvature λ the stationary variance is
larger by 1/(1 − ηλ/2) (:func:`fpsolve.compare.sgd_variance_factor`).

Results report time both as iterations ``k`` and as t = k·η (``SGDResult.iterations``,
``SGDResult.times``). Reproducible: the same seed gives the same chains.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numba import prange

from ..jit import njit
from ..errors import InputError
from ..fields.field import Density
from .routes import matrix_sqrt
from .results import histogram_counts
from .rng import next_u64, stream_states


@dataclass
class SGDResult:
    """Chains of SGD at the recorded iterations.

    iterations : (m,) iteration numbers k; times : k·η (the SDE's time). theta : list of m arrays
    (n_chains, d). lr, batch_size, n_samples, replacement : the run's settings (batch_size is
    None for Gaussian SGD).
    """

    iterations: np.ndarray
    times: np.ndarray
    theta: list
    lr: float
    batch_size: int | None = None
    n_samples: int | None = None
    replacement: bool | None = None
    seed: object = None
    wall_time: float = 0.0
    info: dict = field(default_factory=dict)

    @property
    def positions(self):
        """Alias of ``theta`` (the same layout as SimulationResult.positions)."""
        return self.theta

    def mean(self, index=-1):
        """Mean of the chains' θ at recorded step ``index`` (d,)."""
        return self.theta[index].mean(axis=0)

    def cov(self, index=-1):
        """Covariance of the chains' θ at recorded step ``index`` (d, d)."""
        return np.atleast_2d(np.cov(self.theta[index], rowvar=False))

    def histogram(self, grid, index=-1):
        """Density of the chains on ``grid`` (chains outside the grid's box are dropped)."""
        X = self.theta[index]
        counts = histogram_counts(X, grid)
        if counts.sum() == 0:
            raise InputError("SGDResult.histogram: no chain lies inside the grid.")
        return Density(grid, counts / (counts.sum() * grid.cell_volume),
                       {"counts": counts, "inside": int(counts.sum()), "n": len(X)})


def _chains(theta0, n_chains):
    th = np.asarray(theta0, dtype=float)
    if th.ndim == 0:
        th = th.reshape(1)
    if th.ndim == 1:
        if n_chains is None:
            raise InputError("sgd: give n_chains when theta0 is a single point.")
        th = np.tile(th, (int(n_chains), 1))
    elif th.ndim != 2 or (n_chains is not None and len(th) != int(n_chains)):
        raise InputError(f"sgd: theta0 must be a point (d,) or an array (n_chains, d); got shape "
                         f"{th.shape} with n_chains={n_chains}.")
    if not np.all(np.isfinite(th)):
        raise InputError("sgd: theta0 must be finite.")
    return th.copy()


def _record(record, n_steps):
    if n_steps < 0 or int(n_steps) != n_steps:
        raise InputError(f"sgd: n_steps must be a non-negative integer; got {n_steps}.")
    if record is None:
        return np.array([int(n_steps)])
    r = np.unique(np.asarray(record, dtype=int))
    if r.min() < 0 or r.max() > n_steps:
        raise InputError(f"sgd: record must hold iterations in [0, {n_steps}].")
    return r


def _check_lr(lr):
    if not (np.isfinite(lr) and lr > 0):
        raise InputError(f"sgd: the learning rate must be positive; got {lr}.")


def _as_grad(g, th, what):
    g = np.asarray(g, dtype=float)
    if g.shape != th.shape:
        if g.size == th.size:
            g = g.reshape(th.shape)
        else:
            raise InputError(f"sgd: {what} returned shape {g.shape}; expected {th.shape} "
                             f"(n_chains, d).")
    if not np.all(np.isfinite(g)):
        raise InputError(f"sgd: {what} is not finite; the learning rate may be too large for "
                         f"the curvature (divergence), or theta left the loss's domain.")
    return g


def _noise_factor(C, n, d):
    C = np.asarray(C, dtype=float)
    if C.ndim == 0 or C.shape == (n,):
        if np.any(C < 0):
            raise InputError("sgd: the gradient-noise covariance must be non-negative.")
        return "scalar", np.sqrt(C).reshape(-1, 1) if C.ndim else np.sqrt(C)
    if C.shape == (d, d):
        return "tensor", matrix_sqrt(C[None], "covariance")
    if C.shape == (n, d, d):
        return "tensor", matrix_sqrt(C, "covariance")
    raise InputError(f"sgd: covariance has shape {C.shape}; expected a number, ({n},), "
                     f"({d}, {d}) or ({n}, {d}, {d}).")


def gaussian_sgd(grad, theta0, lr, covariance, n_steps, n_chains=None, record=None, seed=None):
    """SGD with Gaussian gradient noise: θ ← θ − η ∇L(θ) + η·sqrt(C) ξ.

    grad : callable θ (n_chains, d) → (n_chains, d), the full-batch gradient ∇L.
    theta0 : a point (d,) (with n_chains) or an array (n_chains, d).
    lr : learning rate η. covariance : C = Σ₁/B, the covariance of the mini-batch gradient —
        a number (C·I), a (d, d) matrix, or a callable θ → (n_chains,), (d, d) or
        (n_chains, d, d). sqrt(C) is the Cholesky factor (eigen-decomposition when singular).
    n_steps : iterations; record : iterations at which to store θ (default: the last).

    The SDE limit is dθ = −∇L dt + sqrt(2D) dW with D = (η/2)·C and t = k·η.
    """
    _check_lr(lr)
    th = _chains(theta0, n_chains)
    rec = _record(record, n_steps)
    n, d = th.shape
    rng = np.random.default_rng(seed)
    const = None if callable(covariance) else _noise_factor(covariance, n, d)
    t0 = time.perf_counter()
    out = []
    ri = 0
    for k in range(int(n_steps) + 1):
        while ri < len(rec) and rec[ri] == k:
            out.append(th.copy())
            ri += 1
        if k == n_steps:
            break
        kind, fac = const if const is not None else _noise_factor(covariance(th), n, d)
        xi = rng.standard_normal((n, d))
        noise = fac * xi if kind == "scalar" else np.einsum("nij,nj->ni", fac, xi)
        th = th - lr * _as_grad(grad(th), th, "grad") + lr * noise
    return SGDResult(iterations=rec, times=rec * float(lr), theta=out, lr=float(lr), seed=seed,
                     wall_time=time.perf_counter() - t0)


# -- mini-batches ----------------------------------------------------------------------------
@njit(parallel=True, cache=True)
def _batches_without_replacement(N, B, states, chunk, out):
    """B distinct indices in [0, N) per row of ``out`` (n_chains, B): partial Fisher–Yates on a
    per-chunk identity permutation, restored after each row by resetting the touched slots
    (O(B) per chain, not O(N))."""
    n = out.shape[0]
    nch = (n + chunk - 1) // chunk
    for c in prange(nch):
        s = states[c]
        perm = np.arange(N)
        touched = np.empty(B, np.int64)
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            for j in range(B):
                # modulo bias below N / 2⁶⁴: negligible for any dataset size
                r = j + np.int64(next_u64(s) % np.uint64(N - j))
                touched[j] = r
                v = perm[r]
                perm[r] = perm[j]
                perm[j] = v
                out[i, j] = v
            for j in range(B):
                perm[j] = j
                perm[touched[j]] = touched[j]


def minibatch_sgd(grad_i, theta0, lr, n_samples, batch_size, n_steps, n_chains=None,
                  replacement=True, record=None, seed=None):
    """Mini-batch SGD on a finite dataset: θ ← θ − (η/B) Σ_{i∈batch} ∇L_i(θ).

    grad_i : callable (θ, idx) → per-sample gradients, vectorised over chains: θ has shape
        (n_chains, d), idx (n_chains, B) integer sample indices; returns (n_chains, B, d)
        (or (n_chains, B) when d = 1).
    n_samples : N, the dataset size; batch_size : B.
    replacement : True — B indices drawn uniformly with replacement each step (batch-gradient
        covariance Σ₁/B); False — B distinct indices each step (Σ₁/B·(N − B)/(N − 1)).

    Other arguments as :func:`gaussian_sgd`. The SDE limit has D = (η/2)·Σ₁/B (times the
    without-replacement factor) and t = k·η: :func:`sde_diffusion`.
    """
    _check_lr(lr)
    N = int(n_samples)
    B = int(batch_size)
    if N < 1 or B < 1 or (not replacement and B > N):
        raise InputError(f"minibatch_sgd: need 1 ≤ batch_size ≤ n_samples without replacement; "
                         f"got B={B}, N={N}.")
    th = _chains(theta0, n_chains)
    rec = _record(record, n_steps)
    n, d = th.shape
    rng = np.random.default_rng(seed)
    chunk = 256
    states = stream_states(seed, -(-n // chunk), key=(3,))
    idx = np.empty((n, B), dtype=np.int64)
    t0 = time.perf_counter()
    out = []
    ri = 0
    for k in range(int(n_steps) + 1):
        while ri < len(rec) and rec[ri] == k:
            out.append(th.copy())
            ri += 1
        if k == n_steps:
            break
        if replacement:
            idx = rng.integers(0, N, size=(n, B))
        else:
            _batches_without_replacement(N, B, states, chunk, idx)
        g = np.asarray(grad_i(th, idx), dtype=float)
        if d == 1 and g.shape == (n, B):
            g = g[..., None]
        if g.shape != (n, B, d):
            raise InputError(f"minibatch_sgd: grad_i returned shape {g.shape}; expected "
                             f"({n}, {B}, {d}) per-sample gradients.")
        th = th - lr * _as_grad(g.mean(axis=1), th, "grad_i")
    return SGDResult(iterations=rec, times=rec * float(lr), theta=out, lr=float(lr),
                     batch_size=B, n_samples=N, replacement=bool(replacement), seed=seed,
                     wall_time=time.perf_counter() - t0)


def sde_diffusion(lr, batch_size, per_sample_covariance, n_samples=None, replacement=True):
    """D = (η/2)·Σ₁/B, times (N − B)/(N − 1) without replacement (:doc:`/theory/conventions`)."""
    D = 0.5 * lr * np.asarray(per_sample_covariance, dtype=float) / batch_size
    if not replacement:
        if n_samples is None:
            raise InputError("sde_diffusion: without replacement needs n_samples.")
        D = D * (n_samples - batch_size) / (n_samples - 1)
    return D


# -- datasets ----------------------------------------------------------------------------------
class FiniteSumProblem:
    """A loss L(θ) = (1/N) Σ_n L_n(θ) given by its per-sample gradients.

    Attributes: ``n_samples``, ``dim``. Methods: ``grad_i(θ, idx)`` (the minibatch_sgd
    interface), ``grad(θ)`` (full gradient, (n_chains, d)), ``loss(θ)``,
    ``per_sample_covariance(θ)`` (Σ₁ at one point θ (d,), 1/N normalisation), ``diffusion``.
    """

    def __init__(self, n_samples, dim, per_sample_grad, per_sample_loss, name):
        self.n_samples = int(n_samples)
        self.dim = int(dim)
        self._g = per_sample_grad   # (θ (n, 1, d), idx (n, B)) → (n, B, d)
        self._l = per_sample_loss
        self.name = name

    def grad_i(self, theta, idx):
        """Per-sample gradients ∇ℓ_i(θ) for index arrays ``idx`` (n, B) → (n, B, d)."""
        th = np.asarray(theta, dtype=float).reshape(-1, self.dim)
        return self._g(th[:, None, :], np.asarray(idx))

    def grad(self, theta):
        """The full-batch gradient ∇L(θ) = mean of ∇ℓ_i, for θ of shape (n, d) → (n, d)."""
        th = np.asarray(theta, dtype=float).reshape(-1, self.dim)
        all_idx = np.broadcast_to(np.arange(self.n_samples), (len(th), self.n_samples))
        return self.grad_i(th, all_idx).mean(axis=1)

    def loss(self, theta):
        """The full-batch loss L(θ) for θ of shape (n, d) → (n,)."""
        th = np.asarray(theta, dtype=float).reshape(-1, self.dim)
        all_idx = np.broadcast_to(np.arange(self.n_samples), (len(th), self.n_samples))
        return self._l(th[:, None, :], all_idx).mean(axis=1)

    def per_sample_covariance(self, theta):
        """Σ₁(θ) = (1/N) Σ_i (∇ℓ_i − ∇L)(∇ℓ_i − ∇L)ᵀ at one θ (d, d)."""
        g = self.grad_i(np.asarray(theta, dtype=float).reshape(1, self.dim),
                        np.arange(self.n_samples)[None])[0]
        g = g - g.mean(axis=0)
        return g.T @ g / self.n_samples

    def diffusion(self, theta, lr, batch_size, replacement=True):
        """SDE diffusion D(θ) = (η/2)·Σ₁(θ)/B (× (N − B)/(N − 1) without replacement)."""
        return sde_diffusion(lr, batch_size, self.per_sample_covariance(theta), self.n_samples,
                             replacement)

    def __repr__(self):
        return f"FiniteSumProblem({self.name}, N={self.n_samples}, d={self.dim})"


def double_well_problem(s, n_samples=2):
    """Per-sample losses L_n(w) = (w² − 1)²/4 + x_n·w with x_n = ±s, balanced (N even).

    The mean loss is (w² − 1)²/4 and the per-sample gradients w³ − w + x_n have variance exactly
    β = s² at every w: SGD with batch B and rate η is the double well with D = η s²/(2B).
    """
    N = int(n_samples)
    if N < 2 or N % 2:
        raise InputError(f"double_well_problem: n_samples must be even (balanced ±s); got {N}.")
    x = np.where(np.arange(N) % 2 == 0, float(s), -float(s))

    def g(th, idx):
        w = th[..., 0]
        return (w ** 3 - w + x[idx])[..., None]

    def l(th, idx):
        w = th[..., 0]
        return (w ** 2 - 1) ** 2 / 4 + x[idx] * w

    prob = FiniteSumProblem(N, 1, g, l, f"double well, s={s}")
    prob.data = x
    return prob


def linear_regression_problem(features, targets):
    """Least squares L_n(θ) = (x_nᵀθ − y_n)²/2 with features (N, d) and targets (N,)."""
    F = np.asarray(features, dtype=float)
    y = np.asarray(targets, dtype=float).ravel()
    if F.ndim == 1:
        F = F[:, None]
    if F.ndim != 2 or len(F) != len(y):
        raise InputError(f"linear_regression_problem: features (N, d) and targets (N,) must "
                         f"match; got {F.shape} and {y.shape}.")

    def residual(th, idx):
        return np.einsum("nbd,nbd->nb", F[idx], np.broadcast_to(th, idx.shape + (F.shape[1],))) \
            - y[idx]

    def g(th, idx):
        return residual(th, idx)[..., None] * F[idx]

    def l(th, idx):
        return 0.5 * residual(th, idx) ** 2

    prob = FiniteSumProblem(len(y), F.shape[1], g, l, "linear regression")
    prob.features, prob.targets = F, y
    return prob


__all__ = ["SGDResult", "gaussian_sgd", "minibatch_sgd", "sde_diffusion", "FiniteSumProblem",
           "double_well_problem", "linear_regression_problem"]
