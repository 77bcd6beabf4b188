"""Versions of fpsolve and its dependencies, for reports and ``fpsolve info``."""
from __future__ import annotations

import importlib.metadata
import os
import platform
import sys

CORE = ("numpy", "scipy", "numba", "matplotlib")
OPTIONAL = ("pyamg", "fipy")


def _version(name: str):
    """Installed version from the package metadata (no import: fast, no side effects)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


_LAYERS = (("tbb", "numba.np.ufunc.tbbpool"), ("omp", "numba.np.ufunc.omppool"),
           ("workqueue", "numba.np.ufunc.workqueue"))


def numba_threading() -> dict:
    """Numba's threading layer: configured, available, and active (or the one it would pick).

    No parallel kernel is run (that would start a thread pool, and forking a process whose
    GNU OpenMP pool is running is unsafe); the layers are probed by importing their modules.
    """
    import numba

    configured = numba.config.THREADING_LAYER
    available = []
    for name, module in _LAYERS:
        try:
            importlib.import_module(module)
            available.append(name)
        except Exception:  # that backend is not installed
            pass
    out = {"configured": configured, "available": available,
           "threads": numba.config.NUMBA_NUM_THREADS}
    try:
        out["active"] = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet: say which layer would be chosen
        wanted = {"default": ["tbb", "omp", "workqueue"], "safe": ["tbb"],
                  "threadsafe": ["tbb", "omp"], "forksafe": ["tbb", "omp", "workqueue"]}
        order = wanted.get(configured, [configured])
        pick = next((n for n in order if n in available), None)
        out["active"] = f"{pick} (not started yet)" if pick else "none available"
    return out


def torch_info() -> dict | None:
    """torch's version and the device it would use (cuda if available); None if absent."""
    try:
        import torch
    except Exception:
        return None
    info = {"version": torch.__version__, "device": "cpu"}
    try:
        if torch.cuda.is_available():
            info["device"] = f"cuda ({torch.cuda.get_device_name(0)})"
            info["cuda"] = torch.version.cuda
    except Exception as exc:
        info["device"] = f"cpu (cuda query failed: {type(exc).__name__})"
    return info


def versions(optional: bool = True, threading: bool = False, torch: bool = False) -> dict:
    """A dict of versions: python, platform, fpsolve, the run-time dependencies, and optionally
    pyamg/fipy, numba's threading layer and torch (slow to import: off by default)."""
    import fpsolve

    out = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "fpsolve": fpsolve.__version__,
    }
    for name in CORE + (OPTIONAL if optional else ()):
        out[name] = _version(name)
    if threading:
        out["numba_threading"] = numba_threading()
    if torch:
        out["torch"] = torch_info()
    return out
