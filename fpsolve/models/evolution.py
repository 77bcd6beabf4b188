"""The result of :meth:`fpsolve.FokkerPlanck.evolve`: densities at the output times."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..fields.field import Density, Field


@dataclass
class Evolution:
    """Result of :meth:`FokkerPlanck.evolve`.

    times : output times (units of t; for SGD t = k·η). densities : list of Density (values as
    computed, not renormalised). mass : total probability at each time (1 up to round-off).
    min_value : smallest density value over all outputs (negative only for TR-BDF2 with large
    steps). steps, factorisations, assemblies, dt : work done.
    """

    times: np.ndarray
    densities: list
    mass: np.ndarray
    min_value: float
    method: str
    scheme: str | None = None
    steps: int = 0
    factorisations: int = 0
    assemblies: int = 0
    dt: float | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_states(cls, grid, times, states, **kw):
        """The result from the raw states (flat arrays in C order) at ``times``; values kept
        exactly as computed (not renormalised), so that mass conservation can be read off."""
        dens = []
        for s in states:
            d = Density.__new__(Density)
            Field.__init__(d, grid, s.reshape(grid.shape))  # keep values exactly as computed
            dens.append(d)
        mass = np.array([s.sum() * grid.cell_volume for s in states])
        return cls(times=np.asarray(times), densities=dens, mass=mass,
                   min_value=float(min(s.min() for s in states)), **kw)

    def __len__(self):
        return len(self.times)
