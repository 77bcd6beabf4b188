"""Conditional exit times from an interval by quadrature, against closed forms and identities."""
import numpy as np
import pytest

from fpsolve.theory import conditional_exit_times_1d, mfpt_interval_1d

REL = 1e-10  # the panel quadrature's claimed accuracy is 1e-9; closed forms exact to 1e-15


def test_brownian_motion_closed_forms():
    # BM with diffusion D on (0, L): P(exit L) = x/L, E[τ | exit L] = (L² − x²)/(6D),
    # E[τ | exit 0] = x(2L − x)/(6D), E[τ² | exit L] = (L² − x²)(7L² − 3x²)/(180 D²) (from the
    # Laplace transform (L/x) sinh(x√(s/D))/sinh(L√(s/D)) of the conditioned exit time)
    D, L = 0.3, 2.0
    x = np.array([0.1, 0.7, 1.9])
    r = conditional_exit_times_1d(x, 0.0, L, drift=0.0, diffusion=D)
    np.testing.assert_allclose(r.probability_upper, x / L, rtol=REL)
    np.testing.assert_allclose(r.mean_upper, (L ** 2 - x ** 2) / (6 * D), rtol=REL)
    np.testing.assert_allclose(r.mean_lower, x * (2 * L - x) / (6 * D), rtol=REL)
    np.testing.assert_allclose(r.second_moment_upper,
                               (L ** 2 - x ** 2) * (7 * L ** 2 - 3 * x ** 2) / (180 * D ** 2),
                               rtol=REL)
    y = L - x  # mirror image for the lower end
    np.testing.assert_allclose(r.second_moment_lower,
                               (L ** 2 - y ** 2) * (7 * L ** 2 - 3 * y ** 2) / (180 * D ** 2),
                               rtol=REL)


@pytest.mark.parametrize("convention", ["ito", "isothermal"])
def test_conditional_moments_add_up_to_the_unconditional_ones(convention):
    b = lambda y: 1 - 2 * y
    D = lambda y: 0.3 * (1 + 0.4 * np.sin(y))
    x = np.array([0.05, 0.7, 1.95])
    r = conditional_exit_times_1d(x, 0.0, 2.0, drift=b, diffusion=D, convention=convention)
    m = mfpt_interval_1d(x, 0.0, 2.0, drift=b, diffusion=D, convention=convention,
                         second_moment=True)
    np.testing.assert_allclose(r.probability_upper + r.probability_lower, 1.0, rtol=1e-13)
    np.testing.assert_allclose(r.probability_upper * r.mean_upper
                               + r.probability_lower * r.mean_lower, m.mean, rtol=REL)
    np.testing.assert_allclose(r.probability_upper * r.second_moment_upper
                               + r.probability_lower * r.second_moment_lower, m.second_moment,
                               rtol=REL)


def test_unlikely_exit_keeps_its_relative_accuracy():
    # a drift of −60 against the upper end: P(exit up) ~ e^(−300); the conditioned process
    # crosses against the drift in time ~ L/|b| (the h-transform reverses the drift), and the
    # quadrature returns it from log-space sums without forming 1 − P
    r = conditional_exit_times_1d([1.0], 0.0, 2.0, drift=-60.0, diffusion=0.2)
    assert r.probability_upper[0] < 1e-120
    # conditioned on exiting up, the process moves with drift +60 (Doob): E[τ|up] = 1/60 up to
    # the diffusive correction ~ D/(|b| · distance) = 0.3 %
    assert r.mean_upper[0] == pytest.approx(1.0 / 60.0, rel=0.01)
    assert r.mean_lower[0] == pytest.approx(1.0 / 60.0, rel=0.01)
