"""The figures ``fpsolve solve`` writes next to its results (matplotlib, no display needed)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def field(f, path: Path, title: str):
    """A density or any other field on its grid (a line in 1D, an image in 2D/3D)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    f.plot(ax=ax)
    ax.set_title(title)
    fig.savefig(path, dpi=110)


def evolution(run, grid, path: Path, title: str):
    """Densities at the output times: overlaid lines in 1D, up to four panels in 2D/3D."""
    from matplotlib.figure import Figure

    if grid.ndim == 1:
        fig = Figure(figsize=(6, 4), layout="constrained")
        ax = fig.subplots()
        for t, d in zip(run.times, run.densities):
            ax.plot(grid.axes[0], d.values, label=f"t = {t:g}")
        ax.set(xlabel="x", ylabel="density", title=f"{title}: evolution")
        ax.legend(fontsize=8)
    else:
        show = list(range(len(run.times)))
        if len(show) > 4:
            show = [int(round(i)) for i in np.linspace(0, len(show) - 1, 4)]
        fig = Figure(figsize=(4 * len(show), 3.4), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(show)))
        for ax, i in zip(axes, show):
            run.densities[i].plot(ax=ax)
            ax.set_title(f"t = {run.times[i]:g}")
    fig.savefig(path, dpi=110)


def spectrum(lam, path: Path, title: str):
    """Real parts of the eigenvalues of −L against their index."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(len(lam)), np.real(lam), "o")
    ax.set(xlabel="index n", ylabel="Re λ_n (1/time)", title=f"{title}: spectrum of −L")
    fig.savefig(path, dpi=110)
