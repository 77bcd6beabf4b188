"""Mori, Ziyin, Liu & Ueda, *Power-law escape rate of SGD* (seed 002).

Model (eqs. (4), (6), (12); :doc:`/theory/mori`): near a minimum θ* of a mean-square loss the SGD
noise covariance is Σ ≈ 2L(θ)H*/B (H* the Hessian at θ*, frozen), so the Itô SDE
dθ = −∇L dt + sqrt(ηΣ) dW has

    D(θ) = (η/B) L(θ) H*        (time t = k·η; Itô, since the noise is taken at θ_k).

The random time change dτ = L dt (13) turns it into additive noise on U = log L (14).
"""
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ..conventions import alpha_of
from ..errors import InputError
from ._checks import positive
from .quadrature import mfpt_1d, mfpt_interval_1d

__all__ = [
    "diffusion_scale", "stationary_exponent", "is_normalisable", "critical_dimension",
    "PowerLawLaw1D", "power_law_law_1d",
    "EscapeRate", "escape_rate", "MinibatchLoss", "minibatch_loss", "ThresholdPassage1D",
    "mfpt_loss_threshold_1d",
]


def diffusion_scale(learning_rate, batch_size, h_star):
    """Coefficient c of D(θ) = c·L(θ) in an isotropic direction: c = η h*/B (eq. (12))."""
    where = "diffusion_scale"
    return (positive(learning_rate, "learning_rate", where) * positive(h_star, "h_star", where)
            / positive(batch_size, "batch_size", where))


def stationary_exponent(learning_rate, batch_size, h_star, convention="ito"):
    """Eq. (17): p∞ ∝ L(θ)^(−φ), φ = 1 + B/(η h*), for isotropic H* = h* I (Itô).

    Exact zero-flux law for D = (η h*/B) L I in any dimension: ∇(D p) = −∇L p gives
    L p ∝ L^(−B/(ηh*)). For another convention α the same computation gives p ∝ D^(α−1) exp(−∫L′/D),
    φ_α = 1 − α + B/(η h*) (the paper's value is the Itô one, α = 0).
    """
    alpha = alpha_of(convention, "stationary_exponent")
    return 1.0 - alpha + 1.0 / diffusion_scale(learning_rate, batch_size, h_star)


def is_normalisable(n, phi):
    """Whether L^(−φ) is normalisable on R^n for L ≈ L* + h|θ|²/2 (L* > 0): iff n < 2φ.

    (p ~ |θ|^(−2φ) at infinity against the volume element |θ|^(n−1).) On a bounded zero-flux box the
    law is always normalisable. Use :func:`critical_dimension` for the equivalent bound on n.
    """
    n = int(n)
    if n < 1:
        raise InputError("is_normalisable: n must be a positive integer.")
    return bool(n < 2 * float(phi))


def critical_dimension(learning_rate, batch_size, h_e):
    """Eq. (16): a minimum is stable only if its effective dimension n < n_c = 2(B/(η h_e) + 1).

    n_c = 2φ: the same bound as normalisability of L^(−φ) (:doc:`/theory/mori`).
    """
    return 2.0 * (1.0 / diffusion_scale(learning_rate, batch_size, h_e) + 1.0)


@dataclass(frozen=True)
class PowerLawLaw1D:
    """Eq. (17) on the line: p ∝ L(θ)^(−φ) with L = L* + h θ²/2.

    A Student-t law: ``dof`` ν = 2φ − 1, ``scale`` sqrt(2L*/(h ν)) (θ = scale·T, T ~ t_ν);
    ``log_normaliser`` log ∫ L^(−φ) dθ; ``variance`` 2L*/(h(2φ − 3)) (inf for φ ≤ 3/2);
    ``tail_mass(R)`` = P(|θ| > R) (of order R^(1−2φ): 1.1e-5 beyond 2·10⁴ for φ = 1.05);
    ``distribution`` the frozen scipy.stats.t. Normalisable iff φ > 1/2.
    """
    phi: float
    dof: float
    scale: float
    log_normaliser: float
    variance: float
    distribution: object

    def density(self, theta):
        """p(θ), normalised."""
        return self.distribution.pdf(theta)

    def tail_mass(self, radius):
        """P(|θ| > radius)."""
        return 2.0 * self.distribution.sf(radius)


