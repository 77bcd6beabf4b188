"""Uniform cell-centred Cartesian grids in 1, 2 or 3 dimensions, and 1D grids reaching to ±∞.

A grid owns geometry only: cell centres, face positions, spacings and which axes wrap around.
Boundary conditions other than periodicity (reflecting walls, absorbing targets) belong to the
model, because they are statements about the flux, not about the geometry.

A 1D domain with an infinite end, ``Grid([(-np.inf, np.inf)], n)`` or ``Grid([(0, np.inf)], n)``,
is a :class:`MappedGrid`: uniform in a computational coordinate y on a bounded interval, with
the physical coordinate x = ψ(y) (:mod:`.mapping`). Its ``bounds``, ``h``, ``axes``, ``coords``
and ``cell_volume`` are those of y, so every solver runs on it unchanged; ``physical_axes``,
``physical_coords``, ``jacobian`` (dx/dy) and ``to_computational`` / ``to_physical`` connect it
to x, and are the identity on a plain grid.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import InputError
from .mapping import Compactification

MIN_CELLS = 3


def _cell_counts(shape, ndim) -> tuple:
    """``shape`` as a tuple of Python ints. Whole numbers only (ints, or floats such as 100.0):
    100.5 must not silently become 100 cells."""
    if type(shape) is int:  # the common case, without numpy's scalar machinery
        return (shape,) * ndim
    counts = [shape] * ndim if np.ndim(shape) == 0 else list(np.asarray(shape, dtype=object).ravel())
    for ax, n in enumerate(counts):
        whole = (isinstance(n, (int, np.integer, float, np.floating))
                 and not isinstance(n, (bool, np.bool_)) and np.isfinite(n)
                 and float(n).is_integer())
        if not whole:
            raise InputError(
                f"Grid: the number of cells must be a whole number per axis; got {n!r} for "
                f"axis {ax}.")
    return tuple(int(n) for n in counts)


def _infinite(bounds) -> bool:
    """Whether ``bounds`` (as given to Grid) has an infinite end."""
    try:
        b = np.asarray(bounds, dtype=float)
    except (TypeError, ValueError):
        return False
    return any(map(math.isinf, b.ravel().tolist()))


class Grid:
    """Uniform cell-centred grid on a box.

    Parameters
    ----------
    bounds : sequence of (low, high)
        One pair per axis (1 to 3 axes). A single pair ``(low, high)`` means a 1D grid.
    shape : int or tuple of int
        Number of cells per axis; an int is used for every axis. At least 3 per axis.
    periodic : bool or tuple of bool
        Whether each axis wraps around (the cells at ``low`` and ``high`` are neighbours).
    scale, centre : only for a 1D domain with an infinite end (``-np.inf`` / ``np.inf`` in
        ``bounds``), which makes a :class:`MappedGrid`: the length over which the cells are
        spread (default 1) and, on the whole line, the point in the middle (default 0).

    Attributes
    ----------
    ndim, shape, bounds, periodic, h (spacing per axis), cell_volume, size (number of cells),
    axes (1D arrays of cell centres), coords (tuple of 'ij' meshgrids of cell centres, built on
    first use).

    Examples
    --------
    >>> import numpy as np
    >>> import fpsolve as fp
    >>> grid = fp.Grid([(-1.0, 1.0)], 4)            # 4 cells between two walls
    >>> grid.h, grid.coords[0]
    (array([0.5]), array([-0.75, -0.25,  0.25,  0.75]))
    >>> ring = fp.Grid([(0, 1), (0, 2 * np.pi)], (10, 20), periodic=[False, True])
    >>> ring.shape, ring.periodic
    ((10, 20), (False, True))
    >>> line = fp.Grid([(-np.inf, np.inf)], 400)    # the whole line, compactified
    >>> type(line).__name__, line.physical_axes[0][[0, 200]]
    ('MappedGrid', array([-3.99999373e+04,  2.50003125e-03]))
    """

    #: whether the grid is uniform in a computational coordinate y ≠ x (see MappedGrid)
    mapped = False
    #: the map x = ψ(y) of a MappedGrid (None on a plain grid)
    mapping = None

    def __new__(cls, bounds=None, shape=None, periodic=False, **kw):
        if cls is Grid and _infinite(bounds):
            cls = MappedGrid
        return super().__new__(cls)

    def __init__(self, bounds, shape, periodic=False, scale=None, centre=None):
        if scale is not None or centre is not None:
            raise InputError("Grid: scale= and centre= place the cells of a domain with an "
                             "infinite end (bounds with -np.inf or np.inf); these bounds are "
                             "finite.")
        bounds = np.asarray(bounds, dtype=float)
        if bounds.ndim == 1:
            bounds = bounds[None, :]
        if bounds.ndim != 2 or bounds.shape[1] != 2 or not 1 <= bounds.shape[0] <= 3:
            raise InputError(
                f"Grid: bounds must be a list of (low, high) pairs, one per axis, for 1 to 3 "
                f"axes; got an array of shape {bounds.shape}. Example: [(-2, 2), (-1, 1)].")
        pairs = bounds.tolist()  # Python floats: the checks below cost no numpy calls
        if not all(math.isfinite(v) for pair in pairs for v in pair):
            raise InputError(f"Grid: bounds must be finite numbers; got {pairs}.")
        ndim = len(pairs)
        for ax, (lo, hi) in enumerate(pairs):
            if not hi > lo:
                raise InputError(
                    f"Grid: axis {ax} has low={lo} >= high={hi}; give (low, high) with low < high.")
        shape = _cell_counts(shape, ndim)
        if len(shape) != ndim:
            raise InputError(
                f"Grid: shape {shape} has {len(shape)} entries but bounds describe {ndim} axes.")
        for ax, n in enumerate(shape):
            if n < MIN_CELLS:
                raise InputError(
                    f"Grid: axis {ax} has {n} cells; a finite-volume grid needs at least "
                    f"{MIN_CELLS} cells per axis. Increase shape[{ax}].")
        periodic = (bool(periodic),) * ndim if np.isscalar(periodic) else tuple(map(bool, periodic))
        if len(periodic) != ndim:
            raise InputError(
                f"Grid: periodic {periodic} has {len(periodic)} entries but the grid has {ndim} axes.")

        self.bounds = bounds
        self.shape = shape
        self.periodic = periodic
        self.ndim = ndim
        h = [(hi - lo) / n for (lo, hi), n in zip(pairs, shape)]
        self.h = np.array(h)
        self.cell_volume = math.prod(h)
        self.size = math.prod(shape)
        self.axes = tuple(lo + (np.arange(n) + 0.5) * hk for (lo, _), n, hk in zip(pairs, shape, h))
        self._coords = None

    @property
    def coords(self) -> tuple:
        """The cell centres as 'ij' meshgrids, one array of the grid shape per axis (built on
        first use: a grid itself costs no memory of its size, so a model can check that the
        problem fits before anything that large is allocated)."""
        if self._coords is None:
            self._coords = ((self.axes[0].copy(),) if self.ndim == 1 else
                            tuple(np.meshgrid(*self.axes, indexing="ij")))
        return self._coords

    @classmethod
    def aligned(cls, lo: float, hi: float, *, n: int | None = None, h: float | None = None,
                point: float = 0.0) -> "Grid":
        """A 1D grid whose cell centres sit on a lattice, so that chosen points (minima,
        saddles, start points, an absorbing point) are cell centres.

        Give ``n``: the centres are lo, lo + h, …, hi with h = (hi − lo)/n (n + 1 cells).
        Give ``h``: the centres are point + k·h for every k with a centre in [lo, hi], widened
        to the first lattice points at or beyond lo and hi.
        """
        if (n is None) == (h is None):
            raise InputError("Grid.aligned: give exactly one of n (cells between lo and hi) and "
                             "h (spacing).")
        if not hi > lo:
            raise InputError(f"Grid.aligned: need lo < hi; got lo={lo}, hi={hi}.")
        if n is not None:
            (n,) = _cell_counts(n, 1)
            h = (hi - lo) / n
            return cls([(lo - h / 2, hi + h / 2)], n + 1)
        if not (np.isfinite(h) and h > 0):
            raise InputError(f"Grid.aligned: the spacing h must be positive; got {h}.")
        i0, i1 = int(np.floor((lo - point) / h)), int(np.ceil((hi - point) / h))
        return cls([(point + (i0 - 0.5) * h, point + (i1 + 0.5) * h)], i1 - i0 + 1)

    # -- physical coordinates (the identity here; see MappedGrid) --------------------------------
    @property
    def physical_axes(self):
        """Cell centres in the model's coordinates x, one array per axis."""
        return self.axes

    @property
    def physical_coords(self):
        """'ij' meshgrids of the cell centres in the model's coordinates x (user callables are
        evaluated here)."""
        return self.coords

    @property
    def jacobian(self) -> np.ndarray:
        """dx/dy at the cell centres (grid shape): a density in x is the cell value / jacobian."""
        return np.ones(self.shape)

    def to_computational(self, x) -> np.ndarray:
        """Points in the model's coordinates x → the grid's coordinates (the identity here)."""
        return np.asarray(x, dtype=float)

    def to_physical(self, y) -> np.ndarray:
        """Points in the grid's coordinates → the model's coordinates x (the identity here)."""
        return np.asarray(y, dtype=float)

    def init_args(self) -> dict:
        """The arguments that rebuild this grid: ``Grid(**grid.init_args())``."""
        return {"bounds": self.bounds.tolist(), "shape": self.shape, "periodic": self.periodic}

    def refined(self, factor: int = 2) -> "Grid":
        """The same box with ``factor`` times as many cells on every axis (each cell split into
        ``factor`` per axis, so every face of this grid is a face of the refined one)."""
        if type(factor) is not int or factor < 2:
            raise InputError(f"Grid.refined: factor must be an integer ≥ 2; got {factor!r}.")
        return type(self)(**{**self.init_args(), "shape": tuple(factor * n for n in self.shape)})

    # -- geometry helpers ---------------------------------------------------------------------
    @property
    def points(self) -> np.ndarray:
        """Cell centres as an array of shape (size, ndim), in C order of the grid."""
        return np.stack([c.ravel() for c in self.coords], axis=-1)

    def points_at(self, flat) -> np.ndarray:
        """Centres of the cells with flat (C-order) indices ``flat``, shape (len(flat), ndim):
        ``points[flat]`` without the (size, ndim) array of every centre."""
        flat = np.asarray(flat, dtype=np.int64)
        return np.stack([c.ravel()[flat] for c in self.coords], axis=-1)

    @property
    def volume(self) -> float:
        """Volume (length, area) of the whole box."""
        return float(np.prod(self.bounds[:, 1] - self.bounds[:, 0]))

    def face_coords(self, axis: int):
        """Meshgrids of the centres of the faces normal to ``axis``.

        For a non-periodic axis these are the ``n - 1`` interior faces; for a periodic axis the
        ``n`` faces between cell k and cell k+1 (mod n), the last one at ``high``.
        """
        axes = list(self.axes)
        x = self.axes[axis] + 0.5 * self.h[axis]
        axes[axis] = x if self.periodic[axis] else x[:-1]
        return (axes[0],) if self.ndim == 1 else tuple(np.meshgrid(*axes, indexing="ij"))

    def cell_index(self, x) -> np.ndarray:
        """Integer index per axis of the cell containing each point; ``x`` has shape (..., ndim)."""
        x = np.asarray(x, dtype=float).reshape(-1, self.ndim)
        idx = np.floor((x - self.bounds[:, 0]) / self.h).astype(int)
        return np.clip(idx, 0, np.asarray(self.shape) - 1)

    def contains(self, x) -> np.ndarray:
        """Whether each point of ``x`` (shape (..., ndim)) lies in the closed box."""
        x = np.asarray(x, dtype=float).reshape(-1, self.ndim)
        return np.all((x >= self.bounds[:, 0]) & (x <= self.bounds[:, 1]), axis=1)

    def check_array(self, values, what: str) -> np.ndarray:
        """Return ``values`` as a float array of the grid's shape, or raise naming ``what``."""
        arr = np.asarray(values, dtype=float)
        if arr.shape != self.shape:
            if arr.size == self.size and arr.ndim == 1:
                return arr.reshape(self.shape)
            raise InputError(
                f"{what}: array of shape {arr.shape} does not match the grid shape {self.shape}.")
        return arr

    def __eq__(self, other):
        return (isinstance(other, Grid) and self.shape == other.shape
                and self.periodic == other.periodic and np.array_equal(self.bounds, other.bounds)
                and self.mapping == other.mapping)

    def __hash__(self):
        return hash((self.shape, self.periodic, self.bounds.tobytes(), self.mapping))

    def __repr__(self):
        b = ", ".join(f"({lo:g}, {hi:g})" for lo, hi in self.bounds)
        return f"Grid(bounds=[{b}], shape={self.shape}, periodic={self.periodic})"


