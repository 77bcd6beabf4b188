"""The Fokker–Planck model: drift, diffusion, boundaries and convention, and the questions a user
asks of it (stationary state, spectrum, evolution, currents).

Data flows one way: the user's coefficients are evaluated once on the grid and checked
(:mod:`.coefficients`), turned into face rates (:mod:`fpsolve.numerics.discretisation`), and every
question is answered from those rates by :mod:`fpsolve.numerics`. No solver calls back into user
code.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..analysis import thermodynamics
from ..conventions import alpha_of
from ..errors import InputError
from ..fields.field import Density, Field
from ..geometry.grid import Grid
from ..numerics import anisotropic, memory, spectrum, stationary, timestepping
from ..numerics.discretisation import scharfetter_gummel
from . import coefficients, schedules

BOUNDARIES = ("reflecting", "periodic")


class FokkerPlanck:
    r"""Fokker–Planck equation ∂t p = −∇·J on a grid, for the SDE dX = b dt + sqrt(2 D) dW.

    Parameters
    ----------
    grid : Grid
    potential : callable, array or None
        U(x₁, …, x_d); the drift is b = −∇U, taken from U on the cells consistently with the
        flux, so that the discrete Gibbs state is exactly stationary.
    drift : callable or None
        b(x₁, …, x_d) returning one array per axis; need not be a gradient. Give at most one of
        ``potential`` and ``drift`` (neither: pure diffusion).
    diffusion : float, array or callable
        Positive scalar D (units length²/time), constant or state-dependent D(x₁, …, x_d); or a
        tensor: a constant d×d symmetric positive-definite matrix, an array (d, d, *grid.shape),
        or a callable returning one (anisotropic, with cross terms; see
        :mod:`fpsolve.numerics.anisotropic` for that scheme's guarantees — it is an M-matrix
        only when D is diagonally dominant on the grid, reported as ``m_matrix`` in results).
    floor : eigenvalue floor for a tensor D that is singular somewhere (e.g. a low-rank gradient
        covariance): eigenvalues below it are raised to it. Without it that is an error.
    boundary : "reflecting" or "periodic", or one per axis
        Reflecting walls have zero flux. A periodic axis must be periodic in the grid too.
    convention : "ito" (default, SGD), "stratonovich" or "isothermal"; see
        :mod:`fpsolve.conventions`.
    schedule : None, a :mod:`fpsolve.models.schedules` schedule, or a callable s(t)
        Time-dependent diffusion D(x, t) = s(t)·D(x) (learning-rate / batch-size schedules).
        Questions without a time (stationary, eigenvalues) use the coefficients at t = 0.

    Discretisation: cell-centred finite volumes with Scharfetter–Gummel fluxes
    (:mod:`fpsolve.numerics.flux`). Guarantees: the generator is an M-matrix with zero column
    sums (mass conserved to round-off; backward Euler keeps densities non-negative); whenever a
    discrete potential exists (every 1D problem, any potential with constant D, D affine in U)
    the exact discrete zero-flux state p ∝ D^(α−1) exp(−Σ ΔU/D_f) is stationary to round-off;
    second order in h for smooth coefficients. Not guaranteed: second order where D or b has
    kinks; the closed-form stationary state when the drift over D is not a discrete gradient
    (then it is computed by a linear solve).
    """

    def __init__(self, grid: Grid, potential=None, drift=None, diffusion=1.0,
                 boundary="reflecting", convention="ito", schedule=None, floor=None):
        if not isinstance(grid, Grid):
            raise InputError(f"FokkerPlanck: grid must be an fpsolve.Grid; got {type(grid).__name__}.")
        if potential is not None and drift is not None:
            raise InputError("FokkerPlanck: give either potential= (drift −∇U) or drift=, not both.")
        self.grid = grid
        self.convention = convention
        self.alpha = alpha_of(convention)
        self.boundary = self._check_boundary(boundary)
        self.diffusion = diffusion
        self.potential = potential
        self.drift = drift
        self.floor = floor
        # Evaluate and check everything now, before any solve; first whether it fits at all
        _check_memory(grid, tensor=False)
        self.tensor = grid.ndim > 1 and anisotropic.is_tensor_diffusion(diffusion, grid)
        if self.tensor:
            _check_memory(grid, tensor=True)
        if grid.ndim == 1 and anisotropic.is_tensor_diffusion(diffusion, grid):
            diffusion = _scalar_from_1x1(diffusion)  # a 1×1 "tensor" is a scalar
            self.diffusion = diffusion
        self.U = coefficients.potential_on_cells(potential, grid) if potential is not None else None
        self.schedule = schedules.as_schedule(schedule)
        self._rates_cache = {}
        if self.tensor:
            self.D = None
            self.D_tensor = anisotropic._diffusion_field(diffusion, grid)
            if self.D_tensor is diffusion:  # the user's own array: keep a copy of it
                self.D_tensor = self.D_tensor.copy()
            self.b_faces = None
            self.rates_at(0.0)  # tensor checks (symmetry, definiteness) happen here
        else:
            self.D = coefficients.scalar_diffusion(diffusion, grid)
            self.b_faces = coefficients.drift_on_faces(drift, grid) if drift is not None else None

    def _check_boundary(self, boundary):
        g = self.grid
        b = (boundary,) * g.ndim if isinstance(boundary, str) else tuple(boundary)
        if len(b) != g.ndim:
            raise InputError(f"FokkerPlanck: boundary has {len(b)} entries for a {g.ndim}D grid.")
        for a, (kind, per) in enumerate(zip(b, g.periodic)):
            if kind not in BOUNDARIES:
                raise InputError(f"FokkerPlanck: boundary {kind!r} on axis {a} is unknown; choose "
                                 f"one of {BOUNDARIES} (absorbing targets are passed to the "
                                 f"first-passage questions).")
            if per and kind == "reflecting" and boundary != "reflecting":
                raise InputError(f"FokkerPlanck: axis {a} is periodic in the grid but the "
                                 f"boundary says 'reflecting'.")
            if kind == "periodic" and not per:
                raise InputError(f"FokkerPlanck: boundary 'periodic' on axis {a} needs a periodic "
                                 f"grid axis: Grid(..., periodic=True).")
        # "reflecting" (the default) applies to the non-periodic axes only
        return tuple("periodic" if per else kind for kind, per in zip(b, g.periodic))

    # -- discretisation ---------------------------------------------------------------------------
    @property
    def rates(self):
        """Face jump rates at t = 0 (:class:`~fpsolve.numerics.discretisation.FaceRates`)."""
        return self.rates_at(0.0)

    def rates_at(self, t):
        """Face jump rates at time t, built once per distinct value of the schedule s(t)."""
        s = self.schedule(t)
        if s not in self._rates_cache:
            if len(self._rates_cache) > 64:  # smooth schedules: keep memory bounded
                self._rates_cache.clear()
            if self.tensor:
                rates = anisotropic.build_tensor_rates(
                    self.grid, self.D_tensor if s == 1.0 else s * self.D_tensor,
                    self.convention, potential=self.U,
                    drift=self.drift, floor=self.floor)
            else:
                rates = scharfetter_gummel(self.grid, s * self.D, self.alpha, potential=self.U,
                                           drift_faces=self.b_faces)
            self._rates_cache[s] = rates
        return self._rates_cache[s]

    def generator(self, t=0.0):
        """The sparse generator L(t) (scipy CSR, N×N, C-order cells): dp/dt = L p.

        Off-diagonals are non-negative jump rates (1/time), columns sum to zero."""
        return self.rates_at(t).generator()

    # -- questions --------------------------------------------------------------------------------
    def stationary(self, method="auto", solver="auto") -> Density:
        """The stationary density (zero-flux state with reflecting walls).

        method : "auto" (closed form when detailed balance holds; otherwise the renewal formula
            over deep wells (:func:`fpsolve.escape.log_stationary`), which reduces to a
            rescaled null-vector solve for a single well), "detailed-balance", or "solve"; see
            :mod:`fpsolve.numerics.stationary`.
        solver : linear solver when one is needed (no detailed balance, or method "solve"):
            "auto" (sparse LU in 1D, in 2D up to 10⁵ cells and in 3D up to 2.5·10³;
            AMG-preconditioned GMRES beyond), "direct", "pardiso", "amg", "gmres"; see
            :class:`fpsolve.numerics.linalg.LinearSolver`.

        The result's ``info`` holds the method, the relative residual ‖Lp‖/(max rate ‖p‖) and the
        detailed-balance defect. Computed in log space: a Boltzmann weight that underflows in
        double precision is fine.
        """
        if method == "auto":
            # Without detailed balance and with several deep wells, the pinned null-vector solve
            # loses the wells' relative weights; the renewal formula over the wells does not
            # (it falls back to the pinned solve for one well). See fpsolve.escape.green.
            from ..escape.green import log_stationary

            log_p, info = log_stationary(self, solver=solver)
        else:
            log_p, info = stationary.stationary_log_density(self.rates, method, solver)
        info["m_matrix"] = bool(getattr(self.rates, "is_m_matrix", True))
        if not info["m_matrix"]:
            # no positivity guarantee: the solve may return tiny negative values; say so
            info["min_density"] = float(np.min(np.exp(log_p - log_p.max())))
        return Density.from_log(self.grid, log_p.reshape(self.grid.shape), info)

    def eigenvalues(self, k=6) -> np.ndarray:
        """The k smallest eigenvalues of −L, ascending (λ₀ = 0 for reflecting/periodic walls).

        Units 1/time. Real when detailed balance holds (symmetrised problem); otherwise possibly
        complex, sorted by real part.
        """
        vals, _ = spectrum.smallest_eigenvalues(self.rates, k)
        return vals

    def spectral_gap(self) -> float:
        """λ₁, the slowest relaxation rate (1/time); χ² decays like e^(−2λ₁ t)."""
        return float(np.real(self.eigenvalues(2)[1]))

    # -- first passage and escape (fpsolve.escape; accurate behind barriers ΔU/D ≳ 40) -----------
    def mean_first_passage_time(self, target, **kw):
        """E_x τ to hit ``target`` (mask callable, box [(lo, hi), …] or bool array) → Field
        (time units of t; for SGD t = k·η). See :func:`fpsolve.escape.mean_first_passage_time`."""
        from ..escape import mean_first_passage_time
        return mean_first_passage_time(self, target, **kw)

    def first_passage_moments(self, target, **kw):
        """Mean, second moment and variance of τ. See :func:`fpsolve.escape.first_passage_moments`."""
        from ..escape import first_passage_moments
        return first_passage_moments(self, target, **kw)

    def committor(self, A, B, **kw):
        """P_x(reach B before A) → Field. See :func:`fpsolve.escape.committor`."""
        from ..escape import committor
        return committor(self, A, B, **kw)

    def exit_distribution(self, target, start, **kw):
        """Where the target is first entered, from a point or a density → Field."""
        from ..escape import exit_distribution
        return exit_distribution(self, target, start, **kw)

    def quasi_stationary(self, target, **kw):
        """λ₁ of the process killed on ``target`` and its quasi-stationary density."""
        from ..escape import quasi_stationary
        return quasi_stationary(self, target, **kw)

    def escape_rate(self, source, target, **kw):
        """Flux-over-population escape rate from ``source`` to ``target`` (1/time). See
        :func:`fpsolve.escape.flux_over_population` for the two definitions offered."""
        from ..escape import flux_over_population
        return flux_over_population(self, source, target, **kw)

    def survival(self, target, p0, times, **kw):
        """Survival probability S(t) and first-passage-time density from a forward solve."""
        from ..escape import survival
        return survival(self, target, p0, times, **kw)

    def basins(self, **kw):
        """Basins of attraction, their stationary probabilities and the rates between them."""
        from ..escape import basins
        return basins(self, **kw)

    def evolve(self, p0, times, method="implicit", scheme="tr-bdf2", dt=None) -> "Evolution":
        """Evolve an initial density to the output ``times`` (t ≥ 0; start at t = 0).

        p0 : Density, array on the grid, or callable of the coordinates (normalised here).
        method : "implicit" (``scheme`` "tr-bdf2" or "backward-euler", factorisation reused),
            "explicit" (Numba forward Euler, Δt ≤ 1/max|L_kk| enforced), or "expm" (exact).
        dt : step size; default T/200 (implicit) or 0.9 × the explicit limit. Each output
            interval is split into equal steps so that every output time, and every breakpoint
            of the schedule, is hit exactly; factorisations are reused while s(t) is unchanged,
            and by later calls with the same step size (``info["factorisations"]`` counts the
            new ones).
        """
        p = self.density(p0)
        t = timestepping.check_times(times)
        self.schedule.check(t[-1])

        def generator_at(time):
            s = self.schedule(time)
            return s, self.rates_at(time).generator()

        # implicit solvers (with their factorisations) live on the model, keyed by (s, scheme):
        # a second evolve() with the same Δt reuses them (bounded; see timestepping._Implicit)
        states, stats = timestepping.evolve(
            generator_at, p.values.ravel(), t, method, scheme, dt,
            breakpoints=self.schedule.breakpoints,
            piecewise_constant=self.schedule.piecewise_constant,
            steppers=self.__dict__.setdefault("_steppers", {}), ndim=self.grid.ndim)
        return Evolution.from_states(self.grid, t, states, method=method,
                                     scheme=scheme if method == "implicit" else None, **stats)

    def density(self, p) -> Density:
        """Coerce a Density, an array or a callable of the coordinates into a Density."""
        if isinstance(p, Density):
            if p.grid != self.grid:
                raise InputError("the density lives on a different grid than the model.")
            return p
        if callable(p):
            p = coefficients.evaluate(p, self.grid.coords, self.grid.shape, "initial density")
        return Density(self.grid, p)

    # -- currents and thermodynamics (fpsolve.analysis.thermodynamics) -----------------------
    def current(self, p, t=0.0):
        """Probability current J of a density: ``.cells`` (ndim, *shape) and ``.faces``."""
        return thermodynamics.current(self, p, t)

    def circulation(self, p, t=0.0) -> float:
        """∫ (x₁J₂ − x₂J₁) dx of a 2D density (non-zero only out of detailed balance)."""
        return thermodynamics.circulation(self, p, t)

    def entropy_production(self, p, t=0.0) -> float:
        """Entropy production rate of a density (≥ 0; 0 iff detailed balance)."""
        return thermodynamics.entropy_production(self, p, t)

    def free_energy(self, p, temperature=None, p_inf=None) -> float:
        """F = T·KL(p ‖ p∞) (T = D for constant scalar D). Pass ``p_inf`` (the stationary
        density) when calling repeatedly, or it is recomputed each time."""
        return thermodynamics.free_energy(self, p, p_inf=p_inf, temperature=temperature)

    def dissipation(self, p, temperature=None, p_inf=None) -> float:
        """−dF/dt ≥ 0 of a density under the semi-discrete flow (``p_inf`` as above)."""
        return thermodynamics.dissipation(self, p, p_inf=p_inf, temperature=temperature)

    # -- pointwise coefficients (for particle simulation of the same SDE) --------------------------
    def drift_at(self, X, t=0.0) -> np.ndarray:
        """Itô drift of this model's SDE at points X (shape (n, ndim)) → (n, ndim).

        b = −∇U (central differences of the user's potential, step ~ε^(1/3)) or the user's
        drift, plus α∇D for a non-Itô convention, so that Euler–Maruyama on
        dX = drift_at dt + sqrt(2 diffusion_at) dW samples the same Fokker–Planck equation.
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        cols = [X[:, a] for a in range(self.grid.ndim)]
        if getattr(self, "grad", None) is not None:  # a user gradient (fpsolve.sgd.model)
            b = -np.stack([np.broadcast_to(np.asarray(g, float), cols[0].shape) for g in
                           coefficients._drift_tuple(self.grad, cols, self.grid.ndim)], axis=-1)
        elif self.potential is not None:
            b = -_gradient(lambda *c: coefficients.evaluate(self.potential, c, c[0].shape,
                                                            "potential"), cols)
        elif self.drift is not None:
            b = np.stack([coefficients.evaluate(comp, cols, cols[0].shape, "drift")
                          for comp in coefficients._drift_tuple(self.drift, cols, self.grid.ndim)],
                         axis=-1)
        else:
            b = np.zeros_like(X)
        if self.tensor:
            if self.convention == "isothermal":  # Itô drift b + ∇·D (row divergence)
                b = b + self.schedule(t) * self._tensor_divergence(cols)
            return b
        if self.alpha != 0.0:
            b = b + self.alpha * self.schedule(t) * _gradient(
                lambda *c: self._diffusion_values(c), cols)
        return b

    def diffusion_at(self, X, t=0.0) -> np.ndarray:
        """Diffusion s(t)·D(x) at points X (shape (n, ndim)): (n,) for a scalar D, (n, d, d)
        for a tensor (a tensor given on the cells is interpolated multilinearly)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        cols = [X[:, a] for a in range(self.grid.ndim)]
        if self.tensor:
            return self.schedule(t) * np.moveaxis(self._tensor_values(cols), -1, 0)
        return self.schedule(t) * self._diffusion_values(cols)

    def _diffusion_values(self, cols):
        Dv = self.diffusion
        if not callable(Dv) and np.ndim(Dv) > 0:  # values on the cells: interpolate them
            return Field(self.grid, Dv).at(np.stack(cols, axis=-1))
        return coefficients.evaluate(Dv, cols, cols[0].shape, "diffusion")

    def _tensor_values(self, cols):
        """Tensor D at points given as coordinate columns → (d, d, n)."""
        d, n = self.grid.ndim, cols[0].size
        Dv = self.diffusion
        if callable(Dv):
            return np.asarray(np.broadcast_arrays(*[np.asarray(v, float) for row in
                                                    _rows(Dv(*cols), d) for v in row]),
                              dtype=float).reshape(d, d, n)
        Dv = np.asarray(Dv, dtype=float)
        if Dv.shape == (d, d):
            return np.broadcast_to(Dv[:, :, None], (d, d, n)).copy()
        pts = np.stack(cols, axis=-1)
        return np.array([[Field(self.grid, Dv[i, j]).at(pts) for j in range(d)]
                         for i in range(d)])

    def _tensor_divergence(self, cols):
        """(∇·D)_i = Σ_j ∂_j D_ij at points, by central differences → (n, d)."""
        d = self.grid.ndim
        out = np.zeros((cols[0].size, d))
        for j in range(d):
            step = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(cols[j]))
            up, dn = list(cols), list(cols)
            up[j] = cols[j] + step
            dn[j] = cols[j] - step
            dD = (self._tensor_values(up) - self._tensor_values(dn)) / (2 * step)
            out += dD[:, j, :].T
        return out

    def face_flux(self, p):
        """Probability flux through the faces along each axis (list of grid-shaped arrays).

        Entry k along axis a is J·e_a on the face between cells k and k+1 (zero on walls)."""
        values = p.values if isinstance(p, Field) else self.grid.check_array(p, "face_flux")
        return self.rates.face_flux(values)

    def __repr__(self):
        what = "potential" if self.U is not None else ("drift" if self.b_faces is not None else
                                                       "no drift")
        return (f"FokkerPlanck({self.grid!r}, {what}, convention={self.convention!r}, "
                f"boundary={self.boundary})")


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


def _check_memory(grid, tensor):
    memory.check(memory.model_bytes(grid.size, grid.ndim, tensor),
                 f"FokkerPlanck on {grid.size} cells ({'tensor' if tensor else 'scalar'} D)",
                 "Use a coarser grid (memory grows in proportion to the number of cells), or a "
                 "machine with more memory.")


def _rows(val, d):
    """A callable tensor's value as nested rows (accepts an array (d, d, …) or nested lists)."""
    return [[val[i][j] for j in range(d)] for i in range(d)]


def _scalar_from_1x1(diffusion):
    """A 1×1 matrix, a (1, 1, n) field or a callable returning one, as a scalar diffusion."""
    if callable(diffusion):
        return lambda x: np.asarray(diffusion(x), dtype=float).reshape(-1, *np.shape(x))[0]
    return np.asarray(diffusion, dtype=float)[0, 0]


def _gradient(f, cols):
    """Central-difference gradient of a vectorised scalar function, shape (n, ndim)."""
    out = []
    for a in range(len(cols)):
        step = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(cols[a]))
        up = list(cols)
        dn = list(cols)
        up[a] = cols[a] + step
        dn[a] = cols[a] - step
        out.append((f(*up) - f(*dn)) / (up[a] - dn[a]))
    return np.stack(out, axis=-1)