def power_law_law_1d(loss_minimum, h_star, phi):
    """Mori et al. eq. (17) in one dimension with L = L* + h* θ²/2: the normalised law L^(−φ).

    Zero-flux law of dθ = −L′ dt + sqrt(2cL) dW (Itô) with φ = 1 + 1/c, i.e. c = η h*/B
    (:func:`stationary_exponent`): ∫ (L* + hθ²/2)^(−φ) dθ = L*^(−φ) a √π Γ(φ − ½)/Γ(φ),
    a = sqrt(2L*/h), which is a Student-t with 2φ − 1 degrees of freedom. Its tails |θ|^(−2φ)
    are what a finite box cuts off (P(|θ| > 2·10⁴) = 1.1e-5 at φ = 1.05, L* = ½, h = 1, and the
    variance is infinite for φ ≤ 3/2); the reference for the
    model on the line (:doc:`/guide/grids`, "Domains to ±∞").
    """
    where = "power_law_law_1d"
    lm = positive(loss_minimum, "loss_minimum", where)
    h = positive(h_star, "h_star", where)
    phi = positive(phi, "phi", where)
    if not phi > 0.5:
        raise InputError(f"{where}: L^(−φ) is normalisable on the line only for φ > 1/2; got "
                         f"φ = {phi}.")
    from scipy import special, stats  # deferred: scipy.stats is slow to import, needed here only

    a = np.sqrt(2.0 * lm / h)
    nu = 2.0 * phi - 1.0
    log_z = (-phi * np.log(lm) + np.log(a) + 0.5 * np.log(np.pi) + special.gammaln(phi - 0.5)
             - special.gammaln(phi))
    var = a * a / (2.0 * phi - 3.0) if phi > 1.5 else np.inf
    return PowerLawLaw1D(phi, nu, float(a / np.sqrt(nu)), float(log_z), float(var),
                         stats.t(df=nu, scale=a / np.sqrt(nu)))


@dataclass(frozen=True)
class EscapeRate:
    """Eq. (15): κ per unit t (t = k·η), its log, the exponent B/(η h_e) + 1 − n/2, and 1/κ."""
    rate: float
    log_rate: float
    exponent: float
    mean_time: float


def escape_rate(h_e, h_s, loss_saddle, loss_minimum, learning_rate, batch_size, n):
    """Mori et al. eq. (15): κ ≈ sqrt(h_e |h_s|)/(2π) · (L_s/L*)^(−(B/(η h_e) + 1 − n/2)).

    ``h_e`` Hessian eigenvalue at θ* along the escape path, ``h_s`` the negative eigenvalue at the
    saddle, ``loss_saddle`` L(θ^s), ``loss_minimum`` L(θ*) > 0, ``n`` the number of outlier
    eigenvalues (effective dimension). As η/B → 0. The n/2 term assumes isotropic outliers
    (all equal to h_e); unequal outliers change the exponent (:doc:`/theory/mori`). For a symmetric
    double well the spectral gap is 2κ.
    """
    where = "escape_rate"
    he, hs = positive(h_e, "h_e", where), positive(abs(float(h_s)), "|h_s|", where)
    ls = positive(loss_saddle, "loss_saddle", where)
    lm = positive(loss_minimum, "loss_minimum", where)
    if ls <= lm:
        raise InputError(f"{where}: loss_saddle ({ls}) must exceed loss_minimum ({lm}).")
    expo = 1.0 / diffusion_scale(learning_rate, batch_size, he) + 1.0 - 0.5 * int(n)
    log_k = 0.5 * np.log(he * hs) - np.log(2 * np.pi) - expo * np.log(ls / lm)
    return EscapeRate(float(np.exp(log_k)), float(log_k), float(expo), float(np.exp(-log_k)))


