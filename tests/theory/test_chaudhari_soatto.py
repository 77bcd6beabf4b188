"""Theorem 10's first-order shift of the most likely point (fpsolve.theory.chaudhari_soatto).

The shift against the finite-volume stationary mode is the validation case
chaudhari_soatto/most_likely_shift; here, exact properties of the formula itself."""
import numpy as np
import pytest

from fpsolve.errors import InputError
from fpsolve.theory.chaudhari_soatto import most_likely_shift

H = np.array([[2.0, 0.4], [0.4, 1.0]])
F3 = np.zeros((2, 2, 2))
F3[0, 0, 0], F3[0, 0, 1], F3[0, 1, 1], F3[1, 1, 1] = 1.5, -0.7, 0.3, 2.0
for i, j, k in [(0, 0, 1), (0, 1, 1)]:  # symmetrise f_ijk
    for p in {(i, j, k), (i, k, j), (j, i, k), (j, k, i), (k, i, j), (k, j, i)}:
        F3[p] = F3[i, j, k]


def test_isotropic_noise_does_not_move_the_mode():
    # D̃ ∝ I: the stationary law is Gibbs, exp(−βf/c), whose mode is the minimum at every β
    assert np.allclose(most_likely_shift(H, 0.3 * np.eye(2), F3), 0.0, atol=1e-12)


def test_commuting_separable_problem_does_not_move_the_mode():
    # f = f₁(x₁) + f₂(x₂), D̃ diagonal: ρ ∝ exp(−βf₁/d₁ − βf₂/d₂), mode at the minimum
    F = np.zeros((2, 2, 2))
    F[0, 0, 0], F[1, 1, 1] = 1.2, -0.8
    assert np.allclose(most_likely_shift(np.diag([2.0, 1.0]), np.diag([0.5, 2.0]), F), 0.0,
                       atol=1e-12)


def test_the_shift_rotates_with_the_problem():
    # an orthogonal change of coordinates R maps the slope v to R v (catches index errors)
    D = np.array([[1.0, 0.3], [0.3, 0.4]])
    v = most_likely_shift(H, D, F3)
    assert np.linalg.norm(v) > 1e-2  # anisotropic, non-commuting: a real shift
    a = 0.7
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    F3r = np.einsum("ia,jb,kc,abc->ijk", R, R, R, F3)
    vr = most_likely_shift(R @ H @ R.T, R @ D @ R.T, F3r)
    assert np.allclose(vr, R @ v, rtol=1e-10, atol=1e-12)


def test_the_shift_is_linear_in_the_cubic_terms():
    D = np.array([[1.0, 0.4], [0.4, 0.7]])
    v = most_likely_shift(H, D, F3)
    assert np.allclose(most_likely_shift(H, D, 2 * F3), 2 * v, rtol=1e-12)


def test_bad_shapes():
    with pytest.raises(InputError, match="2×2"):
        most_likely_shift(np.eye(3), np.eye(3), np.zeros((3, 3, 3)))
