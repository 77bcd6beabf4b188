"""Numba Euler–Maruyama kernels, parallel over chunks of particles.

Two kinds, both advancing ``X`` (n, d) in place and writing a status per particle
(0 alive, 1 hit the target, 2 absorbed by a wall):

* :func:`em_step_scalar` / :func:`em_step_tensor` — one step with the drift and noise factor
  already evaluated (by numpy, once per step over all particles). Used when the model's
  coefficients are ordinary Python callables, which must not be called per particle. Cached.
* :func:`compiled_kernel` — a factory that compiles Numba-jitted coefficients (the model's
  ``potential``/``drift``/``diffusion`` when they are ``@njit`` functions) into a multi-step
  kernel: particles stay in registers/L1, and the inner loop runs over the particles of a chunk
  so that independent particles overlap in the pipeline. Not cacheable (it closes over the
  user's functions), so it is compiled once per process and memoised.

One random stream (:mod:`.rng`) per chunk of ``chunk`` particles: results depend on the seed and
the chunk size, not on the thread count. The stream state is loaded into four registers per chunk
and stored back at the end (see :func:`.rng.normal4`).

The cached kernels inline ``particles/rng.py`` and ``particles/domain.py``; :mod:`fpsolve.jit` keeps one cache
folder per state of the package's source, so an edit there recompiles them.
"""
from __future__ import annotations

import math

import numpy as np
from numba import prange

from ..jit import njit
from .domain import ALIVE, HIT_TARGET, HIT_WALL, apply_wall
from .rng import load, normal4, store

# step of the central difference, as in fpsolve.coefficients.pointwise (ε^(1/3) · max(1, |x|))
FD_STEP = float(np.cbrt(np.finfo(float).eps))


# One body per step kind, for one chunk of particles (its own random stream); the parallel
# kernel runs the chunks under prange, the serial one (few particles, where a parallel launch
# costs more than it saves) in a plain loop: the same source, compiled twice.
@njit(cache=True, inline="always")
def _scalar_chunk(X, b, amp, dt, states, c, chunk, lo, hi, kinds, box, status):
    n, d = X.shape
    s0, s1, s2, s3 = load(states, c)
    for i in range(c * chunk, min(n, (c + 1) * chunk)):
        if status[i] != ALIVE:
            continue
        dead = False
        inbox = True
        for a in range(d):
            z, s0, s1, s2, s3 = normal4(s0, s1, s2, s3)
            x = X[i, a] + b[i, a] * dt + amp[i] * z
            x, absorbed = apply_wall(x, lo[a], hi[a], kinds[a])
            dead = dead or absorbed
            X[i, a] = x
            inbox = inbox and box[a, 0] <= x <= box[a, 1]
        if dead:
            status[i] = HIT_WALL
        elif inbox:
            status[i] = HIT_TARGET
    store(states, c, s0, s1, s2, s3)


@njit(cache=True, inline="always")
def _tensor_chunk(X, b, L, dt, states, c, chunk, lo, hi, kinds, box, status):
    n, d = X.shape
    per_particle = L.shape[0] > 1
    s0, s1, s2, s3 = load(states, c)
    xi = np.empty(d)
    for i in range(c * chunk, min(n, (c + 1) * chunk)):
        if status[i] != ALIVE:
            continue
        li = i if per_particle else 0
        for a in range(d):
            xi[a], s0, s1, s2, s3 = normal4(s0, s1, s2, s3)
        dead = False
        inbox = True
        for a in range(d):
            e = 0.0
            for q in range(d):  # L: Cholesky factor, or a square root when D is singular
                e += L[li, a, q] * xi[q]
            x = X[i, a] + b[i, a] * dt + e
            x, absorbed = apply_wall(x, lo[a], hi[a], kinds[a])
            dead = dead or absorbed
            X[i, a] = x
            inbox = inbox and box[a, 0] <= x <= box[a, 1]
        if dead:
            status[i] = HIT_WALL
        elif inbox:
            status[i] = HIT_TARGET
    store(states, c, s0, s1, s2, s3)


