"""Parameter sweeps of SGD Fokker–Planck problems on Dask (``fpsolve sweep SWEEP.toml``).

A sweep is a base problem (grid, loss, noise model: :func:`fpsolve.sgd.model`) and lists of
values for some of its parameters; every combination is one *point*, computed on a Dask worker,
stored as one row the moment it finishes, and collected into one table (Parquet, or CSV without
pyarrow) with summary plots. Points are keyed by a hash of their resolved problem, so a re-run
skips what is done (resume after an interruption) and a failing point is a row with its error,
never the end of the sweep.

- :mod:`.spec` — the TOML format, axes, point keys, safe formula compilation.
- :mod:`.quantities` — what one point computes (runs on the workers).
- :mod:`.store` — per-point rows on disk and the table.
- :mod:`.engine` — the Dask run loop (:func:`run`).
- :mod:`.plots` — summary plots with theory lines (Mori et al. eq. (15), Kramers).

Needs ``pip install "fpsolve[sweep]"`` (dask[distributed]; pyarrow for Parquet).
"""
from .engine import SweepResult, run
from .quantities import QUANTITY_DOCS, evaluate_point
from .spec import QUANTITIES, Point, Sweep, load
from .store import read_table

__all__ = ["run", "load", "Sweep", "Point", "SweepResult", "evaluate_point", "read_table",
           "QUANTITIES", "QUANTITY_DOCS"]
