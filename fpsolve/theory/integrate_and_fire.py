r"""The quadratic integrate-and-fire neuron: passage from −∞ to +∞ in closed form.

The normal form of a saddle-node (type I) neuron, Itô, time in the SDE's units:

    dx = (x² + μ) dt + sqrt(2D) dW,     on the whole line.

Both ends are boundaries of Feller's classification that the deterministic flow ẋ ≈ x² crosses in
finite time: −∞ is an *entrance* (the process comes in from it, and never goes back) and +∞ an
*exit* (it is reached in finite time; the neuron "fires" there and is reset to −∞). The mean
firing period is the mean first-passage time from −∞ (or from x₀) to +∞. With ψ = (x³/3 + μx)/D,

    E τ(x₀) = ∫_{x₀}^∞ dy ∫_{−∞}^y dz e^{ψ(z) − ψ(y)} / D,

and the substitution z = y − t turns ψ(y) − ψ(y − t) into t(y − t/2)² + t³/12 + μt (over D):
the integral over y is Gaussian, leaving one integral (t = u²),

    E τ(x₀) = sqrt(π/D) ∫_0^∞ exp(−(μu² + u⁶/12)/D) erfc((x₀ − u²/2) u/√D) du,

which for x₀ = −∞ (erfc = 2) is the firing period of Lindner, Longtin & Bulsara, *Neural
Comput.* 15, 1761 (2003), eq. (12) (also Brunel & Latham, *Neural Comput.* 15, 2281 (2003)).
For μ > 0 and D → 0 it tends to the deterministic period π/√μ; for μ < 0 (excitable) it grows
like the Kramers time over the barrier 4|μ|^(3/2)/3.

Numerics: scipy.integrate.quad of the log-shifted integrand (log erfc through
scipy.special.log_ndtr), split at the integrand's peak; relative accuracy ~1e-12.
"""
from dataclasses import dataclass

import numpy as np
from scipy import integrate, special

from ..errors import InputError, SolverError
from ._checks import positive

__all__ = ["QIFPassage", "qif_passage_time"]


@dataclass(frozen=True)
class QIFPassage:
    """Mean passage time of the QIF neuron from ``x0`` to +∞ (time units of the SDE).

    ``mean`` and its log ``log_mean``; ``rate`` = 1/mean (the firing rate with reset to −∞, for
    x0 = −∞); ``deterministic`` = π/√μ for μ > 0 from −∞ (inf for μ ≤ 0), the D → 0 limit.
    """
    x0: float
    mu: float
    diffusion: float
    mean: float
    log_mean: float
    rate: float
    deterministic: float


def qif_passage_time(mu, diffusion, x0=-np.inf):
    """Mean first-passage time of dx = (x² + μ)dt + sqrt(2D) dW from x0 (default −∞) to +∞.

    Parameters: ``mu`` (any real), ``diffusion`` D > 0, ``x0`` a real number or −inf.
    Returns :class:`QIFPassage` (see the module doc for the formula and its references).

    Examples
    --------
    >>> from fpsolve.theory import qif_passage_time
    >>> r = qif_passage_time(1.0, 0.1)
    >>> print(f"{r.mean:.10f} (deterministic {r.deterministic:.10f})")
    3.1368442820 (deterministic 3.1415926536)
    """
    where = "qif_passage_time"
    mu = float(mu)
    if not np.isfinite(mu):
        raise InputError(f"{where}: mu must be finite, got {mu!r}.")
    D = positive(diffusion, "diffusion", where)
    x0 = float(x0)
    if np.isnan(x0) or x0 == np.inf:
        raise InputError(f"{where}: x0 must be a real number or -inf, got {x0!r}.")
    sq = np.sqrt(D)

    def log_f(u):
        u = np.asarray(u, dtype=float)
        g = -(mu * u * u + u ** 6 / 12.0) / D
        if x0 == -np.inf:
            return g + np.log(2.0)
        w = (x0 - 0.5 * u * u) * u / sq
        return g + np.log(2.0) + special.log_ndtr(-np.sqrt(2.0) * w)  # erfc(w) = 2Φ(−√2 w)

    # the peak of the integrand (coarse), its width, and the shift that keeps exp() in range
    reach = np.sqrt(10.0 * max(1.0, abs(mu)) + 10.0 * D + 4.0 * max(x0, 0.0))
    u = np.concatenate([np.linspace(0.0, reach, 2001), np.geomspace(1e-6, 1e3, 2001)])
    with np.errstate(over="ignore", invalid="ignore"):
        lf = np.nan_to_num(log_f(u), nan=-np.inf)
    k = int(np.argmax(lf))
    peak, shift = float(u[k]), float(lf[k])
    # width of the peak: where μu² or u⁶/12 changes by D (at most the narrower of the two)
    scale = float((12.0 * D) ** (1 / 6))
    if mu != 0.0:
        scale = min(scale, float(np.sqrt(D / abs(mu))))
    if 0.0 < x0 < np.inf:  # erfc((x₀ − u²/2)u/√D) cuts the integrand off at u ≈ √D/x₀
        scale = min(scale, float(sq / x0))
    end = peak + 60.0 * scale
    pts = sorted({0.0, peak, min(end, peak + scale), end})

    def f(v):
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            return np.nan_to_num(np.exp(log_f(v) - shift), nan=0.0)

    total = sum(integrate.quad(f, a, b, epsabs=0.0, epsrel=1e-13, limit=400)[0]
                for a, b in zip(pts[:-1], pts[1:]) if b > a)
    total += integrate.quad(f, end, np.inf, epsabs=0.0, epsrel=1e-13, limit=400)[0]
    if not total > 0.0:
        raise SolverError(f"{where}: the quadrature found no mass in its integrand (μ = {mu:g}, "
                          f"D = {D:g}, x0 = {x0:g}); its peak was not located. Please report "
                          f"this case.")
    log_mean = float(0.5 * np.log(np.pi / D) + shift + np.log(total))
    det = float(np.pi / np.sqrt(mu)) if (mu > 0 and x0 == -np.inf) else np.inf
    mean = float(np.exp(log_mean))
    return QIFPassage(x0, mu, D, mean, log_mean, 1.0 / mean, det)
