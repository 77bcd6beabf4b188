"""Sphinx helpers for fpsolve's documentation (no dependency beyond Sphinx itself).

``.. validation-results:: PAPER``
    Shows the cases of one paper from a validation report (``results.json`` and ``figures/``
    written by ``fpsolve validate --out DIR``): title, verdict, claim as printed, corrected form,
    reference, and the figure. The report is looked up in ``$FPSOLVE_VALIDATION_REPORT`` or the
    config value ``fpsolve_validation_report`` (default ``_build/validation`` next to conf.py).
    Without a report the directive shows one sentence saying how to produce it, so the build
    never requires running the validation suite.

Docstring sections
    fpsolve's docstrings are numpydoc-like but free: a ``Parameters`` block may be followed by
    prose at the same indentation, and ``name : text`` lines hold a type or a description.
    Napoleon would read such prose as more parameters and such descriptions as types, so
    section headers are turned into rubrics here, and the entries of field sections
    (Parameters, Returns, Attributes, …) into definition lists: ``name : type`` followed by an
    indented description keeps the type as a classifier; a longer text after the colon is
    read as the description. Bars as in ``|x|`` and lone stars as in ``*shape`` are escaped.
    Everything else is left to reStructuredText.

Docstring markup
    Docutils complaints about a docstring's markup (``Unexpected indentation`` and the like)
    are warnings like any other, so ``sphinx-build -W`` fails on them: a garbled docstring is
    a garbled page. ``FPSOLVE_DOCS_STRICT=0`` counts them instead and reports the count at the
    end of the build (for a look at the pages while a docstring is being fixed).
"""
from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging as sphinx_logging
from sphinx.util.docutils import SphinxDirective

logger = sphinx_logging.getLogger(__name__)

VERDICT_CLASS = {"holds": "holds", "holds after correction": "holds-after-correction",
                 "printed claim contradicted": "contradicted", "FAIL": "fail"}


# ---------------------------------------------------------------------------------------------
# validation results
# ---------------------------------------------------------------------------------------------
def report_dir(app) -> Path:
    configured = os.environ.get("FPSOLVE_VALIDATION_REPORT") or app.config.fpsolve_validation_report
    path = Path(configured)
    return path if path.is_absolute() else Path(app.confdir) / path


_REPORTS: dict = {}  # parsed results.json by (path, mtime): read once per build


def _load_report(app):
    """(path of results.json, parsed report) or (path, None) when there is no usable report."""
    path = report_dir(app) / "results.json"
    if not path.is_file():
        return path, None
    cache = _REPORTS
    key = (str(path), path.stat().st_mtime_ns)
    if key not in cache:
        try:
            cache[key] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            logger.warning("validation report %s cannot be read (%s); rerun fpsolve validate.",
                           path, exc, type="fpsolve", subtype="report")
            cache[key] = None
    return path, cache[key]


def _para(*parts, classes=()):
    """A paragraph from plain strings and (label, text) pairs rendered as 'label: text'."""
    p = nodes.paragraph(classes=list(classes))
    for part in parts:
        if isinstance(part, tuple):
            label, text = part
            p += nodes.strong(text=f"{label}: ")
            p += nodes.Text(str(text))
        else:
            p += part if isinstance(part, nodes.Node) else nodes.Text(str(part))
    return p


class ValidationResults(SphinxDirective):
    """``.. validation-results:: PAPER`` (see the module docstring)."""

    required_arguments = 1
    option_spec = {"no-figures": directives.flag}

    def run(self):
        paper = self.arguments[0].strip()
        path, report = _load_report(self.env.app)
        if path.is_file():
            self.env.note_dependency(str(path))  # rebuild the page when the report changes
        if report is None:
            return [nodes.note("", _para(
                "No validation report was found when these pages were built, so the verdicts "
                "and figures of this paper's cases are not shown. Run ",
                nodes.literal(text="fpsolve validate --quick --out docs/_build/validation"),
                " (or set FPSOLVE_VALIDATION_REPORT to a report directory) and rebuild."))]
        cases = [c for c in report.get("cases", []) if c.get("paper") == paper]
        if not cases:
            return [nodes.note("", _para(
                f"The validation report in {path.parent.name}/ (mode {report.get('mode', '?')}) "
                f"has no cases of '{paper}': either its module is not yet registered in "
                "fpsolve.validation.registry.PAPERS, or the run left it out (--only)."))]
        out = [_para(f"From the validation report ({report.get('mode', '?')} mode, started "
                     f"{report.get('started', '?')}): {len(cases)} case(s).")]
        doc_dir = Path(self.env.doc2path(self.env.docname)).parent
        for c in cases:
            out += self._case(c, path.parent, doc_dir, "no-figures" not in self.options)
        return out

    def _case(self, c, root, doc_dir, figures):
        verdict = c.get("verdict", "?")
        sec = nodes.container(classes=["validation-case",
                                       VERDICT_CLASS.get(verdict, "unknown")])
        sec += nodes.rubric(text=f"{c.get('name', '?')}: {c.get('title', '')}")
        items = nodes.bullet_list()
        rows = [("verdict", f"{verdict} — {c.get('reason', '')}".rstrip(" —")),
                ("equation", c.get("equation")), ("claim as printed", c.get("claim")),
                ("corrected form", c.get("corrected_claim")),
                ("reference", c.get("reference_method")),
                ("key number", c.get("key_number"))]
        for label, text in rows:
            if text:
                items += nodes.list_item("", _para((label, text)))
        sec += items
        fig = c.get("figure")
        if figures and fig and (root / fig).is_file():
            uri = os.path.relpath(root / fig, doc_dir).replace(os.sep, "/")
            figure = nodes.figure(classes=["validation-figure"])
            figure += nodes.image(uri=uri, alt=f"{c.get('paper')}/{c.get('name')}", width="90%")
            figure += nodes.caption(text=f"{c.get('paper')}/{c.get('name')} ({verdict})")
            sec += figure
        return [sec]


