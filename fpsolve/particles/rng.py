"""Counter-free, reproducible random streams for the Numba kernels.

Each chunk of particles owns one stream: a xoshiro256** state (4 × uint64, Blackman & Vigna
2018) seeded from ``numpy.random.SeedSequence(seed)``, so that results depend on the seed and the
chunk size only — not on the number of threads nor on which thread runs which chunk. Normal
variates come from the Marsaglia–Tsang ziggurat (128 layers, 52-bit mantissa as in numpy's
generator): ≈99% of draws cost one 64-bit draw, a mask and a multiply, which is what makes
≥ 5·10⁷ particle-steps/s per core reachable (numba's own ``np.random.standard_normal`` is a
polar method, ≈ 40 ns per draw here).

Why not numba's ``np.random`` in ``prange``: its per-thread states can only be seeded per thread,
so results would depend on the scheduling of chunks to threads.
"""
from __future__ import annotations

import math

import numpy as np
from ..jit import njit

# -- ziggurat tables (Marsaglia & Tsang 2000, "The ziggurat method", 128 layers) ----------------
_R = 3.442619855899          # start of the tail
_V = 9.91256303526217e-3     # area of each layer
_M = float(2 ** 52)


def _tables():
    k = np.zeros(128, np.uint64)
    w = np.zeros(128)
    f = np.zeros(128)
    dn = tn = _R
    q = _V / math.exp(-0.5 * dn * dn)
    k[0] = np.uint64((dn / q) * _M)
    k[1] = 0
    w[0] = q / _M
    w[127] = dn / _M
    f[0] = 1.0
    f[127] = math.exp(-0.5 * dn * dn)
    for i in range(126, 0, -1):
        dn = math.sqrt(-2.0 * math.log(_V / dn + math.exp(-0.5 * dn * dn)))
        k[i + 1] = np.uint64((dn / tn) * _M)
        tn = dn
        f[i] = math.exp(-0.5 * dn * dn)
        w[i] = dn / _M
    return k, w, f


ZIG_K, ZIG_W, ZIG_F = _tables()
_MASK52 = np.uint64((1 << 52) - 1)


@njit(cache=True)
def _rotl(x, k):
    return (x << np.uint64(k)) | (x >> np.uint64(64 - k))


# The state travels as four uint64 scalars (s0, s1, s2, s3) in and out of every call: kept in
# registers, the draw costs a few cycles; stored to memory after every draw, the store→load
# latency on this serial chain halves the kernels' speed (measured).
@njit(cache=True)
def xoshiro(s0, s1, s2, s3):
    """xoshiro256**: (64-bit output, new state)."""
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@njit(cache=True)
def uniform4(s0, s1, s2, s3):
    """Uniform on [0, 1) with 53 random bits, and the new state."""
    r, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
    return np.float64(r >> np.uint64(11)) * (1.0 / 9007199254740992.0), s0, s1, s2, s3


@njit(cache=True)
def _normal_slow(idx, x, s0, s1, s2, s3):
    # rejected by the rectangle test: wedge or tail, then fresh draws until accepted
    while True:
        if idx == 0:
            while True:
                u1, s0, s1, s2, s3 = uniform4(s0, s1, s2, s3)
                u2, s0, s1, s2, s3 = uniform4(s0, s1, s2, s3)
                xx = -math.log1p(-u1) / _R
                yy = -math.log1p(-u2)
                if yy + yy > xx * xx:
                    return (-(_R + xx) if x < 0.0 else _R + xx), s0, s1, s2, s3
        u, s0, s1, s2, s3 = uniform4(s0, s1, s2, s3)
        if ZIG_F[idx] + u * (ZIG_F[idx - 1] - ZIG_F[idx]) < math.exp(-0.5 * x * x):
            return x, s0, s1, s2, s3
        r, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
        idx = np.int64(r & np.uint64(127))
        r >>= np.uint64(7)
        neg = (r & np.uint64(1)) != np.uint64(0)
        rabs = (r >> np.uint64(1)) & _MASK52
        x = np.float64(rabs) * ZIG_W[idx]
        if neg:
            x = -x
        if rabs < ZIG_K[idx]:
            return x, s0, s1, s2, s3


@njit(cache=True)
def normal4(s0, s1, s2, s3):
    """Standard normal variate and the new state (the tables are compile-time constants)."""
    r, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
    idx = np.int64(r & np.uint64(127))
    r >>= np.uint64(7)
    neg = (r & np.uint64(1)) != np.uint64(0)
    rabs = (r >> np.uint64(1)) & _MASK52
    x = np.float64(rabs) * ZIG_W[idx]
    if neg:
        x = -x
    if rabs < ZIG_K[idx]:
        return x, s0, s1, s2, s3
    return _normal_slow(idx, x, s0, s1, s2, s3)


@njit(cache=True)
def load(states, c):
    return states[c, 0], states[c, 1], states[c, 2], states[c, 3]


@njit(cache=True)
def store(states, c, s0, s1, s2, s3):
    states[c, 0] = s0
    states[c, 1] = s1
    states[c, 2] = s2
    states[c, 3] = s3


@njit(cache=True)
def next_u64(s):
    """Next 64-bit output of the stream whose state is the array ``s`` (uint64[4])."""
    r, s[0], s[1], s[2], s[3] = xoshiro(s[0], s[1], s[2], s[3])
    return r


@njit(cache=True)
def normal(s):
    """Standard normal from the stream stored in the array ``s`` (slower than normal4)."""
    z, s[0], s[1], s[2], s[3] = normal4(s[0], s[1], s[2], s[3])
    return z


def stream_states(seed, count: int, key=()) -> np.ndarray:
    """``count`` independent xoshiro256** states, shape (count, 4) uint64.

    seed : None, int or SeedSequence; ``key`` distinguishes independent uses of one seed (e.g. the
    initial sampling and the dynamics), so that they never share a stream.
    """
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    if key:
        ss = np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + tuple(key))
    st = ss.generate_state(4 * max(int(count), 1), np.uint64).reshape(-1, 4)
    st[np.all(st == 0, axis=1), 0] = 1  # the all-zero state is the one fixed point of xoshiro
    return np.ascontiguousarray(st[:count])


@njit(cache=True)
def _fill_normals(state, out):
    for i in range(out.size):
        out.flat[i] = normal(state)


def normals(seed, size) -> np.ndarray:
    """Standard normals from one stream (a check of the generator; kernels draw inline)."""
    out = np.empty(size)
    _fill_normals(stream_states(seed, 1)[0], out)
    return out
