"""Stationary state, spectrum, time evolution and marginals of a
:class:`~fpsolve.kinetic.model.Langevin` model.

Every question is answered from the sparse generator L of :mod:`fpsolve.kinetic.scheme`; linear
systems are factorised by :class:`fpsolve.kinetic.linalg.GridLU` (nested dissection + SuperLU).
"""
from __future__ import annotations

import warnings

import contextlib

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

try:  # optional: limits BLAS threads around ARPACK (see eigenvalues)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

from ..errors import InputError, SolverError
from ..fields.field import Density, Field
from ..geometry.grid import Grid
from ..models import Evolution
from .linalg import GridLU

STATIONARY_METHODS = ("auto", "gibbs", "solve")
STEPPERS = ("tr-bdf2", "backward-euler")


# -- stationary state ------------------------------------------------------------------------------
def residual(L, p) -> float:
    """‖L p‖₁ / (max_k |L_kk| ‖p‖₁): dp/dt relative to the fastest rate (0 for a stationary p)."""
    p = np.ravel(p)
    scale = np.max(np.abs(L.diagonal())) * np.sum(np.abs(p))
    return float(np.sum(np.abs(L @ p)) / scale) if scale > 0 else 0.0


def position_log_weight(model) -> np.ndarray:
    """log of the x-marginal of :func:`scaling_log_density` (nx,), max 0: exp(−U/T) for
    constant T, the overdamped Itô law T⁻¹ exp(−Σ ΔU/T_f) otherwise."""
    U, T = model.U_cells, model.T_cells
    if model.constant_T:
        w = -U / T[0]
    else:
        a, b = T[:-1], T[1:]
        same = a == b
        Tf = a.copy()   # logarithmic mean at the faces
        Tf[~same] = (b[~same] - a[~same]) / np.log(b[~same] / a[~same])
        w = -np.log(T) - np.concatenate([[0.0], np.cumsum(np.diff(U) / Tf)])
    return w - w.max()


def scaling_log_density(model) -> np.ndarray:
    """A log-density close to the stationary one, to scale solves by (nx, nv).

    Constant T: the Gibbs state itself. T(x): the local equilibrium of the high-friction limit,
    log p = −log T(x) − Σ ΔU/T_f (the overdamped Itô state with D = T/γ, T_f the logarithmic mean
    at the faces) plus the Maxwellian −v²/(2T(x)) − ½ log T(x).
    """
    if model.constant_T:
        return model.scheme.log_reference
    T = model.T_cells
    v = model.grid.axes[1]
    logp = (position_log_weight(model) - 0.5 * np.log(T))[:, None] \
        - v[None, :] ** 2 / (2 * T[:, None])
    return logp - logp.max()


def stationary(model, method="auto") -> Density:
    """The stationary density of ``model`` on its phase-space grid.

    method : "auto" — the discrete Gibbs state exp(−(U + v²/2)/T) for constant T (exactly
        stationary for both schemes: O(N), no solve), a linear solve when T depends on x;
        "gibbs" (constant T only); "solve" — the null vector of L by a sparse LU, rescaled by
        :func:`scaling_log_density` (E⁻¹LE with E = diag e^ψ, most probable cell pinned, a second
        pass rescaled by the first answer), in log space.

    ``info``: method, relative residual ‖Lp‖/(max rate ‖p‖), m_matrix, and for a solve the
    backward error. With T(x) and scheme "central", a solve that comes out with non-positive
    cells raises :class:`SolverError` (no positivity guarantee; use scheme="upwind" or refine).
    """
    if method not in STATIONARY_METHODS:
        raise InputError(f"stationary: method {method!r} is unknown; choose one of "
                         f"{STATIONARY_METHODS}.")
    if method == "gibbs" and not model.constant_T:
        raise InputError("stationary(method='gibbs'): T depends on x, so the Gibbs state is not "
                         "stationary; use method='auto' or 'solve'.")
    model.check_x_walls()
    L = model.generator()
    if method == "gibbs" or (method == "auto" and model.constant_T):
        logp = model.scheme.log_reference
        info = {"method": "discrete Gibbs state (closed form)"}
    else:
        key = "stationary_log"
        if key not in model._cache:
            model._cache[key] = _solve_null(model, L)
        logp, info = model._cache[key]
        info = dict(info)
    info["residual"] = residual(L, np.exp(logp - logp.max()))
    info["m_matrix"] = model.is_m_matrix
    return Density.from_log(model.grid, logp, info)


