"""Sphinx helpers for fpsolve's API reference.

Public names
    Objects are documented under the names users import (``fpsolve.FokkerPlanck``,
    ``fpsolve.escape.committor``), but docstrings and type annotations often name them by the
    module that defines them (``fpsolve.models.fokker_planck.FokkerPlanck``), by a name
    relative to that module (``Objective``), or by another public alias. A reference that
    Sphinx cannot resolve is looked up here: the name is imported (relative to the referring
    page's object and module when it is not absolute) and, when it is one of the documented
    objects, linked to the page that documents it. Anything else stays unresolved, so that
    ``sphinx-build -n -W`` reports it.

``.. fpsolve-class-summary::``
    Inside an ``autoclass`` directive: tables of the class's public methods, properties and
    attributes (see ``fpsolve_api.class_members``), each linked to its entry below and with the
    first sentence of its docstring.

``.. fpsolve-command-help:: [COMMAND]``
    The ``--help`` text of ``fpsolve COMMAND`` (of ``fpsolve`` without an argument) as a
    literal block, taken from the parser at build time, so the page cannot drift from the
    program.

Data values
    ``autodata`` entries show their value only when it is short and names no file (a dict of
    functions or a path on the build machine is not shown); the value is appended to the
    docstring instead of the signature line.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import os
import re

from docutils import nodes
from sphinx.util import logging as sphinx_logging
from sphinx.util.docutils import SphinxDirective

import fpsolve_api

logger = sphinx_logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------
# public names
# ---------------------------------------------------------------------------------------------
def _key(obj):
    """A hashable identity of a documented object; None for values that are not unique
    (small numbers, strings, booleans, None)."""
    obj = getattr(obj, "__func__", obj)
    obj = getattr(obj, "fget", obj) if isinstance(obj, property) else obj
    if obj is None or isinstance(obj, (str, int, float, bool, bytes)):
        return None
    return id(obj)


def _documented(env):
    """{identity: documented name} of every fpsolve object in the Python domain (shortest
    name wins), and the list of documented names; rebuilt when the domain grows."""
    domain = env.get_domain("py")
    names = sorted((n for n in domain.objects if n.startswith("fpsolve")),
                   key=lambda n: (n.count("."), len(n), n))
    cache = getattr(env, "_fpsolve_documented", None)
    if cache is not None and cache[0] == len(names):
        return cache[1], cache[2]
    index = {}
    for name in names:
        try:
            key = _key(fpsolve_api.resolve(name))
        except Exception:  # noqa: BLE001  (a documented name that no longer imports)
            continue
        if key is not None:
            index.setdefault(key, name)
    env._fpsolve_documented = (len(names), index, names)
    return index, names


def _page_object_module(docname):
    """The defining module (and class) of the object that an autosummary page documents."""
    base = docname.rsplit("/", 1)[-1]
    if not base.startswith("fpsolve."):
        return []
    try:
        obj = fpsolve_api.resolve(base)
    except Exception:  # noqa: BLE001
        return []
    owner = getattr(obj, "__module__", None)
    prefixes = [owner] if owner else []
    qual = getattr(obj, "__qualname__", "")
    if owner and "." in qual:
        prefixes.insert(0, f"{owner}.{qual.rsplit('.', 1)[0]}")
    if owner and inspect.isclass(obj):
        prefixes.insert(0, f"{owner}.{qual}")
    return prefixes


def _candidates(node, target):
    module, cls = node.get("py:module"), node.get("py:class")
    out = [target]
    if module and cls:
        out.append(f"{module}.{cls}.{target}")
    while module:  # the module, then its parent packages
        out.append(f"{module}.{target}")
        module = module.rpartition(".")[0]
    out += [f"{p}.{target}" for p in _page_object_module(node.get("refdoc", ""))]
    return out


def resolve_public_name(app, env, node, contnode):
    """``missing-reference`` handler: link a reference to the public name its object is
    documented under (see the module docstring)."""
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    if not target or target.startswith(("numpy", "scipy", "matplotlib", "torch", "typing")):
        return None
    index, names = _documented(env)
    name = None
    for candidate in _candidates(node, target.lstrip("~.")):
        if not candidate.startswith("fpsolve") or candidate.count(".") > 8:
            continue
        try:
            obj = fpsolve_api.resolve(candidate)
        except Exception:  # noqa: BLE001  (not importable: try the next form)
            continue
        name = index.get(_key(obj))
        if name is None and candidate in names:
            name = candidate
        if name:
            break
    if name is None and not target.startswith("fpsolve"):
        # a name relative to a module other than the referring one: a unique suffix
        matches = [n for n in names if n.endswith("." + target.lstrip("~."))]
        if len(matches) == 1:
            name = matches[0]
    if name is None:
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node["refdoc"], app.builder, "obj", name, node, contnode)


# ---------------------------------------------------------------------------------------------
# class summaries
# ---------------------------------------------------------------------------------------------
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|cf|eq|eqs|Eq|Eqs|Thm|Fig|Prop|Sec|vs|al|resp|"
                           r"approx|Lemma|No)|§\s?\d+)\.$")


def first_sentence(doc: str | None) -> str:
    """The first sentence of a docstring's first paragraph, as plain text: up to the first
    full stop that ends no abbreviation ("e.g.", "eq.", "et al.") and closes every
    parenthesis opened before it."""
    if not doc:
        return ""
    para = inspect.cleandoc(doc).split("\n\n", 1)[0].replace("\n", " ").strip()
    text = para
    for m in _SENTENCE_END.finditer(para):
        head = para[:m.end()]
        if _ABBREVIATION.search(head) or head.count("(") > head.count(")"):
            continue
        text = head
        break
    return re.sub(r":\w+:`~?([^`]+)`", r"\1", text).replace("``", "")


def attribute_comment(cls, name):
    """The ``#:`` comment of a class attribute, from the class that defines it."""
    from sphinx.pycode import ModuleAnalyzer

    for klass in cls.__mro__:
        if name in vars(klass) or name in getattr(klass, "__annotations__", {}):
            try:
                docs = ModuleAnalyzer.for_module(klass.__module__).find_attr_docs()
            except Exception:  # noqa: BLE001  (no source)
                return ""
            lines = docs.get((klass.__qualname__, name), [])
            return first_sentence("\n".join(line for line in lines if line is not None))
    return ""


