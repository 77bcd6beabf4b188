"""Periodic axes: a tilted periodic potential carries a constant current (Risken's closed form)."""
import numpy as np
import pytest
from scipy import integrate

import fpsolve as fp


def test_tilted_periodic_potential_density_and_current():
    L, D, F = 1.0, 0.3, 0.8
    V = lambda x: 0.5 * np.cos(2 * np.pi * x)
    dV = lambda x: -np.pi * np.sin(2 * np.pi * x)
    phi = lambda x: (V(x) - F * x) / D
    # Risken (11.45): p(x) ∝ e^(−φ(x)) ∫_x^{x+L} e^(φ(y)) dy
    xs = np.linspace(0.05, 0.95, 10)
    ref = np.array([np.exp(-phi(x)) * integrate.quad(lambda y: np.exp(phi(y)), x, x + L)[0]
                    for x in xs])
    Z = integrate.quad(lambda x: np.exp(-phi(x)) * integrate.quad(lambda y: np.exp(phi(y)), x,
                                                                 x + L)[0], 0, L)[0]
    g = fp.Grid([(0.0, L)], 400, periodic=True)
    m = fp.FokkerPlanck(g, drift=lambda x: F - dV(x), diffusion=D)
    p = m.stationary()
    assert not p.info["reversible"]
    np.testing.assert_allclose(p.at(xs[:, None]), ref / Z, rtol=2e-4)  # O(h²), h = 1/400
    J = m.face_flux(p)[0]
    # divergence-free: the same current through every face. J is a difference of two terms of
    # size D p / h ≈ 120 J; the solve is accurate to cond·ε ≈ N²ε ≈ 4e-11 relative.
    assert np.ptp(J) < 4e-11 * (D / g.h[0]) * p.values.max()
    J_ref = D * (1 - np.exp(-F * L / D)) / Z
    assert J.mean() == pytest.approx(J_ref, rel=2e-4)


def test_periodic_potential_without_tilt_is_reversible_gibbs():
    g = fp.Grid([(0.0, 1.0)], 64, periodic=True)
    m = fp.FokkerPlanck(g, potential=lambda x: np.cos(2 * np.pi * x), diffusion=0.5)
    p = m.stationary()
    assert p.info["reversible"]
    ref = np.exp(-np.cos(2 * np.pi * g.axes[0]) / 0.5)
    np.testing.assert_allclose(p.values, ref / (ref.sum() * g.cell_volume), rtol=1e-12)
