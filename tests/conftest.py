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


def tensor_model(n):
    """The tensor, state-dependent 2D problem of ``benchmarks/bench_general.py`` on n² cells:
    U = (x²−1)²/4 + y²/2, D with cross terms, no detailed balance."""
    import fpsolve as fp

    def D(x, y):
        c = 0.03 * np.tanh(x * y)
        return [[0.12 * (1 + 0.3 * y ** 2), c], [c, 0.08 * (1 + 0.3 * x ** 2)]]

    return fp.FokkerPlanck(fp.Grid([(-2, 2), (-2, 2)], n),
                           potential=lambda x, y: (x ** 2 - 1) ** 2 / 4 + y ** 2 / 2,
                           diffusion=D)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
