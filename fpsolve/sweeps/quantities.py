"""What one sweep point computes: build the SGD model from its configuration and measure.

:func:`evaluate_point` runs on a worker. It takes plain data (the point's resolved configuration:
strings and numbers, so nothing unpicklable crosses the wire), builds the model with
:func:`fpsolve.sgd.model`, computes the requested quantities and returns one row (a flat dict).
It never raises: an exception becomes a row with ``status = "error"``, its message and traceback;
warnings raised while computing are kept in the row's ``warnings`` column.

Quantities (time unit t = k·η for SGD models, rates per unit t):

``spectral_gap``   λ₁ of the generator (:meth:`fpsolve.FokkerPlanck.spectral_gap`). Column
                   ``gap_resolved`` is False when λ₁ < 1e4 ε max|L_kk| (the bound of the core's
                   eigensolver warning: its absolute error is about ε × the largest rate);
                   summary plots leave those points out.
``escape_rate``    λ₁/2: the escape rate κ out of either well of a *symmetric* double well
                   (λ₁ = κ₁ + κ₂ in general; :doc:`/theory/mori`, Mori et al.); see ``mfpt`` for
                   barriers too high for the eigensolver.

``eigenvalues``    λ₁, λ₂, λ₃ (columns ``lambda_1`` …).

``mean``, ``var``, ``cov``, ``mode``   stationary moments (columns ``mean`` or ``mean_0`` …).

``mori_rate``      Mori et al. eq. (15), κ ≈ sqrt(h_e|h_s|)/(2π)·(L_s/L*)^−(B/(η h*) + 1 − n/2)
                   with L including the noise's ``loss_offset`` (L* = L(θ*) + offset); h* is the
                   noise's ``h_star`` (the paper's H* = ∇²L(θ*), so h* = h_e there). Columns
                   ``mori_rate``, ``mori_exponent``.
``kramers_rate``   Kramers κ = sqrt(L″(m)|L″(s)|)/(2π)·exp(−ΔL/D) for a constant diffusion D
                   (WhiteNoise, constant Isotropic β); NaN when D varies.
``mfpt``           1D: E τ from the global minimum until the other minimum is reached
                   (:meth:`fpsolve.FokkerPlanck.mean_first_passage_time`), and ``mfpt_rate``
                   = 1/E τ ≈ κ. Accurate behind barriers where λ₁ is not resolved.

The landscape quantities (minimum m, saddle s, curvatures, barrier) are found automatically in
1D from the loss on a fine grid (global minimum; the highest point between it and the nearest
other minimum), refined with scipy; in any dimension they may be given in ``[theory]``
(``h_e``, ``h_s``, ``loss_minimum``, ``loss_saddle`` without the offset, ``n``), which wins.
"""
from __future__ import annotations

import math
import os
import socket
import time
import traceback
import warnings

import numpy as np
from scipy import optimize

from .. import noise as noise_models
from .. import sgd
from ..errors import InputError
from ..geometry.grid import Grid
from ..noise import LossScaled
from ..theory import kramers, mori
from .spec import compile_expression, flatten

#: Every column a point row may have besides its parameters.
META = ("key", "status", "error", "traceback", "duration_s", "worker", "finished")
#: One line per quantity, for ``fpsolve sweep --help``.
QUANTITY_DOCS = {
    "spectral_gap": "λ₁, slowest relaxation rate (1/t)",
    "escape_rate": "λ₁/2, escape rate of a symmetric double well (1/t)",
    "eigenvalues": "λ₁, λ₂, λ₃ (columns lambda_1 …)",
    "mean": "stationary mean", "var": "stationary variance per axis",
    "cov": "stationary covariance", "mode": "most likely point",
    "mori_rate": "Mori et al. eq. (15) escape rate (LossScaled noise)",
    "kramers_rate": "Kramers escape rate (constant D)",
    "mfpt": "1D: E τ from the global minimum to the other minimum, and 1/E τ (mfpt_rate)",
}


def evaluate_point(point: dict) -> dict:
    """Compute one point (a :meth:`fpsolve.sweeps.spec.Point.to_dict`); never raises."""
    t0 = time.perf_counter()
    row = {"key": point["key"], **flatten(point["config"])}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model, loss = build_model(point["config"])
            row.update(measure(model, loss, point["config"], point["quantities"]))
        row["warnings"] = "; ".join(sorted({str(w.message) for w in caught})) or None
        row["status"] = "ok"
        row["error"] = None
        row["traceback"] = None
    except Exception as exc:  # recorded, never fatal to the sweep
        row["status"] = "error"
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc()
    row["duration_s"] = time.perf_counter() - t0
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    row["finished"] = time.time()
    return row


