"""fpsolve's own exactness checks: each case compares the solver with a reference
computed here, independently of the code under test (a closed form, scipy quadrature, or a
second method), with a tolerance derived from the expected error.

Conventions (docs/theory/conventions): Itô SDE dX = b dt + sqrt(2D) dW, flux J = b p − ∇·(D p); for
a scalar D and the α-convention J = b p − D^α ∇(D^(1−α) p) (α = 0 Itô, ½ Stratonovich,
1 isothermal). Time is the SDE's t (t = k·η for SGD).

The cases live in one module per theme; see each module.
"""
# importing the modules registers their cases, in this order in reports
from . import stationary, transients, first_passage, transport  # noqa: I001

__all__ = ["stationary", "transients", "first_passage", "transport"]
