"""Curvature of the data loss at a point θ: the exact Hessian, its top eigenpairs by Lanczos,
the Gauss–Newton matrix, and Hutchinson estimates of tr H and ‖H‖_F.

Every function takes ``(model, data, theta=None, loss=None)`` (or an :class:`Objective` in place of
the model, with ``data=None``); ``theta=None`` means the model's current parameters. Computations
are in float64 and return numpy arrays. H is the Hessian of L = (1/N) Σ ℓ_μ over all parameters,
in ``flat_parameters`` order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh
from torch.func import hessian as _fhessian, jacrev, vmap

from ..errors import InputError
from .objective import as_objective

MAX_EXACT_PARAMS = 6000


@dataclass
class Eigenpairs:
    """Eigenvalues (k,), largest first, and unit eigenvectors as columns (d, k)."""
    values: np.ndarray
    vectors: np.ndarray
    method: str
    n_matvec: int = 0


@dataclass
class HutchinsonEstimate:
    """A stochastic estimate: ``value`` ± ``stderr`` from ``n_samples`` probe vectors."""
    value: float
    stderr: float
    n_samples: int
    quantity: str
    samples: np.ndarray

    def __float__(self):
        return float(self.value)


def hessian(model, data=None, theta=None, *, loss=None, max_params: int = MAX_EXACT_PARAMS,
            chunk_size: int | None = None) -> np.ndarray:
    """The exact Hessian ∇²L(θ) as a dense (d, d) array, built column by column from
    Hessian-vector products (reverse-over-reverse) vmapped over basis vectors (``torch.func``).

    Symmetrised as (H + Hᵀ)/2, which changes it only at round-off. Refuses d > ``max_params``
    (memory d²·8 bytes): use :func:`lanczos` for the top eigenpairs instead.
    """
    obj = as_objective(model, data, loss, "hessian")
    d = obj.n_params
    if d > max_params:
        raise InputError(f"hessian: the network has d={d} parameters; the dense Hessian would need "
                         f"{d * d * 8 / 2**20:.0f} MiB. Use fpsolve.nets.lanczos for the top "
                         f"eigenpairs, or raise max_params (now {max_params}).")
    t = obj.theta(theta)
    eye = torch.eye(d, dtype=obj.dtype)
    H = obj.hvp_many(t, eye, chunk_size).detach().numpy()
    return 0.5 * (H + H.T)


def hessian_operator(model, data=None, theta=None, *, loss=None) -> LinearOperator:
    """H(θ) as a scipy ``LinearOperator`` (symmetric, float64) calling a Hessian-vector product.
    Its attribute ``n_matvec`` counts the products made."""
    obj = as_objective(model, data, loss, "hessian_operator")
    t = obj.theta(theta)
    d = obj.n_params

    class _Op(LinearOperator):
        def __init__(self):
            super().__init__(np.float64, (d, d))
            self.n_matvec = 0

        def _matvec(self, v):
            self.n_matvec += 1
            v = torch.as_tensor(np.ascontiguousarray(v).reshape(-1), dtype=obj.dtype)
            return obj.hvp(t, v).detach().numpy().copy()

        def _matmat(self, V):
            self.n_matvec += V.shape[1]
            V = torch.as_tensor(np.ascontiguousarray(V), dtype=obj.dtype)
            return obj.hvp_many(t, V).detach().numpy().copy()

        def _adjoint(self):
            return self

    return _Op()


def lanczos(model, data=None, theta=None, *, k: int = 1, which: str = "LA", loss=None,
            tol: float = 1e-10, maxiter: int | None = None, ncv: int | None = None,
            seed: int = 0) -> Eigenpairs:
    """Top-k eigenpairs of H(θ) by implicitly restarted Lanczos (ARPACK via
    ``scipy.sparse.linalg.eigsh``) on Hessian-vector products; H is never formed.

    ``which="LA"``: the k largest (algebraic) eigenvalues — the sharpness is ``values[0]``;
    ``"SA"``: the k smallest (most negative); ``"LM"``: the k largest in magnitude.
    The start vector is drawn from ``seed``, so the result is deterministic.
    """
    obj = as_objective(model, data, loss, "lanczos")
    d = obj.n_params
    if which not in ("LA", "SA", "LM"):
        raise InputError(f"lanczos: which must be 'LA', 'SA' or 'LM'; got {which!r}.")
    if not 1 <= k < d:
        raise InputError(f"lanczos: need 1 <= k < d = {d}; got k={k}. For all eigenvalues of a "
                         f"small network use numpy.linalg.eigh(fpsolve.nets.hessian(...)).")
    op = hessian_operator(obj, theta=theta)
    v0 = np.random.default_rng(seed).standard_normal(d)
    vals, vecs = eigsh(op, k=k, which=which, tol=tol, maxiter=maxiter, ncv=ncv, v0=v0)
    key = {"LA": -vals, "SA": vals, "LM": -np.abs(vals)}[which]
    order = np.argsort(key, kind="stable")
    return Eigenpairs(vals[order], vecs[:, order], "lanczos", op.n_matvec)


def top_eigenpairs(model, data=None, theta=None, *, k: int = 1, loss=None,
                   method: str = "auto", max_exact: int = 500, seed: int = 0) -> Eigenpairs:
    """The k largest (algebraic) eigenpairs of H(θ): exact (dense ``eigh``) when d <=
    ``max_exact`` or when k >= d − 1, Lanczos otherwise (``method`` "exact"/"lanczos" forces)."""
    obj = as_objective(model, data, loss, "top_eigenpairs")
    d = obj.n_params
    if not 1 <= k <= d:
        raise InputError(f"top_eigenpairs: need 1 <= k <= d = {d}; got k={k}.")
    if method not in ("auto", "exact", "lanczos"):
        raise InputError(f"top_eigenpairs: method must be 'auto', 'exact' or 'lanczos'; got {method!r}.")
    if method == "exact" or (method == "auto" and (d <= max_exact or k >= d - 1)):
        w, V = np.linalg.eigh(hessian(obj, theta=theta))
        return Eigenpairs(w[::-1][:k].copy(), V[:, ::-1][:, :k].copy(), "exact", d)
    return lanczos(obj, theta=theta, k=k, seed=seed)


def gauss_newton(model, data=None, theta=None, *, loss=None,
                 max_params: int = MAX_EXACT_PARAMS) -> np.ndarray:
    """The Gauss–Newton matrix G = (1/N) Σ_μ J_μᵀ Λ_μ J_μ, with J_μ = ∂f(x_μ)/∂θ (K × d) and
    Λ_μ = ∂²ℓ/∂f² (K × K): Λ = I for "mse" (½‖f − y‖²), diag(p) − ppᵀ for cross-entropy.

    G drops the term Σ_k (∂ℓ/∂f_k) ∇²f_k of the Hessian, so G = H when f is linear in θ, and
    G is positive semi-definite whenever ℓ is convex in f.
    """
    obj = as_objective(model, data, loss, "gauss_newton")
    d = obj.n_params
    if d > max_params:
        raise InputError(f"gauss_newton: d={d} parameters exceeds max_params={max_params}.")
    t = obj.theta(theta)
    f1 = lambda th, x: obj.forward(th, x[None])[0]  # noqa: E731
    J = vmap(jacrev(f1), in_dims=(None, 0))(t, obj.X).detach()             # (N, K, d)
    ell = lambda f, y: obj.ell(f[None], y[None])[0]  # noqa: E731
    with torch.no_grad():
        F_out = vmap(lambda x: obj.forward(t, x[None])[0])(obj.X)
    Lam = vmap(_fhessian(ell))(F_out, obj.Y).detach()                     # (N, K, K)
    G = torch.einsum("nkd,nkl,nle->de", J, Lam, J) / obj.n_samples
    G = G.numpy()
    return 0.5 * (G + G.T)


def hutchinson(model, data=None, theta=None, *, quantity: str = "trace", n_samples: int = 64,
               loss=None, seed: int = 0, distribution: str = "rademacher") -> HutchinsonEstimate:
    """Hutchinson's stochastic estimate of tr H or ‖H‖_F with its standard error.

    trace: samples vᵀHv with E[vvᵀ] = I (Rademacher or Gaussian v); E = tr H.
    frobenius: samples ‖Hv‖² with E = tr H² = ‖H‖_F²; the value is the square root of the mean
    and its standard error follows by the delta method, se(‖H‖_F) = se(tr H²)/(2‖H‖_F).
    The standard error is the sample standard deviation over √n_samples.
    """
    obj = as_objective(model, data, loss, "hutchinson")
    if quantity not in ("trace", "frobenius"):
        raise InputError(f"hutchinson: quantity must be 'trace' or 'frobenius'; got {quantity!r}.")
    if distribution not in ("rademacher", "gaussian"):
        raise InputError(f"hutchinson: distribution must be 'rademacher' or 'gaussian'; got "
                         f"{distribution!r}.")
    if n_samples < 2:
        raise InputError(f"hutchinson: need n_samples >= 2 for a standard error; got {n_samples}.")
    t = obj.theta(theta)
    gen = torch.Generator().manual_seed(int(seed))
    if distribution == "rademacher":
        V = torch.randint(0, 2, (obj.n_params, n_samples), generator=gen).to(obj.dtype) * 2 - 1
    else:
        V = torch.randn(obj.n_params, n_samples, generator=gen, dtype=obj.dtype)
    HV = obj.hvp_many(t, V).detach()
    s = ((V * HV).sum(0) if quantity == "trace" else (HV * HV).sum(0)).numpy()
    mean, se = float(s.mean()), float(s.std(ddof=1) / np.sqrt(n_samples))
    if quantity == "frobenius":
        norm = np.sqrt(max(mean, 0.0))
        return HutchinsonEstimate(norm, se / (2 * norm) if norm > 0 else np.inf, n_samples,
                                  quantity, s)
    return HutchinsonEstimate(mean, se, n_samples, quantity, s)
