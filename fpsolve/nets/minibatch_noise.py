r"""Gradient noise at a point θ: per-sample gradients, the covariance spectrum, its rank, Mori's
noise strength, and the alignment of the noise with the Hessian.

Normalisation (stated once, used everywhere). With per-sample gradients g_μ = ∇ℓ_μ(θ) and
ḡ = ∇L = (1/N) Σ g_μ, the *per-sample covariance* is

    Σ₁ = (1/N) Σ_μ (g_μ − ḡ)(g_μ − ḡ)ᵀ          (1/N, not 1/(N − 1)).

A mini-batch gradient of size B then has covariance

    C = Σ₁ / B                        (indices drawn with replacement),
    C = Σ₁ / B · (N − B)/(N − 1)      (without replacement, a random B-subset),

both exact. The SGD diffusion matrix (:doc:`/theory/conventions`, t = k·η) is D = (η/2) C. Mori et
al.'s noise strength is 𝒩 = (1/N) Σ |g_μ|² − |ḡ|² = tr Σ₁. Chaudhari–Soatto's D(x) is Σ₁; Xie et
al.'s C (their eq. 5) is Σ₁/B.

The spectrum comes from a thin SVD of the centred matrix (G − ḡ)/√N (shape N × d): the
eigenvalues of Σ₁ are the squared singular values, so the d × d matrix is never formed. Its rank
is at most min(d, N − 1) (the centred rows sum to zero).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import InputError
from .objective import as_objective

RANK_RTOLS = (1e-2, 1e-4, 1e-8)
MAX_DENSE = 6000


def minibatch_factor(n_samples: int, batch_size: int, replacement: bool = True) -> float:
    """C / Σ₁ for a mini-batch of size B: 1/B with replacement, (N − B)/((N − 1) B) without."""
    N, B = int(n_samples), int(batch_size)
    if B < 1 or (not replacement and B > N):
        raise InputError(f"batch_size={B} is invalid for N={N} samples: need 1 <= B"
                         f"{' <= N without replacement' if not replacement else ''}.")
    if replacement:
        return 1.0 / B
    return (N - B) / ((N - 1) * B) if N > 1 else 0.0


def per_sample_gradients(model, data=None, theta=None, *, loss=None,
                         chunk_size: int | None = None) -> np.ndarray:
    """∇ℓ_μ(θ) for every sample μ, shape (N, d) (``torch.func.vmap`` over ``grad``)."""
    obj = as_objective(model, data, loss, "per_sample_gradients")
    return obj.per_sample_gradients(theta, chunk_size).numpy()


@dataclass
class GradientNoise:
    """Gradient-noise statistics at one point θ. See the module docstring for normalisation.

    Attributes
    ----------
    n_samples (N), n_params (d), loss (L(θ)), mean_gradient (∇L, shape (d,)),
    noise_strength (𝒩 = tr Σ₁), mean_sq_norm ((1/N) Σ|∇ℓ_μ|²),
    eigenvalues (eigenvalues of Σ₁, descending, length min(N, d); None if spectrum=False),
    eigenvectors ((d, min(N, d)) orthonormal columns, or None),
    max_rank (min(d, N − 1)), ranks ({rtol: #eigenvalues > rtol·λ_max}),
    numerical_rank (matrix-rank tolerance max(N, d)·eps on the singular values).
    """
    n_samples: int
    n_params: int
    loss: float
    mean_gradient: np.ndarray
    noise_strength: float
    mean_sq_norm: float
    eigenvalues: np.ndarray | None = None
    eigenvectors: np.ndarray | None = None
    ranks: dict = field(default_factory=dict)
    numerical_rank: int | None = None
    gradients: np.ndarray | None = None

    @property
    def max_rank(self) -> int:
        """The largest possible rank of the per-sample gradient covariance, min(d, N − 1)."""
        return min(self.n_params, self.n_samples - 1)

    def _need_spectrum(self, what):
        if self.eigenvalues is None:
            raise InputError(f"GradientNoise.{what}: computed with spectrum=False; call "
                             f"gradient_noise(..., spectrum=True).")

    def rank(self, rtol: float) -> int:
        """Number of eigenvalues of Σ₁ above ``rtol`` × the largest."""
        self._need_spectrum("rank")
        lam = self.eigenvalues
        return int(np.sum(lam > rtol * lam[0])) if lam.size and lam[0] > 0 else 0

    @property
    def covariance(self) -> np.ndarray:
        """Σ₁ as a dense (d, d) array (only for d <= 6000; use :meth:`project` beyond)."""
        self._need_spectrum("covariance")
        if self.n_params > MAX_DENSE:
            raise InputError(f"GradientNoise.covariance: d={self.n_params} is too large for a dense "
                             f"matrix; use .project(V) for Vᵀ Σ₁ V on a few directions.")
        U = self.eigenvectors
        S = (U * self.eigenvalues) @ U.T
        return 0.5 * (S + S.T)

    def project(self, V) -> np.ndarray:
        """Vᵀ Σ₁ V for directions V of shape (d, k) (or (d,)), without forming Σ₁."""
        self._need_spectrum("project")
        V = np.asarray(V, dtype=float)
        one = V.ndim == 1
        V = V[:, None] if one else V
        if V.shape[0] != self.n_params:
            raise InputError(f"GradientNoise.project: V has {V.shape[0]} rows; need d={self.n_params}.")
        W = self.eigenvectors.T @ V
        P = (W.T * self.eigenvalues) @ W
        P = 0.5 * (P + P.T)
        return P[0, 0] if one else P

    def minibatch_covariance(self, batch_size: int, replacement: bool = True) -> np.ndarray:
        """C = Σ₁/B (with replacement) or Σ₁/B·(N − B)/(N − 1) (without), dense (d, d)."""
        return minibatch_factor(self.n_samples, batch_size, replacement) * self.covariance

    def diffusion(self, lr: float, batch_size: int, replacement: bool = True) -> np.ndarray:
        """The SGD diffusion matrix D = (η/2)·C (units θ² per unit t = k·η), dense (d, d)."""
        if not lr > 0:
            raise InputError(f"GradientNoise.diffusion: lr must be > 0; got {lr}.")
        return 0.5 * lr * self.minibatch_covariance(batch_size, replacement)


def gradient_noise(model, data=None, theta=None, *, loss=None, spectrum: bool = True,
                   rank_rtols=RANK_RTOLS, keep_gradients: bool = False,
                   chunk_size: int | None = None) -> GradientNoise:
    """Per-sample gradient statistics at θ (the model's parameters by default).

    ``spectrum=False`` skips the SVD (𝒩, ∇L and L only: cheap enough to call every epoch).
    ``keep_gradients`` stores the (N, d) per-sample gradient matrix in ``.gradients``.
    """
    obj = as_objective(model, data, loss, "gradient_noise")
    t = obj.theta(theta)
    G = obj.per_sample_gradients(t, chunk_size)
    N, d = G.shape
    if N < 2:
        raise InputError("gradient_noise: need at least 2 samples for a covariance.")
    gbar = G.mean(0)
    msq = float((G * G).sum(1).mean())
    noise = msq - float(gbar @ gbar)
    out = GradientNoise(N, d, obj.value(t), gbar.numpy(), noise, msq,
                        gradients=G.numpy() if keep_gradients else None)
    if spectrum:
        Gc = (G - gbar) / np.sqrt(N)
        _, s, Vh = torch.linalg.svd(Gc, full_matrices=False)
        out.eigenvalues = (s * s).numpy()
        out.eigenvectors = Vh.T.contiguous().numpy()
        out.ranks = {float(r): out.rank(r) for r in rank_rtols}
        tol = float(s[0]) * max(N, d) * np.finfo(np.float64).eps if s.numel() else 0.0
        out.numerical_rank = int((s > tol).sum())
    return out


def projected_covariance(model, data=None, theta=None, directions=None, *, loss=None):
    """Vᵀ Σ₁ V for directions V (d, k) from the per-sample gradients, without an SVD and without
    forming Σ₁; returns (Vᵀ Σ₁ V, ∇L, L) at θ."""
    obj = as_objective(model, data, loss, "projected_covariance")
    t = obj.theta(theta)
    V = torch.as_tensor(np.asarray(directions, dtype=float), dtype=obj.dtype)
    V = V[:, None] if V.ndim == 1 else V
    if V.shape[0] != obj.n_params:
        raise InputError(f"projected_covariance: directions have {V.shape[0]} rows; need "
                         f"d={obj.n_params}.")
    G = obj.per_sample_gradients(t)
    gbar = G.mean(0)
    P = (G - gbar) @ V
    S = (P.T @ P / G.shape[0]).numpy()
    return 0.5 * (S + S.T), gbar.numpy(), obj.value(t)


@dataclass
class Alignment:
    """C = Σ₁/B against H/B in H's eigenbasis (Xie et al. Fig. 1).

    Attributes
    ----------
    h_over_b : λ_i / B, the Hessian eigenvalues over B (descending)
    c_diagonal : v_iᵀ C v_i, the noise covariance along each Hessian eigenvector
    correlation : Pearson correlation of c_diagonal with h_over_b
    log_correlation : Pearson correlation of their logarithms, over the pairs where both are
        above 1e-10 × the largest (smaller ones are round-off; Xie et al. plot on log axes)
    ratio : least-squares slope of c_diagonal against h_over_b through the origin (Xie et al.
        report C ≈ 0.62·H/B on MNIST)
    commutator : ‖CH − HC‖_F / (‖C‖_F ‖H‖_F) (0 iff C and H commute), computed in the span of
        the eigenvectors given (the whole space for a full eigenbasis)
    """
    h_over_b: np.ndarray
    c_diagonal: np.ndarray
    correlation: float
    log_correlation: float
    ratio: float
    commutator: float
    batch_size: int
    full_basis: bool


def alignment(noise: GradientNoise, hessian, batch_size: int, replacement: bool = True) -> Alignment:
    """Compare C = Σ₁/B (mini-batch normalisation from ``replacement``) with H/B.

    ``hessian``: a dense (d, d) Hessian, or ``(values, vectors)`` of some of its eigenpairs (e.g.
    :func:`fpsolve.nets.lanczos`), in which case the commutator is that of the compressions
    Vᵀ C V and Vᵀ H V = diag(λ).
    """
    if isinstance(hessian, tuple) or hasattr(hessian, "vectors"):
        lam, U = (hessian.values, hessian.vectors) if hasattr(hessian, "vectors") else hessian
        lam, U = np.asarray(lam, float), np.asarray(U, float)
        full = U.shape[1] == noise.n_params
    else:
        H = np.asarray(hessian, dtype=float)
        if H.shape != (noise.n_params, noise.n_params):
            raise InputError(f"alignment: hessian has shape {H.shape}; need ({noise.n_params}, "
                             f"{noise.n_params}) to match the gradient noise.")
        lam, U = np.linalg.eigh(0.5 * (H + H.T))
        lam, U = lam[::-1], U[:, ::-1]
        full = True
    Ct = minibatch_factor(noise.n_samples, batch_size, replacement) * noise.project(U)
    hb = lam / batch_size
    cd = np.diag(Ct).copy()
    corr = float(np.corrcoef(cd, hb)[0, 1]) if np.std(cd) > 0 and np.std(hb) > 0 else np.nan
    pos = (hb > 1e-10 * np.abs(hb).max()) & (cd > 1e-10 * np.abs(cd).max())
    logc = (float(np.corrcoef(np.log(cd[pos]), np.log(hb[pos]))[0, 1])
            if pos.sum() > 2 else np.nan)
    ratio = float(cd @ hb / (hb @ hb)) if hb @ hb > 0 else np.nan
    # in the eigenbasis H̃ = diag(λ): [C̃, H̃]_ij = C̃_ij (λ_j − λ_i); Frobenius norms are invariant
    comm = np.linalg.norm(Ct * (lam[None, :] - lam[:, None]))
    denom = np.linalg.norm(Ct) * np.linalg.norm(lam)
    return Alignment(hb, cd, corr, logc, ratio, float(comm / denom) if denom > 0 else np.nan,
                     int(batch_size), bool(full))
