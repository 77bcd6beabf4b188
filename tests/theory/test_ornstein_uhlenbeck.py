"""OU closed forms against ODE integration, grid integrals, Hermite eigenfunctions, enumeration."""
import itertools

import numpy as np
import pytest
from numpy.polynomial import hermite_e as He
from scipy import integrate

from fpsolve.errors import InputError
from fpsolve.theory.ornstein_uhlenbeck import (
    chaudhari_soatto_ou, current_exists, diffusion_matrix_a2, inverse_temperature,
    ou_eigenvalues, ou_stationary_state, ou_transition_density_1d, stationary_current,
    transient_moments,
)

H2 = np.diag([2.0, 1.0])
D2 = np.array([[1.0, 0.3], [0.3, 0.5]])


def _lyapunov_ode(B, D, S0, t):
    """Σ′ = −BΣ − ΣBᵀ + 2D integrated with DOP853 (independent of the closed form)."""
    n = B.shape[0]
    f = lambda _, y: (-B @ y.reshape(n, n) - y.reshape(n, n) @ B.T + 2 * D).ravel()
    sol = integrate.solve_ivp(f, (0, t), S0.ravel(), method="DOP853", rtol=1e-12, atol=1e-14)
    return sol.y[:, -1].reshape(n, n)


def test_lyapunov_solution_residual_and_ode_limit(rng):
    A = rng.normal(size=(3, 3))
    B = A @ A.T + 3 * np.eye(3)
    C = rng.normal(size=(3, 3))
    D = C @ C.T + 0.1 * np.eye(3)
    st = ou_stationary_state(B, D)
    # residual of B Σ + Σ Bᵀ = 2D, computed here: Bartels–Stewart is backward stable (~1e-15)
    assert np.abs(B @ st.covariance + st.covariance @ B.T - 2 * D).max() < 1e-12 * np.abs(D).max()
    # the ODE relaxes at rate ≥ 2·λ_min(B) ≥ 6: at t = 10 it sits at Σ∞ to e^(−60)
    np.testing.assert_allclose(_lyapunov_ode(B, D, np.zeros((3, 3)), 10.0), st.covariance,
                               rtol=1e-9, atol=1e-12)


def test_circulation_against_grid_integral():
    # Reference: Σ from the Lyapunov ODE (not the closed-form solver); p = N(0, Σ) and
    # J = (−Hx)p − D∇p with ∇p = −Σ⁻¹x p, summed on a ±10σ box with 601² points (the truncated
    # mass is ~e^(−50) and the trapezoid rule is spectrally accurate for a Gaussian).
    S = _lyapunov_ode(H2, D2, np.zeros((2, 2)), 30.0)
    P = np.linalg.inv(S)
    g = np.linspace(-10, 10, 601) * np.sqrt(S.diagonal().max())
    X, Y = np.meshgrid(g, g, indexing="ij")
    x = np.stack([X, Y], axis=-1)
    p = np.exp(-0.5 * np.einsum("...i,ij,...j->...", x, P, x)) / (2 * np.pi * np.sqrt(np.linalg.det(S)))
    J = -(x @ H2.T) * p[..., None] + (x @ (D2 @ P).T) * p[..., None]
    dx = g[1] - g[0]
    circ = np.sum(X * J[..., 1] - Y * J[..., 0]) * dx * dx
    st = ou_stationary_state(H2, D2)
    assert st.has_current
    assert st.circulation[0, 1] == pytest.approx(circ, rel=1e-9)
    # the current returned by stationary_current is the same field, and it is divergence-free:
    # (J is formed here as a difference of two terms, so compare with an absolute floor)
    np.testing.assert_allclose(stationary_current(x, H2, D2), J, rtol=1e-9, atol=1e-12 * np.abs(J).max())
    # its two partial derivatives are O(|J|/σ) each and cancel up to the O(dx²) ≈ 1e-3 relative
    # error of central differences
    t1, t2 = np.gradient(J[..., 0], dx, axis=0), np.gradient(J[..., 1], dx, axis=1)
    assert np.abs(t1 + t2).max() < 1e-2 * np.abs(t1).max()


def test_current_iff_noncommuting():
    # HD = DH: detailed balance, Σ = H⁻¹D and Q = 0; otherwise a current circulates
    Dc = np.diag([0.7, 0.2])
    st = ou_stationary_state(H2, Dc)
    assert not current_exists(H2, Dc) and not st.has_current
    np.testing.assert_allclose(st.covariance, np.linalg.solve(H2, Dc), rtol=1e-13)
    assert current_exists(H2, D2) and np.abs(ou_stationary_state(H2, D2).q[0, 1]) > 0.05
    # isotropic H commutes with any D
    assert not current_exists(np.eye(2), D2)


