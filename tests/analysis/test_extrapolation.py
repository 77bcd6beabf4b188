"""Richardson extrapolation across two grids against closed forms and quadrature.

The references: the zero-flux density e^(−G)/D of b = −D∇G (exact in every dimension, normalised
on the grid: the density vanishes at the walls, so the midpoint sum is exact to round-off), the
periodic stationary density of a tilted washboard (quadrature), and E τ of a separable double
well (``fpsolve.theory.mfpt_1d``). The tolerances are set from the orders: a second-order scheme
extrapolated from h and h/2 is fourth order where its error expands in h², so from n to 2n the
error falls ≈ 16× (bounds [3.7, 4.3] on the observed order leave room for the next term), and
(I[u_{h/2}] − u_h)/3 estimates the fine answer's error to O(h²) relative accuracy.
"""
import numpy as np
import pytest
from scipy.integrate import quad

import fpsolve as fp
from fpsolve.analysis import observed_order, richardson
from fpsolve.analysis.extrapolation import to_coarse_centres
from fpsolve.theory import mfpt_1d


def D_gen(x, y=0.0):
    """A diffusion that is not a function of the potential (no face mean of D is exact)."""
    return 0.1 * (1 + 0.4 * np.sin(2 * x + 0.3) * np.cos(y))


def G(x, y=0.0):
    return ((x ** 2 - 1) ** 2 / 4 + 0.5 * (1 + x ** 2 / 2) * y ** 2) / 0.1


def grad_G(x, y=0.0):
    return ((x ** 3 - x + 0.5 * x * y ** 2) / 0.1, (1 + x ** 2 / 2) * y / 0.1)


def rel_max_error(values, log_ref, grid):
    ref = np.exp(log_ref - log_ref.max())
    ref /= ref.sum() * grid.cell_volume
    return float(np.abs(values - ref).max() / ref.max())


def stationary_1d(grid):
    return fp.FokkerPlanck(grid, drift=lambda x: -D_gen(x) * grad_G(x)[0],
                           diffusion=D_gen).stationary()


def stationary_2d(grid):
    return fp.FokkerPlanck(grid, drift=lambda x, y: tuple(-D_gen(x, y) * g for g in grad_G(x, y)),
                           diffusion=D_gen).stationary()


def log_ref(grid):
    X = grid.coords
    return -G(*X) - np.log(D_gen(*X))


def test_coarse_centres_exact_for_cubics_in_3d():
    fine = fp.Grid([(-1, 2), (0, 1), (-3, -1)], (8, 6, 10))
    coarse = fp.Grid([(-1, 2), (0, 1), (-3, -1)], (4, 3, 5))

    def cubic(x, y, z):
        return (1 + x - 2 * x ** 3) * (0.5 - y ** 2 + y ** 3) * (2 + z + 0.3 * z ** 3)

    got = to_coarse_centres(cubic(*fine.coords), fine.periodic)
    np.testing.assert_allclose(got, cubic(*coarse.coords), rtol=0, atol=1e-12)


def test_coarse_centres_fourth_order_on_a_periodic_axis():
    errs = []
    for n in (16, 32, 64):
        fine = fp.Grid([(0, 2 * np.pi)], 2 * n, periodic=True)
        coarse = fp.Grid([(0, 2 * np.pi)], n, periodic=True)
        got = to_coarse_centres(np.exp(np.sin(fine.axes[0])), fine.periodic)
        errs.append(np.abs(got - np.exp(np.sin(coarse.axes[0]))).max())
    assert observed_order([1, 0.5, 0.25], errs) == pytest.approx(4.0, abs=0.2)


