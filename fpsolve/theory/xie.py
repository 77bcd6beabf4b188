"""Xie, Sato & Sugiyama, *A diffusion theory for minima selection* (seed 003).

Model (eqs. (2), (8); :doc:`/theory/xie`): Itô SDE dθ = −∇L dt + sqrt(2D) dW, time t = k·η, with
D = (η/2B) H near minima and D = (η/2B)[H]⁺ near saddles ([H]⁺: eigenvalues replaced by their
absolute values). D vanishes at inflection points, so along a path from a minimum to a saddle it
must be regularised before the exact 1D quadrature can be used.

Notation: a = minimum, b = saddle, e = escape direction, H_ae > 0 and H_be < 0 the Hessian
eigenvalues along e at a and b, ΔL = L(b) − L(a), D_a = (D)_ee at a, D_b = (D)_ee at b.
"""
from dataclasses import dataclass

import numpy as np
from scipy import integrate

from ..conventions import alpha_of
from ..errors import InputError
from ._checks import positive
from .kramers import eyring_kramers_time

__all__ = [
    "SGLDEscape", "sgld_escape_time", "escape_prefactor", "SGDEscape", "sgd_escape_time",
    "path_exponent", "path_exponent_sampled", "implied_s", "parallel_paths_rate",
    "sequential_paths_time", "basin_probabilities", "StyblinskiTangCriticalPoints",
    "styblinski_tang_critical_points",
]


@dataclass(frozen=True)
class SGLDEscape:
    """Theorem 3.1: ``printed`` τ = 2π sqrt(|det H_b|/det H_a)/|H_be| · e^(ΔL/D) (correct; it is the
    Eyring–Kramers law) and ``appendix_44`` = 2π sqrt(|det H_b|/(det H_a |H_be|)) e^(ΔL/D), the
    proof's last line (44) with 1/|H_be| misplaced under the square root; logs of both."""
    printed: float
    appendix_44: float
    log_printed: float
    log_appendix_44: float


def sgld_escape_time(hessian_a, hessian_b, delta_L, diffusion):
    """Xie et al. Theorem 3.1 (SGLD, constant scalar D): mean escape time from valley a.

    (43) is right; (44) moves 1/|H_be| under the square root, an error of sqrt(|H_be|)^±1.
    """
    k = eyring_kramers_time(hessian_a, hessian_b, delta_L, diffusion)
    log44 = k.log_mean_time - 0.5 * np.log(-k.unstable_eigenvalue)
    return SGLDEscape(k.mean_time, float(np.exp(log44)), k.log_mean_time, float(log44))


def escape_prefactor(H_ae, H_be, D_a, D_b, convention="ito"):
    """Prefactor P of the 1D escape time τ ≈ P · exp(I), I = ∫_a^b L′/D, in convention α.

    Laplace on the exact MFPT ∫ s ∫ m with s = D^(−α) e^(ψ), m = D^(α−1) e^(−ψ) (ψ = ∫L′/D):

        P = 2π / sqrt(H_ae |H_be|) · (D_a / D_b)^(α − 1/2).

    With D ∝ |H| (D_a/D_b = H_ae/|H_be|): Itô (α = 0) 2π/H_ae, Stratonovich 2π/sqrt(H_ae|H_be|),
    isothermal (α = 1) 2π/|H_be| — the printed Theorem 3.2 prefactor (its proof uses the
    isothermal flux J = D e^(−L/T)∇(e^(L/T)P), eq. (56)).
    """
    where = "escape_prefactor"
    alpha = alpha_of(convention, where)
    ha, hb = positive(H_ae, "H_ae", where), positive(abs(float(H_be)), "|H_be|", where)
    da, db = positive(D_a, "D_a", where), positive(D_b, "D_b", where)
    return float(2 * np.pi / np.sqrt(ha * hb) * (da / db) ** (alpha - 0.5))


@dataclass(frozen=True)
class SGDEscape:
    """Theorem 3.2: τ = prefactor · exp(exponent), exponent = (2BΔL/η)(s/H_ae + (1−s)/|H_be|).

    ``printed`` uses the paper's prefactor 2π/|H_be| (isothermal convention); ``corrected`` the
    prefactor of the requested convention (Itô, i.e. SGD: 2π/H_ae); logs of both.
    """
    printed: float
    corrected: float
    log_printed: float
    log_corrected: float
    exponent: float
    convention: str


def sgd_escape_time(H_ae, H_be, delta_L, learning_rate, batch_size, s, convention="ito"):
    """Xie et al. Theorem 3.2 (SGD, D = (η/2B)|H| along the path), printed and per convention.

    ``s`` ∈ (0, 1) is the path parameter; get it from the exact path integral with
    :func:`implied_s` (exponent = I = ∫_a^b L′/D_ee dθ). The 'temperatures' T_a, T_b of the proof
    are (D)_ee = (η/2B)H_ae, (η/2B)|H_be| — not eigenvalues of H⁻¹D as stated after (83), which are
    all η/(2B) when D ∝ H.
    """
    where = "sgd_escape_time"
    ha, hb = positive(H_ae, "H_ae", where), positive(abs(float(H_be)), "|H_be|", where)
    dL = positive(delta_L, "delta_L", where)
    eta = positive(learning_rate, "learning_rate", where)
    B = positive(batch_size, "batch_size", where)
    s = float(s)
    expo = 2 * B * dL / eta * (s / ha + (1 - s) / hb)
    lp = np.log(2 * np.pi / hb) + expo
    lc = np.log(escape_prefactor(ha, hb, ha, hb, convention)) + expo
    with np.errstate(over="ignore"):
        return SGDEscape(float(np.exp(lp)), float(np.exp(lc)), float(lp), float(lc), float(expo),
                         convention)


