"""Shared test helpers: independent references computed with numpy/scipy only."""
import numpy as np
import pytest


def log_mean(a, b):
    """Logarithmic mean, written independently of fpsolve.numerics.flux."""
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    out = a.copy()
    ne = a != b
    out[ne] = (b[ne] - a[ne]) / np.log1p((b[ne] - a[ne]) / a[ne])
    return out


def discrete_gibbs_1d(U, D, alpha=0.0):
    """Exact discrete zero-flux state of the SG scheme in 1D: p ∝ D^(α−1) exp(−Σ ΔU / D_f)."""
    # extended-precision running sum, so that the reference's own round-off stays below 1e-15
    inc = (np.diff(U) / log_mean(D[:-1], D[1:])).astype(np.longdouble)
    phi = np.concatenate([[0.0], np.cumsum(inc)]).astype(float)
    logp = (alpha - 1.0) * np.log(D) - phi
    p = np.exp(logp - logp.max())
    return p / p.sum()


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
