"""The model's SDE coefficients as the particle kernels need them: the compiled and the numpy routes.

Two routes, chosen per model (``compiled="auto"``):

* **compiled** — the model's coefficients (``grad`` or ``potential``, ``drift``, ``diffusion``) are
  Numba ``@njit`` functions (``numba.core.registry.CPUDispatcher``), numbers, or a constant d×d
  matrix, with an optional diffusion schedule s(t): they are compiled into the step kernel
  (:func:`.kernels.compiled_kernel`). Used only after checking on sample particles, at the first,
  middle and last time, that the kernel's coefficients equal ``model.coefficients.drift`` and
  ``model.coefficients.diffusion`` — so a model whose pointwise coefficients mean something else (a
  subclass, a new feature) is never compiled wrongly, it is simply evaluated with numpy.
* **vectorised** — anything else: ``model.coefficients.drift(X, t)`` and ``model.coefficients.diffusion(X, t)`` are
  called once per step with all particles and the current t (so time-dependent schedules and the
  non-Itô drift correction come from the model), and the kernel only adds the noise and applies
  walls and targets.

The noise factor: a scalar D gives amplitude sqrt(2 D dt) per particle; a tensor D — an array of
shape (n, d, d) from the model's pointwise diffusion, or a constant (d, d) — gives L with L Lᵀ = 2 D dt by
Cholesky, or by the symmetric eigen-decomposition when D is only positive semi-definite
(gradient covariances are rank-deficient, Chaudhari & Soatto).
"""
from __future__ import annotations

import numbers

import numpy as np
from numba.core.registry import CPUDispatcher

from ..errors import InputError, SolverError


def noise_factor(D, n, ndim, dt, what="the diffusion"):
    """("scalar", amp of shape (n,)) or ("tensor", L of shape (n or 1, d, d)), L Lᵀ = 2 D dt."""
    D = np.asarray(D, dtype=float)
    if D.ndim == 0 or (D.ndim == 1 and D.shape == (n,)):
        if not np.all(np.isfinite(D)) or np.any(D < 0):
            bad = np.flatnonzero(~(np.isfinite(D) & (D >= 0)))[0] if D.ndim else 0
            val = D.flat[bad]
            raise SolverError(f"particles: {what} returned D = {val} (particle {bad}); the "
                              f"diffusion must be finite and non-negative where particles go.")
        return "scalar", np.ascontiguousarray(np.broadcast_to(np.sqrt(2.0 * D * dt), (n,)))
    if D.shape == (ndim, ndim):
        return "tensor", matrix_sqrt(2.0 * dt * D[None], what)
    if D.shape == (n, ndim, ndim):
        return "tensor", matrix_sqrt(2.0 * dt * D, what)
    raise InputError(f"particles: {what} returned shape {D.shape}; expected () or ({n},) for a "
                     f"scalar diffusion, ({ndim}, {ndim}) or ({n}, {ndim}, {ndim}) for a tensor.")


def matrix_sqrt(A, what="diffusion"):
    """L with L Lᵀ = A for a stack of symmetric PSD matrices (m, d, d)."""
    A = np.asarray(A, dtype=float)
    if not np.all(np.isfinite(A)):
        raise SolverError(f"particles: {what} returned a non-finite diffusion tensor.")
    asym = np.abs(A - np.swapaxes(A, -1, -2)).max(initial=0.0)
    scale = np.abs(A).max(initial=0.0)
    if asym > 1e-10 * max(scale, 1e-300):
        raise InputError(f"particles: {what} returned a non-symmetric diffusion tensor "
                         f"(max |D − Dᵀ| = {asym:.3g}); D must be symmetric.")
    try:
        L = np.linalg.cholesky(A)
        # a rank-deficient D can pass Cholesky with a pivot at round-off level, whose square
        # root (~1e-8) would leak noise out of the range of D: use the eigen route then
        piv = np.diagonal(L, axis1=-2, axis2=-1) ** 2
        if np.all(piv > 1e-10 * np.max(np.abs(A), axis=(-2, -1))[..., None]):
            return np.ascontiguousarray(L)
    except np.linalg.LinAlgError:
        pass
    w, V = np.linalg.eigh(0.5 * (A + np.swapaxes(A, -1, -2)))
    wmax = np.max(np.abs(w), axis=-1, keepdims=True)
    if np.any(w < -1e-10 * np.maximum(wmax, 1e-300)):
        raise InputError(f"particles: {what} returned a diffusion tensor with a negative "
                         f"eigenvalue ({w.min():.3g}); D must be positive semi-definite.")
    # eigenvalues at round-off level are zeros: the noise stays in the range of D exactly
    w = np.where(w <= 16 * np.finfo(float).eps * wmax, 0.0, w)
    return np.ascontiguousarray(V * np.sqrt(w)[..., None, :])


