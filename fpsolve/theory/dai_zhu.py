"""Dai & Zhu, *Towards theoretical understanding of large batch training in SGD* (seed 000).

Model (their eqs. (2.3)–(2.5), :doc:`/theory/dai_zhu`): dW = −∇L dt + sqrt(γ/M) σ(W) dB with
isotropic gradient covariance σ² = β(w) I, i.e. our Itô SDE with

    D(w) = γ β(w) / (2M)    (γ learning rate, M batch size; time t = k·γ).

Their Lemma 2.1 FP ∂t p = ∇·(∇(L + D) p + D ∇p) = ∇·(∇L p + ∇(D p)) is the Itô equation.
With constant β, D = 1/η∞ and the stationary law is Gibbs, p∞ ∝ exp(−η∞ L), η∞ = 2M/(γβ).
"""
from dataclasses import dataclass

import numpy as np
from ..conventions import alpha_of
from ..errors import InputError
from ._checks import positive, square_matrix
from .kramers import eyring_kramers_time
from .ornstein_uhlenbeck import ou_stationary_state, transient_moments

__all__ = [
    "eta_infinity", "TransitionTime", "transition_time", "Chi2Rate", "chi2_decay_rate",
    "chi2_bound_printed", "gaussian_chi_square", "ou_chi_square", "ball_probability_printed",
    "MinimaRatio", "minima_probability_ratio", "StudentTLaw", "state_dependent_beta_law",
]


def eta_infinity(learning_rate, batch_size, beta):
    """Lemma 2.3: inverse temperature η∞ = 2M/(γβ) of the Gibbs law p∞ ∝ exp(−η∞ L).

    Equivalently D = γβ/(2M) = 1/η∞ (constant β; the limiting γ and M of a schedule).
    """
    where = "eta_infinity"
    return 2 * positive(batch_size, "batch_size", where) / (
        positive(learning_rate, "learning_rate", where) * positive(beta, "beta", where))


@dataclass(frozen=True)
class TransitionTime:
    """Theorem 2.2: ``printed`` E τ (minimum w₁ → minimum w₂, SDE time t = k·γ), its log, and
    ``to_saddle`` ≈ printed/2 (first arrival at the saddle w*)."""
    printed: float
    log_printed: float
    to_saddle: float


def transition_time(hessian_minimum, hessian_saddle, barrier, learning_rate, batch_size, beta):
    """Dai & Zhu Theorem 2.2 (Eyring–Kramers), as printed:

    E τ = (2π/λ*) sqrt(|det ∇²L(w*)| / |det ∇²L(w₁)|) exp(H · 2M/(γβ)),

    λ* = |negative Hessian eigenvalue at the saddle w*|, H = L(w*) − L(w₁). This is the standard
    Eyring–Kramers law with D = γβ/(2M) (see :mod:`.kramers`); it is the time to cross into the
    other basin, the time to reach the saddle being about half.
    """
    D = 1.0 / eta_infinity(learning_rate, batch_size, beta)
    k = eyring_kramers_time(hessian_minimum, hessian_saddle, barrier, D)
    return TransitionTime(k.mean_time, k.log_mean_time, k.time_to_saddle)


@dataclass(frozen=True)
class Chi2Rate:
    """Theorem 2.4: exponential rates of χ²(t) = ‖(p − p∞)/√p∞‖².

    ``printed``: C_P(e^(−L))/η∞ (Poincaré constant of the unscaled e^(−L), as the theorem states);
    ``proof``: λ₁ = C_P(p∞)/η∞ (what the proof's Gronwall step gives when the Poincaré inequality of
    p∞, which it actually uses in (E.5), is inserted); ``corrected``: 2λ₁, the true asymptotic decay
    rate of χ² (χ² = Σ cₖ² e^(−2λₖt)).
    """
    printed: float
    proof: float
    corrected: float


def chi2_decay_rate(poincare_constant_gibbs, eta_inf, spectral_gap):
    """Dai & Zhu Theorem 2.4: the printed χ² decay rate beside the corrected one.

    ``poincare_constant_gibbs`` C_P of the measure e^(−L) (eq. (2.6)); ``eta_inf`` η∞;
    ``spectral_gap`` λ₁ of the generator A f = −∇L·∇f + η∞⁻¹ Δf (λ₁ = C_P(p∞)/η∞).

    The printed rate C_P(e^(−L))/η∞ is wrong in both directions: for a quadratic L = hw²/2 it is
    h/η∞ while 2λ₁ = 2h, so the printed bound is violated when η∞ < 1/2; for a double well λ₁ is
    exponentially small in η∞ ΔL while the printed rate decays only like 1/η∞, so it is violated
    at large η∞ (:doc:`/theory/dai_zhu`).
    """
    where = "chi2_decay_rate"
    cp = positive(poincare_constant_gibbs, "poincare_constant_gibbs", where)
    e = positive(eta_inf, "eta_inf", where)
    lam = positive(spectral_gap, "spectral_gap", where)
    return Chi2Rate(cp / e, lam, 2 * lam)


