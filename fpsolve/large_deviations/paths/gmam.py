r"""Minimum-action paths by the geometric minimum action method (gMAM), numpy version.

Problem: the curve φ from ``start`` to ``end`` that minimises the geometric action Ŝ[φ]
(:mod:`.action`), i.e. the most likely way for dX = b dt + sqrt(2εD) dW to get from one point to
the other as ε → 0, with min Ŝ = V(end) − V(start) along a minimum-action path (MAP) out of an
attractor. Between two minima it is the barrier V̄: the MAP climbs from the first minimum to a
saddle (all the action is spent there) and falls along the flow to the second (zero action).

Method (Heymann & Vanden-Eijnden, CPAM 61, 2008, §4; the "simplified gMAM" of their JCP paper):
preconditioned steepest descent of the discrete action, with the stiff term implicit and the
points kept at equal chords. With h = 1/(P − 1) and g = ∂S/∂φ (exact discrete gradient,
:func:`.action.action_state`),

    λⱼ = |b(φⱼ)|_D / |φ'ⱼ|_D,      rⱼ = −(2λ̃ⱼ/h) D(φⱼ) gⱼ  ≈  λ²φ'' − λ H_θx φ' + H_θθ H_x

(the right-hand side is gMAM's update, the Euler–Lagrange operator of Ŝ). Each step solves the
tridiagonal system

    (I + Δτ K − Δτ C δ²)(φⁿ⁺¹ − φⁿ) = Δτ (Π⊥(r − C δ²φ) + C δ²φ),

δ² the second difference in α, C = 2λ̃λ (an over-estimate of the stiffness of the λ²φ'' part,
so that part is stable for any Δτ), K a diagonal damping from the curvature of the cost next to a
critical point (|b| has a cone there), Π⊥ the projection normal to the path; then the points are
put back at equal chords (:func:`.curves.equal_chords`, idempotent). λ̃ = max(λ, 0.05 λ_max)
keeps the points next to a critical point moving. Δτ grows by 1.5 per accepted step; a step that
raises the action (by 1e-6 relative) or the residual (by half) is taken again, halved. The fixed
points are the discrete stationary points of S with equal chords, whatever C, K and Δτ.

The driver (:func:`minimum_action_path`) relaxes the whole path coarsely, splits it at the
saddles and intermediate minima it passes (refined by Newton's method), lets each piece that
leaves an attractor start from a small level set of the attractor's local quasi-potential (free to
slide on it), and relaxes each piece from the best of several starting curves.

Guarantees: the returned action is the discrete action of the returned path (plus the exact
quadratic action to the level set), decreasing over accepted steps; the discretisation error is
O(h²) for a smooth MAP (midpoint rule), observed second order in the tests; for a linear drift
with constant D it is exact (every segment's cost is bounded below by the increase of the
quadratic V, with equality when it is aligned with the characteristic). Not guaranteed: the global
minimum (a descent method finds the MAP in the valley of its starting curves — give waypoints
through another saddle to find another one), nor a unique discrete optimum next to a node
attractor with strong rotation at coarse resolution (compare two resolutions). Convergence slows
as the condition number of D and of ∂b/∂x grows (the part of r beyond λ²φ'' and the cone is
explicit, so Δτ is bounded by the stiffest rate while the slowest must relax): at the minima of
a network's weight-decayed loss the rates of ∂b/∂x span 1e-5 … 1.6, and gMAM does not converge
there in practice (see docs/guide/large_deviations.rst). ``preconditioner="linearised"``
(:mod:`.stiffness`) damps each direction by its own stiffness at the attractor instead: the
same fixed points, and convergence on linear drifts with rates spread over 10³ where the
default does not; with ``anderson=m`` (:mod:`.anderson`) the slow modes left are extrapolated
from the last m steps, which converges on a network's minimum-to-saddle path (d = 1013).
Resolution: after convergence the
action of the path with every segment bisected is recorded (``info["bisected_action"]``) and a
relative change above 5% is a warning — with long chords the midpoint rule can miss the
barrier, and a descent on the discrete action finds and exploits that.

Convergence: the normal part of r (and the first point's tangential gradient on its level set),
relative to λ_max²·(path length), below ``tol``. Failing that within ``max_iter`` steps per piece
is a :class:`~fpsolve.errors.SolverError` carrying the last path (``err.result``).
"""
from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
from scipy.integrate import solve_ivp

from ...errors import InputError, SolverError
from ..dynamics import Dynamics, fmt_point
from ..plots import plot_path
from .action import action_state
from .curves import arclength, equal_chords, initial_path
from .anderson import AndersonMixing
from .stiffness import LinearisedStiffness

