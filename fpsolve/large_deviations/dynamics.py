r"""The small-noise diffusion whose large deviations are computed, and its local quantities.

Convention (the package's, with the noise strength ε pulled out):

    dX = b(X) dt + sqrt(2 ε D(X)) dW     (Itô; ε → 0),

with the Freidlin–Wentzell action of a path φ on [0, T]

    S_T[φ] = ¼ ∫₀ᵀ (φ̇ − b(φ))ᵀ D(φ)⁻¹ (φ̇ − b(φ)) dt ,

so that P(X ≈ φ) ≍ exp(−S_T[φ]/ε), the Hamiltonian is H(x, p) = b·p + pᵀD p, and the
quasi-potential V(x) = inf_{T, φ: x* → x} S_T[φ] relative to an attractor x* solves
b·∇V + ∇Vᵀ D ∇V = 0. With this normalisation a gradient system b = −∇U, D = I has V = U − U(x*),
and the stationary density behaves as p_ε ≍ exp(−V/ε). A :class:`~fpsolve.FokkerPlanck` model
with diffusion D_model is the case ε = 1, D = D_model: then S is directly the exponent of an
escape time, τ ≍ exp(S) (for SGD, D = (η/2)Σ₁/B and S ∝ 1/η).

The Itô/Stratonovich/isothermal drift corrections are O(ε) and do not enter V; a model built
with a non-Itô convention contributes its Itô drift (``FokkerPlanck.drift_at``) as given.

:class:`Dynamics` evaluates b and D at points (arrays of shape (n, d)), checks D (finite,
symmetric, positive definite, or raised to a ``floor``), and provides the local quantities the
solvers need: the Jacobian of b (central differences unless the user gives it), critical points
and their refinement by Newton's method, and the quadratic quasi-potential of the linearisation
at an attractor (a Lyapunov equation, solved by :func:`scipy.linalg.solve_continuous_lyapunov`).
"""
from __future__ import annotations

import contextlib
import numbers
import warnings

import numpy as np
import scipy.linalg as sla

from ..errors import InputError, SolverError

SYMMETRY_RTOL = 1e-10   # |D_ij − D_ji| above this × max|D| at a point is an error
SINGULAR_RTOL = 1e-12   # eigenvalues of D below this × the largest count as zero
FD_STEP = np.cbrt(np.finfo(float).eps)  # central differences: error ~ step² + eps/step
MEMO_SIZE = 16          # linearisations (J, its eigenvalues, K) remembered per Dynamics


