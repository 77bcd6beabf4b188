"""Particles against the PDE and closed forms: distances and z-scores with stated tolerances.

Every comparison returns a small result object with the numbers, ``passed`` (bool), ``verdict``
(one line of text that states the tolerance used) and ``tolerance``; ``bool(result)`` is
``passed``. Tolerances are k standard errors (k given, default stated) plus an optional
systematic ``bias`` allowance — the known discretisation errors of the particle methods:

* Euler–Maruyama has weak order 1: expectations are off by O(dt). For an OU process / quadratic
  the EM moments are known exactly (:func:`em_ou_moments`); the stationary variance is larger by
  :func:`em_variance_factor` = 1/(1 − λ dt/2).
* Discrete SGD is EM of its SDE with dt = η: the same factor, :func:`sgd_variance_factor`
  (:doc:`/theory/conventions`).
* First passage with discrete monitoring: the target is effectively moved by
  :func:`monitoring_shift` = 0.5826·sqrt(2 D dt) (Broadie, Glasserman & Kou 1997), so MFPTs are
  overestimated by O(sqrt(dt)); compare with the reference MFPT at the shifted target, or pass
  the difference as ``bias``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .fields.field import Density
from .particles.results import histogram_counts

#: −ζ(1/2)/sqrt(2π): the mean overshoot of a Gaussian random walk over a level, in step s.d.
#: (Siegmund's constant; it corrects first-passage times of discretely monitored chains).
BGK_CONSTANT = 0.5825971579390106


# -- bias helpers ------------------------------------------------------------------------------
def em_variance_factor(dt, curvature):
    """Stationary variance of Euler–Maruyama on an OU process / quadratic (rate λ) over the
    exact D/λ: 1/(1 − λ dt/2). EM is unstable for λ dt ≥ 2."""
    x = float(curvature) * float(dt)
    if not 0 < x < 2:
        raise InputError(f"em_variance_factor: need 0 < λ·dt < 2 (stable EM); got {x:g}.")
    return 1.0 / (1.0 - 0.5 * x)


def sgd_variance_factor(lr, curvature):
    """SGD's stationary variance on a quadratic of curvature λ over the SDE's: 1/(1 − ηλ/2)
    (:doc:`/theory/conventions`; SGD is Euler–Maruyama of its SDE with dt = η)."""
    return em_variance_factor(lr, curvature)


def sgd_quadratic_variance(lr, curvature, noise_variance):
    """Exact stationary variance of θ ← θ − ηλθ + η·sqrt(C) ξ: η C / (λ (2 − ηλ)).

    The SDE (D = ηC/2) gives D/λ = ηC/(2λ); the ratio is :func:`sgd_variance_factor`."""
    return 0.5 * lr * noise_variance / curvature * sgd_variance_factor(lr, curvature)


def ou_moments(t, x0, rate, diffusion, var0=0.0):
    """Exact mean and variance of dX = −λX dt + sqrt(2D) dW at time t from N(x0, var0)."""
    a = np.exp(-rate * np.asarray(t, dtype=float))
    return x0 * a, var0 * a ** 2 + diffusion / rate * (1.0 - a ** 2)


def em_ou_moments(t, x0, rate, diffusion, dt, var0=0.0):
    """Exact mean and variance of the Euler–Maruyama chain X ← (1 − λh)X + sqrt(2Dh) ξ after
    k = round(t/dt) steps of h = t/k (the closed form of EM for a linear SDE)."""
    t = float(t)
    k = max(1, int(round(t / dt)))
    h = t / k
    a = 1.0 - rate * h
    mean = x0 * a ** k
    geo = k if a * a == 1.0 else (1.0 - a ** (2 * k)) / (1.0 - a * a)
    return mean, var0 * a ** (2 * k) + 2.0 * diffusion * h * geo


def ou_weak_bias(t, x0, rate, diffusion, dt, var0=0.0):
    """(mean, variance) of Euler–Maruyama minus the exact OU values at time t: O(dt)."""
    em = em_ou_moments(t, x0, rate, diffusion, dt, var0)
    ex = ou_moments(t, x0, rate, diffusion, var0)
    return em[0] - ex[0], em[1] - ex[1]


def monitoring_shift(diffusion, dt):
    """Effective outward shift of an absorbing level under discrete monitoring:
    0.5826·sqrt(2 D dt). A target at c is hit like a continuous-time target at c + shift
    (further from the start), to O(dt)."""
    return BGK_CONSTANT * np.sqrt(2.0 * float(diffusion) * float(dt))


# -- result objects ------------------------------------------------------------------------------
@dataclass
class Comparison:
    passed: bool
    verdict: str
    tolerance: float

    def __bool__(self):
        return bool(self.passed)


@dataclass
class HistogramComparison(Comparison):
    """L1 distance ∫|p̂ − p| between a particle histogram and a reference density.

    l1 : observed distance; l1_stderr : its bootstrap standard error (resampled particles);
    null_mean, null_std : distance expected from n exact samples of the reference (parametric
    bootstrap) — a finite sample is never at distance 0. tolerance = null_mean + k·null_std + bias.
    """
    l1: float = 0.0
    l1_stderr: float = 0.0
    null_mean: float = 0.0
    null_std: float = 0.0
    n: int = 0
    k: float = 3.0
    bias: float = 0.0
    outside: int = 0


@dataclass
class KSComparison(Comparison):
    """Kolmogorov–Smirnov distance to the reference CDF (1D), p-value, critical value at
    ``alpha``; tolerance = critical value + bias."""
    statistic: float = 0.0
    pvalue: float = 1.0
    alpha: float = 1e-3
    n: int = 0
    bias: float = 0.0


@dataclass
class MFPTComparison(Comparison):
    """Sample MFPT against a reference: z = (mean − reference)/stderr;
    tolerance = k·stderr + |bias| on |mean − reference|."""
    mean: float = 0.0
    stderr: float = 0.0
    reference: float = 0.0
    z: float = 0.0
    k: float = 4.0
    bias: float = 0.0
    censored: int = 0


@dataclass
class MomentComparison(Comparison):
    """Sample mean and covariance with standard errors, z-scores against references.

    tolerance: k (the number of standard errors, after subtracting the bias allowances)."""
    mean: np.ndarray = None
    mean_stderr: np.ndarray = None
    cov: np.ndarray = None
    cov_stderr: np.ndarray = None
    z_mean: np.ndarray = None
    z_cov: np.ndarray = None
    n: int = 0
    k: float = 4.0
    details: dict = field(default_factory=dict)


# -- comparisons -------------------------------------------------------------------------------
def _samples(particles, t_index=-1):
    if hasattr(particles, "positions"):
        X = particles.positions[t_index]
    else:
        X = particles
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or len(X) == 0:
        raise InputError(f"compare: need a non-empty sample (n, d); got shape {X.shape}.")
    return X


def _counts(X, grid):
    inside = grid.contains(X)
    return histogram_counts(X[inside], grid), int((~inside).sum())


def histogram_l1(particles, reference: Density, t_index=-1, k=3.0, bias=0.0, n_boot=200,
                 seed=0) -> HistogramComparison:
    """L1 distance between the particles' histogram on ``reference.grid`` and ``reference``.

    particles : a SimulationResult / SGDResult (positions at ``t_index``) or an array (n, d).
    k : standard deviations of the null distribution allowed (default 3); bias : systematic
    allowance (e.g. the O(dt) EM bias of the density, or the PDE's discretisation error).
    """
    if not isinstance(reference, Density):
        raise InputError("histogram_l1: reference must be a Density.")
    X = _samples(particles, t_index)
    g = reference.grid
    counts, outside = _counts(X, g)
    n = len(X)
    vol = g.cell_volume
    p = reference.values.ravel() * vol
    p = p / p.sum()
    c = counts.ravel()
    l1 = float(np.abs(c / n - p).sum())
    rng = np.random.default_rng(seed)
    boot = rng.multinomial(n, c / n, size=n_boot)
    l1_boot = np.abs(boot / n - p).sum(axis=1)
    null = rng.multinomial(n, p, size=n_boot)
    l1_null = np.abs(null / n - p).sum(axis=1)
    tol = float(l1_null.mean() + k * l1_null.std(ddof=1) + abs(bias))
    passed = l1 <= tol
    text = (f"L1 = {l1:.4g} ± {l1_boot.std(ddof=1):.2g} (bootstrap) vs tolerance {tol:.4g} = "
            f"null mean {l1_null.mean():.4g} + {k:g}·{l1_null.std(ddof=1):.2g}"
            + (f" + bias {abs(bias):.2g}" if bias else "") + f" (n = {n}"
            + (f", {outside} outside the grid" if outside else "") + "): "
            + ("consistent" if passed else "INCONSISTENT"))
    return HistogramComparison(passed=bool(passed), verdict=text, tolerance=tol, l1=l1,
                               l1_stderr=float(l1_boot.std(ddof=1)),
                               null_mean=float(l1_null.mean()),
                               null_std=float(l1_null.std(ddof=1)), n=n, k=k, bias=float(bias),
                               outside=outside)


def density_cdf_1d(reference: Density):
    """The CDF of a 1D Density as a callable (exact for its piecewise-constant law)."""
    g = reference.grid
    if g.ndim != 1:
        raise InputError("density_cdf_1d: needs a 1D density.")
    edges = g.bounds[0, 0] + np.arange(g.shape[0] + 1) * g.h[0]
    edges[-1] = g.bounds[0, 1]
    F = np.concatenate([[0.0], np.cumsum(reference.values * g.h[0])])
    F /= F[-1]
    return lambda x: np.interp(x, edges, F)


def ks_1d(particles, reference, t_index=-1, alpha=1e-3, bias=0.0) -> KSComparison:
    """One-sample KS test of 1D particles against a reference CDF.

    reference : a 1D Density (its exact piecewise-linear CDF) or a callable CDF.
    alpha : significance level (default 1e-3); bias : extra KS distance allowed.
    """
    from scipy import stats  # lazily: scipy.stats is slow to import

    X = _samples(particles, t_index)
    if X.shape[1] != 1:
        raise InputError("ks_1d: the KS test here is one-dimensional.")
    cdf = density_cdf_1d(reference) if isinstance(reference, Density) else reference
    res = stats.kstest(X[:, 0], cdf)
    n = len(X)
    crit = float(stats.kstwo.isf(alpha, n))
    tol = crit + abs(bias)
    passed = res.statistic <= tol
    text = (f"KS distance {res.statistic:.4g} (p = {res.pvalue:.3g}, n = {n}) vs tolerance "
            f"{tol:.4g} (critical value at alpha = {alpha:g}"
            + (f" + bias {abs(bias):.2g}" if bias else "") + "): "
            + ("consistent" if passed else "INCONSISTENT"))
    return KSComparison(passed=bool(passed), verdict=text, tolerance=tol,
                        statistic=float(res.statistic), pvalue=float(res.pvalue), alpha=alpha,
                        n=n, bias=float(bias))


def first_passage_mean(result, reference, k=4.0, bias=0.0) -> MFPTComparison:
    """Particle MFPT against a reference MFPT (PDE or quadrature).

    result : a FirstPassageResult (or an array of times). Passes if |mean − reference| ≤
    k·stderr + |bias| (default k = 4). A censored run's mean is biased low: it is reported.
    """
    if hasattr(result, "times") and hasattr(result, "censored"):
        times = np.asarray(result.times, dtype=float)
        censored = int(result.censored)
    else:
        times = np.asarray(result, dtype=float).ravel()
        censored = 0
    if len(times) < 2:
        raise InputError("first_passage_mean: need at least two first-passage times.")
    mean = float(times.mean())
    se = float(times.std(ddof=1) / np.sqrt(len(times)))
    ref = float(reference)
    tol = k * se + abs(bias)
    z = (mean - ref) / se
    passed = abs(mean - ref) <= tol and censored == 0
    text = (f"MFPT {mean:.5g} ± {se:.2g} vs reference {ref:.5g}: z = {z:+.2f}; tolerance "
            f"{k:g}·stderr" + (f" + bias {abs(bias):.2g}" if bias else "") + f" = {tol:.3g}"
            + (f"; {censored} censored (mean biased low)" if censored else "") + ": "
            + ("consistent" if passed else "INCONSISTENT"))
    return MFPTComparison(passed=bool(passed), verdict=text, tolerance=tol, mean=mean, stderr=se,
                          reference=ref, z=float(z), k=k, bias=float(bias), censored=censored)


def moment_stats(X):
    """Sample mean, covariance (ddof=1) and their standard errors for samples X (n, d).

    SE of a covariance entry: sqrt((E[(xᵢ−μᵢ)²(xⱼ−μⱼ)²] − σᵢⱼ²)/n), valid for any law with
    finite fourth moments (not only Gaussian)."""
    X = _samples(X)
    n = len(X)
    mu = X.mean(axis=0)
    Y = X - mu
    cov = Y.T @ Y / (n - 1)
    se_mean = np.sqrt(np.diag(cov) / n)
    m22 = np.einsum("ni,nj->ij", Y ** 2, Y ** 2) / n
    se_cov = np.sqrt(np.maximum(m22 - (Y.T @ Y / n) ** 2, 0.0) / n)
    return mu, se_mean, cov, se_cov


def moments(particles, mean=None, cov=None, t_index=-1, k=4.0, bias_mean=0.0,
            bias_cov=0.0) -> MomentComparison:
    """Sample moments with standard errors against reference mean (d,) and covariance (d, d).

    A reference given as a scalar is broadcast (1D: the variance). ``bias_mean``/``bias_cov``:
    systematic allowances (e.g. :func:`ou_weak_bias`) added to k·SE. Passes if every entry is
    within k standard errors plus its bias.
    """
    X = _samples(particles, t_index)
    d = X.shape[1]
    mu, se_mu, C, se_C = moment_stats(X)
    ok = True
    parts = []
    z_mu = z_C = None
    if mean is not None:
        ref = np.broadcast_to(np.asarray(mean, dtype=float), (d,))
        z_mu = (mu - ref) / se_mu
        ok &= bool(np.all(np.abs(mu - ref) <= k * se_mu + np.abs(bias_mean)))
        parts.append(f"mean {_sig(mu, 6)} ± {_sig(se_mu, 2)} vs {_sig(ref, 6)} "
                     f"(z = {np.array2string(z_mu, precision=2)})")
    if cov is not None:
        ref = np.broadcast_to(np.asarray(cov, dtype=float), (d, d))
        z_C = (C - ref) / se_C
        ok &= bool(np.all(np.abs(C - ref) <= k * se_C + np.abs(bias_cov)))
        parts.append(f"cov {_sig(C, 6)} ± {_sig(se_C, 2)} vs {_sig(ref, 6)} "
                     f"(z = {np.array2string(z_C, precision=2)})")
    if not parts:
        raise InputError("moments: give a reference mean and/or cov.")
    text = ("; ".join(parts) + f"; tolerance {k:g}·SE"
            + (" + bias" if (np.any(bias_mean) or np.any(bias_cov)) else "") + f" (n = {len(X)}): "
            + ("consistent" if ok else "INCONSISTENT"))
    return MomentComparison(passed=ok, verdict=text, tolerance=float(k), mean=mu,
                            mean_stderr=se_mu, cov=C, cov_stderr=se_C, z_mean=z_mu, z_cov=z_C,
                            n=len(X), k=k)


def _sig(values, digits: int) -> str:
    """An array with ``digits`` significant digits per entry (standard errors of 0.0035 print
    as 0.0035, not 0.)."""
    return np.array2string(np.asarray(values, dtype=float), separator=", ",
                           formatter={"float_kind": lambda v: f"{v:.{digits}g}"})


__all__ = [
    "histogram_l1", "ks_1d", "first_passage_mean", "moments", "moment_stats", "density_cdf_1d",
    "em_variance_factor", "sgd_variance_factor", "sgd_quadratic_variance", "ou_moments",
    "em_ou_moments", "ou_weak_bias", "monitoring_shift", "BGK_CONSTANT",
]