SAFETY = 2.0        # implicit coefficient / estimated stiffness of r
C_FLOOR = 1e-6      # implicit coefficient ≥ this × its maximum
LAMBDA_MIN = 0.05   # λ̃ ≥ this × max λ: points next to critical points keep moving
GROW, SHRINK = 1.5, 0.5
MAX_STEP = 1e4      # Δτ ≤ this × its initial value
COARSE_TOL = 1e-2  # residual of the first, whole-path relaxation
COARSE_STALL = (20, 1e-5)  # ... or a relative action change below 1e-5 over 20 steps
COARSE_POINTS = 33  # points of the whole-path relaxation
TRIAL_ITER = 150   # iterations of each candidate start of a piece before choosing
TRIAL_POINTS = 25  # points of the candidate starts
FALLBACK = (100, 30)  # linearised damping: back to the default after 30 rejections in 100 steps
RISE = 1e-6         # relative action increase taken as a sign of an unstable step
RES_RISE = 1.5      # residual increase taken as a sign of an unstable step
RESOLUTION_RTOL = 0.05  # relative change of the action on bisecting every segment: warn above
ANDERSON_WARM = 30  # plain steps (Δτ growing) before Anderson extrapolation starts


@dataclass
class MinimumActionPath:
    """A minimum-action path and its action.

    Attributes
    ----------
    path : (P, d) points from ``start`` to ``end``, at equal chords within each piece between
        critical points; a piece leaving an attractor starts with the attractor itself followed
        by a point on a small level set of its local quasi-potential (see ``info``).
    action : the discrete geometric action Ŝ (units 1/ε: V̄/ε; with ε folded into D, as for a
        FokkerPlanck model, the exponent of the escape time: τ ≍ exp(action)).
    cumulative : (P,) action accumulated from the start (the quasi-potential along the path).
    saddle : the critical point of index one the path crosses (refined by Newton's method), or
        None (path to a regular point, or none found); ``saddle_index`` is the nearest point.
    converged, iterations, residual (final normal residual), history (action per accepted
        step), method ("gMAM" or "string"), info (timings, step sizes, endpoint checks).
    """

    path: np.ndarray
    action: float
    cumulative: np.ndarray
    start: np.ndarray
    end: np.ndarray
    saddle: np.ndarray | None
    saddle_index: int | None
    converged: bool
    iterations: int
    residual: float
    history: np.ndarray
    method: str = "gMAM"
    info: dict = field(default_factory=dict)

    @property
    def arclength(self) -> np.ndarray:
        """Cumulative Euclidean arclength of the points, (P,)."""
        return arclength(self.path)

    def plot(self, ax=None, **kw):
        """The path in 2D (first two coordinates); see
        :func:`fpsolve.large_deviations.plot_path`."""
        return plot_path(self, ax=ax, **kw)


def as_dynamics(dynamics) -> Dynamics:
    """A :class:`Dynamics`, or one built from an :class:`fpsolve.FokkerPlanck` model (ε = 1)."""
    if isinstance(dynamics, Dynamics):
        return dynamics
    if hasattr(dynamics, "drift_at") and hasattr(dynamics, "grid"):
        return Dynamics.from_model(dynamics)
    raise InputError(f"expected an fpsolve.large_deviations.Dynamics or an fpsolve.FokkerPlanck "
                     f"model; got {type(dynamics).__name__}.")


def prepare_endpoints(dyn, start, end, n_points, initial, end_critical, refine_endpoints,
                      critical_rtol, where):
    """Checked endpoints and the initial path (shared by gMAM and the string method)."""
    if not isinstance(n_points, (int, np.integer)) or n_points < 5:
        raise InputError(f"{where}: n_points must be an integer ≥ 5; got {n_points!r}.")
    start = dyn.as_points(start, f"{where}: start")[0]
    end = dyn.as_points(end, f"{where}: end")[0]
    phi0 = initial_path(start, end, 33, initial)
    scale = max(dyn.drift_scale(phi0), 1e-300)
    start = dyn.check_endpoint(start, f"{where}: start", scale, critical_rtol, refine_endpoints)
    if end_critical:
        end = dyn.check_endpoint(end, f"{where}: end", scale, critical_rtol, refine_endpoints)
    length = float(np.linalg.norm(end - start))
    if length <= 1e-9 * max(1.0, float(np.linalg.norm(start))):
        raise InputError(f"{where}: start and end coincide ({fmt_point(start)}); there is no path "
                         f"between a point and itself. Give two different critical points.")
    if end_critical:
        _check_other_basin(dyn, start, end, scale, where)
    return start, end, initial_path(start, end, n_points, initial), scale


