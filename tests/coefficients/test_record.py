"""The coefficient record: evaluated once, read by everyone, and time-dependent drifts.

References: the exact mean and variance of an Ornstein–Uhlenbeck process with a moving centre
c(t) = A sin(ωt), dX = −k(X − c(t)) dt + sqrt(2D) dW, X₀ ~ N(0, v₀):

    m(t) = kA (k sin ωt − ω cos ωt + ω e^(−kt)) / (k² + ω²),
    v(t) = v₀ e^(−2kt) + (D/k)(1 − e^(−2kt)).
"""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve.analysis import observed_order
from fpsolve.coefficients import Coefficients
from fpsolve.coefficients.evaluate import takes_time
from fpsolve.particles import simulate

K, D, AMP, OMEGA, V0 = 1.0, 0.1, 1.0, 2.0, 0.1


def exact_mean(t):
    return K * AMP * (K * np.sin(OMEGA * t) - OMEGA * np.cos(OMEGA * t)
                      + OMEGA * np.exp(-K * t)) / (K ** 2 + OMEGA ** 2)


def exact_var(t):
    return V0 * np.exp(-2 * K * t) + D / K * (1 - np.exp(-2 * K * t))


def moving_well(grid, form):
    if form == "drift":
        return fp.FokkerPlanck(grid, drift=lambda x, t: -K * (x - AMP * np.sin(OMEGA * t)),
                               diffusion=D)
    return fp.FokkerPlanck(grid, potential=lambda x, t: K * (x - AMP * np.sin(OMEGA * t)) ** 2 / 2,
                           diffusion=D)


def start(x):
    return np.exp(-x ** 2 / (2 * V0))


@pytest.mark.parametrize("form", ["drift", "potential"])
def test_evolve_follows_a_time_dependent_drift(form):
    """Mean and variance against the exact OU answer: the frozen-midpoint TR-BDF2 step is
    second order in Δt, the grid second order in h (h = 0.01: (h/σ)² ≈ 1e-3 relative on the
    variance, ~1e-6 absolute on the mean; Δt = 0.01: ~1e-5)."""
    g = fp.Grid([(-4.0, 4.0)], 800)
    m = moving_well(g, form)
    assert m.coefficients.time_dependent
    times = [0.5, 1.0, 2.0]
    run = m.evolve(start, times, dt=0.01)
    means = np.array([d.mean()[0] for d in run.densities])
    var = np.array([d.var() for d in run.densities])
    assert np.max(np.abs(means - exact_mean(np.array(times)))) < 1e-4
    assert np.max(np.abs(var / exact_var(np.array(times)) - 1)) < 2e-3
    assert np.max(np.abs(run.mass - 1)) < 1e-12


def test_time_dependent_drift_is_second_order_in_dt():
    g = fp.Grid([(-4.0, 4.0)], 800)
    m = moving_well(g, "drift")
    dts = [0.2, 0.1, 0.05]
    errs = [abs(m.evolve(start, [2.0], dt=dt).densities[-1].mean()[0] - exact_mean(2.0))
            for dt in dts]
    assert observed_order(dts, errs) > 1.8, errs


def test_particles_follow_a_time_dependent_drift():
    """Euler–Maruyama (numpy route: a drift with t is not compiled) against the exact mean,
    within 4 standard errors plus the O(dt) weak bias (dt = 0.005: ~5e-3·|m| at most)."""
    g = fp.Grid([(-4.0, 4.0)], 64)
    m = moving_well(g, "drift")
    n, dt = 20_000, 0.005
    rng = np.random.default_rng(5)
    x0 = rng.normal(0.0, np.sqrt(V0), size=(n, 1))
    r = simulate(m, x0, n=n, dt=dt, times=[1.0, 2.0], seed=7)
    assert r.route != "compiled"
    for t, X in zip([1.0, 2.0], r.positions):
        se = np.sqrt(exact_var(t) / n)
        assert abs(X.mean() - exact_mean(t)) < 4 * se + 5e-3 * abs(exact_mean(t)), (t, X.mean())


def test_torch_refuses_time_dependent_coefficients():
    pytest.importorskip("torch")
    m = moving_well(fp.Grid([(-4.0, 4.0)], 64), "drift")
    with pytest.raises(fp.InputError, match="depend on time.*numba"):
        simulate(m, [0.0], n=10, dt=0.01, t_end=0.1, backend="torch")


def test_time_is_one_parameter_more_than_the_coordinates():
    assert takes_time(lambda x, t: x, 1) and takes_time(lambda x, y, t: x, 2)
    assert not takes_time(lambda t: t ** 2, 1)          # a 1D loss written in θ = t
    assert not takes_time(lambda x, t: x, 2)            # 2D coordinates named x, t
    assert takes_time(lambda x, *, t: x, 1)             # keyword-only t


def test_takes_time_fast_path_agrees_with_the_signature():
    # plain functions are read from their code object; a callable object with the same
    # signature goes through inspect.signature: both must answer alike
    import inspect

    def as_object(f):
        class Call:
            def __call__(self, *a, **k):
                return f(*a, **k)
        c = Call()
        c.__signature__ = inspect.signature(f)     # what inspect.signature(c) reports
        return c

    cases = [lambda x, t: x, lambda t: t, lambda x, y, t: x, lambda x, t=0.0: x,
             lambda x, y: x, lambda x, *args: x, lambda x, *, t: x, lambda x, *, s: x,
             lambda x, /, t: x, lambda x, y, *, t=1.0, **kw: x, lambda x, t, *a, **k: x]
    for f in cases:
        for ndim in (1, 2, 3):
            assert takes_time(f, ndim) == takes_time(as_object(f), ndim), (inspect.signature(f),
                                                                             ndim)
    g = fp.Grid([(-1.0, 1.0)], 20)
    m = fp.FokkerPlanck(g, potential=lambda t: t ** 2, diffusion=0.1)
    assert not m.coefficients.time_dependent


