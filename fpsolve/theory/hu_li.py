"""Hu, Li, Li & Liu, *On the diffusion approximation of nonconvex SGD* (seed 001).

Their SDE (3.15), pseudo-time s = k·η:  dX = −∇F(X) ds + sqrt(η) S(X) dB,  S = Σ^(1/2),
i.e. our Itô SDE with b = −∇F and D = (η/2) S Sᵀ = (η/2) Σ. For mini-batches of size m drawn
without replacement from M samples (Prop. 1), Σ = (1/m − 1/M) Σ₀ with Σ₀ the sample covariance
(normalised by M − 1) of the per-sample gradients, so D = (η/2)(1/m − 1/M) Σ₀
(:doc:`/theory/conventions`).
"""
from dataclasses import dataclass

import numpy as np
from scipy import integrate, linalg, special

from ..errors import InputError
from ._checks import positive, square_matrix
from .kramers import eyring_kramers_time

__all__ = [
    "minibatch_covariance_factor", "minibatch_gradient_covariance", "modified_drift",
    "quasi_potential_isotropic", "QuasiPotentialQuadratic", "quasi_potential_quadratic",
    "EKRemark", "eyring_kramers_remark", "saddle_escape_coefficient", "MaximumEscape1D",
    "maximum_escape_time_1d", "deterministic_exit_time_1d", "dawson_integral_cumulative",
    "BatchSchedule", "batch_size_schedule",
    "annealing_diffusion",
]


# ---------------------------------------------------------------------------------------------
# Proposition 1 and Theorem 1
# ---------------------------------------------------------------------------------------------
def minibatch_covariance_factor(batch_size, n_samples, replacement=False):
    """Proposition 1: var(batch-mean gradient) = factor · Σ₀, Σ₀ = Σᵢ(gᵢ − ḡ)(gᵢ − ḡ)ᵀ/(M − 1).

    Without replacement (the paper's case): factor = 1/m − 1/M (zero for a full batch m = M).
    With replacement (i.i.d. draws): factor = (M − 1)/(m M) (the population covariance over m).
    """
    where = "minibatch_covariance_factor"
    m, M = positive(batch_size, "batch_size", where), positive(n_samples, "n_samples", where)
    if M < 2:
        raise InputError(f"{where}: n_samples must be ≥ 2.")
    if not replacement and m > M:
        raise InputError(f"{where}: batch_size {m} exceeds n_samples {M} without replacement.")
    return (M - 1) / (m * M) if replacement else 1.0 / m - 1.0 / M


def minibatch_gradient_covariance(per_sample_gradients, batch_size, replacement=False):
    """Proposition 1: exact covariance of the mini-batch mean gradient, factor · Σ₀.

    ``per_sample_gradients``: (M, d) array of ∇fᵢ(x). Multiply by η/2 for the diffusion matrix D.
    """
    G = np.asarray(per_sample_gradients, dtype=float)
    if G.ndim != 2 or G.shape[0] < 2:
        raise InputError("minibatch_gradient_covariance: per_sample_gradients must be (M ≥ 2, d).")
    sigma0 = np.cov(G, rowvar=False, ddof=1).reshape(G.shape[1], G.shape[1])
    return minibatch_covariance_factor(batch_size, G.shape[0], replacement) * sigma0


def modified_drift(gradient, hessian, learning_rate):
    """Theorem 1 (3.6): the O(η²) weak drift b = −∇F − (η/4)∇|∇F|² = −∇F − (η/2) H ∇F."""
    g = np.asarray(gradient, dtype=float)
    H = square_matrix(hessian, "hessian", "modified_drift")
    return -g - 0.5 * positive(learning_rate, "learning_rate", "modified_drift") * H @ g


