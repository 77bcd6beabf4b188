"""Time-dependent diffusion D(x, t) = s(t) D(x): OU variance against its moment ODE."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import fpsolve as fp
from fpsolve.coefficients import schedules

K, D0 = 1.0, 0.4


def ou(schedule, n=300):
    g = fp.Grid([(-4.0, 4.0)], n)
    return fp.FokkerPlanck(g, potential=lambda x: 0.5 * K * x ** 2, diffusion=D0, schedule=schedule)


def test_batch_size_switch_against_variance_ode():
    """Batch 128 → 2048 at t = 1: D drops 16-fold. v′ = −2Kv + 2D(t) solved in closed form."""
    t1, ratio = 1.0, 128 / 2048
    m = ou(schedules.PiecewiseConstant([t1], [1.0, ratio]), n=1200)
    v0 = D0 / K  # start in the stationary state of the large-noise phase
    times = [0.5, 1.0, 1.3, 2.0, 3.0]
    res = m.evolve(lambda x: np.exp(-x ** 2 / (2 * v0)), times, dt=0.01)
    v_inf2 = ratio * D0 / K
    for t, p in zip(times, res.densities):
        ref = v0 if t <= t1 else v_inf2 + (v0 - v_inf2) * np.exp(-2 * K * (t - t1))
        # the O(h²) space error dominates (Δt = 0.01 vs 0.001 changes it by < 3e-5): measured
        # 2.4e-3 at h = 0.013 and 6e-4 at h = 0.0067 in the low-noise phase (order 2)
        assert p.var() == pytest.approx(ref, rel=1e-3)
    assert res.factorisations == 2  # one per distinct s value, none per step
    assert res.assemblies == 2


def test_smooth_annealing_against_ode_and_second_order():
    s = schedules.Annealing(gamma=1.0)  # s(t) = 1 / log(2 + t)
    m = ou(s)
    v0 = 0.05
    T = 2.0
    ode = solve_ivp(lambda t, v: -2 * K * v + 2 * D0 * s(t), (0, T), [v0], rtol=1e-12, atol=1e-14)
    ref = ode.y[0, -1]
    errs = []
    for dt in (0.1, 0.05):
        p = m.evolve(lambda x: np.exp(-x ** 2 / (2 * v0)), [T], dt=dt).densities[-1]
        errs.append(abs(p.var() - ref))
    assert errs[1] / ref < 2e-3
    # frozen-midpoint TR-BDF2 is second order in Δt until the O(h²) floor
    assert errs[1] < 0.5 * errs[0]


def test_bad_schedules():
    with pytest.raises(fp.InputError, match="values"):
        schedules.PiecewiseConstant([1.0], [1.0])
    with pytest.raises(fp.InputError, match="positive"):
        schedules.PiecewiseConstant([1.0], [1.0, -2.0])
    m = ou(lambda t: 1.0 - t)  # becomes negative at t > 1
    with pytest.raises(fp.InputError, match="schedule"):
        m.evolve(np.ones(300), [2.0])
