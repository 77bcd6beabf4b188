"""Euler–Maruyama particles against exact references: the closed-form EM moments of an OU
process (weak order 1), the PDE's stationary density, exact Fourier modes on a periodic axis,
and the pathwise agreement of the compiled and vectorised routes. Tolerances are k standard
errors with k stated at each assert; all seeds fixed."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fpsolve as fp
from fpsolve import compare
from fpsolve.coefficients import schedules
from fpsolve.particles import simulate

from .conftest import state_dependent_d_2d, tilted_bowl_2d

K = 4.0  # standard errors allowed in statistical asserts


def test_weak_order_one_on_ou(ou_model):
    """E[X_T] for dt, dt/2, dt/4: equal to the exact EM recursion within 4 SE, and its error
    against the SDE's e^(−T) x0 halves with dt (fitted order 1 ± 4 SE)."""
    rate, D, x0, T, n = 1.0, 0.5, 2.0, 1.0, 400_000
    errors, ses = [], []
    for j, dt in enumerate([0.1, 0.05, 0.025]):
        r = simulate(ou_model, x0, n=n, dt=dt, t_end=T, seed=10 + j)
        assert r.route == "compiled"
        X = r.positions[-1][:, 0]
        m_em, v_em = compare.em_ou_moments(T, x0, rate, D, dt)
        se = X.std() / np.sqrt(n)
        assert abs(X.mean() - m_em) < K * se
        assert compare.moments(X, cov=v_em, k=K).passed
        errors.append(X.mean() - x0 * np.exp(-rate * T))
        ses.append(se)
    errors, ses = np.array(errors), np.array(ses)
    # all errors are O(dt) and negative (EM contracts too fast): far from zero
    assert np.all(errors < -K * ses)
    slope = np.log(errors[0] / errors[2]) / np.log(4.0)
    slope_se = np.sqrt((ses[0] / errors[0]) ** 2 + (ses[2] / errors[2]) ** 2) / np.log(4.0)
    assert abs(slope - 1.0) < K * slope_se


def test_routes_agree_pathwise_2d_isothermal():
    """Same seed → same noise: the compiled kernel (jitted U differentiated in the kernel, jitted
    D, α∇D of the isothermal convention) and the numpy route through model.drift_at follow the
    same paths up to the central-difference round-off."""
    g = fp.Grid([(-2.5, 2.5), (-2.0, 2.0)], 40)
    m = fp.FokkerPlanck(g, potential=tilted_bowl_2d, diffusion=state_dependent_d_2d,
                        convention="isothermal")
    x0 = np.array([-1.0, 0.5])
    a = simulate(m, x0, n=3000, dt=2e-3, t_end=0.4, times=[0.2, 0.4], seed=3)
    b = simulate(m, x0, n=3000, dt=2e-3, t_end=0.4, times=[0.2, 0.4], seed=3, compiled=False)
    assert (a.route, b.route) == ("compiled", "vectorised")
    for pa, pb in zip(a.positions, b.positions):
        assert np.max(np.abs(pa - pb)) < 1e-7
    assert np.all(a.alive == 3000)


def test_stationary_histogram_against_pde(dw_model):
    """Start in the PDE stationary density (sampled cell by probability, uniform inside), run 3
    relaxation times of a well: the histogram stays the PDE density (L1 within the null
    distribution + 3 s.d. + the EM bias allowance; KS at alpha = 1e-3)."""
    p = dw_model.stationary()
    r = simulate(dw_model, p, n=40_000, dt=2e-3, t_end=1.5, times=[0.0, 1.5], seed=4)
    # t = 0: the sampler itself reproduces the piecewise-constant density exactly
    assert compare.ks_1d(r, p, t_index=0, alpha=1e-3).passed
    # EM bias of the stationary density: relative O(λ dt) = 2·2e-3 → L1 allowance 1e-2
    res = compare.histogram_l1(r, p, k=3.0, bias=1e-2)
    assert res.passed, res.verdict
    assert compare.ks_1d(r, p, alpha=1e-3, bias=5e-3).passed


