"""A tensor diffusion D(x) (d×d per cell): recognised, evaluated on the cells and checked —
finite, symmetric, positive definite — with an optional eigenvalue floor for rank-deficient
noise (gradient covariances of networks).

The floor is a regularisation the user asks for (``floor=``): eigenvalues of D below it are
raised to it, cell by cell, and the number of cells changed is reported. Without it a singular or
indefinite tensor is an error naming the first bad cell.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import InputError
from ..geometry.grid import Grid
from ..jit import njit

__all__ = ["is_tensor", "tensor_field", "check_tensor", "where_cell", "SYMMETRY_RTOL",
           "SINGULAR_RTOL"]

SYMMETRY_RTOL = 1e-10   # |D_ij − D_ji| above this (relative to max|D| in the cell) is an error
SINGULAR_RTOL = 1e-12   # eigenvalues below this × the largest count as zero


def is_tensor(diffusion, grid: Grid) -> bool:
    """Whether ``diffusion`` is a tensor for this grid (the tensor scheme) rather than a scalar
    (Scharfetter–Gummel fluxes).

    Tensors: a (d, d) matrix, a (d, d, *grid.shape) array, or a callable whose value on the grid
    is one of those or a nested d×d list. A callable is evaluated once on the cell centres.
    """
    return classify_diffusion(diffusion, grid)[0]


def classify_diffusion(diffusion, grid: Grid):
    """(:func:`is_tensor`, the value on the cell centres): a callable's value (None when calling
    it failed, which the scalar path then reports), anything else as given. Returning the value
    saves the second call of the user's function."""
    d = grid.ndim
    if callable(diffusion):
        try:
            val = diffusion(*grid.coords)
        except Exception:
            return False, None  # let the scalar path report the failure
        if isinstance(val, (list, tuple)):
            return (len(val) == d and all(isinstance(r, (list, tuple, np.ndarray)) and len(r) == d
                                          for r in val)), val
        diffusion = val
    shape = np.shape(diffusion)
    return shape in ((d, d), (d, d) + grid.shape) and shape != grid.shape, diffusion


def where_cell(grid: Grid, mask) -> str:
    """'at x=(…) (cell (i, j); n cell(s) in all)' for the first True entry of ``mask``."""
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    x = ", ".join(f"{float(c[idx]):.6g}" for c in grid.coords)
    return f"at x=({x}) (cell {idx}; {int(np.sum(mask))} cell(s) in all)"


def tensor_field(diffusion, grid: Grid) -> np.ndarray:
    """D as an array of shape (d, d, *grid.shape), from a number, a (d, d) matrix, a field or a
    callable returning d×d values (nested lists or an array)."""
    d = grid.ndim
    shape = grid.shape
    if callable(diffusion):
        try:
            val = diffusion(*grid.coords)
        except Exception as exc:
            raise InputError(f"diffusion tensor: calling it on the grid failed with "
                             f"{type(exc).__name__}: {exc}. It is called as "
                             f"D({', '.join('x' + str(i + 1) for i in range(d))}) with arrays of "
                             f"shape {shape} and must return a {d}×{d} nested list or an array "
                             f"of shape ({d}, {d}, *grid.shape).") from exc
        try:
            rows = [[np.broadcast_to(np.asarray(val[i][j], dtype=float), shape)
                     for j in range(d)] for i in range(d)]
        except (IndexError, TypeError, ValueError):
            raise InputError(f"diffusion tensor: the callable returned something that is not a "
                             f"{d}×{d} matrix of arrays broadcastable to the grid shape "
                             f"{shape}.") from None
        return np.array(rows, dtype=float)
    if isinstance(diffusion, numbers.Real) and not isinstance(diffusion, bool):
        return np.broadcast_to(float(diffusion) * np.eye(d)[(...,) + (None,) * d],
                               (d, d) + shape).copy()
    arr = np.asarray(diffusion, dtype=float)
    if arr.shape == (d, d):
        return np.broadcast_to(arr[(...,) + (None,) * d], (d, d) + shape).copy()
    if arr.shape == (d, d) + shape:
        return np.ascontiguousarray(arr)  # read only below: no copy needed
    raise InputError(f"diffusion tensor: got an array of shape {arr.shape}; expected a constant "
                     f"({d}, {d}) matrix or a field of shape ({d}, {d}, *grid.shape) = "
                     f"{(d, d) + shape}.")


