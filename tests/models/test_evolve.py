"""Time stepping: mass, positivity, closed-form OU transients, and temporal orders."""
import numpy as np
import pytest

import fpsolve as fp

K, D = 1.0, 0.5


def ou_model(n=400, half=5.0):
    g = fp.Grid([(-half, half)], n)
    return fp.FokkerPlanck(g, potential=lambda x: 0.5 * K * x ** 2, diffusion=D)


def gaussian(m0, v0):
    return lambda x: np.exp(-(x - m0) ** 2 / (2 * v0))


def test_mass_conserved_over_1000_implicit_steps_and_positive():
    g = fp.Grid([(-2, 2), (-2, 2)], 40)
    m = fp.FokkerPlanck(g, potential=lambda x, y: (x ** 2 - 1) ** 2 / 4 + y ** 2,
                        diffusion=lambda x, y: 0.1 + 0.05 * x ** 2)
    p0 = lambda x, y: np.exp(-((x - 1.5) ** 2 + y ** 2) / 0.01)
    for scheme in ("backward-euler", "tr-bdf2"):
        res = m.evolve(p0, [10.0], scheme=scheme, dt=0.01)
        assert res.steps == 1000 and res.factorisations == 1
        assert abs(res.mass[-1] - 1.0) < 1e-12
    res = m.evolve(p0, np.linspace(1, 10, 10), scheme="backward-euler", dt=0.01)
    assert res.min_value >= 0.0
    assert np.max(np.abs(res.mass - 1.0)) < 1e-12


@pytest.mark.parametrize("method", ["implicit", "expm", "explicit"])
def test_ou_transient_mean_and_variance(method):
    m0, v0 = 2.0, 0.05
    times = [0.25, 0.5, 1.0]
    # Δt small enough that the O(Δt) / O(Δt²) time error stays below the O(h²) space error
    dt = {"implicit": 1e-3, "explicit": 1e-4, "expm": None}[method]
    res = ou_model().evolve(gaussian(m0, v0), times, method=method, dt=dt)
    for t, p in zip(times, res.densities):
        mean = m0 * np.exp(-K * t)
        var = v0 * np.exp(-2 * K * t) + D / K * (1 - np.exp(-2 * K * t))
        # spatial error O(h²) with h = 0.025: ~1e-4 relative on the variance
        assert p.mean()[0] == pytest.approx(mean, rel=5e-4)
        assert p.var() == pytest.approx(var, rel=5e-4)


@pytest.mark.parametrize("scheme, order", [("backward-euler", 1), ("tr-bdf2", 2)])
def test_temporal_order(scheme, order):
    """Error against the exact exponential of the same generator (expm), halving Δt."""
    m = ou_model(n=200)
    p0 = gaussian(1.5, 0.1)
    T = 1.0
    exact = m.evolve(p0, [T], method="expm").densities[-1].values
    errs = [np.abs(m.evolve(p0, [T], scheme=scheme, dt=dt).densities[-1].values - exact).sum()
            for dt in (0.02, 0.01, 0.005)]
    observed = np.log2(errs[1] / errs[2])
    assert abs(observed - order) < 0.15


def test_output_times_hit_exactly_and_explicit_limit_enforced():
    m = ou_model(n=100)
    res = m.evolve(gaussian(0, 1), [0.0, 0.3, 0.7], dt=0.25)
    np.testing.assert_array_equal(res.times, [0.0, 0.3, 0.7])
    assert res.steps == 2 + 2  # 0.3 → 2 steps of 0.15; 0.4 → 2 steps of 0.2
    np.testing.assert_allclose(res.densities[0].values, m.density(gaussian(0, 1)).values)
    with pytest.raises(fp.InputError, match="stability"):
        m.evolve(gaussian(0, 1), [1.0], method="explicit", dt=1.0)


def test_second_evolve_reuses_the_factorisation():
    """Implicit solvers live on the model: the same Δt does not refactorise, and the answer is
    the same as from a fresh model (same arithmetic, so equal to round-off)."""
    g = fp.Grid([(-2.0, 2.0)], 80)
    U = lambda x: x ** 2 / 2  # noqa: E731
    m = fp.FokkerPlanck(g, potential=U, diffusion=0.3)
    p0 = lambda x: np.exp(-(x - 1) ** 2 / 0.05)  # noqa: E731
    first = m.evolve(p0, [0.5, 1.0], dt=0.05)
    again = m.evolve(p0, [0.5, 1.0], dt=0.05)
    other = m.evolve(p0, [0.5, 1.0], dt=0.05, scheme="backward-euler")
    fresh = fp.FokkerPlanck(g, potential=U, diffusion=0.3).evolve(p0, [0.5, 1.0], dt=0.05)
    assert first.factorisations == 1 and again.factorisations == 0
    assert other.factorisations == 1  # another scheme is another matrix
    assert np.array_equal(again.densities[-1].values, fresh.densities[-1].values)


@pytest.mark.parametrize("dt, fallback", [(0.01, False), (10.0, True)])
def test_3d_step_solves_match_the_lu(dt, fallback, monkeypatch):
    """Where the LU would not fit (3D from 2.5·10³ cells) a step's solve is Jacobi-BiCGStab,
    with AMG-GMRES where that does not converge within its budget (a large Δt makes I − Δt L
    nearly as ill-conditioned as L; here the budget is cut to 3 iterations to force it). Both
    against SciPy's LU on the same matrix: agreement to 1e-10 (each stops at a relative
    residual of 1e-12; the LU's own error is ~cond·ε)."""
    from fpsolve.numerics import timestepping

    if fallback:
        monkeypatch.setattr(timestepping._JacobiFirst, "MAXITER", 3)
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    from fpsolve.numerics.timestepping import _Implicit

    m = fp.FokkerPlanck(fp.Grid([(-2, 2)] * 3, 16),
                        potential=lambda x, y, z: 0.5 * (x ** 2 + 2 * y ** 2 + 3 * z ** 2),
                        diffusion=0.1)
    stepper = _Implicit(m.generator(), "backward-euler", ndim=3)
    solve = stepper.solver(dt)
    b = np.random.default_rng(0).random(m.grid.size)
    x = solve(b)
    ref = spla.spsolve((sp.identity(m.grid.size) - dt * stepper.L).tocsc(), b)
    assert np.abs(x - ref).max() <= 1e-10 * np.abs(ref).max()
    assert (solve.fallback is not None) == fallback
    if not fallback:
        assert 0 < solve.iterations <= 20       # measured 8