# ---------------------------------------------------------------------------------------------
# Theorem 2: quasi-potential
# ---------------------------------------------------------------------------------------------
def quasi_potential_isotropic(boundary_heights, sigma):
    """Theorem 2 with S = σI: V̄ = (2/σ²) min_{∂D} (F − F(0)), and η log E𝒯 → V̄ as η → 0.

    ``boundary_heights``: values of F − F(0) on ∂D (array; its minimum is used). Freidlin–Wentzell
    for dX = −∇F ds + sqrt(η) σ dB: the cost of reaching z is 2(F(z) − F(0))/σ², which is
    ΔF/D with D = ησ²/2 once multiplied by 1/η.
    """
    h = np.min(np.asarray(boundary_heights, dtype=float))
    if h <= 0:
        raise InputError("quasi_potential_isotropic: boundary heights F − F(0) must be > 0 (0 must "
                         "be the minimum of F in D).")
    return 2.0 * h / positive(sigma, "sigma", "quasi_potential_isotropic") ** 2


@dataclass(frozen=True)
class QuasiPotentialQuadratic:
    """V(x) = ½ xᵀ ``matrix`` x for F = ½xᵀHx and constant noise S (η log E𝒯 → min_{∂D} V).

    ``matrix`` = P⁻¹ with H P + P H = S Sᵀ; the stationary covariance of the SDE is η P (so
    p∞ ∝ exp(−V/η), exactly). ``covariance_factor`` = P.
    """
    matrix: np.ndarray
    covariance_factor: np.ndarray

    def value(self, x):
        """V at points x of shape (..., d)."""
        x = np.asarray(x, dtype=float)
        return 0.5 * np.einsum("...i,ij,...j->...", x, self.matrix, x)

    def minimum_on_sphere(self, radius):
        """min_{|x| = r} V = r² / (2 λ_max(P)): V̄ for the ball D = B(0, r)."""
        return float(radius) ** 2 / (2 * np.linalg.eigvalsh(self.covariance_factor)[-1])


def quasi_potential_quadratic(hessian, noise):
    """Theorem 2's V̄ for F = ½ xᵀHx (H ≻ 0) with constant noise matrix S in dX = −HX ds + √η S dB.

    Derivation: the process is linear, its stationary law is N(0, ηP) with HP + PH = SSᵀ (Lyapunov),
    so p∞ ∝ exp(−xᵀP⁻¹x/(2η)) and the Freidlin–Wentzell quasi-potential is V(x) = ½ xᵀ P⁻¹ x (it
    solves the Hamilton–Jacobi equation ½∇VᵀSSᵀ∇V − Hx·∇V = 0 with V(0) = 0). For S = σI:
    V = xᵀHx/σ² = (2/σ²)F, matching :func:`quasi_potential_isotropic`.
    """
    H = square_matrix(hessian, "hessian", "quasi_potential_quadratic", positive_definite=True)
    S = np.atleast_2d(np.asarray(noise, dtype=float))
    if S.shape == (1, 1) and H.shape[0] > 1:
        S = S[0, 0] * np.eye(H.shape[0])
    if S.shape[0] != H.shape[0]:
        raise InputError("quasi_potential_quadratic: noise must have as many rows as hessian.")
    A = S @ S.T
    if np.linalg.eigvalsh(A)[0] <= 0:
        raise InputError("quasi_potential_quadratic: S Sᵀ must be positive definite (Theorem 2's "
                         "uniform ellipticity).")
    P = linalg.solve_continuous_lyapunov(H, A)
    P = 0.5 * (P + P.T)
    return QuasiPotentialQuadratic(np.linalg.inv(P), P)


@dataclass(frozen=True)
class EKRemark:
    """Remark (ii) after Theorem 2: log E τ with the printed small parameter ε = √η and with the
    corrected ε = D = ησ²/2 (the temperature of dX = −∇F ds + √η σ dB)."""
    log_printed: float
    log_corrected: float