def build_model(cfg: dict):
    """(model, loss callable) of a resolved configuration: Grid + noise + fpsolve.sgd.model."""
    g = cfg["grid"]
    bounds = np.asarray(g["bounds"], dtype=float)
    if bounds.ndim == 1:
        bounds = bounds[None]
    grid = Grid(bounds, g["shape"] if isinstance(g["shape"], int) else tuple(g["shape"]),
                   periodic=g.get("periodic", False))
    params = cfg.get("params", {})
    m = dict(cfg["model"])
    loss = compile_expression(m.pop("loss"), grid.ndim, params, "loss")
    m.pop("loss_name", None)
    spec = dict(m.pop("noise"))
    kind = spec.pop("kind")
    cls = getattr(noise_models, str(kind), None)
    if not (isinstance(cls, type) and issubclass(cls, noise_models.NoiseModel)) or \
            cls is noise_models.NoiseModel:
        raise InputError(f"sweep: noise kind {kind!r} is unknown; use one of Isotropic, "
                         f"LossScaled, WhiteNoise, Covariance, Hessian.")
    kwargs = {}
    for k, v in spec.items():
        # a formula for a field (β(θ), D(θ), Σ(θ)); numbers and matrices pass through
        kwargs[k] = compile_expression(v, grid.ndim, params, f"noise {k}") if isinstance(v, str) \
            else v
    noise = cls(**kwargs)
    model = sgd.model(grid, loss, m.pop("lr"), m.pop("batch_size"), noise, **m)
    return model, loss


def measure(model, loss, cfg: dict, quantities) -> dict:
    """The requested quantities of one model, as flat columns."""
    out = {}
    q = set(quantities)
    if q & {"spectral_gap", "escape_rate", "eigenvalues"}:
        k = 4 if "eigenvalues" in q else 2
        lam = np.real(model.eigenvalues(k))
        # the eigensolver's absolute error is about ε × the largest rate: the same bound as
        # fpsolve.numerics.spectrum's warning (a smaller λ₁ is not resolved)
        floor = 1e4 * np.finfo(float).eps * float(np.max(np.abs(model.generator().diagonal())))
        out["gap_resolved"] = bool(lam[1] > floor)
        if "spectral_gap" in q:
            out["spectral_gap"] = float(lam[1])
        if "escape_rate" in q:
            out["escape_rate"] = float(lam[1]) / 2.0
        if "eigenvalues" in q:
            out.update({f"lambda_{i}": float(v) for i, v in enumerate(lam) if i > 0})
    if q & {"mean", "var", "cov", "mode"}:
        p = model.stationary()
        nd = model.grid.ndim
        if "mean" in q:
            out.update(_vector("mean", p.mean(), nd))
        if "var" in q:
            out.update(_vector("var", np.diag(p.cov()), nd))
        if "cov" in q:
            C = p.cov()
            out.update({f"cov_{i}_{j}": float(C[i, j]) for i in range(nd) for j in range(i, nd)})
        if "mode" in q:
            out.update(_vector("mode", p.mode(), nd))
    if q & {"mori_rate", "kramers_rate", "mfpt"}:
        land = landscape(model, loss, cfg)
        if "mfpt" in q:
            out.update(mfpt(model, land))
        if "mori_rate" in q:
            out.update(mori_rate(model, land, cfg))
        if "kramers_rate" in q:
            out["kramers_rate"] = kramers_rate(model, land)
    return out


def _vector(name, v, nd):
    v = np.atleast_1d(np.asarray(v, dtype=float))
    return {name: float(v[0])} if nd == 1 else {f"{name}_{i}": float(x) for i, x in enumerate(v)}


# -- theory lines --------------------------------------------------------------------------------
def landscape(model, loss, cfg) -> dict:
    """h_e = L″(m), h_s = L″(s) (< 0), loss_minimum = L(m), loss_saddle = L(s), n (the loss
    without any noise offset), from ``[theory]`` or, in 1D, found on the loss."""
    given = dict(cfg.get("theory", {}))
    need = {"h_e", "h_s", "loss_minimum", "loss_saddle"}
    if need <= set(given):
        given.setdefault("n", model.grid.ndim)
        return given
    if model.grid.ndim != 1:
        raise InputError(f"sweep: the theory rates need [theory] {sorted(need - set(given))} "
                         f"in {model.grid.ndim}D (found automatically only in 1D).")
    found = landscape_1d(loss, *model.grid.bounds[0])
    found.update(given)
    found.setdefault("n", 1)
    return found