def test_stationary_1d_fourth_order_with_a_sharp_error_estimate():
    rich, fine = [], []
    for n in (32, 64):
        grid = fp.Grid([(-2.5, 2.5)], n)
        r = richardson(stationary_1d, grid)
        assert isinstance(r, fp.Density) and r.mass == pytest.approx(1.0, abs=1e-12)
        rich.append(rel_max_error(r.values, log_ref(grid), grid))
        f = stationary_1d(grid.refined(2))
        fine.append(rel_max_error(f.values, log_ref(f.grid), f.grid))
        # measured within 1%: the estimate's own error is O(h²) relative
        assert r.info["fine_error_estimate"] == pytest.approx(fine[-1], rel=0.05)
        assert r.info["shapes"] == [[n], [2 * n]] and r.info["unextrapolated_cells"] == 0
    assert 3.7 <= observed_order([2, 1], rich) <= 4.3       # measured 4.0
    assert rich[-1] < fine[-1] / 100                       # measured 1/625


def test_stationary_2d_without_detailed_balance():
    rich, fine = [], []
    for n in (24, 48):
        grid = fp.Grid([(-2.5, 2.5)] * 2, n)
        r = richardson(stationary_2d, grid)
        rich.append(rel_max_error(r.values, log_ref(grid), grid))
        f = stationary_2d(grid.refined(2))
        fine.append(rel_max_error(f.values, log_ref(f.grid), f.grid))
        assert r.info["fine_error_estimate"] == pytest.approx(fine[-1], rel=0.1)  # measured 4%
        assert r.info["fine_info"]["method"] == f.info["method"]
    assert observed_order([2, 1], rich) >= 3.7              # measured 4.4
    assert rich[-1] < fine[-1] / 100                       # measured 1/400 (2.4e-6)


def test_periodic_stationary_state_with_a_current():
    """dX = (sin x − 0.6 cos 2x + F) dt + sqrt(2D) dW on a circle: Φ = cos x + 0.3 sin 2x − Fx,
    p(x) ∝ e^(−Φ(x)/D) ∫ₓ^(x+2π) e^(Φ(y)/D) dy (constant current, no detailed balance)."""
    F, D = 0.8, 0.5

    def phi(x):
        return np.cos(x) + 0.3 * np.sin(2 * x) - F * x

    def log_p(x):
        return np.array([-phi(a) / D + np.log(quad(lambda y: np.exp(phi(y) / D), a, a + 2 * np.pi,
                                                   epsabs=0, epsrel=1e-13)[0]) for a in x])

    def solve(grid):
        return fp.FokkerPlanck(grid, drift=lambda x: np.sin(x) - 0.6 * np.cos(2 * x) + F,
                               diffusion=D).stationary()

    rich, fine = [], []
    for n in (32, 64):
        grid = fp.Grid([(0, 2 * np.pi)], n, periodic=True)
        r = richardson(solve, grid)
        rich.append(rel_max_error(r.values, log_p(grid.axes[0]), grid))
        f = solve(grid.refined(2))
        fine.append(rel_max_error(f.values, log_p(f.grid.axes[0]), f.grid))
        assert r.info["fine_error_estimate"] == pytest.approx(fine[-1], rel=0.05)  # measured 1%
    assert 3.7 <= observed_order([2, 1], rich) <= 4.3       # measured 3.96


def test_mean_first_passage_time_to_a_wall():
    """E τ to the wall x = 1 of a separable double well; the answer is a Field, extrapolated
    linearly. Measured: third order here (errors 1.0e-4 and 1.45e-5 at n = 32, 64), not fourth:
    the Dirichlet wall adds an odd power."""
    def solve(grid):
        return fp.FokkerPlanck(grid, potential=lambda x, y: (x ** 2 - 1) ** 2 / 4 + y ** 2,
                               diffusion=0.15).mean_first_passage_time(fp.escape.Wall(0, "high"))

    def err(tau):
        x = tau.grid.coords[0]
        ref = mfpt_1d(x.ravel(), 1.0, -2.5, potential_derivative=lambda z: z ** 3 - z,
                      diffusion=0.15).mean.reshape(x.shape)
        return float(np.abs(tau.values - ref).max() / ref.max())

    rich, fine = [], []
    for n in (32, 64):
        grid = fp.Grid([(-2.5, 1.0), (-2, 2)], n)
        r = richardson(solve, grid)
        assert type(r) is fp.Field and "unextrapolated_cells" not in r.info
        rich.append(err(r))
        fine.append(err(solve(grid.refined(2))))
        assert r.info["fine_error_estimate"] == pytest.approx(fine[-1], rel=0.15)  # measured 9%
    assert observed_order([2, 1], rich) >= 2.5              # measured 2.8
    assert rich[0] < fine[0] / 5 and rich[1] < fine[1] / 10  # measured 1/7.6, 1/12.6


