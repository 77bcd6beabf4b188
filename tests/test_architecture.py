"""The layering of the package, checked from the source: data flows one way.

user input → coefficients → discretisation → solvers → results → reports. Every module of
``fpsolve`` belongs to one layer (:data:`LAYERS`, lowest first); a module may import only from
its own layer or below. No two modules import each other (directly or through a cycle), and no
function-level import of fpsolve code dodges the rule — except to defer an optional dependency
(a module that needs torch, FiPy or Dask is imported where it is used, so that the core installs
and imports without them).

A new module goes into the layer of what it does; docs/guide/architecture.rst shows the picture.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "fpsolve"

#: Layers, lowest first: a module may import its own layer and the layers before it.
LAYERS = [
    # foundations: no fpsolve imports beyond these
    {"errors", "conventions", "jit", "jsonable", "progress", "expressions", "theory"},
    {"geometry"},
    {"fields"},
    {"coefficients"},                                  # user input, evaluated and checked once
    {"numerics"},                                      # discretisation and solvers
    {"escape", "analysis", "landscape"},               # questions answered from the rates
    {"models", "noise"},                               # the user's model: a facade over them
    {"sgd", "particles", "compare", "backends", "kinetic", "large_deviations"},
    {"nets"},
    {"problems", "sweeps", "validation"},              # files, sweeps, the validation suite
    {"cli", "solve_toml", "sweep", "__init__"},        # entry points and deprecated aliases
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}
OPTIONAL = {"torch", "fipy", "dask", "distributed", "sklearn", "pyarrow", "pypardiso"}


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "validation":   # the link to the top-level validation/ folder
            path = ROOT.parent / "validation" / Path(*rel.parts[1:])
        name = ".".join(("fpsolve",) + rel.with_suffix("").parts).removesuffix(".__init__")
        yield name, path


def _group(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(name, path):
    """(target module, line, at module level?) for every fpsolve import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    top = {id(n) for n in tree.body} | {id(n) for s in tree.body if isinstance(s, ast.If)
                                        for n in s.body + s.orelse}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            if t == "fpsolve" or t.startswith("fpsolve."):
                yield t, node.lineno, id(node) in top


def _optional(module: str) -> bool:
    """Whether a module imports an optional third-party package at module level."""
    for name, path in _modules():
        if name == module or module.startswith(name + ".") and path.name == "__init__.py":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            body = [n for top in tree.body for n in ([top] + top.body if isinstance(top, ast.Try)
                                                     else [top])]
            for node in body:
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                         else [])
                if any(n.split(".")[0] in OPTIONAL for n in names):
                    return True
    return False


def test_every_module_has_a_layer():
    groups = {_group(name) for name, _ in _modules()}
    assert groups <= set(RANK), f"put these in a layer of LAYERS: {sorted(groups - set(RANK))}"


def test_imports_point_down():
    bad = []
    for name, path in _modules():
        for target, line, _ in _imports(name, path):
            src, dst = _group(name), _group(target)
            if dst in RANK and src in RANK and RANK[dst] > RANK[src]:
                bad.append(f"{name}:{line} imports {target} ({src} → {dst} points up)")
    assert not bad, "\n".join(bad)


def test_function_level_imports_only_defer_optional_dependencies():
    bad = []
    for name, path in _modules():
        if _group(name) in {"cli", "__init__", "validation"}:
            continue  # entry points load subcommands lazily; the suite loads its groups
        for target, line, at_top in _imports(name, path):
            if not at_top and not _optional(target):
                bad.append(f"{name}:{line} imports {target} inside a function")
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph = {}
    for name, path in _modules():
        graph[name] = {t for t, _, top in _imports(name, path) if top}
    names = set(graph)

    def resolve(t):  # "fpsolve.x.y.Name" → the module it comes from
        while t and t not in names:
            t = t.rsplit(".", 1)[0] if "." in t else ""
        return t

    graph = {k: {resolve(t) for t in v} - {"", k} for k, v in graph.items()}
    # a package's __init__ re-exports its modules: edges into a package's own modules are fine
    graph = {k: {t for t in v if not (k.endswith(t.rsplit(".", 1)[0]) and t.startswith(k + "."))}
             for k, v in graph.items()}
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif not state.get(nxt):
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for n in sorted(graph):
        if not state.get(n):
            visit(n, [])
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("pattern", ["THEORY", "../shared", "shared/seeds"])
def test_nothing_cites_a_file_outside_the_repository(pattern):
    roots = [ROOT, ROOT.parent / "validation", ROOT.parent / "docs", ROOT.parent / "README.md"]
    hits = []
    for r in roots:
        files = [r] if r.is_file() else [p for p in r.rglob("*") if p.suffix in (".py", ".rst",
                                                                                 ".md", ".txt")]
        for f in files:
            if "_build" in f.parts:
                continue
            for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
                if pattern in line:
                    hits.append(f"{f.relative_to(ROOT.parent)}:{i}: {line.strip()[:80]}")
    assert not hits, "\n".join(hits)
