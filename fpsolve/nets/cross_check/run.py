"""The cross-check in its phases: the reduced model on the slice, the PDE, the predicted O(η)
bias, the particles, the escape references, and the SGD chains (see :mod:`fpsolve.nets.cross_check`
for what is compared and guaranteed)."""
from __future__ import annotations

import math
import time
import warnings
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
from scipy.linalg import solve_continuous_lyapunov, solve_discrete_lyapunov

from ...errors import InputError
from ...geometry.grid import Grid
from ...models.fokker_planck import FokkerPlanck
from ...particles import first_passage, simulate
from ..reduced import reduced_model
from .arguments import check_arguments
from .chains import sgd_chains
from .network import SliceNetwork
from .result import CrossCheck
from .statistics import stats_from_sums, unit_stats, value_at_origin

BGK = 0.5825971579390106  # Broadie–Glasserman–Kou constant −ζ(1/2)/sqrt(2π)


def crosscheck(model, data=None, *, lr: float, batch_size: int, loss=None, k: int = 2,
               theta=None, replacement: bool = True, escape=None, grid_cells: int | None = None,
               n_std: float = 6.0, n_particles: int = 2048, particle_dt: float | None = None,
               n_chains: int = 256, burn_in: float = 5.0, window: float = 10.0,
               n_snapshots: int = 11, escape_t_max: float | None = None,
               seed: int = 0, device=None, backend: str = "torch") -> CrossCheck:
    """Compare the reduced Fokker–Planck PDE, particles of its SDE, and real mini-batch SGD on
    the full network near a trained minimum (see :mod:`fpsolve.nets.cross_check` for what is
    guaranteed).

    Parameters
    ----------
    model : the trained torch network (an ``nn.Module``; train it to a minimum first) or a
        :class:`~fpsolve.nets.TrainResult`; θ* is its parameters unless ``theta`` is given.
    data, loss : the data set (Dataset or (X, y)) and loss (None: the data's default).
    lr, batch_size : η and B of the SGD whose SDE is studied.
    k : 1 or 2 top-Hessian directions.
    replacement : mini-batches with replacement (C = Σ₁/B) or without ((N − B)/(N − 1) more).
    escape : None (default, off), "box" / ("box", c) (leave |z_i| < c·s_i, default c = 2.5) or
        "loss" / ("loss", ΔL) (reach L_red ≥ L* + ΔL, default ΔL = 2·tr D_red).
    grid_cells : PDE cells per axis (odd; default 201 for k = 1, 81 for k = 2).
    n_std : half-width of the PDE box in linearised standard deviations.
    n_particles : Euler–Maruyama particles (also for the escape run).
    particle_dt : EM step (t units); default η/2 (its O(dt) bias is predicted and corrected).
    n_chains : independent SGD chains.
    burn_in, window : burn-in and sampling window in relaxation times 1/h_min (t units).
    n_snapshots : late-time particle snapshots spread over the window.
    escape_t_max : censoring time of the escape runs (default 20 × the PDE MFPT).
    seed : fixes everything (Lanczos start, particles, SGD batches).
    device : None (CUDA if available, else CPU), "cpu", "cuda", ... for particles and SGD.
    backend : particle backend, "torch" (default) or "numba" (CPU, numpy coefficients).

    Returns a :class:`CrossCheck`; ``print(result.summary())``.
    """
    t_all = time.perf_counter()
    a = check_arguments(model, data, loss, lr=lr, batch_size=batch_size, k=k, theta=theta,
                        replacement=replacement, escape=escape, grid_cells=grid_cells,
                        n_std=n_std, n_particles=n_particles, particle_dt=particle_dt,
                        n_chains=n_chains, burn_in=burn_in, window=window,
                        n_snapshots=n_snapshots, escape_t_max=escape_t_max, seed=seed,
                        device=device, backend=backend)
    timings = {}
    with _timed(timings, "reduced model"):
        sl = _slice(a)
    with _timed(timings, "PDE"):
        pde = _pde(a, sl)
    bias = _predicted_bias(a, sl, pde)
    with _timed(timings, "particles"):
        part = _particles(a, sl, pde)
    esc_out, target_z = _escape(a, sl, pde, timings) if a.esc is not None else (None, None)
    with _timed(timings, "SGD"):
        sgd = _sgd(a, sl, part, esc_out, target_z)
    timings["total"] = time.perf_counter() - t_all
    red = sl.red
    return CrossCheck(
        lr=a.lr, batch_size=a.batch_size, replacement=a.replacement, k=a.k,
        n_params=a.obj.n_params, n_samples=a.obj.n_samples, seed=a.seed, device=a.device,
        hessian_eigenvalues=(red.hessian_eigenvalues if red.hessian_eigenvalues is not None
                             else np.diag(sl.H)).copy(),
        reduced_hessian=sl.H, diffusion=sl.D, bounds=sl.bounds, loss_star=float(red.loss_star),
        gradient_star=np.asarray(red.gradient_star), relax_time=sl.relax,
        pde_mean=pde.mean, pde_cov=pde.cov, pde_grid_error=pde.grid_error,
        lyapunov_cov=sl.sigma_lyap, grid_shape=tuple(pde.model.grid.shape),
        particle_dt=float(sl.dt_p), n_particles=a.n_particles, particle_mean=part.mean,
        particle_mean_se=part.mean_se, particle_cov=part.cov, particle_cov_se=part.cov_se,
        particle_predicted_cov=bias.particles,
        n_chains=a.n_chains, burn_in_steps=sgd.n_burn, sample_steps=sgd.n_samp,
        sgd_mean=sgd.mean, sgd_mean_se=sgd.mean_se, sgd_cov=sgd.cov, sgd_cov_se=sgd.cov_se,
        sgd_predicted_cov=bias.sgd, bias_factor=bias.factor, bias_factor_matrix=bias.matrix,
        escape=esc_out, pde_info=pde.info, timings=timings)