def check_tensor(D, grid: Grid, floor):
    """Finite, symmetric, positive definite (or floored); returns (D, number of floored cells)."""
    d = grid.ndim
    if d == 2:  # one fused pass (Numba) instead of full-size temporaries
        finite, worst, scale, wmin, wmax = (
            x.reshape(grid.shape) for x in tensor_checks_2d(D.reshape(2, 2, -1)))
        bad = ~finite
    else:
        bad = ~np.all(np.isfinite(D), axis=(0, 1))
    if np.any(bad):
        raise InputError(f"diffusion tensor is not finite {where_cell(grid, bad)}. Restrict the grid "
                         f"to where it is defined.")
    if d != 2:
        scale = np.max(np.abs(D), axis=(0, 1))
        worst = np.zeros(grid.shape)
        for i in range(d):
            for j in range(i + 1, d):
                np.maximum(worst, np.abs(D[i, j] - D[j, i]), out=worst)
    bad = worst > SYMMETRY_RTOL * scale
    if np.any(bad):
        asym = np.abs(D - np.swapaxes(D, 0, 1))
        k = tuple(int(i) for i in np.unravel_index(
            np.argmax(np.where(bad, worst / np.where(scale > 0, scale, 1), 0)), grid.shape))
        i, j = np.unravel_index(np.argmax(asym[(...,) + k]), (d, d))
        raise InputError(
            f"diffusion tensor is not symmetric {where_cell(grid, bad)}: worst at cell {k}, "
            f"D[{i},{j}] = {D[(i, j) + k]:.6g} but D[{j},{i}] = {D[(j, i) + k]:.6g} "
            f"(difference {asym[(i, j) + k]:.3g}). A diffusion tensor is D = σσᵀ/2, symmetric; "
            f"pass (D + Dᵀ)/2 if the asymmetry is round-off.")
    if np.any(worst):
        D = 0.5 * (D + np.swapaxes(D, 0, 1))
    M = np.moveaxis(D, (0, 1), (-2, -1))  # (*shape, d, d)
    if d != 2:
        w = np.linalg.eigvalsh(M)
        wmin, wmax = w[..., 0], np.max(np.abs(w), axis=-1)
    n_floored = 0
    if floor is None:
        neg = wmin < -SINGULAR_RTOL * wmax
        if np.any(neg):
            k = tuple(int(i) for i in np.unravel_index(np.argmin(np.where(neg, wmin, np.inf)),
                                                       grid.shape))
            raise InputError(
                f"diffusion tensor is not positive definite {where_cell(grid, neg)}: smallest "
                f"eigenvalue {wmin[k]:.6g} at cell {k} (D there = {D[(...,) + k].tolist()}). "
                f"A diffusion tensor must be positive definite; pass floor= to raise small "
                f"eigenvalues, or fix the expression.")
        sing = wmin <= SINGULAR_RTOL * wmax
        if np.any(sing):
            k = tuple(int(i) for i in np.argwhere(sing)[0])
            raise InputError(
                f"diffusion tensor is singular {where_cell(grid, sing)}: smallest eigenvalue "
                f"{wmin[k]:.3g} (largest {wmax[k]:.3g}) — no diffusion along some direction, "
                f"which a finite-volume density cannot represent (gradient covariances of "
                f"networks are rank-deficient). Pass floor=ε (e.g. 1e-3 × the typical "
                f"eigenvalue) to regularise.")
    else:
        low = wmin < floor
        n_floored = int(np.sum(low))
        if n_floored:
            wl, V = np.linalg.eigh(M[low])
            wl = np.maximum(wl, floor)
            M = M.copy()
            M[low] = np.einsum("...ik,...k,...jk->...ij", V, wl, V)
            D = np.moveaxis(M, (-2, -1), (0, 1))
            D = 0.5 * (D + np.swapaxes(D, 0, 1))
    return np.ascontiguousarray(D), n_floored


@njit(cache=True)
def tensor_checks_2d(D):
    """One pass over a (2, 2, N) tensor field: (finite, worst |D01 − D10|, max |D_ij|, smallest
    eigenvalue, largest |eigenvalue|) per cell, the eigenvalues of the symmetric part in closed
    form (absolute accuracy ~ε‖D‖, as LAPACK's). Replaces a dozen full-size temporaries, whose
    page faults cost 0.2 s at 1000² (measured)."""
    N = D.shape[2]
    finite = np.empty(N, dtype=np.bool_)
    asym = np.empty(N)
    scale = np.empty(N)
    wmin = np.empty(N)
    wmax = np.empty(N)
    for c in range(N):
        a, b1, b2, e = D[0, 0, c], D[0, 1, c], D[1, 0, c], D[1, 1, c]
        finite[c] = np.isfinite(a) and np.isfinite(b1) and np.isfinite(b2) and np.isfinite(e)
        asym[c] = abs(b1 - b2)
        scale[c] = max(max(abs(a), abs(e)), max(abs(b1), abs(b2)))
        b = 0.5 * (b1 + b2)
        mid = 0.5 * (a + e)
        rad = math.hypot(0.5 * (a - e), b)
        wmin[c] = mid - rad
        wmax[c] = max(abs(mid - rad), abs(mid + rad))
    return finite, asym, scale, wmin, wmax
