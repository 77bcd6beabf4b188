"""Numba kernels: BAOAB steps of underdamped Langevin particles, and heavy-ball chains.

BAOAB (Leimkuhler & Matthews, *Molecular Dynamics*, 2015, §7.3) for
dX = V dt, dV = −γV dt + F(X) dt + sqrt(2γT) dW, one step of size h:

    B: V += (h/2) F(X)     A: X += (h/2) V     O: V = e^(−γh) V + sqrt((1 − e^(−2γh)) T(X)) ξ
    A: X += (h/2) V        B: V += (h/2) F(X)  (F at the new X is kept for the next step)

The O-step is the exact Ornstein–Uhlenbeck flow at frozen X (so T(X) is sampled in the Itô
sense, the only sense there is: X has no noise of its own). Weak order 2; one force and one
normal draw per dimension per step. Every kernel runs over chunks of ``chunk`` particles in
parallel, one random stream per chunk (``fpsolve/particles/rng.py``), so results depend on the
seed and chunk size only, not on the thread count. Status per particle: 0 running, 1 reached the
target (the first step whose end point lies in it; X is C¹, so the monitoring error is O(h)).
"""
from __future__ import annotations

import math

import numpy as np
from numba import prange

from ..jit import njit
from ..particles.rng import load, normal4, store, xoshiro

RUNNING, HIT = 0, 1


@njit(cache=True, inline="always")
def _poly(c, x):
    r = c[c.shape[0] - 1]
    for j in range(c.shape[0] - 2, -1, -1):
        r = r * x + c[j]
    return r


@njit(cache=True, inline="always")
def _table(x, t0, tdx, tab):
    """Linear interpolation of a table on the uniform nodes t0 + k·tdx (constant beyond)."""
    n = tab.shape[0]
    if n == 1:
        return tab[0]
    s = (x - t0) / tdx
    if s <= 0.0:
        return tab[0]
    if s >= n - 1:
        return tab[n - 1]
    k = int(s)
    w = s - k
    return (1.0 - w) * tab[k] + w * tab[k + 1]


@njit(parallel=True, cache=True)
def baoab_poly_1d(X, V, F, status, hit, k0, nsteps, h, c1, states, chunk, dcoef, t0, tdx, ttab,
                  tlo, thi):
    """``nsteps`` BAOAB steps in 1D with F = −U′, U′ = Σ dcoef[j] x^j, T(x) from a table.

    X, V, F (n,) in place; F must hold −U′(X) on entry. Target: tlo ≤ X ≤ thi (empty if tlo >
    thi); hit[i] gets the step number (k0 + k + 1) at which particle i entered it.
    """
    n = X.shape[0]
    nch = (n + chunk - 1) // chunk
    s2 = math.sqrt(1.0 - c1 * c1)
    hh = 0.5 * h
    for c in prange(nch):
        s0, s1, s2_, s3 = load(states, c)
        start = c * chunk
        stop = min(n, start + chunk)
        for k in range(nsteps):
            for i in range(start, stop):
                if status[i] != RUNNING:
                    continue
                v = V[i] + hh * F[i]
                x = X[i] + hh * v
                z, s0, s1, s2_, s3 = normal4(s0, s1, s2_, s3)
                v = c1 * v + s2 * math.sqrt(_table(x, t0, tdx, ttab)) * z
                x = x + hh * v
                f = -_poly(dcoef, x)
                V[i] = v + hh * f
                X[i] = x
                F[i] = f
                if tlo <= x <= thi:
                    status[i] = HIT
                    hit[i] = k0 + k + 1
        store(states, c, s0, s1, s2_, s3)


