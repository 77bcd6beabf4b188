"""The documentation: the API reference lists every public object, the examples run from a
fresh folder, the quickstart page and the docstrings' Examples run as doctests, and the built
site is strict, complete and readable offline.

The default run checks what needs no Sphinx build (a few seconds each; the examples a few
seconds each at their small size). The checks of a built site are marked ``slow``: CI runs them
on the strict build it makes anyway (``.ci/run`` sets ``FPSOLVE_DOCS_HTML``); without that
variable they build the site themselves, examples not executed (about a minute)::

    pytest -m slow tests/test_docs.py
"""
from __future__ import annotations

import doctest
import importlib
import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES = sorted((DOCS / "examples").glob("*.py"))

sys.path.insert(0, str(DOCS / "_ext"))
import fpsolve_api  # noqa: E402  (docs/_ext: what the reference calls public)
import fpsolve_docs  # noqa: E402
import fpsolve_reference  # noqa: E402

sys.path.remove(str(DOCS / "_ext"))


def _run(args, env_extra=None, timeout=900, cwd=None):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0", **(env_extra or {}))
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=cwd)


def _needs_torch(path: Path) -> bool:
    src = path.read_text(encoding="utf-8")
    return bool(re.search(r"^\s*(import torch|from fpsolve import nets|import fpsolve\.nets)",
                          src, re.M))


# ---------------------------------------------------------------------------------------------
# the API pages, read as text
# ---------------------------------------------------------------------------------------------
def _api_pages():
    return {p: p.read_text(encoding="utf-8") for p in sorted((DOCS / "api").glob("*.rst"))}


def autosummary_names() -> list[str]:
    """Full names of the entries of every autosummary table on the API pages."""
    names = []
    for text in _api_pages().values():
        module, in_table = None, False
        for line in text.splitlines():
            m = re.match(r"\.\. currentmodule:: ([\w.]+)", line)
            if m:
                module = m.group(1)
            if line.startswith(".. autosummary::"):
                in_table = True
                continue
            if in_table:
                if line.startswith("   :") or not line.strip():
                    continue
                if line.startswith("   "):
                    names.append(f"{module}.{line.strip().lstrip('~')}")
                    continue
                in_table = False
    return names


def _identity(obj):
    obj = getattr(obj, "__func__", obj)
    return obj if isinstance(obj, (str, int, float, bool, type(None))) else id(obj)


def test_api_pages_list_every_public_object():
    """Every public object of every public module (see docs/_ext/fpsolve_api.py) has a page:
    one of the names it is reachable under is in an autosummary table of docs/api/."""
    listed = {}
    for name in autosummary_names():
        listed[_identity(fpsolve_api.resolve(name))] = name      # raises if a name is stale
    missing = sorted(name for name, obj in fpsolve_api.public_api().items()
                     if _identity(obj) not in listed
                     and not (isinstance(obj, (str, int, float, bool)) and
                              name.rsplit(".", 1)[-1] in {n.rsplit(".", 1)[-1]
                                                          for n in listed.values()}))
    assert not missing, ("add these to an autosummary table on a page of docs/api/ (grouped by "
                         f"what a user does with them): {missing}")


def test_api_pages_use_the_public_names():
    """An object is listed under the shortest name it is exported as (fpsolve.Grid, not
    fpsolve.geometry.grid.Grid), and only once."""
    api = fpsolve_api.public_api()
    shortest = {}
    for name, obj in api.items():
        key = _identity(obj)
        if isinstance(key, int) and (key not in shortest or name.count(".") <
                                     shortest[key].count(".")):
            shortest[key] = name
    listed = autosummary_names()
    assert len(listed) == len(set(listed)), "an object is listed twice"
    longer = [(n, shortest[_identity(fpsolve_api.resolve(n))]) for n in listed
              if shortest.get(_identity(fpsolve_api.resolve(n)), n).count(".") < n.count(".")]
    assert not longer, f"listed under a longer name than the public one: {longer}"


def test_every_public_module_is_on_an_api_page():
    """A public module is on a page of its own (automodule) or through its objects, which
    test_api_pages_list_every_public_object finds listed under the names its package exports;
    a module with neither would be invisible."""
    text = "".join(_api_pages().values())
    documented = set(re.findall(r"(?:automodule|py:module|currentmodule):: ([\w.]+)", text))
    missing = sorted(m for m in set(fpsolve_api.public_modules()) - documented
                     if not fpsolve_api.module_members(m))
    assert not missing, (f"add these modules to a page in docs/api/ (or to INTERNAL_MODULES in "
                         f"docs/_ext/fpsolve_api.py if they are internal): {missing}")