def eyring_kramers_remark(hessian_minimum, hessian_saddle, barrier, learning_rate, sigma=1.0):
    """Hu et al. remark (ii): Eyring–Kramers E τ with exp(ΔF/ε), printed ε = √η, corrected ησ²/2."""
    eta = positive(learning_rate, "learning_rate", "eyring_kramers_remark")
    sig = positive(sigma, "sigma", "eyring_kramers_remark")
    printed = eyring_kramers_time(hessian_minimum, hessian_saddle, barrier, np.sqrt(eta))
    corrected = eyring_kramers_time(hessian_minimum, hessian_saddle, barrier, eta * sig ** 2 / 2)
    return EKRemark(printed.log_mean_time, corrected.log_mean_time)


# ---------------------------------------------------------------------------------------------
# Theorem 3: escape from saddles and maxima
# ---------------------------------------------------------------------------------------------
def saddle_escape_coefficient(hessian):
    """Theorem 3 (4.12): E₀𝒯 / log(1/η) → 1/(2γ₁), γ₁ = −λ_min(∇²F) > 0 (s-time; steps ×1/η)."""
    H = square_matrix(hessian, "hessian", "saddle_escape_coefficient", symmetric=True)
    lam = np.linalg.eigvalsh(H)
    if lam[0] >= 0 or np.any(lam == 0):
        raise InputError("saddle_escape_coefficient: the Hessian must be non-degenerate with a "
                         f"negative eigenvalue (an unstable point); eigenvalues {lam}.")
    return 1.0 / (2.0 * -lam[0])


def dawson_integral_cumulative(x):
    """∫₀ˣ F(u) du for the Dawson function F (scipy.special.dawsn), x ≥ 0.

    For x ≤ 20 adaptive quadrature of F; beyond, F(u) − 1/(2u) is integrated (with the asymptotic
    series 1/(4u³) + 3/(8u⁵) + 15/(16u⁷) + 105/(32u⁹) for u > 100, where the difference loses
    digits), giving ∫₀ˣ F = ½ ln(2x) + γ_E/4 + O(x⁻²) as x → ∞.
    """
    x = float(x)
    if x < 0:
        raise InputError("dawson_integral_cumulative: x must be ≥ 0.")
    opts = dict(epsabs=0.0, epsrel=1e-13, limit=200)
    if x <= 20:
        return integrate.quad(special.dawsn, 0, x, **opts)[0]

    def excess(u):  # F(u) − 1/(2u)
        if u > 100:
            v = 1.0 / (u * u)
            return (v / (4 * u)) * (1 + v * (1.5 + v * (3.75 + v * 13.125)))
        return special.dawsn(u) - 0.5 / u

    base = integrate.quad(special.dawsn, 0, 20, **opts)[0]
    # substitute u = 1/v so the slowly decaying tail is a smooth integrand on a short interval
    tail = integrate.quad(lambda v: excess(1 / v) / v ** 2, 1 / x, 1 / 20, **opts)[0]
    return base + 0.5 * np.log(x / 20) + tail


@dataclass(frozen=True)
class MaximumEscape1D:
    """Exit time of (−a, a) from the maximum x = 0 of F = −γx²/2 (s-time).

    ``exact`` = (2/γ) ∫₀^X F(u) du, X = a sqrt(γ/(2D)), D = ησ²/2 (F Dawson);
    ``asymptotic`` = (1/(2γ)) [ln(2γa²/D) + γ_E] (exact − asymptotic = −D/(2γ²a²) + O(D²));
    ``leading`` = log(1/η)/(2γ), Theorem 3's leading term.
    """
    exact: float
    asymptotic: float
    leading: float


