"""Principal eigenvalue of a killed 1D diffusion by quadrature, against closed forms."""
import numpy as np
import pytest
from scipy import integrate

from fpsolve.errors import InputError
from fpsolve.theory.killed_spectrum import ou_killed_eigenvalue, principal_eigenvalue_1d
from fpsolve.theory.quadrature import mfpt_1d

# the panel quadrature claims ≤ 1e-9 relative; the closed forms are exact up to round-off
# (1e-15), except scipy's parabolic-cylinder function, good to ~1e-11 (checked below at the
# exactly known roots ν = 1, 2)
REL = 1e-9


@pytest.mark.parametrize("c", [-1.0, 0.0, 1.0, 3.0, 5.0])
def test_ou_killed_at_c_against_parabolic_cylinder_zero(c):
    k, D = 1.3, 0.7
    xi = c * np.sqrt(k / D)
    # the OU process lives on (−∞, c): a reflecting wall 14 standard deviations away removes
    # mass e^(−98) relative, far below the tolerance
    r = principal_eigenvalue_1d(c - 14 * np.sqrt(D / k) - max(0.0, -c), c,
                                potential_derivative=lambda x: k * x, diffusion=D)
    assert r.rate == pytest.approx(ou_killed_eigenvalue(k, D, c), rel=REL)
    assert r.rate * r.mean_time == pytest.approx(1.0)
    if xi == 0.0:  # D_1(0) = 0: λ₁ = k exactly (eigenfunction −x)
        assert r.rate == pytest.approx(k, rel=1e-12)


def test_parabolic_cylinder_roots_known_exactly():
    # D_1(z) = z e^(−z²/4) vanishes at 0, D_2(z) = (z² − 1)e^(−z²/4) at ±1
    assert ou_killed_eigenvalue(1.0, 1.0, 0.0) == pytest.approx(1.0, rel=1e-12)
    assert ou_killed_eigenvalue(1.0, 1.0, -1.0) == pytest.approx(2.0, rel=1e-10)
    assert ou_killed_eigenvalue(2.0, 1.0, 1.0, side="lower") == pytest.approx(
        ou_killed_eigenvalue(2.0, 1.0, -1.0), rel=1e-14)


@pytest.mark.parametrize("absorbing", ["both", "upper", "lower"])
def test_interval_closed_forms(absorbing):
    D, L = 0.3, 2.0
    x = np.linspace(0.0, L, 9)
    r = principal_eigenvalue_1d(0.0, L, absorbing=absorbing, drift=0.0, diffusion=D, x=x)
    if absorbing == "both":  # λ = D π²/L², φ = ν ∝ sin(πx/L)
        lam, nu = D * np.pi ** 2 / L ** 2, np.pi / (2 * L) * np.sin(np.pi * x / L)
    else:  # one end reflecting: quarter wave, λ = D π²/(4L²)
        z = x if absorbing == "upper" else L - x
        lam, nu = D * np.pi ** 2 / (4 * L ** 2), np.pi / (2 * L) * np.cos(np.pi * z / (2 * L))
    assert r.rate == pytest.approx(lam, rel=1e-12)
    np.testing.assert_allclose(r.qsd, nu, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.eigenfunction, nu / nu.max(), rtol=1e-10, atol=1e-14)


def test_constant_drift_both_absorbing():
    # b = v on (0, L), killed at both ends: λ = D π²/L² + v²/(4D), ν ∝ e^(vx/2D) sin(πx/L)
    v, D, L = 1.7, 0.4, 1.5
    r = principal_eigenvalue_1d(0.0, L, absorbing="both", drift=v, diffusion=D,
                                x=[0.3, 0.75, 1.2])
    assert r.rate == pytest.approx(D * np.pi ** 2 / L ** 2 + v ** 2 / (4 * D), rel=1e-12)
    shape = np.exp(v * r.x / (2 * D)) * np.sin(np.pi * r.x / L)
    np.testing.assert_allclose(r.qsd / r.qsd[0], shape / shape[0], rtol=1e-10)


@pytest.mark.parametrize("y_exit", [8.0, 16.0, 20.0])
def test_fold_far_past_the_barrier(y_exit):
    # issue 19's noisy fold dy = (y² − 1)dt + √2 dW, reflecting at −9: past the saddle U falls by
    # up to ~2700 D, the QSD must still sit in the well, and E_ν τ = 1/λ₁ (τ by quadrature)
    x = np.linspace(-9.0, y_exit, 4001)
    r = principal_eigenvalue_1d(-9.0, y_exit, drift=lambda y: y ** 2 - 1, diffusion=1.0, x=x)
    mass = integrate.simpson(r.qsd, x=x)
    assert mass == pytest.approx(1.0, abs=1e-6)  # Simpson on 4000 intervals
    assert integrate.simpson(r.qsd[x < 1.0], x=x[x < 1.0]) > 0.9
    tau = mfpt_1d(x, y_exit, -9.0, drift=lambda y: y ** 2 - 1, diffusion=1.0).mean
    assert r.rate * integrate.simpson(r.qsd * tau, x=x) == pytest.approx(1.0, abs=1e-6)
    # the decay rate does not depend on where far past the saddle the exit is (the time spent
    # past y ≈ 8 is ~1/8): λ₁ moves by less than 1e-12 between y_exit = 8 and 20
    assert r.rate == pytest.approx(0.0820749685574, rel=1e-11)


def test_bad_input():
    with pytest.raises(InputError, match="absorbing"):
        principal_eigenvalue_1d(0, 1, absorbing="left", drift=0.0)
    with pytest.raises(InputError):
        ou_killed_eigenvalue(-1.0, 1.0, 0.0)
