"""Particles: Euler–Maruyama for the SDE of a Fokker–Planck model, first-passage times, and
discrete SGD vectorised over many chains.

Convention (:doc:`/theory/conventions`): the Itô SDE dX = b dt + sqrt(2D) dW, the same drift (with the non-Itô
correction of ``model.coefficients.drift``), diffusion, walls and targets as the PDE. Time in the model's
units; for SGD t = k·η.

* :func:`simulate` — positions at output times (numba or torch backend).
* :func:`first_passage` — first-passage times into a target.
* :mod:`.sgd` — Gaussian-noise SGD and mini-batch SGD on finite datasets.
* :mod:`.potentials` — Numba-jitted standard potentials (compiled into the kernels).

torch is optional: it is imported only when ``backend="torch"`` is used.
"""
from . import potentials, sgd
from .euler_maruyama import first_passage, simulate
from .results import FirstPassageResult, SimulationResult, histogram_counts

__all__ = ["simulate", "first_passage", "SimulationResult", "FirstPassageResult",
           "histogram_counts", "sgd", "potentials"]
