"""Effective drift and diffusion of the model on periodic landscapes, against the closed forms
of fpsolve.theory.periodic_transport (Stratonovich, Lifson–Jackson, Reimann et al.)."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve.errors import InputError
from fpsolve.escape import effective_transport
from fpsolve.theory import periodic_transport

L = 2 * np.pi
dU = lambda x: -np.sin(x)  # U = cos x


def order(h, err):
    return float(np.polyfit(np.log(h), np.log(err), 1)[0])


@pytest.mark.parametrize("convention", ["ito", "stratonovich", "isothermal"])
@pytest.mark.parametrize("F", [0.6, 1.1])
def test_state_dependent_d_second_order(convention, F):
    D = lambda x: 0.4 * (1 + 0.5 * np.cos(x + 0.3))
    ref = periodic_transport(L, potential_derivative=dU, tilt=F, diffusion=D,
                             convention=convention)
    ev, ed, hs = [], [], []
    for n in (32, 64, 128, 256):
        m = fp.FokkerPlanck(fp.Grid([(0, L)], n, periodic=True), drift=lambda x: F - dU(x),
                            diffusion=D, convention=convention)
        r = effective_transport(m)
        ev.append(abs(r.velocity[0] / ref.velocity - 1))
        ed.append(abs(r.diffusion[0, 0] / ref.diffusion - 1))
        hs.append(L / n)
    assert order(hs, ev) >= 1.9 and order(hs, ed) >= 1.9
    assert ev[-1] < 1e-3 and ed[-1] < 1e-3


def test_no_tilt_is_lifson_jackson_and_2d_confined():
    D = 0.4
    ref = periodic_transport(L, potential_derivative=dU, diffusion=D)
    m = fp.FokkerPlanck(fp.Grid([(0, L)], 128, periodic=True), potential=lambda x: np.cos(x),
                        diffusion=D)
    r = effective_transport(m)
    assert abs(r.velocity[0]) < 1e-14  # detailed balance: no net current
    # O((h/ℓ)²), ℓ = sqrt(D/U″) the well width (the potential form, P = −ΔU/D_f)
    assert r.diffusion[0, 0] == pytest.approx(ref.diffusion, rel=(L / 128 / np.sqrt(D)) ** 2)
    # 2D: periodic and tilted along x, an OU confinement along y that does not couple: the
    # transport along x is the 1D one (the y axis is not periodic: no drift, no spread)
    F = 0.6
    ref = periodic_transport(L, potential_derivative=dU, tilt=F, diffusion=D)
    g = fp.Grid([(0, L), (-2.5, 2.5)], (128, 20), periodic=(True, False))
    r = effective_transport(fp.FokkerPlanck(g, drift=lambda x, y: (F - dU(x), -y),
                                            diffusion=D))
    assert r.axes == (0,)
    h = L / 128
    assert r.velocity[0] == pytest.approx(ref.velocity, rel=(h / 0.3) ** 2)
    assert r.diffusion[0, 0] == pytest.approx(ref.diffusion, rel=(h / 0.3) ** 2)


def test_needs_a_periodic_axis():
    m = fp.FokkerPlanck(fp.Grid([(0, 1)], 10), diffusion=1.0)
    with pytest.raises(InputError, match="periodic"):
        effective_transport(m)