def _check_other_basin(dyn, start, end, scale, where):
    """Between two critical points the action is a barrier only if ``end`` is not in the basin
    of ``start``: integrate the flow from ``end`` and refuse if it falls into ``start``."""
    if np.linalg.norm(dyn.drift_at(end)[0]) <= 1e-6 * scale:
        return  # a critical point is its own ω-limit: not in the basin of another point
    rate = np.min(np.abs(dyn.linearisation(start)[1].real))
    if rate <= 0:
        return
    r = 1e-3 * np.linalg.norm(end - start)

    def hit(t, x):
        return np.linalg.norm(x - start) - r
    hit.terminal = True
    sol = solve_ivp(lambda t, x: dyn.drift_at(x)[0], (0.0, 60.0 / rate), end, events=hit,
                    rtol=1e-6, atol=1e-9 * max(1.0, np.linalg.norm(end)))
    if sol.t_events[0].size:
        raise InputError(f"{where}: end {fmt_point(end)} lies in the basin of start "
                         f"{fmt_point(start)} (the flow from it reaches the start), so there is no "
                         f"barrier between them. Give a critical point of another basin (or a "
                         f"saddle), or pass end_critical=False to get the quasi-potential at this "
                         f"point.")


def critical_points_along(dyn, path, scale, exclude_ends=2):
    """Interior critical points the path passes: local minima of |b| along it below 5% of
    ``scale``, each refined by Newton's method and kept if it stays within three point spacings
    and is a saddle of index one or an attractor (a path still crossing a maximum is not split
    there: the descent moves it off). Returns a list of (index, point, kind) in path order."""
    b = np.linalg.norm(dyn.drift_at(path), axis=1)
    spacing = float(np.max(np.linalg.norm(np.diff(path, axis=0), axis=1)))
    P = len(path)
    out = []
    for k in range(exclude_ends, P - exclude_ends):
        if not (b[k] <= b[k - 1] and b[k] <= b[k + 1] and b[k] < 0.05 * scale):
            continue
        try:
            x = dyn.refine_critical_point(path[k], scale=scale)
        except SolverError:
            continue
        if np.linalg.norm(x - path[k]) > 3 * spacing:
            continue
        if any(np.linalg.norm(x - y) < spacing for _, y, _ in out):
            continue
        if min(np.linalg.norm(x - path[0]), np.linalg.norm(x - path[-1])) < 2 * spacing:
            continue
        kind = dyn.classify(x)["kind"]
        if kind in ("saddle", "attractor"):  # a maximum on the path is not where a MAP goes
            out.append((k, x, kind))
    return out


@dataclass
class _Relaxed:
    path: np.ndarray
    state: object
    converged: bool
    iterations: int
    residual: float
    history: list
    rejected: int
    preconditioner: str = "scalar"
    action: float = 0.0
    segments: np.ndarray | None = None
    start_level: float = 0.0
    dtau: float = 0.0       # the last pseudo-time step


def _relax_piece(state, dyn, x0, x1, n, guess, initial, *, tol, max_iter, step,
                 stagnation=None, exact_guess=False, stiff=None, anderson=0,
                 warm=None) -> _Relaxed:
    """Relax the path from x0 to x1 (n points): through ``guess`` (waypoints) or ``initial``,
    or straight. Leaving an attractor, the path starts at x0 and continues from a point on a
    small level set of x0's local quasi-potential (one chord across), free to slide on it: the
    minimum-action path leaves a node attractor along its slowest direction and may turn
    within that distance, which no equal-chord discretisation resolves; the level set's value
    v₀ is the exact action to it up to O(r³). ``path``/``segments``/``action`` include that first
    piece (segment cost 2v₀, since the action is half the sum of segment costs)."""
    length = float(np.linalg.norm(x1 - x0)) if guess is None else \
        float(arclength(np.vstack([x0, guess, x1]))[-1])
    ellipse = _start_ellipse(dyn, x0, n, length)
    m = n - 1 if ellipse is not None else n
    if exact_guess:
        phi = guess[1:] if ellipse is not None else guess
    else:
        phi = initial_path(x0, x1, m + (ellipse is not None), guess if guess is not None
                           else initial)
        if ellipse is not None:
            phi = phi[1:]
            phi[0] = _retract(phi[0], ellipse)
    out = _relax(state, phi, tol=tol, max_iter=max_iter, step=step, stagnation=stagnation,
                 ellipse=ellipse, stiff=stiff, anderson=anderson, warm=warm)
    out.action, out.segments = out.state.action, out.state.segments
    if ellipse is not None:
        v0 = ellipse[2]
        out.path = np.vstack([x0, out.path])
        out.segments = np.concatenate([[2.0 * v0], out.segments])
        out.action += v0
        out.start_level = v0
    return out