class Dynamics:
    """b(x) and D(x) of dX = b dt + sqrt(2εD) dW in ``ndim`` dimensions.

    Parameters
    ----------
    ndim : number of coordinates d.
    drift : callable b(x₁, …, x_d) returning d arrays (one per component), called with numpy
        arrays of shape (n,) — the same signature as :class:`fpsolve.FokkerPlanck`'s ``drift``.
    potential : callable U(x₁, …, x_d) instead of ``drift``: b = −∇U (by central differences of
        U unless ``gradient`` is given). Needed by the string method and by plots of U.
    gradient : callable returning the d components of ∇U (exact drift for a potential).
    diffusion : positive number (D = c·I), a constant symmetric positive-definite (d, d) matrix,
        or a callable of the coordinates returning either a scalar array (D = c(x)·I) or a d×d
        nested list / array of shape (d, d, n) (a tensor field). Units: length² per unit time
        (per unit of ε).
    floor : eigenvalue floor (> 0) for a D that is singular somewhere (e.g. a low-rank gradient
        covariance): eigenvalues below it are raised to it. Without it a singular D is an error,
        because the action then forbids motion along the null directions.
    jacobian : optional callable returning ∂b_i/∂x_j as an array (d, d, n) (else central
        differences, relative error ~1e-10).

    All evaluations take points X of shape (n, d) and are vectorised over n.
    """

    def __init__(self, ndim: int, drift=None, *, potential=None, gradient=None, diffusion=1.0,
                 floor=None, jacobian=None):
        if not isinstance(ndim, (int, np.integer)) or ndim < 1:
            raise InputError(f"Dynamics: ndim must be a positive integer; got {ndim!r}.")
        if (drift is None) == (potential is None):
            raise InputError("Dynamics: give exactly one of drift= (b as d callables' values) "
                             "and potential= (b = −∇U).")
        for name, f in (("drift", drift), ("potential", potential), ("gradient", gradient),
                        ("jacobian", jacobian)):
            if f is not None and not callable(f):
                raise InputError(f"Dynamics: {name} must be a callable of the coordinates "
                                 f"f(x1, …, x{ndim}); got {type(f).__name__}.")
        if gradient is not None and potential is None:
            raise InputError("Dynamics: gradient= belongs to potential=; with drift= give the "
                             "drift itself.")
        if floor is not None and not (isinstance(floor, numbers.Real) and np.isfinite(floor)
                                      and floor > 0):
            raise InputError(f"Dynamics: floor must be a positive number (an eigenvalue floor "
                             f"in units of D); got {floor!r}.")
        self.ndim = int(ndim)
        self.drift = drift
        self.potential = potential
        self.gradient = gradient
        self.jacobian = jacobian
        self.diffusion = diffusion
        self.floor = None if floor is None else float(floor)
        self._model = None
        self._memo = {}
        self.constant_diffusion = not callable(diffusion)
        if self.constant_diffusion:
            self._D_const = self._constant_tensor(diffusion)

    # -- construction from a FokkerPlanck model --------------------------------------------------
    @classmethod
    def from_model(cls, model, floor=None) -> "Dynamics":
        """The dynamics of a :class:`fpsolve.FokkerPlanck` model, with ε = 1 (so that actions
        are exponents in the model's own units: τ ≍ exp(S)). Uses the model's public
        ``drift_at`` and ``diffusion_at``; the model's ``floor`` is used unless one is given.
        For a potential, ``drift_at`` differentiates U numerically (relative error ~1e-10),
        which limits the residual a path can reach to about 1e-7: pass ``tol=1e-6`` to the
        path methods, or build the Dynamics with the exact ``gradient``."""
        for name in ("drift_at", "diffusion_at", "grid"):
            if not hasattr(model, name):
                raise InputError(f"Dynamics.from_model: expected an fpsolve.FokkerPlanck model; "
                                 f"{type(model).__name__} has no {name}.")
        d = model.grid.ndim
        obj = cls(d, drift=lambda *c: tuple(model.drift_at(np.stack(c, -1)).T),
                  diffusion=lambda *c: _tensor_rows(model.diffusion_at(np.stack(c, -1)), d),
                  floor=floor if floor is not None else getattr(model, "floor", None))
        obj._model = model
        if callable(getattr(model, "potential", None)):  # kept for plots and the string method
            obj.potential = model.potential
        return obj

    # -- evaluation ------------------------------------------------------------------------------
    def as_points(self, X, what="points") -> np.ndarray:
        """X as a finite float array (n, d) (a single point (d,) becomes (1, d))."""
        X = np.asarray(X, dtype=float)
        if X.ndim == 1 and X.size == self.ndim:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.ndim:
            raise InputError(f"{what}: expected points of shape (n, {self.ndim}); got {X.shape}.")
        if not np.all(np.isfinite(X)):
            raise InputError(f"{what}: the points contain NaN or inf.")
        return X

    def call(self, f, X, what):
        """A user callable of the coordinates at points X (n, d), errors re-raised as InputError."""
        try:
            return f(*[X[:, k] for k in range(self.ndim)])
        except Exception as exc:
            raise InputError(f"{what}: calling it failed with {type(exc).__name__}: {exc}. It "
                             f"is called as f({', '.join(f'x{k + 1}' for k in range(self.ndim))})"
                             f" with numpy arrays of shape (n,).") from exc

    def potential_at(self, X) -> np.ndarray:
        """U at points (n, d) → (n,); raises if the dynamics has no potential."""
        if self.potential is None:
            raise InputError("Dynamics.potential_at: this dynamics was given by its drift; there "
                             "is no potential U.")
        X = self.as_points(X)
        U = np.broadcast_to(np.asarray(self.call(self.potential, X, "potential"), float),
                            (X.shape[0],))
        _finite(U, X, "potential")
        return U

    def drift_at(self, X) -> np.ndarray:
        """b at points (n, d) → (n, d)."""
        X = self.as_points(X)
        n, d = X.shape
        if self.drift is not None:
            val = self.call(self.drift, X, "drift")
            b = _components(val, n, d, "drift")
        elif self.gradient is not None:
            b = -_components(self.call(self.gradient, X, "gradient"), n, d, "gradient")
        else:
            b = -central_gradient(lambda Y: self.potential_at(Y), X)
        _finite(b, X, "drift")
        return b

    def jacobian_at(self, X) -> np.ndarray:
        """∂b_i/∂x_j at points (n, d) → (n, d, d) (user's ``jacobian`` or central differences)."""
        X = self.as_points(X)
        n, d = X.shape
        if self.jacobian is not None:
            J = np.asarray(self.call(self.jacobian, X, "jacobian"), dtype=float)
            J = np.broadcast_to(J.reshape(d, d, -1) if J.ndim >= 2 else J, (d, d, n))
            return np.moveaxis(J, -1, 0).copy()
        J = np.empty((n, d, d))
        for j in range(d):
            step = FD_STEP * np.maximum(1.0, np.abs(X[:, j]))
            up, dn = X.copy(), X.copy()
            up[:, j] += step
            dn[:, j] -= step
            J[:, :, j] = (self.drift_at(up) - self.drift_at(dn)) / (up[:, j] - dn[:, j])[:, None]
        return J

    def diffusion_at(self, X, check=True) -> np.ndarray:
        """D at points (n, d) → (n, d, d), checked (symmetric, positive definite) and floored."""
        X = self.as_points(X)
        n, d = X.shape
        if self.constant_diffusion:
            return np.broadcast_to(self._D_const, (n, d, d))
        val = self.call(self.diffusion, X, "diffusion")
        D = _tensor_value(val, n, d)
        return self._checked(D, X) if check else D

    def metric_at(self, X):
        """(D⁻¹, D) at points (n, d): the metric of the action and the diffusion, (n, d, d) each."""
        D = self.diffusion_at(X)
        if self.constant_diffusion:
            return np.broadcast_to(self._M_const, D.shape), D
        return np.linalg.inv(D), D

    # -- checks ------------------------------------------------------------------------------------
    def _constant_tensor(self, diffusion):
        d = self.ndim
        if isinstance(diffusion, numbers.Real) and not isinstance(diffusion, bool):
            D = float(diffusion) * np.eye(d)
        else:
            D = np.asarray(diffusion, dtype=float)
            if D.shape != (d, d):
                raise InputError(f"Dynamics: a constant diffusion must be a number or a ({d}, {d})"
                                 f" matrix; got shape {D.shape}. Pass a callable for a field.")
        D = self._checked(D[None], np.zeros((1, d)), where="(constant)")[0]
        self._M_const = np.linalg.inv(D)
        return D

    def _checked(self, D, X, where=None):
        d = self.ndim
        if not np.all(np.isfinite(D)):
            k = int(np.argwhere(~np.all(np.isfinite(D), axis=(1, 2)))[0, 0])
            raise InputError(f"diffusion is not finite {where or _at(X[k])}.")
        scale = np.max(np.abs(D), axis=(1, 2))
        asym = np.max(np.abs(D - np.swapaxes(D, 1, 2)), axis=(1, 2))
        bad = asym > SYMMETRY_RTOL * np.maximum(scale, 1e-300)
        if np.any(bad):
            k = int(np.argmax(bad))
            raise InputError(f"diffusion is not symmetric {where or _at(X[k])}: D = "
                             f"{fmt_point(D[k])}. D = σσᵀ/2 is symmetric; pass (D + Dᵀ)/2 if the "
                             f"asymmetry is round-off.")
        D = 0.5 * (D + np.swapaxes(D, 1, 2))
        w, V = np.linalg.eigh(D) if d > 1 else (D[:, :, 0], np.ones_like(D))
        wmax = np.max(np.abs(w), axis=1)
        if self.floor is None:
            sing = w[:, 0] <= SINGULAR_RTOL * np.maximum(wmax, 1e-300)
            if np.any(sing):
                k = int(np.argmax(sing))
                raise InputError(
                    f"diffusion is singular or not positive definite {where or _at(X[k])}: "
                    f"eigenvalues {fmt_point(w[k])}. The action ¼(φ̇ − b)ᵀD⁻¹(φ̇ − b) forbids "
                    f"motion along a null direction of D; pass floor=δ (e.g. 1e-3 × the typical "
                    f"eigenvalue) to raise small eigenvalues to δ, and check that the answer "
                    f"does not depend on δ.")
            return D
        low = w[:, 0] < self.floor
        if np.any(low):
            wl = np.maximum(w[low], self.floor)
            D = D.copy()
            D[low] = np.einsum("nik,nk,njk->nij", V[low], wl, V[low])
        return D

    # -- critical points ---------------------------------------------------------------------------
    def drift_scale(self, X) -> float:
        """max |b| over points X: the scale that says when |b(x)| is "zero"."""
        return float(np.max(np.linalg.norm(self.drift_at(X), axis=1)))

    def classify(self, x) -> dict:
        """Linearisation at x: |b(x)|, the eigenvalues of ∂b/∂x, and the number of unstable
        directions (Re λ > 0): 0 for an attractor, 1 for a saddle of index one."""
        x = self.as_points(x)[0]
        J, lam = self.linearisation(x)
        scale = max(np.max(np.abs(lam)), 1e-300)
        return {"x": x, "drift_norm": float(np.linalg.norm(self.drift_at(x)[0])),
                "eigenvalues": lam, "unstable": int(np.sum(lam.real > 1e-9 * scale)),
                "kind": {0: "attractor", 1: "saddle"}.get(int(np.sum(lam.real > 1e-9 * scale)),
                                                          "unstable point")}

    def refine_critical_point(self, x, *, tol=1e-12, max_iter=60, scale=None) -> np.ndarray:
        """Newton's method on b(x) = 0 from x (Jacobian by central differences, step halving
        while |b| does not decrease). Stops when |b| ≤ tol · ``scale`` (default: |b| one
        Jacobian-length away, i.e. max(|J|·|x|, 1)·…); raises SolverError if it does not."""
        x = self.as_points(x, "refine_critical_point")[0].copy()
        b = self.drift_at(x)[0]
        J = self.jacobian_at(x)[0]
        if scale is None:
            scale = max(np.linalg.norm(J, 2) * max(1.0, np.linalg.norm(x)), np.linalg.norm(b),
                        1e-300)
        for it in range(max_iter):
            nb = np.linalg.norm(b)
            if nb <= tol * scale:
                return x
            try:
                dx = np.linalg.solve(self.jacobian_at(x)[0], -b)
            except np.linalg.LinAlgError:
                raise SolverError(f"refine_critical_point: the Jacobian of b is singular at "
                                  f"{fmt_point(x)} (|b| = {nb:.3g}); give a point closer to a "
                                  f"non-degenerate critical point.") from None
            t = 1.0
            while t > 1e-6:
                xn = x + t * dx
                bn = self.drift_at(xn)[0]
                if np.linalg.norm(bn) < nb:
                    break
                t *= 0.5
            else:
                break
            x, b = xn, bn
        if np.linalg.norm(b) <= tol * scale * 1e3:  # round-off floor of the FD Jacobian
            return x
        raise SolverError(f"refine_critical_point: Newton's method did not reach b(x) = 0 from "
                          f"the given point in {max_iter} steps (|b| = {np.linalg.norm(b):.3g} at "
                          f"{fmt_point(x)}); give a point closer to a critical point.")

    def local_quasipotential(self, x_star) -> np.ndarray:
        """The Hessian K of the quadratic quasi-potential V ≈ ½ δxᵀ K δx near an attractor x*:
        K = Σ₀⁻¹ with J Σ₀ + Σ₀ Jᵀ = −2 D(x*), J = ∂b/∂x(x*) (exact for linear b and constant D).
        Raises InputError if x* is not an attractor (some Re λ(J) ≥ 0)."""
        x_star = self.as_points(x_star)[0]
        key = ("K", x_star.tobytes())
        if key in self._memo:
            return self._memo[key].copy()
        J, lam = self.linearisation(x_star)
        if np.any(lam.real >= 0):
            raise InputError(f"local_quasipotential: {fmt_point(x_star)} is not an attractor; the "
                             f"Jacobian of b there has eigenvalues (real parts) "
                             f"{fmt_point(lam.real)} "
                             f"(all need Re < 0).")
        D = self.diffusion_at(x_star)[0]
        S0 = sla.solve_continuous_lyapunov(J, -2.0 * D)
        S0 = 0.5 * (S0 + S0.T)
        K = np.linalg.inv(S0)
        K = 0.5 * (K + K.T)
        self._remember(key, K)
        return K.copy()

    def linearisation(self, x):
        """(J, eigenvalues of J) at one point x, J = ∂b/∂x. Remembered for the last few points
        asked for: the path methods ask again and again about the same few critical points,
        and in d ≈ 10³ each dense Jacobian and eigenvalue problem costs seconds. Eigenvalues by
        :func:`numpy.linalg.eigvalsh` when J is symmetric to round-off (a gradient drift), else
        :func:`numpy.linalg.eigvals`."""
        x = self.as_points(x)[0]
        key = ("J", x.tobytes())
        if key not in self._memo:
            J = self.jacobian_at(x)[0]
            sym = np.abs(J - J.T).max() <= 1e-10 * max(np.abs(J).max(), 1e-300)
            lam = np.linalg.eigvalsh(0.5 * (J + J.T)) if sym else np.linalg.eigvals(J)
            self._remember(key, (J, lam))
        J, lam = self._memo[key]
        return J.copy(), lam.copy()

    def threads(self):
        """The context in which the path methods run their iteration: none here (numpy alone
        decides its threads). A backend whose evaluations run in their own thread pool overrides
        it (:class:`~fpsolve.large_deviations.TorchDynamics`)."""
        return contextlib.nullcontext()

    def _remember(self, key, value):
        if len(self._memo) >= MEMO_SIZE:
            self._memo.pop(next(iter(self._memo)))
        self._memo[key] = value

    def check_endpoint(self, x, name, scale, rtol, refine):
        """x as a critical point: returned refined when ``refine``; otherwise a warning when
        |b(x)| > rtol·scale (naming the value and the fix)."""
        x = self.as_points(x, name)[0]
        nb = float(np.linalg.norm(self.drift_at(x)[0]))
        if refine:
            return self.refine_critical_point(x, scale=scale)
        if nb > rtol * scale:
            warnings.warn(f"{name} {fmt_point(x)} is not a critical point: |b| = {nb:.3g} there, "
                          f"{nb / scale:.2g} × the largest drift along the initial path (limit "
                          f"{rtol:g}). The action is then that of a path to this point, not a "
                          f"barrier between critical points. Pass refine_endpoints=True to move "
                          f"it to the nearby critical point by Newton's method.",
                          RuntimeWarning, stacklevel=3)
        return x


