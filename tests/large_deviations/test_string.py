"""The string method: exact barrier and saddle, the MEP of a separable landscape, the metric
version, and agreement with gMAM where MAP = MEP (gradient drift, D ∝ G)."""
import numpy as np
import pytest

from fpsolve.errors import InputError
from fpsolve.large_deviations import Dynamics, minimum_action_path, string_method

from .conftest import curve_distance, grad_U_curved, U_curved


def test_barrier_saddle_and_agreement_with_gmam(curved_well):
    m = string_method(curved_well, [-1, 0], [1, 0], n_points=100)
    assert m.barrier == pytest.approx(0.25, abs=1e-12)          # Newton-refined saddle
    np.testing.assert_allclose(m.saddle, [0.0, 0.6], atol=1e-12)
    # MAP = MEP for b = −∇U, D = ¼ I: independent methods (descent orbits vs gMAM); the
    # distance is gMAM's O(h²) discretisation error (observed 2.7e-4 at P = 100)
    r = minimum_action_path(curved_well, [-1, 0], [1, 0], n_points=100)
    assert curve_distance(r.path, m.path) < 1e-3
    # the MEP's own action equals ΔU/D up to the midpoint rule's O(h²) (observed 2.2e-4)
    assert m.action == pytest.approx(1.0, rel=5e-4)


def test_separable_landscape_mep_is_the_x_axis():
    U = lambda x, y: (x ** 2 - 1) ** 2 + y ** 2 * (1 + x ** 2)   # noqa: E731
    dyn = Dynamics(2, potential=U, diffusion=1.0)
    m = string_method(dyn, [-1, 0], [1, 0], n_points=60)
    assert np.max(np.abs(m.path[:, 1])) < 1e-8                     # symmetry: y = 0 exactly
    assert m.barrier == pytest.approx(1.0, abs=1e-9)


def test_metric_mep_is_the_map_of_the_anisotropic_gradient_flow():
    G = np.array([[1.0, 0.4], [0.4, 0.5]])
    dU = Dynamics(2, potential=U_curved, gradient=grad_U_curved, diffusion=G)
    m = string_method(dU, [-1, 0], [1, 0], n_points=100, metric=G)
    flow = Dynamics(2, drift=lambda x, y: tuple(-G @ np.stack(grad_U_curved(x, y))), diffusion=G)
    r = minimum_action_path(flow, [-1, 0], [1, 0], n_points=100)
    assert curve_distance(r.path, m.path) < 1e-3                   # observed 2.1e-4
    assert r.action == pytest.approx(0.25, rel=5e-4)


def test_string_needs_a_potential_and_minima():
    dyn = Dynamics(2, drift=lambda x, y: (-x, -y), diffusion=1.0)
    with pytest.raises(InputError, match="no potential"):
        string_method(dyn, [-1, 0], [1, 0])
    dU = Dynamics(2, potential=U_curved, gradient=grad_U_curved, diffusion=1.0)
    with pytest.raises(InputError, match="not a minimum"):
        string_method(dU, [-1, 0], [0, 0.6], n_points=20)


def test_descent_orbit_two_integrators_agree_and_descend(curved_well):
    """The steepest-descent orbit from the saddle (0, 0.6) of the curved well to each minimum:
    DOP853 and LSODA (stiff=True, exact Jacobian) give the same curve (both at rtol 1e-10;
    LSODA's global error is the larger, measured distance 3.7e-7), U decreases along it, and
    it ends at the minimum it was turned towards."""
    from fpsolve.large_deviations import descent_orbit
    from fpsolve.large_deviations.paths.curves import resample

    saddle = curved_well.refine_critical_point([0.0, 0.6])
    for end in ([1.0, 0.0], [-1.0, 0.0]):
        a, ia = descent_orbit(curved_well, saddle, end)
        b, ib = descent_orbit(curved_well, saddle, end, stiff=True)
        assert ia == ib == 0
        np.testing.assert_allclose(a[-1], end, atol=1e-12)
        assert curve_distance(resample(a, 200), resample(b, 200)) < 2e-6
        energy = curved_well.potential_at(resample(a, 200))
        assert np.all(np.diff(energy) < 1e-12)
    # both minima given: the orbit along +v reaches one of them and says which
    pts, which = descent_orbit(curved_well, saddle, [[1.0, 0.0], [-1.0, 0.0]])
    np.testing.assert_allclose(pts[-1], [[1.0, 0.0], [-1.0, 0.0]][which], atol=1e-12)
