"""Models of SGD's per-sample gradient covariance Σ₁(θ), one per paper
(:doc:`/theory/conventions`).

A noise model turns a loss on a grid into Σ₁ on the cells: a scalar field (isotropic noise, or
any 1D problem) or a tensor field of shape (d, d, *grid.shape). :func:`fpsolve.sgd.model` then
sets D = (η/2)·Σ₁/B (× (N − B)/(N − 1) without replacement). :class:`WhiteNoise` gives D itself
(SGLD) and ignores η and B.
"""
from __future__ import annotations

import numbers

import numpy as np

from .errors import InputError
from .coefficients.evaluate import check_finite, evaluate, where


class NoiseModel:
    """Base class: ``sigma1(grid, loss)`` → Σ₁ on the cells (scalar or (d, d, *shape))."""

    #: False for models that give D directly (not scaled by η/(2B)).
    scales_with_lr_and_batch = True

    def sigma1(self, grid, loss, loss_fn=None):  # pragma: no cover - abstract
        """Σ₁ on the cells of a grid, given the loss values there (and the loss as a callable,
        ``loss_fn``, for models that differentiate it): an array of grid.shape (scalar noise) or
        (d, d, *grid.shape) (a covariance matrix per cell), in units of gradient².
        """
        raise NotImplementedError

    def check(self, grid, loss, lr, batch_size):
        """Model-specific checks that need η and B (e.g. normalisability); default none."""


class Isotropic(NoiseModel):
    """Dai & Zhu (Lemma 2.1): Σ₁ = β(θ)·I with β a positive constant or callable β(θ₁, …, θ_d)."""

    def __init__(self, beta):
        self.beta = beta

    def sigma1(self, grid, loss, loss_fn=None):
        """Σ₁ = β(θ) on the cells (a number or a function of the coordinates), checked finite and
        positive.
        """
        beta = evaluate(self.beta, grid.coords, grid.shape, "Isotropic noise beta")
        check_finite(beta, grid.coords, "Isotropic noise beta")
        _positive(beta, grid, "Isotropic noise beta", floor=None)
        return beta


class Hessian(NoiseModel):
    """Xie, Sato & Sugiyama (eq. 7): Σ₁ = [H(θ)]⁺, the Hessian with eigenvalues replaced by their
    absolute values (so the noise stays positive near saddles and maxima).

    hessian : callable(θ₁, …, θ_d) returning (d, d, *shape) (or a scalar field in 1D), or None
        for central finite differences of the loss on the grid (second order).
    floor : eigenvalues of [H]⁺ below ``floor`` are raised to it. D vanishes where H is
        singular (inflection points), which a Fokker–Planck solve cannot take: without a floor
        that is an error naming the place.
    """

    def __init__(self, hessian=None, floor=None):
        if floor is not None and not floor > 0:
            raise InputError(f"Hessian noise: floor must be positive; got {floor}.")
        self.hessian = hessian
        self.floor = floor

    def sigma1(self, grid, loss, loss_fn=None):
        """Σ₁ = [H(θ)]⁺ on the cells, from ``hessian=`` or by finite differences of the loss;
        shape (d, d, *grid.shape) in 2D/3D, eigenvalues below ``floor`` raised to it.
        """
        d = grid.ndim
        if self.hessian is None and loss_fn is None:
            raise InputError("Hessian noise without hessian= needs the loss callable (loss_fn=); "
                             "fpsolve.sgd.model passes it.")
        if self.hessian is not None:
            H = np.asarray(self.hessian(*grid.coords), dtype=float)
            if d == 1 and H.shape == grid.shape:
                H = H[None, None]
            if H.shape != (d, d, *grid.shape):
                raise InputError(f"Hessian noise: hessian returned shape {H.shape}; expected "
                                 f"{(d, d, *grid.shape)}.")
        else:
            H = _fd_hessian(loss_fn, grid)
        check_finite(H.reshape(d * d, *grid.shape).sum(axis=0), grid.coords, "Hessian")
        Hm = np.moveaxis(H.reshape(d, d, -1), -1, 0)          # (N, d, d)
        Hm = 0.5 * (Hm + np.swapaxes(Hm, 1, 2))
        w, V = np.linalg.eigh(Hm)
        # [H]⁺ vanishes wherever an eigenvalue of H crosses zero: at a cell, or between two
        # neighbouring cells whose numbers of negative eigenvalues differ
        negatives = (w < 0).sum(axis=1).reshape(grid.shape)
        w = np.abs(w)
        if self.floor is not None:
            w = np.maximum(w, self.floor)
        else:
            bad = (w.min(axis=1) <= 1e-12 * max(1.0, float(w.max()))).reshape(grid.shape)
            for a in range(d):
                jump = np.diff(negatives, axis=a) != 0
                lo = [slice(None)] * d
                lo[a] = slice(0, -1)
                bad[tuple(lo)] |= jump
            if np.any(bad):
                raise InputError(
                    f"Hessian noise: [H]⁺ is singular (D vanishes) {where(grid.coords, bad)}, "
                    f"e.g. at an inflection point. Pass floor= to regularise (Xie et al. need "
                    f"[H]⁺ > 0), or shrink the grid.")
        P = np.einsum("nij,nj,nkj->nik", V, w, V)
        out = np.moveaxis(P, 0, -1).reshape(d, d, *grid.shape)
        return out[0, 0] if d == 1 else out


