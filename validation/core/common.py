"""Helpers of the core checks that are independent of the code under test (numpy/scipy only;
nothing from fpsolve.numerics), and the group's constants."""
from __future__ import annotations

import numpy as np

PAPER = "core"
#: α of the flux J = b p − D^α ∇(D^(1−α) p) for each convention
ALPHAS = {"ito": 0.0, "stratonovich": 0.5, "isothermal": 1.0}


def log_mean(a, b):
    """Logarithmic mean (b − a)/log(b/a), = a where a == b."""
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    out = a.copy()
    ne = a != b
    out[ne] = (b[ne] - a[ne]) / np.log1p((b[ne] - a[ne]) / a[ne])
    return out


def normalise_log(logp, cell_volume):
    p = np.exp(logp - logp.max())
    return p / (p.sum() * cell_volume)


def generator_residual(L, p):
    """‖L p‖₁ / (max|L_kk| ‖p‖₁): dp/dt relative to the fastest rate (0 for a stationary p)."""
    return float(np.abs(L @ p.ravel()).sum() / (np.abs(L.diagonal()).max() * np.abs(p).sum()))


RESIDUAL_WHY = ("round-off of the reference itself: exp of a log-density rounded to ε·|log p| "
                "relative, a few ε per row of L on top")


def residual_tol(span):
    """Round-off bound on ‖L p_ref‖ for a reference whose log spans ``span``."""
    return 10 * np.finfo(float).eps * max(4.0, span)


def max_rel(p, ref):
    return float(np.max(np.abs(p / ref - 1.0)))


def observed_order(h, err):
    """Least-squares slope of log(err) against log(h)."""
    return float(np.polyfit(np.log(h), np.log(err), 1)[0])


def plot_per_convention(ctx, x, curves, *, reference, logy, title, error_ylabel, error_title):
    """Two panels: each convention's density against its reference (``reference`` labels the
    latter; log scale with ``logy``), and their relative difference. ``curves``: convention →
    (p, ref) on the points ``x``. Returns the figure."""
    fig, (ax, ax2) = ctx.figure(1, 2)
    for conv, (p, ref) in curves.items():
        plot = ax.semilogy if logy else ax.plot
        plot(x, ref, label=f"{reference} ({conv})")
        plot(x, p, "--", label=f"fpsolve ({conv})")
        ax2.semilogy(x, np.abs(p / ref - 1) + 1e-18, label=conv)
    ax.set(xlabel="x", ylabel="p", title=title)
    ax.legend(fontsize=7)
    ax2.set(xlabel="x", ylabel=error_ylabel, title=error_title)
    ax2.legend(fontsize=7)
    return fig
