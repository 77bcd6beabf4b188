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


# -- the first-hour rough edges (issue: errors and warnings that were missing) -----------------
@pytest.mark.parametrize("shape", [100.5, True, "100", [10, 2.5], float("nan")])
def test_grid_cell_counts_must_be_whole_numbers(shape):
    bounds = [(-2, 2)] * (2 if isinstance(shape, list) else 1)
    with pytest.raises(InputError, match="whole number"):
        fp.Grid(bounds, shape)


def test_grid_accepts_whole_numbers_of_any_type():
    assert fp.Grid([(-2, 2), (0, 1)], (np.int64(7), np.int32(5))).shape == (7, 5)
    assert fp.Grid([(-2, 2)], 100.0).shape == (100,)


@pytest.mark.parametrize("B", [2.5, 0, True, "8", -1])
def test_sgd_batch_size_must_be_a_whole_number(B):
    with pytest.raises(InputError, match="batch_size must be a whole number"):
        fp.sgd.model(G1, lambda x: x ** 2 / 2, lr=0.1, batch_size=B,
                     noise=fp.noise.Isotropic(1.0))


@pytest.mark.parametrize("drift, returned", [
    (lambda x, y: -x, "an array of shape (9, 10)"),
    (lambda x, y: (-x,), "a tuple of 1 array of shape (9, 10)"),
    (lambda x, y: 3.0, "a number (3.0)"),
    (lambda x, y: [-x, -y, 0 * x], "a list of 3 arrays of shape (9, 10)"),
])
def test_drift_of_the_wrong_arity_says_what_was_returned(drift, returned):
    with pytest.raises(InputError) as err:
        fp.FokkerPlanck(G2, drift=drift, diffusion=0.1)
    msg = str(err.value)
    assert "2 in all" in msg and "lambda x, y: (-x, -y)" in msg and returned in msg, msg


def test_a_potential_that_jumps_across_a_periodic_seam_warns():
    g = fp.Grid([(0.0, 1.0)], 100, periodic=True)
    with pytest.warns(fp.errors.InputWarning, match="jumps by -0.99 across the seam.*drift="):
        fp.FokkerPlanck(g, potential=lambda x: x, diffusion=0.1)
    g2 = fp.Grid([(0.0, 1.0), (0.0, 1.0)], 40, periodic=(True, False))
    with pytest.warns(fp.errors.InputWarning, match="axis 0 is periodic"):
        fp.FokkerPlanck(g2, potential=lambda x, y: 0.1 * x + y ** 2, diffusion=0.1)


@pytest.mark.parametrize("U", [
    lambda x: np.sin(2 * np.pi * x),
    lambda x: np.cos(2 * np.pi * x) + 0.3 * np.sin(6 * np.pi * x),
    lambda x: np.abs(np.sin(np.pi * x)),          # periodic with a kink at the seam: no jump
    lambda x: 5 * np.sin(2 * np.pi * x) ** 8,     # steep but periodic
])
def test_periodic_potentials_do_not_warn(U):
    import warnings

    g = fp.Grid([(0.0, 1.0)], 100, periodic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fp.FokkerPlanck(g, potential=U, diffusion=0.1)
