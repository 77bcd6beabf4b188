"""One JSON encoding for everything fpsolve writes: summaries of ``fpsolve solve``, validation
reports, sweep rows and keys, the metadata of saved fields.

:func:`jsonable` turns a result into plain JSON types: numpy scalars and arrays into Python
numbers and lists, tuples into lists, paths into strings, complex numbers into
``{"re": …, "im": …}``, non-finite floats into the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (strict JSON has no such numbers), and anything else (paths, …) into its text.
:func:`dumps` writes that as text.
"""
from __future__ import annotations

import json
import math
import numpy as np

__all__ = ["jsonable", "dumps"]


def jsonable(obj):
    """``obj`` with every container and number converted to plain JSON types (see above)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, complex):
        return {"re": jsonable(obj.real), "im": jsonable(obj.imag)}
    return str(obj)  # paths and anything else: their text


def dumps(obj, **kwargs) -> str:
    """``json.dumps(jsonable(obj))``, strict (no NaN literals) and UTF-8 friendly."""
    kwargs.setdefault("ensure_ascii", False)
    return json.dumps(jsonable(obj), allow_nan=False, **kwargs)