def test_class_pages_include_undocumented_and_inherited_members():
    """The class template documents every public member, with or without a docstring, and
    those inherited from fpsolve base classes (NoiseModel.sigma1 on each noise model)."""
    template = (DOCS / "_templates" / "autosummary" / "class.rst").read_text(encoding="utf-8")
    for option in (":members:", ":undoc-members:", ":inherited-members:",
                   "fpsolve-class-summary"):
        assert option in template
    from fpsolve import noise
    assert "sigma1" in fpsolve_api.class_members(noise.Isotropic)
    from fpsolve.particles import FirstPassageResult
    assert {"mean", "std", "n_hit"} <= set(fpsolve_api.class_members(FirstPassageResult))


# ---------------------------------------------------------------------------------------------
# doctests: the quickstart page and the Examples sections of docstrings
# ---------------------------------------------------------------------------------------------
#: Modules whose docstrings carry Examples sections that run as doctests (fast: < 1 s each).
DOCTEST_MODULES = ["fpsolve.geometry.grid", "fpsolve.fields.field", "fpsolve.sgd",
                   "fpsolve.noise", "fpsolve.theory.quadrature", "fpsolve.theory.kramers",
                   "fpsolve.theory.ornstein_uhlenbeck", "fpsolve.analysis.observables",
                   "fpsolve.analysis.thermodynamics", "fpsolve.landscape",
                   "fpsolve.expressions", "fpsolve.problems.files"]


