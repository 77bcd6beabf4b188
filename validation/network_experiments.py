"""Small-scale analogues of the papers' network experiments, sized for a CPU in about a minute.

Each function returns ``(numbers, figure)``: a dict of plain numbers/arrays and a matplotlib
``Figure`` (built without pyplot, so no global state; ``plot=False`` gives ``None``).

* :func:`dai_zhu_sharpness` — Dai & Zhu Fig. 3: Hessian sharpness/Frobenius norm over training
  for three (γ, M), two with equal γ/M, against epochs and SDE time t = k·η.
* :func:`xie_alignment` — Xie et al. Fig. 1: C = Σ₁/B against H/B in H's eigenbasis.
* :func:`mori_noise_vs_loss` — Mori et al. §5.2: 𝒩 against L during training (𝒩 ∝ L late).
* :func:`chaudhari_spectrum` — Chaudhari & Soatto Figs. 1–2: rank and spectrum of the gradient
  covariance during training.

Data: scikit-learn's bundled digits stand in for MNIST/CIFAR (nothing is downloaded).
torch and BLAS run single-threaded inside these functions (``num_threads=1``, restored
afterwards): for nets this small thread start-up dominates, and on a busy machine two threads are
many times slower than one.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch

from fpsolve.errors import InputError
from fpsolve.nets.callbacks import track_hessian_norm, track_noise, track_sharpness
from fpsolve.nets.curvature import hessian
from fpsolve.nets.data import load_digits
from fpsolve.nets.models import count_parameters, mlp
from fpsolve.nets.minibatch_noise import alignment, gradient_noise
from fpsolve.nets.objective import Objective
from fpsolve.nets.train import train


@contextmanager
def limit_threads(n: int | None):
    """Run a block with torch (``torch.set_num_threads``) and, when threadpoolctl is installed,
    the BLAS libraries limited to ``n`` threads; the previous settings are restored after."""
    if n is None:
        yield
        return
    old = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            yield
        else:
            with threadpool_limits(int(n)):
                yield
    finally:
        torch.set_num_threads(old)


def _figure(nrows, ncols, width=4.2, height=3.4):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes.ravel()


def _digits(data, n_samples, seed):
    return data if data is not None else load_digits(n=n_samples, seed=seed)


def _rel_gap(t1, y1, t2, y2):
    """Mean |y1 − y2| / mean|y| on the common range of t (linear interpolation onto t1)."""
    lo, hi = max(t1[0], t2[0]), min(t1[-1], t2[-1])
    m = (t1 >= lo) & (t1 <= hi)
    if m.sum() < 2:
        return float("nan")
    a, b = y1[m], np.interp(t1[m], t2, y2)
    return float(np.mean(np.abs(a - b)) / np.mean(np.abs(0.5 * (a + b))))


def dai_zhu_sharpness(configs=((0.02, 32), (0.1, 32), (0.2, 64)), *, data=None,
                      n_samples: int = 512, widths=(64, 32, 10), epochs: int = 30,
                      n_repeats: int = 2, measure: str = "sharpness", seed: int = 0,
                      plot: bool = True, num_threads: int | None = 1):
    """Dai & Zhu Fig. 3 in small: curvature over training for learning rate γ and batch M.

    The SDE depends on (γ, M) only through γ/M, and with N/M steps per epoch an epoch lasts
    t = γ N/M in SDE time, so runs with equal γ/M share their time grid and, to O(γ), their
    curve. ``measure``: "sharpness" (top Hessian eigenvalue, Lanczos) or "frobenius" (‖H‖_F by
    Hutchinson; the paper plots log ‖H‖_F). Each repeat r uses initialisation and sampling seed
    ``seed + r`` for every configuration.

    Returns numbers: ``labels``, ``ratio`` (γ/M), ``t`` and ``epoch`` and ``curve`` (mean over
    repeats) per label, ``final`` (last value per label), ``equal_ratio_gap`` (mean relative
    difference of the two curves with the same γ/M against t), ``ratio_separation`` (the same
    between the smallest-ratio curve and the others), ``n_params``.
    """
    if len(configs) < 2:
        raise InputError("dai_zhu_sharpness: give at least two (lr, batch_size) pairs.")
    if measure not in ("sharpness", "frobenius"):
        raise InputError(f"dai_zhu_sharpness: measure must be 'sharpness' or 'frobenius'; got {measure!r}.")
    with limit_threads(num_threads):
        data = _digits(data, n_samples, seed)
        key = "sharpness" if measure == "sharpness" else "hessian_frobenius"
        labels, ratios, ts, eps, curves = [], [], {}, {}, {}
        for lr, B in configs:
            label = f"γ={lr:g}, M={B}"
            runs = []
            for r in range(n_repeats):
                net = mlp(widths, seed=seed + r)
                cb = (track_sharpness(data) if measure == "sharpness"
                      else track_hessian_norm(data, n_samples=16, seed=seed + r))
                res = train(net, data, lr=lr, batch_size=B, epochs=epochs, seed=seed + r,
                            callbacks=[cb])
                runs.append(res.history[key])
            labels.append(label)
            ratios.append(lr / B)
            ts[label], eps[label] = res.history["t"], res.history["epoch"]
            curves[label] = np.mean(runs, axis=0)
        n_params = count_parameters(net)
    ratios = np.asarray(ratios)
    order = np.argsort(ratios, kind="stable")
    same = [(i, j) for i in range(len(ratios)) for j in range(i + 1, len(ratios))
            if np.isclose(ratios[i], ratios[j])]
    eq_gap = (np.mean([_rel_gap(ts[labels[i]], curves[labels[i]], ts[labels[j]], curves[labels[j]])
                       for i, j in same]) if same else float("nan"))
    low = labels[order[0]]
    others = [lab for k, lab in enumerate(labels) if not np.isclose(ratios[k], ratios[order[0]])]
    sep = (np.mean([_rel_gap(ts[low], curves[low], ts[o], curves[o]) for o in others])
           if others else float("nan"))
    out = {"labels": labels, "ratio": ratios, "t": ts, "epoch": eps, "curve": curves,
           "final": {lab: float(curves[lab][-1]) for lab in labels},
           "equal_ratio_gap": float(eq_gap), "ratio_separation": float(sep),
           "measure": measure, "n_params": n_params}
    fig = None
    if plot:
        fig, (a, b) = _figure(1, 2)
        ylabel = "top Hessian eigenvalue" if measure == "sharpness" else "log ‖H‖_F"
        for lab in labels:
            y = curves[lab] if measure == "sharpness" else np.log(curves[lab])
            a.plot(eps[lab], y, label=lab)
            b.plot(ts[lab], y, label=lab)
        a.set(xlabel="epoch", ylabel=ylabel, title="Dai–Zhu Fig. 3 (digits MLP)")
        b.set(xlabel="SDE time t = k·η", ylabel=ylabel,
              title=f"equal γ/M gap {eq_gap:.2f}, separation {sep:.2f}")
        a.legend()
    return out, fig


def xie_alignment(*, data=None, n_samples: int = 512, widths=(64, 16, 10), lr: float = 0.1,
                  batch_size: int = 32, epochs: int = 40, seed: int = 0,
                  replacement: bool = True, plot: bool = True, num_threads: int | None = 1):
    """Xie et al. Fig. 1 in small: train, then compare C = Σ₁/B with H/B in H's eigenbasis
    (exact Hessian, so keep d to a few thousand).

    Returns numbers: ``correlation`` and ``log_correlation`` (Pearson, linear and log) of
    diag(Uᵀ C U) with λ/B, ``ratio`` (fitted C ≈ ratio·H/B; the paper reports 0.62 on MNIST),
    ``commutator`` (‖CH − HC‖_F/(‖C‖_F‖H‖_F)), ``h_over_b``, ``c_diagonal``, ``loss``,
    ``accuracy``, ``n_params``.
    """
    with limit_threads(num_threads):
        data = _digits(data, n_samples, seed)
        res = train(mlp(widths, seed=seed), data, lr=lr, batch_size=batch_size, epochs=epochs,
                    seed=seed)
        obj = Objective(res.model, data)
        H = hessian(obj)
        al = alignment(gradient_noise(obj), H, batch_size, replacement=replacement)
    out = {"correlation": al.correlation, "log_correlation": al.log_correlation,
           "ratio": al.ratio, "commutator": al.commutator, "h_over_b": al.h_over_b,
           "c_diagonal": al.c_diagonal, "loss": float(res.history["loss"][-1]),
           "accuracy": float(res.history.get("accuracy", [np.nan])[-1]),
           "n_params": obj.n_params, "batch_size": batch_size}
    fig = None
    if plot:
        fig, (a,) = _figure(1, 1, 4.6, 4.0)
        # pairs at round-off level (λ below 1e-10 of the largest) carry no information
        pos = (al.h_over_b > 1e-10 * al.h_over_b.max()) & (al.c_diagonal > 1e-10 * al.c_diagonal.max())
        a.loglog(al.h_over_b[pos], al.c_diagonal[pos], ".", ms=3, alpha=0.6)
        lims = np.array([al.h_over_b[pos].min(), al.h_over_b[pos].max()])
        a.loglog(lims, lims, "k--", lw=1, label="C = H/B")
        a.loglog(lims, al.ratio * lims, "r-", lw=1, label=f"C = {al.ratio:.2f}·H/B")
        a.set(xlabel="λ_i(H)/B", ylabel="(Uᵀ C U)_ii",
              title=f"Xie Fig. 1: corr {al.correlation:.2f}, log-corr {al.log_correlation:.2f}")
        a.legend()
    return out, fig


def mori_noise_vs_loss(*, data=None, n_samples: int = 512, widths=(64, 32, 10),
                       lr: float = 0.05, batch_size: int = 32, epochs: int = 100, seed: int = 0,
                       late_fraction: float = 0.5, plot: bool = True,
                       num_threads: int | None = 1):
    """Mori et al. §5.2 in small: mean-square loss (½‖f − y‖², one-hot targets), recording L
    and 𝒩 = (1/N) Σ|∇ℓ_μ|² − |∇L|² every epoch. Theory (their eq. 6, decoupling): 𝒩 ≈ 2L ·
    (1/N) Σ|∇f_μ|², hence 𝒩 ∝ L once the network's Jacobian stops changing.

    Returns numbers: ``epoch``, ``t``, ``loss``, ``noise_strength``, ``late_slope`` (slope of
    log 𝒩 against log L over the late records: those whose log L lies in the lowest
    ``late_fraction`` of the range from log L_min to log L(0); 1 means 𝒩 ∝ L), ``early_slope``
    (the same over the other records), ``late_ratio`` and ``late_ratio_cv`` (mean and
    coefficient of variation of 𝒩/L over the late records), ``n_late``.
    """
    if not 0 < late_fraction < 1:
        raise InputError(f"mori_noise_vs_loss: late_fraction must lie in (0, 1); got {late_fraction}.")
    with limit_threads(num_threads):
        data = _digits(data, n_samples, seed)
        res = train(mlp(widths, seed=seed), data, lr=lr, batch_size=batch_size, epochs=epochs,
                    seed=seed, loss="mse", callbacks=[track_noise(data, loss="mse")])
    h = res.history
    L, Nn = h["loss"], h["noise_strength"]
    ok = np.isfinite(L) & np.isfinite(Nn) & (L > 0) & (Nn > 0)
    logL = np.log(np.where(ok, L, np.nan))
    lo, hi = np.nanmin(logL), logL[0]
    late = ok & (logL <= lo + late_fraction * (hi - lo))
    early = ok & ~late

    def slope(m):
        return float(np.polyfit(logL[m], np.log(Nn[m]), 1)[0]) if m.sum() >= 3 else float("nan")

    r = Nn[late] / L[late]
    out = {"epoch": h["epoch"], "t": h["t"], "loss": L, "noise_strength": Nn,
           "late_slope": slope(late), "early_slope": slope(early), "n_late": int(late.sum()),
           "late_ratio_cv": float(r.std() / r.mean()), "late_ratio": float(r.mean())}
    fig = None
    if plot:
        fig, (a, b) = _figure(1, 2)
        a.semilogy(h["epoch"], L, label="L")
        a.semilogy(h["epoch"], Nn / out["late_ratio"], label=f"$\\mathcal{{N}}$ / {out['late_ratio']:.3g}")
        a.set(xlabel="epoch", title="Mori §5.2: loss and noise strength")
        a.legend()
        b.loglog(L, Nn, ".-", ms=4)
        Ls = np.array([L.min(), L.max()])
        b.loglog(Ls, out["late_ratio"] * Ls, "k--", lw=1, label="slope 1")
        b.set(xlabel="L", ylabel=r"$\mathcal{N}$", title=f"late slope {out['late_slope']:.2f}")
        b.legend()
    return out, fig


def chaudhari_spectrum(*, data=None, n_samples: int = 512, widths=(64, 32, 10), lr: float = 0.1,
                       batch_size: int = 32, epochs: int = 30, fractions=(0.2, 0.4, 1.0),
                       rtols=(1e-2, 1e-4, 1e-8), rank_every: int = 5, seed: int = 0,
                       plot: bool = True, num_threads: int | None = 1):
    """Chaudhari & Soatto Figs. 1–2 in small: the spectrum of the gradient covariance D(x) = Σ₁
    at fractions of training, and its rank over training.

    Rank is counted as the number of eigenvalues above rtol × the largest and compared with d
    and with the bound min(d, N − 1) (with N < d the bound, not the network, caps the rank: the
    papers' CIFAR numbers have N ≪ d too). ``mean``/``std`` are over all d eigenvalues, zeros
    included, like the paper's λ(D) = mean ± std.

    Returns numbers: ``n_params``, ``max_rank``, ``snapshots`` ({fraction: {epoch, rank
    {rtol: r}, rank_fraction_d {rtol: r/d}, eig_mean, eig_std, eigenvalues}}), and the rank
    over training: ``rank_epoch``, ``rank_t``, ``rank`` {rtol: array}.
    """
    fr = sorted(float(f) for f in fractions)
    if not fr or fr[0] <= 0 or fr[-1] > 1:
        raise InputError(f"chaudhari_spectrum: fractions must lie in (0, 1]; got {fractions}.")
    snap_epochs = sorted({max(1, int(round(f * epochs))) for f in fr})
    with limit_threads(num_threads):
        data = _digits(data, n_samples, seed)
        rank_epochs = sorted(set(range(0, epochs + 1, max(1, rank_every))) | {epochs})
        cb = track_noise(data, epochs=rank_epochs, spectrum=True, rank_rtols=rtols)
        res = train(mlp(widths, seed=seed), data, lr=lr, batch_size=batch_size, epochs=epochs,
                    seed=seed, callbacks=[cb], snapshot_epochs=snap_epochs)
        obj = Objective(res.model, data)
        d = obj.n_params
        snaps = {}
        for f in fr:
            e = max(1, int(round(f * epochs)))
            gn = gradient_noise(obj, theta=res.snapshots[e], rank_rtols=rtols)
            lam = np.concatenate([gn.eigenvalues, np.zeros(d - gn.eigenvalues.size)])
            snaps[f] = {"epoch": e, "rank": dict(gn.ranks),
                        "rank_fraction_d": {r: n / d for r, n in gn.ranks.items()},
                        "eig_mean": float(lam.mean()), "eig_std": float(lam.std()),
                        "eigenvalues": gn.eigenvalues}
    h = res.history
    m = np.isfinite(np.asarray(h[f"noise_rank_{rtols[0]:g}"], dtype=float))
    out = {"n_params": d, "max_rank": min(d, len(data) - 1), "snapshots": snaps,
           "rank_epoch": h["epoch"][m], "rank_t": h["t"][m],
           "rank": {r: np.asarray(h[f"noise_rank_{r:g}"], dtype=float)[m] for r in rtols}}
    fig = None
    if plot:
        fig, (a, b, c) = _figure(1, 3)
        shades = np.linspace(0.75, 0.1, len(fr))
        for f, s in zip(fr, shades):
            lam = snaps[f]["eigenvalues"]
            lam = lam[lam > 1e-12 * lam[0]]
            a.hist(np.log10(lam), bins=40, histtype="step", color=str(s),
                   label=f"{int(100 * f)}% (epoch {snaps[f]['epoch']})")
            b.semilogy(np.arange(1, lam.size + 1) / d, lam / lam[0], color=str(s))
        a.set(xlabel="log10 eigenvalue of Σ₁", ylabel="count", title="Chaudhari Figs. 1–2 (digits)")
        a.legend()
        b.set(xlabel="index / d", ylabel="λ_i / λ_1", title=f"d = {d}, N = {len(data)}")
        for r in rtols:
            c.plot(out["rank_epoch"], out["rank"][r] / d, label=f"rtol {r:g}")
        c.axhline(out["max_rank"] / d, color="k", ls="--", lw=1, label="min(d, N−1)/d")
        c.set(xlabel="epoch", ylabel="rank / d", title="rank of Σ₁ over training")
        c.legend()
    return out, fig
