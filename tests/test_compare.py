"""fpsolve.compare: verdicts on synthetic samples with known laws, and the bias helpers against
direct computation."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import compare


@pytest.fixture(scope="module")
def gauss_density():
    g = fp.Grid([(-5.0, 5.0)], 200)
    return fp.Density(g, np.exp(-g.axes[0] ** 2 / 2))


def test_histogram_l1_accepts_samples_of_the_reference_and_rejects_a_shift(gauss_density, rng):
    x = rng.normal(size=(20_000, 1))
    ok = compare.histogram_l1(x, gauss_density, k=3.0)
    assert ok.passed and bool(ok) and "tolerance" in ok.verdict
    assert ok.l1 < ok.tolerance and ok.l1_stderr > 0 and ok.null_mean > 0
    bad = compare.histogram_l1(x + 0.1, gauss_density, k=3.0)
    assert not bad.passed and "INCONSISTENT" in bad.verdict
    # a bias allowance is added to the tolerance and stated
    assert compare.histogram_l1(x + 0.1, gauss_density, bias=0.2).passed


def test_ks_1d_and_the_piecewise_cdf(gauss_density, rng):
    cdf = compare.density_cdf_1d(gauss_density)
    g = gauss_density.grid
    assert cdf(-5.0) == 0.0 and cdf(5.0) == pytest.approx(1.0)
    assert cdf(g.axes[0][100] - g.h[0] / 2) == pytest.approx(
        gauss_density.values[:100].sum() * g.h[0], rel=1e-12)
    x = rng.normal(size=5000)
    assert compare.ks_1d(x, gauss_density, alpha=1e-3).passed
    assert not compare.ks_1d(x * 1.2, gauss_density, alpha=1e-3).passed


def test_first_passage_mean_z_score(rng):
    t = rng.exponential(2.0, size=10_000)
    ok = compare.first_passage_mean(t, 2.0, k=4.0)
    assert ok.passed and abs(ok.z) < 4 and ok.stderr == pytest.approx(0.02, rel=0.05)
    bad = compare.first_passage_mean(t, 2.2, k=4.0)
    assert not bad.passed and bad.z < -4
    assert compare.first_passage_mean(t, 2.2, k=4.0, bias=0.25).passed


def test_moments_standard_errors(rng):
    x = rng.normal(1.0, 2.0, size=(40_000, 1))
    mu, se_mu, C, se_C = compare.moment_stats(x)
    assert se_mu[0] == pytest.approx(2.0 / np.sqrt(40_000), rel=0.02)
    assert se_C[0, 0] == pytest.approx(4.0 * np.sqrt(2 / 40_000), rel=0.05)  # Gaussian: σ²√(2/n)
    assert compare.moments(x, mean=1.0, cov=4.0).passed
    assert not compare.moments(x, mean=1.1, cov=4.0).passed
    y = rng.multivariate_normal([0, 0], [[1.0, 0.5], [0.5, 2.0]], size=40_000)
    assert compare.moments(y, mean=[0, 0], cov=[[1.0, 0.5], [0.5, 2.0]]).passed


def test_em_ou_moments_against_the_recursion_and_first_order_bias():
    rate, D, x0, T = 1.3, 0.4, 1.5, 2.0
    for dt in (0.1, 0.05):
        m, v = x0, 0.0
        for _ in range(int(round(T / dt))):
            m, v = (1 - rate * dt) * m, (1 - rate * dt) ** 2 * v + 2 * D * dt
        assert compare.em_ou_moments(T, x0, rate, D, dt) == pytest.approx((m, v), rel=1e-12)
    b1 = np.array(compare.ou_weak_bias(T, x0, rate, D, 0.02))
    b2 = np.array(compare.ou_weak_bias(T, x0, rate, D, 0.01))
    np.testing.assert_allclose(b1 / b2, 2.0, rtol=0.02)


def test_stationary_factors():
    assert compare.em_variance_factor(0.1, 2.0) == pytest.approx(1 / 0.9)
    assert compare.sgd_variance_factor(0.2, 1.0) == compare.em_variance_factor(0.2, 1.0)
    # series: Var = η² C Σ_k (1 − ηλ)^(2k)
    lr, lam, C = 0.3, 1.5, 0.7
    series = lr ** 2 * C / (1 - (1 - lr * lam) ** 2)
    assert compare.sgd_quadratic_variance(lr, lam, C) == pytest.approx(series, rel=1e-12)
    with pytest.raises(fp.InputError):
        compare.em_variance_factor(1.0, 2.5)
    assert compare.monitoring_shift(0.5, 0.01) == pytest.approx(0.5826 * 0.1, rel=1e-4)


def test_moments_report_standard_errors_with_significant_digits(rng):
    x = rng.normal(0.0, 0.35, size=(10_000, 1))  # se of the mean ≈ 0.0035
    text = compare.moments(x, mean=0.0, cov=0.35 ** 2).verdict
    se = text.split("± ")[1].split(" vs")[0]
    assert se.startswith("[0.003") and "[0.]" not in text, text
