"""The kinetic (underdamped) Fokker–Planck model in phase space (x, v).

Data flows one way: the user's coefficients are evaluated once on the grid and checked here,
turned into face coefficients by :mod:`fpsolve.kinetic.scheme`, and every question is answered
from the sparse generator by :mod:`fpsolve.kinetic.questions` and :mod:`fpsolve.kinetic.escape`.
No solver calls back into user code.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from scipy.special import ndtr

from ..errors import InputError
from ..geometry.grid import Grid
from ..noise import NoiseModel
from ..sgd import minibatch_factor
from . import escape, mapping, questions
from .scheme import SCHEMES, PhaseSpaceScheme

#: Gibbs mass beyond the velocity box (or relative density at an x-wall) above which a warning
#: says that the box cuts the distribution.
TAIL_TOL = 1e-6


class Langevin:
    r"""Underdamped Langevin dynamics of a 1D position and its kinetic Fokker–Planck equation.

    SDE (unit mass; Itô, though all conventions agree here, the noise amplitude depending on X
    only):

        dX = V dt,   dV = −γ V dt − U′(X) dt + sqrt(2γ T(X)) dW,

    density p(x, v, t) on a phase-space grid:
    ∂t p = −∂x(v p) + ∂v(U′ p) + γ ∂v(v p + T ∂v p).

    Parameters
    ----------
    grid : Grid
        A 2D :class:`fpsolve.Grid`: axis 0 the position x, axis 1 the velocity v (units
        length/time), neither periodic. The walls are reflecting (zero flux); they must lie in
        the Gibbs tail (a warning gives the mass the box cuts off).
    potential : callable
        U(x), vectorised over numpy arrays (a loss, for SGD). Evaluated once, at the x cell
        centres and faces. The particles use ``gradient`` (or ``potential.gradient``, as the
        potentials of :mod:`fpsolve.particles.potentials` carry, or central differences).
    friction : float
        γ > 0 (units 1/time).
    temperature : float, callable or array
        T > 0: a number, a function T(x) of the position, or values on the x cells (nx,)
        (units length²/time², the variance of V in equilibrium).
    scheme : "central" (default; second order, χ²-dissipative, not positivity preserving) or
        "upwind" (M-matrix: positive, first order in x). See :mod:`fpsolve.kinetic.scheme` for
        what each guarantees.

    Questions: :meth:`stationary`, :meth:`eigenvalues`, :meth:`evolve`,
    :meth:`mean_first_passage_time`, :meth:`committor`, :meth:`escape_rate` (targets are sets of
    positions, :mod:`fpsolve.kinetic.positions`), :meth:`marginal`. Particles of the same SDE and
    heavy-ball chains: :mod:`fpsolve.kinetic.particles`. From SGD with momentum: :meth:`sgd`.
    """

    def __init__(self, grid: Grid, potential, friction, temperature, scheme="central",
                 gradient=None):
        if not isinstance(grid, Grid) or grid.ndim != 2:
            raise InputError(f"Langevin: grid must be a 2D fpsolve.Grid over (x, v); got "
                             f"{grid!r}. Example: Grid([(-2, 2), (-1.5, 1.5)], (256, 256)).")
        if any(grid.periodic):
            raise InputError("Langevin: periodic axes are not supported (x and v must be boxes "
                             "with walls).")
        if not callable(potential):
            raise InputError(f"Langevin: potential must be a callable U(x) (vectorised); got "
                             f"{type(potential).__name__}.")
        if scheme not in SCHEMES:
            raise InputError(f"Langevin: scheme {scheme!r} is unknown; choose one of {SCHEMES}.")
        if isinstance(friction, bool) or not isinstance(friction, numbers.Real) \
                or not np.isfinite(friction) or friction <= 0:
            raise InputError(f"Langevin: friction γ must be a positive finite number; got "
                             f"{friction!r}. (γ = 0 is Hamiltonian dynamics, with no stationary "
                             f"state to relax to; for heavy-ball SGD γ = (1 − β)/√η.)")
        self.grid = grid
        self.potential = potential
        self.gradient = gradient if gradient is not None else getattr(potential, "gradient", None)
        self.friction = float(friction)
        self.scheme_name = scheme
        x = grid.axes[0]
        xf = grid.bounds[0, 0] + np.arange(grid.shape[0] + 1) * grid.h[0]
        self.x_grid = Grid([tuple(grid.bounds[0])], grid.shape[0])
        self.U_cells = _evaluate(potential, x, "potential")
        self.U_faces = _evaluate(potential, xf, "potential (at the cell faces)")
        self.temperature = temperature
        self.T_cells = _temperature(temperature, x)
        self.scheme = PhaseSpaceScheme(grid, self.U_cells, self.U_faces, self.T_cells,
                                       self.friction, scheme)
        self.constant_T = self.scheme.constant_T
        self._cache = {}
        self.box_report = self._check_box()

    # -- construction from SGD with momentum ------------------------------------------------
    @classmethod
    def sgd(cls, grid, loss, lr, momentum, batch_size, noise, dataset_size=None,
            replacement=True, scheme="central", gradient=None):
        """The Langevin model of heavy-ball SGD (:mod:`fpsolve.kinetic.mapping`).

        loss : L(θ) (1D, vectorised); noise : a :class:`fpsolve.noise.NoiseModel` giving the
        per-sample gradient variance Σ₁(θ), so C = Σ₁/B (× (N − B)/(N − 1) without
        replacement); ``WhiteNoise(c)`` gives the temperature T = c itself, as it gives D itself
        to :func:`fpsolve.sgd.model` (T plays D's role: same stationary law at η/(1 − β)).
        lr η, momentum β ∈ [0, 1), batch_size B.

        γ = (1 − β)/√η and T(θ) = η C(θ)/(2(1 − β)) on the x cells; times are t = k√η. The
        model carries ``lr``, ``momentum``, ``batch_size``, ``noise``, ``effective_lr`` =
        η/(1 − β) and ``time_unit``.
        """
        if not isinstance(noise, NoiseModel):
            raise InputError(f"Langevin.sgd: noise must be a model from fpsolve.noise; got "
                             f"{type(noise).__name__}.")
        if not (np.isscalar(batch_size) and batch_size >= 1):
            raise InputError(f"Langevin.sgd: batch_size must be ≥ 1; got {batch_size!r}.")
        gamma = mapping.friction(lr, momentum)
        if not isinstance(grid, Grid) or grid.ndim != 2:
            raise InputError("Langevin.sgd: grid must be a 2D fpsolve.Grid over (θ, v).")
        xg = Grid([tuple(grid.bounds[0])], grid.shape[0])
        L = _evaluate(loss, xg.axes[0], "loss")
        sigma1 = np.asarray(noise.sigma1(xg, L), dtype=float)
        if sigma1.shape != xg.shape:
            raise InputError(f"Langevin.sgd: the noise model gave Σ₁ of shape {sigma1.shape}; "
                             f"a 1D position needs a scalar field {xg.shape}.")
        if noise.scales_with_lr_and_batch:
            C = sigma1 / batch_size * minibatch_factor(batch_size, dataset_size, replacement)
            T = mapping.temperature(lr, momentum, C)
        else:
            T = sigma1
        model = cls(grid, loss, gamma, float(T[0]) if np.all(T == T[0]) else T, scheme=scheme,
                    gradient=gradient)
        model.lr, model.momentum, model.batch_size, model.noise = float(lr), float(momentum), \
            batch_size, noise
        model.effective_lr = mapping.effective_learning_rate(lr, momentum)
        model.time_unit = "t = k·sqrt(lr)"
        return model

    # -- checks ---------------------------------------------------------------------------------
    def _check_box(self):
        """Velocity box against the Maxwellian tail (warned at construction; the x-walls are
        checked by the questions that see them, :meth:`check_x_walls`)."""
        g = self.grid
        Tmax = float(self.T_cells.max())
        vlo, vhi = g.bounds[1]
        cut_v = float(ndtr(vlo / np.sqrt(Tmax)) + ndtr(-vhi / np.sqrt(Tmax)))
        # x-walls: the weight of the wall cells relative to the most probable cell — the Gibbs
        # factor exp(−U/T) for constant T, the high-friction (overdamped Itô) law with T(x)
        w = np.exp(questions.position_log_weight(self))
        report = {"velocity_mass_outside": cut_v, "x_wall_relative_density": (float(w[0]),
                                                                               float(w[-1])),
                  "cells_per_thermal_velocity": float(np.sqrt(self.T_cells.min()) / g.h[1])}
        if cut_v > TAIL_TOL:
            warnings.warn(
                f"Langevin: the velocity box [{vlo:g}, {vhi:g}] cuts off a Gibbs mass of "
                f"{cut_v:.2e} (Maxwellian at T = {Tmax:g}); the walls deflect the flow there. "
                f"Widen it to about ±{6 * np.sqrt(Tmax):.3g} (6 thermal velocities).",
                RuntimeWarning, stacklevel=3)
        if report["cells_per_thermal_velocity"] < 2.0:
            warnings.warn(
                f"Langevin: the velocity spacing {g.h[1]:.3g} resolves the thermal velocity "
                f"√T = {np.sqrt(self.T_cells.min()):.3g} with only "
                f"{report['cells_per_thermal_velocity']:.2f} cells; refine the v-grid.",
                RuntimeWarning, stacklevel=3)
        return report

    def check_x_walls(self, left=True, right=True):
        """Warn (once per wall) if the Gibbs density at an x-wall exceeds TAIL_TOL of its
        maximum: the wall then cuts the distribution. First-passage questions check only the
        walls on the kept side of the target."""
        done = self._cache.setdefault("walls_warned", set())
        for side, use, w in (("left", left, self.box_report["x_wall_relative_density"][0]),
                             ("right", right, self.box_report["x_wall_relative_density"][1])):
            if use and w > TAIL_TOL and side not in done:
                done.add(side)
                warnings.warn(
                    f"Langevin: at the {side} x-wall the Gibbs density is still {w:.2e} of its "
                    f"maximum; the wall cuts the distribution. Widen the x-box.", RuntimeWarning,
                    stacklevel=4)

    # -- discretisation ---------------------------------------------------------------------------
    def generator(self, absorbing_x=None):
        """The sparse generator L (CSR, N×N, cell (i, j) ↦ i·nv + j): dp/dt = L p (1/time).
        ``absorbing_x``: target positions (bool (nx,)) for the killed process, see
        :meth:`fpsolve.kinetic.scheme.PhaseSpaceScheme.generator`."""
        if absorbing_x is None:
            if "L" not in self._cache:
                self._cache["L"] = self.scheme.generator()
            return self._cache["L"]
        return self.scheme.generator(absorbing_x)

    @property
    def is_m_matrix(self) -> bool:
        """Whether the generator has non-negative off-diagonal rates: always for "upwind", never
        for "central" (its x-transport has rates ±ṽ/(2h_x)); the tests check both."""
        return self.scheme_name == "upwind"

    def gibbs_log_density(self):
        """log of exp(−(U(x) + v²/2)/T) on the cells (constant T only; max 0)."""
        if not self.constant_T:
            raise InputError("gibbs_log_density: T depends on x; there is no Gibbs state.")
        return self.scheme.log_reference

    # -- questions ---------------------------------------------------------------------------------
    def stationary(self, method="auto"):
        """The stationary density on the phase-space grid → Density. See
        :func:`fpsolve.kinetic.questions.stationary`."""
        return questions.stationary(self, method)

    def eigenvalues(self, k=6, n_search=None):
        """The k slowest relaxation rates λ (eigenvalues of −L, complex in the underdamped
        regime), sorted by real part. See :func:`fpsolve.kinetic.questions.eigenvalues`."""
        return questions.eigenvalues(self, k, n_search)

    def spectral_gap(self) -> float:
        """Re λ₁: the slowest relaxation rate (1/time)."""
        return float(np.real(self.eigenvalues(2)[1]))

    def evolve(self, p0, times, scheme="tr-bdf2", dt=None):
        """Evolve a density to the output times → :class:`fpsolve.Evolution`. See
        :func:`fpsolve.kinetic.questions.evolve`."""
        return questions.evolve(self, p0, times, scheme=scheme, dt=dt)

    def marginal(self, p, over="v"):
        """Marginal of a phase-space density: over="v" gives the density of X (on
        ``x_grid``), over="x" that of V. See :func:`fpsolve.kinetic.questions.marginal`."""
        return questions.marginal(self, p, over)

    def density(self, p):
        """Coerce a Density, an array (nx, nv) or a callable f(x, v) into a Density."""
        return questions.as_density(self, p)

    def mean_first_passage_time(self, target, **kw):
        """E τ to enter the set of positions ``target`` from every (x, v) → Field. See
        :func:`fpsolve.kinetic.escape.mean_first_passage_time`."""
        return escape.mean_first_passage_time(self, target, **kw)

    def committor(self, A, B, **kw):
        """P_(x,v)(X reaches B before A) → Field. See
        :func:`fpsolve.kinetic.escape.committor`."""
        return escape.committor(self, A, B, **kw)

    def escape_rate(self, source, target, **kw):
        """Escape rate from the positions ``source`` into ``target`` (1/time). See
        :func:`fpsolve.kinetic.escape.escape_rate`."""
        return escape.escape_rate(self, source, target, **kw)

    # -- pointwise coefficients (particles) -------------------------------------------------------
    def force_at(self, x) -> np.ndarray:
        """−U′(x) at positions x (any shape): ``gradient`` if given, else central differences."""
        x = np.asarray(x, dtype=float)
        if self.gradient is not None:
            return -np.asarray(self.gradient(x), dtype=float) * np.ones_like(x)
        step = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(x))
        return -(_evaluate(self.potential, x + step, "potential")
                 - _evaluate(self.potential, x - step, "potential")) / (2 * step)

    def temperature_at(self, x) -> np.ndarray:
        """T(x) at positions: the user's callable or number, else linear interpolation of the
        values given on the x cells (constant beyond the outermost centres)."""
        x = np.asarray(x, dtype=float)
        T = self.temperature
        if callable(T):
            return _evaluate(T, x, "temperature")
        if np.ndim(T) == 0:
            return np.full(x.shape, float(T))
        return np.interp(x, self.grid.axes[0], self.T_cells)

    def __repr__(self):
        T = f"{self.T_cells[0]:g}" if self.constant_T else "T(x)"
        return (f"Langevin({self.grid!r}, friction={self.friction:g}, temperature={T}, "
                f"scheme={self.scheme_name!r})")


def _evaluate(f, x, what):
    try:
        val = f(x)
    except Exception as exc:
        raise InputError(f"{what}: calling it failed with {type(exc).__name__}: {exc}. It is "
                         f"called as f(x) with a numpy array of positions; use numpy functions.") \
            from exc
    arr = np.asarray(val, dtype=float)
    if arr.shape != np.shape(x):
        try:
            arr = np.broadcast_to(arr, np.shape(x)).copy()
        except ValueError:
            raise InputError(f"{what}: returned shape {arr.shape} for input of shape "
                             f"{np.shape(x)}.") from None
    bad = ~np.isfinite(arr)
    if np.any(bad):
        i = int(np.argmax(bad))
        raise InputError(f"{what} is not finite at x={np.ravel(x)[i]:.6g} ({int(bad.sum())} "
                         f"point(s)); restrict the grid to where it is defined.")
    return arr


def _temperature(T, x):
    if isinstance(T, bool):
        raise InputError(f"Langevin: temperature must be a number, a callable T(x) or an array; "
                         f"got {T!r}.")
    if callable(T):
        vals = _evaluate(T, x, "temperature")
    else:
        arr = np.asarray(T, dtype=float)
        if arr.ndim == 0:
            vals = np.full(x.shape, float(arr))
        elif arr.shape == x.shape:
            vals = arr.copy()
        else:
            raise InputError(f"Langevin: temperature array has shape {arr.shape}; give one value "
                             f"per x cell ({x.size},), a number or a callable T(x).")
        if not np.all(np.isfinite(vals)):
            raise InputError("Langevin: temperature must be finite.")
    bad = vals <= 0
    if np.any(bad):
        i = int(np.argmax(bad))
        raise InputError(f"Langevin: temperature must be positive everywhere; T = {vals[i]:.3g} at "
                         f"x = {x[i]:.6g} ({int(bad.sum())} cell(s)). T = 0 is deterministic "
                         f"(no density to solve for); regularise T(x) + floor.")
    return vals