def test_chaudhari_soatto_units():
    # paper: HS + SH = 2D̃, Σ∞ = β⁻¹S, circulation 2β⁻¹Q̃₁₂; ours: D = β⁻¹D̃
    binv = 0.05
    cs = chaudhari_soatto_ou(H2, D2, binv)
    st = ou_stationary_state(H2, binv * D2)
    np.testing.assert_allclose(cs.covariance, st.covariance, rtol=1e-13)
    np.testing.assert_allclose(cs.circulation, st.circulation, rtol=1e-12)
    # eq. (8): ∇f = Hx = (D̃ + Q̃)∇Φ with ∇Φ = S⁻¹x, i.e. H = (D̃ + Q̃)S⁻¹
    np.testing.assert_allclose((D2 + cs.q) @ cs.potential_matrix, H2, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(cs.q, -cs.q.T)


def test_transient_moments_against_ode():
    B = np.array([[1.0, 0.8], [-0.3, 2.0]])  # non-symmetric drift matrix
    m0, S0 = np.array([1.0, -2.0]), np.array([[0.2, 0.05], [0.05, 0.1]])
    t = 0.7
    ms, Ss = transient_moments([0.0, t], B, D2, m0, S0)
    sol = integrate.solve_ivp(lambda _, m: -B @ m, (0, t), m0, method="DOP853", rtol=1e-12,
                              atol=1e-14)
    np.testing.assert_allclose(ms[0], m0)
    np.testing.assert_allclose(ms[1], sol.y[:, -1], rtol=1e-10)
    np.testing.assert_allclose(Ss[1], _lyapunov_ode(B, D2, S0, t), rtol=1e-10)


def test_ou_eigenvalues_hermite_eigenfunctions():
    # 1D: A = −kx d/dx + D d²/dx²; He_n(x/σ), σ² = D/k, satisfies A He_n = −n k He_n
    k, D = 1.7, 0.3
    rates = ou_eigenvalues(k, 5)
    sig = np.sqrt(D / k)
    x = np.linspace(-2, 2, 9)
    for n, rate in enumerate(rates):
        c = np.zeros(n + 1)
        c[-1] = 1.0
        f = He.hermeval(x / sig, c)
        d1 = He.hermeval(x / sig, He.hermeder(c)) / sig
        d2 = He.hermeval(x / sig, He.hermeder(c, 2)) / sig ** 2
        Af = -k * x * d1 + D * d2
        np.testing.assert_allclose(Af, -rate * f, rtol=1e-12, atol=1e-10)
    # 2D diagonal: all sums n₁k₁ + n₂k₂, brute-force sorted
    ks = (1.0, 2.5)
    brute = sorted(a * ks[0] + b * ks[1] for a, b in itertools.product(range(10), repeat=2))[:8]
    np.testing.assert_allclose(ou_eigenvalues(np.diag(ks), 8), brute)


def test_transition_density_chapman_kolmogorov_and_pde():
    k, D, x0 = 0.8, 0.4, 1.3
    p = lambda x, t, y: ou_transition_density_1d(x, t, y, k, D)
    x, s, t = 0.4, 0.3, 0.5
    ck = integrate.quad(lambda y: p(x, t, y) * p(y, s, x0), -np.inf, np.inf, epsabs=0, epsrel=1e-12)[0]
    assert ck == pytest.approx(p(x, s + t, x0), rel=1e-10)
    assert integrate.quad(lambda y: p(y, t, x0), -np.inf, np.inf)[0] == pytest.approx(1, rel=1e-12)
    # ∂t p = ∂x(kx p) + D ∂xx p by central differences (h = 1e-3: O(h²) ≈ 1e-6 relative)
    h = 1e-3
    dt = (p(x, t + h, x0) - p(x, t - h, x0)) / (2 * h)
    flux = lambda z: k * z * p(z, t, x0)
    lap = (p(x + h, t, x0) - 2 * p(x, t, x0) + p(x - h, t, x0)) / h ** 2
    rhs = (flux(x + h) - flux(x - h)) / (2 * h) + D * lap
    assert dt == pytest.approx(rhs, rel=1e-5)


def test_a2_erratum_by_enumeration(rng):
    # exact covariance of the mean of a batch of b drawn without replacement, by enumerating all
    # C(N, b) batches, equals (1/b)(1 − b/N)·(corrected A2); the printed coefficient does not
    N, b = 6, 3
    G = rng.normal(size=(N, 2)) + np.array([1.0, -0.5])
    means = np.array([G[list(c)].mean(axis=0) for c in itertools.combinations(range(N), b)])
    exact = np.cov(means, rowvar=False, ddof=0)
    a2 = diffusion_matrix_a2(G)
    np.testing.assert_allclose(exact, (1 / b) * (1 - b / N) * a2.corrected, rtol=1e-12)
    assert np.abs(exact - (1 / b) * (1 - b / N) * a2.printed).max() > 1e-3
    t = inverse_temperature(0.1, 32, 1000, replacement=True)
    assert t.corrected == pytest.approx(0.1 / 64) and t.printed == pytest.approx(0.1 / 64 * (1 - 32 / 1000))


def test_refuses_unstable_drift():
    with pytest.raises(InputError, match="positive real part"):
        ou_stationary_state(np.diag([1.0, -1.0]), np.eye(2))
