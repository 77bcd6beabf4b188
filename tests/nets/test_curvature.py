"""Curvature: each quantity against an independent reference (finite differences, autograd on
the nn.Module, dense eigendecomposition, closed forms)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="fpsolve.nets needs the optional torch extra")
pytestmark = pytest.mark.torch
import torch.nn.functional as F  # noqa: E402

from fpsolve import InputError  # noqa: E402
from fpsolve import nets  # noqa: E402


def module_loss(model, X, y, loss):
    """The data loss written directly with torch.nn.functional (independent of fpsolve.nets)."""
    out = model(X)
    if loss == "cross_entropy":
        return F.cross_entropy(out, y)
    Y = y if y.is_floating_point() else F.one_hot(y, out.shape[1]).to(out.dtype)
    return 0.5 * ((out - Y) ** 2).sum(1).mean()


def module_grad(model, theta, X, y, loss):
    nets.set_flat_parameters(model, theta)
    model.zero_grad()
    L = module_loss(model, X, y, loss)
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(L, list(model.parameters()))])


@pytest.mark.parametrize("batchnorm,loss,activation", [(False, "cross_entropy", "tanh"),
                                                       (True, "mse", "softplus")])
def test_exact_hessian_matches_finite_differences_of_gradients(batchnorm, loss, activation):
    data = nets.gaussian_mixture(n=24, n_features=3, num_classes=3, seed=1)
    model = nets.mlp([3, 4, 3], activation=activation, batchnorm=batchnorm, seed=2).eval()
    theta = nets.flat_parameters(model)
    H = nets.hessian(model, data, loss=loss)
    d, h = theta.numel(), 1e-5
    H_fd = np.zeros((d, d))
    for i in range(d):
        e = torch.zeros(d, dtype=torch.float64)
        e[i] = h
        H_fd[:, i] = (module_grad(model, theta + e, data.X, data.y, loss)
                      - module_grad(model, theta - e, data.X, data.y, loss)).numpy() / (2 * h)
    assert np.linalg.norm(H - H_fd) / np.linalg.norm(H_fd) < 1e-6
    assert np.allclose(H, H.T)


@pytest.fixture(scope="module")
def digits_net():
    pytest.importorskip("sklearn", reason="load_digits needs scikit-learn")
    data = nets.load_digits(n=120, seed=3)
    model = nets.mlp([64, 8, 10], activation="tanh", seed=4)   # d = 610
    return model, data


def test_lanczos_eigenpairs_satisfy_Hv_equals_lambda_v(digits_net):
    model, data = digits_net
    eig = nets.lanczos(model, data, k=3)
    m = model.eval()
    params = list(m.parameters())
    L = module_loss(m, data.X, data.y, "cross_entropy")
    g = torch.cat([x.reshape(-1) for x in torch.autograd.grad(L, params, create_graph=True)])
    for lam, v in zip(eig.values, eig.vectors.T):
        vt = torch.as_tensor(v)
        Hv = torch.cat([x.reshape(-1) for x in torch.autograd.grad(g @ vt, params,
                                                                   retain_graph=True)]).numpy()
        assert np.linalg.norm(Hv - lam * v) <= 1e-6 * abs(lam)
        assert abs(np.linalg.norm(v) - 1) < 1e-12


def test_lanczos_matches_dense_eigenvalues(digits_net):
    model, data = digits_net
    w = np.linalg.eigvalsh(nets.hessian(model, data))
    top = nets.lanczos(model, data, k=4)
    bottom = nets.lanczos(model, data, k=2, which="SA")
    np.testing.assert_allclose(top.values, w[::-1][:4], rtol=1e-8)
    np.testing.assert_allclose(bottom.values, w[:2], rtol=1e-8, atol=1e-10 * w[-1])
    auto = nets.top_eigenpairs(model, data, k=2, method="lanczos")
    np.testing.assert_allclose(auto.values, w[::-1][:2], rtol=1e-8)


def test_gauss_newton_equals_hessian_and_closed_form_for_linear_mse():
    data = nets.teacher_student(n=40, n_features=4, hidden=(6,), n_outputs=3, noise=0.3, seed=5)
    model = nets.mlp([4, 3], seed=6)           # linear: f = W x + b, MSE ½‖f − y‖²
    G = nets.gauss_newton(model, data)
    H = nets.hessian(model, data)
    # closed form: θ = (vec W row-major, b); J_μ = [I_K ⊗ x_μᵀ, I_K], G = H = (1/N) Σ J_μᵀ J_μ
    X = data.X.numpy()
    J = np.stack([np.hstack([np.kron(np.eye(3), x[None, :]), np.eye(3)]) for x in X])
    H_ref = np.einsum("nkd,nke->de", J, J) / len(X)
    np.testing.assert_allclose(G, H_ref, atol=1e-13)
    np.testing.assert_allclose(H, H_ref, atol=1e-13)


def test_gauss_newton_is_psd_and_differs_from_hessian_for_a_nonlinear_net():
    data = nets.gaussian_mixture(n=30, n_features=3, num_classes=3, seed=7)
    model = nets.mlp([3, 5, 3], activation="tanh", seed=8)
    G = nets.gauss_newton(model, data)
    H = nets.hessian(model, data)
    assert np.linalg.eigvalsh(G).min() > -1e-12
    assert np.linalg.norm(G - H) > 1e-3 * np.linalg.norm(H)


def test_hutchinson_trace_and_frobenius_within_four_standard_errors(digits_net):
    model, data = digits_net
    H = nets.hessian(model, data)
    tr = nets.hutchinson(model, data, quantity="trace", n_samples=64, seed=1)
    fro = nets.hutchinson(model, data, quantity="frobenius", n_samples=64, seed=2,
                          distribution="gaussian")
    assert abs(tr.value - np.trace(H)) < 4 * tr.stderr
    assert abs(fro.value - np.linalg.norm(H)) < 4 * fro.stderr
    assert 0 < tr.stderr < 0.5 * abs(np.trace(H))


def test_curvature_input_errors(digits_net):
    model, data = digits_net
    with pytest.raises(InputError, match="max_params"):
        nets.hessian(model, data, max_params=100)
    with pytest.raises(InputError, match="k < d"):
        nets.lanczos(model, data, k=0)
    with pytest.raises(InputError, match="parameters"):
        nets.hessian(model, data, theta=np.zeros(5))
    with pytest.raises(InputError, match="quantity"):
        nets.hutchinson(model, data, quantity="det")


def test_value_and_gradient_for_scipy():
    """(L + ½λ‖θ‖², ∇) as numpy, against the Objective's own value and gradient (same autograd:
    round-off only) and the weight decay's closed form."""
    data = nets.teacher_student(n=40, n_features=3, hidden=(4,), noise=0.1, seed=0)
    obj = nets.Objective(nets.mlp([3, 4, 1], activation="tanh", seed=0), data)
    theta = obj.theta().numpy() + 0.1
    v0, g0 = obj.value_and_gradient(theta)
    assert v0 == pytest.approx(obj.value(theta), rel=1e-14)
    np.testing.assert_allclose(g0, obj.gradient(theta).numpy(), rtol=1e-13, atol=1e-15)
    v, g = obj.value_and_gradient(theta, 0.3)
    assert v == pytest.approx(v0 + 0.15 * float(theta @ theta), rel=1e-14)
    np.testing.assert_allclose(g, g0 + 0.3 * theta, rtol=1e-13, atol=1e-15)
