"""Results on disk: one JSON file per finished point (written as it completes), one table.

Layout of a sweep's output folder::

    OUT/points/<key>.json     one row per finished point (ok or error), written atomically
    OUT/results.parquet       every row of the current sweep (results.csv without pyarrow)
    OUT/sweep.json            the sweep's axes, quantities, counts and the table's name
    OUT/plots/*.png           summary plots

The per-point files are the source of truth: a sweep killed at any moment loses at most the
points that were running, and a re-run rebuilds the table from them. The table holds only the
rows whose keys belong to the current sweep, so a folder may be reused after editing the file.
"""
from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path

from ..jsonable import jsonable


class PointStore:
    """Finished rows of a sweep, one JSON file per point key under ``root/points``."""

    def __init__(self, root):
        self.root = Path(root)
        self.dir = self.root / "points"
        self.dir.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The JSON file of the point with this key."""
        return self.dir / f"{key}.json"

    def write(self, row: dict):
        """Store a row atomically (write a temporary file, then rename over the final name)."""
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(jsonable(_clean(row)), f)
            os.replace(tmp, self.path(row["key"]))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str):
        """The stored row of ``key`` or None (an unreadable file counts as not finished)."""
        try:
            with open(self.path(key)) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def finished(self, keys, retry_failed=False) -> dict:
        """key → row for the keys already done (errors count as done unless ``retry_failed``)."""
        out = {}
        for k in keys:
            row = self.read(k)
            if row is not None and (row.get("status") == "ok" or not retry_failed):
                out[k] = row
        return out


def _clean(row: dict) -> dict:
    """JSON-safe values: NaN/inf become None (JSON has no NaN)."""
    out = {}
    for k, v in row.items():
        if isinstance(v, float) and not math.isfinite(v):
            v = None
        out[k] = v
    return out


def columns(rows) -> list:
    """Column order: key and status first, parameters, quantities, then the bookkeeping."""
    first = ["key", "status"]
    last = ["error", "duration_s", "worker", "finished", "traceback"]
    seen = []
    for r in rows:
        for k in r:
            if k not in seen and k not in first and k not in last:
                seen.append(k)
    return first + seen + last


def write_table(rows, root, stem="results", fmt="auto") -> Path:
    """Write rows as ``root/stem.parquet`` (pyarrow) or ``root/stem.csv``; returns the path.

    fmt : "auto" (Parquet if pyarrow is importable), "parquet" or "csv". Columns with only
    numbers (and missing values) are float64 (int64 when every value is an integer); any other
    column is text.
    """
    root = Path(root)
    cols = columns(rows)
    data = {c: [r.get(c) for r in rows] for c in cols}
    if fmt == "auto":
        try:
            import pyarrow  # noqa: F401
            fmt = "parquet"
        except ImportError:
            fmt = "csv"
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrays = {c: pa.array(_typed(v)) for c, v in data.items()}
        path = root / f"{stem}.parquet"
        tmp = root / f".{stem}.parquet.tmp"
        pq.write_table(pa.table(arrays), tmp)
        os.replace(tmp, path)
        (root / f"{stem}.csv").unlink(missing_ok=True)  # never leave a stale second table
        return path
    if fmt != "csv":
        raise ValueError(f"table format {fmt!r} is unknown; use 'auto', 'parquet' or 'csv'.")
    path = root / f"{stem}.csv"
    tmp = root / f".{stem}.csv.tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
    os.replace(tmp, path)
    (root / f"{stem}.parquet").unlink(missing_ok=True)
    return path


def _typed(values):
    nums = [v for v in values if v is not None]
    if nums and all(isinstance(v, bool) for v in nums):
        return values
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in nums):
        if nums and all(isinstance(v, int) for v in nums):
            return values
        return [None if v is None else float(v) for v in values]
    return [None if v is None else (v if isinstance(v, str) else json.dumps(v)) for v in values]


def read_table(path) -> list:
    """Rows (list of dicts) of a table written by :func:`write_table` (Parquet or CSV).

    CSV values come back as numbers where they parse as numbers, else text; empty is None."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    with open(path, newline="") as f:
        return [{k: _parse(v) for k, v in r.items()} for r in csv.DictReader(f)]


def _parse(v):
    if v == "":
        return None
    for t in (int, float):
        try:
            return t(v)
        except ValueError:
            pass
    return v
