"""Gradient noise: per-sample gradients, normalisation of the mini-batch covariance (by exact
enumeration of mini-batches), rank bound, noise strength, and the logistic-regression case where
the gradient covariance equals the Hessian exactly."""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="fpsolve.nets needs the optional torch extra")
pytestmark = pytest.mark.torch
import torch.nn.functional as F  # noqa: E402

from fpsolve import InputError  # noqa: E402
from fpsolve import nets  # noqa: E402


def loop_gradients(model, X, y):
    """∇ℓ_μ by one autograd call per sample on the nn.Module (cross-entropy, eval mode)."""
    model = model.eval()
    rows = []
    for i in range(len(X)):
        L = F.cross_entropy(model(X[i:i + 1]), y[i:i + 1])
        rows.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(L, list(model.parameters()))]))
    return torch.stack(rows).numpy()


@pytest.mark.parametrize("batchnorm", [False, True])
def test_per_sample_gradients_match_a_loop_of_autograd_calls(batchnorm):
    data = nets.gaussian_mixture(n=15, n_features=4, num_classes=3, seed=0)
    model = nets.mlp([4, 6, 5, 3], activation="relu", batchnorm=batchnorm, seed=1)
    if batchnorm:  # non-trivial running statistics, as after training
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm1d):
                    m.running_mean.uniform_(-0.5, 0.5)
                    m.running_var.uniform_(0.5, 2.0)
    G = nets.per_sample_gradients(model, data)
    np.testing.assert_allclose(G, loop_gradients(model, data.X, data.y), rtol=1e-12, atol=1e-14)


def test_noise_strength_rank_and_spectrum_against_numpy():
    data = nets.gaussian_mixture(n=12, n_features=5, num_classes=3, seed=2)
    model = nets.mlp([5, 7, 3], activation="tanh", seed=3)      # d = 66 > N − 1 = 11
    G = loop_gradients(model, data.X, data.y)
    S_ref = np.cov(G.T, bias=True)                                # 1/N normalisation
    gn = nets.gradient_noise(model, data, rank_rtols=(1e-10,))
    np.testing.assert_allclose(gn.covariance, S_ref, atol=1e-14 * np.abs(S_ref).max() * 10)
    mori = np.mean((G ** 2).sum(1)) - np.sum(G.mean(0) ** 2)
    assert gn.noise_strength == pytest.approx(mori, rel=1e-12)
    assert gn.noise_strength == pytest.approx(np.trace(S_ref), rel=1e-12)
    np.testing.assert_allclose(gn.eigenvalues[:11], np.linalg.eigvalsh(S_ref)[::-1][:11], rtol=1e-9)
    assert gn.max_rank == 11 and gn.ranks[1e-10] == 11 and gn.numerical_rank == 11
    V = np.linalg.qr(np.random.default_rng(0).standard_normal((66, 2)))[0]
    np.testing.assert_allclose(gn.project(V), V.T @ S_ref @ V, atol=1e-14)
    S_proj, _, _ = nets.projected_covariance(model, data, directions=V)
    np.testing.assert_allclose(S_proj, V.T @ S_ref @ V, atol=1e-14)


@pytest.mark.parametrize("replacement", [True, False])
def test_minibatch_covariance_normalisation_by_exact_enumeration(replacement):
    N, B = 6, 2
    data = nets.gaussian_mixture(n=N, n_features=2, num_classes=2, seed=4)
    model = nets.mlp([2, 3, 2], activation="tanh", seed=5).eval()
    if replacement:   # every ordered B-tuple of indices is equally likely
        batches = list(itertools.product(range(N), repeat=B))
    else:             # every B-subset is equally likely
        batches = list(itertools.combinations(range(N), B))
    grads = []
    for b in batches:
        idx = list(b)
        L = F.cross_entropy(model(data.X[idx]), data.y[idx])
        grads.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(L, list(model.parameters()))]))
    grads = torch.stack(grads).numpy()
    C_exact = np.cov(grads.T, bias=True)
    gn = nets.gradient_noise(model, data)
    np.testing.assert_allclose(gn.minibatch_covariance(B, replacement), C_exact,
                               atol=1e-14 * np.abs(C_exact).max() * 10)
    eta = 0.1
    np.testing.assert_allclose(gn.diffusion(eta, B, replacement), 0.5 * eta * C_exact,
                               atol=1e-14 * np.abs(C_exact).max())
    assert nets.minibatch_factor(N, B, replacement) == pytest.approx(
        1 / B if replacement else (N - B) / ((N - 1) * B))


