"""Figures for large deviations: paths over a landscape or density, quasi-potential contours,
the action along a path, and the reactive current over the reactive density (matplotlib,
imported when a figure is drawn). Every function takes an optional ``ax`` and returns it."""
from __future__ import annotations

import numpy as np

from .. import Field


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots()
    return ax


def _extent(grid):
    return [*grid.bounds[0], *grid.bounds[1]]


def plot_path(result, ax=None, background=None, log=False, label=None, color="w", **kwargs):
    """A path (first two coordinates) with its endpoints and saddle, optionally over a
    ``background`` Field or Density on a 2D grid (``log``: log10 of it)."""
    ax = _axes(ax)
    if background is not None:
        vals = background.values if isinstance(background, Field) else np.asarray(background)
        if log:
            with np.errstate(divide="ignore"):
                vals = np.log10(vals)
        im = ax.imshow(np.ma.masked_invalid(vals).T, origin="lower", aspect="auto",
                       extent=_extent(background.grid), cmap="viridis")
        ax.figure.colorbar(im, ax=ax, label=("log10 " if log else "") +
                           str(background.info.get("quantity", "value")))
    P = result.path
    ax.plot(P[:, 0], P[:, 1], "-", color=color, lw=1.6,
            label=label or getattr(result, "method", "path"), **kwargs)
    ax.plot(*P[0, :2], "o", color=color, ms=5)
    ax.plot(*P[-1, :2], "s", color=color, ms=5)
    if getattr(result, "saddle", None) is not None:
        ax.plot(*np.asarray(result.saddle)[:2], "x", color="r", ms=8, mew=2, label="saddle")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return ax


def plot_quasipotential(V: Field, ax=None, levels=15, paths=(), vmax=None, **kwargs):
    """Filled contours of a 2D quasi-potential Field (levels up to ``vmax``), with paths drawn
    over it (``paths``: results with a ``.path``)."""
    ax = _axes(ax)
    g = V.grid
    vals = np.where(np.isfinite(V.values), V.values, np.nan)
    top = np.nanmax(vals) if vmax is None else vmax
    lv = np.linspace(0.0, top, levels) if np.isscalar(levels) else levels
    cs = ax.contourf(g.axes[0], g.axes[1], vals.T, levels=lv, cmap="magma_r", extend="max",
                     **kwargs)
    ax.contour(g.axes[0], g.axes[1], vals.T, levels=lv, colors="k", linewidths=0.3)
    ax.figure.colorbar(cs, ax=ax, label="quasi-potential V")
    for k, r in enumerate(paths):
        plot_path(r, ax=ax, color=("c", "w", "lime", "orange")[k % 4])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return ax


def plot_action_along_path(result, ax=None, **kwargs):
    """Cumulative action (the quasi-potential along the path) against arclength; for a
    minimum-energy path, the energy U − U(start)."""
    ax = _axes(ax)
    s = result.arclength
    if hasattr(result, "cumulative"):
        ax.plot(s, result.cumulative, label=f"action ({result.method})", **kwargs)
        ax.set_ylabel("action accumulated from the start")
    else:
        ax.plot(s, result.energy - result.energy[0], label="U − U(start) (string)", **kwargs)
        ax.set_ylabel("energy")
    if getattr(result, "saddle_index", None) is not None:
        ax.axvline(s[result.saddle_index], color="r", lw=0.8, ls="--")
    ax.set_xlabel("arclength")
    ax.legend(fontsize=8)
    return ax


def plot_reactive_current(tpt, ax=None, density="reactive", stride=None, log=True, **kwargs):
    """Streamlines of the reactive current over the reactive density (``density="reactive"``)
    or the stationary density (``"stationary"``), with A and B outlined (2D grids)."""
    ax = _axes(ax)
    g = tpt.grid
    field = tpt.reactive_density if density == "reactive" else tpt.stationary
    vals = field.values
    if log:
        with np.errstate(divide="ignore"):
            vals = np.log10(np.where(vals > 0, vals, np.nan))
    im = ax.imshow(vals.T, origin="lower", aspect="auto", extent=_extent(g), cmap="Greys")
    ax.figure.colorbar(im, ax=ax, label=("log10 " if log else "") + f"{density} density")
    J = tpt.current
    speed = np.sqrt(J[0] ** 2 + J[1] ** 2)
    ax.streamplot(g.axes[0], g.axes[1], J[0].T, J[1].T, color=speed.T, cmap="plasma",
                  density=1.2, linewidth=0.8, **kwargs)
    for mask, c in ((tpt.A, "tab:blue"), (tpt.B, "tab:red")):
        ax.contour(g.axes[0], g.axes[1], mask.T.astype(float), levels=[0.5], colors=c)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(f"reactive current, k_AB = {tpt.rate:.3g}")
    return ax
