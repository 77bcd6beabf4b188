r"""One network, three answers: the reduced Fokker–Planck PDE, particles of the same SDE, and real
mini-batch SGD on the full network, side by side with standard errors.

What is compared (:doc:`/theory/conventions`; Itô; time t = k·η; z = Vᵀ(θ − θ*) in units of θ):

1. **PDE.** :func:`~fpsolve.nets.reduced_model` builds L_red(z) = L(θ* + V z) on the span V of
   the top-k Hessian eigenvectors at the trained minimum θ* (k = 1 or 2) and the constant
   diffusion D_red = (η/2)·Vᵀ Σ₁(θ*) V·c_B (c_B = 1/B with replacement, (N − B)/((N − 1)B)
   without). ``FokkerPlanck(grid, potential=L_red, diffusion=D_red)`` on the box of
   ``suggest_bounds`` (±``n_std`` linearised standard deviations, reflecting walls) gives the
   stationary mean and covariance of z, and optionally the mean first-passage time (MFPT) from
   z = 0 to an escape target. The grid error is estimated by a second solve on a grid of half
   the resolution (O(h²): error of the fine grid ≈ |fine − coarse|/3).
2. **Particles.** Euler–Maruyama for the *same* SDE (same L_red, D_red, box and walls) with
   :func:`fpsolve.particles.simulate` / :func:`~fpsolve.particles.first_passage` (torch backend,
   CPU or CUDA; the drift −∇L_red is the exact autograd gradient of the network loss).
3. **SGD.** Real mini-batch SGD θ ← θ − η ∇L_B(θ) on all d parameters, from θ*, many
   independent chains vectorised with ``torch.func.vmap`` (each step draws a fresh batch of B
   indices per chain: with replacement by default, so the batch-gradient covariance is Σ₁(θ)/B
   exactly; a uniformly random B-subset with ``replacement=False``). Iterates are projected onto
   V. Many independent chains rather than one long chain: the standard errors then come from the
   spread across chains, with no autocorrelation time to estimate, and burn-in from θ* is paid in
   parallel. Each chain's statistic is its time average over the window after burn-in.

Standard errors. Particles and chains are independent, so every estimate is a mean over
independent units (a particle's or chain's time average of (z − z̄)(z − z̄)ᵀ over the window) and
its standard error is their std/√n. Burn-in and window are in units of the slowest relaxation time
1/h_min of the slice (h the reduced-Hessian eigenvalues): the variance relaxes like e^(−2 h t).

The expected O(η) bias. The discrete chain xₖ₊₁ = (1 − τH)xₖ + noise (cov 2Dτ) has the
stationary covariance of the discrete Lyapunov equation Σ = AΣAᵀ + 2Dτ, A = I − τH, instead of
HΣ + ΣH = 2D; along a Hessian eigendirection h it is Var_SDE/(1 − τh/2) exactly, and the (i, j)
entry in the eigenbasis is multiplied by (h_i + h_j)/(h_i + h_j − τ h_i h_j). Real SGD has τ = η,
the particles τ = dt. The comparison adds this linearised bias to the PDE answer
(Σ_pred = Σ_PDE + Σ_disc,lin − Σ_lyap,lin) and reports, per direction, the predicted factor
1/(1 − ηh/2) against the measured SGD/PDE variance ratio.

Escape (optional, ``escape=``): leaving the box |z_i| < c·s_i (``("box", c)``, s_i the linearised
stationary std, sqrt of the Lyapunov diagonal) or reaching L_red(z) ≥ L* + ΔL (``("loss", ΔL)``),
defined on the projected coordinates for all three methods (for SGD: z_k = Vᵀ(θ_k − θ*) and
L(θ* + V z_k), so that the three answer the same question). Particles and SGD detect the event at
step ends only, which delays it like a boundary moved outwards by 0.5826·sqrt(2 D_nn τ)
(Broadie–Glasserman–Kou, :func:`fpsolve.compare.monitoring_shift`); for the box target the PDE
is solved again with the box widened by exactly that shift for τ = dt and τ = η, and those are the
references of the particle and SGD MFPTs. For the loss target no such correction is made (the
report says so). Times are SDE times t = k·η.

What the cross-check guarantees, and what not. PDE and particles solve the same model, so
beyond their standard errors (after the predicted τ-bias, and the grid error) they must agree:
a disagreement is a bug. Real SGD is a different process: it also moves in the d − k directions
orthogonal to V (which the reduced model freezes at θ*; through the non-quadratic loss they
shift and broaden the projected law), its noise is state dependent (Σ₁(θ), not Σ₁(θ*)) and not
Gaussian, and its O(η) bias is predicted here only for the linearised landscape. SGD vs PDE
agreement is therefore approximate; the report gives the gap in standard errors, with and
without the bias correction, and does not hide it. Exact agreement is expected only for a model
whose loss is quadratic with (nearly) additive noise, at small η.
"""
from __future__ import annotations

import copy
import math
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from scipy.linalg import solve_continuous_lyapunov, solve_discrete_lyapunov
from torch import nn
from torch.func import functional_call, grad, vmap

