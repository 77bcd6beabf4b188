"""Offline data: digits subset, linear teacher, Gaussian mixture."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="fpsolve.nets needs the optional torch extra")
pytestmark = pytest.mark.torch

from fpsolve import InputError  # noqa: E402
from fpsolve import nets  # noqa: E402


def test_load_digits_subset_classes_and_standardisation():
    pytest.importorskip("sklearn", reason="load_digits needs scikit-learn")
    from sklearn.datasets import load_digits
    d = nets.load_digits(n=100, classes=[3, 7], seed=1, standardize=False)
    X, y = load_digits(return_X_y=True)
    keep = np.isin(y, [3, 7])
    assert len(d) == 100 and d.num_classes == 2 and set(d.y.tolist()) <= {0, 1}
    # every row is an original image of the labelled class
    for x, lab in zip(d.X.numpy()[:10], d.y.numpy()[:10]):
        i = np.flatnonzero(np.all(X[keep] / 16.0 == x, axis=1))
        assert i.size and y[keep][i[0]] == [3, 7][lab]
    s = nets.load_digits(n=200, seed=2)
    assert np.allclose(s.X.numpy().mean(0), 0, atol=1e-12)
    assert torch.equal(nets.load_digits(n=50, seed=3).X, nets.load_digits(n=50, seed=3).X)
    with pytest.raises(InputError, match="classes"):
        nets.load_digits(classes=[11])


def test_linear_teacher_is_exact_without_noise():
    d = nets.teacher_student(n=30, n_features=4, hidden=(), n_outputs=2, noise=0.0, seed=5)
    th = d.info["teacher_theta"]
    W, b = th[:8].reshape(2, 4), th[8:]
    np.testing.assert_allclose(d.y.numpy(), d.X.numpy() @ W.T + b, rtol=1e-14)


def test_gaussian_mixture_is_balanced_and_separated():
    d = nets.gaussian_mixture(n=300, n_features=3, num_classes=3, separation=4.0, seed=0)
    assert np.bincount(d.y.numpy()).tolist() == [100, 100, 100]
    means = d.info["means"]
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 4.0)
    for c in range(3):
        emp = d.X.numpy()[d.y.numpy() == c].mean(0)
        assert np.linalg.norm(emp - means[c]) < 4 * np.sqrt(3 / 100)
