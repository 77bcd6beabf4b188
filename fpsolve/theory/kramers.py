"""Eyring–Kramers law for gradient diffusions with a constant scalar diffusion coefficient.

Setting: dX = −∇U dt + sqrt(2D) dW with constant scalar D > 0 (Itô, Stratonovich and isothermal
coincide then), time in the SDE's units (t = k·η for SGD). For a minimum m and the lowest saddle
s on the way out (Hessian H_s with exactly one negative eigenvalue λ_s):

    E τ = (2π / |λ_s|) · sqrt(|det H_s| / det H_m) · exp(ΔU / D) · (1 + O(D/ΔU)),  ΔU = U(s) − U(m),

where τ is the time to *cross* the saddle (reach the next basin, e.g. the other minimum); the
time to first *reach* the saddle is about half of it (absorbing at the saddle, only half of the
trajectories arriving there go on). References: Bovier, Gayrard & Klein (2004); Berglund (2013);
Dai & Zhu Thm 2.2 (seed 000); Hu et al. remark (ii) after Thm 2 (seed 001); Xie et al. Thm 3.1
(seed 003). In 1D the prefactor is 2π / sqrt(U″(m) |U″(s)|) (Kramers 1940).
"""
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ._checks import positive, square_matrix

__all__ = ["KramersTime", "eyring_kramers_time", "kramers_time_1d"]


@dataclass(frozen=True)
class KramersTime:
    """Eyring–Kramers estimate.

    ``mean_time``: E τ to cross the saddle into the next basin; ``log_mean_time`` its log (use it
    when e^(ΔU/D) overflows); ``rate`` = 1/E τ; ``time_to_saddle`` ≈ E τ / 2 (first arrival at the
    saddle); ``prefactor`` = (2π/|λ_s|) sqrt(|det H_s|/det H_m); ``unstable_eigenvalue`` = λ_s < 0.
    """
    mean_time: float
    log_mean_time: float
    rate: float
    time_to_saddle: float
    prefactor: float
    unstable_eigenvalue: float


def _result(log_prefactor, barrier, diffusion, lam):
    log_t = log_prefactor + barrier / diffusion
    with np.errstate(over="ignore"):
        t = float(np.exp(log_t))
    return KramersTime(t, float(log_t), float(np.exp(-log_t)), 0.5 * t,
                       float(np.exp(log_prefactor)), float(lam))


def eyring_kramers_time(hessian_minimum, hessian_saddle, barrier, diffusion):
    """Eyring–Kramers mean transition time in n dimensions, constant scalar D.

    E τ = (2π/|λ_s|) sqrt(|det H_s| / det H_m) exp(ΔU/D).

    Parameters: ``hessian_minimum`` H_m (n×n, positive definite; a number in 1D);
    ``hessian_saddle`` H_s (n×n symmetric, exactly one negative eigenvalue); ``barrier``
    ΔU = U(s) − U(m) > 0; ``diffusion`` D > 0 (noise sqrt(2D) dW). Returns :class:`KramersTime`.
    """
    where = "eyring_kramers_time"
    hm = square_matrix(hessian_minimum, "hessian_minimum", where, positive_definite=True)
    hs = square_matrix(hessian_saddle, "hessian_saddle", where, symmetric=True)
    if hm.shape != hs.shape:
        raise InputError(f"{where}: hessian_minimum {hm.shape} and hessian_saddle {hs.shape} "
                         "must have the same shape.")
    ev = np.linalg.eigvalsh(hs)
    if not (ev[0] < 0 and (ev.size == 1 or ev[1] > 0)):
        raise InputError(f"{where}: hessian_saddle must have exactly one negative eigenvalue "
                         f"and no zero one (an index-1 saddle); its eigenvalues are {ev}.")
    dU, D = positive(barrier, "barrier", where), positive(diffusion, "diffusion", where)
    logdet_s = float(np.sum(np.log(np.abs(ev))))
    logdet_m = float(np.sum(np.log(np.linalg.eigvalsh(hm))))
    log_pref = np.log(2 * np.pi) - np.log(-ev[0]) + 0.5 * (logdet_s - logdet_m)
    return _result(log_pref, dU, D, ev[0])


def kramers_time_1d(curvature_minimum, curvature_saddle, barrier, diffusion):
    """Kramers' 1D mean time to cross a barrier: 2π / sqrt(U″(m)|U″(s)|) · exp(ΔU/D).

    ``curvature_minimum`` U″(m) > 0, ``curvature_saddle`` U″(s) (its absolute value is used; a
    maximum has U″(s) < 0), ``barrier`` ΔU > 0, ``diffusion`` D > 0. Returns :class:`KramersTime`.

    Examples
    --------
    The double well U = (x² − 1)²/4 (U″(±1) = 2, U″(0) = −1, ΔU = 1/4) with D = 0.04; the exact
    mean time is 2483.0 (:func:`~fpsolve.theory.mfpt_1d`), so the asymptotic law is 7 % low,
    within its O(D/ΔU) = 16 %:

    >>> from fpsolve.theory import kramers_time_1d
    >>> k = kramers_time_1d(2.0, -1.0, 0.25, 0.04)
    >>> print(f"E τ ≈ {k.mean_time:.1f}, rate {k.rate:.3e}")
    E τ ≈ 2301.5, rate 4.345e-04
    """
    where = "kramers_time_1d"
    km = positive(curvature_minimum, "curvature_minimum", where)
    ks = positive(abs(float(curvature_saddle)), "|curvature_saddle|", where)
    dU, D = positive(barrier, "barrier", where), positive(diffusion, "diffusion", where)
    log_pref = np.log(2 * np.pi) - 0.5 * (np.log(km) + np.log(ks))
    return _result(log_pref, dU, D, -ks)