class LossScaled(NoiseModel):
    """Mori, Ziyin, Liu & Ueda (eq. 12): Σ₁ = 2·(L(θ) + loss_offset)·H*, so D = (η/B)(L + offset)H*.

    h_star : positive number h (isotropic H* = h I; gives a scalar field) or a d×d SPD matrix.
    loss_offset : added to the loss (e.g. to model an irreducible loss L* > 0 when the user's
        loss has minimum 0). L + offset must be positive on the grid.

    With isotropic H* the stationary law is p ∝ (L + offset)^(−φ), φ = 1 + B/(ηh) (eq. 17),
    normalisable on ℝⁿ only if n < 2φ: otherwise an error, since on a box the answer would be
    set by the walls.

    Examples
    --------
    Mori et al.'s power law: with L = L* + hθ²/2 the stationary law is L^(−φ), φ = 1 + B/(ηh).

    >>> import numpy as np
    >>> import fpsolve as fp
    >>> from fpsolve import noise, sgd
    >>> grid = fp.Grid([(-10.0, 10.0)], 2000)
    >>> model = sgd.model(grid, loss=lambda th: th**2, lr=0.1, batch_size=1,
    ...                   noise=noise.LossScaled(2.0, loss_offset=0.05))
    >>> p = model.stationary()
    >>> ell = 0.05 + grid.coords[0] ** 2
    >>> slope = np.polyfit(np.log(ell[-100:]), np.log(p.values[-100:]), 1)[0]
    >>> print(f"d log p / d log L = {slope:.4f}  (−φ = {-(1 + 1 / (0.1 * 2.0)):.4f})")
    d log p / d log L = -6.0000  (−φ = -6.0000)
    """

    def __init__(self, h_star, loss_offset=0.0):
        self.h_star = h_star
        self.loss_offset = float(loss_offset)

    def sigma1(self, grid, loss, loss_fn=None):
        """Σ₁ = 2 (L(θ) + loss_offset) H* on the cells; L + loss_offset must be positive."""
        ell = loss + self.loss_offset
        bad = ell <= 0
        if np.any(bad):
            raise InputError(f"LossScaled noise needs L(θ) + loss_offset > 0; it is "
                             f"{ell[tuple(np.argwhere(bad)[0])]:.3g} {where(grid.coords, bad)}. "
                             f"Add a positive loss_offset (the minimum loss L*).")
        if isinstance(self.h_star, numbers.Number):
            if not self.h_star > 0:
                raise InputError(f"LossScaled: h_star must be positive; got {self.h_star}.")
            return 2.0 * ell * self.h_star
        H = np.asarray(self.h_star, dtype=float)
        d = grid.ndim
        if H.shape != (d, d):
            raise InputError(f"LossScaled: h_star must be a number or a {d}×{d} matrix; got "
                             f"shape {H.shape}.")
        return 2.0 * H[:, :, *([None] * d)] * ell[None, None]

    def check(self, grid, loss, lr, batch_size):
        """Raise :class:`~fpsolve.InputError` when the stationary law L^(−φ), φ = 1 + B/(ηh), is
        not normalisable in the grid's dimension (n ≥ 2φ; Mori et al. eq. 17).
        """
        if isinstance(self.h_star, numbers.Number):
            phi = 1.0 + batch_size / (lr * self.h_star)
            if grid.ndim >= 2 * phi:
                raise InputError(
                    f"LossScaled: the stationary law L^(−φ) with φ = 1 + B/(ηh) = {phi:.3g} is "
                    f"not normalisable in n = {grid.ndim} dimensions (needs n < 2φ; Mori et al. "
                    f"eq. 17). Lower η/B or h.")


