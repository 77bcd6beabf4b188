"""The torch backend against the numba backend and the exact EM references. Statistical asserts
use k = 4 standard errors; seeds fixed.

Runs on the CPU by default; ``FPSOLVE_TEST_DEVICE=cuda pytest -m "" tests/particles`` runs the
same tests on a GPU (the CUDA path differs only in the device and the generator).
"""
import os

import numpy as np
import pytest

import fpsolve as fp
from fpsolve import compare
from fpsolve.coefficients import schedules
from fpsolve.particles import first_passage, simulate

from .conftest import TensorOU

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
K = 4.0
DEVICE = os.environ.get("FPSOLVE_TEST_DEVICE", "cpu")


@pytest.fixture(autouse=True, scope="module")
def one_intra_op_thread():
    """Small tensors: torch's OpenMP threads cost more than they give (and much more on a
    shared machine); results do not depend on the thread count."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def two_sample_z(a, b):
    return (a.mean() - b.mean()) / np.sqrt(a.var() / len(a) + b.var() / len(b))


@pytest.fixture(scope="module")
def dw_lambda():
    """Double well with a lambda that works on numpy arrays and torch tensors alike."""
    return fp.FokkerPlanck(fp.Grid([(-2.5, 2.5)], 100), potential=lambda x: (x ** 2 - 1) ** 2 / 4,
                           diffusion=0.25)


def test_numba_and_torch_agree_statistically(dw_lambda):
    a = simulate(dw_lambda, -0.2, n=20_000, dt=0.01, t_end=1.0, seed=41)
    b = simulate(dw_lambda, -0.2, n=20_000, dt=0.01, t_end=1.0, seed=42, backend="torch",
                 device=DEVICE)
    assert b.backend == "torch" and b.info["dtype"] == "torch.float64"
    xa, xb = a.positions[-1][:, 0], b.positions[-1][:, 0]
    assert abs(two_sample_z(xa, xb)) < K
    assert abs(two_sample_z(xa ** 2, xb ** 2)) < K
    from scipy import stats
    assert stats.ks_2samp(xa, xb).pvalue > 1e-3


def test_torch_first_passage_matches_numba():
    """Drift +1 towards the level 1 from 0 (τ ≈ 1): the two backends' MFPTs agree (4 SE)."""
    g = fp.Grid([(-4.0, 4.0)], 40)
    m = fp.FokkerPlanck(g, potential=lambda x: -x, diffusion=0.5)
    a = first_passage(m, 0.0, [(1.0, np.inf)], n=2000, dt=0.01, t_max=20.0, seed=43)
    b = first_passage(m, 0.0, [(1.0, np.inf)], n=2000, dt=0.01, t_max=20.0, seed=44,
                      backend="torch", device=DEVICE)
    assert a.censored == b.censored == 0
    assert abs(two_sample_z(a.times, b.times)) < K
    assert np.all(b.exit_points[:, 0] >= 1.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_ou_moments_against_exact_em(dtype):
    """OU to T = 1 at dt = 0.05: mean and variance equal the EM closed form (4 SE) in both
    precisions; the diffusion schedule (×1/4 at t = 0.5) is followed."""
    g = fp.Grid([(-10.0, 10.0)], 40)
    s = schedules.PiecewiseConstant([0.5], [1.0, 0.25])
    m = fp.FokkerPlanck(g, potential=lambda x: x ** 2 / 2, diffusion=0.5, schedule=s)
    h = 0.05
    r = simulate(m, 1.0, n=50_000, dt=h, t_end=1.0, seed=45, backend="torch", dtype=dtype,
                 device=DEVICE)
    assert r.info["dtype"] == f"torch.{dtype}"
    v, mean = 0.0, 1.0
    for k in range(20):
        v = (1 - h) ** 2 * v + 2 * s(k * h) * 0.5 * h
        mean *= 1 - h
    assert compare.moments(r, mean=mean, cov=v, k=K).passed


def test_torch_reflecting_walls_and_periodic_axis():
    g = fp.Grid([(0.0, 1.0), (0.0, 2.0)], 8, periodic=(False, True))
    m = fp.FokkerPlanck(g, drift=lambda x, y: (5.0 + 0 * x, 3.0 + 0 * y), diffusion=0.5)
    r = simulate(m, [0.5, 1.0], n=5000, dt=0.3, t_end=3.0, times=[0.3, 1.5, 3.0], seed=46,
                 backend="torch", device=DEVICE)
    for X in r.positions:
        assert np.all((X[:, 0] >= 0.0) & (X[:, 0] <= 1.0))
        assert np.all((X[:, 1] >= 0.0) & (X[:, 1] < 2.0))


def test_torch_tensor_diffusion_one_step_law():
    """State-dependent d×d diffusion written for numpy and torch; one step is
    N(x0 + b dt, 2 D(x0) dt)."""
    def field(x, y):
        xp = torch if isinstance(x, torch.Tensor) else np
        a = 0.2 + 0.1 * x ** 2
        b = 0.1 + 0.05 * y ** 2
        c = 0.08 * xp.tanh(x + y)
        return xp.stack([xp.stack([a, c]), xp.stack([c, b])])
    m = TensorOU([[1.0, 0.4], [-0.3, 1.5]], field, jit_drift=False)
    x0, dt = np.array([0.7, -0.4]), 0.05
    r = simulate(m, x0, n=100_000, dt=dt, t_end=dt, seed=47, backend="torch",
                 device=DEVICE)
    res = compare.moments(r, mean=x0 + m.drift_at(x0[None])[0] * dt,
                          cov=2 * dt * field(*x0), k=K)
    assert res.passed, res.verdict


def test_numpy_only_coefficients_get_a_clear_error():
    g = fp.Grid([(-3.0, 3.0)], 30)
    m = fp.FokkerPlanck(g, potential=lambda x: np.exp(-x ** 2) + x ** 2, diffusion=0.3)
    with pytest.raises(fp.InputError, match="torch tensors"):
        simulate(m, 0.0, n=10, dt=0.01, t_end=0.1, backend="torch", device=DEVICE)


@pytest.mark.slow
def test_fused_compiled_steps_equal_eager():
    """torch.compile of 4 fused steps gives the eager path. On the CPU the generator's stream
    does not depend on how the draws are batched, so the paths agree to round-off; CUDA's Philox
    stream does (one randn of 4n numbers ≠ four of n), so there the laws agree (4 SE)."""
    g = fp.Grid([(-2.5, 2.5)], 50)
    m = fp.FokkerPlanck(g, potential=lambda x: (x ** 2 - 1) ** 2 / 4, diffusion=0.25)
    kw = dict(n=4096 if DEVICE == "cpu" else 200_000, dt=0.01, t_end=0.4, seed=48,
              backend="torch", device=DEVICE)
    a = simulate(m, -1.0, fuse=1, **kw)
    b = simulate(m, -1.0, fuse=4, **kw)
    assert b.route == "torch-compiled"
    xa, xb = a.positions[-1][:, 0], b.positions[-1][:, 0]
    if DEVICE == "cpu":
        assert np.max(np.abs(xa - xb)) < 1e-10
    else:
        assert abs(two_sample_z(xa, xb)) < K and abs(two_sample_z(xa ** 2, xb ** 2)) < K
