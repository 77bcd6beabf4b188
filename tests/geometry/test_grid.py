import numpy as np
import pytest

from fpsolve import Grid, InputError


def test_cell_centres_spacing_and_volume():
    g = Grid([(-1.0, 1.0), (0.0, 3.0)], (4, 6), periodic=(False, True))
    assert g.ndim == 2 and g.shape == (4, 6) and g.periodic == (False, True)
    np.testing.assert_allclose(g.h, [0.5, 0.5])
    assert g.cell_volume == pytest.approx(0.25)
    np.testing.assert_allclose(g.axes[0], [-0.75, -0.25, 0.25, 0.75])
    X, Y = g.coords
    assert X.shape == (4, 6) and X[2, 0] == pytest.approx(0.25) and Y[0, 5] == pytest.approx(2.75)


def test_one_dimensional_forms():
    g = Grid((0, 1), 10)
    assert g.ndim == 1 and g.shape == (10,) and g.cell_volume == pytest.approx(0.1)


@pytest.mark.parametrize("kwargs, match", [
    (dict(bounds=[(0, 1)], shape=2), "at least 3 cells"),
    (dict(bounds=[(1, 0)], shape=5), "low"),
    (dict(bounds=[(0, 1), (0, 1)], shape=(5,)), "entries"),
    (dict(bounds=[(0, np.nan)], shape=5), "finite"),
    (dict(bounds=[(0, np.inf), (0, 1)], shape=5), "1D grids only"),
    (dict(bounds=[(0, 1)], shape=5, scale=2.0), "infinite end"),
    (dict(bounds=[(0, 1)] * 4, shape=5), "1 to 3"),
])
def test_bad_grids_raise(kwargs, match):
    with pytest.raises(InputError, match=match):
        Grid(**kwargs)