def test_user_coefficients_are_evaluated_once():
    """Numerics never calls back into user code: new schedule values (and new questions) reuse
    the evaluated record (the tensor scheme used to re-evaluate the drift per schedule value)."""
    calls = {"drift": 0, "diffusion": 0}

    def drift(x, y):
        calls["drift"] += 1
        return -x + 0.3 * y, -y

    def diffusion(x, y):
        calls["diffusion"] += 1
        return [[0.2 + 0 * x, 0.05 + 0 * x], [0.05 + 0 * x, 0.1 + 0 * x]]

    g = fp.Grid([(-2.0, 2.0)] * 2, 24)
    schedule = fp.models.schedules.PiecewiseConstant([0.5], [1.0, 2.0])
    m = fp.FokkerPlanck(g, drift=drift, diffusion=diffusion, schedule=schedule)
    after_construction = dict(calls)
    m.stationary()
    m.rates_at(1.0)  # s = 2: a new generator from the same evaluated coefficients
    m.evolve(lambda x, y: np.exp(-(x ** 2 + y ** 2)), [1.0], dt=0.1)
    assert calls == after_construction


def test_record_checks_its_input():
    g = fp.Grid([(-1.0, 1.0)], 10)
    with pytest.raises(fp.InputError, match="gradient= is the exact ∇U of a potential"):
        Coefficients.build(g, drift=lambda x: -x, gradient=lambda x: x)
    with pytest.raises(fp.InputError, match="schedule="):
        Coefficients.build(g, diffusion=lambda x, t: 1 + t)
    with pytest.raises(fp.InputError, match="floor must be a positive number"):
        Coefficients.build(g, diffusion=1.0, floor=-1.0)


def test_survival_follows_the_schedule_and_time_dependent_drifts():
    """Pure diffusion on (0, 1) absorbed at both walls, uniform start: with D(t) = s(t)·D₀ the
    survival is the constant-D series at the internal time τ = ∫₀ᵗ s,
    S(τ) = Σ_{n odd} 8/(n²π²) exp(−n²π² D₀ τ); the walls are second order (h = 1/400:
    ~1e-5), TR-BDF2 with Δt = 2.5e-3 ~1e-6."""
    g = fp.Grid([(0.0, 1.0)], 400)
    D0 = 0.05
    schedule = fp.models.schedules.PiecewiseConstant([0.5], [1.0, 3.0])
    m = fp.FokkerPlanck(g, diffusion=D0, schedule=schedule)
    times = np.array([0.25, 0.5, 0.75, 1.0])
    S = m.survival(fp.escape.Wall(0), np.ones(400), times, dt=2.5e-3).survival
    tau = np.where(times <= 0.5, times, 0.5 + 3.0 * (times - 0.5))
    n = np.arange(1, 400, 2)[:, None]
    exact = np.sum(8 / (n * np.pi) ** 2 * np.exp(-(n * np.pi) ** 2 * D0 * tau), axis=0)
    assert np.max(np.abs(S - exact)) < 1e-4, (S, exact)
    # a drift that switches on at t = 0.5 changes S only after it (the same generator before)
    kicked = fp.FokkerPlanck(g, drift=lambda x, t: 0.0 * x + 2.0 * (t > 0.5), diffusion=D0)
    S2 = kicked.survival(fp.escape.Wall(0), np.ones(400), times, dt=2.5e-3).survival
    S0 = fp.FokkerPlanck(g, diffusion=D0).survival(fp.escape.Wall(0), np.ones(400), times,
                                                    dt=2.5e-3).survival
    assert np.allclose(S2[:2], S0[:2], rtol=1e-12) and np.all(S2[2:] < S0[2:] - 1e-3)


def test_a_drift_may_mix_arrays_and_constants():
    # (sin y, 0.5) is what users write; the constant component is broadcast, not an error
    g = fp.Grid([(0, 2 * np.pi), (0, 2 * np.pi)], (12, 10), periodic=[True, True])
    mixed = fp.FokkerPlanck(g, drift=lambda x, y: (np.sin(y), 0.5), diffusion=0.3)
    arrays = fp.FokkerPlanck(g, drift=lambda x, y: (np.sin(y), 0.5 + 0 * x), diffusion=0.3)
    assert np.array_equal(mixed.rates.log_fwd, arrays.rates.log_fwd)
    assert np.array_equal(mixed.rates.log_bwd, arrays.rates.log_bwd)
    np.testing.assert_array_equal(mixed.drift_at(np.array([[1.0, 2.0]])),
                                  arrays.drift_at(np.array([[1.0, 2.0]])))


def test_1d_diffusion_in_every_form_is_the_same_scalar_and_called_once_on_the_cells():
    import numpy as np
    import fpsolve as fp
    g = fp.Grid([(-1, 1)], 20)
    calls = []

    def D(x):
        calls.append(x.shape)
        return 0.3 + 0.1 * x ** 2

    ref = fp.FokkerPlanck(g, potential=lambda x: x ** 2, diffusion=D)
    assert calls == [(20,)]  # classified and checked from one evaluation
    expect = 0.3 + 0.1 * g.axes[0] ** 2
    assert np.array_equal(ref.D, expect) and not ref.tensor
    for form in (lambda x: (0.3 + 0.1 * x ** 2)[None, None], lambda x: [[0.3 + 0.1 * x ** 2]],
                 expect[None, None].copy()):
        m = fp.FokkerPlanck(g, potential=lambda x: x ** 2, diffusion=form)
        assert np.array_equal(m.D, expect) and not m.tensor
