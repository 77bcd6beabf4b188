"""Richardson extrapolation across two grids: a higher-order answer and an error estimate.

fpsolve's finite-volume schemes are second order: on a grid of spacing h an answer u_h (a
stationary density, a mean first-passage time, …) has error u_h − u = C(x)·h² + O(h⁴) at the
cell centres when the coefficients are smooth (the scheme is symmetric, so no odd powers
appear in the interior); so does a number computed from the grid (a spectral gap, an escape
rate). Solving once more on the grid with every cell split in two (h/2) and combining

    u_R = (4·I[u_{h/2}] − u_h) / 3

cancels the h² term (for numbers I is the identity). I[·] carries the fine answer to the
coarse cell centres; each coarse centre lies half-way between two fine centres, and a
four-point cubic interpolation per axis (one-sided at a wall, wrapped on a periodic axis) is
exact for cubics, so it adds an O(h⁴) error only. With every cell split in three instead
(``ratio=3``: 3ᵈ times the cells rather than 2ᵈ) each coarse centre is a fine centre and
nothing is interpolated; the combination is then (9·u_{h/3} − u_h)/8. The difference of the two answers also estimates the error of the
fine one: (I[u_{h/2}] − u_h)/3 ≈ u_{h/2} − u.

Densities are extrapolated in log space (log p_h = log p + C̃(x)·h² + …): a peaked density is
far from a cubic on a few cells per standard deviation, its logarithm is close to one. The
result stays positive and is renormalised to mass one. A density with negative values of
round-off size (an evolved one) goes linearly (``log=False``), best with ``ratio=3``.

What it does not keep: the answer is no longer the exact zero of a discrete operator (no
exact discrete stationary state, no M-matrix positivity in linear mode); its error is smaller
only where the expansion above holds. It fails to help, and the error estimate is unreliable,
when the error is not a smooth function of h: coefficients with kinks, a target whose edge
cuts cells at a position that changes with the grid (an edge on coarse faces stays on faces
of the refined grid), answers limited by something other than h (an iterative solver's
tolerance, a time step). See :doc:`/guide/solvers` (Higher order from two grids).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..fields.field import Density, Field
from ..geometry.grid import Grid

__all__ = ["richardson", "Extrapolated", "to_coarse_centres"]


@dataclass(frozen=True)
class Extrapolated:
    """A number (or an array of numbers) extrapolated from two grids by :func:`richardson`.

    value : the extrapolated value(s); coarse, fine : the answers on h and h/r;
    error_estimate : |fine − coarse| / (rᵖ − 1), the estimated absolute error of ``fine``
    (elementwise); order : p; ratio : r."""

    value: float | np.ndarray
    coarse: float | np.ndarray
    fine: float | np.ndarray
    error_estimate: float | np.ndarray
    order: float
    ratio: int = 2

    def __float__(self):
        return float(self.value)


def richardson(solve, grid: Grid, *, order: float = 2.0, log=None, ratio=None):
    """Richardson extrapolation of ``solve`` from ``grid`` (spacing h) and its refinement (h/r).

    Parameters
    ----------
    solve : callable
        ``solve(grid) → answer``: the question asked on a given grid, called twice, on ``grid``
        and on ``grid.refined(ratio)``. The answer is a Field or
        :class:`~fpsolve.fields.field.Density` on that grid (``lambda g: fp.FokkerPlanck(g,
        potential=U, diffusion=D).stationary()``), or a number or array of numbers that does
        not live on the cells (``lambda g: model_on(g).spectral_gap()``, an escape rate,
        ``eigenvalues(k)``).
    grid : Grid
        The coarse grid; a field answer lives on its cells.
    order : the order p of the scheme's leading error term (2 for fpsolve's finite volumes; 1
        for a first-order scheme such as an upwind one); the combination is
        (2ᵖ·I[u_{h/2}] − u_h)/(2ᵖ − 1).
    log : extrapolate log u rather than u (fields only). Default: True for a Density (the
        result stays positive and is renormalised), False for any other Field. Needs
        non-negative values. With ``log=False`` a Density is returned with its values as
        computed (like an evolved density's): not renormalised, and negative values of
        round-off size in the tails are kept, not clipped (``info["min_value"]``).
    ratio : 2 or 3, the refinement r. With 2 (the default on a plain grid) the fine answer is
        carried to the coarse centres by cubic interpolation (2ᵈ times the cells); with 3 every
        coarse centre is the centre of a fine cell, so nothing is interpolated (3ᵈ times the
        cells). Default 3 on a :class:`~fpsolve.geometry.grid.MappedGrid`: towards an
        infinite end the values are not smooth in the grid's coordinate (a power-law tail),
        and the interpolation's error would exceed the scheme's there.

    Returns
    -------
    For a field: a Field or Density on ``grid`` (the type ``solve`` returned), with ``info``:
    ``method`` ("richardson"), ``order``, ``ratio``, ``shapes`` (coarse, fine),
    ``fine_error_estimate`` (max |I[u_{h/r}] − u_h| / (rᵖ − 1) relative to max |u_{h/2}|: the
    estimated relative max error of the fine answer; the extrapolated answer is expected to be
    more accurate still, but it has no estimate of its own without a third grid),
    ``coarse_error_estimate`` (rᵖ times that, for u_h), ``coarse_info`` and ``fine_info`` (the
    two answers' own diagnostics), and in log mode ``unextrapolated_cells``: cells where a value
    underflowed to zero, which keep the coarse value.
    For numbers: an :class:`Extrapolated` (``float()`` of it is the value for a scalar).

    The cost is about that of the fine solve (rᵈ times the coarse cells) plus the coarse one.
    """
    if not callable(solve):
        raise InputError(f"richardson: solve must be a callable grid → answer; got "
                         f"{type(solve).__name__}.")
    if not isinstance(grid, Grid):
        raise InputError(f"richardson: grid must be an fpsolve.Grid; got {type(grid).__name__}.")
    if not (isinstance(order, (int, float)) and np.isfinite(order) and order > 0):
        raise InputError(f"richardson: order must be a positive number (2 for fpsolve's "
                         f"finite volumes); got {order!r}.")
    ratio = (3 if grid.mapped else 2) if ratio is None else ratio
    if ratio not in (2, 3) or isinstance(ratio, bool):
        raise InputError(f"richardson: ratio must be 2 or 3; got {ratio!r}.")
    fine_grid = grid.refined(ratio)
    coarse = _answer(solve, grid, "coarse")
    fine = _answer(solve, fine_grid, "fine")
    if isinstance(coarse, Field) != isinstance(fine, Field) or (
            isinstance(coarse, Field) and type(coarse) is not type(fine)):
        raise InputError(f"richardson: solve returned a {type(coarse).__name__} on the coarse "
                         f"grid and a {type(fine).__name__} on the fine one.")
    factor = float(ratio) ** order
    if not isinstance(coarse, Field):
        return _numbers(coarse, fine, factor, float(order), ratio)
    periodic = grid.periodic
    density = isinstance(coarse, Density)
    log = density if log is None else bool(log)
    info = {"method": "richardson", "order": float(order), "ratio": ratio,
            "shapes": [list(grid.shape), list(fine_grid.shape)]}
    if log:
        for name, answer in (("coarse", coarse), ("fine", fine)):
            if (answer.values < 0).any():
                raise InputError(f"richardson: log=True needs non-negative values, but the "
                                 f"{name} answer has negative ones (min "
                                 f"{float(answer.values.min()):.2e}); pass log=False.")
        with np.errstate(divide="ignore", invalid="ignore"):
            lc, lf = np.log(coarse.values), _at_coarse(np.log(fine.values), periodic, ratio)
            combined = (factor * lf - lc) / (factor - 1.0)
            fine_at_coarse = np.exp(lf)
        ok = np.isfinite(combined)  # not where a value underflowed to zero on either grid
        values = np.where(ok, np.exp(np.where(ok, combined, 0.0)), coarse.values)
        info["unextrapolated_cells"] = int(ok.size - np.count_nonzero(ok))
    else:
        fine_at_coarse = _at_coarse(fine.values, periodic, ratio)
        values = (factor * fine_at_coarse - coarse.values) / (factor - 1.0)
    scale = float(np.abs(fine.values).max())
    gap = float(np.abs(fine_at_coarse - coarse.values).max()) / (scale if scale > 0 else 1.0)
    info["fine_error_estimate"] = gap / (factor - 1.0)
    info["coarse_error_estimate"] = gap * factor / (factor - 1.0)
    info["coarse_info"] = dict(coarse.info)
    info["fine_info"] = dict(fine.info)
    if density and not log:
        # linear extrapolation may leave round-off-sized negative values in a density's tails
        # (as an evolved density may have): kept as computed, not clipped, and reported
        info["min_value"] = float(values.min())
        out = Density.__new__(Density)
        Field.__init__(out, grid, values, info)
        return out
    return type(coarse)(grid, values, info)


def _answer(solve, grid, which):
    out = solve(grid)
    if isinstance(out, Field):
        if out.grid != grid:
            raise InputError(f"richardson: solve({which} grid) returned a field on {out.grid!r}, "
                             f"not on the grid it was given ({grid!r}); build the model on the "
                             f"grid argument.")
        return out
    try:
        values = np.asarray(out, dtype=complex if np.iscomplexobj(out) else float)
    except (TypeError, ValueError):
        values = None
    if values is None or values.dtype == object or not np.isfinite(values).all():
        raise InputError(f"richardson: solve({which} grid) returned {type(out).__name__} "
                         f"{str(out)[:60]}; it must return an fpsolve Field or Density on the "
                         f"grid it was given, or finite numbers.")
    return values


def _numbers(coarse, fine, factor, order, ratio):
    """Richardson on numbers (scalars or arrays of the same shape on both grids)."""
    if coarse.shape != fine.shape:
        raise InputError(f"richardson: solve returned shape {coarse.shape} on the coarse grid "
                         f"and {fine.shape} on the fine one; the answers must correspond (an "
                         f"answer on the cells must be returned as an fpsolve Field).")
    value = (factor * fine - coarse) / (factor - 1.0)
    estimate = np.abs(fine - coarse) / (factor - 1.0)
    if coarse.ndim == 0:
        value, estimate = value[()], float(estimate)
        coarse, fine = coarse[()], fine[()]
    return Extrapolated(value, coarse, fine, estimate, order, ratio)


def _at_coarse(values, periodic, ratio):
    """Fine values at the coarse centres: the middle cell of each triple for ratio 3 (the same
    point), the cubic interpolation of :func:`to_coarse_centres` for ratio 2."""
    if ratio == 3:
        return values[tuple(slice(1, None, 3) for _ in periodic)]
    return to_coarse_centres(values, periodic)


def to_coarse_centres(values, periodic) -> np.ndarray:
    """Values on a grid refined by 2 → values at the coarse cell centres, fourth order.

    Along each axis a coarse centre lies half-way between fine cells 2i and 2i+1; the value
    there is (−u₂ᵢ₋₁ + 9u₂ᵢ + 9u₂ᵢ₊₁ − u₂ᵢ₊₂)/16 (cubic through four centres), and at a wall
    (5u₀ + 15u₁ − 5u₂ + u₃)/16, the cubic through the first four. A periodic axis wraps.
    Exact for polynomials of degree three per axis; the error is O(h⁴) for smooth values.

    values : array of the fine grid's shape (every axis even, ≥ 4 cells); periodic : one bool
    per axis.
    """
    out = np.asarray(values, dtype=float)
    if out.ndim != len(periodic):
        raise InputError(f"to_coarse_centres: values have {out.ndim} axes, periodic has "
                         f"{len(periodic)} entries.")
    for axis, wrap in enumerate(periodic):
        n = out.shape[axis]
        if n % 2 or n < 4:
            raise InputError(f"to_coarse_centres: axis {axis} has {n} cells; need an even number, "
                             f"at least 4 (a grid refined by 2).")
        u = np.moveaxis(out, axis, 0)
        even, odd = u[0::2], u[1::2]
        if wrap:
            before, after = np.roll(odd, 1, axis=0), np.roll(even, -1, axis=0)
            mid = (9.0 * (even + odd) - before - after) / 16.0
        else:
            mid = np.empty_like(even)
            mid[1:-1] = (9.0 * (even[1:-1] + odd[1:-1]) - odd[:-2] - even[2:]) / 16.0
            mid[0] = (5.0 * u[0] + 15.0 * u[1] - 5.0 * u[2] + u[3]) / 16.0
            mid[-1] = (5.0 * u[-1] + 15.0 * u[-2] - 5.0 * u[-3] + u[-4]) / 16.0
        out = np.moveaxis(mid, 0, axis)
    return out