def chi2_bound_printed(t, T, chi2_at_T, poincare_constant_gibbs, eta_inf):
    """Theorem 2.4's bound as printed: χ²(t) ≤ (C_P (t−T)/η∞ + χ²(T)) exp(−C_P (t−T)/η∞), t ≥ T."""
    where = "chi2_bound_printed"
    cp = positive(poincare_constant_gibbs, "poincare_constant_gibbs", where)
    e = positive(eta_inf, "eta_inf", where)
    s = np.asarray(t, dtype=float) - float(T)
    if np.any(s < 0):
        raise InputError(f"{where}: need t ≥ T.")
    return (cp * s / e + float(chi2_at_T)) * np.exp(-cp * s / e)


def gaussian_chi_square(mean_p, cov_p, mean_q, cov_q):
    """χ²(p‖q) = ∫ p²/q dx − 1 for Gaussians p = N(m, S), q = N(μ, Σ), in closed form.

    The exponent of p²/q is −(x−m)ᵀS⁻¹(x−m) + ½(x−μ)ᵀΣ⁻¹(x−μ) = −½xᵀAx + bᵀx − c₀ with
    A = 2S⁻¹ − Σ⁻¹, b = 2S⁻¹m − Σ⁻¹μ, c₀ = mᵀS⁻¹m − ½μᵀΣ⁻¹μ; completing the square,

        ∫ p²/q = sqrt(det Σ) / (det S · sqrt(det A)) · exp(½ bᵀA⁻¹b − c₀),

    finite iff A is positive definite (else χ² = ∞). Evaluated in log form and returned through
    expm1, so that χ² ≪ 1 keeps its relative accuracy.
    """
    where = "gaussian_chi_square"
    S = square_matrix(cov_p, "cov_p", where, positive_definite=True)
    Sig = square_matrix(cov_q, "cov_q", where, positive_definite=True)
    n = S.shape[0]
    m = np.asarray(mean_p, dtype=float).reshape(-1) * np.ones(n)
    mu = np.asarray(mean_q, dtype=float).reshape(-1) * np.ones(n)
    Si, Sgi = np.linalg.inv(S), np.linalg.inv(Sig)
    A = 2 * Si - Sgi
    if np.linalg.eigvalsh(0.5 * (A + A.T))[0] <= 0:
        return np.inf
    # exponent of p²/q: −xᵀAx/2 + bᵀx − c0, with b = 2S⁻¹m − Σ⁻¹μ, c0 = mᵀS⁻¹m − ½μᵀΣ⁻¹μ
    b = 2 * Si @ m - Sgi @ mu
    c0 = m @ Si @ m - 0.5 * mu @ Sgi @ mu
    _, ld_S = np.linalg.slogdet(S)
    _, ld_Sig = np.linalg.slogdet(Sig)
    _, ld_A = np.linalg.slogdet(A)
    log_int = 0.5 * ld_Sig - ld_S - 0.5 * ld_A + 0.5 * b @ np.linalg.solve(A, b) - c0
    return float(np.expm1(log_int))


def ou_chi_square(t, hessian, diffusion, mean0, cov0):
    """Closed-form χ²(t) of an OU process dX = −HX dt + sqrt(2D) dW started from N(mean0, cov0).

    Independent reference for Theorem 2.4: p(t) = N(m(t), Σ(t)) (see
    :func:`.ornstein_uhlenbeck.transient_moments`), p∞ = N(0, Σ∞), χ² by
    :func:`gaussian_chi_square`. Generic decay rate 2λ₁ = 2 min eig H (from a mean offset); a
    centred start with a covariance mismatch only decays at 4λ₁.
    """
    ms, Ss = transient_moments(np.atleast_1d(t), hessian, diffusion, mean0, cov0)
    Sinf = ou_stationary_state(hessian, diffusion).covariance
    n = Sinf.shape[0]
    out = np.array([gaussian_chi_square(m, S, np.zeros(n), Sinf) for m, S in zip(ms, Ss)])
    return out if np.ndim(t) else float(out[0])


