"""Survival S(t) and first-passage density from the forward solve (time stepping of the killed
generator) against the principal eigenvalue and the backward mean first-passage time."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import escape

U = lambda x: (x ** 2 - 1) ** 2


@pytest.fixture(scope="module")
def setup():
    g = fp.Grid([(-2.0, 1.0)], 600)
    m = fp.FokkerPlanck(g, potential=U, diffusion=1.0 / 6.0)  # ΔU/D = 6
    tgt = lambda x: x >= 0.5
    p0 = fp.Density(g, np.exp(-(g.axes[0] + 1.2) ** 2 / 0.02))
    lam = escape.quasi_stationary(m, tgt).rate
    T = 8.0 / lam
    times = np.concatenate([[0.0], np.geomspace(1e-2, 0.5, 30), np.linspace(1.0, T, 150)])
    s = escape.survival(m, tgt, p0, times, dt=T / 3000)
    return m, tgt, p0, lam, s


def test_survival_decays_like_the_principal_eigenvalue(setup):
    m, tgt, p0, lam, s = setup
    assert s.survival[0] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(s.survival) <= 1e-13)
    assert s.decay_rate() == pytest.approx(lam, rel=1e-4)
    late = s.times > 3.0 / lam
    amp = s.survival[late] * np.exp(lam * s.times[late])  # S(t) → c e^{−λ₁ t}
    assert np.ptp(amp) / amp.mean() < 1e-4
    # the first-passage density is −dS/dt = λ₁ S at late times
    np.testing.assert_allclose(s.first_passage_density[late], lam * s.survival[late], rtol=1e-6)


def test_integral_of_survival_is_the_averaged_mfpt(setup):
    """∫₀^∞ S dt = E_{p0} τ, with E τ(x) from the backward solve (a different method)."""
    m, tgt, p0, lam, s = setup
    tau = escape.mean_first_passage_time(m, tgt)
    ref = p0.expect(tau.values)
    assert s.mean_time() == pytest.approx(ref, rel=1e-3)  # trapezoid in t; measured 3e-4
    # the first-passage density (the absorbed flux) is −dS/dt: central differences of S on the
    # uniform part of the output times, error (λ₁Δt)²/6 ≈ 5e-4
    t, S, f = s.times[-150:], s.survival[-150:], s.first_passage_density[-150:]
    dS = -(S[2:] - S[:-2]) / (t[2:] - t[:-2])
    np.testing.assert_allclose(dS, f[1:-1], rtol=2e-3)


def test_start_inside_the_target_is_absorbed_at_once():
    g = fp.Grid([(-1, 1)], 50)
    m = fp.FokkerPlanck(g, potential=lambda x: x ** 2, diffusion=0.5)
    p0 = fp.Density(g, np.ones(50))
    s = escape.survival(m, lambda x: x > 0.5, p0, [0.0, 0.1], keep_densities=True)
    assert s.survival[0] == pytest.approx(np.mean(g.axes[0] <= 0.5), abs=1e-12)
    assert len(s.densities) == 2 and np.all(s.densities[1].values[g.axes[0] > 0.5] == 0)
