r"""Reduced landscapes: the loss of a network restricted to a k-dimensional affine slice,

    L_red(z) = L(θ* + V z),   V = [v₁ … v_k] with orthonormal columns, z ∈ R^k (units of θ),

either the span of the top-k Hessian eigenvectors at a trained minimum θ* (k = 1 to 3), or the
straight line from one minimum θ_a to another θ_b (k = 1, z = distance from θ_a along the unit
vector (θ_b − θ_a)/|θ_b − θ_a|, so z runs from 0 to |θ_b − θ_a|).

The reduced SDE. Projecting SGD's SDE dθ = −∇L dt + sqrt(2D) dW onto the slice, with the other
coordinates frozen at θ*, gives dz = −∇_z L_red dt + sqrt(2 D_red) dW with

    D_red = Vᵀ D V = (η/2) · Vᵀ Σ₁ V · c_B,   c_B = 1/B (with replacement) or (N − B)/((N − 1) B),

Σ₁ the per-sample gradient covariance (1/N normalisation, :mod:`fpsolve.nets.minibatch_noise`) measured at
θ* (a constant matrix; :meth:`ReducedLandscape.noise_covariance_at` gives it elsewhere), and time
t = k·η. Because V is orthonormal, −∇_z L_red = Vᵀ(−∇L) is exactly the projected drift. The
freezing of the other coordinates is the approximation; it is good when they relax much faster
(their Hessian eigenvalues are larger) or when the slice is the escape path.

``potential`` and ``diffusion(lr, batch_size)`` plug into
``fpsolve.FokkerPlanck(grid, potential=..., diffusion=...)`` on a k-dimensional grid.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.func import grad, vmap

from ..errors import InputError
from .curvature import top_eigenpairs
from .minibatch_noise import minibatch_factor, projected_covariance
from .objective import Objective, as_objective


@dataclass
class ReducedLandscape:
    """L restricted to θ* + V z; build with :func:`reduced_model`.

    Attributes
    ----------
    objective : the :class:`Objective` (network, data, loss)
    theta_star : (d,) the centre θ* (θ_a for a path)
    directions : V, (d, k) orthonormal columns
    k : dimension of the slice
    kind : "hessian" (top-k eigenvectors), "directions" (given) or "path"
    hessian_eigenvalues : (k,) eigenvalues belonging to V for kind "hessian", else None
    reduced_hessian : Vᵀ H(θ*) V, (k, k)
    noise_covariance : Vᵀ Σ₁(θ*) V, (k, k)
    gradient_star : Vᵀ ∇L(θ*), (k,) (≈ 0 at a minimum)
    loss_star : L(θ*)
    n_samples : N (for the without-replacement factor)
    path_length : |θ_b − θ_a| for a path, else None
    """
    objective: Objective
    theta_star: np.ndarray
    directions: np.ndarray
    kind: str
    hessian_eigenvalues: np.ndarray | None
    reduced_hessian: np.ndarray
    noise_covariance: np.ndarray
    gradient_star: np.ndarray
    loss_star: float
    path_length: float | None = None
    points_per_batch: int | None = None

    @property
    def k(self) -> int:
        """Number of directions (columns of V): the dimension of z."""
        return int(self.directions.shape[1])

    @property
    def n_samples(self) -> int:
        """Number of samples N of the data set the loss is the mean over."""
        return self.objective.n_samples

    def _points(self, coords, what):
        if len(coords) != self.k:
            raise InputError(f"ReducedLandscape.{what}: got {len(coords)} coordinate arrays; the "
                             f"slice has k={self.k} (call it as {what}(z1, ..., z{self.k})).")
        arrs = np.broadcast_arrays(*[np.asarray(c, dtype=float) for c in coords])
        shape = arrs[0].shape
        Z = np.stack([a.reshape(-1) for a in arrs], axis=1)
        if not np.all(np.isfinite(Z)):
            raise InputError(f"ReducedLandscape.{what}: coordinates contain NaN or inf.")
        obj = self.objective
        th = (torch.as_tensor(self.theta_star, dtype=obj.dtype)[None, :]
              + torch.as_tensor(Z, dtype=obj.dtype) @ torch.as_tensor(self.directions, dtype=obj.dtype).T)
        return th, shape

    def potential(self, *coords) -> np.ndarray:
        """L_red(z) = L(θ* + V z), vectorised: k arrays of one shape (e.g. 'ij' meshgrids, or
        scalars) in, an array of that shape out. Evaluated in batches under ``torch.no_grad``
        in float64."""
        th, shape = self._points(coords, "potential")
        return self.objective.losses_at(th, self.points_per_batch).numpy().reshape(shape)

    def gradient(self, *coords) -> tuple:
        """∇_z L_red = Vᵀ ∇L(θ* + V z), one array per axis (the drift is its negative)."""
        th, shape = self._points(coords, "gradient")
        obj = self.objective
        f = vmap(grad(obj.loss))
        n = self.points_per_batch or max(1, 2 ** 21 // max(1, obj.n_samples * obj.width()))
        V = torch.as_tensor(self.directions, dtype=obj.dtype)
        out = torch.cat([f(th[i:i + n]).detach() @ V for i in range(0, th.shape[0], n)])
        return tuple(out[:, j].numpy().reshape(shape) for j in range(self.k))

    def diffusion(self, lr: float, batch_size: int, replacement: bool = True) -> np.ndarray:
        """D_red = (η/2) · Vᵀ Σ₁ V · c_B, a constant (k, k) matrix (units θ² per unit t = k·η);
        c_B = 1/B with replacement, (N − B)/((N − 1) B) without."""
        if not lr > 0:
            raise InputError(f"ReducedLandscape.diffusion: lr must be > 0; got {lr}.")
        return 0.5 * lr * minibatch_factor(self.n_samples, batch_size, replacement) * self.noise_covariance

    def noise_covariance_at(self, z) -> np.ndarray:
        """Vᵀ Σ₁(θ* + V z) V at one point z (shape (k,)): the state-dependent version."""
        z = np.asarray(z, dtype=float).reshape(-1)
        if z.shape != (self.k,):
            raise InputError(f"noise_covariance_at: z must have {self.k} entries; got {z.shape}.")
        return projected_covariance(self.objective, theta=self.theta_star + self.directions @ z,
                                    directions=self.directions)[0]

    def suggest_bounds(self, lr: float, batch_size: int, n_std: float = 6.0,
                       replacement: bool = True, margin: float = 0.25) -> list:
        """A box for a PDE grid: for a path, (−margin·ℓ, (1 + margin)·ℓ) with ℓ the path length;
        otherwise ±n_std stationary standard deviations of the linearised (OU) process on each
        axis, sqrt(D_ii / h_ii) with h_ii = (Vᵀ H V)_ii (which must be positive)."""
        if self.kind == "path":
            ell = self.path_length
            return [(-margin * ell, (1 + margin) * ell)]
        D = self.diffusion(lr, batch_size, replacement)
        h = np.diag(self.reduced_hessian)
        if np.any(h <= 0):
            raise InputError(f"suggest_bounds: the reduced Hessian has non-positive diagonal {h}; "
                             f"θ* is not a minimum along every direction. Choose bounds by hand.")
        return [(-n_std * np.sqrt(D[i, i] / h[i]), n_std * np.sqrt(D[i, i] / h[i]))
                for i in range(self.k)]


def _orthonormal(V, d):
    V = np.asarray(V, dtype=float)
    V = V[:, None] if V.ndim == 1 else V
    if V.ndim != 2 or V.shape[0] != d or not 1 <= V.shape[1] <= 3:
        raise InputError(f"reduced_model: directions must have shape (d={d}, k) with k = 1..3; got "
                         f"{V.shape}.")
    Q, R = np.linalg.qr(V)
    if np.min(np.abs(np.diag(R))) < 1e-10 * np.max(np.abs(np.diag(R))):
        raise InputError("reduced_model: the given directions are linearly dependent; give k "
                         "independent vectors.")
    return Q * np.sign(np.diag(R))  # keep each direction's orientation


def reduced_model(model, data=None, theta=None, *, k: int = 2, directions=None, endpoints=None,
                  loss=None, method: str = "auto", points_per_batch: int | None = None,
                  seed: int = 0) -> ReducedLandscape:
    """Build the reduced landscape L_red(z) = L(θ* + V z) (see the module docstring).

    Parameters
    ----------
    model, data, loss : the network, data set and loss (or an Objective with data=None).
    theta : θ*, the model's own parameters by default (train to a minimum first).
    k : 1, 2 or 3; with neither ``directions`` nor ``endpoints``, V holds the eigenvectors of
        the k largest Hessian eigenvalues at θ* (exact or Lanczos per ``method``, see
        :func:`top_eigenpairs`).
    directions : (d, k) array of directions instead (orthonormalised, orientation kept).
    endpoints : (θ_a, θ_b) for the straight path between two minima (k = 1, θ* = θ_a).
    points_per_batch : parameter points evaluated per vmapped batch (automatic by default).
    """
    obj = as_objective(model, data, loss, "reduced_model")
    d = obj.n_params
    path_length = None
    eigvals = None
    if endpoints is not None:
        if directions is not None or theta is not None:
            raise InputError("reduced_model: with endpoints=(θ_a, θ_b) give neither theta nor "
                             "directions; the path fixes both.")
        a, b = (obj.theta(e).numpy() for e in endpoints)
        delta = b - a
        path_length = float(np.linalg.norm(delta))
        if path_length == 0:
            raise InputError("reduced_model: the two endpoints coincide; give two different minima.")
        theta_star, V, kind = a, (delta / path_length)[:, None], "path"
    else:
        theta_star = obj.theta(theta).numpy()
        if directions is not None:
            V, kind = _orthonormal(directions, d), "directions"
        else:
            if k not in (1, 2, 3):
                raise InputError(f"reduced_model: k must be 1, 2 or 3 (a PDE grid in k "
                                 f"dimensions); got {k}.")
            eig = top_eigenpairs(obj, theta=theta_star, k=k, method=method, seed=seed)
            # fix the sign of each eigenvector (largest |component| positive): reproducible axes
            V = eig.vectors * np.sign(eig.vectors[np.argmax(np.abs(eig.vectors), axis=0),
                                                  np.arange(k)])
            eigvals, kind = eig.values, "hessian"
    t = torch.as_tensor(theta_star, dtype=obj.dtype)
    Vt = torch.as_tensor(V, dtype=obj.dtype)
    Hr = (Vt.T @ obj.hvp_many(t, Vt)).detach().numpy()
    S, gbar, L = projected_covariance(obj, theta=t, directions=V)
    return ReducedLandscape(obj, theta_star, V, kind, eigvals, 0.5 * (Hr + Hr.T), S, V.T @ gbar,
                            L, path_length, points_per_batch)
