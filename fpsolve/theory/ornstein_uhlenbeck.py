"""Ornstein–Uhlenbeck processes: stationary covariance, current, circulation, transients, spectrum.

Convention (:doc:`/theory/conventions`, Itô = isothermal here because D is constant):

    dX = −B X dt + sqrt(2D) dW,   J = −B x p − D ∇p,

with B the drift matrix (the Hessian H of a quadratic loss, B = H; B may be non-symmetric here
unless stated) and D a constant symmetric positive (semi)definite matrix. Time is the SDE's
(t = k·η for SGD). Results:

* stationary covariance Σ:   B Σ + Σ Bᵀ = 2 D        (continuous Lyapunov equation)
* stationary current:        J = −Q Σ⁻¹ x p,  Q = (B Σ − Σ Bᵀ)/2  (antisymmetric), so B Σ = D + Q
* circulation in the (i, j) plane: ∫ (x_i J_j − x_j J_i) dx = 2 Q_ij
* for B = H symmetric a current exists iff H D ≠ D H (then Σ = H⁻¹D and Q = 0).

Chaudhari & Soatto (seed 004, §4.1) write dx = −∇f dt + sqrt(2β⁻¹ D̃) dW with β⁻¹ = η/(2b) and D̃
the gradient covariance, and HS + SH = 2D̃, Σ∞ = β⁻¹S, Q̃ = (HS − SH)/2, Φ = xᵀS⁻¹x/2, j = −Q̃∇Φ.
In our units D = β⁻¹D̃, Σ = β⁻¹S and Q = β⁻¹Q̃, so their circulation is 2β⁻¹Q̃₁₂
(:doc:`/theory/chaudhari_soatto`). Their printed Fokker–Planck ∇·(∇f ρ + β⁻¹D̃∇ρ) is isothermal: it
is Itô only for constant D̃.
"""
import heapq
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from ..errors import InputError
from ._checks import finite, positive, square_matrix

__all__ = [
    "OUStationaryState", "ou_stationary_state", "stationary_current", "current_exists",
    "ChaudhariSoattoOU", "chaudhari_soatto_ou", "transient_moments", "ou_eigenvalues",
    "ou_transition_density_1d", "DiffusionMatrixA2", "diffusion_matrix_a2",
    "TemperatureFactor", "inverse_temperature",
]


def _drift_and_diffusion(drift_matrix, diffusion, where):
    B = square_matrix(drift_matrix, "drift_matrix", where)
    D = square_matrix(diffusion, "diffusion", where, symmetric=True)
    if D.shape != B.shape:
        if D.shape == (1, 1):
            D = D[0, 0] * np.eye(B.shape[0])
        else:
            raise InputError(f"{where}: diffusion {D.shape} must match drift_matrix {B.shape} "
                             "(or be a scalar).")
    if np.linalg.eigvalsh(D)[0] < -1e-14 * max(1.0, np.abs(D).max()):
        raise InputError(f"{where}: diffusion must be positive semidefinite.")
    if np.linalg.eigvals(B).real.min() <= 0:
        raise InputError(f"{where}: drift_matrix must have eigenvalues with positive real part "
                         "(dX = −B X dt + …) for a stationary state to exist; its eigenvalues are "
                         f"{np.linalg.eigvals(B)}.")
    return B, D


@dataclass(frozen=True)
class OUStationaryState:
    """Stationary Gaussian N(0, Σ) of dX = −BX dt + sqrt(2D) dW and its probability current.

    ``covariance`` Σ (B Σ + Σ Bᵀ = 2D); ``precision`` Σ⁻¹; ``q`` = (BΣ − ΣBᵀ)/2 (antisymmetric,
    J = −q Σ⁻¹ x p); ``circulation`` = 2q, entry (i, j) = ∫(x_i J_j − x_j J_i) dx;
    ``has_current`` whether q ≠ 0 (relative tolerance 1e-10); ``lyapunov_residual`` = max|BΣ + ΣBᵀ
    − 2D| / max|D|.
    """
    covariance: np.ndarray
    precision: np.ndarray
    q: np.ndarray
    circulation: np.ndarray
    has_current: bool
    lyapunov_residual: float