@dataclass(frozen=True)
class MinibatchLoss:
    """Eq. (2): the mini-batch loss as printed, (1/(2B)) Σ ℓ_μ, and corrected, (1/B) Σ ℓ_μ.

    With ℓ_μ = (f − y)²/2 already holding the ½ of eq. (1), the printed 1/(2B) halves the gradient
    (SGD with the printed loss is SGD with learning rate η/2); 1/B makes E[L_B] = L.
    """
    printed: float
    corrected: float


def minibatch_loss(per_sample_losses, batch):
    """Mori et al. eq. (2), printed vs corrected, for the sample indices ``batch``."""
    ell = np.asarray(per_sample_losses, dtype=float)
    idx = np.asarray(batch, dtype=int)
    if idx.size == 0:
        raise InputError("minibatch_loss: the batch is empty.")
    s = float(ell[idx].sum())
    return MinibatchLoss(s / (2 * idx.size), s / idx.size)


@dataclass(frozen=True)
class ThresholdPassage1D:
    """Exact 1D mean first-passage time (t = k·η) from θ₀ until L(θ) reaches ``threshold``.

    ``crossings`` are the points where L = threshold (one per side that reaches it; a side that
    does not is reflecting at the bracket end). ``mean``/``log_mean`` as in quadrature.
    """
    mean: float
    log_mean: float
    threshold: float
    crossings: tuple


def mfpt_loss_threshold_1d(loss, loss_derivative, theta0, threshold, learning_rate, batch_size,
                           h_star, bracket, convention="ito", breakpoints=None):
    """Exact MFPT to the loss level ``threshold`` = c·L(θ*) in 1D (Mori et al. §5.3, Fig. 3(b,c)).

    dθ = −L′ dt + sqrt(2D) dW with D = (η/B) L(θ) h* (eq. (12), Itô by default). The crossing points
    L(θ) = threshold on each side of θ₀ inside ``bracket`` = (lo, hi) are found with brentq and
    made absorbing; a side on which L stays below the threshold up to the bracket end is
    reflecting there. Wraps :func:`.quadrature.mfpt_interval_1d` / :func:`.quadrature.mfpt_1d`
    (log-space, accurate to ~1e-9 for any barrier). The paper's prediction: t_p ∝ κ⁻¹ ∝
    c^(B/(η h*) + 1 − n/2) as c grows (n = 1 here).
    """
    where = "mfpt_loss_threshold_1d"
    lo, hi = (float(v) for v in bracket)
    th0, thr = float(theta0), positive(threshold, "threshold", where)
    if not lo < th0 < hi:
        raise InputError(f"{where}: theta0 = {th0} must lie inside bracket ({lo}, {hi}).")
    L = lambda x: float(np.asarray(loss(np.asarray(x, dtype=float))))
    if L(th0) >= thr:
        raise InputError(f"{where}: L(theta0) = {L(th0):.6g} is already ≥ threshold {thr:.6g}.")
    c = diffusion_scale(learning_rate, batch_size, h_star)
    D = lambda x: c * np.asarray(loss(np.asarray(x, dtype=float)), dtype=float)

    def crossing(a, b):  # first point from θ₀ towards b where L reaches thr, or None
        xs = np.linspace(a, b, 2001)
        vals = np.asarray(loss(xs), dtype=float) - thr
        hit = np.flatnonzero(vals >= 0)
        if hit.size == 0:
            return None
        j = hit[0]
        return optimize.brentq(lambda x: L(x) - thr, xs[j - 1], xs[j], xtol=1e-15, rtol=1e-15)

    left, right = crossing(th0, lo), crossing(th0, hi)
    kw = dict(potential_derivative=loss_derivative, diffusion=D, convention=convention,
              breakpoints=breakpoints)
    if left is None and right is None:
        raise InputError(f"{where}: L never reaches the threshold inside the bracket; widen it.")
    if left is not None and right is not None:
        r = mfpt_interval_1d(th0, left, right, **kw)
    elif right is not None:
        r = mfpt_1d(th0, right, lo, **kw)
    else:
        r = mfpt_1d(th0, left, hi, **kw)
    return ThresholdPassage1D(float(r.mean), float(r.log_mean), thr,
                              tuple(v for v in (left, right) if v is not None))
