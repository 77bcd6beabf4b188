"""OLIM quasi-potentials against closed forms: the non-reversible OU process in 2D and 3D
(½ xᵀΣ₀⁻¹x), a 1D state-dependent D (∫U'/D), and V = U for b = −(D + Q)∇U."""
import numpy as np
import pytest
import scipy.integrate as si

import fpsolve as fp
from fpsolve.errors import InputError
from fpsolve.large_deviations import Dynamics, quasipotential

from .conftest import U_curved, linear_drift, ou_dynamics, ou_quasipotential_hessian


def _ou_error(A, D, n, bounds, level, radius=5.0):
    A = np.asarray(A, float)
    g = fp.Grid([bounds] * len(A), n)
    V = quasipotential(ou_dynamics(A, D), g, np.zeros(len(A)), radius=radius)
    K = ou_quasipotential_hessian(A, D)
    X = g.points
    exact = (0.5 * np.einsum("ni,ij,nj->n", X, K, X)).reshape(g.shape)
    m = exact <= level
    return float(np.max(np.abs(V.values - exact)[m]))


def test_ou_2d_converges_to_the_lyapunov_form():
    A = [[1.0, 2.0], [-0.5, 1.5]]                 # complex eigenvalues: the MAPs spiral out
    D = [[1.0, 0.3], [0.3, 0.5]]
    e1 = _ou_error(A, D, 65, (-1.5, 1.5), 1.0)
    e2 = _ou_error(A, D, 129, (-1.5, 1.5), 1.0)
    # OLIM-MID with K = 5: first order at best in h (observed 3.1e-3, 2.3e-3 on V ≤ 1)
    assert e2 < 4e-3 and e2 < e1


def test_ou_3d_triangle_updates():
    A = np.array([[1.0, 0.8, 0.0], [-0.6, 1.2, 0.3], [0.2, 0.0, 0.9]])
    D = np.array([[1.0, 0.2, 0.1], [0.2, 0.7, 0.0], [0.1, 0.0, 0.5]])
    # no simplex-face updates in 3D: error O(h) with a larger constant (observed 1.4e-2 at
    # 33³, K = 3, on V ≤ ½)
    assert _ou_error(A, D, 33, (-1.2, 1.2), 0.5, radius=3.0) < 2.5e-2


def test_1d_state_dependent_is_integral_of_U_prime_over_D():
    dU = lambda x: x ** 3 - x                    # noqa: E731
    Dx = lambda x: 0.3 + 0.2 * x ** 2            # noqa: E731
    dyn = Dynamics(1, drift=lambda x: (-dU(x),), diffusion=Dx)
    f = lambda y: dU(y) / Dx(y)                  # noqa: E731
    errs = []
    for n in (161, 321):
        g = fp.Grid([(-1.6, 1.6)], n)
        # in 1D the nearest neighbours suffice (radius 1.5): no direction to resolve
        V = quasipotential(dyn, g, [-1.0], radius=1.5)
        # uphill from −1 to the saddle 0, flat down to the other minimum 1 (falling is free),
        # then uphill again from 1
        ref = np.array([si.quad(f, -1.0, min(xi, 0.0))[0] +
                        (si.quad(f, 1.0, xi)[0] if xi > 1 else 0.0) for xi in g.axes[0]])
        errs.append(np.max(np.abs(V.values - ref)))
    # midpoint rule: O(h²), observed 3.1e-4 → 8.3e-5 (order 1.9)
    assert errs[1] < 2e-4 and np.log2(errs[0] / errs[1]) > 1.7, errs


def test_rotated_gradient_drift_has_V_equal_U():
    Dm = np.array([[1.0, 0.4], [0.4, 0.5]])
    Q = np.array([[0.0, 0.35], [-0.35, 0.0]])
    dyn = Dynamics(2, drift=linear_drift(Dm + Q), diffusion=Dm)
    g = fp.Grid([(-1.8, 1.8), (-0.8, 1.4)], (145, 89))
    V = quasipotential(dyn, g, [-1.0, 0.0], max_value=0.3)
    U = U_curved(*g.coords)
    basin = (g.coords[0] < -0.15) & (U <= 0.2)
    assert np.max(np.abs(V.values - U)[basin]) < 5e-3   # observed ~1e-3 (K = 5, h = 0.025)
    assert np.all(np.isinf(V.values[U > 0.6]))           # max_value stops the sweep


def test_bad_input():
    dyn = ou_dynamics(np.eye(2), np.eye(2))
    g = fp.Grid([(0.5, 1.5), (0.5, 1.5)], 20)
    with pytest.raises(InputError, match="outside the grid"):
        quasipotential(dyn, g, [0.0, 0.0])
    g2 = fp.Grid([(-1, 1), (-1, 1)], 20)
    unstable = ou_dynamics(-np.eye(2), np.eye(2))
    with pytest.raises(InputError, match="not an attractor"):
        quasipotential(unstable, g2, [0.0, 0.0])
    with pytest.raises(InputError, match="periodic"):
        quasipotential(dyn, fp.Grid([(-1, 1), (-1, 1)], 20, periodic=True), [0.0, 0.0])
