"""The validation framework: verdict rules, the registry, the runner (serial and parallel), the
report files, and the exit status of ``fpsolve validate`` — on test-only cases registered in a
private Registry, never in the shipped one."""
import json
import math

import numpy as np
import pytest

import fpsolve as fp
import fpsolve.validation as V
from fpsolve.cli import main
from fpsolve.validation import (CONTRADICTED, FAIL, HOLDS, HOLDS_AFTER_CORRECTION, Case, Check,
                                Registry, judge, worst)

# ---------------------------------------------------------------------------------------------
# test-only cases (module level, so that --jobs can pickle them)
# ---------------------------------------------------------------------------------------------
REG = Registry()


@REG.case(paper="demo", name="trapezoid_exact")
def trapezoid_exact(ctx):
    """The trapezoid rule is exact for a linear function."""
    n = ctx.pick(quick=11, full=101)
    x = np.linspace(0.0, 2.0, n)
    val = float(np.sum((x[1:] + x[:-1]) / 2 * np.diff(x)))
    fig, ax = ctx.figure()
    ax.plot(x, x)
    return Case(title="trapezoid of x on [0, 2]", checks=[Check("∫x", val, reference=2.0,
                                                                atol=1e-14, why="exact rule")],
                numbers={"n": n}, figure=ctx.save_figure(fig))


@REG.case(paper="demo", name="ou_stationary_variance")
def ou_stationary_variance(ctx):
    """A real fpsolve solve: OU stationary variance D/k."""
    grid = fp.Grid([(-6.0, 6.0)], ctx.pick(quick=200, full=800))
    p = fp.FokkerPlanck(grid, potential=lambda x: x ** 2 / 2, diffusion=0.5).stationary()
    return Case(title="OU variance", checks=[Check("variance", p.var(), reference=0.5,
                                                   rtol=1e-6)])


@REG.case(paper="demo", name="printed_factor_two")
def printed_factor_two(ctx):
    """A printed formula off by a factor 2 (like 1/(2B) for 1/B)."""
    exact = 0.125
    return Case(title="noise scale", claim="η/(2B)", corrected_claim="η/B",
                checks=[Check("noise", exact * (1 + 1e-9), reference=exact, rtol=1e-6,
                              printed=exact / 2, corrected=exact, claim_rtol=0.01)])


@REG.case(paper="other", name="raises")
def raises(ctx):
    """A case that raises: FAIL with the traceback, and the run goes on."""
    raise ZeroDivisionError("deliberate failure in a test case")


@REG.case(paper="other", name="slow_only", quick=False)
def slow_only(ctx):
    return Case(title="full only", checks=[Check("one", 1.0, reference=1.0)])


BAD = Registry()


@BAD.case(paper="demo", name="wrong_reference")
def wrong_reference(ctx):
    """fpsolve against a deliberately wrong reference: must be FAIL."""
    grid = fp.Grid([(-6.0, 6.0)], 100)
    p = fp.FokkerPlanck(grid, potential=lambda x: x ** 2 / 2, diffusion=0.5).stationary()
    return Case(title="OU variance against a wrong reference",
                checks=[Check("variance", p.var(), reference=0.6, rtol=1e-6)])


@BAD.case(paper="demo", name="fine")
def fine(ctx):
    return Case(title="fine", checks=[Check("one", 1.0, reference=1.0)])


