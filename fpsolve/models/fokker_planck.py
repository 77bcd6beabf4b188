"""The Fokker–Planck model: the user's SDE on a grid, and the questions a user asks of it.

Data flows one way: the user's coefficients are evaluated and checked once
(:class:`fpsolve.coefficients.Coefficients`), turned into face rates
(:mod:`fpsolve.numerics.discretisation`, :mod:`fpsolve.numerics.anisotropic`), and every question
is answered from those rates by :mod:`fpsolve.numerics` and :mod:`fpsolve.escape`. No solver
calls back into user code. The model is a facade: each question is one method that hands the
model to the function that answers it.
"""
from __future__ import annotations

import numpy as np

from .. import escape
from ..analysis import thermodynamics
from ..coefficients import Coefficients
from ..coefficients.evaluate import evaluate
from ..errors import InputError
from ..fields.field import Density, Field
from ..geometry.grid import Grid
from ..numerics import anisotropic, memory, spectrum, stationary, timestepping
from ..numerics.discretisation import scharfetter_gummel
from ..numerics.generator import reversibility_tolerance
from .evolution import Evolution

BOUNDARIES = ("reflecting", "periodic")


class FokkerPlanck:
    r"""Fokker–Planck equation ∂t p = −∇·J on a grid, for the SDE dX = b dt + sqrt(2 D) dW.

    Parameters
    ----------
    grid : Grid
    potential : callable, array or None
        U(x₁, …, x_d); the drift is b = −∇U, taken from U on the cells consistently with the
        flux, so that the discrete Gibbs state is exactly stationary. A loss that changes in
        time takes a parameter named ``t``: ``lambda x, t: …`` (see ``schedule`` below).
    drift : callable or None
        b(x₁, …, x_d) returning one array per axis; need not be a gradient. Give at most one of
        ``potential`` and ``drift`` (neither: pure diffusion). May take ``t`` too (a ramped
        force: ``lambda x, t: -x + F(t)``).
    gradient : callable or None
        The exact ∇U of ``potential`` (one array per axis), used where the drift is needed at
        arbitrary points (particles); without it, central differences of U.
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
        On a grid reaching to ±∞ (``Grid([(-np.inf, np.inf)], n)``, a
        :class:`~fpsolve.geometry.grid.MappedGrid`) the walls are at infinity: the coefficients
        are callables of x, carried to the computational coordinate by Itô's formula
        (:mod:`fpsolve.coefficients.mapped`); an infinite end is a wall that a natural or
        entrance boundary never reaches, and an exit at infinity is asked for with the target
        ``fpsolve.escape.Wall`` (:doc:`/guide/grids`, "Domains to ±∞").
    convention : "ito" (default, SGD), "stratonovich" or "isothermal"; see
        :mod:`fpsolve.conventions`.
    schedule : None, a :mod:`fpsolve.coefficients.schedules` schedule, or a callable s(t)
        Time-dependent diffusion D(x, t) = s(t)·D(x) (learning-rate / batch-size schedules).
        Questions without a time (stationary, eigenvalues, first passage) use the coefficients
        at t = 0; ``evolve`` and ``survival`` follow s(t) and a time-dependent potential or
        drift (frozen at each step's midpoint: second order).

    The coefficients are evaluated and checked once, at construction, into
    :attr:`coefficients` (:class:`fpsolve.coefficients.Coefficients`), which every question and
    the particles read.

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
                 boundary="reflecting", convention="ito", schedule=None, floor=None,
                 gradient=None):
        if not isinstance(grid, Grid):
            raise InputError(f"FokkerPlanck: grid must be an fpsolve.Grid; got "
                             f"{type(grid).__name__}.")
        _check_memory(grid, tensor=False)  # before anything of the grid's size is allocated
        self.grid = grid
        self.boundary = self._check_boundary(boundary)
        self.coefficients = Coefficients.build(grid, potential=potential, drift=drift,
                                               diffusion=diffusion, convention=convention,
                                               schedule=schedule, floor=floor,
                                               gradient=gradient)
        if self.coefficients.tensor:
            _check_memory(grid, tensor=True)
        self._rates_cache = {}
        if self.coefficients.tensor:
            self.rates_at(0.0)  # the tensor scheme's own checks (Péclet legs) happen here

    # -- the coefficients, by their names in the papers -------------------------------------------
    convention = property(lambda self: self.coefficients.convention,
                          doc="The stochastic convention ('ito', 'stratonovich', 'isothermal').")
    alpha = property(lambda self: self.coefficients.alpha,
                     doc="α of the convention (0 Itô, ½ Stratonovich, 1 isothermal).")
    schedule = property(lambda self: self.coefficients.schedule,
                        doc="The diffusion's time dependence s(t) (a Schedule).")
    tensor = property(lambda self: self.coefficients.tensor,
                      doc="Whether D is a tensor (the anisotropic scheme) rather than a scalar.")
    U = property(lambda self: self.coefficients.U,
                 doc="The potential on the cells (t = 0), or None.")
    D = property(lambda self: None if self.coefficients.tensor else self.coefficients.D,
                 doc="Scalar D on the cells (None for a tensor D; see D_tensor).")
    D_tensor = property(lambda self: self.coefficients.D if self.coefficients.tensor else None,
                        doc="Tensor D on the cells, (d, d, *grid.shape), or None.")
    b_faces = property(lambda self: self.coefficients.drift_faces,
                       doc="The normal drift on the faces (scalar D, t = 0), or None.")
    potential = property(lambda self: self.coefficients.user.potential,
                         doc="The potential as given.")
    drift = property(lambda self: self.coefficients.user.drift, doc="The drift as given.")
    diffusion = property(lambda self: self.coefficients.user.diffusion,
                         doc="The diffusion as given.")
    gradient = property(lambda self: self.coefficients.user.gradient,
                        doc="The exact ∇U as given, or None.")
    floor = property(lambda self: self.coefficients.floor,
                     doc="The eigenvalue floor of a tensor D, or None.")

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

    def rates_key(self, t):
        """A hashable key of the coefficients at time t: equal keys, equal generators."""
        s = self.schedule(t)
        return (s, float(t)) if self.coefficients.time_dependent and t != 0.0 else (s, 0.0)

    def rates_at(self, t):
        """Face jump rates at time t, built once per distinct value of the schedule s(t) (and
        per time when the potential or the drift depends on t)."""
        key = self.rates_key(t)
        if key not in self._rates_cache:
            if len(self._rates_cache) > 64:  # smooth schedules: keep memory bounded
                self._rates_cache.clear()
            c = self.coefficients
            s = key[0]
            U, faces, vectors = c.at(t)
            if c.tensor:
                rates = anisotropic.build_tensor_rates(
                    self.grid, c.D if s == 1.0 else s * c.D, c.convention, potential=U,
                    drift_faces=vectors, checked=True, floored_cells=c.floored_cells)
            else:
                rates = scharfetter_gummel(self.grid, c.D if s == 1.0 else s * c.D, c.alpha,
                                           potential=U, drift_faces=faces)
            self._rates_cache[key] = rates
        return self._rates_cache[key]

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
            log_p, info = escape.log_stationary(self, solver=solver)
        else:
            log_p, info = stationary.stationary_log_density(self.rates, method, solver)
        info["m_matrix"] = bool(getattr(self.rates, "is_m_matrix", True))
        if not info["m_matrix"]:
            # no positivity guarantee: the solve may return tiny negative values; say so
            info["min_density"] = float(np.min(np.exp(log_p - log_p.max())))
        p = Density.from_log(self.grid, log_p.reshape(self.grid.shape), info)
        if self.grid.mapped:
            escape.check_mass_at_infinity(p)
        return p

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
        """E_x τ to hit ``target`` → Field (time units of t; for SGD t = k·η). Targets: a
        region with a sharp edge (:class:`fpsolve.escape.HalfSpace`, ``Box``, ``Ball``,
        ``LevelSet``, ``Wall``: second order wherever the edge lies) or a set of cells (mask
        callable, box [(lo, hi), …] or bool array). See
        :func:`fpsolve.escape.mean_first_passage_time`."""
        return escape.mean_first_passage_time(self, target, **kw)

    def first_passage_moments(self, target, **kw):
        """Mean, second moment and variance of τ. See :func:`fpsolve.escape.first_passage_moments`."""
        return escape.first_passage_moments(self, target, **kw)

    def committor(self, A, B, **kw):
        """P_x(reach B before A) → Field. See :func:`fpsolve.escape.committor`."""
        return escape.committor(self, A, B, **kw)

    def exit_distribution(self, target, start, **kw):
        """Where the target is first entered, from a point or a density → Field. See
        :func:`fpsolve.escape.exit_distribution`."""
        return escape.exit_distribution(self, target, start, **kw)

    def conditional_exit_times(self, exits, start, **kw):
        """P(exit through each set) and E[τ | exit through it], E[τ² | …] from ``start``. See
        :func:`fpsolve.escape.conditional_exit_times`."""
        return escape.conditional_exit_times(self, exits, start, **kw)

    def quasi_stationary(self, target, **kw):
        """λ₁ of the process killed on ``target`` and its quasi-stationary density. See
        :func:`fpsolve.escape.quasi_stationary`."""
        return escape.quasi_stationary(self, target, **kw)

    def escape_rate(self, source, target, **kw):
        """Flux-over-population escape rate from ``source`` to ``target`` (1/time). See
        :func:`fpsolve.escape.flux_over_population` for the two definitions offered."""
        return escape.flux_over_population(self, source, target, **kw)

    def survival(self, target, p0, times, **kw):
        """Survival probability S(t) and first-passage-time density from a forward solve. See
        :func:`fpsolve.escape.survival`."""
        return escape.survival(self, target, p0, times, **kw)

    def basins(self, **kw):
        """Basins of attraction, their stationary probabilities and the rates between them. See
        :func:`fpsolve.escape.basins`."""
        return escape.basins(self, **kw)

    def effective_transport(self, **kw):
        """Effective drift and diffusion coefficient on a periodic landscape. See
        :func:`fpsolve.escape.effective_transport`."""
        return escape.effective_transport(self, **kw)

    def evolve(self, p0, times, method="implicit", scheme="tr-bdf2", dt=None,
               device=None) -> Evolution:
        """Evolve an initial density to the output ``times`` (t ≥ 0; start at t = 0).

        p0 : Density, array on the grid, or callable of the coordinates (normalised here).
        method : "implicit" (``scheme`` "tr-bdf2" or "backward-euler", factorisation reused),
            "explicit" (Numba forward Euler, Δt ≤ 1/max|L_kk| enforced), or "expm" (the
            exponential itself: Lanczos on the symmetrised generator where detailed balance holds
            on the grid, to 1e-12 relative, else SciPy's expm_multiply; see
            :mod:`fpsolve.numerics.exponential`).
        dt : step size; default T/200 (implicit) or 0.9 × the explicit limit. Each output
            interval is split into equal steps so that every output time, and every breakpoint
            of the schedule, is hit exactly; factorisations are reused while s(t) is unchanged,
            and by later calls with the same step size (``info["factorisations"]`` counts the
            new ones). A smooth schedule, or a potential or drift that depends on time, is
            frozen at each step's midpoint (second order; a new generator each step).
        device : None (the CPU path, default) or a torch device ("cuda", "cpu") for the
            implicit schemes: the same scheme with its solves by preconditioned BiCGStab on the
            device, to a relative residual of 1e-12 (mass conserved to about that per step; see
            :mod:`fpsolve.numerics.torch_implicit`). ``extra`` reports the device, the Krylov
            iterations and the largest residual. Needs torch.
        """
        p = self.density(p0)
        t = timestepping.check_times(times)
        self.schedule.check(t[-1])

        def generator_at(time):
            # the kept matrix itself: time stepping only reads it
            return self.rates_key(time), self.rates_at(time).generator(copy=False)

        def log_weights_at(time):  # ψ of the exact discrete stationary state, if there is one
            psi, defect = self.rates_at(time).reference_log_density()
            return psi.ravel() if defect <= reversibility_tolerance(psi) else None

        # implicit solvers (with their factorisations) live on the model, keyed by (s, scheme):
        # a second evolve() with the same Δt reuses them (bounded; see timestepping._Implicit)
        states, stats = timestepping.evolve(
            generator_at, p.values.ravel(), t, method, scheme, dt,
            breakpoints=self.schedule.breakpoints,
            piecewise_constant=(self.schedule.piecewise_constant
                                and not self.coefficients.time_dependent),
            steppers=self.__dict__.setdefault("_steppers", {}), ndim=self.grid.ndim,
            log_weights_at=log_weights_at if method == "expm" else None, device=device)
        return Evolution.from_states(self.grid, t, states, method=method,
                                     scheme=scheme if method == "implicit" else None, **stats)

    def density(self, p) -> Density:
        """Coerce a Density, an array or a callable of the coordinates into a Density.

        On a grid reaching to ±∞ a callable or an array is the density in x at the cell
        centres (it is multiplied by dx/dy here); a Density is used as it is."""
        g = self.grid
        if isinstance(p, Density):
            if p.grid != g:
                raise InputError("the density lives on a different grid than the model.")
            return p
        if callable(p):
            p = evaluate(p, g.physical_coords, g.shape, "initial density")
        if g.mapped:
            p = g.check_array(p, "initial density") * g.jacobian
        return Density(g, p)

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
        """Itô drift of this model's SDE at points X (shape (n, ndim)) → (n, ndim): −∇U (the
        exact ``gradient`` if given, else central differences) or the user's drift, plus the
        convention's correction, so that Euler–Maruyama on dX = drift_at dt +
        sqrt(2 diffusion_at) dW samples the same Fokker–Planck equation
        (:mod:`fpsolve.coefficients.pointwise`)."""
        return self.coefficients.drift(X, t)

    def diffusion_at(self, X, t=0.0) -> np.ndarray:
        """Diffusion s(t)·D(x) at points X (shape (n, ndim)): (n,) for a scalar D, (n, d, d)
        for a tensor (a tensor given on the cells is interpolated multilinearly)."""
        return self.coefficients.diffusion(X, t)

    def face_flux(self, p):
        """Probability flux through the faces along each axis (list of grid-shaped arrays).

        Entry k along axis a is J·e_a on the face between cells k and k+1 (zero on walls)."""
        values = p.values if isinstance(p, Field) else self.grid.check_array(p, "face_flux")
        return self.rates.face_flux(values)

    def __repr__(self):
        c = self.coefficients
        what = "potential" if c.U is not None else ("drift" if c.user.drift is not None else
                                                    "no drift")
        return (f"FokkerPlanck({self.grid!r}, {what}, convention={self.convention!r}, "
                f"boundary={self.boundary})")


def _check_memory(grid, tensor):
    memory.check(memory.model_bytes(grid.size, grid.ndim, tensor),
                 f"FokkerPlanck on {grid.size} cells ({'tensor' if tensor else 'scalar'} D)",
                 "Use a coarser grid (memory grows in proportion to the number of cells), or a "
                 "machine with more memory.")
