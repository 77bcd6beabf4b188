"""Anderson mixing against the exact fixed point of a linear iteration."""
import numpy as np

from fpsolve.large_deviations.paths.anderson import AndersonMixing


def _slow_linear_map(n=40, seed=0):
    """x ↦ Gx + c with G symmetric, eigenvalues 0 … 0.999 (the slowest mode contracts by 0.999
    per step), and its fixed point (I − G)⁻¹c by a direct solve."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    G = (Q * np.linspace(0.0, 0.999, n)) @ Q.T
    c = rng.standard_normal(n)
    return (lambda x: G @ x + c), np.linalg.solve(np.eye(n) - G, c)


def test_full_memory_reaches_the_fixed_point_like_gmres():
    # on a linear map, Anderson mixing with memory ≥ n is GMRES on (I − G)x = c (Walker & Ni):
    # exact (to round-off) after at most n + 1 steps; the plain iteration is still at 0.999^n
    T, exact = _slow_linear_map()
    x, mixer = np.zeros_like(exact), AndersonMixing(60)
    for _ in range(41):
        nxt = mixer.propose(x, T(x))
        x = T(x) if nxt is None else nxt
    assert np.linalg.norm(x - exact) < 1e-8 * np.linalg.norm(exact)
    y = np.zeros_like(exact)
    for _ in range(41):
        y = T(y)
    assert np.linalg.norm(y - exact) > 0.5 * np.linalg.norm(exact)


def test_a_fixed_point_is_kept_and_reset_forgets():
    T, exact = _slow_linear_map()
    mixer = AndersonMixing(5)
    assert mixer.propose(exact, T(exact)) is None      # no history yet: the plain step
    x = exact + 1e-3
    mixer.propose(x, T(x))
    np.testing.assert_allclose(mixer.propose(exact, T(exact)), exact, rtol=0, atol=1e-12)
    mixer.reset()
    assert mixer.propose(x, T(x)) is None