# -- helpers ---------------------------------------------------------------------------------
def fmt_point(x, head: int = 6) -> str:
    """A point for a message: all coordinates up to ``head``, else the first few and |x|."""
    x = np.ravel(np.asarray(x, dtype=float))
    if x.size <= head:
        return "(" + ", ".join(f"{v:.6g}" for v in x) + ")"
    return ("(" + ", ".join(f"{v:.4g}" for v in x[:3]) + f", … {x.size - 3} more; "
            f"|x| = {np.linalg.norm(x):.4g})")


def _at(x) -> str:
    return "at x = " + fmt_point(x)


def _finite(arr, X, what):
    bad = ~np.isfinite(arr)
    if np.any(bad):
        k = int(np.argwhere(bad.reshape(len(X), -1).any(axis=1))[0, 0])
        raise InputError(f"{what} is not finite {_at(X[k])}; restrict the problem to where it is "
                         f"defined.")


def _components(val, n, d, what) -> np.ndarray:
    try:
        comps = [np.broadcast_to(np.asarray(val[k], dtype=float), (n,)) for k in range(d)]
    except (IndexError, TypeError, ValueError):
        raise InputError(f"{what}: expected {d} arrays (one per component) broadcastable to "
                         f"shape ({n},).") from None
    if d == 1 and np.ndim(val) == 1 and np.size(val) == n and n != 1:
        comps = [np.asarray(val, dtype=float)]  # a 1D drift returned as a bare array
    return np.stack(comps, axis=-1)


