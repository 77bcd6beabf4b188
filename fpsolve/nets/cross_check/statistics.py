"""Means and covariances over independent units (particles, chains), with standard errors: each
unit contributes its time average, and the units are independent."""
from __future__ import annotations

import numpy as np


def value_at_origin(field_, k):
    """A Field's value at z = 0."""
    return float(np.ravel(field_.at(np.zeros(k) if k > 1 else 0.0))[0])


def unit_stats(Z):
    """Z: (n units, m times, k). Returns mean, its se, covariance, its se (k, k), where each
    unit contributes its time average; units are independent."""
    n, m, k = Z.shape
    S1 = Z.sum(axis=1)
    S2 = np.einsum("nti,ntj->nij", Z, Z)
    return stats_from_sums(S1, S2, m)


def stats_from_sums(S1, S2, m):
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