@njit(parallel=True, cache=True)
def heavy_ball_poly_1d(TH, VV, status, hit, k0, nsteps, lr, beta, dcoef, data, batch, states,
                       chunk, tlo, thi):
    """``nsteps`` heavy-ball iterations v ← βv − η(U′(θ) + mean of ``batch`` draws of ``data``),
    θ ← θ + v (indices uniform with replacement), U′ = Σ dcoef[j] θ^j; 1D. Target as above."""
    n = TH.shape[0]
    N = np.uint64(data.shape[0])
    nch = (n + chunk - 1) // chunk
    inv_b = 1.0 / batch
    for c in prange(nch):
        s0, s1, s2, s3 = load(states, c)
        start = c * chunk
        stop = min(n, start + chunk)
        for k in range(nsteps):
            for i in range(start, stop):
                if status[i] != RUNNING:
                    continue
                th = TH[i]
                acc = 0.0
                for b in range(batch):
                    r, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                    # multiply-shift: a uniform index in [0, N) from the high 32 bits
                    idx = ((r >> np.uint64(32)) * N) >> np.uint64(32)
                    acc += data[idx]
                g = _poly(dcoef, th) + acc * inv_b
                v = beta * VV[i] - lr * g
                th = th + v
                VV[i] = v
                TH[i] = th
                if tlo <= th <= thi:
                    status[i] = HIT
                    hit[i] = k0 + k + 1
        store(states, c, s0, s1, s2, s3)


_MEMO = {}


def compiled_kernel(dim, gradient, temperature_fn=None):
    """BAOAB kernel in ``dim`` dimensions with a jitted ``gradient(x, out)`` (writes ∇U(x) into
    out) and optionally a jitted scalar ``temperature_fn(x)`` compiled in (memoised per process;
    not cacheable on disk since it closes over the user's functions).

    Signature: ``kernel(X, V, F, status, hit, k0, nsteps, h, c1, states, chunk, Lc, tlo, thi)``:
    X, V, F (n, dim); Lc (dim, dim) with Lc Lcᵀ = T (used when there is no temperature_fn);
    target box tlo ≤ X ≤ thi componentwise (tlo > thi somewhere: no target).
    """
    key = (dim, gradient, temperature_fn)
    if key in _MEMO:
        return _MEMO[key]
    has_t = temperature_fn is not None
    tfn = temperature_fn if has_t else njit(lambda x: 1.0)

    @njit
    def chunk_steps(X, V, F, status, hit, k0, nsteps, h, c1, states, c, start, stop, Lc, tlo,
                    thi):
        s0, s1, s2, s3 = load(states, c)
        sq = math.sqrt(1.0 - c1 * c1)
        hh = 0.5 * h
        z = np.empty(dim)
        g = np.empty(dim)
        for k in range(nsteps):
            for i in range(start, stop):
                if status[i] != RUNNING:
                    continue
                for a in range(dim):
                    V[i, a] += hh * F[i, a]
                    X[i, a] += hh * V[i, a]
                for a in range(dim):
                    z[a], s0, s1, s2, s3 = normal4(s0, s1, s2, s3)
                if has_t:
                    amp = sq * math.sqrt(tfn(X[i]))
                    for a in range(dim):
                        V[i, a] = c1 * V[i, a] + amp * z[a]
                else:
                    for a in range(dim):
                        e = 0.0
                        for q in range(a + 1):
                            e += Lc[a, q] * z[q]
                        V[i, a] = c1 * V[i, a] + sq * e
                inside = True
                for a in range(dim):
                    X[i, a] += hh * V[i, a]
                    inside = inside and tlo[a] <= X[i, a] <= thi[a]
                gradient(X[i], g)
                for a in range(dim):
                    F[i, a] = -g[a]
                    V[i, a] += hh * F[i, a]
                if inside:
                    status[i] = HIT
                    hit[i] = k0 + k + 1
        store(states, c, s0, s1, s2, s3)

    @njit(parallel=True)
    def kernel(X, V, F, status, hit, k0, nsteps, h, c1, states, chunk, Lc, tlo, thi):
        n = X.shape[0]
        nch = (n + chunk - 1) // chunk
        for c in prange(nch):
            chunk_steps(X, V, F, status, hit, k0, nsteps, h, c1, states, c, c * chunk,
                        min(n, (c + 1) * chunk), Lc, tlo, thi)

    _MEMO[key] = kernel
    return kernel