def test_log_mode_keeps_underflowed_cells_at_the_coarse_value():
    def solve(grid):
        x = grid.axes[0]
        return fp.Density(grid, np.where(x > 0.9, 0.0, np.exp(-x ** 2)))

    grid = fp.Grid([(-1, 1)], 20)
    r = richardson(solve, grid)
    # the last coarse cell is zero; the one before it interpolates the fine cell at 0.925
    assert r.info["unextrapolated_cells"] == 2 and r.values[-1] == 0.0
    # log p = −x² is a quadratic: interpolated and extrapolated exactly
    x = grid.axes[0]
    shape = np.exp(x[0] ** 2 - x ** 2)
    np.testing.assert_allclose(r.values[:-2] / r.values[0], shape[:-2], rtol=1e-12)
    # the kept coarse value differs only by the two grids' normalisations (their masses differ
    # by the zeroed tail: measured 4.4e-4)
    assert r.values[-2] / r.values[0] == pytest.approx(shape[-2], rel=1e-3)


def test_bad_input():
    grid = fp.Grid([(-1, 1)], 8)
    good = fp.Density(grid, np.ones(8))
    with pytest.raises(fp.InputError, match="callable"):
        richardson(good, grid)
    with pytest.raises(fp.InputError, match="fpsolve.Grid"):
        richardson(lambda g: good, [(-1, 1)])
    with pytest.raises(fp.InputError, match="order"):
        richardson(lambda g: good, grid, order=0)
    with pytest.raises(fp.InputError, match="must be returned as an fpsolve Field"):
        richardson(lambda g: np.ones(g.shape), grid)
    with pytest.raises(fp.InputError, match="or finite numbers"):
        richardson(lambda g: "1.0 s", grid)
    with pytest.raises(fp.InputError, match="or finite numbers"):
        richardson(lambda g: np.nan, grid)
    with pytest.raises(fp.InputError, match="Density on the coarse grid and a ndarray"):
        richardson(lambda g: good if g.shape == (8,) else 1.0, grid)
    with pytest.raises(fp.InputError, match="not on the grid it was given"):
        richardson(lambda g: good, grid)
    with pytest.raises(fp.InputError, match="log=False"):
        richardson(lambda g: fp.Field(g, np.sin(g.axes[0] * 3)), grid, log=True)
    with pytest.raises(fp.InputError, match="ratio must be 2 or 3"):
        richardson(lambda g: good, grid, ratio=4)
    with pytest.raises(fp.InputError, match="factor"):
        grid.refined(1)


def test_numbers_spectral_gap_and_eigenvalues():
    """The spectrum of the OU generator, b = −kx, constant D: λ_j = j·k exactly; the discrete
    eigenvalues have O(h²) errors, the extrapolated ones O(h⁴)."""
    k, D = 1.5, 0.4
    L = 7 * np.sqrt(D / k)

    def solve(grid):
        return fp.FokkerPlanck(grid, potential=lambda x: k * x ** 2 / 2,
                               diffusion=D).eigenvalues(4)[1:]

    errs, fine_errs = [], []
    for n in (40, 80):
        r = richardson(solve, fp.Grid([(-L, L)], n))
        exact = k * np.arange(1, 4)
        errs.append(np.abs(r.value - exact).max())
        fine_errs.append(np.abs(r.fine - exact).max())
        np.testing.assert_allclose(r.error_estimate, np.abs(r.fine - exact), rtol=0.05)
    assert 3.7 <= observed_order([2, 1], errs) <= 4.3
    assert errs[-1] < fine_errs[-1] / 100
    gap = richardson(lambda g: solve(g)[0], fp.Grid([(-L, L)], 80))
    # measured 3.9e-6 relative (the h⁴ term; the fine answer's error is 1.3e-3)
    assert float(gap) == pytest.approx(k, rel=1e-5) and isinstance(gap.error_estimate, float)


