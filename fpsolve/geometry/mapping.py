r"""Compactifying maps: an axis that reaches ±∞ as the image of a bounded interval.

A domain (−∞, ∞), [ℓ, ∞) or (−∞, u] is covered by a uniform grid in a *computational*
coordinate y on a bounded interval, through a smooth increasing map x = ψ(y) whose ends go to
±∞ (:class:`~fpsolve.geometry.grid.MappedGrid` uses it; the SDE is carried over to y by Itô's
formula in :mod:`fpsolve.coefficients.mapped`). The maps are algebraic of order two:

=================  =====================================  ===============
domain             x = ψ(y)                               y
=================  =====================================  ===============
(−∞, ∞)            c + s·y / (1 − y²)²                    (−1, 1)
[ℓ, ∞)             ℓ + s·y / (1 − y)²                     [0, 1)
(−∞, u]            u − s·(−y) / (1 + y)²                  (−1, 0]
=================  =====================================  ===============

with ``scale`` s (the cells are spread over |x − c| ≲ a few s: |x − c| ≤ s takes 45 % of them on
the line) and ``centre`` c. Near an infinite end, at distance ε = 1 − |y| from it, x ≈ s/(4ε²)
(line) and dx/dy ≈ 2x^(3/2)/√s: the *order two* is chosen by measurement
(:doc:`/guide/grids`, "Domains to ±∞"):

- a stationary law with a power-law tail p ~ |x|^(−2φ) has the density (1 − |y|)^(2(2φ−1) − 1) in
  y, so the cell sums converge at order 2(2φ − 1) > 2 for every normalisable tail (order one,
  y/(1 − y²) or tan(πy/2), gives 2φ − 1: 1.1 for Mori et al.'s φ = 1.05);
- an exit at infinity in finite time (the quadratic integrate-and-fire neuron, ẋ ≈ x²) is crossed
  at a speed dy/dt ≈ √x that grows towards the end, so the last cells cost O(h²) of the passage
  time; with order one the speed stays finite there and the upwinded last cells cost O(h).
  (Measured with order two: the passage −∞ → +∞ converges at order 1.85, but from a finite x₀
  at first order, 9.4e-3 at n = 800 — the flux's logarithmic face mean of D_y = D/ψ′², which
  changes by O(1) between neighbouring outer cells, is off by O(h/ε) there);
- order three resolves the same tails still better but the face Péclet numbers next to the ends
  reach 1e30 and the rates underflow.

Every function is vectorised, maps the ends exactly (ψ(±1) = ±∞, and back), and the inverse is
accurate to a few ulp of y.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["Compactification"]

#: Bisection steps of the inverse map on the line (each halves the bracket in y, from [0, 1]).
_BISECTIONS = 64


class Compactification:
    """The map x = ψ(y) of one axis with at least one infinite end (see the module doc).

    Parameters
    ----------
    lower, upper : the domain's ends in x (``-np.inf`` / ``np.inf`` for an infinite end; at least
        one infinite). A finite end is a wall (reflecting unless a target says otherwise).
    scale : s > 0, the length (units of x) over which the cells are spread around the centre.
    centre : c, the point of the line mapped to y = 0 (only for (−∞, ∞); the finite end is the
        centre of a half-line).

    Attributes
    ----------
    lower, upper, scale, centre, y_bounds : (y_low, y_high) the computational interval.
    """

    def __init__(self, lower, upper, scale=1.0, centre=0.0):
        lower, upper = float(lower), float(upper)
        if np.isnan(lower) or np.isnan(upper) or not upper > lower:
            raise InputError(f"Grid: need low < high; got ({lower}, {upper}).")
        if np.isfinite(lower) and np.isfinite(upper):
            raise InputError("Compactification: at least one end must be infinite.")
        if lower == np.inf or upper == -np.inf:
            raise InputError(f"Grid: the bounds ({lower}, {upper}) are not an interval of the "
                             f"line.")
        if not (np.isscalar(scale) and np.isfinite(scale) and scale > 0):
            raise InputError(f"Grid: scale must be a positive number (a length in units of x); "
                             f"got {scale!r}.")
        if not (np.isscalar(centre) and np.isfinite(centre)):
            raise InputError(f"Grid: centre must be a finite number; got {centre!r}.")
        if np.isfinite(lower) or np.isfinite(upper):
            if centre != 0.0:
                raise InputError("Grid: centre= is for the whole line (−∞, ∞); a half-line is "
                                 "centred on its finite end.")
        self.lower, self.upper = lower, upper
        self.scale, self.centre = float(scale), float(centre)
        if np.isfinite(lower):
            self.kind, self.y_bounds, self.origin, self.sign = "upper", (0.0, 1.0), lower, 1.0
        elif np.isfinite(upper):
            self.kind, self.y_bounds, self.origin, self.sign = "lower", (-1.0, 0.0), upper, -1.0
        else:
            self.kind, self.y_bounds, self.origin, self.sign = "line", (-1.0, 1.0), self.centre, 1.0

    # -- the map on the unit half-line u = |y| ∈ [0, 1) (line: odd extension) --------------------
    def _t(self, u):
        """t(u) = ψ's shape: u/(1 − u²)² on the line, u/(1 − u)² on a half-line."""
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "line":
                return u / ((1.0 - u) * (1.0 + u)) ** 2
            return u / (1.0 - u) ** 2

    def _dt(self, u):
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "line":
                return (1.0 + 3.0 * u * u) / ((1.0 - u) * (1.0 + u)) ** 3
            return (1.0 + u) / (1.0 - u) ** 3

    def _d2t(self, u):
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kind == "line":
                return 12.0 * u * (1.0 + u * u) / ((1.0 - u) * (1.0 + u)) ** 4
            return 2.0 * (2.0 + u) / (1.0 - u) ** 4

    def _split(self, y):
        """(u, σ): |y| and its sign in the direction of the infinite end(s)."""
        y = np.asarray(y, dtype=float)
        if self.kind == "line":
            return np.abs(y), np.where(y < 0, -1.0, 1.0)
        return self.sign * y, np.full(y.shape, self.sign)

    # -- public ---------------------------------------------------------------------------------
    def to_physical(self, y):
        """x = ψ(y) (±inf at the infinite ends)."""
        u, sig = self._split(y)
        self._check_y(u)
        x = np.where(u >= 1.0, np.inf, self.scale * self._t(np.minimum(u, 1.0)))
        return self.origin + sig * x

    def dx_dy(self, y):
        """ψ′(y) > 0 (+inf at an infinite end)."""
        u, _ = self._split(y)
        self._check_y(u)
        return np.where(u >= 1.0, np.inf, self.scale * self._dt(np.minimum(u, 1.0)))

    def d2x_dy2(self, y):
        """ψ″(y)."""
        u, sig = self._split(y)
        self._check_y(u)
        return sig * np.where(u >= 1.0, np.inf, self.scale * self._d2t(np.minimum(u, 1.0)))

    def to_computational(self, x):
        """y = ψ⁻¹(x); ±inf go to the ends of the computational interval. Points outside the
        domain raise :class:`~fpsolve.errors.InputError`."""
        x = np.asarray(x, dtype=float)
        if np.any(np.isnan(x)):
            raise InputError("Grid: a point is NaN.")
        if np.any((x < self.lower) | (x > self.upper)):
            bad = x[(x < self.lower) | (x > self.upper)].ravel()[0]
            raise InputError(f"Grid: the point {bad:g} lies outside the domain "
                             f"({self.lower:g}, {self.upper:g}).")
        d = (x - self.origin) * (1.0 if self.kind == "line" else self.sign)
        t = np.abs(d) / self.scale
        u = self._inverse(t)
        sig = np.where(d < 0, -1.0, 1.0) if self.kind == "line" else self.sign
        return sig * u

    def _inverse(self, t):
        """u ∈ [0, 1] with t(u) = t ≥ 0 (t = inf → 1): closed form on a half-line, bisection on
        the line (t is increasing; 64 halvings of [0, 1] reach adjacent floats)."""
        t = np.asarray(t, dtype=float)
        finite = np.isfinite(t)
        tt = np.where(finite, t, 0.0)
        if self.kind == "upper" or self.kind == "lower":
            # t(1 − u)² = u: u = 2t / (2t + 1 + sqrt(4t + 1)), without cancellation
            u = 2.0 * tt / (2.0 * tt + 1.0 + np.sqrt(4.0 * tt + 1.0))
        else:
            lo, hi = np.zeros_like(tt), np.ones_like(tt)
            for _ in range(_BISECTIONS):
                mid = 0.5 * (lo + hi)
                above = self._t(mid) > tt
                hi = np.where(above, mid, hi)
                lo = np.where(above, lo, mid)
            u = 0.5 * (lo + hi)
        return np.where(finite, np.clip(u, 0.0, 1.0), 1.0)

    def _check_y(self, u):
        if np.any(u > 1.0 + 1e-15) or np.any(np.isnan(u)):
            raise InputError(f"Grid: a computational coordinate lies outside "
                             f"{self.y_bounds}.")

    def __eq__(self, other):
        return (isinstance(other, Compactification) and self.lower == other.lower
                and self.upper == other.upper and self.scale == other.scale
                and self.centre == other.centre)

    def __hash__(self):
        return hash((self.lower, self.upper, self.scale, self.centre))

    def __repr__(self):
        extra = f", centre={self.centre:g}" if self.kind == "line" and self.centre else ""
        return (f"Compactification(({self.lower:g}, {self.upper:g}), scale={self.scale:g}"
                f"{extra})")
