"""The closed forms of fpsolve.kinetic.theory against independent computations: the 2×2 drift
matrix's eigenvalues, the quartic well's exact action, the limits of Mel'nikov's factor,
quadrature convergence, and the heavy-ball Lyapunov covariance against its fixed-point series."""
import numpy as np
import pytest
from scipy.special import zeta

from fpsolve.kinetic import theory

U_DW = lambda x: (x * x - 1) ** 2 / 4


@pytest.mark.parametrize("gamma", [0.5, 2.0, 3.0])
def test_ou_exponents_are_the_drift_eigenvalues(gamma):
    """μ± are the eigenvalues of −B, B = [[0, 1], [−ω², −γ]] (ω = 1.3)."""
    w = 1.3
    mu = np.sort_complex(np.array(theory.kinetic_ou_exponents(w, gamma), dtype=complex))
    ref = np.sort_complex(np.linalg.eigvals(-np.array([[0, 1], [-w * w, -gamma]])))
    np.testing.assert_allclose(mu, ref, atol=1e-12)
    ev = theory.kinetic_ou_eigenvalues(w, gamma, 4)
    assert ev[0] == 0 and np.all(np.diff(np.real(ev)) >= -1e-15)


def test_action_and_period_of_the_double_well():
    """I(E_b) = 4/3 for U = (x² − 1)²/4 (∫ x√(2 − x²) dx in closed form); P(E → 0) = 2π/ω_a,
    ω_a = √2 (the anharmonic correction is O(E): 1e-5 at E = 1e-5); P = dI/dE by a central
    difference."""
    w = theory.Well(U_DW, -1.0, (-2.0, 0.0))
    assert w.action(0.25 - 1e-14) == pytest.approx(4 / 3, rel=1e-9)
    assert w.period(1e-5) == pytest.approx(2 * np.pi / np.sqrt(2), rel=3e-5)
    E, h = 0.1, 1e-5
    assert w.period(E) == pytest.approx((w.action(E + h) - w.action(E - h)) / (2 * h), rel=1e-7)


def test_melnikov_factor_limits():
    """A(Δ) = Δ(1 + ζ(½)/√π·√Δ + O(Δ)) at small Δ (ζ(½) = −1.4603545), → 1 at large Δ."""
    d = np.array([1e-6, 1e-4, 1e-2])
    np.testing.assert_allclose(theory.melnikov_factor(d) / d,
                               1 + zeta(0.5) / np.sqrt(np.pi) * np.sqrt(d), atol=2 * d.max())
    assert theory.melnikov_factor(200.0) == pytest.approx(1.0, abs=1e-12)
    a = theory.melnikov_factor(np.array([0.1, 1.0, 10.0]))
    assert np.all(np.diff(a) > 0) and np.all(a < 1)


def test_energy_diffusion_mfpt_quadrature_and_its_asymptotics():
    """n = 48 against n = 96 (relative 2e-7 measured); τ·k_ED → 1 as T → 0 (1.44, 1.21, 1.10
    at T = 0.05, 0.025, 0.0125 — O(T) corrections) and τ ∝ 1/γ exactly."""
    w = theory.Well(U_DW, -1.0, (-2.0, 0.0))
    t48 = theory.energy_diffusion_mfpt(w, 0.01, 0.025, 0.25)
    t96 = theory.energy_diffusion_mfpt(w, 0.01, 0.025, 0.25, n=96)
    assert abs(t48 / t96 - 1) < 1e-6
    r = [theory.energy_diffusion_mfpt(w, 0.01, T, 0.25)
         * theory.energy_diffusion_rate(0.01, 4 / 3, np.sqrt(2), 0.25, T)
         for T in (0.05, 0.025, 0.0125)]
    assert r[0] > r[1] > r[2] > 1 and r[2] < 1.12
    assert theory.energy_diffusion_mfpt(w, 0.02, 0.025, 0.25) == pytest.approx(t48 / 2,
                                                                                rel=1e-12)


def test_rate_formulas_limits():
    wa, wb, dU, T = np.sqrt(2), 1.0, 0.25, 0.05
    big = 1e4
    assert theory.kramers_rate(big, wa, wb, dU, T) == pytest.approx(
        theory.smoluchowski_rate(big, wa, wb, dU, T), rel=1e-7)
    assert theory.kramers_rate(1e-9, wa, wb, dU, T) == pytest.approx(
        theory.tst_rate(wa, dU, T), rel=1e-8)


def test_heavy_ball_quadratic_covariance_against_the_series():
    """Σ_k A^k Q (A^k)ᵀ summed to convergence (independent of scipy's Lyapunov solver); and the
    Langevin limit: Var θ → T/λ, Var v → ηT (T = ηC/(2(1 − β))) as η → 0 at fixed γ."""
    eta, beta, lam, C = 0.04, 0.8, 1.5, 2.0
    P = theory.heavy_ball_quadratic_covariance(eta, beta, lam, C)
    A = np.array([[1 - eta * lam, beta], [-eta * lam, beta]])
    b = np.array([[-eta], [-eta]])
    S, Ak = np.zeros((2, 2)), np.eye(2)
    for _ in range(5000):
        S += Ak @ (C * b @ b.T) @ Ak.T
        Ak = A @ Ak
    np.testing.assert_allclose(P, S, rtol=1e-10)
    for eta in (1e-4, 1e-6):
        beta = 1 - 1.0 * np.sqrt(eta)               # γ = 1
        T = eta * C / (2 * (1 - beta))
        P = theory.heavy_ball_quadratic_covariance(eta, beta, lam, C)
        assert P[0, 0] / (T / lam) == pytest.approx(1, abs=3 * np.sqrt(eta))
        assert P[1, 1] / (eta * T) == pytest.approx(
            theory.heavy_ball_velocity_variance_factor(eta, beta), rel=3 * np.sqrt(eta))
