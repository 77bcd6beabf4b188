"""Transition-path theory on the grid: the rate from the reactive flux against two independent
routes — the renewal identity k_AB = 1/(E_{μ_A}τ_B + E_{μ_B}τ_A) with fpsolve's MFPT solver,
and fpsolve's own reactive-flux escape rate — with and without detailed balance."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve.errors import InputError
from fpsolve.large_deviations import transition_paths

from .conftest import U_curved, grad_U_curved

GRID = fp.Grid([(-1.8, 1.8), (-1.0, 1.5)], (54, 38))
A = lambda x, y: (x + 1) ** 2 + y ** 2 < 0.1     # noqa: E731
B = lambda x, y: (x - 1) ** 2 + y ** 2 < 0.1     # noqa: E731


def _models():
    rot = np.array([[1.0, 0.5], [-0.5, 1.0]])

    def drift(x, y):
        return tuple(-np.einsum("ij,j...->i...", rot, np.stack(grad_U_curved(x, y))))
    return {"reversible": fp.FokkerPlanck(GRID, potential=U_curved, diffusion=0.08),
            "non-reversible": fp.FokkerPlanck(GRID, drift=drift, diffusion=0.08)}


@pytest.mark.parametrize("name", ["reversible", "non-reversible"])
def test_rate_identities(name):
    model = _models()[name]
    T = transition_paths(model, A, B)
    # renewal: each A → B → A cycle holds one reactive trajectory of each kind (exact for the
    # jump process; only round-off of the three linear solves separates the two sides)
    tB = model.mean_first_passage_time(B).values
    tA = model.mean_first_passage_time(A).values
    cycle = 1.0 / (np.sum(T.entrance_A * tB) + np.sum(T.entrance_B * tA))
    assert T.rate == pytest.approx(cycle, rel=1e-9)
    # fpsolve's flux-over-population rate (reactive-flux definition) is k_AB / ρ_A
    er = model.escape_rate(A, B, method="reactive-flux")
    assert T.rate_from_A == pytest.approx(er.rate, rel=1e-9)
    # flux out of A = flux into B; the net current is divergence-free off A ∪ B
    assert T.info["flux_defect"] < 1e-10 and T.info["divergence_defect"] < 1e-10
    assert T.probability_reactive == pytest.approx(T.reactive_density.values.sum()
                                                   * GRID.cell_volume)


def test_backward_committor_is_one_minus_forward_only_under_detailed_balance():
    m = _models()
    assert transition_paths(m["reversible"], A, B).info["reversibility_gap"] < 1e-10
    assert transition_paths(m["non-reversible"], A, B).info["reversibility_gap"] > 0.1


def test_current_points_from_A_to_B_at_the_saddle():
    T = transition_paths(_models()["reversible"], A, B)
    i = np.argmin(np.abs(GRID.axes[0]))
    j = np.argmin(np.abs(GRID.axes[1] - 0.6))
    assert T.current[0][i, j] > 0 and abs(T.current[1][i, j]) < 0.2 * T.current[0][i, j]


def test_overlapping_sets_are_refused():
    with pytest.raises(InputError, match="overlap"):
        transition_paths(_models()["reversible"], A, lambda x, y: x < 0)