def _member_kind(cls, name):
    for klass in cls.__mro__:
        if name in vars(klass):
            raw = vars(klass)[name]
            if isinstance(raw, property) or inspect.isdatadescriptor(raw):
                return "property", raw
            if isinstance(raw, (classmethod, staticmethod)) or inspect.isfunction(raw):
                return "method", getattr(cls, name)
            return "attribute", raw
    return "attribute", None


class ClassSummary(SphinxDirective):
    """``.. fpsolve-class-summary::`` (see the module docstring)."""

    def run(self):
        module = self.env.ref_context.get("py:module")
        cls_name = self.env.ref_context.get("py:class")
        if not (module and cls_name):
            logger.warning("fpsolve-class-summary outside a class", location=self.get_location())
            return []
        full = f"{module}.{cls_name}"
        cls = fpsolve_api.resolve(full)
        groups = {"method": [], "property": [], "attribute": []}
        for name in fpsolve_api.class_members(cls):
            kind, obj = _member_kind(cls, name)
            doc = getattr(obj, "__doc__", None) if kind != "attribute" else None
            if kind == "property" and obj is not None and obj.__doc__ is None:
                doc = getattr(getattr(obj, "fget", None), "__doc__", None)
            summary = first_sentence(doc) if kind != "attribute" else attribute_comment(cls, name)
            groups[kind].append((name, summary))
        out = []
        titles = {"attribute": "Attributes", "property": "Properties", "method": "Methods"}
        roles = {"attribute": "attr", "property": "attr", "method": "meth"}
        for kind in ("attribute", "property", "method"):
            if not groups[kind]:
                continue
            out.append(nodes.rubric(text=titles[kind]))
            table = nodes.table(classes=["autosummary", "longtable", "fpsolve-members"])
            group = nodes.tgroup(cols=2)
            table += group
            group += nodes.colspec(colwidth=30)
            group += nodes.colspec(colwidth=70)
            body = nodes.tbody()
            group += body
            for name, summary in groups[kind]:
                row = nodes.row()
                ref, msgs = self.state.inline_text(
                    f":py:{roles[kind]}:`~{full}.{name}`", self.lineno)
                row += nodes.entry("", nodes.paragraph("", "", *ref), *msgs)
                row += nodes.entry("", nodes.paragraph("", summary))
                body += row
            out.append(table)
        return out