def test_quickstart_page_runs_as_a_doctest(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(str(DOCS / "quickstart.rst"), module_relative=False,
                              optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted >= 10 and result.failed == 0, result


@pytest.mark.parametrize("module", DOCTEST_MODULES)
def test_docstring_examples_run(module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False)
    assert result.attempted > 0, f"{module} has no Examples section"
    assert result.failed == 0, f"{result.failed} doctest(s) of {module} failed (output above)"


# ---------------------------------------------------------------------------------------------
# the examples
# ---------------------------------------------------------------------------------------------
def test_every_example_is_a_gallery_page():
    """sphinx-gallery makes a page of every docs/examples/*.py whose docstring starts with a
    reStructuredText title."""
    for path in EXAMPLES:
        doc = path.read_text(encoding="utf-8").split('"""')[1].strip().splitlines()
        assert len(doc) > 2 and set(doc[1]) == {"="} and len(doc[1]) >= len(doc[0]), path.name
    assert (DOCS / "examples" / "README.txt").is_file()


@pytest.mark.parametrize("script", [
    pytest.param(p, id=p.stem, marks=[pytest.mark.torch] if _needs_torch(p) else [])
    for p in EXAMPLES if p.stem != "quickstart"])       # quickstart: test_quickstart_numbers
def test_example_runs_at_small_size_from_a_fresh_folder(script, tmp_path):
    """As a user would run it: from an empty folder, asking for an output folder that does not
    exist yet (the example creates it)."""
    if _needs_torch(script):
        pytest.importorskip("torch")
    out = tmp_path / "figures" / script.stem
    res = _run([sys.executable, str(script), "--small", "--out", str(out)], cwd=tmp_path)
    assert res.returncode == 0, f"{script.name} failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    assert list(out.glob("*.png")), f"{script.name} saved no figure in {out}"
    assert "DIFFERENT" not in res.stdout and "UNEXPECTED" not in res.stdout


def test_quickstart_numbers(tmp_path):
    """The quickstart's MFPT agrees with the exact quadrature and lies within Kramers' O(D/ΔU)."""
    res = _run([sys.executable, str(DOCS / "examples" / "quickstart.py")], cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-4000:]
    m = re.search(r"fpsolve ([\d.]+), quadrature ([\d.]+), Kramers ([\d.]+), 2/λ₁ = ([\d.]+)",
                  res.stdout)
    assert m, res.stdout
    fps, quad, kramers, two_over_gap = map(float, m.groups())
    assert fps == pytest.approx(quad, rel=1e-3)
    assert fps == pytest.approx(kramers, rel=0.16)        # D/ΔU = 0.16
    assert two_over_gap == pytest.approx(quad, rel=0.02)  # two symmetric wells: λ₁ ≈ 2/E τ
    assert "P(x < 0) = 0.5000" in res.stdout


# ---------------------------------------------------------------------------------------------
# the Sphinx extension
# ---------------------------------------------------------------------------------------------
def test_docstring_sections_become_rubrics_and_definition_lists():
    """Prose after a Parameters block stays prose, and a long text after "name :" is a
    description, not a type."""
    doc = ["Summary.", "", "Parameters", "----------", "grid : Grid",
           "diffusion : float or callable", "    Positive D.",
           "floor : eigenvalue floor for a tensor D that is singular somewhere (e.g. a low-rank",
           "    covariance).", "", "Discretisation: finite volumes, (d, d, *shape) arrays, |x|."]
    out = fpsolve_docs.numpy_sections(doc)
    assert ".. rubric:: Parameters" in out
    assert "``diffusion`` : float or callable" in out and "    Positive D." in out
    assert "``floor``" in out and "    covariance)." in out          # prose, not a type
    assert "``grid``" in out and "    Grid" in out
    assert out[-1] == "Discretisation: finite volumes, (d, d, *shape) arrays, |x|."
    assert fpsolve_docs.escape_markup(out[-1]) == \
        "Discretisation: finite volumes, (d, d, \\*shape) arrays, \\|x\\|."
    assert fpsolve_docs.escape_markup("a *word* and ``|x|``") == "a *word* and ``|x|``"


def test_literal_and_doctest_blocks_are_left_alone():
    """Bars and stars inside a literal block (a TOML example) or a doctest are not escaped,
    and a literal block's lines are not read as section headers or field entries."""
    lines = ["A problem file::", "", '    kind = "stationary"  # "a" | "b"', "    x : y",
             "    -----", "", "Back to |x| prose.", "", ">>> print(2 * 3 | 1)", "7", "",
             "after"]
    out = fpsolve_docs.numpy_sections(list(lines))
    assert out == lines
    flags = fpsolve_docs.literal_lines(lines)
    assert flags == [False, True, True, True, True, True, False, False, True, True, False,
                     False]


def test_constants_show_their_comment_and_only_short_values():
    """A constant re-exported by a package shows the ``#:`` comment of the module that defines
    it; its value only when short and free of paths and addresses."""
    from fpsolve import expressions, validation

    comment = fpsolve_reference.defining_comment("fpsolve.validation.VERDICTS",
                                                 validation.VERDICTS)
    assert comment and "best to worst" in " ".join(comment)
    for value, shown in ((validation.HOLDS, True), (expressions.FUNCTIONS, False),
                         (validation.REGISTRY, False), ("/home/someone/data.npz", False)):
        lines = ["A constant."]
        fpsolve_reference.show_value(None, "data", "x.X", value, None, lines)
        assert (lines[-1].startswith("Value:")) == shown, value


def test_first_sentence_of_a_docstring():
    first = fpsolve_reference.first_sentence
    assert first("Mean of X. More text.") == "Mean of X."
    assert first("See :func:`~fpsolve.escape.committor` for q.\n\nMore.") == \
        "See fpsolve.escape.committor for q."
    assert first(None) == ""
    assert first("Checks that need η (e.g. normalisability); none. More.") == \
        "Checks that need η (e.g. normalisability); none."
    assert first("Rate of eq. (15) by Mori et al. at small η. Then.") == \
        "Rate of eq. (15) by Mori et al. at small η."
    assert first("Mean (over chains. sic) of x. Rest.") == "Mean (over chains. sic) of x."


# ---------------------------------------------------------------------------------------------
# the built site (slow: CI checks its own strict build; see the module docstring)
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    given = os.environ.get("FPSOLVE_DOCS_HTML")
    if given:
        path = Path(given)
        assert (path / "index.html").is_file(), f"FPSOLVE_DOCS_HTML={given} is no built site"
        return path
    pytest.importorskip("sphinx")
    out = tmp_path_factory.mktemp("docs") / "html"
    res = _run([sys.executable, "-m", "sphinx", "-n", "-W", "--keep-going", "-q", "-b", "html",
                "-D", "plot_gallery=0", str(DOCS), str(out)],
               env_extra={"FPSOLVE_VALIDATION_REPORT": str(out.parent / "no-report")})
    assert res.returncode == 0, f"sphinx-build -n -W failed:\n{res.stderr[-8000:]}"
    return out


def _pages(site):
    return {p: p.read_text(encoding="utf-8") for p in site.rglob("*.html")}


@pytest.mark.slow
def test_site_has_the_pages(site):
    for page in ("index", "quickstart", "auto_examples/index", "theory/conventions",
                 "theory/dai_zhu", "api/index", "api/models", "api/cli",
                 "api/generated/fpsolve.FokkerPlanck",
                 "api/generated/fpsolve.escape.mean_first_passage_time",
                 "api/generated/fpsolve.nets.reduced_model"):
        assert (site / f"{page}.html").is_file(), page
    page = (site / "api" / "generated" / "fpsolve.FokkerPlanck.html").read_text(encoding="utf-8")
    assert 'id="fpsolve.FokkerPlanck"' in page and 'id="fpsolve.FokkerPlanck.stationary"' in page


@pytest.mark.slow
def test_site_documents_every_public_member(site):
    """objects.inv of the build holds every public object under one of its names, and every
    public member of every public class (with or without a docstring)."""
    from sphinx.util.inventory import InventoryFile

    with open(site / "objects.inv", "rb") as f:
        inventory = InventoryFile.load(f, "", lambda base, uri: uri)
    documented = {name for kind, entries in inventory.items() if kind.startswith("py:")
                  for name in entries}
    by_identity = {}   # the shortest documented name of each object (others are aliases)
    for name in sorted(documented, key=lambda n: (n.count("."), len(n), n)):
        if name.startswith("fpsolve"):
            try:
                by_identity.setdefault(_identity(fpsolve_api.resolve(name)), name)
            except (ImportError, AttributeError):
                pass
    missing_objects, missing_members = [], []
    for name, obj in fpsolve_api.public_api().items():
        key = _identity(obj)
        if not isinstance(key, int):
            continue
        doc_name = by_identity.get(key)
        if doc_name is None:
            missing_objects.append(name)
            continue
        if inspect.isclass(obj):
            missing_members += [f"{doc_name}.{m}" for m in fpsolve_api.class_members(obj)
                                if f"{doc_name}.{m}" not in documented]
    assert not missing_objects, f"public objects without a page: {sorted(missing_objects)}"
    assert not missing_members, f"public members not documented: {sorted(set(missing_members))}"


@pytest.mark.slow
def test_site_reads_offline(site):
    """No page loads a script or a style sheet from the network, and math is typeset by the
    MathJax copy in _static/."""
    remote = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"')
    offenders = {str(p.relative_to(site)): remote.findall(text)[:2]
                 for p, text in _pages(site).items() if remote.search(text)}
    assert not offenders, offenders
    index = (site / "index.html").read_text(encoding="utf-8")
    m = re.search(r'<script[^>]*src="(_static/mathjax/[^"]+)"', index)
    assert m, "the index page (which has math) loads no local MathJax"
    assert (site / m.group(1).split("?")[0]).is_file()
    assert (site / "_static" / "mathjax" / "output" / "chtml" / "fonts").is_dir()


@pytest.mark.slow
def test_site_shows_no_machine_paths_or_internal_notes(site):
    bad = re.compile(r"(/work/|/tmp/|/home/|/root/|[A-Z]:\\\\Users|THEORY\.md|THEORY §|"
                     r"\.\./shared|\bissue \d+\b)")
    offenders = {}
    for p, text in _pages(site).items():
        body = re.sub(r"<script.*?</script>", "", text, flags=re.S)
        hits = bad.findall(re.sub(r"<[^>]+>", "", body))
        if hits:
            offenders[str(p.relative_to(site))] = sorted(set(hits))
    assert not offenders, offenders


@pytest.mark.slow
def test_cli_page_shows_each_command(site):
    page = (site / "api" / "cli.html").read_text(encoding="utf-8")
    blocks = [re.sub(r"<[^>]+>", "", b) for b in re.findall(r"<pre>(.*?)</pre>", page, re.S)]
    text = "\n".join(blocks)
    for command in ("validate", "info", "solve", "sweep"):
        assert f"usage: fpsolve {command}" in text, command
    assert "[--quick | --full]" in text and "--max-points K" in text
    assert "–quick" not in page and "\\|" not in page          # no en-dash, no escaped bar
    problems = (site / "api" / "problems.html").read_text(encoding="utf-8")
    assert "\\|" not in problems                                # the TOML example's bars


@pytest.mark.slow
def test_gallery_pages_show_figures_and_output(site):
    index = (site / "auto_examples" / "index.html").read_text(encoding="utf-8")
    executed = (site / "_images").is_dir() and list((site / "_images").glob("sphx_glr_*_001.png"))
    for path in EXAMPLES:
        assert f"{path.stem}.html" in index, path.name
        if not executed:
            continue   # a build with plot_gallery=0 (the fixture's own) runs no example
        page = (site / "auto_examples" / f"{path.stem}.html").read_text(encoding="utf-8")
        if _needs_torch(path) and "sphx-glr-script-out" not in page:
            continue   # built without torch (conf.py): shown, not run
        assert re.search(rf'src="[^"]*sphx_glr_{path.stem}_\d+\.png"', page), path.name
        assert "sphx-glr-script-out" in page, f"{path.name}: no printed output on its page"


def test_validation_results_directive_includes_a_report(tmp_path):
    """The theory pages' directive shows a report's cases and copies their figures."""
    pytest.importorskip("sphinx")
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
