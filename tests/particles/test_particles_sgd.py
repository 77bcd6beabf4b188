"""Discrete SGD against exact closed forms: the O(η)-corrected stationary variance on a quadratic
(THEORY §1), the (N − B)/(N − 1) factor of sampling without replacement, and the per-sample
noise of the double-well dataset. Tolerances: k = 4 standard errors (moment_stats' 4th-moment
SE, valid for non-Gaussian laws)."""
import numpy as np
import pytest
from scipy import linalg

from fpsolve import compare
from fpsolve.particles import sgd

K = 4.0


def test_gaussian_sgd_stationary_variance_has_the_eta_correction():
    """L = λθ²/2, C = 1: SGD's variance ηC/(2λ)/(1 − ηλ/2) = 0.1111 at η = 0.2, λ = 1, vs the
    SDE's D/λ = 0.1 (11% lower, ≈ 14 SE here): the particles match the corrected form only."""
    lam, lr, C = 1.0, 0.2, 1.0
    r = sgd.gaussian_sgd(lambda th: lam * th, 0.0, lr, C, n_steps=150, n_chains=40_000, seed=51,
                         record=[100, 150])
    exact = compare.sgd_quadratic_variance(lr, lam, C)
    assert exact == pytest.approx(0.5 * lr * C / lam / (1 - lr * lam / 2))
    for j in range(2):
        assert compare.moments(r, mean=0.0, cov=exact, t_index=j, k=K).passed
    assert not compare.moments(r, cov=0.5 * lr * C / lam, k=K).passed
    np.testing.assert_array_equal(r.iterations, [100, 150])
    np.testing.assert_allclose(r.times, [20.0, 30.0])  # t = k·η


def test_gaussian_sgd_matrix_and_state_dependent_covariance():
    """2D quadratic H, full noise covariance C: exact stationary covariance of the chain from the
    discrete Lyapunov equation Σ = M Σ Mᵀ + η² C (M = I − ηH). A callable C(θ) returning the same
    constant per chain takes the per-chain path and gives the same law."""
    H = np.array([[1.0, 0.3], [0.3, 2.0]])
    Cm = np.array([[0.5, -0.2], [-0.2, 0.3]])
    lr = 0.1
    ref = linalg.solve_discrete_lyapunov(np.eye(2) - lr * H, lr ** 2 * Cm)
    a = sgd.gaussian_sgd(lambda th: th @ H, [0.0, 0.0], lr, Cm, n_steps=120, n_chains=20_000,
                         seed=52)
    b = sgd.gaussian_sgd(lambda th: th @ H, [0.0, 0.0], lr,
                         lambda th: np.broadcast_to(Cm, (len(th), 2, 2)), n_steps=120,
                         n_chains=20_000, seed=53)
    for r in (a, b):
        res = compare.moments(r, mean=[0.0, 0.0], cov=ref, k=K)
        assert res.passed, res.verdict


def quadratic_dataset(N=10, seed=0):
    a = np.random.default_rng(seed).normal(size=N)
    grad_i = lambda th, idx: th[:, None, :] - a[idx][..., None]  # L_n = (θ − a_n)²/2
    return a, grad_i


@pytest.mark.parametrize("replacement", [True, False])
def test_batch_gradient_variance_factor(replacement):
    """One step from θ0 = 0: θ1 = η·mean(a_batch); Var = η² σ²/B with replacement and
    η² σ²/B·(N − B)/(N − 1) without (Hu et al. Prop. 1), σ² the population variance."""
    N, B, lr = 10, 4, 0.5
    a, grad_i = quadratic_dataset(N)
    r = sgd.minibatch_sgd(grad_i, [0.0], lr, N, B, n_steps=1, n_chains=200_000,
                          replacement=replacement, seed=54)
    sigma2 = a.var()
    factor = 1.0 if replacement else (N - B) / (N - 1)
    res = compare.moments(r, mean=lr * a.mean(), cov=lr ** 2 * sigma2 / B * factor, k=K)
    assert res.passed, res.verdict
    other = (N - B) / (N - 1) if replacement else 1.0
    assert not compare.moments(r, cov=lr ** 2 * sigma2 / B * other, k=K).passed


