"""The xie validation cases (Xie, Sato & Sugiyama, seed 003): every quick case runs at quick
resolution and its verdict, computed from its numbers, is not FAIL (a printed claim may well be
contradicted: that is a finding about the paper, not a failure of fpsolve)."""
import importlib

import pytest

import fpsolve.validation as V

PAPER = "xie"
importlib.import_module(f"fpsolve.validation.{PAPER}")
QUICK = [s for s in V.REGISTRY if s.paper == PAPER and s.quick]
FULL_ONLY = [s for s in V.REGISTRY if s.paper == PAPER and not s.quick]


def test_registered():
    assert PAPER in V.PAPERS
    assert len(QUICK) >= 6


def _run(spec, mode, tmp_path):
    record = V.run_case(spec, mode, tmp_path)
    failed = [f"{c['quantity']}: {c['reason']}" for c in record["checks"] if c["verdict"] == V.FAIL]
    assert record["verdict"] != V.FAIL, record["error"] or "; ".join(failed)
    assert record["checks"], "a case must make checks"
    assert (tmp_path / record["figure"]).is_file()
    return record


@pytest.mark.parametrize("spec", QUICK, ids=[s.name for s in QUICK])
def test_quick_case_not_fail(spec, tmp_path):
    _run(spec, "quick", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("spec", FULL_ONLY, ids=[s.name for s in FULL_ONLY])
def test_full_only_case_not_fail(spec, tmp_path):
    if spec.name == "noise_strength_network":
        pytest.importorskip("torch")
    _run(spec, "full", tmp_path)