@pytest.mark.parametrize("convention", ["ito", "isothermal"])
def test_state_dependent_noise_follows_the_convention(convention):
    """D(x) = 0.1(1 + x²): Itô and isothermal stationary densities differ by the factor D(x);
    particles (numpy route, model.drift_at includes α∇D) match the model's own convention and
    are far from the other one."""
    g = fp.Grid([(-2.0, 2.0)], 80)
    U = lambda x: x ** 2 / 2
    D = lambda x: 0.1 * (1 + x ** 2)
    m = fp.FokkerPlanck(g, potential=U, diffusion=D, convention=convention)
    other = fp.FokkerPlanck(g, potential=U, diffusion=D,
                            convention="isothermal" if convention == "ito" else "ito")
    p, q = m.stationary(), other.stationary()
    r = simulate(m, p, n=10_000, dt=1e-2, t_end=1.5, seed=5)
    assert r.route == "vectorised"
    res = compare.histogram_l1(r, p, k=3.0, bias=1e-2)
    assert res.passed, res.verdict
    assert not compare.histogram_l1(r, q, k=3.0, bias=1e-2).passed


def test_reflecting_walls_keep_every_particle_in_the_box():
    """A drift pushing out of the box and steps as large as the box: all particles stay in the
    closed box at every output, on both routes."""
    g = fp.Grid([(0.0, 1.0), (-1.0, 1.0)], 8)
    m = fp.FokkerPlanck(g, drift=lambda x, y: (5.0 + 0 * x, -5.0 + 0 * y), diffusion=0.5)
    for compiled in (False, "auto"):
        r = simulate(m, [0.5, 0.0], n=5000, dt=0.3, t_end=3.0, times=np.arange(1, 11) * 0.3,
                     seed=6, compiled=compiled)
        for X in r.positions:
            assert np.all((X[:, 0] >= 0.0) & (X[:, 0] <= 1.0))
            assert np.all((X[:, 1] >= -1.0) & (X[:, 1] <= 1.0))
        assert np.all(r.alive == 5000)


def test_periodic_axis_wraps_with_the_exact_fourier_mode():
    """Pure diffusion on a circle of length 1: E[cos 2π(X_t − x0)] = exp(−4π² D t) exactly for
    any dt (Gaussian increments); wrapping must not change it. Within 4 SE."""
    g = fp.Grid([(0.0, 1.0)], 20, periodic=True)
    D = 0.05
    m = fp.FokkerPlanck(g, diffusion=D)
    times = [0.1, 0.5, 1.0]
    r = simulate(m, 0.9, n=100_000, dt=0.05, t_end=1.0, times=times, seed=7, compiled=False)
    for t, X in zip(times, r.positions):
        assert np.all((X >= 0.0) & (X < 1.0))
        c = np.cos(2 * np.pi * (X[:, 0] - 0.9))
        assert abs(c.mean() - np.exp(-4 * np.pi ** 2 * D * t)) < K * c.std() / np.sqrt(len(c))


def test_diffusion_schedule_against_the_em_recursion(ou_model):
    """FokkerPlanck's schedule D(x, t) = s(t)·D(x) (batch size ×16 at t = 0.5): the variance
    follows the exact EM recursion v ← (1 − h)² v + 2 s(t_k) D h, on both routes (4 SE)."""
    s = schedules.PiecewiseConstant([0.5], [1.0, 1.0 / 16])
    m = fp.FokkerPlanck(ou_model.grid, potential=ou_model.potential, diffusion=0.5, schedule=s)
    h, times = 0.02, [0.5, 1.0]
    v, ref = 0.0, []
    for k in range(50):
        v = (1 - h) ** 2 * v + 2 * s(k * h) * 0.5 * h
        if k + 1 in (25, 50):
            ref.append(v)
    for compiled in ("auto", False):
        r = simulate(m, 0.0, n=100_000, dt=h, t_end=1.0, times=times, seed=8, compiled=compiled)
        assert r.route == ("compiled" if compiled else "vectorised")
        for j, v_ref in enumerate(ref):
            assert compare.moments(r, mean=0.0, cov=v_ref, t_index=j, k=K).passed


