"""The chaudhari_soatto validation cases (Chaudhari & Soatto (seed 004)) and the network analogues
(``networks``): every quick case runs at quick resolution and its verdict, computed from its
numbers, is not FAIL (a printed claim may well be contradicted — that is a finding about the
paper, not a failure of fpsolve). The network cases are full-only and run under ``-m slow``."""
import importlib

import pytest

import fpsolve.validation as V

PAPER = "chaudhari_soatto"
importlib.import_module(f"fpsolve.validation.{PAPER}")
importlib.import_module("fpsolve.validation.networks")
QUICK = [s for s in V.REGISTRY if s.paper == PAPER and s.quick]
FULL_ONLY = [s for s in V.REGISTRY if s.paper in (PAPER, "networks") and not s.quick]


def test_registered():
    assert PAPER in V.PAPERS
    assert "networks" in V.PAPERS
    assert len(QUICK) >= 9
    assert [s for s in V.REGISTRY if s.paper == "networks"], "the network cases are registered"


def _run(spec, mode, tmp_path):
    record = V.run_case(spec, mode, tmp_path)
    failed = [f"{c['quantity']}: {c['reason']}" for c in record["checks"] if c["verdict"] == V.FAIL]
    assert record["verdict"] != V.FAIL, record["error"] or "; ".join(failed)
    assert record["checks"], "a case must make checks"
    assert (tmp_path / record["figure"]).is_file()
    return record


# Known fpsolve bug, exposed by the case (a FAIL is the suite doing its job): for a tensor
# diffusion, analysis.thermodynamics.entropy_production uses TensorRates.log_fwd/log_bwd — the
# legs' normal-diffusion rates, documented there as "not the scheme's rates" — and ignores the
# diagonal edges, so it tends to 0.886 instead of tr(AᵀD⁻¹AΣ) = 0.6 on the OU case. Not strict:
# the test passes again once entropy_production is fixed.


@pytest.mark.parametrize("spec", QUICK, ids=[s.name for s in QUICK])
def test_quick_case_not_fail(spec, tmp_path, request):
    if spec.name == "noise_rank":
        pytest.importorskip("torch")
    _run(spec, "quick", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("spec", FULL_ONLY, ids=[f"{s.paper}/{s.name}" for s in FULL_ONLY])
def test_full_only_case_not_fail(spec, tmp_path):
    pytest.importorskip("torch")
    _run(spec, "full", tmp_path)


def test_mode_shift_theory_is_gibbs_for_isotropic_noise():
    """The first-order mode shift vanishes for D̃ ∝ I (Gibbs) and is linear in the cubic terms."""
    import numpy as np

    cs = importlib.import_module(f"fpsolve.validation.{PAPER}")
    F3 = cs._nq_third_derivatives()
    H = np.diag([1.0, 2.0])
    assert np.allclose(cs.mode_shift_slope(H, 3.0 * np.eye(2), F3), 0.0, atol=1e-14)
    D = np.array([[1.0, 0.4], [0.4, 0.7]])
    s1 = cs.mode_shift_slope(H, D, F3)
    s2 = cs.mode_shift_slope(H, D, 2 * F3)
    assert np.linalg.norm(s1) > 1e-3
    assert np.allclose(s2, 2 * s1, rtol=1e-12)
