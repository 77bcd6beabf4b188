"""Reduced landscapes of a network whose loss is exactly quadratic in θ (a linear model with
mean-square loss), against closed forms computed in numpy."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="fpsolve.nets needs the optional torch extra")
pytestmark = pytest.mark.torch

from fpsolve import InputError  # noqa: E402
from fpsolve import nets  # noqa: E402

K, N_IN, N = 2, 3, 30


@pytest.fixture(scope="module")
def quadratic():
    """Linear regression f = W x + b with L = (1/2N) Σ ‖f − y‖², at its least-squares minimum."""
    data = nets.teacher_student(n=N, n_features=N_IN, hidden=(5,), n_outputs=K, noise=0.2, seed=0)
    X, Y = data.X.numpy(), data.y.numpy()
    Xt = np.hstack([X, np.ones((N, 1))])
    Wt = np.linalg.lstsq(Xt, Y, rcond=None)[0]                 # (N_IN + 1, K)
    theta_star = np.concatenate([Wt[:N_IN].T.ravel(), Wt[N_IN]])
    model = nets.set_flat_parameters(nets.mlp([N_IN, K], seed=1), theta_star)
    J = np.stack([np.hstack([np.kron(np.eye(K), x[None, :]), np.eye(K)]) for x in X])

    def loss(theta):                                           # direct numpy evaluation
        W, b = theta[:K * N_IN].reshape(K, N_IN), theta[K * N_IN:]
        return 0.5 * np.mean(np.sum((X @ W.T + b - Y) ** 2, axis=1))

    H = np.einsum("nkd,nke->de", J, J) / N
    resid = (Xt @ Wt - Y)                                      # (N, K)
    G = np.einsum("nkd,nk->nd", J, resid)                      # per-sample gradients
    return dict(data=data, model=model, theta_star=theta_star, loss=loss, H=H, G=G)


def test_reduced_model_of_a_quadratic_reproduces_it_exactly(quadratic):
    q = quadratic
    red = nets.reduced_model(q["model"], q["data"], k=2)
    w, U = np.linalg.eigh(q["H"])
    lam = w[::-1][:2]
    V = red.directions
    np.testing.assert_allclose(red.hessian_eigenvalues, lam, rtol=1e-12)
    np.testing.assert_allclose(q["H"] @ V, V * lam, atol=1e-12)
    np.testing.assert_allclose(V.T @ V, np.eye(2), atol=1e-13)
    np.testing.assert_allclose(red.reduced_hessian, np.diag(lam), atol=1e-12)
    np.testing.assert_allclose(red.gradient_star, 0, atol=1e-13)
    z1, z2 = np.meshgrid(np.linspace(-2, 2, 21), np.linspace(-1.5, 1.5, 17), indexing="ij")
    U_red = red.potential(z1, z2)
    assert U_red.shape == z1.shape
    L_star = q["loss"](q["theta_star"])
    direct = np.vectorize(lambda a, b: q["loss"](q["theta_star"] + V @ np.array([a, b])))(z1, z2)
    quad = L_star + 0.5 * (lam[0] * z1 ** 2 + lam[1] * z2 ** 2)
    np.testing.assert_allclose(U_red, direct, rtol=1e-12)
    np.testing.assert_allclose(U_red, quad, rtol=1e-12)
    g1, g2 = red.gradient(z1, z2)
    np.testing.assert_allclose(g1, lam[0] * z1, atol=1e-12)
    np.testing.assert_allclose(g2, lam[1] * z2, atol=1e-12)
    assert float(red.potential(0.0, 0.0)) == pytest.approx(L_star, rel=1e-14)


def test_reduced_noise_covariance_and_diffusion(quadratic):
    q = quadratic
    red = nets.reduced_model(q["model"], q["data"], k=2)
    V = red.directions
    G = q["G"]
    Sigma1 = np.cov(G.T, bias=True)
    S_ref = V.T @ Sigma1 @ V
    np.testing.assert_allclose(red.noise_covariance, S_ref, rtol=1e-10, atol=1e-15)
    eta, B = 0.05, 4
    np.testing.assert_allclose(red.diffusion(eta, B), 0.5 * eta * S_ref / B, rtol=1e-10)
    np.testing.assert_allclose(red.diffusion(eta, B, replacement=False),
                               0.5 * eta * S_ref / B * (N - B) / (N - 1), rtol=1e-10)
    D = red.diffusion(eta, B)
    assert np.all(np.linalg.eigvalsh(D) > 0) and np.allclose(D, D.T)
    # state dependence: Σ₁ at θ* + V z from the residuals there
    z = np.array([0.3, -0.2])
    th = q["theta_star"] + V @ z
    W, b = th[:K * N_IN].reshape(K, N_IN), th[K * N_IN:]
    X, Y = q["data"].X.numpy(), q["data"].y.numpy()
    J = np.stack([np.hstack([np.kron(np.eye(K), x[None, :]), np.eye(K)]) for x in X])
    Gz = np.einsum("nkd,nk->nd", J, X @ W.T + b - Y)
    np.testing.assert_allclose(red.noise_covariance_at(z), V.T @ np.cov(Gz.T, bias=True) @ V,
                               rtol=1e-10)
    lo_hi = red.suggest_bounds(eta, B)
    assert lo_hi[0][1] == pytest.approx(6 * np.sqrt(D[0, 0] / red.reduced_hessian[0, 0]))


def test_reduced_path_between_two_points(quadratic):
    q = quadratic
    delta = np.random.default_rng(3).standard_normal(q["theta_star"].size)
    a, b = q["theta_star"], q["theta_star"] + delta
    red = nets.reduced_model(q["model"], q["data"], endpoints=(a, b))
    ell = np.linalg.norm(delta)
    u = delta / ell
    assert red.k == 1 and red.kind == "path" and red.path_length == pytest.approx(ell)
    s = np.linspace(0, ell, 9)
    ref = np.array([q["loss"](a + si * u) for si in s])
    np.testing.assert_allclose(red.potential(s), ref, rtol=1e-12)
    np.testing.assert_allclose(red.potential(s), q["loss"](a) + 0.5 * s ** 2 * (u @ q["H"] @ u),
                               rtol=1e-12)
    assert red.potential(ell) == pytest.approx(q["loss"](b), rel=1e-13)


def test_reduced_model_given_directions_and_errors(quadratic):
    q = quadratic
    d = q["theta_star"].size
    Vraw = np.eye(d)[:, :2] * np.array([2.0, -3.0])
    red = nets.reduced_model(q["model"], q["data"], directions=Vraw)
    np.testing.assert_allclose(red.directions, np.eye(d)[:, :2] * np.array([1.0, -1.0]), atol=1e-15)
    np.testing.assert_allclose(red.reduced_hessian, red.directions.T @ q["H"] @ red.directions,
                               atol=1e-12)
    with pytest.raises(InputError, match="k must be 1, 2 or 3"):
        nets.reduced_model(q["model"], q["data"], k=4)
    with pytest.raises(InputError, match="coordinate arrays"):
        red.potential(np.zeros(3))
    with pytest.raises(InputError, match="linearly dependent"):
        nets.reduced_model(q["model"], q["data"], directions=np.ones((d, 2)))
