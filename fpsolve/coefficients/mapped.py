r"""The SDE on a domain with an infinite end, carried over to the computational coordinate y.

On a :class:`~fpsolve.geometry.grid.MappedGrid` the cells are uniform in y and x = ψ(y)
(:mod:`fpsolve.geometry.mapping`). By Itô's formula, Y = ψ⁻¹(X) of the α-convention SDE
dX = b dt + sqrt(2D) dW (Itô drift b + αD′) solves an SDE of the same convention with

    D_y = D / ψ′²,      b_y = b / ψ′ + (2α − 1) ψ″ D / ψ′³,

and its zero-flux density p_y = p_x ψ′ (a density in y). What the Scharfetter–Gummel flux
(:mod:`fpsolve.numerics.flux`) needs of it is D_y on the cells and one Péclet number per face,
P_y = ∫ b_y/D_y dy across the face. That integral is exact in closed form once P_x = ∫ b/D dx
between the two cell centres x_k, x_{k+1} is:

    P_y = P_x + (1 − 2α) (log ψ′(y_k) − log ψ′(y_{k+1})).

P_x is the x-scheme's own face Péclet number between the mapped centres: −ΔU / D_f with D_f the
logarithmic mean of D (the flux's choice: exact for any D affine in U, e.g. Dai & Zhu's
β₀(1 + L), Mori et al.'s D ∝ L) for a potential, and a 6-point Gauss–Legendre rule in y of
(b/D)(ψ(y)) ψ′(y) for a drift. In 1D every face Péclet number is a potential difference, so the
y-model gets the *potential* W with W_{k+1} − W_k = −P_y · D_f(D_y): the flux then reproduces
P_y exactly, and the discrete zero-flux state is

    p_x(x_{k+1}) / p_x(x_k) = (D_k / D_{k+1})^(1−α) e^(P_x)       (p_x = p_y / ψ′),

the exact discrete stationary state of the x-scheme at the mapped centres (exactly the
continuum law at the centres when D is affine in U). Everything else (M-matrix, mass
conservation, positivity) is the y-scheme's. Not carried over: a time-dependent potential or
drift, and a schedule s(t), whose Itô term (2α − 1)ψ″D/ψ′³ would scale with s(t) while the
potential W does not (refused).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .evaluate import check_finite, evaluate, scalar_diffusion, takes_time

__all__ = ["computational_coefficients", "GAUSS_NODES"]

#: Gauss–Legendre nodes per face for the Péclet number of a drift (error O(h¹²) where b/D is
#: smooth in y).
GAUSS_NODES = 6


def log_mean(a, b):
    """Logarithmic mean (b − a)/log(b/a), elementwise (a where a == b).

    The face mean of D of the Scharfetter–Gummel flux (:func:`fpsolve.numerics.flux.log_mean`,
    which this layer may not import): W is built with it so that the flux returns P_y exactly
    (tests/geometry/test_mapped_models.py checks the discrete stationary state to round-off)."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    out = a.copy()
    ne = a != b
    out[ne] = (b[ne] - a[ne]) / np.log1p((b[ne] - a[ne]) / a[ne])
    return out


def computational_coefficients(grid, potential=None, drift=None, diffusion=1.0, alpha=0.0,
                               schedule=None):
    """(W, D_y): the potential and diffusion on the cells of ``grid`` (a MappedGrid) of the SDE
    given in x (callables of x, numbers, or arrays of values at the cell centres x_k), carried
    to y as described in the module doc. Raises InputError for what cannot be carried over."""
    if schedule is not None:
        raise InputError("FokkerPlanck: a schedule s(t) is not supported on a grid with an "
                         "infinite end (the Itô term of the map would have to follow s(t)); "
                         "scale the diffusion itself, or use a finite domain.")
    if takes_time(potential, 1) or takes_time(drift, 1):
        raise InputError("FokkerPlanck: a potential or drift that depends on time is not "
                         "supported on a grid with an infinite end; use a finite domain.")
    x = grid.physical_coords[0]
    J = grid.jacobian  # ψ′ at the centres
    Dx = scalar_diffusion(diffusion, grid, coords=(x,))
    if potential is not None:
        U = evaluate(potential, (x,), grid.shape, "potential")
        check_finite(U, (x,), "potential")
        Px = -np.diff(U) / log_mean(Dx[:-1], Dx[1:])
    elif drift is not None:
        Px = _drift_peclet(grid, drift, diffusion, Dx)
    else:
        Px = np.zeros(grid.shape[0] - 1)
    logJ = np.log(J)
    Py = Px + (1.0 - 2.0 * alpha) * (logJ[:-1] - logJ[1:])
    Dy = Dx / (J * J)
    if np.any(Dy <= 0) or not np.all(np.isfinite(Dy)):
        raise InputError("FokkerPlanck: D/ψ′² under- or overflows on the cells of this grid "
                         "(D is too large or too small far out). Use fewer cells, a larger "
                         "scale=, or regularise D at large |x|.")
    W = np.concatenate([[0.0], -np.cumsum(Py * log_mean(Dy[:-1], Dy[1:]))])
    return W, Dy


def _drift_peclet(grid, drift, diffusion, Dx):
    """∫ b/D dx between neighbouring centres, by Gauss–Legendre in y."""
    if not callable(drift):
        raise InputError("FokkerPlanck: on a grid with an infinite end the drift must be a "
                         "callable b(x) (it is integrated between the cell centres).")
    xi, wi = np.polynomial.legendre.leggauss(GAUSS_NODES)
    y = grid.axes[0]
    h = float(grid.h[0])
    Y = y[:-1, None] + 0.5 * h * (xi[None, :] + 1.0)  # nodes between centres k and k+1
    X = grid.to_physical(Y)
    val = drift(X)
    if isinstance(val, (list, tuple)):
        if len(val) != 1:
            raise InputError(f"drift must return one array per axis, 1 in all; it returned "
                             f"{len(val)}.")
        val = val[0]
    b = evaluate(val, (X,), X.shape, "drift")
    check_finite(b, (X,), "drift")
    if callable(diffusion) or np.ndim(diffusion) == 0:
        D = scalar_diffusion(diffusion, grid, coords=(X,))
        return (0.5 * h) * np.sum(wi * b / D * grid.mapping.dx_dy(Y), axis=1)
    # D given as values at the centres: the flux's face mean, as the x-scheme does
    return (0.5 * h) * np.sum(wi * b * grid.mapping.dx_dy(Y), axis=1) / log_mean(Dx[:-1], Dx[1:])