def evaluate_drift(model, X, t):
    b = np.asarray(model.coefficients.drift(X, t), dtype=float)
    if b.shape != X.shape:
        b = b.reshape(X.shape) if b.size == X.size else b
        if b.shape != X.shape:
            raise InputError(f"particles: the drift returned shape {b.shape}; expected "
                             f"{X.shape}.")
    if not np.all(np.isfinite(b)):
        i = np.flatnonzero(~np.all(np.isfinite(b), axis=1))[0]
        raise SolverError(f"particles: the drift is not finite at x = {X[i].tolist()} (t = {t:g}); "
                          f"restrict the domain or fix the coefficient.")
    return b


class CompiledSpec:
    """What the compiled kernel needs: jitted functions, the constant noise matrix, the schedule.

    The kernel computes b = −∇U (``gradient`` if given, else central differences of
    ``potential``) or ``drift``, plus α·s(t)·∇D; D(x, t) = s(t)·D(x) — exactly
    model.coefficients.drift/diffusion. :meth:`matches` checks that on sample points.
    """

    def __init__(self, ndim, potential=None, gradient=None, drift=None, diffusion_fn=None,
                 diffusion_const=None, alpha=0.0, schedule=None):
        self.ndim = ndim
        self.potential = potential
        self.gradient = gradient
        self.drift = drift
        self.diffusion_fn = diffusion_fn
        self.diffusion_const = diffusion_const  # (d, d) array or None
        self.alpha = alpha
        self.schedule = schedule  # callable s(t) or None
        self.polynomial = None    # U′ coefficients (ascending) for the cached 1D kernel

    def s(self, t):
        return 1.0 if self.schedule is None else float(self.schedule(t))

    def schedule_values(self, t0, h, m):
        """s(t₀ + k h) for the m steps of a kernel call (left end points: Itô)."""
        if self.schedule is None:
            return np.ones(m)
        return np.array([float(self.schedule(t0 + k * h)) for k in range(m)])

    def noise_matrix(self, dt):
        """Constant factor Lc (d, d), Lc Lcᵀ = 2 D dt (zeros when D is jitted)."""
        if self.diffusion_const is None:
            return np.zeros((self.ndim, self.ndim))
        return matrix_sqrt(2.0 * dt * self.diffusion_const[None])[0]

    # numpy evaluation of what the kernel computes, to check it against the model
    def _cols(self, X):
        return [np.ascontiguousarray(X[:, a]) for a in range(self.ndim)]

    def drift_numpy(self, X, t):
        cols = self._cols(X)
        if self.gradient is not None:
            g = _numpy_side(self.gradient)(*cols)
            g = [g] if self.ndim == 1 else list(g)
            b = -np.stack([np.broadcast_to(np.asarray(v, float), cols[0].shape) for v in g], -1)
        elif self.potential is not None:
            b = -_fd_gradient(_numpy_side(self.potential), cols)
        elif self.drift is not None:
            v = _numpy_side(self.drift)(*cols)
            v = [v] if self.ndim == 1 else list(v)
            b = np.stack([np.broadcast_to(np.asarray(c, float), cols[0].shape) for c in v], -1)
        else:
            b = np.zeros_like(X)
        if self.diffusion_fn is not None and self.alpha != 0.0:
            b = b + self.alpha * self.s(t) * _fd_gradient(_numpy_side(self.diffusion_fn), cols)
        return b

    def diffusion_numpy(self, X, t):
        if self.diffusion_const is not None:
            D = self.diffusion_const
            if np.allclose(D, D[0, 0] * np.eye(self.ndim), rtol=0, atol=0):
                return np.full(len(X), self.s(t) * D[0, 0])
            return self.s(t) * D
        D = _numpy_side(self.diffusion_fn)(*self._cols(X))
        return self.s(t) * np.broadcast_to(np.asarray(D, float), (len(X),))

    def matches(self, model, X, times):
        """Whether the kernel's coefficients equal model.coefficients.drift/diffusion on X at times."""
        try:
            for t in times:
                b = np.asarray(model.coefficients.drift(X, t), dtype=float).reshape(X.shape)
                # central differences (model) against an exact gradient: ~1e-10 apart
                if not np.all(np.abs(self.drift_numpy(X, t) - b) <= 1e-7 * (1.0 + np.abs(b))):
                    return False
                D = _as_tensor(model.coefficients.diffusion(X, t), len(X), self.ndim)
                Dk = _as_tensor(self.diffusion_numpy(X, t), len(X), self.ndim)
                if not np.allclose(Dk, D, rtol=1e-12, atol=0):
                    return False
        except Exception:
            return False
        return True


