"""Step-size checks of the particles (issue 14): a warning with a suggested dt when dt exceeds
the drift's explicit stability limit, and a SolverError when positions blow up."""
import warnings

import numpy as np
import pytest

import fpsolve as fp
from fpsolve.particles import first_passage, simulate
from fpsolve.particles.stability import drift_stiffness


def _quartic():
    # U = 50x⁴, D = 0.1 on [−1, 1]: the stationary variance is sqrt(D/50) Γ(3/4)/Γ(1/4) = 0.0151
    return fp.FokkerPlanck(fp.Grid([(-1, 1)], 200), potential=lambda x: 50 * x ** 4,
                           diffusion=0.1)


def test_stiffness_bound_matches_the_drift_derivative():
    # b = −200x³, |b′| = 600x², largest at the outermost cell centre x = ±0.995
    kappa, where = drift_stiffness(_quartic())
    assert kappa == pytest.approx(600 * 0.995 ** 2, rel=1e-6)  # central differences of a cubic
    assert abs(where[0]) == pytest.approx(0.995)


def test_too_large_a_step_warns_with_a_suggested_dt():
    m = _quartic()
    with pytest.warns(RuntimeWarning, match=r"stability limit.*Use dt ≤ 0.000337"):
        r = simulate(m, 0.0, n=2000, dt=0.5, t_end=5.0, seed=1)
    # the warning is about a real failure: the variance is an order of magnitude off
    assert r.positions[-1].var() > 10 * 0.0151
    with pytest.warns(RuntimeWarning, match="stability limit"):
        first_passage(m, 0.0, [(0.5, np.inf)], n=100, dt=0.5, t_max=5.0, seed=1)


def test_a_step_within_the_limit_is_silent():
    m = _quartic()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = simulate(m, 0.0, n=4000, dt=1e-3, t_end=2.0, seed=1)
    exact = np.sqrt(0.1 / 50) * 0.3379891200336424  # Γ(3/4)/Γ(1/4)
    # 4000 samples: the variance's relative standard error is ≈ sqrt(2/4000) ≈ 2.2 %, plus the
    # O(dt) bias (dt·|b′| ≈ 1e-3·600·0.015 ≈ 1 % where the mass is): 10 % is > 3 standard errors
    assert r.positions[-1].var() == pytest.approx(exact, rel=0.1)


def test_non_finite_positions_raise_a_solver_error():
    # a drift that is finite on the grid but whose step b·dt overflows: the compiled route's
    # positions become infinite, which must be reported, not returned
    m = fp.FokkerPlanck(fp.Grid([(-1, 1)], 40), drift=lambda x: -1e307 * x ** 3,
                        diffusion=0.5)
    with pytest.warns(RuntimeWarning, match="stability limit"):
        with pytest.raises(fp.SolverError, match="non-finite"):
            simulate(m, 0.5, n=50, dt=100.0, t_end=500.0, seed=1, compiled=True)
