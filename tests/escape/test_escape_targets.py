"""Target specifications and input errors."""
import numpy as np
import pytest

import fpsolve as fp
from fpsolve import escape
from fpsolve.errors import InputError


@pytest.fixture
def model():
    g = fp.Grid([(-2, 2), (-1, 1)], (40, 20))
    return fp.FokkerPlanck(g, potential=lambda x, y: (x ** 2 - 1) ** 2 + y ** 2, diffusion=0.3)


def test_callable_box_and_array_targets_agree(model):
    g = model.grid
    by_callable = escape.mean_first_passage_time(model, lambda x, y: x >= 1.0)
    by_box = escape.mean_first_passage_time(model, [(1.0, None), (None, None)])
    by_array = escape.mean_first_passage_time(model, g.coords[0] >= 1.0)
    np.testing.assert_array_equal(by_callable.values, by_box.values)
    np.testing.assert_array_equal(by_callable.values, by_array.values)
    assert by_box.info["target_cells"] == int((g.coords[0] >= 1.0).sum())


def test_1d_box_as_a_single_pair():
    g = fp.Grid([(-1, 1)], 40)
    m = fp.FokkerPlanck(g, potential=lambda x: x ** 2, diffusion=0.5)
    a = escape.mean_first_passage_time(m, (0.5, 1.0))
    b = escape.mean_first_passage_time(m, lambda x: x >= 0.5)
    np.testing.assert_array_equal(a.values, b.values)


def test_input_errors(model):
    with pytest.raises(InputError, match="no cell centre"):
        escape.mean_first_passage_time(model, lambda x, y: x > 5)
    with pytest.raises(InputError, match="whole grid"):
        escape.mean_first_passage_time(model, lambda x, y: x > -5)
    with pytest.raises(InputError, match="overlap"):
        escape.committor(model, lambda x, y: x < 0.1, lambda x, y: x > -0.1)
    with pytest.raises(InputError, match="one \\(lo, hi\\) pair per axis"):
        escape.mean_first_passage_time(model, [(0, 1)])
    with pytest.raises(InputError, match="calling the mask failed"):
        escape.mean_first_passage_time(model, lambda x: x > 0)
    with pytest.raises(InputError, match="outside the grid"):
        escape.exit_distribution(model, lambda x, y: x > 1, (3.0, 0.0))
    with pytest.raises(InputError, match="unknown"):
        escape.flux_over_population(model, (-1.0, 0.0), lambda x, y: x > 1, method="tst")


def test_gth_keeps_relative_accuracy_where_elimination_cancels():
    """A 3-state chain whose only exit has weight ε = 1e-30. Solved by hand:
    K u = 1 → u = (4/ε + 1, 4/ε, 4/ε − 3); Kᵀ w = 1 → w = (3/ε, 6/ε − 2, 3/ε). Plain elimination
    forms the last pivot as 1 − (1 − ε) = 0 in double precision."""
    eps = 1e-30
    Q = np.array([[0, 1, 0], [0.5, 0, 0.5], [0, 1 - eps, 0]])
    leak = np.array([0, 0, eps])
    b = np.ones(3)
    u = escape.gth_solve(Q, leak, b)
    np.testing.assert_allclose(u, [4 / eps + 1, 4 / eps, 4 / eps - 3], rtol=1e-14)
    w = escape.gth.GTH(Q, leak).solve_transposed(b)
    np.testing.assert_allclose(w, [3 / eps, 6 / eps - 2, 3 / eps], rtol=1e-14)
    # a moderate ε, against a dense solve, checks the non-asymptotic parts
    eps = 1e-3
    Q[2, 1], leak[2] = 1 - eps, eps
    K = np.diag(Q.sum(1) + leak) - Q
    G = escape.gth.GTH(Q, leak)
    rhs = np.array([[1.0, 0.0], [2.0, 1.0], [0.5, 3.0]])
    np.testing.assert_allclose(G.solve(rhs), np.linalg.solve(K, rhs), rtol=1e-12)
    np.testing.assert_allclose(G.solve_transposed(rhs), np.linalg.solve(K.T, rhs), rtol=1e-12)


def test_every_escape_question_is_a_method_of_the_model(model):
    """The facade binds each function of fpsolve.escape that takes the model first: the method
    gives the same answer (flux_over_population is the method escape_rate)."""
    import inspect

    names = ["mean_first_passage_time", "first_passage_moments", "committor",
             "conditional_exit_times", "exit_distribution", "quasi_stationary",
             "flux_over_population", "survival", "basins", "effective_transport"]
    for name in names:
        fn = getattr(escape, name)
        assert next(iter(inspect.signature(fn).parameters)) == "model", name
        method = "escape_rate" if name == "flux_over_population" else name
        assert callable(getattr(fp.FokkerPlanck, method)), method
    np.testing.assert_array_equal(model.mean_first_passage_time(lambda x, y: x > 1).values,
                                  escape.mean_first_passage_time(model, lambda x, y: x > 1).values)
    with pytest.warns(DeprecationWarning, match="MODEL_METHODS"):
        assert escape.MODEL_METHODS["committor"] is escape.committor