"""The torch particle routes (CPU here; device-agnostic code) against the same closed forms."""
import numpy as np
import pytest

from fpsolve import compare
from fpsolve.kinetic import theory

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True)
def one_thread():
    """Small tensors: torch's threads cost more than they give on a shared machine (measured:
    the heavy-ball run below takes 0.3 s on one thread, 4.7 s on two)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_torch_baoab_harmonic_and_dtype_follows_input():
    from fpsolve.kinetic.torch_particles import simulate_torch

    h, w2, T = 0.2, 2.0, 0.1
    x0 = torch.zeros(40_000, 1, dtype=torch.float64)
    run = simulate_torch(x0, 1.0, T, h, 100, potential=lambda X: 0.5 * w2 * X[:, 0] ** 2,
                         generator=torch.Generator().manual_seed(0))
    assert run.route == "torch:cpu"
    assert compare.moments(run.positions[-1], cov=T / w2, k=5.0).passed
    assert compare.moments(run.velocities[-1], cov=T * (1 - h * h * w2 / 4), k=5.0).passed
    r32 = simulate_torch(torch.zeros(10, 2, dtype=torch.float32), 1.0, T, h, 3,
                         force=lambda X: -X)
    assert r32.positions[-1].shape == (10, 2)


def test_torch_heavy_ball_quadratic_covariance():
    from fpsolve.kinetic.torch_particles import heavy_ball_torch

    lam, s, B, eta, beta = 1.5, 1.2, 4, 0.04, 0.8
    data = torch.tensor([s, -s], dtype=torch.float64)
    run = heavy_ball_torch(lambda th, idx: lam * th[:, None, :] + data[idx][..., None], 2,
                           torch.zeros(10_000, 1, dtype=torch.float64), eta, beta, B, 400,
                           generator=torch.Generator().manual_seed(1))
    P = theory.heavy_ball_quadratic_covariance(eta, beta, lam, s * s / B)
    X = np.column_stack([run.theta[-1][:, 0], run.velocity[-1][:, 0]])
    assert compare.moments(X, cov=P, k=5.0).passed