def _solve_null(model, L):
    psi = scaling_log_density(model).ravel()
    shape = model.grid.shape
    err, final = 0.0, False
    L = sp.csr_matrix(L)
    rows = np.repeat(np.arange(L.shape[0]), np.diff(L.indptr))
    while True:
        # M = E⁻¹ L E, E = diag e^ψ, entry by entry in log form (nothing under- or overflows);
        # the most probable cell's row is replaced by e_jᵀ (pinned to 1)
        j = int(np.argmax(psi))
        data = L.data * np.exp(psi[L.indices] - psi[rows])
        data[rows == j] = np.where(L.indices[rows == j] == j, 1.0, 0.0)
        M = sp.csr_matrix((data, L.indices, L.indptr), shape=L.shape)
        rhs = np.zeros(M.shape[0])
        rhs[j] = 1.0
        # componentwise refinement: each cell to its own relative accuracy, however far the
        # guess ψ was from the answer (a second LU, rescaled by the first answer, only when some
        # cell still came out non-positive: 3.3 → 1.8 s at 512², measured)
        r, err = GridLU(M, shape).solve(rhs, componentwise=True)
        if np.any(r <= 0) and final:
            bad = int(np.sum(r <= 0))
            raise SolverError(
                f"stationary: {bad} cells came out non-positive (min {r.min():.3g} relative to the "
                f"most probable cell) with scheme {model.scheme_name!r}, which does not preserve "
                f"positivity. Use scheme='upwind' (M-matrix) or refine the grid.")
        # where r came out ≤ 0 it sits at its round-off floor and may carry the wrong sign;
        # |r| is still the right scale for the second pass, which then resolves those cells
        step = np.log(np.maximum(np.abs(r), 1e-300))
        psi = psi + step
        if final or np.all(r > 0):
            break
        final = True
    return psi.reshape(shape), {"method": "null vector by sparse LU (nested dissection)",
                                "backward_error": err}


# -- marginals -------------------------------------------------------------------------------------
def as_density(model, p) -> Density:
    """A Density on the model's grid from a Density, an array (nx, nv) or a callable f(x, v)."""
    g = model.grid
    if isinstance(p, Density):
        if p.grid != g:
            raise InputError("the density lives on a different grid than the model.")
        return p
    if callable(p):
        try:
            vals = np.asarray(p(*g.coords), dtype=float)
        except Exception as exc:
            raise InputError(f"initial density: calling it as f(x, v) on the phase-space grid "
                             f"failed with {type(exc).__name__}: {exc}.") from exc
        vals = np.broadcast_to(vals, g.shape).copy()
        return Density(g, vals)
    return Density(g, p)


def marginal(model, p, over="v") -> Density:
    """Marginal density of a phase-space density: ``over="v"`` integrates v out (density of X
    on ``model.x_grid``), ``over="x"`` integrates x out (density of V)."""
    vals = p.values if isinstance(p, Field) else model.grid.check_array(p, "marginal")
    g = model.grid
    if over == "v":
        return Density(model.x_grid, vals.sum(axis=1) * g.h[1])
    if over == "x":
        return Density(Grid([tuple(g.bounds[1])], g.shape[1]), vals.sum(axis=0) * g.h[0])
    raise InputError(f"marginal: over must be 'v' or 'x'; got {over!r}.")