class MappedGrid(Grid):
    """A 1D grid on a domain with an infinite end: (−∞, ∞), [ℓ, ∞) or (−∞, u].

    Made by :class:`Grid` when ``bounds`` has an infinite end. The cells are uniform in the
    computational coordinate y on (−1, 1), [0, 1) or (−1, 0], and x = ψ(y) is the algebraic map
    of :class:`~fpsolve.geometry.mapping.Compactification`: the ends y = ±1 are x = ±∞, walls
    of the grid like any other (reflecting, or absorbing with ``fpsolve.escape.Wall``: an exit at
    infinity). As a :class:`Grid` it *is* the grid in y (``bounds``, ``h``, ``axes``,
    ``coords``, ``cell_volume``), so every solver runs on it unchanged; a Field's values are on
    its cells and a Density's values are per unit y (the density in x is values / jacobian,
    ``Density.pdf``).

    Attributes (besides Grid's): ``mapping`` (the Compactification), ``physical_bounds`` (the
    domain in x, with its infinite ends), ``physical_axes`` / ``physical_coords`` (cell centres
    in x), ``jacobian`` (dx/dy at the centres).

    Examples
    --------
    >>> import numpy as np
    >>> import fpsolve as fp
    >>> g = fp.Grid([(0.0, np.inf)], 4, scale=2.0)      # the half-line x ≥ 0
    >>> g.bounds.tolist(), g.physical_axes[0].round(3).tolist()
    ([[0.0, 1.0]], [0.327, 1.92, 8.889, 112.0])
    >>> float(g.to_computational(np.inf)), float(g.to_physical(0.5))
    (1.0, 4.0)
    """

    mapped = True

    def __init__(self, bounds, shape, periodic=False, scale=1.0, centre=0.0):
        b = np.asarray(bounds, dtype=float)
        if b.ndim == 1:
            b = b[None, :]
        if b.ndim != 2 or b.shape[1] != 2:
            raise InputError(f"Grid: bounds must be a list of (low, high) pairs; got an array of "
                             f"shape {b.shape}.")
        if b.shape[0] != 1:
            raise InputError(
                "Grid: an infinite end is supported on 1D grids only (the map to a bounded "
                "interval makes a scalar D anisotropic in two or more dimensions). Use finite "
                "bounds on the other axes, or a 1D model.")
        if np.any(np.atleast_1d(periodic)):
            raise InputError("Grid: a periodic axis cannot have an infinite end.")
        self.mapping = Compactification(b[0, 0], b[0, 1], 1.0 if scale is None else scale,
                                        0.0 if centre is None else centre)
        super().__init__([self.mapping.y_bounds], shape)
        self.physical_bounds = b
        self._x = self.mapping.to_physical(self.axes[0])
        self._jac = self.mapping.dx_dy(self.axes[0])

    @property
    def physical_axes(self):
        return (self._x,)

    @property
    def physical_coords(self):
        return (self._x,)

    @property
    def jacobian(self) -> np.ndarray:
        return self._jac.copy()

    def to_computational(self, x) -> np.ndarray:
        """x → y (±inf → the ends of the interval); raises for points outside the domain."""
        return self.mapping.to_computational(x)

    def to_physical(self, y) -> np.ndarray:
        """y → x = ψ(y)."""
        return self.mapping.to_physical(y)

    def init_args(self) -> dict:
        m = self.mapping
        out = {"bounds": self.physical_bounds.tolist(), "shape": self.shape,
               "periodic": self.periodic, "scale": m.scale}
        if m.kind == "line":
            out["centre"] = m.centre
        return out

    def __repr__(self):
        lo, hi = self.physical_bounds[0]
        m = self.mapping
        extra = f", centre={m.centre:g}" if m.kind == "line" and m.centre else ""
        return f"Grid(bounds=[({lo:g}, {hi:g})], shape={self.shape}, scale={m.scale:g}{extra})"
