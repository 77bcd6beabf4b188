"""Summary plots of a sweep table: a measured quantity against a parameter, with a theory line.

A ``[[plot]]`` entry of the sweep file (or ``[plot]`` for one) gives expressions over the table's
columns::

    [[plot]]
    x = "batch_size/lr"              # B/η
    y = "-log(escape_rate)"          # −log κ
    theory = "-log(mori_rate)"       # Mori et al. eq. (15), drawn as a dashed line
    group = "loss"                   # one series per value (default: the axes not in x)
    title = "Mori et al. eq. (15)"

Without entries a default is chosen: −log κ against B/η with Mori's line when ``mori_rate`` is
computed, against 1/D with Kramers' line for ``kramers_rate``; otherwise each quantity against
the first axis. Rows with errors, and spectral gaps below the round-off floor
(``gap_resolved`` False), are left out of the plots (they are in the table).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .. import expressions
from ..errors import InputError
from ..expressions import FUNCTIONS, names_in

def evaluate(expr: str, row: dict) -> float:
    """Value of a formula over a row's columns (NaN where a column is missing or not a number),
    in the expression language of :mod:`fpsolve.expressions`."""
    values = {}
    for name in names_in(expr) - set(FUNCTIONS):
        v = row.get(name)
        values[name] = float("nan") if v is None or isinstance(v, str) else float(v)
    return float(expressions.evaluate(expr, values, where=f"sweep plot {expr!r}"))


def default_plots(sweep) -> list:
    """The summary plots a sweep gets when its file names none: a quantity against its theory
    (Mori's eq. (15), Kramers' law) when both are computed, else each quantity against the first
    axis.
    """
    q = set(sweep.quantities)
    axes = list(sweep.axes)
    if "mori_rate" in q and {"escape_rate", "spectral_gap"} & q:
        y = "escape_rate" if "escape_rate" in q else "spectral_gap/2"
        return [{"x": "batch_size/lr", "y": f"-log({y})", "theory": "-log(mori_rate)",
                 "title": "escape rate vs Mori et al. eq. (15)", "name": "mori"}]
    if "kramers_rate" in q and {"escape_rate", "spectral_gap"} & q:
        y = "escape_rate" if "escape_rate" in q else "spectral_gap/2"
        x = "1/noise_D" if "noise_D" in axes else (axes[0] if axes else "lr")
        return [{"x": x, "y": f"-log({y})", "theory": "-log(kramers_rate)",
                 "title": "escape rate vs Kramers", "name": "kramers"}]
    numeric_axes = [a for a in axes if all(isinstance(v, (int, float)) for v in sweep.axes[a])]
    if not numeric_axes:
        return []
    x = numeric_axes[0]
    out = []
    for qn in sweep.quantities:
        if qn in ("spectral_gap", "escape_rate", "mean", "var"):
            out.append({"x": x, "y": qn, "name": qn, "logy": qn in ("spectral_gap",
                                                                      "escape_rate")})
    return out


def _label(row, column):
    """A named loss is labelled by its name, not its formula."""
    if column == "loss" and row.get("loss_name"):
        return row["loss_name"]
    return row.get(column)


def summary_plots(sweep, rows, folder) -> list:
    """Write one PNG per plot entry into ``folder``; returns their paths."""
    from matplotlib.figure import Figure

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # errors, and spectral gaps below the round-off floor, stay in the table but not the plot
    ok = [r for r in rows if r.get("status") == "ok" and r.get("gap_resolved", True) is not False]
    specs = sweep.plots or default_plots(sweep)
    paths = []
    for i, spec in enumerate(specs):
        if "x" not in spec or "y" not in spec:
            raise InputError(f"sweep plot {i}: needs x and y expressions; got {spec}.")
        used = names_in(spec["x"])
        group = spec.get("group")
        groups = [group] if isinstance(group, str) else list(group) if group else \
            [a for a in sweep.axes if a not in used]
        fig = Figure(figsize=(5.5, 4.0), layout="constrained")
        ax = fig.subplots()
        series = {}
        for r in ok:
            label = ", ".join(f"{g}={_label(r, g)}" for g in groups) or None
            series.setdefault(label, []).append(r)
        for k, (label, rs) in enumerate(series.items()):
            x = np.array([evaluate(spec["x"], r) for r in rs])
            y = np.array([evaluate(spec["y"], r) for r in rs])
            order = np.argsort(x)
            color = f"C{k % 10}"
            ax.plot(x[order], y[order], "o", color=color, label=label or spec["y"])
            if spec.get("theory"):
                th = np.array([evaluate(spec["theory"], r) for r in rs])
                ax.plot(x[order], th[order], "--", color=color,
                        label=None if label else spec["theory"])
        if spec.get("logy"):
            ax.set_yscale("log")
        ax.set_xlabel(spec["x"])
        ax.set_ylabel(spec["y"])
        ax.set_title(spec.get("title", sweep.name), fontsize=10)
        if spec.get("theory"):
            ax.plot([], [], "k--", label=f"theory: {spec['theory']}")
        if series:
            ax.legend(fontsize=7)
        name = spec.get("name") or re.sub(r"[^A-Za-z0-9_]+", "_", f"{spec['y']}_vs_{spec['x']}")
        path = folder / f"{name.strip('_') or f'plot{i}'}.png"
        fig.savefig(path, dpi=110)
        paths.append(path)
    return paths
