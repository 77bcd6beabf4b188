"""Grids reaching to ±∞: the compactifying map and the MappedGrid built on it."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import Grid, InputError
from fpsolve.geometry.grid import MappedGrid
from fpsolve.geometry.mapping import Compactification

DOMAINS = [(-np.inf, np.inf), (0.5, np.inf), (-np.inf, -2.0)]


@pytest.mark.parametrize("lo, hi", DOMAINS)
def test_map_round_trip_ends_and_derivatives(lo, hi):
    m = Compactification(lo, hi, scale=1.7)
    a, b = m.y_bounds
    y = np.linspace(a, b, 2001)[1:-1]
    x = m.to_physical(y)
    assert np.all(np.diff(x) > 0)  # increasing
    # inverse to a few ulp of y (bisection to adjacent floats on the line, closed form else)
    assert np.max(np.abs(m.to_computational(x) - y)) < 4e-16
    # the ends: ±inf ↔ the ends of the interval, a finite end ↔ itself
    assert m.to_computational(np.inf if hi == np.inf else hi) == pytest.approx(b, abs=1e-15)
    assert m.to_computational(-np.inf if lo == -np.inf else lo) == pytest.approx(a, abs=1e-15)
    # derivatives against central differences (step 1e-5: truncation ~1e-10 relative here)
    yy = y[(np.abs(y - a) > 0.05) & (np.abs(b - y) > 0.05)]
    d = 1e-5
    fd1 = (m.to_physical(yy + d) - m.to_physical(yy - d)) / (2 * d)
    fd2 = (m.dx_dy(yy + d) - m.dx_dy(yy - d)) / (2 * d)
    np.testing.assert_allclose(m.dx_dy(yy), fd1, rtol=1e-7)
    np.testing.assert_allclose(m.d2x_dy2(yy), fd2, rtol=1e-6, atol=1e-6)


def test_order_two_tails():
    """x ≈ s/(4ε²) at distance ε from an end of the line (the tail order of the module doc)."""
    m = Compactification(-np.inf, np.inf, scale=2.0)
    eps = np.array([1e-3, 1e-5])
    np.testing.assert_allclose(m.to_physical(1 - eps) * 4 * eps ** 2 / 2.0, 1.0, rtol=3e-3)


def test_grid_dispatch_and_physical_coordinates():
    g = Grid([(-np.inf, np.inf)], 40, scale=3.0, centre=1.0)
    assert isinstance(g, MappedGrid) and g.mapped and g.ndim == 1
    np.testing.assert_allclose(g.bounds, [[-1.0, 1.0]])
    x = g.physical_axes[0]
    assert np.all(np.isfinite(x)) and x[0] < 1.0 < x[-1]
    np.testing.assert_allclose(g.physical_coords[0], x)
    np.testing.assert_allclose(g.jacobian, g.mapping.dx_dy(g.axes[0]))
    plain = Grid([(-1.0, 1.0)], 40)
    assert not plain.mapped and plain != g and Grid(**g.init_args()) == g
    assert Grid([(-np.inf, np.inf)], 40, scale=2.0) != g  # the map is part of the grid
    np.testing.assert_array_equal(plain.jacobian, 1.0)
    assert "inf" in repr(g)


def test_field_round_trip_keeps_the_map(tmp_path):
    g = Grid([(0.0, np.inf)], 30, scale=2.0)
    f = fp.Field(g, np.arange(30.0))
    f.save(tmp_path / "f.npz")
    back = fp.Field.load(tmp_path / "f.npz")
    assert back.grid == g and np.array_equal(back.values, f.values)


@pytest.mark.parametrize("kwargs, match", [
    (dict(bounds=[(-np.inf, np.inf), (0, 1)], shape=10), "1D grids only"),
    (dict(bounds=[(-np.inf, np.inf)], shape=10, periodic=True), "periodic"),
    (dict(bounds=[(0, np.inf)], shape=10, centre=1.0), "centre"),
    (dict(bounds=[(-np.inf, np.inf)], shape=10, scale=-1.0), "scale"),
    (dict(bounds=[(np.inf, np.inf)], shape=10), "low < high|interval"),
    (dict(bounds=[(0, 1)], shape=10, scale=1.0), "infinite end"),
])
def test_bad_mapped_grids_raise(kwargs, match):
    with pytest.raises(InputError, match=match):
        Grid(**kwargs)


def test_points_outside_the_domain_raise():
    g = Grid([(1.0, np.inf)], 20)
    with pytest.raises(InputError, match="outside"):
        g.to_computational(0.5)