def _relax(state, phi, *, tol, max_iter, step=None, stagnation=None,
           ellipse=None, stiff=None, anderson=0, warm=None) -> _Relaxed:
    """The gMAM iteration on a path (module docstring); ``state(path)`` returns the
    :class:`.action.ActionState` (numpy or torch backend). The last point is fixed; so is the
    first, unless ``ellipse`` = (x*, K, v₀): then it slides on the level set ½δxᵀKδx = v₀ of the
    attractor's local quasi-potential (:func:`_start_step`). Stops when the normal residual is
    below ``tol`` (converged) or, with ``stagnation`` = (window, rtol), when the action changed
    by less than rtol over the last ``window`` accepted steps (a coarse relaxation, reported as
    not converged), or after ``max_iter`` steps. ``stiff``: a
    :class:`.stiffness.LinearisedStiffness` to damp with (default: κⱼ times the identity).
    ``anderson`` = m > 0: after ``warm`` steps (default ``ANDERSON_WARM``) Δτ stops growing
    and each step is the Anderson extrapolation (:mod:`.anderson`, memory m) of the last steps
    when it passes the stability test, the plain step otherwise."""
    warm = ANDERSON_WARM if warm is None else warm
    P = len(phi)
    h = 1.0 / (P - 1)
    if ellipse is not None:
        phi = phi.copy()
        phi[0] = _retract(phi[0], ellipse)
    def evaluate(path):
        st = state(path)
        lam, c, r = _preconditioned(path, st, h)
        v, inner = _velocity(path, r, c[0], lam, h)
        res = inner
        if ellipse is not None:
            res = max(res, _start_step(path, st, lam, c, h, 0.0, ellipse, stiff)[1])
        return st, lam, c, r, v, res, inner

    def stable(new, exact, ev):
        # a folded path is resampled by interpolation, which moves it however short the
        # step: then only a gross rise of the action counts as instability
        res_n, action_n = ev[5], ev[0].action
        return bool(np.isfinite(res_n)) and (
            (res_n <= RES_RISE * residual and action_n <= st.action * (1 + RISE))
            or (not exact and action_n <= st.action * 1.01))

    # the iteration keeps equal chords; start with them
    phi, equal = equal_chords(phi, P, return_exact=True)
    st, lam, c, r, v, residual, inner = evaluate(phi)
    history = [st.action]
    dtau = step if step is not None else 0.1 / max(float(c[0].max()), 1e-300)
    dtau0 = dtau
    rejected = it = 0
    converged = False
    outcomes = []  # accepted (False) / rejected (True) steps, for the fall-back below
    mixer = AndersonMixing(anderson) if anderson else None
    calm = 0   # accepted steps since Δτ last changed
    for it in range(1, max_iter + 1):
        if not equal:
            # after an interpolated (folded) step, equal chords again as soon as they exist:
            # a jump that is not a step of the iteration, so it is taken without a test
            phi2, equal = equal_chords(phi, P, return_exact=True)
            if equal:
                phi = phi2
                st, lam, c, r, v, residual, inner = evaluate(phi)
        if residual < tol and equal:
            converged = True
            break
        if stagnation is not None and len(history) > stagnation[0]:
            old = history[-stagnation[0] - 1]
            if abs(old - history[-1]) <= stagnation[1] * max(abs(old), 1e-300):
                break
        new = phi.copy()
        new[1:-1] = _implicit_step(phi, v, c, dtau, h, stiff)
        if ellipse is not None:
            new[0] = _start_step(phi, st, lam, c, h, dtau, ellipse, stiff)[0]
        ok = bool(np.all(np.isfinite(new)))
        if ok:
            new, exact = equal_chords(new, P, return_exact=True)
            mixed = None
            if mixer is not None and it > warm:
                if inner < residual:
                    # the first point's residual dominates: it weighs in the test but hardly
                    # in the least squares (one point of P), where it stalls; plain steps
                    mixer.reset()
                else:
                    mixed = mixer.propose(phi, new)
            if mixed is not None and np.all(np.isfinite(mixed)):
                if ellipse is not None:
                    mixed[0] = _retract(mixed[0], ellipse)
                mixed, exact_m = equal_chords(mixed, P, return_exact=True)
                ev = evaluate(mixed)
                if stable(mixed, exact_m, ev):
                    new, exact = mixed, exact_m
                else:  # the plain step instead, and a fresh history
                    mixer.reset()
                    ev = evaluate(new)
            else:
                ev = evaluate(new)
            st_new, lam_n, c_n, r_n, v_n, res_n, inner_n = ev
            ok = stable(new, exact, ev)
        outcomes.append(not ok)
        if stiff is not None and sum(outcomes[-FALLBACK[0]:]) >= FALLBACK[1]:
            # the attractor's linearisation does not describe the stiffness here (its stiff
            # directions turn along the path): the default damping from now on
            stiff, outcomes = None, []
            if mixer is not None:
                mixer.reset()
        if not ok:  # unstable explicit part: the same step again, shorter
            dtau *= SHRINK
            rejected += 1
            calm = 0
            if mixer is not None:
                mixer.reset()   # another Δτ is another map
            if dtau < 1e-12 * dtau0:
                break
            continue
        phi, st, lam, c, r, v, residual, inner = new, st_new, lam_n, c_n, r_n, v_n, res_n, inner_n
        equal = exact
        history.append(st.action)
        calm += 1
        if mixer is None or it < warm:
            dtau = min(dtau * GROW, MAX_STEP * dtau0)
        elif calm >= anderson and dtau < MAX_STEP * dtau0:
            # Δτ held for a whole history without a rejection: try a longer step (a new map,
            # so a fresh history); a step size found too long early on is not kept for good
            dtau = min(dtau * GROW, MAX_STEP * dtau0)
            mixer.reset()
            calm = 0
    return _Relaxed(phi, st, converged, it, float(residual), history, rejected,
                    "scalar" if stiff is None else "linearised", dtau=dtau)


