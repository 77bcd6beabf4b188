"""Itô, Stratonovich and isothermal conventions: each keeps its own exact discrete stationary
state, and each reproduces its own closed-form variance (Dai–Zhu's state-dependent noise)."""
import numpy as np
import pytest

import fpsolve as fp
from tests.conftest import discrete_gibbs_1d

ALPHA = {"ito": 0.0, "stratonovich": 0.5, "isothermal": 1.0}


@pytest.mark.parametrize("convention", list(ALPHA))
def test_exact_discrete_state_per_convention(convention):
    g = fp.Grid([(-3.0, 3.0)], 300)
    U = lambda x: x ** 4 / 4 - x ** 2 / 2 + 0.2 * x
    D = lambda x: 0.3 * (1 + x ** 2)
    p = fp.FokkerPlanck(g, potential=U, diffusion=D, convention=convention).stationary().values
    ref = discrete_gibbs_1d(U(g.axes[0]), D(g.axes[0]), alpha=ALPHA[convention])
    assert np.max(np.abs(p / p.sum() / ref - 1)) < 1e-12


@pytest.mark.parametrize("convention", list(ALPHA))
def test_dai_zhu_state_dependent_beta_variance(convention):
    """β = β₀(1 + L), L = w²/2, drift −w: D = c(1 + w²/2) and p ∝ (1 + w²/2)^(−m),
    m = 1 + 1/c − α, so Var = 2 / (2/c − 1 − 2α) (a Student-t law; the three differ)."""
    c = 0.1
    alpha = ALPHA[convention]
    var_ref = 2.0 / (2.0 / c - 1.0 - 2.0 * alpha)
    g = fp.Grid([(-12.0, 12.0)], 2400)  # tails ∝ w^(−2m) ≈ w^(−40): truncation negligible
    m = fp.FokkerPlanck(g, potential=lambda w: w ** 2 / 2, diffusion=lambda w: c * (1 + w ** 2 / 2),
                        convention=convention)
    # O(h²) error of the midpoint variance, (h/σ)²/12 ≈ 4e-4 relative at h = 0.01, σ ≈ 0.33
    assert m.stationary().var() == pytest.approx(var_ref, rel=1e-3)


def test_conventions_coincide_for_constant_diffusion():
    g = fp.Grid([(-3, 3)], 100)
    ps = [fp.FokkerPlanck(g, potential=lambda x: x ** 2, diffusion=0.4, convention=c).stationary().values
          for c in ALPHA]
    np.testing.assert_allclose(ps[1], ps[0], rtol=1e-13)
    np.testing.assert_allclose(ps[2], ps[0], rtol=1e-13)
