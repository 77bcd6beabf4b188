"""Shared test problems for large deviations, with their exact references (numpy/scipy only)."""
import numpy as np
import pytest
import scipy.linalg as sla

from fpsolve.large_deviations import Dynamics

#: the curved double well U = (x² − 1)²/4 + (y − a(1 − x²))²: minima (±1, 0), saddle (0, a),
#: barrier U(0, a) − U(±1, 0) = 1/4 exactly, for any a
A_CURVE = 0.6


def U_curved(x, y):
    return (x ** 2 - 1) ** 2 / 4 + (y - A_CURVE * (1 - x ** 2)) ** 2


def grad_U_curved(x, y):
    r = y - A_CURVE * (1 - x ** 2)
    return (x * (x ** 2 - 1) + 2 * r * (2 * A_CURVE * x), 2 * r)


def linear_drift(B):
    """b(x) = −B ∇U for the curved double well, B a constant 2×2 matrix."""
    B = np.asarray(B, dtype=float)

    def drift(x, y):
        g = np.stack(np.broadcast_arrays(*grad_U_curved(x, y)))
        return tuple(-np.einsum("ij,j...->i...", B, g))
    return drift


def ou_quasipotential_hessian(A, D):
    """Σ₀⁻¹ with A Σ₀ + Σ₀ Aᵀ = 2D: V(x) = ½ xᵀ Σ₀⁻¹ x for dX = −AX dt + sqrt(2εD) dW."""
    S0 = sla.solve_continuous_lyapunov(np.asarray(A, float), 2 * np.asarray(D, float))
    return np.linalg.inv(0.5 * (S0 + S0.T))


def ou_dynamics(A, D):
    A = np.asarray(A, dtype=float)
    return Dynamics(len(A), drift=lambda *c: tuple(-np.einsum("ij,j...->i...", A, np.stack(c))),
                    diffusion=D)


def curve_distance(a, b):
    """Largest distance from a point of polyline ``a`` to polyline ``b`` (numpy, brute force)."""
    q0, q1 = b[:-1], b[1:]
    e = q1 - q0
    out = 0.0
    for p in a:
        t = np.clip(np.einsum("ij,ij->i", p - q0, e) / np.einsum("ij,ij->i", e, e), 0, 1)
        out = max(out, float(np.min(np.linalg.norm(q0 + t[:, None] * e - p, axis=1))))
    return out


def pytest_configure(config):
    # torch's forward-mode AD scripts its decompositions with torch.jit.script on first use and
    # warns about that deprecation from inside torch (as in tests/nets)
    config.addinivalue_line(
        "filterwarnings", "ignore:`torch.jit.script` is deprecated:DeprecationWarning")


@pytest.fixture
def curved_well():
    return Dynamics(2, potential=U_curved, gradient=grad_U_curved, diffusion=0.25)