def ball_probability_printed(eps, loss_minimum, hessian_eigenvalues, eta_inf, kappa=1.0):
    """Theorem 2.5's expression for P(|W(∞) − w̌| ≤ ε) as printed (before its ε → 0 limit):

    κ e^(−2η∞L(w̌)) / (η∞^(d/2) sqrt|det ∇²L(w̌)|) · e^(η∞ε²) ∏ⱼ sqrt(1 − e^(−ε²η∞λⱼ/π)).

    Erratum (:doc:`/theory/dai_zhu`): as ε → 0 each factor sqrt(1 − e^(−ε²η∞λⱼ/π)) ~ ε
    sqrt(η∞λⱼ/π), which cancels the 1/sqrt(det) — so even the printed expression gives a ratio of
    two minima's ε-ball probabilities → e^(−2η∞(L₁ − L₂)) (= 1 for equal depths), not (2.7).
    ``kappa`` is the normaliser κ of p∞ (it cancels in ratios).
    """
    where = "ball_probability_printed"
    lam = np.atleast_1d(np.asarray(hessian_eigenvalues, dtype=float))
    if np.any(lam <= 0):
        raise InputError(f"{where}: hessian_eigenvalues must be > 0 at a minimum.")
    e = positive(eta_inf, "eta_inf", where)
    eps = np.asarray(eps, dtype=float)
    d = lam.size
    log_pre = (np.log(kappa) - 2 * e * float(loss_minimum) - 0.5 * d * np.log(e)
               - 0.5 * np.log(lam).sum())
    prod = np.prod(np.sqrt(-np.expm1(-np.multiply.outer(eps ** 2, e * lam / np.pi))), axis=-1)
    return np.exp(log_pre + e * eps ** 2) * prod


@dataclass(frozen=True)
class MinimaRatio:
    """P(near w̌₁)/P(near w̌₂) at stationarity (Theorem 2.5 / eq. (2.7)).

    ``printed``: sqrt(det H₂/det H₁), claimed by (2.7) for the ε → 0 ball probabilities of two
    minima of equal loss. ``epsilon_limit``: the true ε → 0 limit of the ball ratio, the density
    ratio p∞(w̌₁)/p∞(w̌₂) = e^(−η∞(L₁−L₂)) (= 1 for equal depths). ``corrected``: the *basin*
    probability ratio as η∞ → ∞ (Laplace), sqrt(det H₂/det H₁) e^(−η∞(L₁−L₂)) (1 + O(1/η∞)).
    """
    printed: float
    epsilon_limit: float
    corrected: float


def minima_probability_ratio(hessian_1, hessian_2, loss_1, loss_2, eta_inf):
    """Dai & Zhu (2.7) printed beside the correct ε-ball limit and the corrected basin ratio."""
    where = "minima_probability_ratio"
    H1 = square_matrix(hessian_1, "hessian_1", where, positive_definite=True)
    H2 = square_matrix(hessian_2, "hessian_2", where, positive_definite=True)
    e = positive(eta_inf, "eta_inf", where)
    half_log = 0.5 * (np.linalg.slogdet(H2)[1] - np.linalg.slogdet(H1)[1])
    dl = -e * (float(loss_1) - float(loss_2))
    return MinimaRatio(float(np.exp(half_log)), float(np.exp(dl)), float(np.exp(half_log + dl)))


@dataclass(frozen=True)
class StudentTLaw:
    """Stationary law of dw = −w dt + sqrt(2c(1 + w²/2)) dW (in the given convention).

    p ∝ (1 + w²/2)^(−q), q = 1/c + 1 − α: a Student-t with ``dof`` ν = 2q − 1 and ``scale``
    sqrt(2/ν) (w = scale·T, T ~ t_ν). ``variance`` = 2/(2q − 3) (∞ if q ≤ 3/2); ``distribution``
    the frozen scipy.stats.t (None if not normalisable, 2q ≤ 1).
    """
    exponent: float
    dof: float
    scale: float
    variance: float
    normalisable: bool
    distribution: object
    convention: str


def state_dependent_beta_law(c, convention="ito"):
    """Stationary law for Dai & Zhu's open case β(w) = β₀(1 + L(w)), L = w²/2 (1D).

    D(w) = γβ(w)/(2M) = c (1 + w²/2) with c = γβ₀/(2M); drift −L′ = −w. Zero flux in convention α
    (:doc:`/theory/conventions`): p ∝ D^(α−1) exp(−∫ w/D) with ∫ w / (c(1 + w²/2)) dw
    = (1/c) ln(1 + w²/2), so

        p ∝ (1 + w²/2)^(α − 1 − 1/c),   q = 1/c + 1 − α.

    Variance: with u = w/√2, E u² = B(3/2, q−3/2)/B(1/2, q−1/2) = 1/(2q−3), so Var w = 2/(2q−3):
    Itô 2c/(2 − c), Stratonovich c/(1 − c), isothermal 2c/(2 − 3c) — all ≈ c (the Gibbs value)
    for small c, and different at finite c. Power-law tails |w|^(−2q).
    """
    where = "state_dependent_beta_law"
    c = positive(c, "c", where)
    alpha = alpha_of(convention, where)
    q = 1.0 / c + 1.0 - alpha
    nu = 2 * q - 1
    ok = nu > 0
    scale = float(np.sqrt(2.0 / nu)) if ok else np.nan
    var = 2.0 / (2 * q - 3) if q > 1.5 else np.inf
    from scipy import stats  # deferred: scipy.stats is slow to import and only needed here

    dist = stats.t(df=nu, scale=scale) if ok else None
    return StudentTLaw(q, nu, scale, var, ok, dist, convention)