# ---------------------------------------------------------------------------------------------
# verdict rules
# ---------------------------------------------------------------------------------------------
def test_judge_rules():
    assert judge(1.0, 1.0 + 1e-12, rtol=1e-9)[0] == HOLDS
    assert judge(1.0, 1.1, rtol=1e-3)[0] == FAIL                          # exact reference
    assert judge(1.0, 1.0, printed=1.0, rtol=1e-9)[0] == HOLDS
    assert judge(1.0, 1.0, printed=2.0, corrected=1.0, rtol=1e-9)[0] == CONTRADICTED
    assert judge(1.0, 1.0, printed=2.0, corrected=1.0, rtol=1e-9,
                 erratum=True)[0] == HOLDS_AFTER_CORRECTION
    assert judge(1.0, None, printed=None, corrected=1.02, claim_rtol=0.05)[0] == \
        HOLDS_AFTER_CORRECTION
    assert judge(1.0, 1.0, printed=2.0, rtol=1e-9)[0] == CONTRADICTED     # reference as truth
    assert judge(1.0, None, printed=2.0, corrected=3.0, rtol=1e-9)[0] == FAIL
    # the reference is checked first: a wrong fpsolve never "holds" a printed claim
    assert judge(2.0, 1.0, printed=2.0, rtol=1e-9)[0] == FAIL
    # claim tolerance separate from the reference tolerance
    assert judge(1.0, 1.0, printed=1.04, rtol=1e-12, claim_rtol=0.05)[0] == HOLDS
    assert judge([1.0, 2.0], [1.0, 2.5], rtol=0.1)[0] == FAIL             # every element
    assert judge(math.nan, 1.0, rtol=1.0)[0] == FAIL                      # NaN never agrees
    with pytest.raises(ValueError):
        judge(1.0)
    assert worst(HOLDS, CONTRADICTED, HOLDS_AFTER_CORRECTION) == CONTRADICTED
    assert worst([HOLDS, FAIL]) == FAIL and worst() == HOLDS


def test_case_verdict_is_worst_check_and_record_has_numbers():
    c = Case(title="t", checks=[Check("a", 1.0, reference=1.0),
                                Check("b", 1.0, reference=1.0, printed=3.0)],
             numbers={"x": np.float64(2.5), "v": np.arange(3), "z": 1 + 2j, "bad": np.inf})
    assert c.verdict == CONTRADICTED
    rec = json.loads(json.dumps(c.to_record()))
    assert rec["verdict"] == CONTRADICTED and rec["numbers"]["x"] == 2.5
    assert rec["numbers"]["v"] == [0, 1, 2] and rec["numbers"]["bad"] == "Infinity"
    assert rec["numbers"]["a"] == 1.0 and rec["checks"][1]["printed"] == 3.0
    assert Case(title="empty").verdict == FAIL


def test_registry_selection():
    keys = [s.key for s in REG.select("quick")]
    assert "other/slow_only" not in keys and "demo/trapezoid_exact" in keys
    assert "other/slow_only" in [s.key for s in REG.select("full")]
    assert [s.key for s in REG.select("quick", ["other"])] == ["other/raises"]
    assert [s.key for s in REG.select("quick", ["other/slow_only"])] == ["other/slow_only"]
    assert [s.key for s in REG.select("quick", ["demo/t*"])] == ["demo/trapezoid_exact"]
    with pytest.raises(KeyError, match="demo/trapezoid_exact"):
        REG.select("quick", ["nope"])
    with pytest.raises(ValueError, match="registered twice"):
        @REG.case(paper="demo", name="trapezoid_exact")
        def another(ctx):
            pass
    # the shipped registry holds only real paper modules, and none of these test cases
    shipped = V.load()
    assert "demo/trapezoid_exact" not in shipped and len(shipped) >= 8
    assert set(shipped.papers()) <= set(V.PAPERS)