def test_absorbing_target_removes_particles(dw_model):
    r = simulate(dw_model, -1.0, n=2000, dt=5e-3, t_end=4.0, times=[1.0, 2.0, 4.0], seed=9,
                 target=[(0.5, np.inf)])
    assert np.all(np.diff(np.r_[2000, r.alive]) <= 0) and r.alive[-1] < 2000
    for X in r.positions:
        assert np.all(X[:, 0] < 0.5)
    assert len(r.removed_times) == 2000 - r.alive[-1]
    assert np.all(r.removed_points[:, 0] >= 0.5) and np.all(r.removed_times <= 4.0 + 1e-12)
    h = r.histogram(-1, normalize=False)
    assert h.values.sum() * h.grid.cell_volume == pytest.approx(r.alive[-1] / 2000)


def test_same_seed_same_paths_any_thread_count(dw_model):
    """Random streams belong to chunks of particles, not threads: identical results with 1 and
    2 Numba threads (numpy route, whose kernels are cached on disk)."""
    m = fp.FokkerPlanck(dw_model.grid, potential=lambda x: (x ** 2 - 1) ** 2 / 4, diffusion=0.25)
    a = simulate(m, -1.0, n=5000, dt=1e-2, t_end=0.5, seed=11)
    b = simulate(m, -1.0, n=5000, dt=1e-2, t_end=0.5, seed=11)
    c = simulate(m, -1.0, n=5000, dt=1e-2, t_end=0.5, seed=12)
    assert np.array_equal(a.positions[-1], b.positions[-1])
    assert not np.array_equal(a.positions[-1], c.positions[-1])
    code = ("import numpy as np, fpsolve as fp; from fpsolve.particles import simulate; "
            "m = fp.FokkerPlanck(fp.Grid([(-2.5, 2.5)], 250), potential=lambda x: (x**2-1)**2/4, "
            "diffusion=0.25); r = simulate(m, -1.0, n=5000, dt=1e-2, t_end=0.5, seed=11); "
            "np.save(__import__('sys').argv[1], r.positions[-1])")
    out = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"fp_particles_{os.getpid()}.npy")
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    subprocess.run([sys.executable, "-c", code, out], check=True, env=env)
    try:
        assert np.array_equal(np.load(out), a.positions[-1])
    finally:
        os.remove(out)


def test_inputs_are_checked(dw_model):
    with pytest.raises(fp.InputError, match="outside the domain"):
        simulate(dw_model, 3.0, n=10, dt=0.1, t_end=1.0)
    with pytest.raises(fp.InputError, match="backend"):
        simulate(dw_model, 0.0, n=10, dt=0.1, t_end=1.0, backend="jax")
    with pytest.raises(fp.InputError, match="target"):
        simulate(dw_model, 0.0, n=10, dt=0.1, t_end=1.0, target=[(0, 1), (0, 1)])
    with pytest.raises(fp.InputError, match="n ="):
        simulate(dw_model, np.zeros((5, 1)), n=10, dt=0.1, t_end=1.0)
    # plain numpy expressions are compiled automatically now (issue 13); a coefficient that
    # numba cannot compile (a scipy.special function) still makes compiled=True an error
    from scipy.special import erf

    with pytest.raises(fp.InputError, match="compiled=True"):
        m = fp.FokkerPlanck(dw_model.grid, potential=lambda x: erf(x), diffusion=1.0)
        simulate(m, 0.0, n=10, dt=0.1, t_end=1.0, compiled=True)


def test_import_without_torch():
    code = "import sys; sys.modules['torch'] = None; import fpsolve.particles, fpsolve.compare"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_seed_sequence_is_accepted_and_equals_its_integer():
    """The docstring promises int or SeedSequence: SeedSequence(s) gives the run of seed s,
    and is not mutated by the call."""
    g = fp.Grid([(-2.0, 2.0)], 20)
    m = fp.FokkerPlanck(g, potential=lambda x: x ** 2 / 2, diffusion=0.5)
    x0 = fp.FokkerPlanck(g, potential=lambda x: x ** 2 / 2, diffusion=0.5).stationary()
    ss = np.random.SeedSequence(7)
    a = simulate(m, x0, n=256, dt=0.01, t_end=0.1, seed=7)
    b = simulate(m, x0, n=256, dt=0.01, t_end=0.1, seed=ss)
    assert np.array_equal(a.positions[-1], b.positions[-1])
    assert ss.n_children_spawned == 0
