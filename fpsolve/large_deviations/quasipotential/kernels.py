"""Numba kernels of the ordered line integral method: a binary heap with decrease-key, and the
one-point and triangle updates with the midpoint rule, for 2D and 3D grids alike.

Arrays are flat over the grid nodes (C order). ``b`` (N, d) is the drift and ``M`` (N, d, d)
the metric D⁻¹ at the nodes; the action of a straight segment from y to x is taken with the
midpoint values interpolated linearly from the segment's ends (x a node, y on an edge between
two nodes), as in Dahiya & Cameron's OLIM-MID.
"""
from __future__ import annotations

import numpy as np

from ...jit import njit

FAR, CONSIDERED, ACCEPTED = 0, 1, 2


# -- binary min-heap over node indices, keyed by Q, with positions for decrease-key ----------------
@njit(cache=True)
def _sift_up(heap, pos, Q, k):
    node = heap[k]
    while k > 0:
        parent = (k - 1) >> 1
        if Q[heap[parent]] <= Q[node]:
            break
        heap[k] = heap[parent]
        pos[heap[k]] = k
        k = parent
    heap[k] = node
    pos[node] = k


@njit(cache=True)
def _sift_down(heap, pos, Q, k, n):
    node = heap[k]
    while True:
        child = 2 * k + 1
        if child >= n:
            break
        if child + 1 < n and Q[heap[child + 1]] < Q[heap[child]]:
            child += 1
        if Q[heap[child]] >= Q[node]:
            break
        heap[k] = heap[child]
        pos[heap[k]] = k
        k = child
    heap[k] = node
    pos[node] = k


@njit(cache=True)
def _push_or_decrease(heap, pos, Q, node, n):
    """Insert ``node`` (or move it up after its key decreased); returns the new heap size."""
    if pos[node] < 0:
        heap[n] = node
        pos[node] = n
        _sift_up(heap, pos, Q, n)
        return n + 1
    _sift_up(heap, pos, Q, pos[node])
    return n


@njit(cache=True)
def _pop(heap, pos, Q, n):
    top = heap[0]
    pos[top] = -1
    n -= 1
    if n > 0:
        heap[0] = heap[n]
        pos[heap[0]] = 0
        _sift_down(heap, pos, Q, 0, n)
    return top, n


# -- the local action of a segment ----------------------------------------------------------
@njit(cache=True)
def _segment(d, v, bm, Mm):
    """½(|v|_M |b|_M − ⟨v, b⟩_M) for displacement v, midpoint drift bm and metric Mm."""
    vv = 0.0
    bb = 0.0
    vb = 0.0
    for i in range(d):
        Mv = 0.0
        Mb = 0.0
        for j in range(d):
            Mv += Mm[i, j] * v[j]
            Mb += Mm[i, j] * bm[j]
        vv += v[i] * Mv
        bb += bm[i] * Mb
        vb += v[i] * Mb
    s = np.sqrt(max(vv, 0.0) * max(bb, 0.0)) - vb
    return 0.5 * s if s > 0.0 else 0.0


@njit(cache=True)
def _mid(d, s, bj, bi, bk, Mj, Mi, Mk, bm, Mm):
    """Midpoint drift and metric of the segment from x_s = (1 − s) x_i + s x_k to x_j."""
    for a in range(d):
        bm[a] = 0.5 * (bj[a] + (1.0 - s) * bi[a] + s * bk[a])
        for c in range(d):
            Mm[a, c] = 0.5 * (Mj[a, c] + (1.0 - s) * Mi[a, c] + s * Mk[a, c])


@njit(cache=True)
def _triangle(d, Qi, Qk, xi, xk, xj, bi, bk, bj, Mi, Mk, Mj, bm, Mm, v, w, tmp):
    """Triangle update: min over s ∈ (0, 1) of (1 − s)Qi + sQk + segment(x_s → x_j). The midpoint
    coefficients are frozen at the current s, the convex problem in s solved in closed form, and
    this repeated from s = ½ (three times); returns +inf if the minimum is not interior."""
    for a in range(d):
        v[a] = xj[a] - xi[a]
        w[a] = xk[a] - xi[a]
    s = 0.5
    for _ in range(3):
        _mid(d, s, bj, bi, bk, Mj, Mi, Mk, bm, Mm)
        p = 0.0
        q = 0.0
        r = 0.0
        bw = 0.0
        bb = 0.0
        for a in range(d):
            Mv = 0.0
            Mw = 0.0
            Mb = 0.0
            for c in range(d):
                Mv += Mm[a, c] * v[c]
                Mw += Mm[a, c] * w[c]
                Mb += Mm[a, c] * bm[c]
            p += v[a] * Mv
            q += v[a] * Mw
            r += w[a] * Mw
            bw += w[a] * Mb
            bb += bm[a] * Mb
        beta = 0.5 * np.sqrt(max(bb, 0.0))
        delta = p * r - q * q
        if beta <= 0.0 or r <= 0.0 or delta <= 1e-14 * p * r:
            return np.inf
        # g(s) = a s + β sqrt(p − 2qs + rs²): g' = 0 ⇔ (rs − q)/n(s) = −a/β
        slope = (Qk - Qi) + 0.5 * bw
        kap = -slope / beta
        if kap * kap >= r:
            return np.inf
        u = kap * np.sqrt(delta / (r - kap * kap))
        s_new = (q + u) / r
        if s_new <= 0.0 or s_new >= 1.0:
            return np.inf
        s = s_new
    _mid(d, s, bj, bi, bk, Mj, Mi, Mk, bm, Mm)
    for a in range(d):
        tmp[a] = v[a] - s * w[a]
    return (1.0 - s) * Qi + s * Qk + _segment(d, tmp, bm, Mm)


