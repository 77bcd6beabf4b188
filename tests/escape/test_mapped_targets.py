"""First passage on grids reaching to ±∞ (fpsolve.escape.mapped): targets given in x, carried
to the computational coordinate with their edges exact, against the 1D quadratures of
fpsolve.theory (natural ends at ±∞) and the QIF closed form (an exit at +∞)."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import InputError
from fpsolve.escape import Box, HalfSpace, Wall, computational_region


def line(n, **kw):
    return fp.Grid([(-np.inf, np.inf)], n, **kw)


def ou(n):
    return fp.FokkerPlanck(line(n), potential=lambda x: x * x / 2, diffusion=0.5)


def test_edges_of_a_set_in_x_land_exactly_in_y():
    g = line(64, scale=2.0, centre=0.5)
    r = computational_region(Box([(-1.0, 2.0)]), g)
    lo, hi = r.lo[0], r.hi[0]
    np.testing.assert_allclose(g.to_physical(np.array([lo, hi])), [-1.0, 2.0], rtol=1e-14)
    r = computational_region(HalfSpace(1, 3.0), g)  # x ≥ 3: up to the end at +∞
    assert r.hi[0] == np.inf and g.to_physical(r.lo[0]) == pytest.approx(3.0, rel=1e-14)
    wall = Wall(0, "high")  # the end at +∞ as it is: an exit at infinity
    assert computational_region(wall, g) is wall


def test_a_set_outside_the_domain_raises():
    with pytest.raises(InputError, match="does not meet the domain"):
        computational_region(HalfSpace(-1, 1.0), fp.Grid([(0.0, np.inf)], 20))  # x ≤ −1


def test_mfpt_to_a_half_line_second_order_against_a_natural_end():
    """OU k = 1, D = ½ from 0 to x ≥ 1.5, reflecting (natural) at −∞: second order (measured
    6.6e-3, 1.5e-3, 3.8e-4 at n = 100, 200, 400; orders 2.15, 1.95)."""
    ref = float(fp.theory.mfpt_1d(0.0, 1.5, -np.inf, potential_derivative=lambda x: x,
                                  diffusion=0.5).mean)
    err = [ou(n).mean_first_passage_time(HalfSpace(1, 1.5)).at(0.0) / ref - 1
           for n in (100, 200, 400)]
    orders = np.log2(np.abs(err[:-1]) / np.abs(err[1:]))
    assert np.all((orders > 1.8) & (orders < 2.3)) and abs(err[-1]) < 5e-4


def test_committor_between_half_lines():
    """q(0) to reach x ≥ 1 before x ≤ −0.5 (OU, both targets' edges exact in y) against the
    splitting quadrature: O(h²) (measured 2.0e-4 at n = 200, 5.1e-5 at n = 400)."""
    m = ou(400)
    q = fp.escape.committor(m, HalfSpace(-1, 0.5), HalfSpace(1, 1.0))
    ref = fp.theory.splitting_probability_1d(0.0, -0.5, 1.0, potential_derivative=lambda x: x,
                                             diffusion=0.5)
    assert q.at(0.0) == pytest.approx(float(ref.to_upper), rel=1.5e-4)


def test_exit_at_infinity_qif():
    """The QIF neuron's passage to the exit at +∞ (Wall(0, 'high')): from −∞ at order ≈ 1.85,
    from a finite start at FIRST order — the logarithmic face mean of D_y = D/ψ′² in the outer
    cells (docs/guide/grids, "Domains to ±∞"). Recorded here so that a fix shows."""
    mu, D = 1.0, 0.5
    ref_inf = fp.theory.qif_passage_time(mu, D).mean
    ref_0 = fp.theory.qif_passage_time(mu, D, x0=0.0).mean
    e_inf, e_0 = [], []
    for n in (200, 400):
        m = fp.FokkerPlanck(line(n), drift=lambda x: x * x + mu, diffusion=D)
        tau = m.mean_first_passage_time(Wall(0, "high"))
        e_inf.append(abs(tau.at(-np.inf) / ref_inf - 1))
        e_0.append(abs(tau.at(0.0) / ref_0 - 1))
    assert e_inf[1] < 2.5e-3 and np.log2(e_inf[0] / e_inf[1]) > 1.7   # 1.9e-3, order 1.84
    assert e_0[1] < 2.5e-2 and 0.8 < np.log2(e_0[0] / e_0[1]) < 1.3    # 2.0e-2, order 1.02
