"""fpsolve's public API, as the reference documents it: which modules, objects and members.

Used by the Sphinx extension (to resolve references written with a module path to the public
name an object is documented under) and by ``tests/test_docs.py`` (to check that the reference
lists every public object and member).

Public, by the package's own declarations:

- a module is public unless a part of its dotted name starts with ``_`` or it is listed in
  :data:`INTERNAL_MODULES`;
- a module's public objects are its ``__all__`` when it has one, otherwise the functions and
  classes defined in it whose names do not start with ``_``;
- a class's public members are the attributes, methods, properties and (dataclass or
  named-tuple) fields that it or one of its fpsolve base classes defines, except names starting
  with ``_``.

An object may be reachable under several names (``fpsolve.Grid``, ``fpsolve.geometry.Grid``,
``fpsolve.geometry.grid.Grid``); it counts as documented when one of them is.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import types

#: Modules left out of the reference: Numba kernels and helpers behind documented entry points,
#: re-exporting packages documented through their parent, deprecated aliases, and the
#: validation suite's case modules (one per paper; the theory pages show their cases).
INTERNAL_MODULES = {
    "fpsolve.numerics.anisotropic_kernels", "fpsolve.particles.routes",
    "fpsolve.particles.domain", "fpsolve.particles.initial", "fpsolve.particles.kernels",
    "fpsolve.particles.progress", "fpsolve.particles.rng", "fpsolve.particles.stepping",
    # deprecated aliases (see the changelog)
    "fpsolve.solve_toml", "fpsolve.sweep", "fpsolve.models.conventions",
    "fpsolve.models.schedules", "fpsolve.models.coefficients", "fpsolve.nets.noise",
    "fpsolve.validation.backends_fipy", "fpsolve.validation.chaudhari_soatto",
    "fpsolve.validation.core", "fpsolve.validation.dai_zhu", "fpsolve.validation.hu_li",
    "fpsolve.validation.mori", "fpsolve.validation.networks", "fpsolve.validation.xie",
    "fpsolve.validation.kinetic", "fpsolve.validation.large_deviations",
    "fpsolve.large_deviations.olim.kernels",
}


def public_modules(package: str = "fpsolve") -> list[str]:
    """Dotted names of fpsolve's public modules (the package itself first)."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        if any(info.name == m or info.name.startswith(m + ".") for m in INTERNAL_MODULES):
            continue
        names.append(info.name)
    return names


def module_members(module_name: str) -> dict[str, object]:
    """{name: object} of a module's public objects (modules it re-exports are left out)."""
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        names = [n for n in module.__all__ if not n.startswith("_")]
    else:
        names = [n for n, obj in vars(module).items()
                 if not n.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
                 and getattr(obj, "__module__", None) == module_name]
    out = {}
    for name in names:
        try:
            obj = getattr(module, name)
        except AttributeError:  # a lazily imported submodule named in __all__
            obj = importlib.import_module(f"{module_name}.{name}")
        if not isinstance(obj, types.ModuleType):
            out[name] = obj
    return out


def _own_classes(cls):
    return [k for k in cls.__mro__ if (k.__module__ or "").startswith("fpsolve")]


def class_members(cls) -> list[str]:
    """Names of a class's public members (see the module docstring), in definition order."""
    names: list[str] = []
    for klass in reversed(_own_classes(cls)):
        candidates = list(vars(klass))
        if dataclasses.is_dataclass(klass):
            candidates += [f.name for f in dataclasses.fields(klass)]
        candidates += list(getattr(klass, "_fields", ()))  # named tuples
        candidates += list(getattr(klass, "__annotations__", {}))
        for name in candidates:
            if not name.startswith("_") and name not in names:
                names.append(name)
    return names


def public_api(package: str = "fpsolve") -> dict[str, object]:
    """{dotted name: object} of every public object, under the name of the module that
    exports it (one entry per module and name: aliases appear more than once)."""
    api = {}
    for module_name in public_modules(package):
        for name, obj in module_members(module_name).items():
            api[f"{module_name}.{name}"] = obj
    return api


def resolve(dotted: str):
    """The object a dotted name refers to, attributes before submodules (``fpsolve.escape.basins``
    is the function the package exports, not the module that defines it); modules are imported
    as needed. Raises ImportError or AttributeError when there is none."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, attr in enumerate(parts[1:], start=2):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            if not isinstance(obj, types.ModuleType):
                raise
            obj = importlib.import_module(".".join(parts[:i]))
    return obj