# -- spectrum --------------------------------------------------------------------------------------
def eigenvalues(model, k=6, n_search=None) -> np.ndarray:
    """The k eigenvalues of −L with the smallest real part (relaxation rates, 1/time).

    Shift-invert Arnoldi (ARPACK, ``scipy.sparse.linalg.eigs``) around σ = −1e-8·(largest
    rate), on the similar matrix Π^(−½)(−L)Π^(½) with Π the scaling density (the Gibbs state for
    constant T), so that the unknowns are balanced however small π gets. It finds the
    ``n_search`` (default k + 2) eigenvalues nearest 0 in modulus and returns the k with the
    smallest real part: in the underdamped regime a pair with a small real part but an
    imaginary part larger than those is missed (kinetic OU at γ = ω/2: the pair 2μ₋ = γ ± 2iω̃
    lies beyond 2μ₊ + μ₋ in modulus) — raise ``n_search`` to look further. ARPACK tolerance
    1e-10 (relative, on the shift-inverted eigenvalues).
    λ₀ = 0 (conservation) is returned exactly when it is round-off. The list is cut after the
    k-th value: where that is one member of a complex pair, its conjugate is left out (ask for
    k + 1 to have both).

    With constant T every eigenvalue has Re λ ≥ 0 for both schemes (the transport is
    skew-adjoint or dissipative in Σ p²/π); complex pairs λ = a ± ib are the damped
    oscillations of the underdamped regime.
    """
    n = model.grid.size
    if not isinstance(k, (int, np.integer)) or k < 1:
        raise InputError(f"eigenvalues: k must be a positive integer; got {k!r}.")
    m = int(n_search) if n_search is not None else k + 2
    m = min(max(m, k), n - 2)
    if k > m:
        raise InputError(f"eigenvalues: k={k} is too large for {n} unknowns.")
    model.check_x_walls()
    psi = scaling_log_density(model).ravel()
    half = 0.5 * (psi - psi.max())
    A = (sp.diags(np.exp(-half)) @ (-model.generator()) @ sp.diags(np.exp(half))).tocsr()
    scale = float(np.max(np.abs(A.diagonal())))
    sigma = -1e-8 * scale
    lu = GridLU(A - sigma * sp.identity(n, format="csr"), model.grid.shape)
    op = spla.LinearOperator((n, n), matvec=lambda b: lu.solve(b)[0], dtype=float)
    # ARPACK's orthogonalisations are small BLAS calls; OpenBLAS threads spinning on a shared
    # machine doubled their cost (512²: 4.8 → 2.1 s CPU with one thread, measured)
    with (threadpool_limits(1, user_api="blas") if threadpool_limits is not None
          else contextlib.nullcontext()):
        vals = spla.eigs(A, k=m, sigma=sigma, which="LM", OPinv=op, v0=np.exp(half),
                         return_eigenvectors=False, tol=1e-10)
    vals = vals[np.argsort(vals.real, kind="stable")][:k]
    if np.max(np.abs(vals.imag)) <= 1e-10 * scale:
        vals = vals.real.copy()
    eps = np.finfo(float).eps
    if abs(vals[0]) <= 1e3 * eps * scale:
        vals[0] = 0.0
    tiny = np.abs(vals[1:])
    if tiny.size and tiny.min() < 1e4 * eps * scale:
        warnings.warn(f"eigenvalues: λ = {tiny.min():.3g} is within 1e4·ε of the largest rate "
                      f"({scale:.3g}): not resolved by the eigensolver. For escape behind high "
                      f"barriers use mean_first_passage_time or escape_rate.", RuntimeWarning,
                      stacklevel=3)
    return vals


# -- time evolution --------------------------------------------------------------------------------
def evolve(model, p0, times, scheme="tr-bdf2", dt=None) -> Evolution:
    """Evolve a density to the output ``times`` (t ≥ 0, from t = 0).

    scheme : "tr-bdf2" (second order, L-stable; default) or "backward-euler" (first order; with
        the "upwind" scheme it keeps densities non-negative). One sparse LU serves every step (for
        TR-BDF2 with γ = 2 − √2 both stages have the same matrix I − (1 − 1/√2)Δt L).
    dt : step; default (last time)/200. Each output interval is split into equal steps so that
        every output time is hit exactly. Mass is conserved to round-off (columns of L sum to
        zero); ``min_value`` of the result says whether a density dipped below zero (possible
        with scheme "central", which preserves the χ² norm's decay but not positivity).
    """
    if scheme not in STEPPERS:
        raise InputError(f"evolve: scheme {scheme!r} is unknown; choose one of {STEPPERS}.")
    model.check_x_walls()
    p = as_density(model, p0).values.ravel().copy()
    t = np.atleast_1d(np.asarray(times, dtype=float))
    if t.ndim != 1 or t.size == 0 or not np.all(np.isfinite(t)) or np.any(t < 0) \
            or np.any(np.diff(t) < 0):
        raise InputError(f"evolve: times must be finite, non-negative and non-decreasing; got "
                         f"{times!r}.")
    if dt is None:
        dt = t[-1] / 200.0 if t[-1] > 0 else 1.0
    if not (np.isfinite(dt) and dt > 0):
        raise InputError(f"evolve: dt must be positive; got {dt!r}.")
    L = model.generator()
    n = L.shape[0]
    I = sp.identity(n, format="csr")
    factors = {}

    def lu_for(h):
        key = round(h / dt, 12)
        if key not in factors:
            c = (1 - 1 / np.sqrt(2)) * h if scheme == "tr-bdf2" else h
            factors[key] = (GridLU(I - c * L, model.grid.shape), c)
        return factors[key]

    states, steps, now = [], 0, 0.0
    g2 = 2 - np.sqrt(2)
    for target in t:
        span = target - now
        nsteps = int(np.ceil(span / dt - 1e-9)) if span > 0 else 0
        if nsteps:
            h = span / nsteps
            lu, c = lu_for(h)
            for _ in range(nsteps):
                if scheme == "backward-euler":
                    p, _ = lu.solve(p)
                else:
                    mid, _ = lu.solve(p + c * (L @ p))           # trapezoid to t + γh
                    rhs = (mid - (1 - g2) ** 2 * p) / (g2 * (2 - g2))
                    p, _ = lu.solve(rhs)                          # BDF2 to t + h
                steps += 1
        states.append(p.copy())
        now = target
    return Evolution.from_states(model.grid, t, states, method="implicit", scheme=scheme,
                                 steps=steps, factorisations=len(factors), dt=float(dt))
