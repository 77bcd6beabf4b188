"""Effective drift and diffusion of tilted periodic landscapes: closed forms against limits and
against the renewal formula computed independently from passage-time moments."""
import numpy as np
import pytest
from scipy.special import i0

from fpsolve.errors import InputError
from fpsolve.theory import mfpt_1d
from fpsolve.theory.periodic import periodic_transport

L = 2 * np.pi
dU = lambda x: -np.sin(x)  # U = cos x: barrier 2, critical tilt F_c = 1


def test_free_drift_and_lifson_jackson():
    r = periodic_transport(L, drift=0.0, tilt=0.7, diffusion=0.3)
    assert r.velocity == pytest.approx(0.7, rel=1e-13)
    assert r.diffusion == pytest.approx(0.3, rel=1e-13)
    # no tilt, U = A cos x (A = 1): ∫e^{±U/D} = L I₀(A/D), so D_eff = D / I₀(A/D)² (Lifson–Jackson)
    D = 0.4
    r = periodic_transport(L, potential_derivative=dU, diffusion=D, x=[0.0, np.pi])
    assert abs(r.velocity) < 1e-15
    assert r.diffusion == pytest.approx(D / i0(1 / D) ** 2, rel=1e-12)
    # the stationary density on the circle is the Gibbs law e^{−cos x / D}/(L I₀)
    np.testing.assert_allclose(r.stationary, np.exp(-np.cos([0.0, np.pi]) / D) / (L * i0(1 / D)),
                               rtol=1e-12)


@pytest.mark.parametrize("convention", ["ito", "stratonovich", "isothermal"])
@pytest.mark.parametrize("F", [0.3, 1.05, -0.8])
def test_renewal_formula_with_state_dependent_d(convention, F):
    # independent reference: passages of successive periods are i.i.d., so v = L/T₁ and
    # D_eff = L²(T₂ − T₁²)/(2 T₁³), T₁, T₂ the moments of the passage from 0 to ±L by the
    # quadrature mfpt_1d (reflecting wall 12 periods behind: a correction r¹² ≤ e^{−20})
    D = lambda x: 0.4 * (1 + 0.5 * np.cos(x + 0.3))
    r = periodic_transport(L, potential_derivative=dU, tilt=F, diffusion=D,
                           convention=convention)
    b = lambda x: F - dU(x)
    sign = np.sign(F)
    m = mfpt_1d(0.0, sign * L, -sign * 12 * L, drift=b, diffusion=D, convention=convention,
                second_moment=True)
    T1, T2 = float(m.mean), float(m.second_moment)
    assert r.velocity == pytest.approx(sign * L / T1, rel=1e-10)
    assert r.diffusion == pytest.approx(L ** 2 * (T2 - T1 ** 2) / (2 * T1 ** 3), rel=1e-9)


def test_giant_diffusion_near_the_critical_tilt():
    # Reimann et al. (2001): near F_c the spread is enhanced over free diffusion, and more so
    # the smaller D (the peak grows like D^(−1/3) times the barrier-crossing factor); far above
    # F_c it returns to D. The magnitudes are checked by the renewal test above; here the shape.
    peak = {D: max(periodic_transport(L, potential_derivative=dU, tilt=F, diffusion=D).diffusion
                   / D for F in np.linspace(0.95, 1.05, 21)) for D in (0.05, 0.01)}
    assert peak[0.05] > 5 and peak[0.01] > 2 * peak[0.05]
    far = periodic_transport(L, potential_derivative=dU, tilt=20.0, diffusion=0.05)
    assert far.diffusion / 0.05 == pytest.approx(1.0, abs=0.01)  # O((F_c/F)²) ≈ 0.004 left


def test_bad_input():
    with pytest.raises(InputError, match="not periodic"):
        periodic_transport(L, drift=0.0, diffusion=lambda x: 1 + x)
    with pytest.raises(InputError, match="exactly one"):
        periodic_transport(L, diffusion=1.0)