def minimum_action_path(dynamics, start, end, *, n_points: int = 100, initial=None,
                        tol: float = 1e-8, max_iter: int = 20000, end_critical: bool = True,
                        refine_endpoints: bool = False, critical_rtol: float = 1e-6,
                        step: float | None = None, preconditioner: str = "scalar",
                        anderson: int = 0) -> MinimumActionPath:
    """Minimum-action path of dX = b dt + sqrt(2εD) dW from ``start`` to ``end`` (gMAM).

    Parameters
    ----------
    dynamics : :class:`~fpsolve.large_deviations.Dynamics`, or an :class:`fpsolve.FokkerPlanck`
        model (then ε = 1 and the action is the escape-time exponent in the model's units).
    start : the attractor the path leaves (shape (d,)).
    end : another attractor, a saddle, or (``end_critical=False``) any point — then the action is
        the quasi-potential V(end) relative to ``start``.
    n_points : P, points on the path (≥ 5). The error of the action is O(1/P²).
    initial : waypoints (m, d) of the initial curve (default: the straight segment). A descent
        method finds the MAP of the valley it starts in; waypoints choose the valley.
    tol : convergence tolerance on the normal residual (relative; see the module docstring).
    max_iter : iteration budget per piece; without convergence a SolverError is raised.
    end_critical : whether ``end`` must be a critical point (default). Then the end may not lie
        in the basin of ``start`` (InputError).
    refine_endpoints : move the endpoints to the nearby critical points by Newton's method
        (default: warn, naming |b|, when one is not critical to ``critical_rtol`` × the largest
        drift along the straight path).
    step : initial pseudo-time step Δτ (default 0.1 / max cⱼ, then adaptive).
    preconditioner : how each point's step is damped by the local stiffness of the action:
        ``"scalar"`` (default) by its largest value, the same in every direction;
        ``"linearised"`` by its shape at the attractor each piece leaves (:mod:`.stiffness`:
        one dense Jacobian and d × d eigendecompositions per piece, the coarse relaxation
        included), back to the default when its steps keep failing (30 rejections within 100
        steps). Same fixed points; fewer steps when the rates of ∂b/∂x spread over decades.
    anderson : m > 0 accelerates every relaxation by Anderson extrapolation of its last m steps
        (:mod:`.anderson`; 0, the default, is off): after 30 plain steps Δτ is held (and raised
        only after m steps without a rejection), and each extrapolated step must pass the same
        stability test as a plain one, else the plain step is taken and the history restarts.
        A path in one piece then skips the straight trial start (the coarse path is that start,
        relaxed further), and the final relaxation goes on from the chosen start's Δτ.
        Same fixed points. With ``preconditioner="linearised"`` this is what makes a network's
        path converge (``anderson=10`` to ``20``, d = 1013: see docs/guide/large_deviations.rst).

    Two stages. The whole path is relaxed coarsely (33 points, until the action changes by less
    than 1e-5 over 20 steps, or a residual of 1e-2); the critical points it passes (saddles,
    intermediate minima) are located and refined by Newton's method; then each piece between consecutive
    critical points is relaxed to ``tol`` with its ends fixed, and the pieces are joined. Each
    piece starts from the best (lowest action after 150 steps on 25 points) of the coarse path,
    the straight segment and guesses through a saddle's unstable direction. The split is
    needed because |b| has a cone at a critical point: a discrete path crossing a saddle pins a
    quadrature point on it, where the discrete action is not differentiable.

    Returns
    -------
    MinimumActionPath
    """
    t0 = time.perf_counter()
    if preconditioner not in ("scalar", "linearised"):
        raise InputError(f"minimum_action_path: preconditioner must be 'scalar' or "
                         f"'linearised'; got {preconditioner!r}.")
    if isinstance(anderson, bool) or not isinstance(anderson, (int, np.integer)) or anderson < 0:
        raise InputError(f"minimum_action_path: anderson must be an integer ≥ 0 (the memory of "
                         f"the Anderson acceleration; 0 = off); got {anderson!r}.")
    dyn = as_dynamics(dynamics)
    with dyn.threads():   # e.g. BLAS kept off the cores of torch's thread pool
        return _minimum_action_path(dyn, start, end, n_points, initial, tol, max_iter,
                                    end_critical, refine_endpoints, critical_rtol, step,
                                    preconditioner, anderson, t0)


