"""Numba compilation of fpsolve's kernels, with their cache kept outside the package.

``numba.njit(cache=True)`` writes its ``.nbi``/``.nbc`` files next to the source, in
``__pycache__``. For an installed package that is ``site-packages/fpsolve``: a read-only install
cannot cache (every process pays the cold compile, 10–20 s), and the files outlive
``pip uninstall``, so the left-over folder shadows a later editable install as an empty namespace
package. fpsolve's kernels therefore cache in a per-user folder, chosen once per process:

1. ``$FPSOLVE_CACHE_DIR`` if set (``""``, ``"0"``, ``"off"`` or ``"none"``: no caching);
2. ``$NUMBA_CACHE_DIR/fpsolve`` if ``NUMBA_CACHE_DIR`` is set (the user's choice for Numba);
3. the platform's per-user cache: ``$XDG_CACHE_HOME/fpsolve`` or ``~/.cache/fpsolve``,
   ``~/Library/Caches/fpsolve`` (macOS), ``%LOCALAPPDATA%\\fpsolve`` (Windows).

If that folder cannot be written, kernels are compiled without a cache (never into the package).

Inside it, each state of the package's source (the paths, sizes and modification times of its
``.py`` files) gets a subfolder of its own. Numba checks a cached kernel only against its own
source file, but fpsolve's kernels inline helpers from other modules (``particles/rng.py``,
``numerics/flux.py``): a per-source-state folder means an edit anywhere in the package recompiles
everything, never runs a stale kernel. The least recently used subfolders beyond
:data:`KEEP` are deleted; deleting the whole folder is always safe. :func:`cache_dir` tells which
folder is in use (``fpsolve info`` prints it).
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numba
from numba.core import config as _numba_config

__all__ = ["njit", "cache_dir", "KEEP"]

_OFF = {"", "0", "off", "none", "false"}

#: how many source states' kernel folders are kept (several installs, a developer's edits)
KEEP = 8


@functools.lru_cache(maxsize=None)
def cache_dir() -> Path | None:
    """The folder fpsolve's compiled kernels are cached in, or None if caching is off/unusable."""
    chosen = os.environ.get("FPSOLVE_CACHE_DIR")
    if chosen is not None:
        if chosen.strip().lower() in _OFF:
            return None
        path = Path(chosen).expanduser()
    elif os.environ.get("NUMBA_CACHE_DIR"):
        path = Path(os.environ["NUMBA_CACHE_DIR"]).expanduser() / "fpsolve"
    else:
        path = _user_cache_root() / "fpsolve"
    folder = path / f"kernels-{_source_state()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()  # writable? (the test Numba itself makes)
        os.utime(folder)                            # most recently used
    except OSError:
        return None
    _prune(path)
    return folder.resolve()


def _source_state() -> str:
    """A short hash of this package's source files (relative path, size, modification time)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha1(str(root).encode())
    for f in sorted(root.rglob("*.py")):
        st = f.stat()
        h.update(f"{f.relative_to(root)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


def _prune(path: Path) -> None:
    """Delete the least recently used kernel folders beyond KEEP (best effort).

    Only folders unused for an hour go, so that no running process loses its own."""
    try:
        folders = sorted(path.glob("kernels-*"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in folders[KEEP:]:
            if time.time() - old.stat().st_mtime > 3600:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass


def _user_cache_root() -> Path:
    if sys.platform.startswith("win"):
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


@contextlib.contextmanager
def _numba_cache_dir(path: Path):
    # Numba picks a function's cache folder when the function is decorated (its cache locator
    # reads config.CACHE_DIR then), so setting it around the decoration redirects this function
    # only; user code decorated elsewhere keeps Numba's own choice.
    saved = _numba_config.CACHE_DIR
    _numba_config.CACHE_DIR = str(path)
    try:
        yield
    finally:
        _numba_config.CACHE_DIR = saved


def njit(*args, cache: bool = False, **options):
    """``numba.njit`` with the cache in :func:`cache_dir` instead of the package's folder.

    Use exactly as ``numba.njit`` (``@njit``, ``@njit(cache=True, parallel=True)``,
    ``@njit("f8(f8)")``); only where ``cache=True`` puts its files differs. Kernels built inside
    factories (closures over user functions) stay uncached, as with Numba.
    """
    def decorate(func, signature=()):
        folder = cache_dir() if cache else None
        if folder is None:
            return numba.njit(*signature, **options)(func)
        with _numba_cache_dir(folder):
            return numba.njit(*signature, cache=True, **options)(func)

    if len(args) == 1 and callable(args[0]):
        return decorate(args[0])            # bare @njit
    return lambda func: decorate(func, args)  # @njit(...) or @njit(signature, ...)
