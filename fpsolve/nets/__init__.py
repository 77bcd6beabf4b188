"""Networks: SGD on small torch MLPs, and the quantities the Fokker–Planck picture of SGD needs.

Needs the optional dependency torch (scikit-learn for :func:`load_digits`). ``import fpsolve``
never imports this subpackage.

Conventions (:doc:`/theory/conventions`): SGD with learning rate η and batch size B ↔ the Itô SDE
dθ = −∇L dt + sqrt(2D) dW, D = (η/2)·Σ₁/B, time t = k·η. Σ₁ is the per-sample gradient
covariance with 1/N normalisation; without replacement the mini-batch covariance carries an
extra (N − B)/(N − 1) (:mod:`.noise`). Losses: cross-entropy, or mean-square ½‖f − y‖² per
sample (:mod:`.models`). All curvature and noise computations are float64 over all parameters
in ``flat_parameters`` order (:mod:`.objective`).

Layout: ``data`` (offline data sets) → ``models`` (MLP builder, losses) → ``train`` (+
``callbacks``) → ``objective`` (L over a flat θ) → ``curvature``, ``noise`` → ``reduced``
(k-dimensional landscapes for the PDE solver), ``saddles`` (a minimum and a known index-1
saddle) → ``cross_check`` (PDE vs particles vs real SGD).
The papers' network figures, small, are validation cases (``fpsolve.validation.network_experiments``).
"""
from .callbacks import track_hessian_norm, track_noise, track_sharpness
from .cross_check import CrossCheck, crosscheck
from .curvature import (Eigenpairs, HutchinsonEstimate, gauss_newton, hessian, hessian_operator,
                        hutchinson, lanczos, top_eigenpairs)
from .data import Dataset, gaussian_mixture, load_digits, teacher_student
from .models import count_parameters, flat_parameters, mlp, set_flat_parameters
from .minibatch_noise import (Alignment, GradientNoise, alignment, gradient_noise, minibatch_factor,
                    per_sample_gradients, projected_covariance)
from .objective import Objective
from .reduced import ReducedLandscape, reduced_model
from .saddles import remove_weakest_unit, teacher_student_saddle
from .train import TrainResult, train

__all__ = [
    "Dataset", "load_digits", "teacher_student", "gaussian_mixture",
    "mlp", "flat_parameters", "set_flat_parameters", "count_parameters",
    "train", "TrainResult", "track_sharpness", "track_hessian_norm", "track_noise",
    "Objective",
    "hessian", "hessian_operator", "lanczos", "top_eigenpairs", "gauss_newton", "hutchinson",
    "Eigenpairs", "HutchinsonEstimate",
    "gradient_noise", "GradientNoise", "per_sample_gradients", "projected_covariance",
    "minibatch_factor", "alignment", "Alignment",
    "reduced_model", "ReducedLandscape",
    "teacher_student_saddle", "remove_weakest_unit",
    "crosscheck", "CrossCheck",
]