# ---------------------------------------------------------------------------------------------
# the command line's help
# ---------------------------------------------------------------------------------------------
class CommandHelp(SphinxDirective):
    """``.. fpsolve-command-help:: [COMMAND]`` (see the module docstring)."""

    optional_arguments = 1

    def run(self):
        from fpsolve import cli

        argv = [self.arguments[0], "--help"] if self.arguments else ["--help"]
        buffer = io.StringIO()
        old = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "92"
        try:
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
                status = cli.main(argv)
        finally:
            if old is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = old
        text = buffer.getvalue().rstrip()
        if status != 0 or not text:
            logger.warning("fpsolve %s exited with %s and printed %r", " ".join(argv), status,
                           text[:200], location=self.get_location())
        block = nodes.literal_block(text, text, classes=["fpsolve-help"])
        block["language"] = "text"
        return [block]


# ---------------------------------------------------------------------------------------------
# data values
# ---------------------------------------------------------------------------------------------
MAX_VALUE_LENGTH = 72
_PATHLIKE = re.compile(r"(^|[\s'\"(])(/[\w.-]+){2,}|[A-Za-z]:\\|<module | at 0x[0-9a-f]+")


def defining_comment(name, obj):
    """The ``#:`` comment of a constant in the module that defines it, when it is documented
    under a module that re-exports it (``fpsolve.validation.VERDICTS`` is defined, and
    commented, in ``fpsolve.validation.framework``)."""
    import sys

    from sphinx.pycode import ModuleAnalyzer

    package, _, attr = name.rpartition(".")
    root = package.split(".")[0] + "."
    for modname, module in sorted(sys.modules.items()):
        if modname == package or not modname.startswith(root) or module is None:
            continue
        if getattr(module, attr, None) is not obj:
            continue
        try:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except Exception:  # noqa: BLE001  (no source: nothing to show)
            continue
        if ("", attr) in docs:
            return [line for line in docs[("", attr)] if line is not None]
    return []


def show_value(app, what, name, obj, options, lines):
    """Append ``Value: repr`` to a data entry's docstring when the repr is short and names no
    path (the entries themselves are rendered with ``:no-value:``)."""
    if what != "data":
        return
    own = type(obj).__doc__
    if own and lines and "\n".join(lines).strip() == inspect.cleandoc(own).strip():
        lines[:] = []  # no doc comment: autodoc fell back to the docstring of the value's type
    if not "".join(lines).strip():
        lines[:] = defining_comment(name, obj)
    try:
        text = repr(obj)
    except Exception:  # noqa: BLE001
        return
    if len(text) <= MAX_VALUE_LENGTH and not _PATHLIKE.search(text):
        lines += ["", f"Value: ``{text}``"]


# ---------------------------------------------------------------------------------------------
# inherited members: those of fpsolve's own base classes only
# ---------------------------------------------------------------------------------------------
def skip_foreign_members(app, what, name, obj, skip, options):
    """Class pages list inherited members (``:inherited-members:``) so that, e.g., every noise
    model shows ``sigma1``; members that come from Python or a third-party base class
    (``tuple.count``, ``Exception.args``) are skipped."""
    if what not in ("class", "exception") or skip:
        return None
    owner = getattr(obj, "__objclass__", None)
    if owner is not None and not (owner.__module__ or "").startswith("fpsolve"):
        return True
    func = getattr(obj, "__func__", obj)
    func = getattr(func, "fget", func)
    if inspect.isbuiltin(func) or inspect.ismethoddescriptor(func) and owner is None:
        return True
    if inspect.isfunction(func) and not (func.__module__ or "").startswith("fpsolve"):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", skip_foreign_members)
    app.connect("missing-reference", resolve_public_name, priority=900)
    app.connect("autodoc-process-docstring", show_value, priority=600)
    app.add_directive("fpsolve-class-summary", ClassSummary)
    app.add_directive("fpsolve-command-help", CommandHelp)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
