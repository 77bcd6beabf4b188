"""The installed package: what it is made of, where it writes, and that it imports from anywhere.

These run in subprocesses with the interpreter of the test run, so in CI they see the editable
install that the README's test command makes (the set-up a newcomer has).
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]

# A small problem that compiles kernels of each cached family (flux, generator, escape).
SOLVE = ("import fpsolve as fp; g = fp.Grid([(-2, 2)], 64); "
         "m = fp.FokkerPlanck(g, potential=lambda x: (x**2 - 1)**2 / 4, diffusion=0.2); "
         "p = m.stationary(); t = m.mean_first_passage_time(lambda x: x >= 1).at(-1.0); "
         "print(fp.__file__, float(p.mass), float(t))")


def _run(code, cwd, **env):
    full = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env}
    full.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=full, check=True,
                          capture_output=True, text=True).stdout


def test_validation_suite_is_installed_as_fpsolve_validation():
    # fpsolve/validation is a link to the top-level validation/ folder (see setup.cfg)
    assert (ROOT / "fpsolve" / "validation").resolve() == (ROOT / "validation").resolve()
    found = set(find_packages(str(ROOT), include=["fpsolve", "fpsolve.*"]))
    assert {"fpsolve", "fpsolve.validation", "fpsolve.escape", "fpsolve.numerics"} <= found
    on_disk = {".".join(d.relative_to(ROOT).parts) for d in (ROOT / "fpsolve").rglob("*")
               if d.is_dir() and (d / "__init__.py").exists()}
    assert on_disk <= found


def test_core_imports_without_torch(tmp_path):
    code = ("import sys; sys.modules['torch'] = None; import fpsolve; "
            "fpsolve.FokkerPlanck(fpsolve.Grid([(0, 1)], 8), diffusion=1.0)")
    _run(code, cwd=tmp_path)


def test_imports_from_the_parent_of_a_clone_named_fpsolve(tmp_path):
    # `python -c` puts the working directory first on sys.path; a folder named fpsolve there
    # (a clone, seen from its parent) must not shadow the installed package as an empty
    # namespace package.
    (tmp_path / "fpsolve").symlink_to(ROOT, target_is_directory=True)
    out = _run("import fpsolve, fpsolve.validation; print(fpsolve.__file__, fpsolve.__version__)",
               cwd=tmp_path)
    file, version = out.split()
    assert Path(file).name == "__init__.py" and version == _version()


def test_imports_from_an_unrelated_directory(tmp_path):
    out = _run("import fpsolve; print(fpsolve.__version__)", cwd=tmp_path)
    assert out.strip() == _version()


def _version():
    text = (ROOT / "fpsolve" / "__init__.py").read_text()
    return text.split('__version__ = "')[1].split('"')[0]


@pytest.mark.parametrize("cache", ["dir", "off"])
def test_never_writes_into_its_own_folder(tmp_path, cache):
    """A copy of the package, run as an install would be: its folder is left exactly as it was
    (so a read-only install works and an uninstall leaves nothing behind), and with a cache
    folder the compiled kernels land there."""
    pkg = tmp_path / "site" / "fpsolve"
    shutil.copytree(ROOT / "fpsolve", pkg, symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    before = sorted(p.relative_to(pkg) for p in pkg.rglob("*"))
    cache_dir = tmp_path / "cache"
    env = {"FPSOLVE_CACHE_DIR": str(cache_dir) if cache == "dir" else "off"}
    code = f"import sys; sys.path.insert(0, {str(pkg.parent)!r}); " + SOLVE
    out = _run(code, cwd=tmp_path, **env)
    assert out.split()[0] == str(pkg / "__init__.py")
    assert sorted(p.relative_to(pkg) for p in pkg.rglob("*")) == before
    kernels = list(cache_dir.rglob("*.nbi"))
    if cache == "dir":
        assert kernels and all(k.is_relative_to(cache_dir) for k in kernels)
        # a second process loads them instead of compiling (the index files are not rewritten)
        stamps = {k: k.stat().st_mtime_ns for k in kernels}
        assert _run(code, cwd=tmp_path, **env).split()[1:] == out.split()[1:]
        assert {k: k.stat().st_mtime_ns for k in kernels} == stamps
    else:
        assert not cache_dir.exists()
