"""Stochastic-calculus conventions for a scalar diffusion D(x): the one table every part of
fpsolve (models, theory, backends, validation) reads (see :doc:`/theory/conventions`).

For the symbols b and D, the three conventions give the fluxes

    J = b p − D^α ∇(D^(1−α) p),   α = 0 "ito", ½ "stratonovich", 1 "isothermal",

i.e. the Itô SDE dX = (b + α ∇D) dt + sqrt(2D) dW. Concretely:

- ``"ito"`` — dX = b dt + sqrt(2D) dW, J = b p − ∇(D p). This is SGD: the noise is evaluated at the
  current iterate, and Euler–Maruyama is Itô. The zero-flux state is p ∝ D⁻¹ exp(∫ b/D).
- ``"stratonovich"`` — dX = b dt + sqrt(2D) ∘ dW, equal to the Itô SDE with drift b + ½∇D;
  p ∝ D^(−½) exp(∫ b/D).
- ``"isothermal"`` (Hänggi–Klimontovich) — J = b p − D ∇p, the form printed by Chaudhari–Soatto and
  in Xie et al.'s proofs; the Itô SDE with drift b + ∇D; p ∝ exp(∫ b/D).

With constant D all three coincide.
"""
from .errors import InputError

#: α of the flux J = b p − D^α ∇(D^(1−α) p): the Itô SDE with drift b + α∇D.
ALPHA = {"ito": 0.0, "stratonovich": 0.5, "isothermal": 1.0}


def alpha_of(convention: str, where: str = "") -> float:
    """α of a convention name ("ito" | "stratonovich" | "isothermal"); ``where`` prefixes the
    error message."""
    try:
        return ALPHA[convention]
    except (KeyError, TypeError):
        prefix = f"{where}: " if where else ""
        raise InputError(f"{prefix}convention {convention!r} is unknown; choose one of "
                         f"{tuple(ALPHA)} (Itô is SGD's).") from None