from ..errors import InputError
from ..geometry.grid import Grid
from ..models.fokker_planck import FokkerPlanck
from ..particles import first_passage, simulate
from .objective import Objective
from .reduced import ReducedLandscape, reduced_model
from .train import TrainResult

BGK = 0.5825971579390106  # Broadie–Glasserman–Kou constant −ζ(1/2)/sqrt(2π)
# elements (points × samples × widest layer) evaluated in one vmapped call
_BUDGET = 2 ** 22


# ---------------------------------------------------------------------------------------------
# the network on a device, as functions of z (numpy or torch) and of many θ (SGD chains)
# ---------------------------------------------------------------------------------------------
class _Net:
    """The objective's network, data, θ* and V on ``device`` (float64)."""

    def __init__(self, obj: Objective, red: ReducedLandscape, device):
        self.obj, self.red = obj, red
        self.device = torch.device(device)
        self.dtype = torch.float64
        kw = dict(device=self.device, dtype=self.dtype)
        self.module = copy.deepcopy(obj.module).to(**kw).eval()
        self.buffers = {n: b.to(self.device) for n, b in obj.buffers.items()}
        self.X = obj.X.to(**kw)
        self.Y = obj.Y.to(**kw)
        self.ell = obj._ell
        self.theta_star = torch.as_tensor(red.theta_star, **kw)
        self.V = torch.as_tensor(red.directions, **kw)
        self.n = obj.n_samples
        self.chunk = max(1, _BUDGET // max(1, self.n * obj._width()))

    def unflatten(self, theta):
        parts = torch.split(theta, self.obj.numels)
        return {n: p.view(s) for n, p, s in zip(self.obj.names, parts, self.obj.shapes)}

    def forward(self, theta, X):
        return functional_call(self.module, (self.unflatten(theta), self.buffers), (X,))

    def loss(self, theta, X, Y):
        return self.ell(self.forward(theta, X), Y).mean()

    def full_loss(self, theta):
        return self.loss(theta, self.X, self.Y)

    def _thetas(self, cols):
        Z = torch.stack([c.reshape(-1).to(device=self.device, dtype=self.dtype) for c in
                         torch.broadcast_tensors(*cols)], dim=1)
        return self.theta_star[None, :] + Z @ self.V.T

    # -- callables of the coordinates for FokkerPlanck / particles (numpy or torch) ------------
    def potential(self, *cols):
        """L_red(z): numpy in → numpy out (the ReducedLandscape), torch in → torch out."""
        if not isinstance(cols[0], torch.Tensor):
            return self.red.potential(*cols)
        shape, dev, dt = torch.broadcast_tensors(*cols)[0].shape, cols[0].device, cols[0].dtype
        th = self._thetas(cols)
        f = vmap(self.full_loss)
        out = torch.cat([f(th[i:i + self.chunk]) for i in range(0, th.shape[0], self.chunk)])
        return out.reshape(shape).to(device=dev, dtype=dt)

    def gradient(self, *cols):
        """∇_z L_red = Vᵀ ∇L(θ* + V z), one array per axis (numpy or torch like the input)."""
        if not isinstance(cols[0], torch.Tensor):
            return self.red.gradient(*cols)
        shape, dev, dt = torch.broadcast_tensors(*cols)[0].shape, cols[0].device, cols[0].dtype
        th = self._thetas(cols)
        f = vmap(grad(self.full_loss))
        G = torch.cat([f(th[i:i + self.chunk]) @ self.V
                       for i in range(0, th.shape[0], self.chunk)])
        return tuple(G[:, j].reshape(shape).to(device=dev, dtype=dt) for j in range(G.shape[1]))


# ---------------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------------
@dataclass
class CrossCheck:
    """Result of :func:`crosscheck`; all covariances are of z = Vᵀ(θ − θ*) (units θ²), all times
    SDE times t = k·η. ``*_se`` are standard errors; ``*_z`` are (estimate − prediction)/se.

    Settings: lr (η), batch_size (B), replacement, k, n_params (d), n_samples (N), seed, device,
    hessian_eigenvalues (h, (k,)), reduced_hessian, diffusion (D_red), bounds, loss_star,
    gradient_star (Vᵀ∇L(θ*), ≈ 0 at a minimum), relax_time (1/h_min).

    PDE: pde_mean, pde_cov, pde_grid_error (|fine − coarse|/3), lyapunov_cov (linearised:
    HΣ + ΣH = 2D), grid_shape, pde_info.

    Particles (Euler–Maruyama of the same SDE, step particle_dt): particle_mean(_se),
    particle_cov(_se), particle_predicted_cov (PDE + linearised dt-bias), particle_z,
    particle_mean_z.

    SGD (n_chains chains, burn_in_steps + sample_steps iterations): sgd_mean(_se), sgd_cov(_se),
    sgd_predicted_cov (PDE + linearised η-bias), sgd_z (against the prediction),
    sgd_z_uncorrected (against the PDE alone), bias_factor (1/(1 − ηh/2) per direction),
    bias_factor_matrix ((h_i + h_j)/(h_i + h_j − ηh_ih_j) in the eigenbasis), variance_ratio
    (SGD/PDE per direction) and variance_ratio_se, ratio_gap (ratio − factor in units of its se).

    escape : None, or a dict (see :meth:`summary`): kind, level, target description, pde_mfpt,
    pde_mfpt_dt / pde_mfpt_eta (monitoring-corrected references; None for the loss target),
    particle_mfpt(_se), particle_censored, sgd_mfpt(_se), sgd_censored, particle_z, sgd_z.
    timings : seconds spent per stage.
    """
    lr: float
    batch_size: int
    replacement: bool
    k: int
    n_params: int
    n_samples: int
    seed: int
    device: str
    hessian_eigenvalues: np.ndarray
    reduced_hessian: np.ndarray
    diffusion: np.ndarray
    bounds: list
    loss_star: float
    gradient_star: np.ndarray
    relax_time: float
    # PDE
    pde_mean: np.ndarray
    pde_cov: np.ndarray
    pde_grid_error: np.ndarray
    lyapunov_cov: np.ndarray
    grid_shape: tuple
    # particles
    particle_dt: float
    n_particles: int
    particle_mean: np.ndarray
    particle_mean_se: np.ndarray
    particle_cov: np.ndarray
    particle_cov_se: np.ndarray
    particle_predicted_cov: np.ndarray
    # SGD
    n_chains: int
    burn_in_steps: int
    sample_steps: int
    sgd_mean: np.ndarray
    sgd_mean_se: np.ndarray
    sgd_cov: np.ndarray
    sgd_cov_se: np.ndarray
    sgd_predicted_cov: np.ndarray
    bias_factor: np.ndarray
    bias_factor_matrix: np.ndarray
    escape: dict | None = None
    pde_info: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    # -- derived numbers -------------------------------------------------------------------------
    @staticmethod
    def _z(est, ref, se, extra=None):
        se2 = np.asarray(se, float) ** 2 + (0.0 if extra is None else np.asarray(extra) ** 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (np.asarray(est) - np.asarray(ref)) / np.sqrt(se2)

    @property
    def particle_z(self) -> np.ndarray:
        """(particle cov − PDE cov − dt-bias) / sqrt(se² + grid error²), (k, k)."""
        return self._z(self.particle_cov, self.particle_predicted_cov, self.particle_cov_se,
                       self.pde_grid_error)

    @property
    def particle_mean_z(self) -> np.ndarray:
        """(particle mean − PDE mean) / its standard error, per direction (shape (k,))."""
        return self._z(self.particle_mean, self.pde_mean, self.particle_mean_se)

    @property
    def sgd_z(self) -> np.ndarray:
        """(SGD cov − PDE cov − η-bias) / sqrt(se² + grid error²), (k, k)."""
        return self._z(self.sgd_cov, self.sgd_predicted_cov, self.sgd_cov_se, self.pde_grid_error)

    @property
    def sgd_z_uncorrected(self) -> np.ndarray:
        """(SGD cov − PDE cov) / sqrt(se² + grid error²), (k, k), without the O(η) bias correction
        (compare :attr:`sgd_z`).
        """
        return self._z(self.sgd_cov, self.pde_cov, self.sgd_cov_se, self.pde_grid_error)

    @property
    def sgd_mean_z(self) -> np.ndarray:
        """(SGD mean − PDE mean) / its standard error, per direction (shape (k,))."""
        return self._z(self.sgd_mean, self.pde_mean, self.sgd_mean_se)

    @property
    def variance_ratio(self) -> np.ndarray:
        """Var_SGD / Var_PDE per direction (diagonal), (k,)."""
        return np.diag(self.sgd_cov) / np.diag(self.pde_cov)

    @property
    def variance_ratio_se(self) -> np.ndarray:
        """Standard error of :attr:`variance_ratio` (SGD sampling error and PDE grid error
        combined), shape (k,).
        """
        r = self.variance_ratio
        rel = np.hypot(np.diag(self.sgd_cov_se) / np.diag(self.sgd_cov),
                       np.diag(self.pde_grid_error) / np.diag(self.pde_cov))
        return r * rel

    @property
    def ratio_gap(self) -> np.ndarray:
        """(Var_SGD/Var_PDE − 1/(1 − ηh/2)) in units of the ratio's standard error, (k,)."""
        return (self.variance_ratio - self.bias_factor) / self.variance_ratio_se

    @staticmethod
    def _maxabs(z):
        z = np.asarray(z, float)
        iu = np.triu_indices(z.shape[0]) if z.ndim == 2 else slice(None)
        return float(np.max(np.abs(z[iu])))

    @property
    def particles_agree(self) -> bool:
        """PDE and particles (same SDE) agree: every covariance entry within 4 standard errors
        after the predicted dt-bias."""
        return self._maxabs(self.particle_z) <= 4.0

    @property
    def sgd_agrees(self) -> bool:
        """SGD agrees with PDE + predicted η-bias within 4 standard errors (approximate by
        nature; see the module docstring)."""
        return self._maxabs(self.sgd_z) <= 4.0

    # -- output ----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain Python types (lists, floats), including the derived z-scores and ratios."""
        out = {}
        for key, val in asdict(self).items():
            out[key] = _plain(val)
        for key in ("particle_z", "particle_mean_z", "sgd_z", "sgd_z_uncorrected", "sgd_mean_z",
                    "variance_ratio", "variance_ratio_se", "ratio_gap", "particles_agree",
                    "sgd_agrees"):
            out[key] = _plain(getattr(self, key))
        return out

    def summary(self) -> str:
        """A readable report of every estimate with its standard error, the z-scores and the
        verdict (several lines).
        """
        k = self.k
        f = "{:.4g}".format
        pm = lambda v, s: f"{v:.4g} ± {s:.2g}"  # noqa: E731
        lines = [
            f"crosscheck: d = {self.n_params} parameters, N = {self.n_samples}, η = {self.lr:g}, "
            f"B = {self.batch_size} ({'with' if self.replacement else 'without'} replacement), "
            f"k = {k} top-Hessian directions, device {self.device}",
            f"  h = {np.array2string(self.hessian_eigenvalues, precision=4)}, ηh = "
            f"{np.array2string(self.lr * self.hessian_eigenvalues, precision=3)}, relaxation "
            f"time 1/h_min = {self.relax_time:.4g} (t = k·η)",
            f"  PDE grid {self.grid_shape}; particles: {self.n_particles}, EM dt = "
            f"{self.particle_dt:.3g}; SGD: {self.n_chains} chains, {self.burn_in_steps} burn-in + "
            f"{self.sample_steps} sampled steps",
            "",
            f"  {'quantity':<12}{'PDE':>13}{'(grid err)':>11}{'particles ± se':>22}"
            f"{'SGD ± se':>22}{'PDE+η-bias':>13}",
        ]
        for i in range(k):
            lines.append(f"  {'mean[%d]' % i:<12}{f(self.pde_mean[i]):>13}{'':>11}"
                         f"{pm(self.particle_mean[i], self.particle_mean_se[i]):>22}"
                         f"{pm(self.sgd_mean[i], self.sgd_mean_se[i]):>22}")
        for i in range(k):
            for j in range(i, k):
                lines.append(
                    f"  {'cov[%d,%d]' % (i, j):<12}{f(self.pde_cov[i, j]):>13}"
                    f"{self.pde_grid_error[i, j]:>11.1e}"
                    f"{pm(self.particle_cov[i, j], self.particle_cov_se[i, j]):>22}"
                    f"{pm(self.sgd_cov[i, j], self.sgd_cov_se[i, j]):>22}"
                    f"{f(self.sgd_predicted_cov[i, j]):>13}")
        pz, sz, su = (self._maxabs(z) for z in (self.particle_z, self.sgd_z,
                                                self.sgd_z_uncorrected))
        lines += [
            "",
            f"  particles vs PDE (same SDE, dt-bias corrected): max |z| = {pz:.2f} → "
            f"{'agree' if self.particles_agree else 'DISAGREE (a bug: same model, two methods)'}",
            f"  SGD vs PDE: max |z| = {su:.2f} uncorrected, {sz:.2f} after the predicted O(η) "
            f"bias → {'agree' if self.sgd_agrees else 'gap beyond errors + bias'}",
        ]
        for i in range(k):
            lines.append(
                f"    direction {i}: Var_SGD/Var_PDE = {self.variance_ratio[i]:.4f} ± "
                f"{self.variance_ratio_se[i]:.2g}; predicted 1/(1 − ηh/2) = "
                f"{self.bias_factor[i]:.4f}; gap {self.ratio_gap[i]:+.2f} se")
        e = self.escape
        if e:
            lines += ["", f"  escape ({e['target']}), MFPT from z = 0, t = k·η:",
                      f"    PDE (continuous monitoring) {e['pde_mfpt']:.4g}"]
            if e.get("pde_mfpt_dt") is not None:
                lines.append(f"    PDE with the monitoring shift for dt / η: "
                             f"{e['pde_mfpt_dt']:.4g} / {e['pde_mfpt_eta']:.4g}")
            else:
                lines.append("    (loss target: no monitoring correction; particles and SGD are "
                             "biased late by O(sqrt(step)))")
            lines.append(f"    particles {pm(e['particle_mfpt'], e['particle_mfpt_se'])} "
                         f"(censored {e['particle_censored']}), z = {e['particle_z']:+.2f}")
            if e.get("sgd_mfpt") is not None:
                lines.append(f"    SGD       {pm(e['sgd_mfpt'], e['sgd_mfpt_se'])} "
                             f"(censored {e['sgd_censored']}), z = {e['sgd_z']:+.2f}")
        if self.timings:
            lines += ["", "  time (s): " + ", ".join(f"{a} {b:.1f}" for a, b in
                                                      self.timings.items())]
        return "\n".join(lines)

    def __str__(self):
        return self.summary()


def _plain(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer, np.bool_)):
        return v.item()
    if isinstance(v, dict):
        return {str(a): _plain(b) for a, b in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(b) for b in v]
    return v


# ---------------------------------------------------------------------------------------------
# the function
# ---------------------------------------------------------------------------------------------
def _resolve_device(device):
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InputError(f"crosscheck: device {device!r} is not a torch device.") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("crosscheck: device 'cuda' was asked for but CUDA is not available; "
                         "pass device=None (automatic) or 'cpu'.")
    return str(dev)


def _positive(name, v, integer=False, minimum=None):
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
    ok = ok and math.isfinite(float(v)) and v > 0
    if ok and integer:
        ok = int(v) == v
    if ok and minimum is not None:
        ok = v >= minimum
    if not ok:
        what = "an integer" if integer else "a number"
        lim = f" ≥ {minimum}" if minimum is not None else " > 0"
        raise InputError(f"crosscheck: {name} must be {what}{lim}; got {v!r}.")
    return int(v) if integer else float(v)


def _escape_spec(escape):
    """None, or (kind, level) with kind 'box' (half-widths in linearised stds) or 'loss' (ΔL,
    None = default)."""
    if escape is None or escape is False:
        return None
    if isinstance(escape, str):
        escape = (escape, None)
    if not (isinstance(escape, (tuple, list)) and len(escape) == 2 and escape[0] in ("box",
                                                                                     "loss")):
        raise InputError(f"crosscheck: escape must be None, 'box', 'loss', ('box', c) with c the "
                         f"box half-width in stationary standard deviations, or ('loss', ΔL) with "
                         f"ΔL > 0 the loss increase above L(θ*); got {escape!r}.")
    kind, level = escape
    if level is not None:
        level = _positive(f"the escape level of {kind!r}", level)
    return kind, level


def crosscheck(model, data=None, *, lr: float, batch_size: int, loss=None, k: int = 2,
               theta=None, replacement: bool = True, escape=None, grid_cells: int | None = None,
               n_std: float = 6.0, n_particles: int = 2048, particle_dt: float | None = None,
               n_chains: int = 256, burn_in: float = 5.0, window: float = 10.0,
               n_snapshots: int = 11, escape_t_max: float | None = None,
               seed: int = 0, device=None, backend: str = "torch") -> CrossCheck:
    """Compare the reduced Fokker–Planck PDE, particles of its SDE, and real mini-batch SGD on
    the full network near a trained minimum (see the module docstring for what is guaranteed).

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
    # -- arguments, all checked before any work ---------------------------------------------
    if isinstance(model, TrainResult):
        model = model.model
    if not isinstance(model, (nn.Module, Objective)):
        raise InputError(f"crosscheck: model must be a torch.nn.Module (a trained network) or a "
                         f"TrainResult; got {type(model).__name__}.")
    if isinstance(model, Objective):
        if data is not None or loss is not None:
            raise InputError("crosscheck: an Objective carries its data and loss; pass data=None.")
        module = model.module
    else:
        module = model
        if data is None:
            raise InputError("crosscheck: data is required (a Dataset or an (X, y) pair).")
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules()):
        raise InputError("crosscheck: networks with BatchNorm are not supported: in training mode "
                         "the loss is not a sum of per-sample terms, so SGD is not the SDE of "
                         "the reduced model.")
    lr = _positive("lr", lr)
    batch_size = _positive("batch_size", batch_size, integer=True)
    if k not in (1, 2) or isinstance(k, bool):
        raise InputError(f"crosscheck: k must be 1 or 2 (top-Hessian directions); got {k!r}.")
    n_std = _positive("n_std", n_std, minimum=3.0)
    n_particles = _positive("n_particles", n_particles, integer=True, minimum=16)
    n_chains = _positive("n_chains", n_chains, integer=True, minimum=4)
    burn_in = _positive("burn_in", burn_in)
    window = _positive("window", window)
    n_snapshots = _positive("n_snapshots", n_snapshots, integer=True)
    if particle_dt is not None:
        particle_dt = _positive("particle_dt", particle_dt)
    if escape_t_max is not None:
        escape_t_max = _positive("escape_t_max", escape_t_max)
    if grid_cells is None:
        grid_cells = 201 if k == 1 else 81
    grid_cells = _positive("grid_cells", grid_cells, integer=True, minimum=11)
    grid_cells += 1 - grid_cells % 2  # odd: a cell centre at z = 0
    if backend not in ("torch", "numba"):
        raise InputError(f"crosscheck: backend must be 'torch' or 'numba'; got {backend!r}.")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise InputError(f"crosscheck: seed must be a non-negative integer; got {seed!r}.")
    esc = _escape_spec(escape)
    device = _resolve_device(device)
    if backend == "numba" and torch.device(device).type != "cpu":
        raise InputError("crosscheck: backend='numba' runs on the CPU; use backend='torch' for "
                         f"device {device!r}.")
    obj = model if isinstance(model, Objective) else Objective(module, data, loss)
    N = obj.n_samples
    if (replacement and batch_size < 1) or (not replacement and batch_size > N):
        raise InputError(f"crosscheck: batch_size={batch_size} is invalid for N={N} samples.")
    if not replacement and batch_size == N:
        raise InputError("crosscheck: batch_size = N without replacement is full-batch gradient "
                         "descent: there is no noise to compare.")
    ss = np.random.SeedSequence(int(seed))
    seed_lanczos, seed_part, seed_esc, seed_sgd = (int(s.generate_state(1)[0]) for s in
                                                   ss.spawn(4))

    # -- 1. the reduced model ------------------------------------------------------------------
    timings = {}
    t0 = time.perf_counter()
    red = reduced_model(obj, theta=theta, k=k, seed=seed_lanczos % (2 ** 31))
    H = red.reduced_hessian
    D = red.diffusion(lr, batch_size, replacement)
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
                      RuntimeWarning, stacklevel=2)
    if np.any(np.diag(D) <= 0):
        raise InputError("crosscheck: the gradient noise vanishes along a slice direction "
                         "(D_red has a zero diagonal): no stationary spread to compare.")
    Sig_lyap = solve_continuous_lyapunov(H, 2.0 * D)
    Sig_lyap = 0.5 * (Sig_lyap + Sig_lyap.T)
    s_lin = np.sqrt(np.diag(Sig_lyap))
    offset = np.linalg.solve(H, red.gradient_star) / s_lin
    if np.max(np.abs(offset)) > 0.2:
        warnings.warn(f"crosscheck: θ* is not a minimum to within 0.2 stationary standard "
                      f"deviations (Newton offset {offset} in units of them); train or polish "
                      f"further, or the PDE mean moves by that much.", RuntimeWarning,
                      stacklevel=2)
    relax = 1.0 / float(h.min())
    dt_p = particle_dt if particle_dt is not None else 0.5 * lr
    if dt_p * h.max() >= 1.0:
        raise InputError(f"crosscheck: particle_dt·h_max = {dt_p * h.max():.3g} ≥ 1; use a "
                         f"smaller particle_dt.")
    net = _Net(obj, red, device)
    bounds = [tuple(map(float, b)) for b in red.suggest_bounds(lr, batch_size, n_std,
                                                               replacement)]
    timings["reduced model"] = time.perf_counter() - t0

    # -- 2. PDE ---------------------------------------------------------------------------------
    t0 = time.perf_counter()
    grid = Grid(bounds, grid_cells)
    def reduced_fp(g):
        """The reduced model on grid g (scalar D in 1D), with the network's exact gradient for
        the particles (numpy and torch inputs)."""
        return FokkerPlanck(g, potential=red.potential, gradient=net.gradient,
                            diffusion=D if k > 1 else float(D[0, 0]))

    pde_model = reduced_fp(grid)
    p = pde_model.stationary()
    pde_mean, pde_cov = p.mean(), p.cov()
    coarse_cells = (grid_cells // 2) | 1
    pc = reduced_fp(Grid(bounds, coarse_cells)).stationary()
    grid_err = np.abs(pde_cov - pc.cov()) / 3.0
    pde_info = {"method": p.info.get("method"), "m_matrix": p.info.get("m_matrix"),
                "residual": p.info.get("residual"), "coarse_cells": coarse_cells,
                "mean_grid_error": (np.abs(pde_mean - pc.mean()) / 3.0).tolist()}
    timings["PDE"] = time.perf_counter() - t0

    # -- predicted discrete bias (linearised) -----------------------------------------------------
    def disc(tau):
        A = np.eye(k) - tau * H
        S = solve_discrete_lyapunov(A, 2.0 * D * tau)
        return 0.5 * (S + S.T)

    part_pred = pde_cov + disc(dt_p) - Sig_lyap
    sgd_pred = pde_cov + disc(lr) - Sig_lyap
    hd = np.diag(H)
    bias_factor = 1.0 / (1.0 - lr * hd / 2.0)
    # exact for a quadratic whose slice axes are Hessian eigenvectors (kind "hessian": H diagonal)
    F = (hd[:, None] + hd[None, :]) / (hd[:, None] + hd[None, :] - lr * hd[:, None] * hd[None, :])

    # -- 3. particles -----------------------------------------------------------------------------
    t0 = time.perf_counter()
    t_burn, t_win = burn_in * relax, window * relax
    times = t_burn + np.linspace(0.0, t_win, n_snapshots) if n_snapshots > 1 else \
        np.array([t_burn + t_win])
    sim_kw = dict(backend=backend, seed=seed_part)
    if backend == "torch":
        sim_kw.update(device=device, fuse=1)
    sim = simulate(pde_model, np.zeros(k), n=n_particles, dt=dt_p, times=times, **sim_kw)
    Zp = np.stack(sim.positions, axis=1)  # (n, m, k)
    p_mean, p_mean_se, p_cov, p_cov_se = _stats(Zp)
    timings["particles"] = time.perf_counter() - t0

    # -- escape references (PDE) -------------------------------------------------------------------
    esc_out = None
    target_z = None  # the escape event on the projected coordinates, for particles and SGD
    if esc is not None:
        t0 = time.perf_counter()
        kind, level = esc
        if kind == "box":
            c = (2.5 if level is None else level) * s_lin

            def mfpt_box(widths):
                m = max(20, (grid_cells - 5) // 2)
                hh = widths / m
                g = Grid([(-(m + 2.5) * x, (m + 2.5) * x) for x in hh], 2 * m + 5)
                model_b = reduced_fp(g)
                tol = widths * (1 - 1e-9)
                tau = model_b.mean_first_passage_time(
                    lambda *z: np.any([np.abs(zi) >= ti for zi, ti in zip(z, tol)], axis=0))
                return _at_origin(tau, k)

            pde_mfpt = mfpt_box(c)
            shift_dt = BGK * np.sqrt(2.0 * np.diag(D) * dt_p)
            shift_eta = BGK * np.sqrt(2.0 * np.diag(D) * lr)
            pde_mfpt_dt, pde_mfpt_eta = mfpt_box(c + shift_dt), mfpt_box(c + shift_eta)
            if np.any(c + shift_eta > np.array([b[1] for b in bounds])):
                raise InputError(f"crosscheck: the escape box (half-widths {c + shift_eta}) "
                                 f"does not fit in the PDE box {bounds}; lower the level or "
                                 f"raise n_std.")
            ct = [float(x) for x in c]

            def outside_box(*z):
                out = abs(z[0]) >= ct[0]
                for zi, ci in zip(z[1:], ct[1:]):
                    out = out | (abs(zi) >= ci)
                return out

            target_z = outside_box

            desc = "leave |z_i| < " + ", ".join(f"{x:.3g}" for x in c) + \
                f" ({2.5 if level is None else level:g} linearised std)"
        else:
            dL = 2.0 * float(np.trace(D)) if level is None else level
            thr = float(red.loss_star) + dL
            mask = pde_model.grid.coords
            U = pde_model.U if pde_model.U is not None else red.potential(*mask)
            edge = np.zeros(grid.shape, bool)
            for a in range(k):
                sl = [slice(None)] * k
                sl[a] = 0
                edge[tuple(sl)] = True
                sl[a] = -1
                edge[tuple(sl)] = True
            if not np.all(U[edge] >= thr):
                raise InputError(f"crosscheck: the loss threshold L* + {dL:.3g} is not reached on "
                                 f"the whole boundary of the PDE box; raise n_std or lower ΔL.")
            if float(red.potential(*([0.0] * k))) >= thr:
                raise InputError("crosscheck: the loss threshold is already reached at θ*.")
            tau = pde_model.mean_first_passage_time(lambda *z: U >= thr)
            pde_mfpt = _at_origin(tau, k)
            pde_mfpt_dt = pde_mfpt_eta = None

            def above_threshold(*z):
                return net.potential(*z) >= thr

            target_z = above_threshold

            desc = f"reach L_red ≥ L* + {dL:.3g}"
        t_max = escape_t_max if escape_t_max is not None else 20.0 * pde_mfpt
        esc_out = {"kind": kind, "level": level, "target": desc, "pde_mfpt": pde_mfpt,
                   "pde_mfpt_dt": pde_mfpt_dt, "pde_mfpt_eta": pde_mfpt_eta, "t_max": t_max}
        timings["PDE escape"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        fpr = first_passage(pde_model, np.zeros(k), target_z, n=n_particles, dt=dt_p,
                            t_max=t_max, backend=backend, seed=seed_esc,
                            **({"device": device, "fuse": 1} if backend == "torch" else {}))
        ref_p = pde_mfpt_dt if pde_mfpt_dt is not None else pde_mfpt
        esc_out.update(particle_mfpt=fpr.mean, particle_mfpt_se=fpr.stderr,
                       particle_censored=int(fpr.censored),
                       particle_z=float((fpr.mean - ref_p) / fpr.stderr))
        timings["particles escape"] = time.perf_counter() - t0

    # -- 4. SGD -----------------------------------------------------------------------------------
    t0 = time.perf_counter()
    n_burn = int(math.ceil(t_burn / lr))
    n_samp = max(1, int(math.ceil(t_win / lr)))
    n_esc = int(math.ceil(esc_out["t_max"] / lr)) if esc_out else 0
    sgd = _sgd_chains(net, lr, batch_size, replacement, n_chains, n_burn, n_samp, n_esc,
                      target_z if esc_out else None, seed_sgd)
    s_mean, s_mean_se, s_cov, s_cov_se = _stats_from_sums(*sgd["sums"])
    if esc_out:
        et = sgd["exit_steps"]
        hit = et >= 0
        times_hit = et[hit] * lr
        m = float(times_hit.mean()) if hit.any() else float("nan")
        se = float(times_hit.std(ddof=1) / np.sqrt(hit.sum())) if hit.sum() > 1 else float("nan")
        ref_s = esc_out["pde_mfpt_eta"] if esc_out["pde_mfpt_eta"] is not None else \
            esc_out["pde_mfpt"]
        esc_out.update(sgd_mfpt=m, sgd_mfpt_se=se, sgd_censored=int((~hit).sum()),
                       sgd_z=float((m - ref_s) / se))
    timings["SGD"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_all

    return CrossCheck(
        lr=lr, batch_size=batch_size, replacement=bool(replacement), k=k,
        n_params=obj.n_params, n_samples=N, seed=int(seed), device=device,
        hessian_eigenvalues=(red.hessian_eigenvalues if red.hessian_eigenvalues is not None
                             else hd).copy(),
        reduced_hessian=H, diffusion=D, bounds=bounds, loss_star=float(red.loss_star),
        gradient_star=np.asarray(red.gradient_star), relax_time=relax,
        pde_mean=pde_mean, pde_cov=pde_cov, pde_grid_error=grid_err, lyapunov_cov=Sig_lyap,
        grid_shape=tuple(grid.shape),
        particle_dt=float(dt_p), n_particles=n_particles, particle_mean=p_mean,
        particle_mean_se=p_mean_se, particle_cov=p_cov, particle_cov_se=p_cov_se,
        particle_predicted_cov=part_pred,
        n_chains=n_chains, burn_in_steps=n_burn, sample_steps=n_samp, sgd_mean=s_mean,
        sgd_mean_se=s_mean_se, sgd_cov=s_cov, sgd_cov_se=s_cov_se, sgd_predicted_cov=sgd_pred,
        bias_factor=bias_factor, bias_factor_matrix=F,
        escape=esc_out, pde_info=pde_info, timings=timings)


# ---------------------------------------------------------------------------------------------
# statistics over independent units
# ---------------------------------------------------------------------------------------------
def _at_origin(field_, k):
    return float(np.ravel(field_.at(np.zeros(k) if k > 1 else 0.0))[0])


def _stats(Z):
    """Z: (n units, m times, k). Returns mean, its se, covariance, its se (k, k), where each
    unit contributes its time average; units are independent."""
    n, m, k = Z.shape
    S1 = Z.sum(axis=1)
    S2 = np.einsum("nti,ntj->nij", Z, Z)
    return _stats_from_sums(S1, S2, m)


def _stats_from_sums(S1, S2, m):
    """Per-unit sums over m times of z (n, k) and z zᵀ (n, k, k) → mean, se, cov, se."""
    S1, S2 = np.asarray(S1, float), np.asarray(S2, float)
    n = S1.shape[0]
    mu_u = S1 / m                                   # per-unit mean
    M_u = S2 / m                                    # per-unit second moment
    mu = mu_u.mean(axis=0)
    # per-unit time average of (z − z̄)(z − z̄)ᵀ about the grand mean z̄
    C_u = M_u - mu_u[:, :, None] * mu[None, None, :] - mu[None, :, None] * mu_u[:, None, :] \
        + mu[None, :, None] * mu[None, None, :]
    cov = C_u.mean(axis=0)
    cov = 0.5 * (cov + cov.T)
    cov_se = C_u.std(axis=0, ddof=1) / np.sqrt(n)
    cov_se = 0.5 * (cov_se + cov_se.T)
    mean_se = mu_u.std(axis=0, ddof=1) / np.sqrt(n)
    return mu, mean_se, cov, cov_se


def _sgd_chains(net: _Net, lr, B, replacement, C, n_burn, n_samp, n_esc, target, seed):
    """Real mini-batch SGD on all parameters, C independent chains vectorised with vmap, from θ*.
    Returns per-chain sums over the sampled window of z and z zᵀ, and the first step at which
    each chain's z is in the escape target (−1: not by the end)."""
    dev, N = net.device, net.n
    gen = torch.Generator(device=dev)
    gen.manual_seed(int(seed) % (2 ** 63))
    theta = net.theta_star[None, :].repeat(C, 1)
    k = net.V.shape[1]

    def batch_loss(th, xb, yb):
        return net.loss(th, xb, yb)

    g = vmap(grad(batch_loss))
    S1 = torch.zeros(C, k, device=dev, dtype=net.dtype)
    S2 = torch.zeros(C, k, k, device=dev, dtype=net.dtype)
    exit_step = torch.full((C,), -1, dtype=torch.int64, device=dev)
    total = max(n_burn + n_samp, n_esc)
    for step in range(1, total + 1):
        if replacement:
            idx = torch.randint(0, N, (C, B), generator=gen, device=dev)
        else:
            idx = torch.rand(C, N, generator=gen, device=dev).argsort(dim=1)[:, :B]
        theta = theta - lr * g(theta, net.X[idx], net.Y[idx])
        z = (theta - net.theta_star[None, :]) @ net.V
        if step > n_burn and step <= n_burn + n_samp:
            S1 += z
            S2 += z[:, :, None] * z[:, None, :]
        if target is not None and step <= n_esc:
            open_ = exit_step < 0
            if bool(open_.any()):
                hit = target(*z.unbind(-1)) & open_
                exit_step = torch.where(hit, torch.full_like(exit_step, step), exit_step)
            elif step > n_burn + n_samp:
                break
        if step % 64 == 0 and not bool(torch.isfinite(theta).all()):
            raise InputError(f"crosscheck: SGD diverged at step {step} (η = {lr} too large for "
                             f"the full network, although stable on the slice).")
    return {"sums": (S1.cpu().numpy(), S2.cpu().numpy(), n_samp),
            "exit_steps": exit_step.cpu().numpy()}
