"""Every bad input gets a clear InputError before any solve (what, where, what to do)."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import InputError

G1 = fp.Grid([(-1.0, 1.0)], 20)
G2 = fp.Grid([(-1.0, 1.0), (-1.0, 1.0)], 10)


@pytest.mark.parametrize("D, match", [
    (0.0, "positive"),
    (-1.0, "positive"),
    (np.nan, "positive"),
    (np.inf, "positive"),
    (lambda x: x, "positive everywhere.*at x="),
    (lambda x: np.where(x > 0.5, np.nan, 1.0), "not finite.*at x="),
    (lambda x: np.where(x > 0.5, np.inf, 1.0), "not finite"),
])
def test_bad_diffusion(D, match):
    with pytest.raises(InputError, match=match):
        fp.FokkerPlanck(G1, potential=lambda x: x ** 2, diffusion=D)


def test_bad_diffusion_names_the_point_in_2d():
    with pytest.raises(InputError, match=r"at x=\(0.9, -0.9\)"):
        fp.FokkerPlanck(G2, diffusion=lambda x, y: np.where((x > 0.8) & (y < -0.8), -1.0, 1.0))


@pytest.mark.parametrize("kw", [
    dict(potential=lambda x: np.log(x)),            # NaN for x < 0
    dict(potential=lambda x: 1 / (x - G1.axes[0][3])),  # inf at a cell centre
    dict(drift=lambda x: np.sqrt(x)),
])
def test_non_finite_potential_or_drift(kw):
    with np.errstate(all="ignore"), pytest.raises(InputError, match="not finite"):
        fp.FokkerPlanck(G1, diffusion=1.0, **kw)


def test_potential_and_drift_together_and_bad_shapes():
    with pytest.raises(InputError, match="not both"):
        fp.FokkerPlanck(G1, potential=lambda x: x, drift=lambda x: x)
    with pytest.raises(InputError, match="does not match the grid shape"):
        fp.FokkerPlanck(G2, potential=np.zeros((3, 4)))
    with pytest.raises(InputError, match="does not match the grid shape"):
        fp.FokkerPlanck(G1, diffusion=np.ones(7))
    with pytest.raises(InputError, match="one array per axis"):
        fp.FokkerPlanck(G2, drift=lambda x, y: (x,))
    with pytest.raises(InputError, match="calling it"):
        fp.FokkerPlanck(G1, potential=lambda x, y: x)


@pytest.mark.parametrize("p0, match", [
    (np.zeros(20), "mass"),
    (-np.ones(20), "negative"),
    (np.full(20, np.nan), "non-finite"),
    (np.r_[np.ones(19), np.inf], "non-finite"),
    (np.ones(21), "does not match"),
])
def test_bad_initial_density(p0, match):
    m = fp.FokkerPlanck(G1, diffusion=1.0)
    with pytest.raises(InputError, match=match):
        m.evolve(p0, [1.0])


def test_negative_or_bad_times():
    m = fp.FokkerPlanck(G1, diffusion=1.0)
    for times, match in (([-1.0], "non-negative"), ([1.0, 0.5], "non-decreasing"),
                         ([np.nan], "finite"), ([], "non-empty")):
        with pytest.raises(InputError, match=match):
            m.evolve(np.ones(20), times)


def test_too_few_cells_and_bad_options():
    with pytest.raises(InputError, match="at least 3 cells"):
        fp.Grid([(0, 1), (0, 1)], (10, 2))
    with pytest.raises(InputError, match="convention"):
        fp.FokkerPlanck(G1, convention="ito-ish")
    with pytest.raises(InputError, match="periodic grid axis"):
        fp.FokkerPlanck(G1, boundary="periodic")
    with pytest.raises(InputError, match="method"):
        fp.FokkerPlanck(G1).stationary(method="dense")
