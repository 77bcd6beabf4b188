"""Closed forms and exact references for the Fokker–Planck theory of SGD (pure numpy/scipy).

Convention (:doc:`/theory/conventions`): the Itô SDE dX = b dt + sqrt(2D) dW with flux J = b p −
∇·(D p); time t = k·η for SGD. For a scalar D the conventions α = 0 "ito", ½ "stratonovich", 1
"isothermal" use J = b p − D^α ∇(D^(1−α) p), i.e. the Itô process with drift b + α∇D.

General tools, re-exported here:

* :mod:`.quadrature` — exact 1D references in log space (stationary density, mean and second
  moment of first-passage times, committors, basin probabilities) for any convention, accurate to
  ~1e-9 even for barriers ΔU/D ≥ 100.
* :mod:`.killed_spectrum` — the principal eigenvalue (exact decay rate) and quasi-stationary
  density of a 1D diffusion killed at an absorbing end, by log-space quadrature, and the OU
  closed form (a parabolic-cylinder zero).
* :mod:`.exit_times` — exit probabilities and conditional exit times E[τ | end], E[τ² | end]
  from an interval, by quadrature.
* :mod:`.integrate_and_fire` — the quadratic integrate-and-fire neuron: mean passage time from
  −∞ (or x₀) to +∞ in closed form (Lindner, Longtin & Bulsara 2003), a reference for exits at
  infinity.
* :mod:`.periodic` — effective drift and diffusion of tilted periodic landscapes in closed form
  (Stratonovich, Lifson–Jackson, Reimann et al.), state-dependent D included.
* :mod:`.kramers` — Eyring–Kramers law (n-D, constant scalar D) and Kramers' 1D formula.
* :mod:`.ornstein_uhlenbeck` — stationary covariance (Lyapunov), current and circulation,
  transient moments, spectrum and transition density of OU processes (Chaudhari & Soatto's OU case).

One module per paper, each function one theorem with printed and corrected forms side by side
(import them as namespaces, e.g. ``theory.dai_zhu.transition_time``):

* :mod:`.dai_zhu` — Dai & Zhu (seed 000): Gibbs law, Thm 2.2, Thm 2.4 χ² rates, Thm 2.5/(2.7),
  state-dependent β (Student-t law per convention).
* :mod:`.hu_li` — Hu, Li, Li & Liu (seed 001): Prop. 1, Thm 1 drift, Thm 2 quasi-potentials,
  Thm 3 saddle escape (Dawson form), annealing and batch-size schedules.
* :mod:`.mori` — Mori, Ziyin, Liu & Ueda (seed 002): eq. (17) power law, (15) escape rate, (16),
  eq. (2) erratum, exact MFPT to a loss threshold.
* :mod:`.xie` — Xie, Sato & Sugiyama (seed 003): Thms 3.1, 3.2 (prefactor per convention, path
  integral, implied s), Rules 1–2, Cor. 3.2.2.
* :mod:`.chaudhari_soatto` — Chaudhari & Soatto (seed 004): Theorem 10's shift of the most
  likely point (their OU case is in :mod:`.ornstein_uhlenbeck`).
"""
from . import (chaudhari_soatto, dai_zhu, exit_times, hu_li, integrate_and_fire, killed_spectrum,
               kramers, mori, ornstein_uhlenbeck, periodic, quadrature, xie)
from .exit_times import ConditionalExit1D, conditional_exit_times_1d
from .integrate_and_fire import QIFPassage, qif_passage_time
from .killed_spectrum import KilledEigen1D, ou_killed_eigenvalue, principal_eigenvalue_1d
from .periodic import PeriodicTransport, periodic_transport
from .kramers import KramersTime, eyring_kramers_time, kramers_time_1d
from .ornstein_uhlenbeck import (
    OUStationaryState, chaudhari_soatto_ou, current_exists, ou_eigenvalues, ou_stationary_state,
    ou_transition_density_1d, stationary_current, transient_moments,
)
from .quadrature import (
    BasinProbabilities1D, FirstPassage1D, Splitting1D, StationaryDensity1D, basin_probabilities_1d,
    effective_ito_drift, mfpt_1d, mfpt_interval_1d, splitting_probability_1d,
    stationary_density_1d,
)

__all__ = [
    "quadrature", "killed_spectrum", "exit_times", "integrate_and_fire", "periodic", "kramers", "ornstein_uhlenbeck",
    "dai_zhu", "hu_li", "mori", "xie", "chaudhari_soatto",
    "stationary_density_1d", "mfpt_1d", "mfpt_interval_1d", "splitting_probability_1d",
    "basin_probabilities_1d", "effective_ito_drift", "StationaryDensity1D", "FirstPassage1D",
    "Splitting1D", "BasinProbabilities1D",
    "principal_eigenvalue_1d", "ou_killed_eigenvalue", "KilledEigen1D",
    "conditional_exit_times_1d", "ConditionalExit1D", "periodic_transport", "PeriodicTransport",
    "qif_passage_time", "QIFPassage",
    "eyring_kramers_time", "kramers_time_1d", "KramersTime",
    "ou_stationary_state", "stationary_current", "current_exists", "chaudhari_soatto_ou",
    "transient_moments", "ou_eigenvalues", "ou_transition_density_1d", "OUStationaryState",
]
