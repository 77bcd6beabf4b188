"""Density: normalisation, interpolation, moments, integration, persistence and plotting."""
import matplotlib
import numpy as np
import pytest

import fpsolve as fp
from fpsolve.analysis import chi_squared, kl_divergence

matplotlib.use("Agg")


def gaussian_density(g, mean, var):
    return fp.Density(g, np.exp(-((g.coords[0] - mean) ** 2) / (2 * var)))


def test_normalisation_moments_and_integrate():
    g = fp.Grid([(-8, 8)], 1600)
    p = gaussian_density(g, 0.7, 0.5)
    assert p.values.sum() * g.cell_volume == pytest.approx(1.0, abs=1e-14)
    # midpoint rule on a Gaussian: spectrally accurate mean, variance error h²/12 = 8.3e-6
    assert p.mean()[0] == pytest.approx(0.7, abs=1e-12)
    assert p.var() == pytest.approx(0.5, abs=1e-5)
    from scipy.stats import norm
    ref = norm.cdf(0.0, loc=0.7, scale=np.sqrt(0.5))
    # cells with centre < 0 tile the half-line exactly (0 is a face); midpoint rule error
    # (h²/24)|p′(0)| ≈ 1.7e-6 at h = 0.01
    assert p.integrate(lambda x: x < 0) == pytest.approx(ref, abs=1e-5)


def test_at_interpolates_linear_functions_exactly():
    g = fp.Grid([(0, 1), (0, 2)], (10, 20))
    f = fp.Field(g, 3 * g.coords[0] - 2 * g.coords[1] + 1)
    pts = np.array([[0.33, 1.21], [0.5, 0.07], [0.95, 1.5]])
    inside = pts[0]
    assert f.at(inside) == pytest.approx(3 * 0.33 - 2 * 1.21 + 1, rel=1e-13)
    np.testing.assert_allclose(f.at(pts[:1]), [3 * 0.33 - 2 * 1.21 + 1], rtol=1e-13)
    with pytest.raises(fp.InputError, match="outside"):
        f.at([1.5, 0.1])


def test_save_load_roundtrip(tmp_path):
    g = fp.Grid([(-1, 1), (0, 1)], (5, 4), periodic=(False, True))
    p = fp.Density(g, np.arange(1, 21, dtype=float).reshape(5, 4), info={"method": "x"})
    path = tmp_path / "p.npz"
    p.save(path)
    q = fp.Density.load(path)
    assert q.grid == g and q.info == {"method": "x"}
    np.testing.assert_array_equal(q.values, p.values)


def test_plot_1d_and_2d():
    import matplotlib.pyplot as plt

    g1 = fp.Grid([(-2, 2)], 50)
    ax = gaussian_density(g1, 0, 1).plot()
    assert len(ax.lines) == 1
    g2 = fp.Grid([(-2, 2), (-1, 1)], 20)
    ax2 = fp.Density(g2, np.exp(-g2.coords[0] ** 2 - g2.coords[1] ** 2)).plot()
    assert len(ax2.images) == 1
    plt.close("all")


def test_kl_and_chi_squared_of_gaussians():
    """KL(N(0,1) ‖ N(1,1)) = 1/2 and χ²(N(0,1), N(1,1)) = e − 1 (closed forms)."""
    g = fp.Grid([(-12, 12)], 4000)
    p, q = gaussian_density(g, 0, 1), gaussian_density(g, 1, 1)
    assert kl_divergence(p, q) == pytest.approx(0.5, rel=1e-5)
    assert chi_squared(p, q) == pytest.approx(np.e - 1, rel=1e-5)


def test_save_to_a_missing_folder_is_a_clear_error(tmp_path):
    d = fp.Density(fp.Grid([(-1, 1)], 10), np.ones(10))
    with pytest.raises(fp.InputError, match="does not exist; create it first"):
        d.save(tmp_path / "missing" / "p.npz")


def test_bad_density_messages_name_the_cell_and_its_coordinates():
    v = np.ones(100)
    v[48] = -1.0
    with pytest.raises(fp.InputError) as err:
        fp.Density(fp.Grid([(-2, 2)], 100), v)
    assert "cell (48,), x = (-0.06)" in str(err.value) and "np.int64" not in str(err.value)
