"""SGD noise models against closed forms: Mori's power law, mini-batch factors, Xie's [H]⁺."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import noise, sgd


def test_mori_power_law_is_exact_on_the_grid_1d_and_2d():
    lr, B, h, Lstar = 0.1, 4, 2.0, 0.05
    phi = 1 + B / (lr * h)
    for grid, loss in (
        (fp.Grid([(-1.5, 1.5)], 301), lambda x: Lstar + h * x ** 2 / 2),
        (fp.Grid([(-1.5, 1.5)] * 2, 81), lambda x, y: Lstar + h * (x ** 2 + y ** 2) / 2),
    ):
        m = sgd.model(grid, loss, lr, B, noise.LossScaled(h))
        L = loss(*grid.coords)
        ref = L ** (-phi)
        ref /= ref.sum() * grid.cell_volume
        p = m.stationary().values
        assert np.max(np.abs(p / ref - 1)) < 1e-12


def test_mori_variance_closed_form():
    """p ∝ (L* + hθ²/2)^(−φ) ⇒ Var θ = 2L* / (h (2φ − 3)) (Student-t)."""
    lr, B, h, Lstar = 0.2, 2, 1.0, 0.1
    phi = 1 + B / (lr * h)  # 11: tails θ^(−22), box ±6 truncates < 1e-12
    g = fp.Grid([(-6.0, 6.0)], 4000)
    p = sgd.model(g, lambda x: Lstar + h * x ** 2 / 2, lr, B, noise.LossScaled(h)).stationary()
    # midpoint-rule O(h²) error: (Δx/σ)²/12 ≈ 2e-4 with σ ≈ 0.1
    assert p.var() == pytest.approx(2 * Lstar / (h * (2 * phi - 3)), rel=1e-3)


def test_isotropic_gibbs_temperature_and_minibatch_factor():
    """Constant β: Gibbs with D = ηβ/(2B) (Dai–Zhu Lemma 2.3), × (N − B)/(N − 1) w/o replacement."""
    lr, B, N, beta = 0.05, 8, 40, 2.0
    g = fp.Grid([(-3, 3)], 200)
    m1 = sgd.model(g, lambda x: x ** 2, lr, B, noise.Isotropic(beta))
    m2 = sgd.model(g, lambda x: x ** 2, lr, B, noise.Isotropic(beta), dataset_size=N,
                   replacement=False)
    assert m1.D[0] == pytest.approx(lr * beta / (2 * B), rel=1e-15)
    assert m2.D[0] == pytest.approx(lr * beta / (2 * B) * (N - B) / (N - 1), rel=1e-15)
    assert sgd.iterations(1.0, lr) == pytest.approx(20.0)


def test_hessian_noise_absolute_value_and_floor():
    g = fp.Grid([(-2.0, 2.0)], 200)
    loss = lambda x: (x ** 2 - 1) ** 2 / 4  # L'' = 3x² − 1 vanishes at ±1/√3
    with pytest.raises(fp.InputError, match="singular"):
        sgd.model(g, loss, 0.1, 1, noise.Hessian(hessian=lambda x: 3 * x ** 2 - 1.0))
    m = sgd.model(fp.Grid([(-2.0, 2.0)], 200), loss, 0.1, 1,
                  noise.Hessian(hessian=lambda x: 3 * x ** 2 - 1.0, floor=1e-3))
    x = m.grid.axes[0]
    np.testing.assert_allclose(m.D, 0.1 / 2 * np.maximum(np.abs(3 * x ** 2 - 1), 1e-3), rtol=1e-14)
    # finite-difference Hessian: round-off O(ε/δ²)·|L| = ε^(1/2)·|L| ≤ 1.5e-8 · 2.25 absolute
    # (δ = ε^(1/4)), times η/2 for D; truncation O(δ²) is smaller
    m_fd = sgd.model(fp.Grid([(-2.0, 2.0)], 200), loss, 0.1, 1, noise.Hessian(floor=1e-3))
    assert np.max(np.abs(m_fd.D - m.D)) < 0.1 / 2 * 1.5e-8 * 2.25 * 4


def test_noise_errors():
    g = fp.Grid([(-1, 1)], 20)
    with pytest.raises(fp.InputError, match="loss_offset"):
        sgd.model(g, lambda x: x ** 2 - 0.5, 0.1, 1, noise.LossScaled(1.0))
    with pytest.raises(fp.InputError, match="normalisable"):
        sgd.model(fp.Grid([(-1, 1)] * 3, 8), lambda x, y, z: 1 + x ** 2, 10.0, 1,
                  noise.LossScaled(1.0))
    with pytest.raises(fp.InputError, match="positive"):
        sgd.model(g, lambda x: x ** 2, 0.1, 1, noise.Isotropic(lambda x: x))
    with pytest.raises(fp.InputError, match="dataset_size"):
        sgd.model(g, lambda x: x ** 2, 0.1, 1, noise.Isotropic(1.0), replacement=False)


def test_batch_size_switch_schedule_reuses_factorisations():
    g = fp.Grid([(-3, 3)], 120)
    m = sgd.model(g, lambda x: x ** 2 / 2, 0.1, 128, noise.Isotropic(1.0),
                  schedule=sgd.batch_size_switch(2.0, 128, 2048))
    res = m.evolve(lambda x: np.exp(-x ** 2), [1.0, 2.0, 3.0], dt=0.05)
    assert res.factorisations == 2
    s = sgd.lr_batch_schedule(lr=0.1, batch_size=lambda t: 128 if t < 2 else 2048, lr0=0.1,
                              batch_size0=128, breakpoints=[2.0])
    assert s.piecewise_constant and s(1.0) == 1.0 and s(3.0) == pytest.approx(1 / 16)