# -- the ordered upwind sweep ----------------------------------------------------------------
@njit(cache=True)
def olim_sweep(shape, h, lower, b, M, Q, status, seeds, ball, near, radius2, max_value):
    """Accept nodes in increasing Q; each accepted node updates the non-accepted nodes within the
    update radius (``ball``: integer offsets) by a one-point update from itself and triangle
    updates with its accepted nearest neighbours (``near``) that lie within the radius
    (``radius2``, physical, squared) of the updated node. ``seeds`` are accepted nodes with exact
    values (the attractor's neighbourhood). Returns the number of accepted nodes."""
    d = len(shape)
    N = Q.size
    heap = np.empty(N, dtype=np.int64)
    pos = np.full(N, -1, dtype=np.int64)
    n = 0
    for s in seeds:
        n = _push_or_decrease(heap, pos, Q, s, n)
    strides = np.empty(d, dtype=np.int64)
    strides[d - 1] = 1
    for a in range(d - 2, -1, -1):
        strides[a] = strides[a + 1] * shape[a + 1]
    idx_i = np.empty(d, dtype=np.int64)
    xi = np.empty(d)
    xj = np.empty(d)
    xk = np.empty(d)
    bm = np.empty(d)
    Mm = np.empty((d, d))
    v = np.empty(d)
    w = np.empty(d)
    tmp = np.empty(d)
    near_ok = np.empty(len(near), dtype=np.int64)
    best_one = np.full(N, np.inf)
    accepted = 0
    while n > 0:
        i, n = _pop(heap, pos, Q, n)
        if Q[i] > max_value:
            break
        status[i] = ACCEPTED
        accepted += 1
        rem = i
        for a in range(d):
            idx_i[a] = rem // strides[a]
            rem -= idx_i[a] * strides[a]
            xi[a] = lower[a] + idx_i[a] * h[a]
        # accepted nearest neighbours of i: the candidates x_k of triangle updates
        n_near = 0
        for e in range(len(near)):
            k = 0
            inside = True
            for a in range(d):
                t = idx_i[a] + near[e, a]
                if t < 0 or t >= shape[a]:
                    inside = False
                    break
                k += t * strides[a]
            if inside and status[k] == ACCEPTED:
                near_ok[n_near] = e
                n_near += 1
        for o in range(len(ball)):
            j = 0
            inside = True
            for a in range(d):
                t = idx_i[a] + ball[o, a]
                if t < 0 or t >= shape[a]:
                    inside = False
                    break
                j += t * strides[a]
            if not inside or status[j] == ACCEPTED:
                continue
            for a in range(d):
                xj[a] = xi[a] + ball[o, a] * h[a]
                v[a] = xj[a] - xi[a]
            _mid(d, 0.0, b[j], b[i], b[i], M[j], M[i], M[i], bm, Mm)
            one = Q[i] + _segment(d, v, bm, Mm)
            best = one
            # hierarchical updates (Dahiya & Cameron): triangles only around the node that gives
            # the best one-point update so far
            if one > best_one[j]:
                if one < Q[j]:
                    Q[j] = one
                    status[j] = CONSIDERED
                    n = _push_or_decrease(heap, pos, Q, j, n)
                continue
            best_one[j] = one
            for t in range(n_near):
                e = near_ok[t]
                k = 0
                dist2 = 0.0
                for a in range(d):
                    k += (idx_i[a] + near[e, a]) * strides[a]
                    off = (ball[o, a] - near[e, a]) * h[a]
                    dist2 += off * off
                if dist2 > radius2:
                    continue
                for a in range(d):
                    xk[a] = xi[a] + near[e, a] * h[a]
                val = _triangle(d, Q[i], Q[k], xi, xk, xj, b[i], b[k], b[j], M[i], M[k], M[j],
                                bm, Mm, v, w, tmp)
                if val < best:
                    best = val
            if best < Q[j]:
                Q[j] = best
                status[j] = CONSIDERED
                n = _push_or_decrease(heap, pos, Q, j, n)
    return accepted