# ---------------------------------------------------------------------------------------------
# runner and report
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("jobs", [1, 2])
def test_run_and_report(tmp_path, jobs):
    specs = REG.select("quick")
    result = V.run(specs, "quick", tmp_path, jobs=jobs)
    recs = {f"{r['paper']}/{r['name']}": r for r in result.records}
    assert [f"{r['paper']}/{r['name']}" for r in result.records] == [s.key for s in specs]
    assert recs["demo/trapezoid_exact"]["verdict"] == HOLDS
    assert recs["demo/ou_stationary_variance"]["verdict"] == HOLDS
    assert recs["demo/printed_factor_two"]["verdict"] == CONTRADICTED
    bad = recs["other/raises"]
    assert bad["verdict"] == FAIL and "ZeroDivisionError" in bad["error"]
    assert "Traceback" in bad["error"]
    assert result.failed and result.counts[FAIL] == 1
    assert (tmp_path / recs["demo/trapezoid_exact"]["figure"]).is_file()

    result.metadata["versions"] = {"numpy": np.__version__}
    paths = V.write_report(result, tmp_path)
    data = json.loads(paths["json"].read_text())
    assert {c["name"] for c in data["cases"]} == {s.name for s in specs}
    for c in data["cases"]:
        assert {"paper", "name", "verdict", "numbers", "duration_s"} <= set(c)
    assert data["mode"] == "quick" and data["jobs"] == jobs and data["exit_status"] == 1
    md, html = paths["md"].read_text(), paths["html"].read_text()
    for s in specs:
        assert s.name in md and s.name in html
    assert "data:image/png;base64," in html  # figures embedded: self-contained
    table = V.summary_table(result.records)
    assert "printed claim contradicted" in table and "FAIL" in table
    # a contradicted claim shows the printed value against what holds, not fpsolve's own error
    assert recs["demo/printed_factor_two"]["key_number"] == (
        "noise: printed 0.0625, holds 0.125 = corrected 0.125")


def test_report_lists_the_cases_left_out(tmp_path):
    result = V.run(REG.select("quick", ["demo/trapezoid_exact"]), "quick", tmp_path)
    result.metadata["left_out"] = [{"case": "chaudhari_soatto/noise_rank",
                                    "title": "noise rank", "needs": ["torch"]}]
    paths = V.write_report(result, tmp_path)
    for text in (paths["md"].read_text(), paths["html"].read_text()):
        assert "Left out" in text and "chaudhari_soatto/noise_rank" in text and "torch" in text


def test_cli_exit_status_follows_fail(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(V, "load", lambda: BAD)
    assert main(["validate", "--out", str(tmp_path / "a"), "--only", "demo/fine"]) == 0
    assert main(["validate", "--out", str(tmp_path / "b")]) == 1
    out = capsys.readouterr().out
    assert "wrong_reference" in out and "FAIL" in out
    data = json.loads((tmp_path / "b" / "results.json").read_text())
    assert [c["verdict"] for c in data["cases"]] == [FAIL, HOLDS]
    assert main(["validate", "--only", "nosuchpaper", "--out", str(tmp_path / "c")]) == 2
    assert "matches no case" in capsys.readouterr().err
    assert main(["validate", "--list"]) == 0
    assert "demo/wrong_reference" in capsys.readouterr().out


def test_documented_example_runs(tmp_path):
    """The how-to-add-a-case example in fpsolve.validation's docstring works as written."""
    import textwrap

    block = V.__doc__.split("``PAPERS`` in :mod:`.registry`::\n\n", 1)[1]
    code = textwrap.dedent(block.split("\nA check on a paper", 1)[0])
    code = code.replace("from .framework import", "from fpsolve.validation.framework import")
    code = code.replace("from .registry import case",
                        "from fpsolve.validation import Registry\nR = Registry()\ncase = R.case")
    ns = {}
    exec(compile(code, "validation-docstring", "exec"), ns)
    (rec,) = V.run(ns["R"].select("quick"), "quick", tmp_path).records
    assert rec["verdict"] == HOLDS and rec["paper"] == "dai_zhu", rec["error"]


def test_cases_needing_a_missing_package_are_left_out_not_failed(capsys):
    """A core install has no torch: such cases are listed as not run, and the exit status is 0."""
    from fpsolve.validation.registry import CaseSpec

    spec = CaseSpec("core", "x", lambda ctx: None, True, "", ("no_such_package_fpsolve",))
    assert spec.missing() == ["no_such_package_fpsolve"]
    assert CaseSpec("core", "y", lambda ctx: None, True, "", ("numpy",)).missing() == []
