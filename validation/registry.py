"""The registry of validation cases: one module per paper, one decorated function per case.

:data:`PAPERS` names the modules of this package that hold cases, in report order. A module is
listed only once it has real cases. :func:`load` imports them, which runs their ``@case``
decorators and fills :data:`REGISTRY`.
"""
from __future__ import annotations

import fnmatch
import importlib
import re
from dataclasses import dataclass
from typing import Callable

#: Paper modules of fpsolve.validation, in report order. Add yours here once it has cases.
PAPERS = ("core", "dai_zhu", "hu_li", "mori", "xie", "chaudhari_soatto", "networks",
          "large_deviations")

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class CaseSpec:
    """A registered case: ``func(ctx) -> Case``; ``quick`` says whether --quick runs it."""

    paper: str
    name: str
    func: Callable
    quick: bool = True
    title: str = ""
    requires: tuple = ()

    @property
    def key(self) -> str:
        return f"{self.paper}/{self.name}"

    def missing(self) -> list:
        """Optional packages this case needs that are not installed (e.g. ["torch"])."""
        import importlib.util
        import sys

        def absent(m):
            if m in sys.modules:
                return sys.modules[m] is None  # None: blocked on purpose (tests)
            return importlib.util.find_spec(m) is None

        return [m for m in self.requires if absent(m)]


class Registry:
    """An ordered collection of cases, keyed by ``paper/name``.

    The shipped suite uses the module-level :data:`REGISTRY`; tests build their own
    ``Registry()`` so that test-only cases never enter the shipped one.
    """

    def __init__(self):
        self._cases: dict[str, CaseSpec] = {}

    def case(self, paper: str, name: str | None = None, quick: bool = True, title: str = "",
             requires=()):
        """Decorator registering ``func(ctx) -> Case`` as case ``paper/name``.

        paper : the paper key (the module name: "core", "dai_zhu", "hu_li", "mori", "xie",
            "chaudhari_soatto").
        name : the case name (default: the function name); lower-case letters, digits, "_".
        quick : whether ``fpsolve validate --quick`` runs it (``--full`` runs every case).
        title : one line for listings (default: the first line of the docstring).
        requires : optional packages the case needs (e.g. ("torch",)); without them the case is
            not run, and the CLI says which were left out and why (not a FAIL: the core install
            has no torch).

        The function is returned unchanged (so that it stays picklable for ``--jobs``).
        """
        def register(func):
            case_name = name or func.__name__
            for what, value in (("paper", paper), ("name", case_name)):
                if not _NAME.match(value):
                    raise ValueError(f"case {value!r}: the {what} must be lower-case letters, "
                                     f"digits and underscores, starting with a letter.")
            doc = (func.__doc__ or "").strip().splitlines()
            spec = CaseSpec(paper, case_name, func, bool(quick), title or (doc[0] if doc else ""),
                            tuple(requires))
            old = self._cases.get(spec.key)
            if old is not None and (old.func.__module__, old.func.__qualname__) != \
                    (func.__module__, func.__qualname__):
                raise ValueError(f"case {spec.key} is registered twice ({old.func.__module__}."
                                 f"{old.func.__qualname__} and {func.__module__}."
                                 f"{func.__qualname__}); case names must be unique per paper.")
            self._cases[spec.key] = spec  # re-registration by a reloaded module replaces it
            func.case_spec = spec
            return func
        return register

    def __len__(self):
        return len(self._cases)

    def __iter__(self):
        return iter(self._cases.values())

    def __contains__(self, key):
        return key in self._cases

    def papers(self) -> list[str]:
        return list(dict.fromkeys(s.paper for s in self))

    def select(self, mode: str = "quick", only=None) -> list[CaseSpec]:
        """The cases to run, in registry order.

        mode : "quick" keeps the cases registered with ``quick=True``; "full" keeps all.
        only : patterns "PAPER" or "PAPER/CASE" (shell wildcards allowed, e.g. "core/ou_*").
            A pattern naming one case exactly selects it even if it is not a quick case. Raises
            ``KeyError`` listing the known names when a pattern matches nothing.
        """
        if mode not in ("quick", "full"):
            raise ValueError(f"mode must be 'quick' or 'full'; got {mode!r}.")
        specs = list(self)
        if not only:
            return [s for s in specs if s.quick or mode == "full"]
        chosen = {}
        for pattern in only:
            pattern = pattern.strip().strip("/")
            hits = [s for s in specs
                    if fnmatch.fnmatchcase(s.key, pattern) or fnmatch.fnmatchcase(s.paper, pattern)]
            if not hits:
                raise KeyError(f"--only {pattern!r} matches no case. Papers: "
                               f"{', '.join(self.papers()) or '(none)'}; cases: "
                               f"{', '.join(s.key for s in specs) or '(none)'}.")
            exact = pattern in self._cases
            for s in hits:
                if exact or s.quick or mode == "full":
                    chosen[s.key] = s
        return [s for s in specs if s.key in chosen]


#: The shipped suite.
REGISTRY = Registry()
#: ``@case(paper=..., name=..., quick=True)``: register a case in the shipped suite.
case = REGISTRY.case


def load(papers=PAPERS) -> Registry:
    """Import the paper modules (registering their cases) and return :data:`REGISTRY`."""
    for paper in papers:
        importlib.import_module(f"{__package__}.{paper}")
    return REGISTRY
