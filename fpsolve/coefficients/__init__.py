"""The SDE's coefficients: the user's input, evaluated once and checked once, in one record.

``FokkerPlanck(grid, potential=…, drift=…, diffusion=…)`` hands its inputs to
:meth:`Coefficients.build`: every callable is evaluated on the grid here (and nowhere else), and
every check runs here, before any solve. The resulting :class:`Coefficients` holds the potential
on the cells, the scalar or tensor diffusion, the drift on the faces, the convention and the
schedule, and gives the pointwise coefficients the particles need. Numerics, escape solvers,
particles and back ends read it; nothing changes it.

- :mod:`.evaluate` — calling a user's function on arrays; finiteness and positivity checks.
- :mod:`.drift` — a drift at the face centres (normal components or whole vectors).
- :mod:`.tensor` — a tensor diffusion: recognised, evaluated, checked, floored.
- :mod:`.schedules` — the time dependence s(t) of the diffusion.
- :mod:`.pointwise` — the Itô drift and the diffusion at arbitrary points (particles).
- :mod:`.record` — the record itself.
"""
from . import schedules
from .record import Coefficients, UserCoefficients

__all__ = ["Coefficients", "UserCoefficients", "schedules"]
