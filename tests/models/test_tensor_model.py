"""FokkerPlanck with a tensor diffusion: Chaudhari–Soatto's non-equilibrium OU, against the
Lyapunov solution computed here with scipy."""
import numpy as np
import pytest
from scipy.linalg import solve_continuous_lyapunov

import fpsolve as fp

H = np.diag([1.0, 4.0])                      # f = ½(x₁² + 4x₂²)
D = np.array([[0.30, 0.12], [0.12, 0.20]])   # HD ≠ DH: a stationary current


def ou_model(D, n=(120, 72)):
    g = fp.Grid([(-2.7, 2.7), (-1.6, 1.6)], n)
    return fp.FokkerPlanck(g, potential=lambda x, y: 0.5 * (x ** 2 + 4 * y ** 2), diffusion=D)


def test_chaudhari_soatto_covariance_and_circulation():
    Sigma = solve_continuous_lyapunov(H, 2 * D)   # HΣ + ΣH = 2D
    Q = 0.5 * (H @ Sigma - Sigma @ H)
    m = ou_model(D)
    p = m.stationary()
    assert not p.info["reversible"] and p.info["m_matrix"]
    # O(h²) with h/σ₂ ≈ 0.2: ~0.3% on the covariance entries
    np.testing.assert_allclose(p.cov(), Sigma, rtol=1e-2, atol=1e-4)
    # J = (−H + DΣ⁻¹) x p = −QΣ⁻¹ x p, so ∫(x₁J₂ − x₂J₁) = (AΣ)₂₁ − (AΣ)₁₂ = 2 Q₁₂
    assert m.circulation(p) == pytest.approx(2 * Q[0, 1], rel=2e-2)


def test_no_current_when_hessian_and_noise_commute():
    Dc = np.diag([0.3, 0.2])
    m = ou_model(Dc)
    p = m.stationary()
    assert p.info["reversible"]
    assert abs(m.circulation(p)) < 1e-12
    np.testing.assert_allclose(p.cov(), np.linalg.solve(H, Dc), rtol=1e-2, atol=1e-12)


def test_tensor_input_errors():
    with pytest.raises(fp.InputError, match="symmetric"):
        ou_model(np.array([[0.3, 0.1], [0.0, 0.2]]))
    with pytest.raises(fp.InputError):
        ou_model(np.array([[0.3, 0.5], [0.5, 0.2]]))   # indefinite
    singular = np.array([[0.3, 0.0], [0.0, 0.0]])
    with pytest.raises(fp.InputError, match="singular.*floor"):
        ou_model(singular, n=(20, 12))
    g = fp.Grid([(-2.7, 2.7), (-1.6, 1.6)], (20, 12))
    m = fp.FokkerPlanck(g, potential=lambda x, y: 0.5 * (x ** 2 + 4 * y ** 2), diffusion=singular,
                        floor=1e-2)
    assert m.rates.n_floored == 240
