"""Large deviations of SGD's diffusion: minimum-action paths, quasi-potentials and
transition-path theory against exact references.

Convention (``docs/theory/large_deviations.rst``): dX = b dt + sqrt(2εD) dW (Itô), action
¼∫(φ̇ − b)ᵀD⁻¹(φ̇ − b) dt, so that b = −∇U with D = I has V = U and p_ε ≍ exp(−V/ε); a
FokkerPlanck model with diffusion εD has escape times τ ≍ exp(V̄/ε).

Cases: (1) gradient drift, isotropic D: V̄ = ΔU/D and MAP = MEP; (2) 1D state-dependent D:
V = ∫U'/D (Xie et al. Thm 3.2's exponent) for the path, the grid and the PDE; (3) the
non-reversible OU process: V = ½xᵀΣ₀⁻¹x; (4) b = −(D + Q)∇U: V = U with a MAP that is not the
gradient path; (5) a non-reversible double well with state-dependent tensor D: the PDE's MFPT
exponent and −ε log p_ε converge to the path's V̄ and the grid's V (Hu et al. Thm 2 beyond
isotropic noise); (6) TPT rates against renewal and flux-over-population identities; (7) a
trained network (``--full``, torch): two minima through a reduced plane and its PDE
(``network_map``), and a converged MAP in the full parameter space from a minimum to a saddle
(``network_saddle``).

Cases 1–6 live in ``model_problems``, case 7 in ``networks``.
"""
# importing the modules registers their cases, in this order in reports
from . import model_problems, networks  # noqa: I001

__all__ = ["model_problems", "networks"]