def _tensor_value(val, n, d) -> np.ndarray:
    """A user's diffusion value → (n, d, d): scalar field c(x)·I, or a d×d nested value."""
    arr = None
    if d == 1:
        arr = np.asarray(val, dtype=float)
        flat = arr.reshape(-1) if arr.size == n else arr
        return np.broadcast_to(flat, (n,))[:, None, None].copy()
    try:
        arr = np.asarray(val, dtype=float)
    except (ValueError, TypeError):
        arr = None
    if arr is not None and (arr.ndim <= 1):
        c = np.broadcast_to(arr, (n,))
        return c[:, None, None] * np.eye(d)[None]
    try:
        rows = [[np.broadcast_to(np.asarray(val[i][j], dtype=float), (n,)) for j in range(d)]
                for i in range(d)]
    except (IndexError, TypeError, ValueError):
        raise InputError(f"diffusion: the callable must return a scalar array (D = c(x)·I) or a "
                         f"{d}×{d} nested list / array of shape ({d}, {d}, n).") from None
    return np.moveaxis(np.array(rows, dtype=float), -1, 0)


def _tensor_rows(D, d):
    """(n, d, d) or (n,) diffusion values as d×d rows of (n,) arrays."""
    D = np.asarray(D, dtype=float)
    if D.ndim == 1:
        return D
    return [[D[:, i, j] for j in range(d)] for i in range(d)]


def central_gradient(f, X) -> np.ndarray:
    """∇f at points X (n, d) by central differences (f vectorised over rows)."""
    n, d = X.shape
    G = np.empty((n, d))
    for j in range(d):
        step = FD_STEP * np.maximum(1.0, np.abs(X[:, j]))
        up, dn = X.copy(), X.copy()
        up[:, j] += step
        dn[:, j] -= step
        G[:, j] = (f(up) - f(dn)) / (up[:, j] - dn[:, j])
    return G