def _as_tensor(D, n, d):
    """Any accepted diffusion shape as a stack of matrices (n, d, d)."""
    D = np.asarray(D, dtype=float)
    if D.ndim == 0 or D.shape == (n,):
        return np.broadcast_to(D, (n,))[:, None, None] * np.eye(d)
    return np.broadcast_to(D, (n, d, d))


def _fd_gradient(f, cols):
    """Central differences with the step of fpsolve.coefficients.pointwise and of the kernels."""
    out = []
    for a in range(len(cols)):
        step = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(cols[a]))
        up, dn = list(cols), list(cols)
        up[a] = cols[a] + step
        dn[a] = cols[a] - step
        out.append((np.asarray(f(*up), float) - np.asarray(f(*dn), float)) / (up[a] - dn[a]))
    return np.stack([np.broadcast_to(o, cols[0].shape) for o in out], axis=-1)


def _jitted(f):
    return isinstance(f, CPUDispatcher)


def _numpy_side(f):
    """The original Python function of a coefficient compiled by :func:`auto_jit` (to evaluate
    it on arrays without compiling an array version too); any other function as it is."""
    for jf, _ in _AUTO.values():
        if jf is f:
            return f.py_func
    return f


def _plain_function(f):
    """A Python function or lambda (what ``numba.njit`` can compile), not a class instance, a
    builtin or a numpy ufunc."""
    import types

    return isinstance(f, types.FunctionType)


#: plain Python coefficients compiled so far: function → (jitted function or None, reason)
_AUTO = {}
_AUTO_KEEP = 64
#: relative agreement required between the compiled function on scalars and the original on
#: numpy arrays: both evaluate the same expression in double precision, but numpy's vectorised
#: transcendental functions (SIMD) and LLVM's scalar ones may differ in the last bits
AUTO_RTOL = 1e-12


def sample_points(grid, m=5):
    """A deterministic m^d lattice of points inside the grid's box (sample points for checks)."""
    axes = [np.linspace(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo), m)
            for lo, hi in grid.bounds]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([c.ravel() for c in mesh], axis=-1)


def auto_jit(f, ndim, what, points, vector=False):
    """(``numba.njit(f)``, "") when that compiles for float arguments and equals ``f`` evaluated
    with numpy arrays at ``points`` (shape (m, ndim)); (None, why not) otherwise.

    ``vector``: f returns one value per axis (a drift or a gradient: a float in 1D, a tuple of
    ndim floats else); otherwise a float. A result is never used unchecked: a function that
    means something else on scalars than on arrays (``np.where``, array methods, Python
    branches on whole arrays) is refused with the reason, and the caller falls back to numpy.
    """
    if _jitted(f):
        return f, ""
    try:
        hit = _AUTO.get(f)
    except TypeError:  # unhashable callable object
        return None, f"the {what} is not a plain function"
    if hit is not None:
        return hit
    import numba

    cols = [np.ascontiguousarray(points[:, a]) for a in range(ndim)]
    try:
        jf = numba.njit(f)
        vals = [jf(*(float(c) for c in p)) for p in points]
    except Exception as exc:  # Numba's typing errors are long: keep the first line
        msg = str(exc).strip().splitlines()
        out = (None, f"numba.njit could not compile the {what} ({type(exc).__name__}: "
                     f"{msg[0][:160] if msg else ''})")
    else:
        out = _compare(f, jf, vals, cols, ndim, what, vector)
    if len(_AUTO) >= _AUTO_KEEP:
        _AUTO.pop(next(iter(_AUTO)))
    _AUTO[f] = out
    return out


