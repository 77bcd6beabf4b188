"""Result objects of the particle simulations (times in the model's units; SGD: t = k·η)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..fields.field import Density, Field


def histogram_counts(positions, grid):
    """Particle counts per cell of ``grid`` (array of grid.shape); points on the upper wall go to
    the last cell, points outside the box are dropped."""
    X = np.asarray(positions, dtype=float).reshape(-1, grid.ndim)
    edges = [lo + np.arange(n + 1) * h for (lo, _), n, h in zip(grid.bounds, grid.shape, grid.h)]
    for a in range(grid.ndim):  # exact walls (bin edges accumulate round-off)
        edges[a][-1] = grid.bounds[a, 1]
    counts, _ = np.histogramdd(X, bins=edges)
    return counts


@dataclass
class SimulationResult:
    """Particle positions at the output times of :func:`fpsolve.particles.simulate`.

    times : (m,) output times. positions : list of m arrays (n_alive, d) of the particles still
    in play. alive : (m,) counts (fall below n only with absorbing targets or walls). n : number
    started. removed_times : times at which removed particles left (step end, t units), and
    removed_points their positions then. dt : requested step (each output interval is split into
    equal steps ≤ dt). steps : total steps. route : "compiled", "vectorised" or "torch".
    """

    times: np.ndarray
    positions: list
    alive: np.ndarray
    n: int
    dt: float
    steps: int
    grid: object
    backend: str
    route: str
    seed: object = None
    removed_times: np.ndarray = None
    removed_points: np.ndarray = None
    wall_time: float = 0.0
    info: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.times)

    def _positions(self, t_index):
        try:
            return self.positions[t_index]
        except IndexError:
            raise InputError(f"SimulationResult: t_index {t_index} is out of range for "
                             f"{len(self.times)} output times.") from None

    def histogram(self, t_index=-1, normalize=True):
        """Histogram onto the model's grid at output ``t_index``.

        normalize=True: a :class:`~fpsolve.Density` of the surviving particles (integrates to
        1; ``info`` holds ``counts`` and ``n_alive``). normalize=False: a :class:`~fpsolve.Field`
        with values counts / (n · cell volume), whose integral is the surviving fraction.
        """
        X = self._positions(t_index)
        counts = histogram_counts(X, self.grid)
        if not normalize:
            return Field(self.grid, counts / (self.n * self.grid.cell_volume),
                         {"counts": counts, "n_alive": len(X), "n": self.n})
        if len(X) == 0:
            raise InputError("SimulationResult.histogram: no particle is left at this time.")
        return Density(self.grid, counts / (len(X) * self.grid.cell_volume),
                       {"counts": counts, "n_alive": len(X), "n": self.n})

    def mean(self, t_index=-1):
        """Sample mean of the surviving particles, shape (d,)."""
        return self._positions(t_index).mean(axis=0)

    def cov(self, t_index=-1):
        """Sample covariance (ddof=1), shape (d, d)."""
        return np.atleast_2d(np.cov(self._positions(t_index), rowvar=False))

    def __repr__(self):
        return (f"SimulationResult(n={self.n}, times={len(self.times)} in [{self.times[0]:g}, "
                f"{self.times[-1]:g}], alive={self.alive[-1]}, dt={self.dt:g}, "
                f"backend={self.backend!r}, route={self.route!r})")


@dataclass
class FirstPassageResult:
    """First-passage times of :func:`fpsolve.particles.first_passage`.

    times : first-passage times (t units) of the particles that hit the target by t_max, in
    particle order; exit_points : their positions at that step (n_hit, d). n : particles
    started; censored : how many had not hit by t_max (their times are only known to exceed
    it); absorbed : particles removed by an absorbing wall before reaching the target.

    ``mean`` and ``stderr`` are over the particles that hit: with censored > 0 the mean is that
    of τ given τ ≤ t_max, biased low — raise t_max until censored is 0 for an MFPT.
    The time grid is discrete: a hit is detected at the end of a step (bias O(sqrt(dt)), see
    :func:`fpsolve.compare.monitoring_shift`).
    """

    times: np.ndarray
    exit_points: np.ndarray
    n: int
    censored: int
    t_max: float
    dt: float
    backend: str
    route: str
    absorbed: int = 0
    seed: object = None
    wall_time: float = 0.0
    info: dict = field(default_factory=dict)

    @property
    def n_hit(self) -> int:
        """Number of particles that reached the target before t_max."""
        return len(self.times)

    @property
    def mean(self) -> float:
        """Mean first-passage time of the particles that hit (NaN if none)."""
        return float(np.mean(self.times)) if len(self.times) else float("nan")

    @property
    def std(self) -> float:
        """Sample standard deviation of the hitting times (NaN for fewer than two)."""
        return float(np.std(self.times, ddof=1)) if len(self.times) > 1 else float("nan")

    @property
    def stderr(self) -> float:
        """Standard error of ``mean`` (std / sqrt(n_hit))."""
        return self.std / np.sqrt(len(self.times)) if len(self.times) > 1 else float("nan")

    def cdf(self, t):
        """Empirical P(τ ≤ t) over all n particles (censored ones count as not yet hit)."""
        s = np.sort(self.times)
        return np.searchsorted(s, np.asarray(t, dtype=float), side="right") / self.n

    def survival(self, t):
        """Empirical P(τ > t) = 1 − cdf(t)."""
        return 1.0 - self.cdf(t)

    def ecdf(self):
        """(sorted hit times, cdf at each) — the empirical CDF as step-function knots."""
        s = np.sort(self.times)
        return s, np.arange(1, len(s) + 1) / self.n

    def __repr__(self):
        return (f"FirstPassageResult(n={self.n}, hit={self.n_hit}, censored={self.censored}, "
                f"mean={self.mean:.6g} ± {self.stderr:.2g}, dt={self.dt:g}, "
                f"backend={self.backend!r})")