@contextmanager
def _timed(timings, what):
    t0 = time.perf_counter()
    yield
    timings[what] = time.perf_counter() - t0


# -- 1. the reduced model on the slice ------------------------------------------------------------
def _slice(a) -> SimpleNamespace:
    """The reduced landscape, its D, the linearised stationary covariance, the particle step,
    the network on the device and the PDE box; checks that θ* is a stable minimum."""
    lr, k = a.lr, a.k
    red = reduced_model(a.obj, theta=a.theta, k=k, seed=a.seed_lanczos % (2 ** 31))
    H = red.reduced_hessian
    D = red.diffusion(lr, a.batch_size, a.replacement)
    h = np.linalg.eigvalsh(H)
    if np.any(h <= 0):
        raise InputError(f"crosscheck: the reduced Hessian has eigenvalues {h}; θ* is not a "
                         f"minimum on the slice (train further).")
    if lr * h.max() >= 2.0:
        raise InputError(f"crosscheck: η·h_max = {lr * h.max():.3g} ≥ 2: SGD is unstable along "
                         f"the top direction (no stationary state). Use lr < {2 / h.max():.3g}.")
    if lr * h.max() > 0.5:
        warnings.warn(f"crosscheck: η·h_max = {lr * h.max():.3g}: the O(η) bias "
                      f"1/(1 − ηh/2) = {1 / (1 - lr * h.max() / 2):.3g} is large and its "
                      f"linear prediction unreliable; use a smaller lr for a clean comparison.",
                      RuntimeWarning, stacklevel=3)
    if np.any(np.diag(D) <= 0):
        raise InputError("crosscheck: the gradient noise vanishes along a slice direction "
                         "(D_red has a zero diagonal): no stationary spread to compare.")
    sigma_lyap = solve_continuous_lyapunov(H, 2.0 * D)
    sigma_lyap = 0.5 * (sigma_lyap + sigma_lyap.T)
    s_lin = np.sqrt(np.diag(sigma_lyap))
    offset = np.linalg.solve(H, red.gradient_star) / s_lin
    if np.max(np.abs(offset)) > 0.2:
        warnings.warn(f"crosscheck: θ* is not a minimum to within 0.2 stationary standard "
                      f"deviations (Newton offset {offset} in units of them); train or polish "
                      f"further, or the PDE mean moves by that much.", RuntimeWarning,
                      stacklevel=3)
    dt_p = a.particle_dt if a.particle_dt is not None else 0.5 * lr
    if dt_p * h.max() >= 1.0:
        raise InputError(f"crosscheck: particle_dt·h_max = {dt_p * h.max():.3g} ≥ 1; use a "
                         f"smaller particle_dt.")
    bounds = [tuple(map(float, b)) for b in red.suggest_bounds(lr, a.batch_size, a.n_std,
                                                               a.replacement)]
    return SimpleNamespace(red=red, H=H, D=D, h=h, sigma_lyap=sigma_lyap, s_lin=s_lin,
                           relax=1.0 / float(h.min()), dt_p=dt_p, bounds=bounds,
                           net=SliceNetwork(a.obj, red, a.device))


# -- 2. the PDE ------------------------------------------------------------------------------------
def _reduced_fp(sl, grid):
    """The reduced model on a grid (scalar D in 1D), with the network's exact gradient for the
    particles (numpy and torch inputs)."""
    D = sl.D if sl.D.shape[0] > 1 else float(sl.D[0, 0])
    return FokkerPlanck(grid, potential=sl.red.potential, gradient=sl.net.gradient, diffusion=D)


