"""Discrete curves: arclength, resampling to equal chords, and initial paths (numpy, Numba).

Both path methods (gMAM and the string method) keep their points equally spaced after every
step. "Equally spaced" means equal chords |φⱼ₊₁ − φⱼ| (:func:`equal_chords`): points placed along
the polyline one chord ℓ after another, ℓ found by bisection so that the last lands on the end.
Unlike interpolation at equal arclength, this is idempotent — a polyline with equal chords is
returned unchanged (to the bisection's ~1e-15) — so a converged path is an exact fixed point of
the resampling, and no resampling noise enters the action near convergence.
"""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ...jit import njit


def arclength(path) -> np.ndarray:
    """Cumulative Euclidean arclength at each point, starting at 0: shape (P,)."""
    seg = np.linalg.norm(np.diff(path, axis=0), axis=1)
    return np.concatenate([[0.0], np.cumsum(seg)])


def resample(path, n_points: int) -> np.ndarray:
    """``n_points`` points equally spaced in arclength along the polyline ``path`` (P, d),
    endpoints kept exactly."""
    path = np.asarray(path, dtype=float)
    s = arclength(path)
    if s[-1] <= 0:
        raise InputError("resample: the path has zero length (all points coincide).")
    t = np.linspace(0.0, s[-1], n_points)
    # segment index of every target (repeated points give zero-length segments: skip them)
    keep = np.concatenate([[True], np.diff(s) > 0])
    s, p = s[keep], path[keep]
    idx = np.clip(np.searchsorted(s, t, side="right") - 1, 0, len(s) - 2)
    w = ((t - s[idx]) / (s[idx + 1] - s[idx]))[:, None]
    out = p[idx] * (1.0 - w) + p[idx + 1] * w
    out[0], out[-1] = path[0], path[-1]
    return out


def initial_path(start, end, n_points: int, initial=None) -> np.ndarray:
    """The starting curve: the straight segment, or the user's polyline (waypoints or a full
    path, shape (m, d)) — with the endpoints replaced by ``start`` and ``end`` if the user's
    curve does not already begin and end there — resampled to ``n_points``."""
    start, end = np.asarray(start, float), np.asarray(end, float)
    if initial is None:
        pts = np.stack([start, end])
    else:
        pts = np.asarray(initial, dtype=float)
        if pts.ndim != 2 or pts.shape[1] != start.size:
            raise InputError(f"initial: expected waypoints of shape (m, {start.size}); got "
                             f"{pts.shape}.")
        if not np.all(np.isfinite(pts)):
            raise InputError("initial: the waypoints contain NaN or inf.")
        if not np.allclose(pts[0], start):
            pts = np.vstack([start, pts])
        if not np.allclose(pts[-1], end):
            pts = np.vstack([pts, end])
        pts[0], pts[-1] = start, end
    return resample(pts, n_points)


@njit(cache=True)
def _march(pts, cum, ell, n_out, out):
    """Place points along the polyline ``pts`` (cumulative arclength ``cum``), each at Euclidean
    distance ``ell`` from the previous one (the first such point further along the polyline).
    Fills ``out`` with up to n_out points; returns (number placed, arclength position of the last
    one). Stops early (returning fewer) when the polyline ends."""
    m, d = pts.shape
    for k in range(d):
        out[0, k] = pts[0, k]
    seg = 0
    t = 0.0
    pos = 0.0
    placed = 1
    while placed < n_out:
        q = out[placed - 1]
        found = False
        while seg < m - 1:
            # on segment seg from parameter t: solve |a + s(b − a) − q| = ell for s ≥ t
            aq = 0.0
            ab = 0.0
            bb = 0.0
            for k in range(d):
                e = pts[seg + 1, k] - pts[seg, k]
                f = pts[seg, k] - q[k]
                bb += e * e
                ab += e * f
                aq += f * f
            if bb > 0.0:
                disc = ab * ab - bb * (aq - ell * ell)
                if disc >= 0.0:
                    s = (-ab + np.sqrt(disc)) / bb
                    if s >= t and s <= 1.0:
                        for k in range(d):
                            out[placed, k] = pts[seg, k] + s * (pts[seg + 1, k] - pts[seg, k])
                        t = s
                        pos = cum[seg] + s * (cum[seg + 1] - cum[seg])
                        found = True
                        break
            seg += 1
            t = 0.0
        if not found:
            return placed, pos
        placed += 1
    return placed, pos


@njit(cache=True)
def _equal_chords(pts, cum, n_out):
    total = cum[-1]
    out = np.empty((n_out, pts.shape[1]))
    lo = 0.0
    hi = total / (n_out - 1)          # a chord is never longer than its arc
    for _ in range(200):
        ell = 0.5 * (lo + hi)
        placed, pos = _march(pts, cum, ell, n_out, out)
        if placed < n_out:            # ran out of polyline: chords too long
            hi = ell
        else:                          # all placed: the last one short of the end?
            # the remaining piece must be covered by the last chord; too short a chord leaves
            # polyline beyond the last point
            gap = 0.0
            for k in range(pts.shape[1]):
                gap += (pts[-1, k] - out[n_out - 1, k]) ** 2
            if np.sqrt(gap) > 1e-15 * total and pos < total:
                lo = ell
            else:
                hi = ell
        if hi - lo <= 1e-16 * total:
            break
    placed, pos = _march(pts, cum, lo if lo > 0 else hi, n_out, out)
    for k in range(pts.shape[1]):
        out[n_out - 1, k] = pts[-1, k]
    return out


def equal_chords(path, n_points: int, return_exact: bool = False):
    """``n_points`` points along the polyline ``path`` (P, d) with equal chords, endpoints kept.

    Idempotent: a path whose chords are already equal is returned unchanged. A polyline folded
    so that the landing point of the last chord jumps as the chord length grows has no exact
    equal-chord points; then equal-arclength interpolation (:func:`resample`) is used instead,
    and ``return_exact=True`` returns the pair (points, False) so that the caller knows."""
    path = np.ascontiguousarray(path, dtype=float)
    s = arclength(path)
    if s[-1] <= 0:
        raise InputError("equal_chords: the path has zero length (all points coincide).")
    out = _equal_chords(path, s, int(n_points))
    chords = np.linalg.norm(np.diff(out, axis=0), axis=1)
    exact = bool(np.all(np.isfinite(out))
                 and chords.max() <= 1.001 * chords.min() + 1e-12 * s[-1])
    if not exact:
        out = resample(path, n_points)
    return (out, exact) if return_exact else out
