"""Implicit time stepping on a torch device against the CPU path's direct and multigrid solves.

The device is torch's CPU, and CUDA too where a GPU is present (the same code).
Both paths run the same scheme on the same matrix, so they differ only by the Krylov solves'
residuals (each ≤ 1e-12 relative): over 16–32 steps the states agree to ~1e-12 (measured
3e-13 to 2.5e-12), asserted at 1e-10.
"""
import sys

import numpy as np
import pytest

import fpsolve as fp

torch = pytest.importorskip("torch")
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def ou_3d(n=16):
    return fp.FokkerPlanck(fp.Grid([(-2, 2)] * 3, n),
                           potential=lambda x, y, z: 0.5 * (x ** 2 + 2 * y ** 2 + 3 * z ** 2),
                           diffusion=0.1)


def p0_3d(x, y, z):
    return np.exp(-((x - 0.5) ** 2 + (y + 0.3) ** 2 + (z - 0.2) ** 2) / 0.08)


def max_rel_diff(a, b):
    return max(float(np.abs(x.values - y.values).max() / np.abs(x.values).max())
               for x, y in zip(a.densities, b.densities))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("scheme", ["tr-bdf2", "backward-euler"])
def test_matches_the_cpu_path_in_3d(scheme, device):
    m = ou_3d()
    a = m.evolve(p0_3d, [0.25, 0.5], scheme=scheme, dt=0.5 / 16)
    b = m.evolve(p0_3d, [0.25, 0.5], scheme=scheme, dt=0.5 / 16, device=device)
    assert max_rel_diff(a, b) < 1e-10
    assert np.abs(b.mass - 1).max() < 1e-10                  # measured 2e-13
    assert b.extra["device"].startswith(device) and b.extra["krylov_iterations"] > 0
    assert b.extra["max_relative_residual"] <= 1e-12
    assert b.steps == a.steps == 16 and b.factorisations == 1


@pytest.mark.parametrize("device", DEVICES)
def test_non_reversible_tensor_problem_in_2d(device):
    D = np.array([[0.12, 0.03], [0.03, 0.08]])
    m = fp.FokkerPlanck(fp.Grid([(-2, 2)] * 2, 48),
                        drift=lambda x, y: (-(x ** 3 - x) + 0.8 * y, -y - 0.8 * x), diffusion=D)
    p0 = lambda x, y: np.exp(-((x + 1) ** 2 + y ** 2) / 0.1)  # noqa: E731
    a = m.evolve(p0, [0.1, 0.4], dt=0.02)
    b = m.evolve(p0, [0.1, 0.4], dt=0.02, device=device)
    assert max_rel_diff(a, b) < 1e-10
    assert np.abs(b.mass - 1).max() < 1e-10


def test_a_second_call_reuses_the_device_matrices():
    m = ou_3d(12)
    m.evolve(p0_3d, [0.1], dt=0.01, device="cpu")
    again = m.evolve(p0_3d, [0.1], dt=0.01, device="cpu")
    assert again.factorisations == 0


def test_bad_input_before_any_work(monkeypatch):
    m = ou_3d(8)
    with pytest.raises(fp.InputError, match="implicit schemes only"):
        m.evolve(p0_3d, [0.1], method="expm", device="cpu")
    with pytest.raises(fp.InputError, match="not a torch device"):
        m.evolve(p0_3d, [0.1], device="warp-drive")
    if not torch.cuda.is_available():
        with pytest.raises(fp.InputError, match="CUDA is not available"):
            m.evolve(p0_3d, [0.1], device="cuda")
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(fp.InputError, match="needs torch"):
        m.evolve(p0_3d, [0.1], device="cpu")


def test_a_solve_that_does_not_converge_raises():
    from fpsolve.numerics.timestepping import _Implicit

    m = ou_3d(12)
    stepper = _Implicit(m.generator(), "backward-euler", ndim=3, device="cpu")
    stepper.solver(1.0).maxiter = 2
    p = m.density(p0_3d).values.ravel()
    with pytest.raises(fp.SolverError, match="BiCGStab .* stopped at relative residual"):
        stepper.step(p, 1.0)