def _pde(a, sl) -> SimpleNamespace:
    """Stationary mean and covariance, with a grid error from a half-resolution re-solve
    (O(h²): the fine grid's error ≈ |fine − coarse|/3)."""
    model = _reduced_fp(sl, Grid(sl.bounds, a.grid_cells))
    p = model.stationary()
    mean, cov = p.mean(), p.cov()
    coarse_cells = (a.grid_cells // 2) | 1
    pc = _reduced_fp(sl, Grid(sl.bounds, coarse_cells)).stationary()
    info = {"method": p.info.get("method"), "m_matrix": p.info.get("m_matrix"),
            "residual": p.info.get("residual"), "coarse_cells": coarse_cells,
            "mean_grid_error": (np.abs(mean - pc.mean()) / 3.0).tolist()}
    return SimpleNamespace(model=model, mean=mean, cov=cov,
                           grid_error=np.abs(cov - pc.cov()) / 3.0, info=info)


# -- the predicted O(τ) bias of the discrete chains (linearised) -----------------------------------
def _predicted_bias(a, sl, pde) -> SimpleNamespace:
    """Σ_pred = Σ_PDE + Σ_disc,lin(τ) − Σ_lyap,lin for the particles (τ = dt) and SGD (τ = η),
    and the per-direction factor 1/(1 − ηh/2)."""
    H, D, k, lr = sl.H, sl.D, a.k, a.lr

    def disc(tau):
        A = np.eye(k) - tau * H
        S = solve_discrete_lyapunov(A, 2.0 * D * tau)
        return 0.5 * (S + S.T)

    hd = np.diag(H)
    # exact for a quadratic whose slice axes are Hessian eigenvectors (kind "hessian": H diagonal)
    F = (hd[:, None] + hd[None, :]) / (hd[:, None] + hd[None, :] - lr * hd[:, None] * hd[None, :])
    return SimpleNamespace(particles=pde.cov + disc(sl.dt_p) - sl.sigma_lyap,
                           sgd=pde.cov + disc(lr) - sl.sigma_lyap,
                           factor=1.0 / (1.0 - lr * hd / 2.0), matrix=F)


# -- 3. particles of the same SDE ------------------------------------------------------------------
def _particle_options(a, seed):
    kw = dict(backend=a.backend, seed=seed)
    if a.backend == "torch":
        kw.update(device=a.device, fuse=1)
    return kw


def _particles(a, sl, pde) -> SimpleNamespace:
    """Euler–Maruyama from z = 0: snapshots over the window after burn-in, statistics over the
    particles (each particle's time average)."""
    t_burn, t_win = a.burn_in * sl.relax, a.window * sl.relax
    times = (t_burn + np.linspace(0.0, t_win, a.n_snapshots) if a.n_snapshots > 1 else
             np.array([t_burn + t_win]))
    sim = simulate(pde.model, np.zeros(a.k), n=a.n_particles, dt=sl.dt_p, times=times,
                   **_particle_options(a, a.seed_part))
    mean, mean_se, cov, cov_se = unit_stats(np.stack(sim.positions, axis=1))  # (n, m, k)
    return SimpleNamespace(mean=mean, mean_se=mean_se, cov=cov, cov_se=cov_se, t_burn=t_burn,
                           t_win=t_win)


# -- escape: PDE references and particles ----------------------------------------------------------
def _escape(a, sl, pde, timings):
    """(the escape record, the target as a function of z) for the box or the loss target."""
    t0 = time.perf_counter()
    kind, level = a.esc
    if kind == "box":
        ref, target_z = _box_escape(a, sl, level)
    else:
        ref, target_z = _loss_escape(a, sl, pde, level)
    pde_mfpt = ref["pde_mfpt"]
    t_max = a.escape_t_max if a.escape_t_max is not None else 20.0 * pde_mfpt
    esc_out = {"kind": kind, "level": level, **ref, "t_max": t_max}
    timings["PDE escape"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fpr = first_passage(pde.model, np.zeros(a.k), target_z, n=a.n_particles, dt=sl.dt_p,
                        t_max=t_max, **_particle_options(a, a.seed_esc))
    ref_p = ref["pde_mfpt_dt"] if ref["pde_mfpt_dt"] is not None else pde_mfpt
    esc_out.update(particle_mfpt=fpr.mean, particle_mfpt_se=fpr.stderr,
                   particle_censored=int(fpr.censored),
                   particle_z=float((fpr.mean - ref_p) / fpr.stderr))
    timings["particles escape"] = time.perf_counter() - t0
    return esc_out, target_z


def _box_escape(a, sl, level):
    """Leave |z_i| < c·s_i: the PDE MFPT, and again with the box widened by the
    Broadie–Glasserman–Kou shift of step-end monitoring for τ = dt and τ = η."""
    c = (2.5 if level is None else level) * sl.s_lin

    def mfpt_box(widths):
        m = max(20, (a.grid_cells - 5) // 2)
        hh = widths / m
        g = Grid([(-(m + 2.5) * x, (m + 2.5) * x) for x in hh], 2 * m + 5)
        tol = widths * (1 - 1e-9)
        tau = _reduced_fp(sl, g).mean_first_passage_time(
            lambda *z: np.any([np.abs(zi) >= ti for zi, ti in zip(z, tol)], axis=0))
        return value_at_origin(tau, a.k)

    shift_dt = BGK * np.sqrt(2.0 * np.diag(sl.D) * sl.dt_p)
    shift_eta = BGK * np.sqrt(2.0 * np.diag(sl.D) * a.lr)
    if np.any(c + shift_eta > np.array([b[1] for b in sl.bounds])):
        raise InputError(f"crosscheck: the escape box (half-widths {c + shift_eta}) does not fit "
                         f"in the PDE box {sl.bounds}; lower the level or raise n_std.")
    ct = [float(x) for x in c]

    def outside_box(*z):
        out = abs(z[0]) >= ct[0]
        for zi, ci in zip(z[1:], ct[1:]):
            out = out | (abs(zi) >= ci)
        return out

    desc = ("leave |z_i| < " + ", ".join(f"{x:.3g}" for x in c) +
            f" ({2.5 if level is None else level:g} linearised std)")
    return {"target": desc, "pde_mfpt": mfpt_box(c), "pde_mfpt_dt": mfpt_box(c + shift_dt),
            "pde_mfpt_eta": mfpt_box(c + shift_eta)}, outside_box


def _loss_escape(a, sl, pde, level):
    """Reach L_red ≥ L* + ΔL (no monitoring correction: the report says so)."""
    red, k = sl.red, a.k
    dL = 2.0 * float(np.trace(sl.D)) if level is None else level
    thr = float(red.loss_star) + dL
    U = pde.model.U
    edge = np.zeros(U.shape, bool)
    for ax in range(k):
        side = [slice(None)] * k
        side[ax] = 0
        edge[tuple(side)] = True
        side[ax] = -1
        edge[tuple(side)] = True
    if not np.all(U[edge] >= thr):
        raise InputError(f"crosscheck: the loss threshold L* + {dL:.3g} is not reached on the "
                         f"whole boundary of the PDE box; raise n_std or lower ΔL.")
    if float(red.potential(*([0.0] * k))) >= thr:
        raise InputError("crosscheck: the loss threshold is already reached at θ*.")
    tau = pde.model.mean_first_passage_time(lambda *z: U >= thr)

    def above_threshold(*z):
        return sl.net.potential(*z) >= thr

    return {"target": f"reach L_red ≥ L* + {dL:.3g}", "pde_mfpt": value_at_origin(tau, k),
            "pde_mfpt_dt": None, "pde_mfpt_eta": None}, above_threshold


# -- 4. real SGD -----------------------------------------------------------------------------------
def _sgd(a, sl, part, esc_out, target_z) -> SimpleNamespace:
    """The chains' statistics over the same window, and their escape times (t = k·η)."""
    lr = a.lr
    n_burn = int(math.ceil(part.t_burn / lr))
    n_samp = max(1, int(math.ceil(part.t_win / lr)))
    n_esc = int(math.ceil(esc_out["t_max"] / lr)) if esc_out else 0
    run = sgd_chains(sl.net, lr, a.batch_size, a.replacement, a.n_chains, n_burn, n_samp,
                     n_esc, target_z if esc_out else None, a.seed_sgd)
    mean, mean_se, cov, cov_se = stats_from_sums(*run["sums"])
    if esc_out:
        et = run["exit_steps"]
        hit = et >= 0
        times_hit = et[hit] * lr
        m = float(times_hit.mean()) if hit.any() else float("nan")
        se = float(times_hit.std(ddof=1) / np.sqrt(hit.sum())) if hit.sum() > 1 else float("nan")
        ref_s = (esc_out["pde_mfpt_eta"] if esc_out["pde_mfpt_eta"] is not None else
                 esc_out["pde_mfpt"])
        esc_out.update(sgd_mfpt=m, sgd_mfpt_se=se, sgd_censored=int((~hit).sum()),
                       sgd_z=float((m - ref_s) / se))
    return SimpleNamespace(mean=mean, mean_se=mean_se, cov=cov, cov_se=cov_se, n_burn=n_burn,
                           n_samp=n_samp)
