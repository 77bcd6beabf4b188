"""References on domains reaching to ±∞: Mori et al.'s power law L^(−φ) on the line
(theory.mori.power_law_law_1d) and the quadratures with natural ends (theory.quadrature),
against scipy.integrate.quad of the closed forms and against finite far walls."""
import numpy as np
import pytest
import scipy.integrate as si

import fpsolve as fp
from fpsolve import InputError
from fpsolve.theory import mori


@pytest.mark.parametrize("phi", [0.75, 1.05, 2.0])
def test_power_law_is_normalised_on_the_line(phi):
    """∫ L^(−φ)/Z dθ = 1 by quad of the unnormalised power (a different route than the Γ
    functions of the normaliser), and the tail mass by quad of the tail."""
    Ls, h = 0.5, 1.0
    law = mori.power_law_law_1d(Ls, h, phi)
    f = lambda t: np.exp(-phi * np.log(Ls + h * t * t / 2) - law.log_normaliser)  # noqa: E731
    total = 2 * sum(si.quad(f, a, b, epsabs=0, epsrel=1e-12, limit=400)[0]
                    for a, b in ((0, 10), (10, 1e3), (1e3, np.inf)))
    assert total == pytest.approx(1.0, rel=1e-9)  # quad of a |θ|^(−2φ) tail: ~1e-10
    R = 1e3
    tail = 2 * si.quad(f, R, np.inf, epsabs=0, epsrel=1e-10, limit=400)[0]
    assert law.tail_mass(R) == pytest.approx(tail, rel=1e-8)
    assert np.isinf(law.variance) == (phi <= 1.5)


def test_power_law_refuses_a_law_that_is_not_normalisable():
    with pytest.raises(InputError, match="φ > 1/2"):
        mori.power_law_law_1d(0.5, 1.0, 0.5)


def test_stationary_density_to_infinity_is_the_power_law():
    """φ = 1.05 (tails |θ|^(−2.1)): the log-space quadrature with both ends at ±∞ against the
    closed form, to the quadrature's ~1e-12."""
    Ls, h, phi = 0.5, 1.0, 1.05
    c = 1 / (phi - 1)
    x = np.array([-1e6, -30.0, 0.0, 1.5, 1e4])
    q = fp.theory.stationary_density_1d(x, -np.inf, np.inf, potential_derivative=lambda t: h * t,
                                        diffusion=lambda t: c * (Ls + h * t * t / 2))
    np.testing.assert_allclose(q.density, mori.power_law_law_1d(Ls, h, phi).density(x),
                               rtol=1e-10)


def test_mfpt_with_a_natural_end_is_the_far_wall_limit():
    """OU (k = 1, D = ½) from 0 to 1.5: a natural end at −∞ against a reflecting wall at −12,
    where the density is e^(−144) of its peak (the difference is far below round-off)."""
    kw = dict(potential_derivative=lambda x: x, diffusion=0.5)
    a = float(fp.theory.mfpt_1d(0.0, 1.5, -np.inf, **kw).mean)
    b = float(fp.theory.mfpt_1d(0.0, 1.5, -12.0, **kw).mean)
    assert a == pytest.approx(b, rel=1e-11)
