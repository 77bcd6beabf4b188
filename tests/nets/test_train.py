"""Training: plain SGD (checked against a hand-written gradient-descent step), determinism under
a seed, SDE time t = k·η in the history, and input errors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="fpsolve.nets needs the optional torch extra")
pytestmark = pytest.mark.torch

from fpsolve import InputError  # noqa: E402
from fpsolve import nets  # noqa: E402


@pytest.mark.parametrize("batchnorm,replacement", [(False, False), (True, True)])
def test_training_is_deterministic_under_a_seed(batchnorm, replacement):
    data = nets.gaussian_mixture(n=64, n_features=4, num_classes=3, seed=0)
    kw = dict(lr=0.1, batch_size=8, epochs=3, replacement=replacement)
    runs = [nets.train(nets.mlp([4, 8, 3], batchnorm=batchnorm, seed=1), data, seed=2, **kw)
            for _ in range(2)]
    assert np.array_equal(runs[0].theta, runs[1].theta)
    for a, b in zip(runs[0].model.state_dict().values(), runs[1].model.state_dict().values()):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(runs[0].history["loss"], runs[1].history["loss"])
    other = nets.train(nets.mlp([4, 8, 3], batchnorm=batchnorm, seed=1), data, seed=3, **kw)
    assert not np.array_equal(runs[0].theta, other.theta)


def test_full_batch_sgd_is_gradient_descent_on_the_closed_form_gradient():
    data = nets.teacher_student(n=20, n_features=3, hidden=(), n_outputs=2, noise=0.5, seed=4)
    model = nets.mlp([3, 2], seed=5)
    theta0 = nets.flat_parameters(model).numpy()
    eta, steps = 0.3, 4
    res = nets.train(model, data, lr=eta, batch_size=20, epochs=steps, seed=0, loss="mse")
    X, Y = data.X.numpy(), data.y.numpy()
    th = theta0.copy()
    for _ in range(steps):   # θ ← θ − η (1/N) Σ J_μᵀ (f_μ − y_μ) for L = (1/2N) Σ ‖f − y‖²
        W, b = th[:6].reshape(2, 3), th[6:]
        R = X @ W.T + b - Y
        th = th - eta * np.concatenate([(R.T @ X / len(X)).ravel(), R.mean(0)])
    np.testing.assert_allclose(res.theta, th, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(nets.flat_parameters(model).numpy(), theta0)  # input untouched


def test_history_reports_sde_time_and_matches_the_objective():
    data = nets.gaussian_mixture(n=50, n_features=2, num_classes=2, seed=6)
    model = nets.mlp([2, 5, 2], activation="tanh", seed=7)
    eta, B, E = 0.05, 8, 4
    res = nets.train(model, data, lr=eta, batch_size=B, epochs=E, seed=0,
                     callbacks=[nets.track_noise(data), nets.track_sharpness(data, epochs=[0, E])])
    h = res.history
    spe = 50 // B
    np.testing.assert_array_equal(h["epoch"], np.arange(E + 1))
    np.testing.assert_array_equal(h["step"], spe * np.arange(E + 1))
    np.testing.assert_allclose(h["t"], eta * spe * np.arange(E + 1))
    assert h["loss"][0] == pytest.approx(nets.Objective(model, data).value(), rel=1e-14)
    assert h["loss"][-1] == pytest.approx(nets.Objective(res.model, data).value(), rel=1e-14)
    lam = np.linalg.eigvalsh(nets.hessian(res.model, data))[-1]
    assert h["sharpness"][-1] == pytest.approx(lam, rel=1e-10)
    assert np.isnan(h["sharpness"][1])
    gn = nets.gradient_noise(res.model, data, spectrum=False)
    assert h["noise_strength"][-1] == pytest.approx(gn.noise_strength, rel=1e-12)
    assert res.success and np.isnan(h["batch_loss"][0])


def test_divergence_is_reported_not_hidden():
    data = nets.teacher_student(n=16, n_features=2, hidden=(), noise=0.0, seed=0)
    data = nets.Dataset(data.X * 100, data.y, "regression")
    with pytest.warns(RuntimeWarning, match="non-finite"):
        res = nets.train(nets.mlp([2, 1], seed=0), data, lr=10.0, batch_size=4, epochs=50)
    assert not res.success and "non-finite" in res.message


def test_train_input_errors():
    data = nets.gaussian_mixture(n=10, n_features=2, seed=0)
    model = nets.mlp([2, 3, 2], batchnorm=True)
    with pytest.raises(InputError, match="lr"):
        nets.train(model, data, lr=-1, batch_size=2, epochs=1)
    with pytest.raises(InputError, match="batch_size"):
        nets.train(model, data, lr=0.1, batch_size=11, epochs=1)
    with pytest.raises(InputError, match="BatchNorm"):
        nets.train(model, data, lr=0.1, batch_size=1, epochs=1)
    with pytest.raises(InputError, match="regression"):
        nets.train(nets.mlp([2, 1]), nets.teacher_student(n=8, n_features=2), lr=0.1,
                   batch_size=2, epochs=1, loss="cross_entropy")
    with pytest.raises(InputError, match="widths"):
        nets.mlp([3])
