"""Plain Python (numpy-expression) coefficients are compiled for the particle kernels (issue 13):
the compiled run equals the run with the same coefficients written as @numba.njit functions, and
what cannot be compiled faithfully is refused with a reason and run on the numpy route."""
import numba
import numpy as np
import pytest

import fpsolve as fp
from fpsolve.particles import euler_maruyama, first_passage, simulate
from fpsolve.particles.routes import auto_jit


def _readme_model(potential, diffusion):
    return fp.FokkerPlanck(fp.Grid([(-2.5, 2.5)], 200), potential=potential,
                           diffusion=diffusion)


def test_lambdas_compile_and_equal_the_njit_route():
    # the README's double well with a state-dependent D, as lambdas and as @njit functions:
    # the same kernel and random streams, so the same positions to round-off (the compiled
    # lambda is the same expression; LLVM may contract differently only in the last bits)
    lam = _readme_model(lambda x: (x ** 2 - 1) ** 2 / 4, lambda x: 0.05 * (1 + x ** 2))
    jit = _readme_model(numba.njit(lambda x: (x ** 2 - 1) ** 2 / 4),
                        numba.njit(lambda x: 0.05 * (1 + x ** 2)))
    a = simulate(lam, -1.0, n=500, dt=1e-3, t_end=0.5, seed=3, compiled=True)
    b = simulate(jit, -1.0, n=500, dt=1e-3, t_end=0.5, seed=3, compiled=True)
    assert a.route == b.route == "compiled"
    np.testing.assert_allclose(a.positions[-1], b.positions[-1], rtol=0, atol=1e-12)
    # and the first-passage route with a lambda target box
    fa = first_passage(lam, -1.0, [(1.0, np.inf)], n=200, dt=1e-2, t_max=50.0, seed=3,
                       compiled=True)
    fb = first_passage(jit, -1.0, [(1.0, np.inf)], n=200, dt=1e-2, t_max=50.0, seed=3,
                       compiled=True)
    assert fa.route == "compiled"
    np.testing.assert_allclose(np.sort(fa.times), np.sort(fb.times), rtol=0, atol=1e-9)


@pytest.mark.parametrize("f, reason", [
    (lambda x: np.where(x > 0, x, 0.0), "returns ndarray for float arguments"),
    (lambda x: x if x > 0 else 0.0, "could not be checked"),  # a Python branch: arrays fail
    (lambda x: _not_compilable(x), "could not compile"),
])
def test_unfaithful_or_uncompilable_functions_are_refused(f, reason):
    pts = np.linspace(-1, 1, 7)[:, None]
    jf, why = auto_jit(f, 1, "potential", pts)
    assert jf is None and reason in why


def _not_compilable(x):
    from scipy.special import erf  # scipy.special is not known to numba

    return erf(x)


def test_vector_functions_compile():
    jf, why = auto_jit(lambda x, y: (x - x ** 3, -y), 2, "drift",
                       np.random.default_rng(0).random((5, 2)), vector=True)
    assert why == "" and jf(0.5, 2.0) == (0.5 - 0.125, -2.0)


def test_fallback_says_why_once(monkeypatch):
    monkeypatch.setattr(euler_maruyama, "AUTO_JIT_SECONDS", 0.0)  # compile even a short run
    monkeypatch.setattr(euler_maruyama, "_SAID", set())
    m = _readme_model(lambda x: np.where(x > 0, x ** 2, x ** 4), 0.1)
    with pytest.warns(RuntimeWarning, match="numpy route.*returns ndarray") as rec:
        r = simulate(m, 0.0, n=50, dt=1e-2, t_end=0.1, seed=1)
        simulate(m, 0.0, n=50, dt=1e-2, t_end=0.1, seed=2)
    assert r.route == "vectorised"
    assert sum("numpy route" in str(w.message) for w in rec) == 1