def _minimum_action_path(dyn, start, end, n_points, initial, tol, max_iter, end_critical,
                         refine_endpoints, critical_rtol, step, preconditioner, anderson, t0):
    """The work of :func:`minimum_action_path`, its arguments checked."""
    start, end, phi, scale = prepare_endpoints(dyn, start, end, n_points, initial, end_critical,
                                               refine_endpoints, critical_rtol,
                                               "minimum_action_path")
    P = len(phi)
    state = getattr(dyn, "action_state", None) or functools.partial(action_state, dyn)
    n_coarse = min(P, COARSE_POINTS)
    # the linearised damping is built where it is exact: at the attractor a piece leaves
    # (a piece from a saddle falls along the flow, where the default damping suffices)
    # (one per attractor: a dense Jacobian and two d × d eigendecompositions, seconds at d = 10³)
    built = {}

    def damping(x0):
        if preconditioner != "linearised" or dyn.classify(x0)["kind"] != "attractor":
            return None
        key = np.asarray(x0, dtype=float).tobytes()
        if key not in built:
            built[key] = LinearisedStiffness(dyn, x0)
        return built[key]

    coarse = _relax_piece(state, dyn, start, end, n_coarse, None, initial, tol=COARSE_TOL,
                          max_iter=max_iter, step=step, stagnation=COARSE_STALL,
                          stiff=damping(start), anderson=anderson)
    crit = critical_points_along(dyn, coarse.path, scale)
    nodes = [start] + [x for _, x, _ in crit] + [end]
    cuts = [0] + [k for k, _, _ in crit] + [n_coarse - 1]
    lengths = [float(arclength(coarse.path[a:b + 1])[-1]) for a, b in zip(cuts[:-1], cuts[1:])]
    counts = _allocate(P, lengths)
    pieces = []
    for (a, b), x0, x1, n in zip(zip(cuts[:-1], cuts[1:]), nodes[:-1], nodes[1:], counts):
        guess = coarse.path[a:b + 1].copy()
        guess[0], guess[-1] = x0, x1
        # starts: the coarse path (it knows the valley) and, unless the user gave waypoints, the
        # straight segment and the guesses through a saddle's unstable direction; the lowest
        # action after a short run is continued. From different starts the iteration can
        # settle on different stationary paths (the discrete action has several near
        # attractors and saddles), so the action, not the residual, decides.
        guesses = [guess]
        if initial is None:
            # with Anderson acceleration a path in one piece skips the straight start: the
            # coarse path is that start, relaxed further (a third of the steps on a network)
            straight = [] if anderson and len(nodes) == 2 else [None]
            guesses += straight + _saddle_waypoints(dyn, x0, x1)
        best = None
        stiff = damping(x0)
        if len(guesses) > 1:
            # choose the start on a coarse discretisation (cheap), then refine it
            m = min(n, TRIAL_POINTS)
            trials = [_relax_piece(state, dyn, x0, x1, m, g, None, tol=tol,
                                   max_iter=TRIAL_ITER, step=step, stiff=stiff,
                                   anderson=anderson)
                      for g in guesses]
            best = min(trials, key=lambda q: q.action)
            guesses = [best.path[1:-1]]
        # with Anderson acceleration the final relaxation goes on from the chosen start's step
        # size, extrapolating at once (the trial found Δτ; a plain ramp would repeat it)
        go_on = anderson and best is not None and best.dtau > 0
        final = _relax_piece(state, dyn, x0, x1, n, guesses[0], None, tol=tol,
                             max_iter=max_iter, step=best.dtau if go_on else step,
                             stiff=stiff, anderson=anderson, warm=0 if go_on else None)
        if best is not None:
            final.iterations += sum(q.iterations for q in trials)
        best = final
        pieces.append(best)
    path = np.vstack([pieces[0].path] + [q.path[1:] for q in pieces[1:]])
    segments = np.concatenate([q.segments for q in pieces])
    cumulative = np.concatenate([[0.0], 0.5 * np.cumsum(segments)])
    action = float(sum(q.action for q in pieces))
    converged = all(q.converged for q in pieces)
    residual = max(q.residual for q in pieces)
    iterations = coarse.iterations + sum(q.iterations for q in pieces)
    # resolution check: the same polyline with every segment bisected. A discretisation that
    # resolves the path changes its action by O(h²) (a few per mille at 30 points); one whose
    # chords are long against the scale on which b and D vary lets the midpoint rule skip the
    # barrier, and bisecting exposes it (a 12-point path of a d = 1033 network: 8 → 2400).
    halves = np.empty((2 * len(path) - 1, path.shape[1]))
    halves[0::2], halves[1::2] = path, 0.5 * (path[1:] + path[:-1])
    bisected = float(state(halves).action)
    change = abs(bisected - action) / max(abs(action), abs(bisected), 1e-300)
    joints = np.cumsum([0] + [len(q.path) - 1 for q in pieces])[1:-1]
    saddles = [(int(j), x) for j, (_, x, kind) in zip(joints, crit) if kind == "saddle"]
    if end_critical and dyn.classify(end)["kind"] == "saddle":
        saddles.append((P - 1, end))
    saddle = max(saddles, key=lambda s: cumulative[s[0]]) if saddles else (None, None)
    result = MinimumActionPath(
        path=path, action=action, cumulative=cumulative, start=start, end=end,
        saddle=saddle[1], saddle_index=saddle[0], converged=converged, iterations=iterations,
        residual=residual, history=np.asarray(coarse.history), method="gMAM",
        info={"seconds": time.perf_counter() - t0, "n_points": len(path), "tol": tol,
              "preconditioner": preconditioner, "anderson": int(anderson),
              "drift_scale": scale, "critical_points": [(kind, x.tolist()) for _, x, kind in crit],
              "pieces": [{"points": len(q.path), "action": q.action,
                          "iterations": q.iterations, "residual": q.residual,
                          "converged": q.converged, "rejected_steps": q.rejected,
                          "preconditioner": q.preconditioner}
                         for q in pieces],
              "coarse": {"iterations": coarse.iterations, "action": coarse.action},
              "start_level": [q.start_level for q in pieces],
              "bisected_action": bisected})
    if not converged:
        bad = [i for i, q in enumerate(pieces) if not q.converged][0]
        q = pieces[bad]
        err = SolverError(
            f"minimum_action_path (gMAM) did not converge: piece {bad + 1} of {len(pieces)} "
            f"(from {fmt_point(nodes[bad])} to {fmt_point(nodes[bad + 1])}) stopped after "
            f"{q.iterations} iterations with normal residual {q.residual:.3g} (tol {tol:g}) and "
            f"action {q.action:.8g} ({q.rejected} steps rejected as unstable). Try a "
            f"larger max_iter, a looser tol, fewer points, or an initial path (initial=) closer "
            f"to the expected MAP. The unconverged path is in err.result. (Its action with "
            f"every segment bisected is {bisected:.6g}: a large change means that the points "
            f"do not resolve the path either.)")
        err.result = result
        raise err
    if change > RESOLUTION_RTOL:
        warnings.warn(f"minimum_action_path: the action {action:.6g} of the {len(path)}-point path "
                      f"becomes {bisected:.6g} when every segment is bisected (relative change "
                      f"{change:.2g} > {RESOLUTION_RTOL:g}): {n_points} points do not resolve "
                      f"this path, and the action is not yet its minimum-action value. Use more "
                      f"points (n_points) and compare two resolutions.", RuntimeWarning,
                      stacklevel=3)
    return result


