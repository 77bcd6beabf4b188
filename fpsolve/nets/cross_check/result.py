"""The result of :func:`fpsolve.nets.crosscheck`: the three answers side by side, with standard
errors, the predicted O(η) bias, and a printable summary."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


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
