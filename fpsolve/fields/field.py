"""Data on a grid: :class:`Field` (any cell-centred scalar) and :class:`Density` (a probability
density, normalised so that ``values.sum() * grid.cell_volume == 1``).

On a grid reaching to ±∞ (:class:`~fpsolve.geometry.grid.MappedGrid`, uniform in a computational
coordinate y with x = ψ(y)) a Field's values are its values at the cell centres x_k, a Density's
values are per unit y (so that the sum rule above still holds), ``Density.pdf`` is the density in
x (values / (dx/dy)), and every method that takes or returns points works in x: ``at``,
``expect``, ``mean``, ``cov``, ``mode``, ``integrate`` and ``plot``."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..geometry.grid import Grid
from ..jsonable import jsonable


class Field:
    """A scalar field on the cells of a grid.

    Attributes
    ----------
    grid : Grid
    values : ndarray of shape ``grid.shape``
    info : dict of solver diagnostics (residuals, method, ...), empty when not from a solver.
    """

    def __init__(self, grid: Grid, values, info=None):
        self.grid = grid
        self.values = grid.check_array(values, type(self).__name__)
        self.info = dict(info or {})

    # -- evaluation ---------------------------------------------------------------------------
    def at(self, x):
        """Multilinear interpolation at points ``x`` (shape (ndim,) or (m, ndim); a scalar in 1D).

        Between the outermost cell centre and a wall the value of the nearest cell is used
        (piecewise-constant extension); a periodic axis wraps. Points outside the box raise. On
        a grid reaching to ±∞ the points are in x (±inf allowed: the value at the end) and the
        interpolation is linear in the computational coordinate y.
        """
        g = self.grid
        pts = np.asarray(x, dtype=float)
        scalar = pts.ndim == 0 or (pts.ndim == 1 and g.ndim > 1 and pts.size == g.ndim)
        pts = pts.reshape(-1, g.ndim)
        if g.mapped:
            pts = g.to_computational(pts)
        if not np.all(np.isfinite(pts)):
            raise InputError(f"{type(self).__name__}.at: points must be finite.")
        out = np.zeros(len(pts))
        lo = g.bounds[:, 0]
        hi = g.bounds[:, 1]
        for a in range(g.ndim):
            if not g.periodic[a]:
                bad = (pts[:, a] < lo[a] - 1e-12 * g.h[a]) | (pts[:, a] > hi[a] + 1e-12 * g.h[a])
                if np.any(bad):
                    raise InputError(
                        f"{type(self).__name__}.at: point {pts[bad][0].tolist()} lies outside the "
                        f"grid on axis {a} ({lo[a]:g}, {hi[a]:g}).")
        # fractional cell-centre coordinate s: cell k has centre at s = k
        s = (pts - lo) / g.h - 0.5
        i0 = np.floor(s).astype(int)
        w = s - i0
        shape = np.asarray(g.shape)
        for corner in range(2 ** g.ndim):
            bits = [(corner >> a) & 1 for a in range(g.ndim)]
            weight = np.ones(len(pts))
            idx = []
            for a, bit in enumerate(bits):
                k = i0[:, a] + bit
                weight = weight * (w[:, a] if bit else 1.0 - w[:, a])
                k = np.mod(k, shape[a]) if g.periodic[a] else np.clip(k, 0, shape[a] - 1)
                idx.append(k)
            out += weight * self.values[tuple(idx)]
        return float(out[0]) if scalar else out

    # -- persistence ----------------------------------------------------------------------------
    def save(self, path):
        """Write values and grid to a ``.npz`` file (read back with :meth:`load`); the folder
        must exist."""
        folder = Path(path).expanduser().parent
        if not folder.is_dir():
            raise InputError(f"{type(self).__name__}.save: the folder {str(folder)!r} does not "
                             f"exist; create it first (e.g. Path({str(folder)!r}).mkdir("
                             f"parents=True)).")
        g = self.grid
        meta = {"kind": type(self).__name__, "info": jsonable(self.info),
                "grid": {k: v for k, v in g.init_args().items() if k in ("scale", "centre")}}
        args = g.init_args()
        np.savez_compressed(path, values=self.values, bounds=np.asarray(args["bounds"]),
                            shape=np.asarray(g.shape), periodic=np.asarray(g.periodic),
                            meta=json.dumps(meta))

    @classmethod
    def load(cls, path):
        """Read a field written by :meth:`save` (an ``.npz`` file: grid, values, info); a
        :class:`Density` loads as a Density.
        """
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"]))
            grid = Grid(f["bounds"], tuple(int(n) for n in f["shape"]),
                        tuple(bool(b) for b in f["periodic"]), **meta.get("grid", {}))
            values = f["values"]
        obj = cls.__new__(cls)
        Field.__init__(obj, grid, values, meta.get("info"))
        return obj

    # -- plotting ---------------------------------------------------------------------------------
    def plot(self, ax=None, log=False, **kwargs):
        """A line in 1D, an image in 2D, the middle slice along the last axis in 3D."""
        import matplotlib.pyplot as plt

        g = self.grid
        if ax is None:
            _, ax = plt.subplots()
        vals = self._plotted()
        if log:
            with np.errstate(divide="ignore"):
                vals = np.log10(vals)
        if g.ndim == 1:
            ax.plot(g.physical_axes[0], vals, **kwargs)
            ax.set_xlabel("x")
            ax.set_ylabel("log10 " + self._label if log else self._label)
        else:
            if g.ndim == 3:
                vals = vals[:, :, g.shape[2] // 2]
            im = ax.imshow(vals.T, origin="lower", aspect="auto",
                           extent=[*g.bounds[0], *g.bounds[1]], **kwargs)
            ax.figure.colorbar(im, ax=ax, label=("log10 " if log else "") + self._label)
            ax.set_xlabel("x1")
            ax.set_ylabel("x2")
        return ax

    _label = "value"

    def _plotted(self):
        return self.values

    def __repr__(self):
        return f"{type(self).__name__}(grid={self.grid!r})"


class Density(Field):
    """A probability density on a grid: non-negative values integrating to one.

    Construction normalises the values; zero, negative or non-finite mass, negative or non-finite
    values raise :class:`~fpsolve.errors.InputError` (nothing is clipped).

    Examples
    --------
    >>> import numpy as np
    >>> import fpsolve as fp
    >>> grid = fp.Grid([(-5.0, 5.0)], 200)
    >>> p = fp.Density(grid, np.exp(-grid.coords[0] ** 2 / 2))   # normalised on the grid
    >>> print(f"mass {p.mass:.6f}, mean {p.mean()[0]:+.6f}, var {p.var():.4f}")
    mass 1.000000, mean +0.000000, var 1.0000
    >>> print(f"P(x > 0) = {p.integrate(grid.coords[0] > 0):.4f}")
    P(x > 0) = 0.5000
    """

    _label = "density"

    def _plotted(self):
        return self.pdf

    def __init__(self, grid: Grid, values, info=None, normalize=True):
        super().__init__(grid, values, info)
        v = self.values
        # array methods, not np.all/np.any: a small solve's whole cost is overheads like these
        if not np.isfinite(v).all():
            bad = ~np.isfinite(v)
            raise InputError(f"Density: non-finite value {_first(grid, v, bad)}; a density must "
                             f"be finite everywhere.")
        if (v < 0).any():
            raise InputError(f"Density: negative value {_first(grid, v, v < 0)}; a density must "
                             f"be non-negative (nothing is clipped).")
        mass = v.sum() * grid.cell_volume
        if not mass > 0 or not np.isfinite(mass):
            raise InputError(f"Density: total mass is {mass}; it must be positive and finite.")
        if normalize:
            self.values = v / mass

    @classmethod
    def from_log(cls, grid, log_values, info=None):
        """Normalised density from log-values, stable when exp(log_values) would overflow."""
        lv = grid.check_array(log_values, "Density.from_log")
        m = lv.max()
        w = np.exp(lv - m)
        return cls(grid, w / (w.sum() * grid.cell_volume), info)

    # -- in the model's coordinates ------------------------------------------------------------------
    @property
    def pdf(self) -> np.ndarray:
        """The probability density in the model's coordinates x at the cell centres: ``values``
        on a plain grid, values / (dx/dy) on a grid reaching to ±∞."""
        return self.values / self.grid.jacobian if self.grid.mapped else self.values

    def at(self, x):
        """The density in x at points ``x`` (as :meth:`Field.at`; on a grid reaching to ±∞ the
        interpolated density per unit y divided by dx/dy there, 0 at ±∞)."""
        val = super().at(x)
        g = self.grid
        if not g.mapped:
            return val
        pts = np.asarray(x, dtype=float).reshape(-1, 1)
        with np.errstate(divide="ignore"):
            out = np.asarray(val, dtype=float).reshape(-1) / g.mapping.dx_dy(
                g.to_computational(pts[:, 0]))
        return float(out[0]) if np.ndim(val) == 0 else out

    # -- observables ----------------------------------------------------------------------------
    @property
    def mass(self) -> float:
        """Total probability ∫p = Σ p·cell volume (1 for a normalised density; the solvers conserve
        it to round-off).
        """
        return float(self.values.sum() * self.grid.cell_volume)

    def integrate(self, mask) -> float:
        """Probability of a set of cells: a boolean array, or a callable of the coordinates."""
        m = mask(*self.grid.physical_coords) if callable(mask) else mask
        m = np.broadcast_to(np.asarray(m, dtype=bool), self.grid.shape)
        return float(self.values[m].sum() * self.grid.cell_volume)

    def expect(self, f) -> float:
        """E[f(X)] for a callable of the coordinates or an array on the grid."""
        vals = f(*self.grid.physical_coords) if callable(f) else self.grid.check_array(f, "expect")
        return float((self.values * vals).sum() * self.grid.cell_volume)

    def mean(self) -> np.ndarray:
        """Mean vector, shape (ndim,) (on a periodic axis: the plain cell-centre average)."""
        return np.array([self.expect(c) for c in self.grid.physical_coords])

    def cov(self) -> np.ndarray:
        """Covariance matrix, shape (ndim, ndim)."""
        m = self.mean()
        c = [x - mu for x, mu in zip(self.grid.physical_coords, m)]
        return np.array([[self.expect(ci * cj) for cj in c] for ci in c])

    def mode(self) -> np.ndarray:
        """Most likely point: a least-squares cubic fit of log p on the 5^d cells around the
        largest value, then Newton on its gradient (accurate to O(h³) for a smooth density;
        the argmax cell alone is only O(h))."""
        g = self.grid
        dens = self.pdf  # the mode of the density in x (fitted in the grid's coordinates)
        k = np.unravel_index(np.argmax(dens), g.shape)
        sl = tuple(slice(max(0, i - 2), min(n, i + 3)) for i, n in zip(k, g.shape))
        local = dens[sl]
        if np.any(local <= 0):
            raise InputError("Density.mode: the density vanishes next to its maximum.")
        # local coordinates in units of h around the centre of the maximal cell
        centre = np.array([ax[i] for ax, i in zip(g.axes, k)])
        pts = np.stack([c[sl].ravel() for c in g.coords], axis=-1)
        z = (pts - centre) / g.h
        exps = [e for e in np.ndindex(*(4,) * g.ndim) if sum(e) <= 3]
        A = np.stack([np.prod(z ** np.array(e), axis=1) for e in exps], axis=1)
        coef, *_ = np.linalg.lstsq(A, np.log(local.ravel()), rcond=None)

        def grad_hess(x):
            gr = np.zeros(g.ndim)
            He = np.zeros((g.ndim, g.ndim))
            for c, e in zip(coef, exps):
                e = np.array(e)
                for i in range(g.ndim):
                    if e[i] == 0:
                        continue
                    ei = e.copy()
                    ei[i] -= 1
                    gr[i] += c * e[i] * np.prod(x ** ei)
                    for j in range(g.ndim):
                        if ei[j] == 0:
                            continue
                        eij = ei.copy()
                        eij[j] -= 1
                        He[i, j] += c * e[i] * ei[j] * np.prod(x ** eij)
            return gr, He

        x = np.zeros(g.ndim)
        for _ in range(20):
            gr, He = grad_hess(x)
            step = np.linalg.solve(He, gr)
            x = x - step
            if np.max(np.abs(step)) < 1e-12:
                break
        if np.max(np.abs(x)) > 1.0:  # the fit's stationary point left the maximal cell
            raise InputError("Density.mode: the local cubic fit has no maximum in the top cell; "
                             "the density is too rough there (refine the grid).")
        return g.to_physical(centre + x * g.h)

    def var(self) -> float:
        """Variance of a 1D density."""
        return float(self.cov()[0, 0])


def _first(grid: Grid, values, mask) -> str:
    """'v at cell (i, j), x = (…)' for the first True entry of mask, and how many there are."""
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    x = ", ".join(f"{float(ax[i]):.6g}" for ax, i in zip(grid.axes, idx))
    return (f"{float(values[idx]):.3g} at cell {idx}, x = ({x}) ({int(np.sum(mask))} cell(s) in "
            f"all)")