def ou_stationary_state(drift_matrix, diffusion):
    """Stationary covariance, antisymmetric part Q and circulation of an OU process.

    Solves B Σ + Σ Bᵀ = 2D with scipy.linalg.solve_continuous_lyapunov (Bartels–Stewart), then
    Q = (BΣ − ΣBᵀ)/2. Derivation of the current: J = −Bx p − D∇p = (−B + DΣ⁻¹) x p
    = −(BΣ − D)Σ⁻¹ x p = −QΣ⁻¹ x p, and E[x_i (QΣ⁻¹x)_j] = Q_ji gives ∫(x_iJ_j − x_jJ_i) = 2Q_ij.

    Examples
    --------
    A drift matrix and a diffusion that do not commute: the stationary state carries a current.

    >>> import numpy as np
    >>> from fpsolve.theory import ou_stationary_state
    >>> ou = ou_stationary_state(np.diag([1.0, 2.0]), np.array([[0.2, 0.05], [0.05, 0.1]]))
    >>> print(np.round(ou.covariance, 4), ou.has_current)
    [[0.2    0.0333]
     [0.0333 0.05  ]] True
    """
    B, D = _drift_and_diffusion(drift_matrix, diffusion, "ou_stationary_state")
    S = linalg.solve_continuous_lyapunov(B, 2 * D)
    S = 0.5 * (S + S.T)
    Q = 0.5 * (B @ S - S @ B.T)
    Q = 0.5 * (Q - Q.T)
    scale = max(np.abs(D).max(), 1e-300)
    resid = float(np.abs(B @ S + S @ B.T - 2 * D).max() / scale)
    has = bool(np.abs(Q).max() > 1e-10 * max(np.abs(B @ S).max(), 1e-300))
    return OUStationaryState(S, np.linalg.inv(S), Q, 2 * Q, has, resid)


def stationary_current(x, drift_matrix, diffusion):
    """Stationary probability current J(x) = −Q Σ⁻¹ x p(x) at points x of shape (..., n)."""
    st = ou_stationary_state(drift_matrix, diffusion)
    x = np.asarray(x, dtype=float)
    n = st.covariance.shape[0]
    if x.shape[-1] != n:
        raise InputError(f"stationary_current: x must have last dimension {n}, got {x.shape}.")
    P = st.precision
    _, logdet = np.linalg.slogdet(st.covariance)
    logp = -0.5 * np.einsum("...i,ij,...j->...", x, P, x) - 0.5 * (n * np.log(2 * np.pi) + logdet)
    return -(x @ (st.q @ P).T) * np.exp(logp)[..., None]


def current_exists(hessian, diffusion, rtol=1e-10):
    """True iff the stationary OU state carries a current: H D ≠ D H (H, D symmetric).

    Proof: if HD = DH, Σ = H⁻¹D solves HΣ + ΣH = 2D and commutes with H, so Q = 0; conversely
    Q = 0 gives D = HΣ with HΣ = ΣH, hence HD = DH.
    """
    H = square_matrix(hessian, "hessian", "current_exists", symmetric=True)
    D = square_matrix(diffusion, "diffusion", "current_exists", symmetric=True)
    C = H @ D - D @ H
    return bool(np.abs(C).max() > rtol * max(np.abs(H @ D).max(), 1e-300))


@dataclass(frozen=True)
class ChaudhariSoattoOU:
    """Chaudhari & Soatto §4.1 quantities in the paper's units (β⁻¹ = η/(2b), D̃ unscaled).

    ``s``: H S + S H = 2D̃; ``q``: Q̃ = (HS − SH)/2; ``potential_matrix``: S⁻¹ (Φ = xᵀS⁻¹x/2,
    independent of β); ``covariance``: Σ∞ = β⁻¹S; ``circulation``: 2β⁻¹Q̃ (entry (i, j) =
    ∫(x_iJ_j − x_jJ_i)); ``has_current``: HD̃ ≠ D̃H.
    """
    s: np.ndarray
    q: np.ndarray
    potential_matrix: np.ndarray
    covariance: np.ndarray
    circulation: np.ndarray
    has_current: bool


