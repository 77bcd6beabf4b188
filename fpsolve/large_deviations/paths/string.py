r"""Minimum-energy paths of a gradient system: the string method, and the steepest-descent
orbits from the saddle it finds.

For b = −G ∇U (G a constant symmetric positive-definite matrix; G = I by default) the minimum
energy path (MEP) between two minima is the curve along which the force is tangent,
(G∇U)⊥ = 0, through the saddle of lowest height on the way: the two steepest-descent orbits
from that saddle. It is the reversible reference for the minimum-action path: when D is a
constant multiple of G, the MAP of dX = −G∇U dt + sqrt(2εD) dW is the MEP and its action is
ΔU/c for D = cG. When D is not, or when the drift has a non-gradient part, the MAP differs and
the MEP's action is an upper bound on the minimum.

Method. (1) The simplified string method (E, Ren & Vanden-Eijnden, J. Chem. Phys. 126, 164103,
2007), in the coordinates y = G^(−1/2) x where the flow is a plain gradient flow: each point
steps along the force −G∇U, then the points are put back at equal chords
(:func:`.curves.equal_chords`); this is stopped at a loose tolerance (1e-3), because with a
finite step the tangential motion advects the string's shape and biases its fixed point.
(2) The string's highest point is refined to the saddle by Newton's method (the saddle is
exact, and with it the barrier U(saddle) − U(start)). (3) The two halves of the MEP are the
steepest-descent orbits ẋ = −G∇U leaving the saddle along ± its unstable eigenvector
(:func:`descent_orbit`), integrated with :func:`scipy.integrate.solve_ivp` (DOP853, rtol 1e-10)
until they reach the minima, and resampled to equal arclength. Step (3) is what makes the path accurate (to the ODE tolerance);
the string's job is to find the right saddle.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from ...errors import InputError, SolverError
from ..dynamics import Dynamics, central_gradient, fmt_point
from ..plots import plot_path
from .action import geometric_action
from .curves import arclength, equal_chords, resample
from .gmam import as_dynamics, prepare_endpoints


@dataclass
class MinimumEnergyPath:
    """A minimum-energy path of a gradient system.

    Attributes
    ----------
    path : (P, d) points at equal chords, from ``start`` through the saddle to ``end``.
    energy : (P,) U along the path.
    barrier : U(saddle) − U(start) (units of U).
    saddle : the saddle (refined by Newton's method; a path point), ``saddle_index`` its index.
    action : the geometric action of this path under the dynamics' own D (an upper bound on the
        minimum action; equal to it when D ∝ G and the drift is −G∇U).
    converged, iterations (of the string), residual (largest normal force / largest force along
        the returned path: O(h²) from the central-difference tangent), info.
    """

    path: np.ndarray
    energy: np.ndarray
    barrier: float
    saddle: np.ndarray
    saddle_index: int
    action: float
    start: np.ndarray
    end: np.ndarray
    converged: bool
    iterations: int
    residual: float
    method: str = "string"
    info: dict = field(default_factory=dict)

    @property
    def arclength(self) -> np.ndarray:
        return arclength(self.path)

    def plot(self, ax=None, **kw):
        """The path in 2D; see :func:`fpsolve.large_deviations.plot_path`."""
        return plot_path(self, ax=ax, **kw)


def _relax_string(force, jac_norm, phi, tol, max_iter):
    """Simplified string iteration with fixed endpoints, to a loose tolerance; returns (path,
    converged, iterations, residual = largest normal force / largest force). Also stops when no
    point moves by more than 1e-6 of a chord in a step."""
    P = len(phi)
    dt = 1.0 / max(float(np.max(jac_norm(phi))), 1e-300)
    res = np.inf
    it = 0
    for it in range(1, max_iter + 1):
        if it > 1 and np.max(np.abs(phi - prev)) < 1e-6 * float(np.linalg.norm(phi[1] - phi[0])):
            return phi, False, it, res
        prev = phi
        F = force(phi[1:-1])
        tang = phi[2:] - phi[:-2]
        tang /= np.maximum(np.linalg.norm(tang, axis=1, keepdims=True), 1e-300)
        Fn = F - np.sum(F * tang, axis=1, keepdims=True) * tang
        fmax = max(float(np.max(np.linalg.norm(F, axis=1))), 1e-300)
        res = float(np.max(np.linalg.norm(Fn, axis=1))) / fmax
        if res < tol:
            return phi, True, it, res
        new = phi.copy()
        # at most half a chord per step: larger tangential steps advect the shape from the ends
        new[1:-1] = phi[1:-1] + min(dt, 0.5 * float(np.linalg.norm(phi[1] - phi[0])) / fmax) * F
        phi = equal_chords(new, P)
    return phi, False, it, res


def descent_orbit(dynamics, saddle, minima, *, direction=None, stiff: bool = False,
                  rtol: float = 1e-10):
    """The steepest-descent orbit ẋ = b(x) from an index-1 saddle to the minimum it reaches.

    Parameters
    ----------
    dynamics : a :class:`~fpsolve.large_deviations.Dynamics` (or a model) with a gradient drift.
    saddle : (d,), the saddle (refined: :meth:`Dynamics.refine_critical_point`).
    minima : (d,) or (k, d): the minima the orbit may reach; it stops within 1e-9 of the
        saddle–minima distance of one of them.
    direction : the direction to leave along; default the unstable eigenvector of ∂b/∂x at the
        saddle, turned towards the first minimum.
    stiff : integrate with LSODA and the exact Jacobian (for drifts whose rates spread over
        orders of magnitude, such as a network's) instead of DOP853.
    rtol : the integrator's relative tolerance.

    Returns
    -------
    (points (m, d) from the saddle to the minimum reached, its index in ``minima``), or
    (None, None) if the orbit reaches none of them. Dense in both ends; resample it
    (:func:`~fpsolve.large_deviations.paths.curves.resample`) to equal arclength.
    """
    dyn = as_dynamics(dynamics)
    saddle = np.asarray(saddle, dtype=float).ravel()
    minima = np.atleast_2d(np.asarray(minima, dtype=float))
    J = dyn.jacobian_at(saddle)[0]
    lam, vecs = np.linalg.eig(J)
    if direction is None:
        direction = np.real(vecs[:, int(np.argmax(lam.real))])
        direction = direction * (np.sign(direction @ (minima[0] - saddle)) or 1.0)
    direction = np.asarray(direction, dtype=float) / np.linalg.norm(direction)
    length = float(np.max(np.linalg.norm(minima - saddle, axis=1)))
    near = [lambda t, x, m=m: np.linalg.norm(x - m) - 1e-9 * length for m in minima]
    for ev in near:
        ev.terminal = True
    rate = float(np.max(np.abs(lam.real)))
    slow = float(np.min(np.abs(lam.real)))
    span = (0.0, 200.0 / max(slow, 1e-12 * rate))
    x0 = saddle + 1e-7 * length * direction
    if stiff:
        sol = solve_ivp(lambda t, x: dyn.drift_at(x)[0], span, x0, method="LSODA",
                        jac=lambda t, x: dyn.jacobian_at(x)[0], rtol=rtol,
                        atol=rtol * 1e-3 * length, events=near, dense_output=True)
    else:
        sol = solve_ivp(lambda t, x: dyn.drift_at(x)[0], span, x0, method="DOP853", rtol=rtol,
                        atol=rtol * 1e-3 * length, events=near, dense_output=True)
    hit = [k for k, te in enumerate(sol.t_events) if te.size]
    if not hit:
        return None, None
    t = sol.t[-1]
    # dense sampling in t crowds at both ends; resampling to arclength later evens it out
    pts = sol.sol(np.concatenate([[0.0], np.geomspace(1e-9 * max(t, 1e-300), t, 4000)]))
    return np.vstack([saddle, pts.T[1:], minima[hit[0]]]), hit[0]


def string_method(dynamics, start, end, *, n_points: int = 100, metric=None, initial=None,
                  max_iter: int = 20000, refine_endpoints: bool = False) -> MinimumEnergyPath:
    """Minimum-energy path between two minima of U (the simplified string method).

    Parameters
    ----------
    dynamics : a :class:`~fpsolve.large_deviations.Dynamics` built with ``potential=`` (or a
        FokkerPlanck model with a callable potential); its diffusion is used only for the
        ``action`` of the path.
    start, end : two minima of U (shape (d,)); with ``refine_endpoints`` moved onto the exact
        minima by Newton's method, otherwise a warning when |∇U| is not small there.
    metric : G, a constant SPD (d, d) matrix: the MEP of the flow ẋ = −G∇U (default I). For the
        reversible reference of dX = −D∇U dt + sqrt(2D) dW with a constant D, pass G = D.
    n_points, initial : as for :func:`~fpsolve.large_deviations.minimum_action_path`.
    max_iter : budget of the string iteration (it stops at a normal-force ratio of 1e-3; an
        unconverged string is fine as long as its highest point refines to the saddle).

    Returns
    -------
    MinimumEnergyPath
    """
    t0 = time.perf_counter()
    dyn = as_dynamics(dynamics)
    if dyn.potential is None and dyn.gradient is None:
        raise InputError("string_method: the dynamics has no potential; the string method needs "
                         "a gradient system. Build it with Dynamics(d, potential=U, ...).")
    d = dyn.ndim
    G = np.eye(d) if metric is None else np.asarray(metric, dtype=float)
    if G.shape != (d, d) or not np.allclose(G, G.T) or np.linalg.eigvalsh(G)[0] <= 0:
        raise InputError(f"string_method: metric must be a symmetric positive-definite ({d}, {d}) "
                         f"matrix; got {np.asarray(metric).tolist()}.")
    w, V = np.linalg.eigh(G)
    Gh = (V * np.sqrt(w)) @ V.T            # G^(1/2)
    Ghi = (V / np.sqrt(w)) @ V.T           # G^(−1/2)

    def grad_U(X):
        if dyn.gradient is not None:
            return np.stack([np.broadcast_to(np.asarray(g, float), (len(X),))
                             for g in dyn.call(dyn.gradient, X, "gradient")], axis=-1)
        return central_gradient(dyn.potential_at, X)

    flow = Dynamics(d, drift=lambda *c: tuple((-grad_U(np.stack(c, -1)) @ G).T),
                    diffusion=G)
    start, end, phi, scale = prepare_endpoints(flow, start, end, n_points, initial, True,
                                               refine_endpoints, 1e-6, "string_method")
    for name, x in (("start", start), ("end", end)):
        if flow.classify(x)["kind"] != "attractor":
            raise InputError(f"string_method: {name} {fmt_point(x)} is not a minimum of U (the "
                             f"Hessian there has a negative direction); the string method joins "
                             f"two minima.")

    def force(Y):               # −∇_y Ũ(y) = −G^(1/2) ∇U(G^(1/2) y)
        return -grad_U(Y @ Gh) @ Gh

    def jac_norm(Y):            # ‖G^(1/2) ∇²U G^(1/2)‖₂ = ‖∂(force)/∂y‖₂
        J = flow.jacobian_at(Y @ Gh)          # −G ∇²U
        return np.linalg.norm(np.einsum("ij,njk,kl->nil", Ghi, J, Gh), 2, axis=(1, 2))

    P = len(phi)
    y, _, it0, _ = _relax_string(force, jac_norm, phi @ Ghi, 1e-3, max_iter)
    x_coarse = y @ Gh
    U = dyn.potential_at(x_coarse)
    k = int(np.argmax(U[1:-1])) + 1
    try:
        saddle = flow.refine_critical_point(x_coarse[k], scale=scale)
    except SolverError as exc:
        raise SolverError(f"string_method: the highest point of the relaxed string, "
                          f"{fmt_point(x_coarse[k])}, does not refine to a saddle ({exc}). Give "
                          f"more points or waypoints through the expected saddle.") from None
    info = flow.classify(saddle)
    if info["kind"] != "saddle":
        raise SolverError(f"string_method: the highest point of the string refines to "
                          f"{fmt_point(saddle)}, which is not a saddle of index one (eigenvalues "
                          f"of −G∇²U there: {fmt_point(info['eigenvalues'].real)}).")
    lam, vecs = np.linalg.eig(flow.jacobian_at(saddle)[0])
    v = np.real(vecs[:, int(np.argmax(lam.real))])
    halves = {}
    for sign in (1.0, -1.0):
        orbit, which = descent_orbit(flow, saddle, (start, end), direction=sign * v)
        if orbit is not None:
            halves[which] = orbit
    if set(halves) != {0, 1}:
        raise SolverError(f"string_method: the steepest-descent orbits from the saddle "
                          f"{fmt_point(saddle)} do not reach both minima ({fmt_point(start)}, "
                          f"{fmt_point(end)}); the string found a saddle of another pair of "
                          f"basins. Give waypoints (initial=) through the expected saddle.")
    L1 = float(arclength(halves[0])[-1])
    L2 = float(arclength(halves[1])[-1])
    n1 = int(np.clip(round((P - 1) * L1 / (L1 + L2)), 4, P - 5)) + 1
    first = resample(halves[0][::-1], n1)
    second = resample(halves[1], P - n1 + 1)
    path = np.vstack([first, second[1:]])
    energy = dyn.potential_at(path)
    result = MinimumEnergyPath(
        path=path, energy=energy, barrier=float(dyn.potential_at(saddle)[0] - energy[0]),
        saddle=saddle, saddle_index=n1 - 1, action=geometric_action(dyn, path), start=start,
        end=end, converged=True, iterations=it0, residual=_normal_force(force, path @ Ghi),
        info={"seconds": time.perf_counter() - t0, "n_points": len(path)})
    return result


def _normal_force(force, y):
    """Largest normal force / largest force along a path (working coordinates)."""
    F = force(y[1:-1])
    tang = y[2:] - y[:-2]
    tang /= np.maximum(np.linalg.norm(tang, axis=1, keepdims=True), 1e-300)
    Fn = F - np.sum(F * tang, axis=1, keepdims=True) * tang
    return float(np.max(np.linalg.norm(Fn, axis=1)) / max(np.max(np.linalg.norm(F, axis=1)),
                                                           1e-300))