@pytest.mark.parametrize("replacement", [True, False])
def test_minibatch_sgd_stationary_variance_on_a_quadratic(replacement):
    """θ ← (1 − η)θ + η ā_batch: stationary Var = η v_B / (2 − η) exactly (v_B the batch-mean
    variance), i.e. the SDE's D/λ times 1/(1 − η/2)."""
    N, B, lr = 10, 3, 0.3
    a, grad_i = quadratic_dataset(N, seed=1)
    v_B = a.var() / B * (1.0 if replacement else (N - B) / (N - 1))
    r = sgd.minibatch_sgd(grad_i, [a.mean()], lr, N, B, n_steps=80, n_chains=30_000,
                          replacement=replacement, seed=55)
    D = sgd.sde_diffusion(lr, B, a.var(), N, replacement)
    exact = D / 1.0 * compare.sgd_variance_factor(lr, 1.0)
    assert exact == pytest.approx(lr * v_B / (2 - lr))
    res = compare.moments(r, mean=a.mean(), cov=exact, k=K)
    assert res.passed, res.verdict


def test_double_well_dataset_noise_is_s_squared():
    """L_n(w) = (w² − 1)²/4 + x_n w, x_n = ±s: mean gradient w³ − w and per-sample variance
    exactly β = s² at every w, so D = η s²/(2B)."""
    s, N = 0.7, 6
    prob = sgd.double_well_problem(s, N)
    w = np.array([[-1.3], [0.0], [0.4], [2.0]])
    np.testing.assert_allclose(prob.grad(w), w ** 3 - w, atol=1e-14)
    np.testing.assert_allclose(prob.loss(w)[:, 0] if prob.loss(w).ndim > 1 else prob.loss(w),
                               ((w ** 2 - 1) ** 2 / 4).ravel(), atol=1e-14)
    for wi in w:
        assert prob.per_sample_covariance(wi)[0, 0] == pytest.approx(s ** 2, rel=1e-14)
        assert prob.diffusion(wi, lr=0.1, batch_size=2)[0, 0] == pytest.approx(0.1 * s ** 2 / 4)
    r = sgd.minibatch_sgd(prob.grad_i, [1.0], 0.05, N, 2, n_steps=5, n_chains=10, seed=56)
    assert r.theta[-1].shape == (10, 1)


def test_linear_regression_full_batch_without_replacement_is_gradient_descent():
    rng = np.random.default_rng(57)
    F, y = rng.normal(size=(8, 3)), rng.normal(size=8)
    prob = sgd.linear_regression_problem(F, y)
    th = rng.normal(size=(5, 3))
    np.testing.assert_allclose(prob.grad(th), (th @ F.T - y) @ F / 8, atol=1e-13)
    r = sgd.minibatch_sgd(prob.grad_i, th, 0.1, 8, 8, n_steps=20, replacement=False, seed=58)
    gd = th.copy()
    for _ in range(20):
        gd = gd - 0.1 * prob.grad(gd)
    np.testing.assert_allclose(r.theta[-1], gd, atol=1e-12)


def test_batches_without_replacement_are_distinct_and_uniform():
    from fpsolve.particles.rng import stream_states
    N, B, n = 12, 5, 60_000
    idx = np.empty((n, B), np.int64)
    sgd._batches_without_replacement(N, B, stream_states(59, -(-n // 256)), 256, idx)
    assert all(len(set(row)) == B for row in idx[:2000])
    counts = np.bincount(idx.ravel(), minlength=N)
    p = B / N  # each index is in a batch with probability B/N
    assert np.all(np.abs(counts - n * p) < K * np.sqrt(n * p * (1 - p)))