def _retract(x, ellipse):
    """The point of the level set ½δxᵀKδx = v₀ on the ray from x* through x."""
    x_star, K, v0 = ellipse
    dx = x - x_star
    q = 0.5 * float(dx @ K @ dx)
    return x_star + dx * np.sqrt(v0 / max(q, 1e-300))


def _start_step(phi, st, lam, ck, h, dtau, ellipse, stiff=None):
    """The first point's move along the level set (its action-gradient projected on the tangent
    plane, damped like the interior points' steps, projected again and retracted), and its
    residual."""
    x_star, K, v0 = ellipse
    n = K @ (phi[0] - x_star)
    n /= max(np.linalg.norm(n), 1e-300)
    g = st.grad[0] - (st.grad[0] @ n) * n
    c, kappa = ck
    lam_t = max(lam[0], LAMBDA_MIN * float(lam.max()))
    r0 = -(2.0 * lam_t / h) * st.D_norm[0] * g
    L = float(arclength(phi)[-1])
    res = float(np.linalg.norm(r0)) / (max(float(lam.max()), 1e-300) ** 2 * L)
    if stiff is None:
        move = dtau * r0 / (1.0 + dtau * kappa[0] + 2.0 * dtau * c[0] / h ** 2)
    else:
        move = stiff.point_step(r0, 1.0 + 2.0 * dtau * c[0] / h ** 2, kappa[0], dtau)
        move -= (move @ n) * n
    return _retract(phi[0] + move, ellipse), res


def _start_ellipse(dyn, x0, n, length):
    """(x*, K, v₀) for a piece leaving the attractor x0: K the Hessian of its local
    quasi-potential, v₀ such that the level set reaches one chord (length/(n − 1)) along the
    flattest direction. None if x0 is not an attractor."""
    if dyn.classify(x0)["kind"] != "attractor":
        return None
    K = dyn.local_quasipotential(x0)
    chord = length / (n - 1)
    return (x0, K, 0.5 * float(np.linalg.eigvalsh(K)[0]) * chord ** 2)