def test_logistic_regression_at_zero_gradient_covariance_equals_hessian():
    """Softmax regression f = W x + b at θ = 0 with every input present once under each of the
    K labels. Per sample ∇ℓ = J_μᵀ(p − e_y), ∇²ℓ = J_μᵀ Λ J_μ with p = 1/K, Λ = diag(p) − ppᵀ
    (the linear model has no second-derivative term). Summed over the K labels of one input,
    Σ_y (p − e_y) = 0 and Σ_y (p − e_y)(p − e_y)ᵀ = I − 11ᵀ/K = K Λ, so ∇L = 0 and

        Σ₁ = (1/N) Σ_μ g_μ g_μᵀ = (1/N) Σ_μ J_μᵀ Λ J_μ = H   exactly,

    i.e. C = Σ₁/B = H/B (sampling with replacement; × (N − B)/(N − 1) without)."""
    K, n_in, m = 3, 4, 5
    rng = np.random.default_rng(6)
    X0 = rng.standard_normal((m, n_in))
    X = np.repeat(X0, K, axis=0)
    y = np.tile(np.arange(K), m)
    model = nets.mlp([n_in, K], seed=None)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    data = (X, y)
    H = nets.hessian(model, data)
    gn = nets.gradient_noise(model, data)
    # independent closed form: θ = (vec W row-major, b), J_μ = [I_K ⊗ x_μᵀ, I_K]
    Lam = np.eye(K) / K - np.ones((K, K)) / K ** 2
    J = np.stack([np.hstack([np.kron(np.eye(K), x[None, :]), np.eye(K)]) for x in X])
    H_ref = np.einsum("nkd,kl,nle->de", J, Lam, J) / len(X)
    np.testing.assert_allclose(H, H_ref, atol=1e-15)
    np.testing.assert_allclose(gn.mean_gradient, 0, atol=1e-15)
    np.testing.assert_allclose(gn.covariance, H_ref, atol=1e-14)
    B = 4
    np.testing.assert_allclose(gn.minibatch_covariance(B), H_ref / B, atol=1e-14)
    al = nets.alignment(gn, H, B)
    assert al.correlation == pytest.approx(1, abs=1e-12)
    assert al.ratio == pytest.approx(1, abs=1e-12)
    assert al.commutator < 1e-12
    al_wo = nets.alignment(gn, H, B, replacement=False)
    N = len(X)
    assert al_wo.ratio == pytest.approx((N - B) / (N - 1), abs=1e-12)


def test_alignment_commutator_against_dense_matrices():
    data = nets.gaussian_mixture(n=20, n_features=3, num_classes=2, seed=7)
    model = nets.mlp([3, 4, 2], activation="tanh", seed=8)
    H = nets.hessian(model, data)
    gn = nets.gradient_noise(model, data)
    B = 5
    C = gn.covariance / B
    ref = np.linalg.norm(C @ H - H @ C) / (np.linalg.norm(C) * np.linalg.norm(H))
    al = nets.alignment(gn, H, B)
    assert al.commutator == pytest.approx(ref, rel=1e-9)
    w, U = np.linalg.eigh(H)
    np.testing.assert_allclose(al.c_diagonal, np.diag(U.T @ C @ U)[::-1], atol=1e-15)
    # the same from the full eigenpairs handed over as (values, vectors)
    al2 = nets.alignment(gn, (w[::-1], U[:, ::-1]), B)
    assert al2.commutator == pytest.approx(ref, rel=1e-9)


def test_noise_input_errors():
    data = nets.gaussian_mixture(n=8, n_features=2, seed=0)
    model = nets.mlp([2, 2], seed=0)
    gn = nets.gradient_noise(model, data, spectrum=False)
    with pytest.raises(InputError, match="spectrum=False"):
        gn.covariance
    with pytest.raises(InputError, match="batch_size"):
        nets.minibatch_factor(8, 9, replacement=False)
    with pytest.raises(InputError, match="lr"):
        nets.gradient_noise(model, data).diffusion(0, 2)
    with pytest.raises(InputError, match="shape"):
        nets.alignment(nets.gradient_noise(model, data), np.eye(3), 2)
