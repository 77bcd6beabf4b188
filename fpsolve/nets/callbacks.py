"""Observers for :func:`fpsolve.nets.train`: each factory returns ``cb(model, epoch, step) -> dict``
of numbers recorded in the history at every record point.

``epochs=None`` runs the observer at every record; a collection of epochs restricts it (the
other records get NaN), which keeps expensive observers (spectra, Hessians) affordable.
"""
from __future__ import annotations

import numpy as np

from .curvature import hessian, hutchinson, top_eigenpairs
from .minibatch_noise import RANK_RTOLS, gradient_noise
from .objective import Objective


def _gate(epochs):
    wanted = None if epochs is None else {int(e) for e in epochs}
    return lambda epoch: wanted is None or epoch in wanted


def track_sharpness(data, k: int = 1, loss=None, epochs=None, method: str = "auto"):
    """Records ``sharpness`` (largest Hessian eigenvalue) and, for k > 1, ``hessian_eig_i``."""
    on = _gate(epochs)

    def cb(model, epoch, step):
        if not on(epoch):
            return {}
        eig = top_eigenpairs(Objective(model, data, loss), k=k, method=method)
        out = {"sharpness": float(eig.values[0])}
        out.update({f"hessian_eig_{i}": float(v) for i, v in enumerate(eig.values[1:], 2)})
        return out
    return cb


def track_hessian_norm(data, loss=None, epochs=None, exact: bool = False, n_samples: int = 32,
                       seed: int = 0):
    """Records ``hessian_frobenius`` and ``hessian_trace`` (exact, or Hutchinson with
    ``*_se`` standard errors)."""
    on = _gate(epochs)

    def cb(model, epoch, step):
        if not on(epoch):
            return {}
        obj = Objective(model, data, loss)
        if exact:
            H = hessian(obj)
            return {"hessian_frobenius": float(np.linalg.norm(H)), "hessian_trace": float(np.trace(H))}
        fro = hutchinson(obj, quantity="frobenius", n_samples=n_samples, seed=seed)
        tr = hutchinson(obj, quantity="trace", n_samples=n_samples, seed=seed)
        return {"hessian_frobenius": fro.value, "hessian_frobenius_se": fro.stderr,
                "hessian_trace": tr.value, "hessian_trace_se": tr.stderr}
    return cb


def track_noise(data, loss=None, epochs=None, spectrum: bool = False, rank_rtols=RANK_RTOLS,
                keep_spectrum: bool = False):
    """Records Mori's ``noise_strength`` 𝒩 = tr Σ₁ and ``grad_norm_sq`` |∇L|²; with
    ``spectrum=True`` also ``noise_rank_<rtol>``, ``noise_max_rank`` = min(d, N − 1) and the
    mean and standard deviation of Σ₁'s eigenvalues; ``keep_spectrum`` stores the eigenvalues
    themselves under ``noise_eigenvalues`` (a list in the history)."""
    on = _gate(epochs)

    def cb(model, epoch, step):
        if not on(epoch):
            return {}
        gn = gradient_noise(Objective(model, data, loss), spectrum=spectrum or keep_spectrum,
                            rank_rtols=rank_rtols)
        out = {"noise_strength": gn.noise_strength,
               "grad_norm_sq": float(gn.mean_gradient @ gn.mean_gradient)}
        if gn.eigenvalues is not None:
            out.update({f"noise_rank_{r:g}": n for r, n in gn.ranks.items()})
            out["noise_max_rank"] = gn.max_rank
            out["noise_eig_mean"] = float(gn.eigenvalues.sum() / gn.n_params)
            out["noise_eig_std"] = float(np.sqrt(
                (gn.eigenvalues ** 2).sum() / gn.n_params - out["noise_eig_mean"] ** 2))
        if keep_spectrum:
            out["noise_eigenvalues"] = gn.eigenvalues
        return out
    return cb
