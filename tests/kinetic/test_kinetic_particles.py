"""BAOAB particles and heavy-ball chains against closed forms (BAOAB on a harmonic well, the
heavy-ball Lyapunov covariance) and against the PDE (mean first-passage time), with standard
errors; the three routes (cached polynomial kernel, compiled d-dim kernel, numpy) agree."""
import numpy as np
import pytest
from numba import njit

import fpsolve as fp
from fpsolve import compare
from fpsolve.errors import InputError
from fpsolve.kinetic import Langevin, particles, theory
from fpsolve.particles import potentials
from fpsolve.particles.sgd import FiniteSumProblem


def harmonic(omega2=2.0, T=0.1, gamma=1.0, poly=True):
    U = potentials.quadratic(omega2) if poly else (lambda x: 0.5 * omega2 * x ** 2)
    return Langevin(fp.Grid([(-2, 2), (-2, 2)], 24), U, friction=gamma, temperature=T)


def test_baoab_harmonic_variances():
    """BAOAB samples the harmonic position law exactly (Var x = T/ω² at any h) and the
    velocity with Var v = T(1 − h²ω²/4) (Leimkuhler & Matthews 2015, §7.4); n = 2e5, 5σ."""
    h, w2, T = 0.2, 2.0, 0.1
    run = particles.simulate(harmonic(w2, T), 0.0, n=200_000, dt=h, t_end=40.0, seed=3)
    assert run.route == "poly"
    x, v = run.positions[-1], run.velocities[-1]
    st = compare.moments(x, cov=T / w2, k=5.0)
    assert st.passed, st.verdict
    sv = compare.moments(v, cov=T * (1 - h * h * w2 / 4), k=5.0)
    assert sv.passed, sv.verdict


def test_routes_agree_and_runs_are_reproducible():
    """Polynomial kernel, numpy route and a compiled 1D KineticSDE on the same double well:
    E x², E v² agree within 5 combined standard errors."""
    U = potentials.double_well()
    m = Langevin(fp.Grid([(-2.5, 2.5), (-2.7, 2.7)], 24), U, friction=1.0, temperature=0.2)
    m_np = Langevin(fp.Grid([(-2.5, 2.5), (-2.7, 2.7)], 24), lambda x: (x ** 2 - 1) ** 2 / 4,
                    friction=1.0, temperature=0.2)

    @njit
    def grad(x, out):
        out[0] = x[0] ** 3 - x[0]

    sde = particles.KineticSDE(1, grad, 1.0, 0.2)
    runs = [particles.simulate(mod, -1.0, n=n, dt=0.05, t_end=20.0, seed=5)
            for mod, n in ((m, 20_000), (m_np, 5_000), (sde, 20_000))]
    assert [r.route for r in runs] == ["poly", "numpy", "compiled"]
    for q in (lambda r: r.positions[-1][:, 0] ** 2, lambda r: r.velocities[-1][:, 0] ** 2):
        vals = [q(r) for r in runs]
        means = np.array([a.mean() for a in vals])
        ses = np.array([a.std() / np.sqrt(a.size) for a in vals])
        assert np.ptp(means) < 5 * np.sqrt(2) * ses.max()
    again = particles.simulate(m, -1.0, n=20_000, dt=0.05, t_end=20.0, seed=5)   # same seed
    np.testing.assert_array_equal(again.positions[-1], runs[0].positions[-1])


def test_first_passage_particles_match_the_pde():
    """E τ from (−1, Maxwellian v) to x ≥ 0.8 at T = 0.1, γ = 1: BAOAB (dt = 0.02, 4000 paths)
    against the PDE averaged over the same start law; 4 standard errors plus 1% for the PDE's
    O(h²) and the O(dt) monitoring bias."""
    T = 0.1
    g = fp.Grid([(-2.4, 1.2), (-1.8, 1.8)], (180, 128))   # x = 0.8 is a face
    m = Langevin(g, potentials.double_well(), friction=1.0, temperature=T)
    tau = m.mean_first_passage_time(lambda x: x >= 0.8)
    i = g.cell_index([[-1.0, 0.0]])[0][0]
    v = g.axes[1]
    w = np.exp(-v ** 2 / (2 * T))
    ref = float((tau.values[i] * w).sum() / w.sum())
    fpt = particles.first_passage(m, (0.8, None), -1.0, n=4000, dt=0.02, t_max=50 * ref,
                                  seed=11)
    assert fpt.censored == 0
    cmp = compare.first_passage_mean(fpt, ref, k=4.0, bias=0.01 * ref)
    assert cmp.passed, cmp.verdict


def test_heavy_ball_chains_quadratic_covariance():
    """v ← βv − η(λθ + ξ), ξ the mean of B draws of ±s: the chain's stationary covariance is
    the exact Lyapunov solution for Var ξ = s²/B (any noise law: the recursion is linear).
    Numba route (data shifts) and numpy route (FiniteSumProblem); 5σ."""
    lam, s, B, eta, beta = 1.5, 1.2, 4, 0.04, 0.8
    P = theory.heavy_ball_quadratic_covariance(eta, beta, lam, s * s / B)
    U = potentials.quadratic(lam)
    run = particles.heavy_ball(U, 0.0, eta, beta, B, 3000, data=[s, -s], n_chains=40_000,
                               seed=2)
    X = np.column_stack([run.theta[-1][:, 0], run.velocity[-1][:, 0]])
    st = compare.moments(X, cov=P, k=5.0)
    assert st.passed, st.verdict
    data = np.array([s, -s])
    prob = FiniteSumProblem(2, 1, lambda th, idx: lam * th + data[idx][..., None],
                            lambda th, idx: 0.5 * lam * th[..., 0] ** 2 + data[idx] * th[..., 0],
                            "quadratic ± s")
    run2 = particles.heavy_ball(prob, 0.0, eta, beta, B, 1500, n_chains=8000, seed=3)
    X2 = np.column_stack([run2.theta[-1][:, 0], run2.velocity[-1][:, 0]])
    st2 = compare.moments(X2, cov=P, k=5.0)
    assert st2.passed and run2.route == "numpy", st2.verdict
    assert run.times[-1] == pytest.approx(3000 * np.sqrt(eta))


def test_bad_particle_input():
    m = harmonic()
    with pytest.raises(InputError):
        particles.simulate(m, 0.0, dt=0.1, t_end=1.0)            # n missing
    with pytest.raises(InputError):
        particles.simulate(m, 0.0, v0="hot", n=10, dt=0.1, t_end=1.0)
    with pytest.raises(InputError):
        particles.simulate(m, 0.0, n=10, dt=0.1, t_end=1.0, target=[(0, 1), (0, 1)])
    with pytest.raises(InputError):
        particles.KineticSDE(2, None, 1.0, np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(InputError):
        particles.heavy_ball(potentials.quadratic(1.0), 0.0, 0.01, 1.0, 4, 10, data=[1, -1],
                             n_chains=4)