@njit(parallel=True, cache=True)
def em_step_scalar(X, b, amp, dt, states, chunk, lo, hi, kinds, box, status):
    """X ← X + b dt + amp ξ (amp = sqrt(2 D dt) per particle, shape (n,)), walls, target."""
    for c in prange((X.shape[0] + chunk - 1) // chunk):
        _scalar_chunk(X, b, amp, dt, states, c, chunk, lo, hi, kinds, box, status)


@njit(cache=True)
def em_step_scalar_serial(X, b, amp, dt, states, chunk, lo, hi, kinds, box, status):
    """em_step_scalar without threads (the same body)."""
    for c in range((X.shape[0] + chunk - 1) // chunk):
        _scalar_chunk(X, b, amp, dt, states, c, chunk, lo, hi, kinds, box, status)


@njit(parallel=True, cache=True)
def em_step_tensor(X, b, L, dt, states, chunk, lo, hi, kinds, box, status):
    """X ← X + b dt + L ξ with L L^T = 2 D dt; L has shape (n, d, d) or (1, d, d)."""
    for c in prange((X.shape[0] + chunk - 1) // chunk):
        _tensor_chunk(X, b, L, dt, states, c, chunk, lo, hi, kinds, box, status)


@njit(cache=True)
def em_step_tensor_serial(X, b, L, dt, states, chunk, lo, hi, kinds, box, status):
    """em_step_tensor without threads (the same body)."""
    for c in range((X.shape[0] + chunk - 1) // chunk):
        _tensor_chunk(X, b, L, dt, states, c, chunk, lo, hi, kinds, box, status)


# -- built-in polynomial potentials: one cached kernel -----------------------------------------
@njit(parallel=True, cache=True)
def poly_kernel_1d(X, status, hit_step, k0, nsteps, dt, svals, states, chunk, lo, hi, kinds, box,
                   amp, dcoef):
    """Multi-step EM in 1D for U′(x) = Σ dcoef[j] x^j (Horner) and constant D.

    The potentials of :mod:`fpsolve.particles.potentials` are polynomials given by data, so this
    kernel is compiled once and cached on disk (a kernel closing over user functions cannot be).
    amp = sqrt(2 D dt); svals: diffusion schedule per step. Same contract as compiled_kernel.
    """
    n = X.shape[0]
    nch = (n + chunk - 1) // chunk
    deg = dcoef.shape[0] - 1
    lo0 = lo[0]
    hi0 = hi[0]
    kind = kinds[0]
    blo = box[0, 0]
    bhi = box[0, 1]
    for c in prange(nch):
        s0, s1, s2, s3 = load(states, c)
        start = c * chunk
        stop = min(n, start + chunk)
        for k in range(nsteps):
            a = amp * math.sqrt(svals[k])
            alive = 0
            for i in range(start, stop):
                if status[i] != ALIVE:
                    continue
                alive += 1
                x = X[i, 0]
                g = dcoef[deg]
                for j in range(deg - 1, -1, -1):
                    g = g * x + dcoef[j]
                z, s0, s1, s2, s3 = normal4(s0, s1, s2, s3)
                y = x - g * dt + a * z
                y, dead = apply_wall(y, lo0, hi0, kind)
                X[i, 0] = y
                if dead:
                    status[i] = HIT_WALL
                    hit_step[i] = k0 + k + 1
                elif blo <= y <= bhi:
                    status[i] = HIT_TARGET
                    hit_step[i] = k0 + k + 1
            if alive == 0:
                break
        store(states, c, s0, s1, s2, s3)


# -- compiled coefficients ---------------------------------------------------------------------
def _pad3(fn, ndim):
    """fn(x₁…x_d) as a function of three coordinates (the unused ones ignored)."""
    if ndim == 1:
        @njit
        def f3(x0, x1, x2):
            return fn(x0)
    elif ndim == 2:
        @njit
        def f3(x0, x1, x2):
            return fn(x0, x1)
    else:
        @njit
        def f3(x0, x1, x2):
            return fn(x0, x1, x2)
    return f3


def _gradient3(f3, ndim):
    """Central-difference gradient of a compiled scalar function, as fpsolve.coefficients.pointwise."""
    h = FD_STEP

    @njit
    def g3(x0, x1, x2):
        s0 = h * max(1.0, abs(x0))
        g0 = (f3(x0 + s0, x1, x2) - f3(x0 - s0, x1, x2)) / ((x0 + s0) - (x0 - s0))
        g1 = 0.0
        g2 = 0.0
        if ndim >= 2:
            s1 = h * max(1.0, abs(x1))
            g1 = (f3(x0, x1 + s1, x2) - f3(x0, x1 - s1, x2)) / ((x1 + s1) - (x1 - s1))
        if ndim >= 3:
            s2 = h * max(1.0, abs(x2))
            g2 = (f3(x0, x1, x2 + s2) - f3(x0, x1, x2 - s2)) / ((x2 + s2) - (x2 - s2))
        return g0, g1, g2
    return g3


def _vector3(fn, ndim):
    """A compiled vector function (float in 1D, tuple in 2D/3D) as three floats."""
    f3 = _pad3(fn, ndim)
    if ndim == 1:
        @njit
        def v3(x0, x1, x2):
            return f3(x0, x1, x2), 0.0, 0.0
    elif ndim == 2:
        @njit
        def v3(x0, x1, x2):
            r = f3(x0, x1, x2)
            return r[0], r[1], 0.0
    else:
        @njit
        def v3(x0, x1, x2):
            r = f3(x0, x1, x2)
            return r[0], r[1], r[2]
    return v3


def _zero3(x0, x1, x2):
    return 0.0, 0.0, 0.0


def _one3(x0, x1, x2):
    return 1.0


def _false3(x0, x1, x2):
    return False


_MEMO = {}


def compiled_kernel(ndim, potential=None, gradient=None, drift=None, diffusion=None,
                    alpha=0.0, mask=None):
    """Multi-step Euler–Maruyama kernel with the given jitted coefficients compiled in.

    potential : jitted U(x₁…x_d) (drift −∇U by central differences) — or ``gradient``, a jitted
        ∇U returning a float (1D) or tuple; drift : jitted b(x₁…x_d) (float in 1D, tuple else);
    diffusion : jitted scalar D(x₁…x_d), or None for a constant factor passed at call time;
    alpha : convention (drift + α∇D for a jitted D); mask : jitted target(x₁…x_d) → bool.

    The returned kernel has the signature
    ``kernel(X, status, hit_step, k0, nsteps, dt, svals, states, chunk, lo, hi, kinds, box, Lc)``
    with Lc the constant noise factor (d, d), Lc Lcᵀ = 2 D dt (ignored when ``diffusion`` is
    jitted) and svals (nsteps,) the diffusion schedule s(t_k): D(x, t_k) = s(t_k)·D(x);
    hit_step[i] receives the step index (k0 + k + 1) at which particle i stopped.
    """
    key = (ndim, potential, gradient, drift, diffusion, float(alpha), mask)
    if key in _MEMO:
        return _MEMO[key]
    if gradient is not None:
        grad = _vector3(gradient, ndim)

        @njit
        def drift3(x0, x1, x2):
            g0, g1, g2 = grad(x0, x1, x2)
            return -g0, -g1, -g2
    elif potential is not None:
        grad = _gradient3(_pad3(potential, ndim), ndim)

        @njit
        def drift3(x0, x1, x2):
            g0, g1, g2 = grad(x0, x1, x2)
            return -g0, -g1, -g2
    elif drift is not None:
        drift3 = _vector3(drift, ndim)
    else:
        drift3 = njit(_zero3)

    jit_d = diffusion is not None
    D3 = _pad3(diffusion, ndim) if jit_d else njit(_one3)
    use_alpha = jit_d and alpha != 0.0
    dD3 = _gradient3(D3, ndim) if use_alpha else njit(_zero3)
    has_mask = mask is not None
    mask3 = _pad3(mask, ndim) if has_mask else njit(_false3)
    alpha = float(alpha)

    # the body is a serial function of one chunk and the parallel kernel a two-line prange
    # over chunks: Numba compiles a small parfor much faster than one with the body inlined
    @njit
    def chunk_steps(X, status, hit_step, k0, nsteps, dt, svals, states, c, start, stop, lo, hi,
                    kinds, box, Lc):
        s0, s1, s2, s3 = load(states, c)
        for k in range(nsteps):
            sk = svals[k]
            rs = math.sqrt(sk)
            alive = 0
            for i in range(start, stop):
                if status[i] != ALIVE:
                    continue
                alive += 1
                x0 = X[i, 0]
                x1 = X[i, 1] if ndim >= 2 else 0.0
                x2 = X[i, 2] if ndim >= 3 else 0.0
                b0, b1, b2 = drift3(x0, x1, x2)
                if use_alpha:
                    d0, d1, d2 = dD3(x0, x1, x2)
                    b0 += alpha * sk * d0
                    b1 += alpha * sk * d1
                    b2 += alpha * sk * d2
                if jit_d:
                    Dv = sk * D3(x0, x1, x2)
                    if not Dv >= 0.0:
                        status[i] = 3  # bad coefficient: reported by the caller
                        hit_step[i] = k0 + k
                        continue
                    amp = math.sqrt(2.0 * Dv * dt)
                    z0, s0, s1, s2, s3 = normal4(s0, s1, s2, s3)
                    y0 = x0 + b0 * dt + amp * z0
                    y1 = 0.0
                    y2 = 0.0
                    if ndim >= 2:
                        z1, s0, s1, s2, s3 = normal4(s0, s1, s2, s3)
                        y1 = x1 + b1 * dt + amp * z1
                    if ndim >= 3:
                        z2, s0, s1, s2, s3 = normal4(s0, s1, s2, s3)
                        y2 = x2 + b2 * dt + amp * z2
                else:
                    z0, s0, s1, s2, s3 = normal4(s0, s1, s2, s3)
                    z0 *= rs
                    z1 = 0.0
                    z2 = 0.0
                    if ndim >= 2:
                        z1, s0, s1, s2, s3 = normal4(s0, s1, s2, s3)
                        z1 *= rs
                    if ndim >= 3:
                        z2, s0, s1, s2, s3 = normal4(s0, s1, s2, s3)
                        z2 *= rs
                    y0 = x0 + b0 * dt + Lc[0, 0] * z0
                    y1 = 0.0
                    y2 = 0.0
                    if ndim >= 2:
                        y0 += Lc[0, 1] * z1
                        y1 = x1 + b1 * dt + Lc[1, 0] * z0 + Lc[1, 1] * z1
                    if ndim >= 3:
                        y0 += Lc[0, 2] * z2
                        y1 += Lc[1, 2] * z2
                        y2 = x2 + b2 * dt + Lc[2, 0] * z0 + Lc[2, 1] * z1 + Lc[2, 2] * z2
                y0, dead = apply_wall(y0, lo[0], hi[0], kinds[0])
                inbox = box[0, 0] <= y0 <= box[0, 1]
                X[i, 0] = y0
                if ndim >= 2:
                    y1, dd = apply_wall(y1, lo[1], hi[1], kinds[1])
                    dead = dead or dd
                    inbox = inbox and box[1, 0] <= y1 <= box[1, 1]
                    X[i, 1] = y1
                if ndim >= 3:
                    y2, dd = apply_wall(y2, lo[2], hi[2], kinds[2])
                    dead = dead or dd
                    inbox = inbox and box[2, 0] <= y2 <= box[2, 1]
                    X[i, 2] = y2
                if has_mask:
                    inbox = mask3(y0, y1, y2)
                if dead:
                    status[i] = HIT_WALL
                    hit_step[i] = k0 + k + 1
                elif inbox:
                    status[i] = HIT_TARGET
                    hit_step[i] = k0 + k + 1
            if alive == 0:
                break
        store(states, c, s0, s1, s2, s3)

    @njit(parallel=True)
    def kernel(X, status, hit_step, k0, nsteps, dt, svals, states, chunk, lo, hi, kinds, box, Lc):
        n = X.shape[0]
        nch = (n + chunk - 1) // chunk
        for c in prange(nch):
            chunk_steps(X, status, hit_step, k0, nsteps, dt, svals, states, c, c * chunk,
                        min(n, (c + 1) * chunk), lo, hi, kinds, box, Lc)

    _MEMO[key] = kernel
    return kernel


__all__ = ["em_step_scalar", "em_step_tensor", "em_step_scalar_serial", "em_step_tensor_serial",
           "compiled_kernel"]
