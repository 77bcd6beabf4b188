"""The torch backend of gMAM: same paths as numpy, the Woodbury metric equals the dense one, the
autograd gradient equals the numpy gradient, and a network's D and b equal fpsolve.nets'."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fpsolve.errors import SolverError  # noqa: E402
from fpsolve.large_deviations import Dynamics, minimum_action_path  # noqa: E402
from fpsolve.large_deviations.paths import action_state  # noqa: E402
from fpsolve.large_deviations.paths.torch_paths import TorchDynamics, network_dynamics  # noqa

from .conftest import linear_drift  # noqa: E402

pytestmark = pytest.mark.torch

B = np.array([[1.0, 0.5], [-0.5, 1.0]])


def _torch_drift(X):
    x, y = X[:, 0], X[:, 1]
    r = y - 0.6 * (1 - x ** 2)
    g = torch.stack([x * (x ** 2 - 1) + 2.4 * x * r, 2 * r], 1)
    return -g @ torch.as_tensor(B).T


def _torch_D(X):
    x, y = X[:, 0], X[:, 1]
    D = torch.zeros(len(X), 2, 2, dtype=X.dtype)
    D[:, 0, 0] = 1 + 0.3 * x ** 2
    D[:, 0, 1] = D[:, 1, 0] = 0.2
    D[:, 1, 1] = 0.6 + 0.2 * y ** 2
    return D


def _numpy_D(x, y):
    o = 0 * x
    return [[1 + 0.3 * x ** 2, 0.2 + o], [0.2 + o, 0.6 + 0.2 * y ** 2]]


def test_gradient_matches_the_numpy_backend():
    # autograd (torch) against analytic-in-Δ plus central differences in the midpoint (numpy)
    tq = TorchDynamics(2, _torch_drift, diffusion=_torch_D)
    nq = Dynamics(2, drift=linear_drift(B), diffusion=_numpy_D)
    t = np.linspace(0, 1, 30)
    path = np.stack([-1 + 2 * t, 0.7 * np.sin(np.pi * t)], 1)
    st, sn = tq.action_state(path), action_state(nq, path)
    assert st.action == pytest.approx(sn.action, rel=1e-13)
    # central differences: relative error ~1e-10 of the gradient's scale
    np.testing.assert_allclose(st.grad, sn.grad, atol=1e-7 * np.abs(sn.grad).max())


def test_same_path_as_numpy():
    tq = TorchDynamics(2, _torch_drift, diffusion=np.array([[1.0, 0.2], [0.2, 0.6]]))
    nq = Dynamics(2, drift=linear_drift(B), diffusion=np.array([[1.0, 0.2], [0.2, 0.6]]))
    rt = minimum_action_path(tq, [-1, 0], [1, 0], n_points=20)
    rn = minimum_action_path(nq, [-1, 0], [1, 0], n_points=20)
    # both converge to the same discrete stationary path (tol 1e-8 on the residual)
    assert rt.action == pytest.approx(rn.action, rel=1e-7)
    np.testing.assert_allclose(rt.path, rn.path, atol=1e-5)


def test_blas_runs_in_the_calling_thread_while_a_path_iterates():
    # torch's and OpenBLAS's thread pools spin against each other between the alternating
    # calls of a gMAM step; the torch backend limits numpy's BLAS for the iteration only
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [p["num_threads"] for p in threadpoolctl.threadpool_info()
                if p["user_api"] == "blas"]

    seen = []

    def drift(X):
        seen.append(blas_threads())
        return _torch_drift(X)

    tq = TorchDynamics(2, drift, diffusion=np.array([[1.0, 0.2], [0.2, 0.6]]))
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        outside = blas_threads()
        if not outside or max(outside) < 2:
            pytest.skip("numpy's BLAS here has no thread pool to limit")
        minimum_action_path(tq, [-1, 0], [1, 0], n_points=20)
        assert blas_threads() == outside          # restored afterwards
    inside = [n for calls in seen for n in calls]
    assert inside and set(inside) == {1}


def test_woodbury_metric_equals_the_dense_one():
    gen = torch.Generator().manual_seed(0)
    F0 = torch.randn(3, 6, generator=gen, dtype=torch.float64)         # rank 3 in d = 6
    floor = 1e-3
    drift = lambda X: -X                                               # noqa: E731
    low = TorchDynamics(6, drift, factor=lambda X: F0.expand(len(X), -1, -1), floor=floor)
    dense = TorchDynamics(6, drift, diffusion=(F0.T @ F0).numpy() + floor * np.eye(6))
    path = np.random.default_rng(1).standard_normal((12, 6))
    a, b = low.action_state(path), dense.action_state(path)
    # the Woodbury form loses log10(λ_max/δ) ≈ 4 digits: rtol 1e-9
    assert a.action == pytest.approx(b.action, rel=1e-9)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-8, atol=1e-9 * np.abs(b.grad).max())


def test_low_rank_factor_needs_a_floor():
    from fpsolve.errors import InputError
    with pytest.raises(InputError, match="floor"):
        TorchDynamics(2, lambda X: -X, factor=lambda X: X[:, None, :])


def test_network_drift_and_noise_match_fpsolve_nets():
    nets = pytest.importorskip("fpsolve.nets")
    data = nets.teacher_student(n=64, n_features=2, hidden=(3,), noise=0.3, seed=1)
    model = nets.mlp([2, 3, 1], activation="tanh", seed=0)
    lr, batch, floor, wd = 0.1, 8, 1e-6, 1e-3
    dyn = network_dynamics(model, data, lr=lr, batch_size=batch, floor=floor, weight_decay=wd)
    theta = nets.flat_parameters(model).numpy()
    noise = nets.gradient_noise(model, data)
    D_ref = noise.diffusion(lr, batch) + floor * np.eye(len(theta))
    np.testing.assert_allclose(dyn.diffusion_at(theta)[0], D_ref, rtol=1e-10,
                               atol=1e-12 * np.abs(D_ref).max())
    b_ref = -noise.mean_gradient - wd * theta
    np.testing.assert_allclose(dyn.drift_at(theta)[0], b_ref, rtol=1e-10, atol=1e-14)


@pytest.mark.slow       # ~25 s unloaded (1000 steps per piece × 3 relaxations at d = 41)
@pytest.mark.xfail(strict=True, raises=SolverError,
                   reason="open defect: gMAM does not converge between these minima; the step "
                          "is limited by the stiffest direction of ∂b/∂x (rates 1e-5 … 1.6), so "
                          "the normal residual stalls at O(1–10). preconditioner='linearised' "
                          "with anderson=10 (which converges on the d = 37 saddle path below) "
                          "still ends at residual 1.0 after 5500 steps here (whitened). Remove "
                          "this marker once it converges.")
def test_network_path_converges_at_small_size():
    # d = 41 parameters, N = 32 samples: the benchmark's failure (d = 1033) at a size that runs
    # in tens of seconds. Between two minima of weight-decayed loss the path must converge to
    # tol within the budget and cost less than the straight line (a MAP minimises the action
    # over paths; the straight line is one of them). Measured: with 3000 steps per piece the
    # normal residual is still 7.8 (action 208; L-BFGS on the same discrete action reaches 41),
    # while 2D paths at 12 points converge (464 steps for the rotated well; the gradient well
    # needs 16 000 — gMAM is slow at coarse resolution too).
    import scipy.optimize as so
    nets = pytest.importorskip("fpsolve.nets")
    wd, widths = 1e-2, [3, 8, 1]
    data = nets.teacher_student(n=32, n_features=3, hidden=(6,), noise=0.3, seed=1)
    obj = nets.Objective(nets.mlp(widths, activation="tanh", seed=0), data)

    def fg(th):
        return obj.value_and_gradient(th, wd)

    dyn = network_dynamics(obj, lr=0.1, batch_size=16, floor=1e-5, state_dependent=False,
                           weight_decay=wd)
    a, b = (dyn.refine_critical_point(so.minimize(
        fg, nets.flat_parameters(nets.mlp(widths, activation="tanh", seed=s)).numpy(),
        jac=True, method="L-BFGS-B", options=dict(maxiter=20000, gtol=1e-10, ftol=1e-16)).x)
        for s in (0, 1))
    r = minimum_action_path(dyn, a, b, n_points=12, tol=1e-4, max_iter=1000)
    assert r.residual < 1e-4
    assert r.action < dyn.action_state(np.linspace(a, b, 12)).action


def test_linearised_preconditioner_with_the_torch_backend():
    # the stiff OU of test_gmam (rates 0.007 … 7, D = I, d = 12) with b and D as torch
    # functions: the attractor's linearisation comes from jacobian_at (torch.func.jacfwd);
    # reference V = 1/4 exactly (the Lyapunov quasi-potential; the discrete action is exact
    # for a linear drift with constant D)
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    H = (Q * np.logspace(np.log10(7e-3), np.log10(7.0), 12)) @ Q.T
    x1 = rng.standard_normal(12)
    x1 *= 0.5 / np.sqrt(0.5 * x1 @ H @ x1)      # V = ½xᵀHx for b = −Hx, D = I
    Ht = torch.as_tensor(H)
    dyn = TorchDynamics(12, lambda X: -X @ Ht.T, diffusion=1.0)
    r = minimum_action_path(dyn, np.zeros(12), x1, n_points=33, tol=1e-4, max_iter=1500,
                            end_critical=False, preconditioner="linearised")
    assert r.converged and r.info["pieces"][0]["preconditioner"] == "linearised"
    assert r.action == pytest.approx(0.25, rel=1e-6)


def _teacher_student_saddle():
    """:func:`fpsolve.nets.teacher_student_saddle` at d = 37 ([4, 6, 1], N = 128, weight decay
    0.1), with its network dynamics (frozen, whitenable D) and Newton-refined endpoints."""
    nets = pytest.importorskip("fpsolve.nets")
    obj, A, S = nets.teacher_student_saddle(n=128, n_features=4, width=6, weight_decay=0.1)
    top = float(nets.gradient_noise(obj, theta=A).eigenvalues[0]) * 0.5 * 0.1 / 16
    dyn = network_dynamics(obj, lr=0.1, batch_size=16, floor=1e-2 * top,
                           state_dependent=False, theta=A, weight_decay=0.1)
    return dyn, dyn.refine_critical_point(A), dyn.refine_critical_point(S)


def test_network_saddle_path_converges_with_both_accelerations():
    # d = 37, rates of ∂b/∂x spread over ~10³ at the minimum: the default damping stalls
    # (residual 1.5 after 1950 steps, measured), the linearised damping with Anderson
    # extrapolation converges. No closed form: the checks are the MAP's own properties —
    # converged, below the straight line, resolved (bisecting every segment changes the action
    # by 4e-4), and the same action from the given straight start without the trial starts
    # (observed 28.601898 and 28.601903, 909 and 600 steps)
    from fpsolve.large_deviations.paths.torch_paths import whitened_path
    dyn, a, s = _teacher_student_saddle()
    assert dyn.classify(a)["kind"] == "attractor" and dyn.classify(s)["kind"] == "saddle"
    kw = dict(n_points=25, tol=1e-4, max_iter=750, preconditioner="linearised", anderson=10)
    r = whitened_path(dyn, a, s, **kw)
    line = dyn.action_state(np.linspace(a, s, 25)).action
    assert r.converged and r.action < 0.9 * line
    assert abs(r.info["bisected_action"] / r.action - 1) < 2e-3
    q = whitened_path(dyn, a, s, initial=np.stack([a, s]), **kw)
    assert q.converged and q.action == pytest.approx(r.action, rel=1e-5)
    with pytest.raises(SolverError):
        whitened_path(dyn, a, s, n_points=25, tol=1e-4, max_iter=300)


def test_whitened_path_takes_waypoints_in_parameter_coordinates():
    # one step from an initial curve through a waypoint w given in θ: the returned path (in θ)
    # passes next to w (a waypoint read as ψ = D̄^(−1/2)θ would put it elsewhere)
    from fpsolve.large_deviations.paths.torch_paths import whitened_path
    dyn, a, s = _teacher_student_saddle()
    w = 0.5 * (a + s) + 0.3 * np.linalg.norm(s - a) * np.eye(len(a))[0]
    with pytest.raises(SolverError) as err:
        whitened_path(dyn, a, s, n_points=25, tol=1e-12, max_iter=1, initial=np.stack([w]))
    path = err.value.result.path
    assert np.min(np.linalg.norm(path - w, axis=1)) < 0.1 * np.linalg.norm(s - a)