def test_ratio_three_needs_no_interpolation():
    """Every cell split in three: the coarse centres are fine centres; the same fourth order."""
    rich = []
    for n in (16, 32):
        grid = fp.Grid([(-2.5, 2.5)], n)
        r = richardson(stationary_1d, grid, ratio=3)
        assert r.info["ratio"] == 3 and r.info["shapes"] == [[n], [3 * n]]
        rich.append(rel_max_error(r.values, log_ref(grid), grid))
        f = stationary_1d(grid.refined(3))
        fine = rel_max_error(f.values, log_ref(f.grid), f.grid)
        assert r.info["fine_error_estimate"] == pytest.approx(fine, rel=0.05)
    assert 3.7 <= observed_order([2, 1], rich) <= 4.3       # measured 4.0


def test_mapped_grid_takes_ratio_three():
    """On the whole line the values are not smooth in the grid's coordinate near the infinite
    ends: cubic interpolation there costs more than the scheme's own error. dX = −x dt +
    sqrt(1 + x²) dW has p = (2/π)(1 + x²)⁻², which the scheme reproduces to 5e-9 on 32 cells;
    with ratio 2 the extrapolated density was off by 6.5e-6 (measured), with 3 (the default on
    a MappedGrid) it keeps the coarse accuracy."""
    def solve(grid):
        return fp.FokkerPlanck(grid, drift=lambda x: -x,
                               diffusion=lambda x: 0.5 * (1 + x ** 2)).stationary()

    def err(p):
        x = p.grid.physical_axes[0]
        ref = 2 / np.pi / (1 + x ** 2) ** 2
        return np.abs(p.pdf - ref).max() / ref.max()

    grid = fp.Grid([(-np.inf, np.inf)], 32, scale=2.0)
    r = richardson(solve, grid)
    assert r.info["ratio"] == 3
    assert err(r) <= 1.5 * err(solve(grid))                 # measured equal (4.65e-9)
    assert err(richardson(solve, grid, ratio=2)) > 100 * err(solve(grid))


def test_transient_density_linear_mode_without_interpolation():
    """An evolved density (the exact exponential: no time error) of the OU process against its
    Gaussian: linear extrapolation with ratio 3 (nothing interpolated), fourth order; the
    result is a Density with its values as computed (``min_value`` reported, not clipped)."""
    a, D, T, m0, s0 = 1.5, 0.1, 0.5, 0.5, 0.04

    def exact(x):
        e = np.exp(-a * T)
        var = e * e * s0 + D / a * (1 - e * e)
        return np.exp(-(x - m0 * e) ** 2 / (2 * var)) / np.sqrt(2 * np.pi * var)

    def solve(grid):
        model = fp.FokkerPlanck(grid, potential=lambda x: a * x ** 2 / 2, diffusion=D)
        return model.evolve(lambda x: np.exp(-(x - m0) ** 2 / (2 * s0)), [T],
                            method="expm").densities[-1]

    errs = []
    for n in (32, 64):
        grid = fp.Grid([(-2, 2)], n)
        r = richardson(solve, grid, log=False, ratio=3)
        assert type(r) is fp.Density and "min_value" in r.info
        ref = exact(grid.axes[0])
        errs.append(np.abs(r.values - ref).max() / ref.max())
        fine = solve(grid.refined(3))
        fine_err = np.abs(fine.values - exact(fine.grid.axes[0])).max() / ref.max()
        assert r.info["fine_error_estimate"] == pytest.approx(fine_err, rel=0.05)  # measured 3%
    assert 3.7 <= observed_order([2, 1], errs) <= 4.3       # measured 4.03
    assert errs[-1] < 1e-5                                   # measured 7.4e-6; fine 6.3e-4