def path_exponent(loss_derivative, diffusion, a, b, points=None):
    """The exponent I = ∫_a^b L′(θ)/D_ee(θ) dθ along a 1D escape path (callables), by quad.

    This is ψ-difference ∫ L′/D between minimum and saddle: the exact exponent of the 1D escape
    time in every convention. ``points``: kinks/discontinuities of D to hand to quad.
    """
    f = lambda x: float(loss_derivative(x)) / float(diffusion(x))
    val, err = integrate.quad(f, float(a), float(b), points=points, epsabs=0.0, epsrel=1e-12,
                              limit=500)
    return float(val)


def path_exponent_sampled(loss_values, diffusion_values):
    """I = ∫ dL / D_ee from samples of L and D_ee along the escape path (a → b).

    Along the most probable path L increases monotonically, so ∫ L′/D dθ = ∫ (1/D) dL exactly;
    the samples need not be equally spaced (composite Simpson in the variable L).
    """
    L = np.asarray(loss_values, dtype=float)
    D = np.asarray(diffusion_values, dtype=float)
    if L.shape != D.shape or L.ndim != 1 or L.size < 3:
        raise InputError("path_exponent_sampled: give ≥ 3 matching samples of L and D_ee.")
    if np.any(np.diff(L) <= 0):
        raise InputError("path_exponent_sampled: L must increase strictly along the path (a → b).")
    if np.any(D <= 0):
        raise InputError("path_exponent_sampled: D_ee must be > 0 (regularise it at inflections).")
    return float(integrate.simpson(1.0 / D, x=L))


def implied_s(exponent, delta_L, H_ae, H_be, learning_rate, batch_size):
    """The s of Theorem 3.2 that reproduces a given exponent I (e.g. the exact path integral).

    I = (2BΔL/η)(s/H_ae + (1−s)/|H_be|)  ⇒  s = (Iη/(2BΔL) − 1/|H_be|) / (1/H_ae − 1/|H_be|).
    For D = (η/2B)|L″| piecewise constant (piecewise-quadratic L meeting at θ_j) this is
    s = (L(θ_j) − L(a))/ΔL, the paper's reading L(s) = (1−s)L(a) + sL(b).
    """
    where = "implied_s"
    ha, hb = positive(H_ae, "H_ae", where), positive(abs(float(H_be)), "|H_be|", where)
    if np.isclose(ha, hb, rtol=1e-12):
        raise InputError(f"{where}: s is undetermined when H_ae = |H_be| (the exponent does not "
                         "depend on s then).")
    x = float(exponent) * positive(learning_rate, "learning_rate", where) / (
        2 * positive(batch_size, "batch_size", where) * positive(delta_L, "delta_L", where))
    return float((x - 1 / hb) / (1 / ha - 1 / hb))


def parallel_paths_rate(rates):
    """Rule 1 / Corollary 3.2.1: escape rates of parallel paths add, γ = Σ_p γ_p."""
    r = np.asarray(rates, dtype=float)
    if np.any(r < 0):
        raise InputError("parallel_paths_rate: rates must be ≥ 0.")
    return float(r.sum())


def sequential_paths_time(times):
    """Rule 2: mean times of sequential paths add, τ = Σ_p τ_p (exact for first passages in 1D)."""
    t = np.asarray(times, dtype=float)
    if np.any(t < 0):
        raise InputError("sequential_paths_time: times must be ≥ 0.")
    return float(t.sum())


def basin_probabilities(escape_times):
    """Corollary 3.2.2: stationary valley probabilities P(θ ∈ V_v) = τ_v / Σ_v τ_v.

    From flux balance P₁γ₁₂ = P₂γ₂₁ between two valleys (escape elsewhere ignored).
    """
    t = np.asarray(escape_times, dtype=float)
    if np.any(t <= 0):
        raise InputError("basin_probabilities: escape times must be > 0.")
    return t / t.sum()


@dataclass(frozen=True)
class StyblinskiTangCriticalPoints:
    """Critical points (per coordinate) of f(θ) = ½(θ⁴ − 16θ² + 5θ) (``printed``: the paper's
    minima −2.903534, 2.746803 and boundary 0.156731) and of the training loss actually used,
    L(θ) = E_x f(θ − x), x ~ N(0, 1): L = ½(θ⁴ − 10θ² + 5θ − 13) (``averaged``). Each is
    (minimum_left, saddle, minimum_right)."""
    printed: tuple
    averaged: tuple


def styblinski_tang_critical_points():
    """Xie et al. App. C setting 1: the valley boundary θ_i < 0.156731 is the saddle of f, not of
    the averaged loss E_x f(θ − x) (E(θ−x)⁴ = θ⁴ + 6θ² + 3, E(θ−x)² = θ² + 1), whose saddle is at
    the middle root of 4θ³ − 20θ + 5 = 0 (≈ 0.2532)."""
    p = np.sort(np.roots([4.0, 0.0, -32.0, 5.0]).real)
    q = np.sort(np.roots([4.0, 0.0, -20.0, 5.0]).real)
    return StyblinskiTangCriticalPoints(tuple(map(float, p)), tuple(map(float, q)))
