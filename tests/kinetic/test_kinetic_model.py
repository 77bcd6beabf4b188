"""Bad input for the phase-space model and the heavy-ball mapping: clear errors before any
work, warnings with numbers where an answer may be inaccurate."""
import warnings

import numpy as np
import pytest
from scipy.special import ndtr

import fpsolve as fp
from fpsolve.errors import InputError
from fpsolve.kinetic import Langevin, mapping
from fpsolve.noise import Isotropic, LossScaled, WhiteNoise

U = lambda x: (x ** 2 - 1) ** 2 / 4
GRID = fp.Grid([(-2.4, 2.4), (-2.6, 2.6)], (48, 48))


@pytest.mark.parametrize("gamma", [0.0, -1.0, np.nan, np.inf, True, "1"])
def test_non_positive_friction(gamma):
    with pytest.raises(InputError, match="friction"):
        Langevin(GRID, U, friction=gamma, temperature=0.2)


@pytest.mark.parametrize("T", [0.0, -0.1, lambda x: 0.2 - x ** 2, np.full(48, -1.0), np.nan])
def test_non_positive_temperature(T):
    with pytest.raises(InputError, match="temperature"):
        Langevin(GRID, U, friction=1.0, temperature=T)


@pytest.mark.filterwarnings("ignore:divide by zero")
def test_wrong_grids_and_potentials():
    with pytest.raises(InputError, match="2D"):
        Langevin(fp.Grid([(-2, 2)], 40), U, friction=1.0, temperature=0.2)
    with pytest.raises(InputError, match="periodic"):
        Langevin(fp.Grid([(-2, 2), (-2, 2)], 20, periodic=(True, False)), U, friction=1.0,
                 temperature=0.2)
    with pytest.raises(InputError, match="callable"):
        Langevin(GRID, np.zeros(48), friction=1.0, temperature=0.2)
    with pytest.raises(InputError, match="not finite"):
        Langevin(GRID, lambda x: 1 / (x - GRID.axes[0][3]), friction=1.0, temperature=0.2)
    with pytest.raises(InputError, match="shape"):
        Langevin(GRID, U, friction=1.0, temperature=np.ones(7))
    with pytest.raises(InputError, match="scheme"):
        Langevin(GRID, U, friction=1.0, temperature=0.2, scheme="weno")


def test_velocity_box_too_small_warns_with_the_mass_lost():
    T = 0.5
    with pytest.warns(RuntimeWarning) as rec:
        m = Langevin(fp.Grid([(-2.4, 2.4), (-1.5, 1.5)], 48), U, friction=1.0, temperature=T)
    lost = 2 * ndtr(-1.5 / np.sqrt(T))          # mass of N(0, T) beyond ±1.5, computed here
    msg = str(rec[0].message)
    assert f"{lost:.2e}" in msg and "velocity box" in msg
    assert m.box_report["velocity_mass_outside"] == pytest.approx(lost, rel=1e-12)


def test_x_wall_in_the_distribution_warns_once_when_asked():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = Langevin(fp.Grid([(-1.2, 1.2), (-2.6, 2.6)], 48), U, friction=1.0, temperature=0.2)
    with pytest.warns(RuntimeWarning, match="x-wall"):
        m.stationary()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.stationary()                     # once per wall


def test_first_passage_only_checks_the_walls_it_sees():
    """A box cut just past the target is fine for first passage (the right wall is beyond it)."""
    m = Langevin(fp.Grid([(-2.4, 1.2), (-2.6, 2.6)], 48), U, friction=1.0, temperature=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.mean_first_passage_time((1.0, None))


def test_heavy_ball_mapping():
    eta, beta = 0.01, 0.9
    assert mapping.friction(eta, beta) == pytest.approx(1.0)       # (1 − β)/√η
    assert mapping.momentum_for(eta, 1.0) == pytest.approx(beta)
    assert mapping.temperature(eta, beta, 2.0) == pytest.approx(0.1)  # ηC/(2(1 − β))
    assert mapping.effective_learning_rate(eta, beta) == pytest.approx(0.1)
    assert mapping.iterations(1.0, eta) == pytest.approx(10.0)
    for bad in ((0.0, 0.9), (0.01, 1.0), (0.01, -0.1), (-1, 0.5)):
        with pytest.raises(InputError):
            mapping.friction(*bad)


@pytest.mark.filterwarnings("ignore:Langevin. the velocity spacing")
def test_langevin_sgd_constructor():
    g = fp.Grid([(-2.4, 2.4), (-2.0, 2.0)], (48, 64))
    m = Langevin.sgd(g, U, lr=0.01, momentum=0.9, batch_size=4, noise=Isotropic(2.0))
    assert m.friction == pytest.approx(1.0) and m.constant_T
    assert m.T_cells[0] == pytest.approx(0.01 * 2.0 / 4 / (2 * 0.1))
    assert m.effective_lr == pytest.approx(0.1) and m.time_unit == "t = k·sqrt(lr)"
    ls = Langevin.sgd(g, U, lr=0.01, momentum=0.9, batch_size=4,
                      noise=LossScaled(1.0, loss_offset=0.5))
    np.testing.assert_allclose(ls.T_cells, 0.01 * 2 * (U(g.axes[0]) + 0.5) / 4 / 0.2)
    wn = Langevin.sgd(g, U, lr=0.01, momentum=0.5, batch_size=8, noise=WhiteNoise(0.3))
    assert wn.T_cells[0] == pytest.approx(0.3)       # WhiteNoise: T itself (SGLD-like)
    with pytest.raises(InputError):
        Langevin.sgd(g, U, lr=0.01, momentum=0.9, batch_size=4, noise=2.0)
    with pytest.raises(InputError):
        Langevin.sgd(g, U, lr=0.01, momentum=1.2, batch_size=4, noise=Isotropic(1.0))


def test_top_level_export():
    assert fp.Langevin is Langevin