# ---------------------------------------------------------------------------------------------
# numpydoc-like sections
# ---------------------------------------------------------------------------------------------
FIELD_SECTIONS = {"parameters", "other parameters", "returns", "yields", "raises", "warns",
                  "attributes", "keyword arguments", "arguments", "args", "receives"}
_UNDERLINE = re.compile(r"^\s*([-=~^])\1{2,}\s*$")
_ENTRY = re.compile(r"^(\*{0,2}[A-Za-z_][\w.]*(?:\s*,\s*\*{0,2}[A-Za-z_][\w.]*)*)"
                    r"(?:\s+:\s*(.*?)|\s*)$")
MAX_TYPE_LENGTH = 50  # a longer text after "name :" is a description, not a type


def _indent(line):
    return len(line) - len(line.lstrip())


def _is_header(lines, i):
    if i + 1 >= len(lines) or not lines[i].strip() or _UNDERLINE.match(lines[i]):
        return False
    under = lines[i + 1]
    return (bool(_UNDERLINE.match(under)) and _indent(under) == _indent(lines[i])
            and len(under.strip()) >= max(3, len(lines[i].strip()) // 2))


def _next_nonblank(lines, i):
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i if i < len(lines) else None


def _is_entry(lines, i, base, need_colon=False):
    line = lines[i]
    m = _ENTRY.match(line.strip())
    if _indent(line) != base or not m:
        return False
    if m.group(2) is not None:
        return True
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    return not need_colon and nxt.strip() != "" and _indent(nxt) > base


def _entries(lines, i, base, out, need_colon=False):
    """Convert the field entries starting at line i into a definition list; returns the index
    of the first line after them (a blank line before prose, a header, or a less indented
    line)."""
    n, pad = len(lines), " " * base
    while i < n:
        if not lines[i].strip():
            j = _next_nonblank(lines, i)
            if j is None or _is_header(lines, j) or not _is_entry(lines, j, base, need_colon):
                break
            i = j
            continue
        if _is_header(lines, i) or not _is_entry(lines, i, base, need_colon):
            break
        m = _ENTRY.match(lines[i].strip())
        names, rest = m.group(1), (m.group(2) or "").strip()
        i += 1
        desc = []
        while i < n:
            if lines[i].strip() and _indent(lines[i]) > base:
                desc.append(lines[i])
                i += 1
                continue
            j = _next_nonblank(lines, i)
            if lines[i].strip() or j is None or _indent(lines[j]) <= base:
                break
            desc += [""] * (j - i)
            i = j
        # keep the description's own relative indentation
        body_indent = min((_indent(d) for d in desc if d.strip()), default=base + 4)
        body = [d[body_indent:] if d.strip() else "" for d in desc]
        term = ", ".join(f"``{x.strip()}``" for x in names.split(","))
        if rest and body and len(rest) <= MAX_TYPE_LENGTH:
            out.append(f"{pad}{term} : {rest}")
        else:
            out.append(f"{pad}{term}")
            body = ([rest] if rest else []) + body
        out += [f"{pad}    {b}" if b else "" for b in (body or ["\\ "])]
        out.append("")
    return i


def _field_paragraph(lines, i):
    """Whether the paragraph starting at line i is a run of ``name : text`` entries (each line
    at the paragraph's indentation one entry, more indented lines their continuation)."""
    base, j, count = _indent(lines[i]), i, 0
    while j < len(lines) and lines[j].strip():
        if _indent(lines[j]) < base:
            return False
        if _indent(lines[j]) == base:
            if not _is_entry(lines, j, base, need_colon=True):
                return False
            count += 1
        j += 1
    return count >= 2


def numpy_sections(lines):
    """Rewrite numpydoc-like section headers and field entries (see the module docstring)."""
    out, i, n = [], 0, len(lines)
    literal = literal_lines(lines)
    while i < n:
        if literal[i]:
            out.append(lines[i])
            i += 1
            continue
        starts_paragraph = lines[i].strip() and (i == 0 or not lines[i - 1].strip())
        if starts_paragraph and not _is_header(lines, i) and _field_paragraph(lines, i):
            i = _entries(lines, i, _indent(lines[i]), out, need_colon=True)
            continue
        if not _is_header(lines, i):
            out.append(lines[i])
            i += 1
            continue
        base = _indent(lines[i])
        title = lines[i].strip()
        out += ["", f"{' ' * base}.. rubric:: {title}", ""]
        i += 2
        if title.lower() in FIELD_SECTIONS:
            i = _entries(lines, i, base, out)
    return out


_LITERAL = re.compile(r"(``.+?``|:[\w:+-]+:`[^`]*`|`[^`]*`_{0,2})")


_TABLE_LINE = re.compile(r"^\s*(\+[-=+]+\+|\|.*\|)\s*$")
_STAR = re.compile(r"(?:(?<=^)|(?<=[\s(\[,]))\*(?=[\w(])")
_END_STAR = re.compile(r"(?<=\S)\*(?=$|[\s.,;:!?)\]'\"-])")


def _escape_text(text):
    text = text.replace("|", "\\|")
    # a star that opens no emphasis (Python's *args, (d, d, *shape)): no closing star follows
    out, last = [], 0
    for m in _STAR.finditer(text):
        if not _END_STAR.search(text, m.end() + 1):
            out += [text[last:m.start()], "\\*"]
            last = m.end()
    return "".join(out) + text[last:]


def escape_markup(line):
    """Escape what reStructuredText would misread in fpsolve's plain-text formulas: the bars of
    |x| (substitution references; no docstring uses substitutions) and a lone star as in
    (d, d, *shape). Inline literals, roles and grid-table lines are left alone."""
    if ("|" not in line and "*" not in line) or _TABLE_LINE.match(line):
        return line
    parts = _LITERAL.split(line)
    return "".join(p if i % 2 else _escape_text(p) for i, p in enumerate(parts))


def literal_lines(lines):
    """Flags: whether each line is inside a literal block (after a paragraph ending in ``::``
    or a ``code-block`` directive, as long as it is indented deeper) or a doctest block (from
    ``>>>`` to the next blank line). Markup there is left alone."""
    flags, block_indent, doctest = [], None, False
    for line in lines:
        text, ind = line.strip(), _indent(line)
        if block_indent is not None and text and ind <= block_indent:
            block_indent = None
        if doctest and not text:
            doctest = False
        if block_indent is None and text.startswith(">>>"):
            doctest = True
        flags.append(block_indent is not None or doctest)
        if block_indent is None and not doctest and (
                text.endswith("::") or text.startswith((".. code-block::", ".. code::"))):
            block_indent = ind
    return flags


def _process_docstring(app, what, name, obj, options, lines):
    lines[:] = numpy_sections(lines)
    lines[:] = [line if literal else escape_markup(line)
                for line, literal in zip(lines, literal_lines(lines))]


# ---------------------------------------------------------------------------------------------
# docstring markup: fatal under -W, unless FPSOLVE_DOCS_STRICT=0
# ---------------------------------------------------------------------------------------------
class _DocstringMarkupFilter(logging.Filter):
    """Drops docutils warnings located in a docstring ("...:docstring of fpsolve.x.y:3")."""

    def __init__(self):
        super().__init__()
        self.hidden = []

    def filter(self, record):
        location = str(getattr(record, "location", "") or "")
        if getattr(record, "type", "") == "docutils" and "docstring of" in location:
            self.hidden.append(f"{location}: {record.getMessage()}")
            return False
        return True


def _install_filter(app):
    if os.environ.get("FPSOLVE_DOCS_STRICT", "1") != "0":
        return
    flt = _DocstringMarkupFilter()
    app._fpsolve_docstring_filter = flt
    for handler in logging.getLogger(sphinx_logging.NAMESPACE).handlers:
        handler.filters.insert(0, flt)  # before -W turns the record into an error


def _report_hidden(app, exception):
    flt = getattr(app, "_fpsolve_docstring_filter", None)
    if flt is None:
        return
    for handler in logging.getLogger(sphinx_logging.NAMESPACE).handlers:
        if flt in handler.filters:
            handler.removeFilter(flt)
    if flt.hidden:
        logger.info("fpsolve_docs: %d docstring markup warning(s) not treated as errors "
                    "(FPSOLVE_DOCS_STRICT=0; unset it to see them).", len(set(flt.hidden)))


def setup(app):
    app.add_config_value("fpsolve_validation_report", "_build/validation", "env")
    app.add_directive("validation-results", ValidationResults)
    app.setup_extension("sphinx.ext.autodoc")  # provides the event below
    app.connect("autodoc-process-docstring", _process_docstring)
    app.connect("builder-inited", _install_filter)
    app.connect("build-finished", _report_hidden)
    app.setup_extension("fpsolve_reference")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
