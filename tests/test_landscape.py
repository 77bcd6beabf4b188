"""Critical points and mountain-pass barriers of user potentials against exact roots and
Hessians (Styblinski–Tang, Xie et al.'s test function; double wells)."""
import itertools

import numpy as np
import pytest

import fpsolve as fp
from fpsolve.errors import InputError
from fpsolve.landscape import CriticalPoint, Landscape, analyze

# Styblinski–Tang: f = ½ Σ (x⁴ − 16x² + 5x); per coordinate g′(x) = 4x³ − 32x + 5 = 0
ROOTS = np.sort(np.roots([4, 0, -32, 5]).real)  # −2.903534, 0.156731, 2.746803
g1 = lambda x: 0.5 * (x ** 4 - 16 * x ** 2 + 5 * x)
g1pp = lambda x: 0.5 * (12 * x ** 2 - 32)


def styblinski_tang(*xs):
    return sum(g1(x) for x in xs)


def test_styblinski_tang_roots_are_the_known_values():
    np.testing.assert_allclose(ROOTS, [-2.903534, 0.156731, 2.746803], atol=1e-6)


def test_styblinski_tang_2d_minima_saddles_and_barriers():
    land = analyze(styblinski_tang, [(-5, 5), (-5, 5)])
    assert isinstance(land, Landscape)
    lo, mid, hi = ROOTS
    wells = [lo, hi]
    assert len(land.minima) == 4 and len(land.saddles) == 4 and not land.others
    found = sorted(tuple(np.round(m.x, 5)) for m in land.minima)
    assert found == sorted(tuple(np.round(p, 5)) for p in itertools.product(wells, wells))
    for m in land.minima:
        np.testing.assert_allclose(m.x, [min(wells, key=lambda w: abs(w - c)) for c in m.x],
                                   atol=1e-8)
        np.testing.assert_allclose(m.hessian, np.diag(g1pp(m.x)), rtol=1e-6)
        assert m.index == 0 and m.kind == "minimum"
        assert m.value == pytest.approx(styblinski_tang(*m.x), abs=1e-12)
    for s in land.saddles:  # one coordinate at the 1D maximum, the other at a well
        k = int(np.argmin(np.abs(s.x - mid)))
        assert s.x[k] == pytest.approx(mid, abs=1e-8)
        assert min(abs(s.x[1 - k] - w) for w in wells) < 1e-8
        assert s.index == 1 and s.eigenvalues[0] == pytest.approx(g1pp(mid), rel=1e-6)
    # global minimum first; its barrier to the neighbour (lo, hi): climb lo → mid along one axis
    assert np.allclose(land.minima[0].x, [lo, lo], atol=1e-8)
    j = land.nearest_minimum([lo, hi])
    assert land.barrier(0, j) == pytest.approx(g1(mid) - g1(lo), rel=1e-9)
    # to the opposite corner the lowest path climbs twice; the highest climb is from hi
    k = land.nearest_minimum([hi, hi])
    assert land.barrier(0, k) == pytest.approx((g1(mid) - g1(lo)) + (g1(hi) - g1(lo)), rel=1e-9)
    assert land.barrier(k, 0) == pytest.approx(g1(mid) - g1(hi), rel=1e-9)


def test_styblinski_tang_3d_counts():
    land = analyze(styblinski_tang, [(-5, 5)] * 3, shape=41)
    assert len(land.minima) == 8 and len(land.saddles) == 12
    for s in land.saddles:
        assert np.sum(np.abs(s.x - ROOTS[1]) < 1e-7) == 1


def test_2d_double_well_with_coupling():
    """U = (x² − 1)² + (y − 0.3x)²: minima (±1, ±0.3), saddle (0, 0), exact Hessians."""
    U = lambda x, y: (x ** 2 - 1) ** 2 + (y - 0.3 * x) ** 2
    land = analyze(U, [(-2, 2), (-2, 2)])
    assert len(land.minima) == 2 and len(land.saddles) == 1
    for m in land.minima:
        sx = np.sign(m.x[0])
        np.testing.assert_allclose(m.x, [sx, 0.3 * sx], atol=1e-8)
        np.testing.assert_allclose(m.hessian, [[8.18, -0.6], [-0.6, 2.0]], rtol=1e-6)
    s = land.saddle_between(0, 1)
    np.testing.assert_allclose(s.x, [0, 0], atol=1e-8)
    np.testing.assert_allclose(s.hessian, [[-3.82, -0.6], [-0.6, 2.0]], rtol=1e-6, atol=1e-6)
    assert land.barrier(0, 1) == pytest.approx(1.0, rel=1e-9)
    np.testing.assert_allclose(land.barriers(), [[0, 1], [1, 0]], rtol=1e-9)
    # theory applied without hand work
    from fpsolve.theory.kramers import eyring_kramers_time
    ref = eyring_kramers_time(land.minima[0].hessian, s.hessian, 1.0, 0.1)
    assert land.kramers_time(0, 1, 0.1).mean_time == pytest.approx(ref.mean_time, rel=1e-12)


def test_user_derivatives_and_1d():
    U = lambda x: 0.25 * x ** 4 - 0.5 * x ** 2 + 0.1 * x
    roots = np.sort(np.roots([1, 0, -1, 0.1]).real)
    land = analyze(U, (-2, 2), gradient=lambda x: x ** 3 - x + 0.1,
                   hessian=lambda x: [[3 * x ** 2 - 1]])
    np.testing.assert_allclose([m.x[0] for m in land.minima], roots[[0, 2]], atol=1e-12)
    assert land.saddles[0].x[0] == pytest.approx(roots[1], abs=1e-12)
    assert land.saddles[0].hessian[0, 0] == pytest.approx(3 * roots[1] ** 2 - 1, rel=1e-12)
    fd = analyze(U, (-2, 2))
    np.testing.assert_allclose(fd.saddles[0].x, land.saddles[0].x, atol=1e-9)
    assert fd.barrier(0, 1) == pytest.approx(land.barrier(0, 1), rel=1e-9)


def test_model_as_input_and_errors():
    g = fp.Grid([(-2, 2), (-1, 1)], 20)
    m = fp.FokkerPlanck(g, potential=lambda x, y: (x ** 2 - 1) ** 2 + y ** 2, diffusion=0.2)
    land = analyze(m)
    assert len(land.minima) == 2 and isinstance(land.minima[0], CriticalPoint)
    with pytest.raises(InputError):
        analyze(lambda x: x ** 2)
    with pytest.raises(InputError):
        analyze(lambda x: x ** 2, [(1, 0)])
    with pytest.raises(InputError):
        land.barrier(0, 5)


def test_no_spurious_points_on_a_plateau_or_a_slope():
    assert not analyze(lambda x, y: 0 * x, [(-1, 1), (-1, 1)], shape=21).minima
    land = analyze(lambda x, y: x + 0.5 * y, [(-1, 1), (-1, 1)], shape=21)
    assert not land.minima and not land.saddles