def landscape_1d(loss, lo, hi, samples=20001) -> dict:
    """Global minimum m, the highest point s between m and the nearest other local minimum, and
    their curvatures (central differences on the refined points)."""
    f = lambda x: float(np.asarray(loss(np.asarray([x], dtype=float)))[0])  # noqa: E731
    xs = np.linspace(lo, hi, samples)
    L = np.asarray(loss(xs), dtype=float)
    interior = np.flatnonzero((L[1:-1] <= L[:-2]) & (L[1:-1] <= L[2:])) + 1
    if interior.size < 2:
        raise InputError("sweep: the loss has fewer than two interior minima on the grid; the "
                         "escape-rate theory needs a double well (or give [theory] values).")
    dx = xs[1] - xs[0]

    def refine_min(i):
        r = optimize.minimize_scalar(f, bracket=(xs[i - 1], xs[i], xs[i + 1]),
                                     options={"xtol": 1e-12})
        return float(r.x)

    im = int(interior[np.argmin(L[interior])])
    others = interior[interior != im]
    jo = int(others[np.argmin(np.abs(others - im))])
    a, b = sorted((im, jo))
    isad = a + int(np.argmax(L[a:b + 1]))
    m = refine_min(im)
    r = optimize.minimize_scalar(lambda x: -f(x), bracket=(xs[isad - 1], xs[isad], xs[isad + 1]),
                                 options={"xtol": 1e-12})
    s = float(r.x)
    step = max(1e-4 * (hi - lo), 10 * dx * 1e-3)
    curv = lambda x: (f(x + step) - 2 * f(x) + f(x - step)) / step ** 2  # noqa: E731
    return {"minimum": m, "saddle": s, "other_minimum": refine_min(jo), "h_e": curv(m),
            "h_s": curv(s),
            "loss_minimum": f(m), "loss_saddle": f(s)}


def mfpt(model, land) -> dict:
    """E τ from the global minimum until the other minimum is reached (1D), and 1/E τ."""
    if "other_minimum" not in land or model.grid.ndim != 1:
        raise InputError("sweep: mfpt is available in 1D (the target is the far side of the "
                         "other minimum).")
    m, o = land["minimum"], land["other_minimum"]
    x = model.grid.axes[0]
    target = x >= o if o > m else x <= o
    tau = model.mean_first_passage_time(target)
    t = float(tau.at(m))
    return {"mfpt": t, "mfpt_rate": 1.0 / t}


def mori_rate(model, land, cfg) -> dict:
    """Mori et al.'s eq. (15) escape rate for the landscape ``land`` (needs
    :class:`~fpsolve.noise.LossScaled` noise with a scalar h_star).
    """
    noise = model.noise
    if not isinstance(noise, LossScaled) or not np.isscalar(noise.h_star):
        raise InputError("sweep: mori_rate needs LossScaled noise with a scalar h_star.")
    offset = noise.loss_offset
    r = mori.escape_rate(noise.h_star, land["h_s"], land["loss_saddle"] + offset,
                         land["loss_minimum"] + offset, model.lr,
                         model.batch_size / model.minibatch_factor, int(land["n"]))
    # eq. (15)'s prefactor uses the curvature h_e; its exponent the noise scale h* (equal in
    # the paper, where H* is the Hessian at the minimum)
    log_k = r.log_rate + 0.5 * (math.log(land["h_e"]) - math.log(noise.h_star))
    return {"mori_rate": math.exp(log_k), "mori_exponent": r.exponent,
            "theory_h_e": float(land["h_e"]), "theory_h_s": float(land["h_s"])}


def kramers_rate(model, land) -> float:
    """Kramers' rate (1/time) of the landscape ``land`` for a constant diffusion; NaN when the
    model's D varies.
    """
    D = np.asarray(model.D, dtype=float)
    if np.ptp(D) > 1e-12 * np.max(D):
        return float("nan")  # Kramers' law as stated needs a constant diffusion
    r = kramers.kramers_time_1d(land["h_e"], land["h_s"],
                                land["loss_saddle"] - land["loss_minimum"], float(D.flat[0]))
    return float(r.rate)