def maximum_escape_time_1d(gamma, half_width, learning_rate, sigma=1.0):
    """Exact mean exit time from a 1D local maximum (Theorem 3's 1D case), Dawson-integral form.

    dX = γX ds + sqrt(η) σ dB on (−a, a), absorbing at ±a, X(0) = 0. By symmetry this is the
    reflecting-at-0 problem: with D = ησ²/2 and k = sqrt(γ/(2D)),
    E𝒯 = ∫₀ᵃ dy e^(−k²y²) ∫₀ʸ e^(k²z²)/D dz = (1/(k²D)) ∫₀^(ka) F(u) du = (2/γ) ∫₀^(ka) F(u) du,
    since ∫₀ʸ e^(k²z²) dz = e^(k²y²) F(ky)/k. Hence E𝒯 / log(1/η) → 1/(2γ) (eq. (4.12)).
    """
    where = "maximum_escape_time_1d"
    g = positive(gamma, "gamma", where)
    a = positive(half_width, "half_width", where)
    eta = positive(learning_rate, "learning_rate", where)
    D = eta * positive(sigma, "sigma", where) ** 2 / 2
    X = a * np.sqrt(g / (2 * D))
    exact = 2.0 / g * dawson_integral_cumulative(X)
    asym = (np.log(2 * g * a * a / D) + np.euler_gamma) / (2 * g)
    return MaximumEscape1D(float(exact), float(asym), float(np.log(1 / eta) / (2 * g)))


def deterministic_exit_time_1d(gamma, x0, half_width):
    """Remark after Theorem 3: off the stable manifold E_x₀𝒯 → θ(x₀), the exit time of the
    gradient flow (4.15). For F = −γx²/2 on (−a, a): x(s) = x₀e^(γs), θ(x₀) = ln(a/|x₀|)/γ."""
    where = "deterministic_exit_time_1d"
    g, a = positive(gamma, "gamma", where), positive(half_width, "half_width", where)
    x0 = float(x0)
    if not 0 < abs(x0) < a:
        raise InputError(f"{where}: need 0 < |x0| < half_width (x0 = 0 is the stable manifold, "
                         "use maximum_escape_time_1d).")
    return float(np.log(a / abs(x0)) / g)


# ---------------------------------------------------------------------------------------------
# Section 5: annealing and batch-size schedules
# ---------------------------------------------------------------------------------------------
def annealing_diffusion(s, gamma):
    """Proposition 2's schedule dX = −∇F ds + sqrt(γ/log(2+s)) dB as a diffusion coefficient:
    D(s) = γ / (2 log(2 + s)) (our convention sqrt(2D) dW)."""
    s = np.asarray(s, dtype=float)
    if np.any(s < 0):
        raise InputError("annealing_diffusion: s must be ≥ 0.")
    return positive(gamma, "gamma", "annealing_diffusion") / (2 * np.log(2 + s))


@dataclass(frozen=True)
class BatchSchedule:
    """Batch size m(s) as printed, m ≈ min(C log(s+2)/η, m*), and corrected,
    m = min(η log(2+s)/γ, m*): β(s) = η/m(s) must equal γ/log(2+s) (Prop. 2 with S₀ = I), so
    m ∝ η log(2+s) — and it *increases* with s (the abstract/introduction say 'decrease')."""
    printed: np.ndarray
    corrected: np.ndarray


def batch_size_schedule(s, learning_rate, gamma, max_batch=np.inf, C=1.0):
    """Hu et al. §5: the annealing batch-size schedule, printed and corrected
    (:doc:`/theory/hu_li`).

    The noise level of (3.17) is β(s) = η(1/m(s) − 1/M) ≈ η/m(s); matching Proposition 2's
    γ/log(2+s) gives m(s) = η log(2+s)/γ. The printed rule puts η in the denominator.
    ``C`` is the printed rule's unspecified constant.
    """
    where = "batch_size_schedule"
    s = np.asarray(s, dtype=float)
    if np.any(s < 0):
        raise InputError(f"{where}: s must be ≥ 0.")
    eta = positive(learning_rate, "learning_rate", where)
    g = positive(gamma, "gamma", where)
    lg = np.log(2 + s)
    return BatchSchedule(np.minimum(positive(C, "C", where) * lg / eta, max_batch),
                         np.minimum(eta * lg / g, max_batch))
