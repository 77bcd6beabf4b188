"""Stationary density without detailed balance by the renewal formula over deep wells (used by
the escape solvers for trap selection, diagnostics and equilibrium rates)."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import escape
from fpsolve.escape.green import log_stationary
from fpsolve.escape.jumps import jump_rates

dU = lambda x: 4 * x ** 3 - 4 * x


def tilted_rotating_double_well(D, n=40):
    g = fp.Grid([(-2, 2), (-2, 2)], n)
    drift = lambda x, y: (-dU(x) - 0.3 + 0.5 * y, -2 * y - 0.5 * dU(x))
    return fp.FokkerPlanck(g, drift=drift, diffusion=D)


def test_renewal_stationary_against_dense_null_vector():
    m = tilted_rotating_double_well(0.2, n=24)
    log_p, info = log_stationary(m)
    assert info["method"] == "renewal over deep minima" and info["wells"] == 2
    L = m.rates.generator().toarray()
    L[0] = 1.0  # replace one (redundant) balance equation by the normalisation
    ref = np.linalg.solve(L, np.eye(L.shape[0])[0])
    p = np.exp(log_p - log_p.max())
    # the dense eigenvector is accurate only in absolute terms (entries below ~1e-15 are noise)
    np.testing.assert_allclose(p / p.sum(), ref / ref.sum(), rtol=1e-9, atol=1e-14)


def test_renewal_stationary_balances_the_flux_between_deep_wells():
    """ΔU/D ≈ 20-30 without detailed balance: the net stationary flux out of each basin must
    vanish. Written with the boundary edges only (positive sums), this exposes a wrong relative
    weight of the wells at O(1), which no normwise residual can."""
    m = tilted_rotating_double_well(0.04)
    log_p, info = log_stationary(m)
    p = np.exp(log_p - log_p.max())
    R = jump_rates(m.rates)
    b = escape.basins(m, rates=False)
    assert len(b) == 2 and b.probabilities[1] < 1e-3
    for i in range(2):
        B = b.mask(i).ravel()
        out = (p[B] * np.asarray(R[B][:, ~B].sum(axis=1)).ravel()).sum()
        inn = (p[~B] * np.asarray(R[~B][:, B].sum(axis=1)).ravel()).sum()
        assert out == pytest.approx(inn, rel=1e-10)


def test_escape_without_detailed_balance_at_high_barrier():
    """λ₁ · E_ν τ = 1 and the survival of the QSD: consistency of forward and backward solves."""
    m = tilted_rotating_double_well(0.04)
    tgt = lambda x, y: x > 0.5
    qs = escape.quasi_stationary(m, tgt)
    tau = escape.mean_first_passage_time(m, tgt)
    assert tau.info["accurate"] and not tau.info["reversible"]
    assert qs.density.expect(tau.values) * qs.rate == pytest.approx(1.0, rel=1e-9)
    assert qs.info["flux_defect"] < 1e-9
