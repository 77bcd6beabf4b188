"""The documentation: the Sphinx site builds without warnings, and every example runs.

The examples in docs/examples/ run as a user would run them (a fresh Python process) at their
small size (FPSOLVE_EXAMPLE_SMALL=1), with figures going to a temporary folder; each exits with
status 1 when one of its printed comparisons with a reference fails.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.py"))


def _run(args, env_extra=None, timeout=600, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", **(env_extra or {}))
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=cwd)


def _needs_torch(path: Path) -> bool:
    src = path.read_text(encoding="utf-8")
    return bool(re.search(r"^\s*(import torch|from fpsolve import nets|import fpsolve\.nets)",
                          src, re.M))


# ---------------------------------------------------------------------------------------------
# the site
# ---------------------------------------------------------------------------------------------
def test_docs_build_without_warnings(tmp_path):
    """sphinx-build -W: no warning in the hand-written pages or from autodoc (imports, targets),
    and no validation report needed (an empty report folder is pointed to)."""
    pytest.importorskip("sphinx")
    out = tmp_path / "html"
    res = _run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                str(DOCS), str(out)],
               env_extra={"FPSOLVE_VALIDATION_REPORT": str(tmp_path / "no-report")})
    assert res.returncode == 0, f"sphinx-build failed:\n{res.stdout[-4000:]}\n{res.stderr[-8000:]}"
    for page in ("index", "quickstart", "examples", "theory/dai_zhu", "theory/chaudhari_soatto",
                 "api/core", "api/nets"):
        assert (out / f"{page}.html").is_file(), page
    # without a report the theory pages say how to make one
    assert "No validation report was found" in (out / "theory" / "mori.html").read_text(
        encoding="utf-8")
    # the API pages document the public objects (torch mocked for the nets pages)
    core = (out / "api" / "core.html").read_text(encoding="utf-8")
    assert 'id="fpsolve.models.fokker_planck.FokkerPlanck"' in core
    assert 'id="fpsolve.nets.reduced.reduced_model"' in (out / "api" / "nets.html").read_text(
        encoding="utf-8")


def test_validation_results_directive_includes_a_report(tmp_path):
    """The theory pages' directive shows a report's cases and copies their figures."""
    pytest.importorskip("sphinx")
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    report = tmp_path / "report"
    (report / "figures").mkdir(parents=True)
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1])
    fig.savefig(report / "figures" / "toy__case_a.png", dpi=20)
    plt.close(fig)
    cases = [{"paper": "toy", "name": "case_a", "title": "a claim with H* and |x| in it",
              "verdict": "printed claim contradicted", "reason": "disagrees with the printed "
              "claim", "equation": "eq. (1)", "claim": "x = 1_", "corrected_claim": "x = 2",
              "reference_method": "closed form", "key_number": "x: err 0", "figure":
              "figures/toy__case_a.png"},
             {"paper": "other", "name": "case_b", "title": "t", "verdict": "holds",
              "figure": "figures/missing.png"}]
    (report / "results.json").write_text(json.dumps({"mode": "quick", "started": "now",
                                                     "cases": cases}), encoding="utf-8")
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(DOCS / '_ext')!r})\n"
        f"extensions = ['fpsolve_docs']\nfpsolve_validation_report = {str(report)!r}\n",
        encoding="utf-8")
    (src / "index.rst").write_text("Toy\n===\n\n.. validation-results:: toy\n\n"
                                   ".. validation-results:: absent\n", encoding="utf-8")
    out = tmp_path / "html"
    res = _run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html", str(src), str(out)],
               env_extra={"FPSOLVE_VALIDATION_REPORT": ""})
    assert res.returncode == 0, res.stderr[-4000:]
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "case_a" in page and "printed claim contradicted" in page and "x = 2" in page
    assert "has no cases of" in page                       # the paper "absent"
    assert (out / "_images" / "toy__case_a.png").is_file()


# ---------------------------------------------------------------------------------------------
# the examples
# ---------------------------------------------------------------------------------------------
def test_every_example_is_on_the_examples_page():
    listed = (DOCS / "examples.rst").read_text(encoding="utf-8") + \
        (DOCS / "quickstart.rst").read_text(encoding="utf-8")
    missing = [p.name for p in EXAMPLES if f"examples/{p.name}" not in listed]
    assert not missing, f"examples not included in docs/examples.rst: {missing}"


@pytest.mark.parametrize("script", [
    pytest.param(p, id=p.stem, marks=[pytest.mark.torch] if _needs_torch(p) else [])
    for p in EXAMPLES if p.stem != "quickstart"])       # quickstart: test_quickstart_numbers
def test_example_runs_at_small_size(script, tmp_path):
    if _needs_torch(script):
        pytest.importorskip("torch")
    res = _run([sys.executable, str(script)], cwd=tmp_path,
               env_extra={"FPSOLVE_EXAMPLE_SMALL": "1", "FPSOLVE_EXAMPLE_OUT": str(tmp_path)})
    assert res.returncode == 0, f"{script.name} failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    assert list(tmp_path.glob("*.png")), f"{script.name} saved no figure in {tmp_path}"
    assert "DIFFERENT" not in res.stdout and "UNEXPECTED" not in res.stdout


def test_quickstart_numbers():
    """The quickstart's MFPT agrees with the exact quadrature and lies within Kramers' O(D/ΔU)."""
    res = _run([sys.executable, str(DOCS / "examples" / "quickstart.py")])
    assert res.returncode == 0, res.stderr[-4000:]
    m = re.search(r"fpsolve ([\d.]+), quadrature ([\d.]+), Kramers ([\d.]+), 2/λ₁ = ([\d.]+)",
                  res.stdout)
    assert m, res.stdout
    fps, quad, kramers, two_over_gap = map(float, m.groups())
    assert fps == pytest.approx(quad, rel=1e-3)
    assert fps == pytest.approx(kramers, rel=0.16)        # D/ΔU = 0.16
    assert two_over_gap == pytest.approx(quad, rel=0.02)  # two symmetric wells: λ₁ ≈ 2/E τ
    assert "P(x < 0) = 0.5000" in res.stdout


def test_docstring_sections_become_rubrics_and_definition_lists():
    """The docstring preprocessor of docs/_ext: prose after a Parameters block stays prose, and
    a long text after "name :" is a description, not a type."""
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        import fpsolve_docs as fd
    finally:
        sys.path.remove(str(DOCS / "_ext"))
    doc = ["Summary.", "", "Parameters", "----------", "grid : Grid",
           "diffusion : float or callable", "    Positive D.",
           "floor : eigenvalue floor for a tensor D that is singular somewhere (e.g. a low-rank",
           "    covariance).", "", "Discretisation: finite volumes, (d, d, *shape) arrays, |x|."]
    out = fd.numpy_sections(doc)
    assert ".. rubric:: Parameters" in out
    assert "``diffusion`` : float or callable" in out and "    Positive D." in out
    assert "``floor``" in out and "    covariance)." in out          # prose, not a type
    assert "``grid``" in out and "    Grid" in out
    assert out[-1] == "Discretisation: finite volumes, (d, d, *shape) arrays, |x|."
    assert fd.escape_markup(out[-1]) == \
        "Discretisation: finite volumes, (d, d, \\*shape) arrays, \\|x\\|."
    assert fd.escape_markup("a *word* and ``|x|``") == "a *word* and ``|x|``"


#: Modules deliberately left out of the API pages: re-exporting packages with no docstring of
#: their own, Numba kernels and private helpers (their public entry points are documented).
NOT_IN_API = {
    "fpsolve.fields", "fpsolve.geometry", "fpsolve.models", "fpsolve.numerics",
    "fpsolve.numerics.anisotropic_kernels", "fpsolve.particles.coefficients",
    "fpsolve.particles.domain", "fpsolve.particles.initial", "fpsolve.particles.kernels",
    "fpsolve.particles.progress", "fpsolve.particles.rng",
    "fpsolve.solve_toml", "fpsolve.sweep",  # deprecated aliases of fpsolve.problems, .sweeps
}


def test_every_public_module_is_in_the_api_reference():
    import pkgutil

    import fpsolve

    modules = {m.name for m in pkgutil.walk_packages(fpsolve.__path__, "fpsolve.")
               if not m.name.rsplit(".", 1)[-1].startswith("_")}
    text = "".join(p.read_text(encoding="utf-8") for p in (DOCS / "api").glob("*.rst"))
    documented = set(re.findall(r"automodule:: ([\w.]+)", text))
    # the validation groups (one module of cases per paper) are documented on the theory pages
    from fpsolve.validation.registry import PAPERS
    cases = {f"fpsolve.validation.{p}" for p in PAPERS} | {"fpsolve.validation.backends_fipy"}
    missing = sorted(modules - documented - NOT_IN_API - cases)
    assert not missing, (f"add these modules to a page in docs/api/ (or to NOT_IN_API in "
                         f"tests/test_docs.py if they are internal): {missing}")