class Covariance(NoiseModel):
    """Hu et al. / Chaudhari–Soatto: a general Σ₁(θ): a positive number, a d×d SPD matrix, or a
    callable returning a scalar field or a (d, d, *shape) tensor field."""

    def __init__(self, sigma):
        self.sigma = sigma

    def sigma1(self, grid, loss, loss_fn=None):
        """The given Σ₁ (a number, a function of the coordinates, or d×d values) on the cells,
        checked finite and positive (definite).
        """
        s = self.sigma(*grid.coords) if callable(self.sigma) else self.sigma
        s = np.asarray(s, dtype=float)
        d = grid.ndim
        if s.ndim == 0 or s.shape == grid.shape:
            s = np.broadcast_to(s, grid.shape).copy()
            check_finite(s, grid.coords, "Covariance noise")
            _positive(s, grid, "Covariance noise", None)
            return s
        if s.shape == (d, d):
            return np.broadcast_to(s[:, :, *([None] * d)], (d, d, *grid.shape)).copy()
        if s.shape == (d, d, *grid.shape):
            return s
        raise InputError(f"Covariance noise: got shape {s.shape}; expected a number, {grid.shape}, "
                         f"({d}, {d}) or {(d, d, *grid.shape)}.")


class WhiteNoise(NoiseModel):
    """SGLD / Xie et al. Thm 3.1: constant (or given) diffusion D itself, independent of η and B."""

    scales_with_lr_and_batch = False

    def __init__(self, D):
        self.D = D

    def sigma1(self, grid, loss, loss_fn=None):
        """D itself on the cells (the model uses it as the diffusion, not scaled by η/(2B); see
        :class:`Covariance` for the forms D may take)."""
        return Covariance(self.D).sigma1(grid, loss, loss_fn)


def _positive(a, grid, what, floor):
    bad = a <= 0
    if np.any(bad):
        raise InputError(f"{what} must be positive; it is {a[tuple(np.argwhere(bad)[0])]:.3g} "
                         f"{where(grid.coords, bad)}.")


def _fd_hessian(loss, grid):
    """Central-difference Hessian of the loss callable at the cell centres.

    Step δ = ε^(1/4)·max(1, |x|) balances the O(δ²) truncation against the O(ε/δ²) round-off
    (≈1e-8 relative); evaluating the callable off-grid keeps boundary cells as accurate as the
    interior, which differences of cell values would not.
    """
    d = grid.ndim
    x = grid.coords
    step = [np.finfo(float).eps ** 0.25 * np.maximum(1.0, np.abs(c)) for c in x]

    def L(shifts):
        return np.asarray(loss(*[c + s for c, s in zip(x, shifts)]), dtype=float)

    H = np.empty((d, d, *grid.shape))
    zero = [0.0] * d
    for i in range(d):
        for j in range(i, d):
            def sh(si, sj):
                s = list(zero)
                s[i] = s[i] + si * step[i]
                s[j] = s[j] + sj * step[j]
                return s
            H[i, j] = (L(sh(1, 1)) - L(sh(1, -1)) - L(sh(-1, 1)) + L(sh(-1, -1))) / (
                4 * step[i] * step[j])
            H[j, i] = H[i, j]
    return H