def _saddle_waypoints(dyn, x0, x1):
    """Guesses for a piece with a saddle at an end: through a point a quarter of the piece's
    length out along the saddle's unstable direction, on the side of the other end. A MAP
    leaves (or reaches) a saddle along that direction in a gradient system, and close to it
    otherwise; the straight segment can lead the iteration to a stationary path arriving from
    the other side, with a higher action."""
    out = []
    for s, other in ((x1, x0), (x0, x1)):
        info = dyn.classify(s)
        if info["kind"] != "saddle":
            continue
        lam, vecs = np.linalg.eig(dyn.jacobian_at(s)[0])
        v = np.real(vecs[:, int(np.argmax(lam.real))])
        v /= np.linalg.norm(v)
        rho = 0.25 * float(np.linalg.norm(other - s))
        w = s + rho * v if np.dot(other - s, v) > 0 else s - rho * v
        out.append(np.stack([w]))
    return out


def _allocate(P, lengths):
    """Points per piece (shared junctions counted once), ∝ arclength, at least 5 each."""
    k = len(lengths)
    free = P - 1
    raw = np.asarray(lengths) / max(sum(lengths), 1e-300) * free
    n = np.maximum(np.floor(raw).astype(int), 4)
    while n.sum() < free:
        n[np.argmax(raw - n)] += 1
    while n.sum() > free and np.any(n > 4):
        n[np.argmax(np.where(n > 4, n - raw, -np.inf))] -= 1
    return [int(m) + 1 for m in n]


def _preconditioned(phi, st, h):
    """λ, (c, κ) and the preconditioned residual r = −(2λ̃/h) D g at the interior points."""
    lam = st.lam
    lam_t = np.maximum(lam, LAMBDA_MIN * max(float(lam.max()), 1e-300))
    r = -(2.0 * lam_t / h)[:, None] * st.Dg
    # implicit coefficient: an over-estimate of the stiff part λ̃λδ² of r (stable for any Δτ),
    # floored so that the tangential (equidistributing) part moves next to critical points too
    c = SAFETY * lam_t * lam
    c = np.maximum(c, C_FLOOR * max(float(c.max()), 1e-300))
    # local stiffness of r at each point from the cone of |b| in the adjacent midpoints
    # (∂²S/∂φⱼ² ≈ ⅛ Σ c‖JᵀMJ‖/β), treated implicitly as a diagonal damping
    kappa = SAFETY * (2.0 * lam_t / h) * st.D_norm * 0.125 * (st.cone[:-1] + st.cone[1:])
    return lam, (c, kappa), r


def _velocity(phi, r, c, lam, h):
    """Explicit part v = Π⊥(r − c δ²φ) of the step, and the residual |Π⊥ r| relative to
    λ_max²·(path length): zero at a discrete MAP with equal chords (then Π_∥ δ²φ = 0 too, and
    the step vanishes)."""
    tang = phi[2:] - phi[:-2]
    tang = tang / np.maximum(np.linalg.norm(tang, axis=1, keepdims=True), 1e-300)
    lap = c[:, None] * (phi[2:] - 2 * phi[1:-1] + phi[:-2]) / h ** 2
    w = r - lap
    v = w - np.sum(w * tang, axis=1, keepdims=True) * tang
    rn = r - np.sum(r * tang, axis=1, keepdims=True) * tang
    L = float(arclength(phi)[-1])
    res = np.max(np.linalg.norm(rn, axis=1)) / (max(float(lam.max()), 1e-300) ** 2 * L)
    return v, float(res)


def _implicit_step(phi, v, ck, dtau, h, stiff=None):
    """The interior points after one step: (I + Δτ K − Δτ C δ²)(φ⁺ − φ) = Δτ (v + C δ²φ),
    i.e. (I − Δτ C δ²) φ⁺ = φ + Δτ v with the local stiffness K damping the increment too
    (endpoints fixed); Kⱼ = κⱼI, or κⱼN̄ with ``stiff`` (:mod:`.stiffness`). The fixed points
    (v + Cδ²φ = 0) do not depend on C or K."""
    c, kappa = ck
    a = dtau * c / h ** 2
    w = v + c[:, None] * (phi[2:] - 2 * phi[1:-1] + phi[:-2]) / h ** 2
    if stiff is not None:
        return phi[1:-1] + stiff.interior_step(w, a, kappa, dtau)
    n = len(a)
    ab = np.zeros((3, n))
    ab[0, 1:] = -a[:-1]
    ab[1] = 1.0 + dtau * kappa + 2.0 * a
    ab[2, :-1] = -a[1:]
    return phi[1:-1] + sla.solve_banded((1, 1), ab, dtau * w)
