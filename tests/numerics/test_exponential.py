"""The Lanczos exponential of reversible generators against a dense reference: the eigen-
decomposition (LAPACK) of the symmetrised generator, exact to ~1e-14 at these sizes. SciPy's
expm_multiply is not the reference at long times: at t = 200 on the 1D problem it is 1.1e-11 off
the stationary state it must have reached (measured), where the Lanczos answer is 4e-16 off."""
import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse.linalg as spla

import fpsolve as fp
from fpsolve.numerics import exponential

# the Lanczos target is 1e-12 (relative, in the 1/π-norm, by its estimate); the max-norm
# comparisons below allow 10× that
TOL = 1e-11


def _U(*x):
    return sum((k + 1) * c ** 2 / 2 for k, c in enumerate(x))


def _model(dim, n, drift=None):
    # a state-dependent D that is a function of U: detailed balance in every dimension
    box = [(-2.0, 2.0)] * dim
    D = lambda *x: 0.1 * (1.0 + 0.3 * _U(*x))  # noqa: E731
    if drift is None:
        return fp.FokkerPlanck(fp.Grid(box, n), diffusion=D, potential=_U)
    return fp.FokkerPlanck(fp.Grid(box, n), diffusion=D, drift=drift)


def _dense_reference(L, p0, t, psi):
    """E^{1/2} U e^{tΛ} Uᵀ E^{-1/2} p₀ with S = U Λ Uᵀ (dense eigh)."""
    S = exponential.symmetrised(L, psi).toarray()
    lam, U = sla.eigh(0.5 * (S + S.T))
    half = np.exp(0.5 * (psi - psi.max()))
    return half * (U @ (np.exp(t * np.minimum(lam, 0.0)) * (U.T @ (p0 / half))))


def _start(m):
    return m.density(lambda *x: np.exp(-sum((c - 0.4) ** 2 for c in x) / 0.08)).values.ravel()


@pytest.mark.parametrize("dim, n", [(1, 200), (2, 32), (3, 10)])
@pytest.mark.parametrize("t", [0.05, 0.5, 5.0, 200.0])
def test_lanczos_matches_expm_multiply(dim, n, t):
    m = _model(dim, n)
    L, p0 = m.generator(), _start(m)
    psi, defect = m.rates.reference_log_density()
    assert defect < 1e-12  # the closed form exists: the Lanczos path applies
    p, info = exponential.expm_apply(L, p0, t, psi)
    ref = _dense_reference(L, p0, t, psi)
    assert info["method"] == "lanczos"
    assert np.abs(p - ref).max() <= TOL * np.abs(ref).max()
    assert info["error_estimate"] <= exponential.LANCZOS_TOL
    # the stationary part is carried exactly: mass to round-off
    assert abs(p.sum() - p0.sum()) <= 1e-13 * p0.sum()


def test_long_times_reach_the_stationary_state():
    # at t ≫ 1/λ₁ the answer is π itself, which Ritz values slightly below 0 would lose without
    # the deflated null vector
    m = _model(2, 30)
    psi = m.rates.reference_log_density()[0]
    p, info = exponential.expm_apply(m.generator(), _start(m), 1e4, psi)
    pi = m.stationary().values.ravel() * m.grid.cell_volume
    assert np.abs(p * m.grid.cell_volume - pi).max() <= TOL * pi.max()


def test_intervals_are_halved_when_the_basis_is_too_small(monkeypatch):
    m = _model(2, 40)
    L, p0, psi = m.generator(), _start(m), m.rates.reference_log_density()[0]
    monkeypatch.setattr(exponential, "MAX_BASIS", 10)
    p, info = exponential.expm_apply(L, p0, 2.0, psi)
    assert info["intervals"] > 1
    ref = _dense_reference(L, p0, 2.0, psi)
    assert np.abs(p - ref).max() <= TOL * np.abs(ref).max()


def test_without_detailed_balance_it_is_expm_multiply():
    m = _model(2, 24, drift=lambda x, y: (-x + 0.8 * y, -y - 0.8 * x))  # a rotation: no closed form
    psi, defect = m.rates.reference_log_density()
    assert defect > 1e-3
    L, p0 = m.generator(), _start(m)
    r = m.evolve(_start(m).reshape(m.grid.shape), [0.7], method="expm")
    assert r.extra["expm"] == "expm_multiply"
    assert np.array_equal(r.densities[-1].values.ravel(), spla.expm_multiply(L * 0.7, p0))
    p, info = exponential.expm_apply(L, p0, 0.7, None)
    assert info["method"] == "expm_multiply"
    # a ψ without detailed balance is refused (S would not be symmetric), and said so
    p, info = exponential.expm_apply(L, p0, 0.7, psi)
    assert info["method"] == "expm_multiply" and "symmetric" in info["why"]
    assert np.array_equal(p, spla.expm_multiply(L * 0.7, p0))


def test_evolve_uses_lanczos_with_detailed_balance():
    m = _model(2, 32)
    r = m.evolve(_start(m).reshape(m.grid.shape), [0.2, 1.0], method="expm")
    assert r.extra["expm"] == "lanczos" and r.extra["krylov_steps"] > 0
    ref = _dense_reference(m.generator(), _start(m), 1.0, m.rates.reference_log_density()[0])
    assert np.abs(r.densities[-1].values.ravel() - ref).max() <= TOL * np.abs(ref).max()
    assert abs(r.mass[-1] - r.mass[0]) <= 1e-13


def test_a_broken_generator_stops_with_a_solver_error():
    m = _model(1, 30)
    L, psi = m.generator(), m.rates.reference_log_density()[0]
    e = exponential.Exponential(L, psi)
    e.S.data[5] = np.nan  # e.g. a NaN rate
    with pytest.raises(fp.SolverError, match="non-finite"):
        e(_start(m), 0.5)


def test_an_estimate_that_never_falls_stops_with_a_solver_error(monkeypatch):
    m = _model(1, 30)
    L, psi = m.generator(), m.rates.reference_log_density()[0]
    monkeypatch.setattr(exponential, "_lanczos_interval", lambda *a: None)
    with pytest.raises(fp.SolverError, match="no convergence"):
        exponential.expm_apply(L, _start(m), 0.5, psi)


def test_symmetrised_is_the_grids_own_rescaled_generator():
    # the matrix-level S against FaceRates.generator(psi=ψ/2), the Numba assembly of E'⁻¹ L E'
    m = _model(2, 20)
    psi = m.rates.reference_log_density()[0]
    S = exponential.symmetrised(m.generator(), psi).toarray()
    ref = m.rates.generator(psi=0.5 * psi).toarray()
    assert np.abs(S - ref).max() <= 1e-13 * np.abs(ref).max()


def test_evolve_prepares_the_exponential_once_per_generator(monkeypatch):
    m = _model(2, 24)
    calls = []
    original = exponential.symmetrised
    monkeypatch.setattr(exponential, "symmetrised", lambda *a: calls.append(1) or original(*a))
    r = m.evolve(_start(m).reshape(m.grid.shape), np.linspace(0.1, 1.0, 10), method="expm")
    assert r.extra["expm"] == "lanczos" and len(calls) == 1
