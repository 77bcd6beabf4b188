"""Tensor diffusion D (n, d, d) of a FokkerPlanck with a d×d diffusion (conftest.TensorOU).
References: the exact one-step law of Euler–Maruyama (Gaussian, covariance 2 D(x0) dt) and the exact
stationary covariance of the EM chain of a linear SDE (discrete Lyapunov equation)."""
import numpy as np
import pytest
from scipy import linalg

from fpsolve import compare
from fpsolve.particles import simulate

from .conftest import TensorOU

K = 4.0  # standard errors allowed
A = np.array([[1.0, 0.4], [-0.3, 1.5]])
D_CONST = np.array([[0.30, 0.12], [0.12, 0.10]])


def d_field(x, y):
    """A state-dependent SPD tensor, returned like a (d, d, *shape) field."""
    a = 0.2 + 0.1 * x ** 2
    b = 0.1 + 0.05 * y ** 2
    c = 0.08 * np.tanh(x + y)
    return np.array([[a, c], [c, b]])


def test_one_step_covariance_of_a_state_dependent_tensor():
    """From x0, one EM step is N(x0 + b(x0) dt, 2 D(x0) dt) exactly (numpy route, Cholesky)."""
    m = TensorOU(A, d_field)
    x0, dt = np.array([0.7, -0.4]), 0.05
    r = simulate(m, x0, n=200_000, dt=dt, t_end=dt, seed=31)
    assert r.route == "vectorised"
    mean = x0 + m.drift_at(x0[None])[0] * dt
    cov = 2 * dt * d_field(*x0)
    res = compare.moments(r, mean=mean, cov=cov, k=K)
    assert res.passed, res.verdict


def test_singular_tensor_noise_stays_in_its_range():
    """A rank-one D (gradient covariances are rank-deficient): Cholesky fails, the eigen square
    root is used, and the increments have no component along the null vector."""
    v = np.array([1.0, -2.0]) / np.sqrt(5)
    m = TensorOU(np.zeros((2, 2)), 0.3 * np.outer(v, v), floor=1e-3)
    r = simulate(m, [0.0, 0.0], n=20_000, dt=0.01, t_end=0.05, seed=32, compiled=False)
    null = np.array([2.0, 1.0]) / np.sqrt(5)
    assert np.max(np.abs(r.positions[-1] @ null)) < 1e-12
    var_along = (r.positions[-1] @ v).var()
    assert abs(var_along - 2 * 0.3 * 0.05) < K * var_along * np.sqrt(2 / 20_000)


def em_stationary_cov(A, D, dt):
    """Σ = M Σ Mᵀ + 2 D dt with M = I − A dt: the exact stationary covariance of EM."""
    M = np.eye(2) - A * dt
    return linalg.solve_discrete_lyapunov(M, 2 * D * dt)


@pytest.mark.parametrize("compiled", ["auto", False])
def test_stationary_covariance_of_constant_anisotropic_tensor(compiled):
    """2D OU with D not commuting with A (a circulating steady state), from the origin to t = 4
    (covariance relaxes like e^(−2.5 t)): the particle covariance equals the EM chain's exact
    stationary covariance within 4 SE, and is distinguishably off the SDE's Lyapunov solution
    (the O(dt) EM bias, ≈ 3% at dt = 0.05). The compiled route uses the constant Cholesky
    factor, the numpy route the per-particle (n, 2, 2) tensors from diffusion_at."""
    m = TensorOU(A, D_CONST)
    dt = 0.05
    r = simulate(m, [0.0, 0.0], n=60_000, dt=dt, t_end=4.0, seed=33, compiled=compiled)
    assert r.route == ("compiled" if compiled == "auto" else "vectorised")
    res = compare.moments(r, mean=[0.0, 0.0], cov=em_stationary_cov(A, D_CONST, dt), k=K)
    assert res.passed, res.verdict
    sde = linalg.solve_continuous_lyapunov(-A, -2 * D_CONST)
    assert not compare.moments(r, cov=sde, k=K).passed