def chaudhari_soatto_ou(hessian, gradient_covariance, inverse_temperature):
    """Chaudhari & Soatto (seed 004) eq. (8): the OU case ∇f = Hx, constant D̃, in their units.

    ∇f = (D̃ + Q̃)∇Φ with Φ = xᵀS⁻¹x/2: HS = D̃ + Q̃, hence HS + SH = 2D̃ and Q̃ = (HS − SH)/2;
    j = −Q̃∇Φ. ``inverse_temperature`` is β⁻¹ = η/(2b) (b the batch size).
    """
    where = "chaudhari_soatto_ou"
    H = square_matrix(hessian, "hessian", where, positive_definite=True)
    Dt = square_matrix(gradient_covariance, "gradient_covariance", where, symmetric=True)
    binv = positive(inverse_temperature, "inverse_temperature", where)
    S = linalg.solve_continuous_lyapunov(H, 2 * Dt)
    S = 0.5 * (S + S.T)
    Q = 0.5 * (H @ S - S @ H)
    return ChaudhariSoattoOU(S, Q, np.linalg.inv(S), binv * S, 2 * binv * Q, current_exists(H, Dt))


def transient_moments(t, drift_matrix, diffusion, mean0, cov0):
    """Mean and covariance of dX = −BX dt + sqrt(2D) dW at times t from X₀ ~ N(mean0, cov0).

    m(t) = e^(−Bt) m₀,  Σ(t) = Σ∞ + e^(−Bt) (Σ₀ − Σ∞) e^(−Bᵀt)  (solution of the Lyapunov ODE
    Σ′ = −BΣ − ΣBᵀ + 2D). Returns (means (T, n), covariances (T, n, n)) for t of shape (T,)
    (a scalar t gives shapes (n,), (n, n)).
    """
    where = "transient_moments"
    B, D = _drift_and_diffusion(drift_matrix, diffusion, where)
    n = B.shape[0]
    m0 = np.asarray(mean0, dtype=float).reshape(-1)
    if m0.size == 1 and n > 1:
        m0 = np.full(n, m0[0])
    S0 = square_matrix(cov0, "cov0", where, symmetric=True)
    if m0.shape != (n,) or S0.shape != (n, n):
        raise InputError(f"{where}: mean0 must have {n} entries and cov0 be {n}×{n}.")
    tt = np.atleast_1d(np.asarray(t, dtype=float))
    if np.any(tt < 0) or not np.all(np.isfinite(tt)):
        raise InputError(f"{where}: times must be finite and ≥ 0.")
    Sinf = ou_stationary_state(B, D).covariance
    means, covs = np.empty((tt.size, n)), np.empty((tt.size, n, n))
    for k, tk in enumerate(tt):
        E = linalg.expm(-B * tk)
        means[k] = E @ m0
        C = Sinf + E @ (S0 - Sinf) @ E.T
        covs[k] = 0.5 * (C + C.T)
    if np.ndim(t) == 0:
        return means[0], covs[0]
    return means, covs


def ou_eigenvalues(drift_matrix, count):
    """The ``count`` slowest decay rates of the OU generator: Σᵢ nᵢ μᵢ, nᵢ = 0, 1, 2, …

    μᵢ are the eigenvalues of B (for 1D OU with rate k: 0, k, 2k, …). The rates do not depend on
    D. Returned as an array sorted by real part (complex if B has complex eigenvalues).
    """
    B = square_matrix(drift_matrix, "drift_matrix", "ou_eigenvalues")
    count = int(count)
    if count < 1:
        raise InputError("ou_eigenvalues: count must be ≥ 1.")
    mu = np.linalg.eigvals(B)
    if np.all(np.abs(mu.imag) < 1e-14 * np.abs(mu).max()):
        mu = mu.real
    if mu.real.min() <= 0:
        raise InputError("ou_eigenvalues: B must have eigenvalues with positive real part.")
    # the `count` smallest sums Σ nᵢ Re μᵢ, generated best-first from n = 0 (Dijkstra on ℕⁿ)
    heap, seen, rates = [(0.0, (0,) * mu.size)], {(0,) * mu.size}, []
    while len(rates) < count:
        _, ns = heapq.heappop(heap)
        rates.append(sum(n * m for n, m in zip(ns, mu)))
        for i in range(mu.size):
            nxt = ns[:i] + (ns[i] + 1,) + ns[i + 1:]
            if nxt not in seen:
                seen.add(nxt)
                heapq.heappush(heap, (sum(n * m.real for n, m in zip(nxt, np.atleast_1d(mu))), nxt))
    return np.array(rates)