def _compare(f, jf, vals, cols, ndim, what, vector):
    """Check scalar results of the compiled function against f on arrays."""
    width = ndim if vector else 1
    try:
        got = np.empty((len(vals), width))
        wanted = f"a tuple of {width} floats" if width > 1 else "a float"
        for i, v0 in enumerate(vals):
            v = (v0,) if (width == 1 and not isinstance(v0, tuple)) else v0
            if not isinstance(v, tuple) or len(v) != width or not all(
                    isinstance(c, (float, int)) for c in v):
                return None, (f"compiled, the {what} returns {type(v0).__name__} for float "
                              f"arguments, not {wanted}")
            got[i] = v
        ref = f(*cols)
        ref = [ref] if width == 1 or (ndim == 1 and not isinstance(ref, (list, tuple))) else ref
        ref = np.stack([np.broadcast_to(np.asarray(r, dtype=float), cols[0].shape)
                        for r in ref], axis=-1)
    except Exception as exc:
        return None, f"the {what} could not be checked on sample points ({exc})"
    ok = np.abs(got - ref) <= AUTO_RTOL * (1.0 + np.abs(ref))
    if not np.all(ok | (np.isnan(got) & np.isnan(ref))):
        i = int(np.argwhere(~ok)[0][0])
        return None, (f"compiled, the {what} gives {got[i].tolist()} at "
                      f"x = {[float(c[i]) for c in cols]} where numpy gives {ref[i].tolist()}")
    return jf, ""


def compiled_spec(model, auto=True):
    """(CompiledSpec, "") when the model's coefficients can be compiled, else (None, reason).

    ``auto``: plain Python coefficients (numpy expressions) are compiled with ``numba.njit``
    and checked against numpy on sample points (:func:`auto_jit`); otherwise only functions
    the user decorated with ``@njit`` are compiled.
    """
    ndim = model.grid.ndim
    c = model.coefficients  # the user's callables, as given (fpsolve.coefficients)
    if c.time_dependent:
        return None, "the potential or the drift depends on time"
    user_grad, pot, drift, diff = c.user.gradient, c.user.potential, c.user.drift, c.user.diffusion
    if auto:
        pts = sample_points(model.grid)
        for name, vector in (("grad", True), ("potential", False), ("drift", True),
                             ("diffusion", False)):
            f = {"grad": user_grad, "potential": pot, "drift": drift, "diffusion": diff}[name]
            if f is None or _jitted(f) or not callable(f) or not _plain_function(f):
                continue
            jf, why = auto_jit(f, ndim, name, pts, vector=vector)
            if jf is None:
                return None, why
            if name == "grad":
                user_grad = jf
            elif name == "potential":
                pot = jf
            elif name == "drift":
                drift = jf
            else:
                diff = jf
    alpha, schedule = float(c.alpha), c.schedule
    if user_grad is not None:
        if not _jitted(user_grad):
            return None, "the gradient is not a Numba @njit function"
        grad, pot = user_grad, None
    else:
        if pot is not None and not _jitted(pot):
            return None, "the potential is not a Numba @njit function"
        grad = getattr(pot, "gradient", None) if pot is not None else None
        if grad is not None and not _jitted(grad):
            grad = None
    if drift is not None and not _jitted(drift) and grad is None and pot is None:
        return None, "the drift is not a Numba @njit function"
    if grad is not None or pot is not None:
        drift = None  # the pointwise drift uses the gradient (or potential) first
    spec = CompiledSpec(ndim, potential=pot if grad is None else None, gradient=grad,
                        drift=drift, alpha=alpha, schedule=schedule)
    if isinstance(diff, numbers.Number) and not isinstance(diff, bool):
        spec.diffusion_const = float(diff) * np.eye(ndim)
    elif _jitted(diff):
        spec.diffusion_fn = diff
    elif diff is not None and np.shape(diff) == (ndim, ndim) and not callable(diff):
        spec.diffusion_const = np.asarray(diff, dtype=float)
    else:
        return None, "the diffusion is neither a number, a constant d×d matrix nor @njit"
    coeffs = getattr(pot, "coefficients", None) if user_grad is None and pot is not None else None
    if (ndim == 1 and coeffs is not None and spec.diffusion_const is not None
            and getattr(pot, "gradient", None) is not None):
        c = np.asarray(coeffs, dtype=float).ravel()
        spec.polynomial = np.ascontiguousarray(c[1:] * np.arange(1, c.size)) if c.size > 1 \
            else np.zeros(1)
    return spec, ""
