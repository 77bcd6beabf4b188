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


@pytest.mark.parametrize("bounds, shape", [
    ([(-2.5, 2.5)], 23), ([(-1.0, 3.0), (0.1, 0.7)], (17, 5)), ([(-1, 1)] * 3, 7),
    ([(-2, 2)], np.int64(9)), ([(0, 1)], 12.0)])
def test_grid_geometry_is_numpys_formula_to_the_bit(bounds, shape):
    # the constructor computes with Python floats (a 1D grid in 6 µs instead of 18); the values
    # must be those of the array formulas they replace
    g = Grid(bounds, shape)
    b = np.asarray(bounds, dtype=float)
    n = np.broadcast_to(np.asarray(shape, dtype=float), (b.shape[0],))
    h = (b[:, 1] - b[:, 0]) / n
    assert np.array_equal(g.h, h)
    assert g.cell_volume == float(np.prod(h)) and g.size == int(np.prod(n))
    for ax in range(b.shape[0]):
        assert np.array_equal(g.axes[ax], b[ax, 0] + (np.arange(int(n[ax])) + 0.5) * h[ax])
    ref = np.meshgrid(*g.axes, indexing="ij")
    assert all(np.array_equal(c, r) for c, r in zip(g.coords, ref))
    assert all(c is not a for c, a in zip(g.coords, g.axes))  # coords never alias the axes
    for ax in range(b.shape[0]):
        axes = list(g.axes)
        axes[ax] = (g.axes[ax] + 0.5 * g.h[ax])[:-1]
        ref = np.meshgrid(*axes, indexing="ij")
        assert all(np.array_equal(c, r) for c, r in zip(g.face_coords(ax), ref))


def test_refined_splits_every_cell_and_keeps_the_geometry():
    g = Grid([(-1, 2), (0, 2 * np.pi)], (5, 8), periodic=[False, True])
    r = g.refined(2)
    assert r.shape == (10, 16) and r.periodic == g.periodic
    np.testing.assert_array_equal(r.bounds, g.bounds)
    # every cell of g is split in two: its centre is the mid-point of two fine centres
    for a in range(2):
        np.testing.assert_allclose((r.axes[a][0::2] + r.axes[a][1::2]) / 2, g.axes[a],
                                   atol=1e-15)
    line = Grid([(0.0, np.inf)], 6, scale=2.0).refined(3)
    assert type(line).__name__ == "MappedGrid" and line.shape == (18,)
    assert line.mapping.scale == 2.0