def ou_transition_density_1d(x, t, x0, rate, diffusion):
    """Transition density of dX = −kX dt + sqrt(2D) dW: N(x₀e^(−kt), D(1 − e^(−2kt))/k).

    ``rate`` k may be ≥ 0 or < 0 (k = 0: Brownian motion, variance 2Dt); t > 0.
    """
    where = "ou_transition_density_1d"
    k, D = finite(rate, "rate", where), positive(diffusion, "diffusion", where)
    t = np.asarray(t, dtype=float)
    if np.any(t <= 0):
        raise InputError(f"{where}: t must be > 0.")
    x, x0 = np.asarray(x, dtype=float), np.asarray(x0, dtype=float)
    var = 2 * D * t if k == 0 else -D * np.expm1(-2 * k * t) / k
    mean = x0 * np.exp(-k * t)
    return np.exp(-0.5 * (x - mean) ** 2 / var) / np.sqrt(2 * np.pi * var)


# ---------------------------------------------------------------------------------------------
# Chaudhari & Soatto, appendix A: the gradient covariance and its batch-size factor
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffusionMatrixA2:
    """Eq. (A2) as printed, −(1 − 1/(N−1)) g gᵀ, and corrected, −N/(N−1) g gᵀ (the sample
    covariance)."""
    printed: np.ndarray
    corrected: np.ndarray


def diffusion_matrix_a2(per_sample_gradients):
    """Chaudhari & Soatto (A2): D(x) for sampling without replacement, printed and corrected.

    With g_k the N per-sample gradients (rows) and g their mean, the exact covariance of a batch
    mean drawn without replacement is (1/b)(1 − b/N)·[Σ g_k g_kᵀ/(N−1) − N/(N−1) g gᵀ] (the sample
    covariance, Hu et al. Prop. 1). The paper prints the g gᵀ coefficient as −(1 − 1/(N−1)).
    """
    G = np.asarray(per_sample_gradients, dtype=float)
    if G.ndim != 2 or G.shape[0] < 2:
        raise InputError("diffusion_matrix_a2: per_sample_gradients must be (N ≥ 2, d).")
    N = G.shape[0]
    second = G.T @ G / (N - 1)
    g = G.mean(axis=0)
    gg = np.outer(g, g)
    return DiffusionMatrixA2(second - (1 - 1 / (N - 1)) * gg, second - N / (N - 1) * gg)


@dataclass(frozen=True)
class TemperatureFactor:
    """β⁻¹ as printed in §3.1 and corrected, for the given sampling scheme."""
    printed: float
    corrected: float


def inverse_temperature(learning_rate, batch_size, n_samples, replacement):
    """Chaudhari & Soatto §3.1: β⁻¹ = η/(2b) (with replacement, D from (A1)) or
    η/(2b)(1 − b/N) (without replacement, D from (A2)).

    The paper attaches the factor (1 − b/N) to sampling *with* replacement; it belongs to sampling
    without replacement (appendix A.2 itself derives it there). ``printed`` gives the paper's
    value for the scheme named by ``replacement``, ``corrected`` the right one.
    """
    where = "inverse_temperature"
    eta = positive(learning_rate, "learning_rate", where)
    b, N = positive(batch_size, "batch_size", where), positive(n_samples, "n_samples", where)
    if b > N:
        raise InputError(f"{where}: batch_size {b} exceeds n_samples {N}.")
    plain, reduced = eta / (2 * b), eta / (2 * b) * (1 - b / N)
    return TemperatureFactor(reduced, plain) if replacement else TemperatureFactor(plain, reduced)
