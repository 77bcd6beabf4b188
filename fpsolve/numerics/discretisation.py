"""From coefficients on the grid to face jump rates: the one place where fluxes are built.

Everything downstream (generator, stationary state, spectrum, time stepping, currents) starts from
the log face rates returned here, so every solver uses the same Scharfetter–Gummel flux.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry.grid import Grid
from . import flux
from .generator import (assemble_csr, comb_log_density, detailed_balance_defect, exp_rates,
                        to_csr)


def as3d(arr: np.ndarray) -> np.ndarray:
    """View a 1D/2D/3D field as 3D with trailing unit axes (the kernels are written for 3D)."""
    return np.ascontiguousarray(arr.reshape(arr.shape + (1,) * (3 - arr.ndim)), dtype=float)


@dataclass
class FaceRates:
    """Log jump rates across every face: ``log_fwd[a, k]`` is the rate from cell k to its upper
    neighbour along axis a, ``log_bwd[a, k]`` the rate back (flat C-order cell index k; −inf on
    walls). Units: 1/time."""

    grid: Grid
    log_fwd: np.ndarray
    log_bwd: np.ndarray

    @property
    def shape(self):
        """Cells per axis, as an int64 array (what the kernels take)."""
        return np.asarray(self.grid.shape, dtype=np.int64)

    @property
    def periodic(self):
        """Whether each axis is periodic, as a bool array (what the kernels take)."""
        return np.asarray(self.grid.periodic, dtype=np.bool_)

    @property
    def linear_rates(self):
        """(rate_fwd, rate_bwd) = (e^log_fwd, e^log_bwd), computed on first use and kept (the
        rates do not change after construction): the jump-rate matrix, the generator and the
        stationary residual each exponentiated them again, 0.3 ms of a 16³ stationary solve."""
        kept = self.__dict__.get("_linear_rates")
        if kept is None:
            kept = self._linear_rates = exp_rates(self.log_fwd, self.log_bwd)
        return kept

    def generator(self, psi=None, index=None, copy=True):
        """Sparse E⁻¹ L E (E = diag e^ψ; ψ = 0 gives L) on the cells with ``index >= 0``.

        L itself (no ψ, no index) is assembled once and a copy returned on later calls: the
        stationary, trap-selection and first-passage code ask for it several times per question.
        ``copy=False`` returns the kept L itself, for callers that only read it (time stepping).
        """
        N = self.grid.size
        plain = psi is None and index is None
        if plain and self.__dict__.get("_L") is not None:
            return self._L.copy() if copy else self._L
        psi = np.zeros(N) if psi is None else np.ascontiguousarray(psi, dtype=float)
        index = np.arange(N, dtype=np.int64) if index is None else index
        data, indices, indptr = assemble_csr(*self.linear_rates, self.log_fwd, self.log_bwd, psi,
                                             index, self.shape, self.periodic)
        L = to_csr(data, indices, indptr, len(indptr) - 1)
        if plain:  # keep this one; the caller gets a copy unless it only reads
            self._L = L
            return L.copy() if copy else L
        return L

    def reference_log_density(self):
        """(ψ, defect): comb-integrated log-density and its worst detailed-balance defect."""
        psi = comb_log_density(self.log_fwd, self.log_bwd, self.shape)
        defect = detailed_balance_defect(self.log_fwd, self.log_bwd, psi, self.shape,
                                         self.periodic)
        return psi, defect

    def face_flux(self, p: np.ndarray):
        """Probability flux J·n through each face along each axis (list of arrays, grid shape).

        Entry k along axis a is the flux from cell k to cell k+1 (the last entry is the wall,
        zero, on a non-periodic axis): J = h_a (rate_fwd p_k − rate_bwd p_{k+1}).
        """
        g = self.grid
        out = []
        for a in range(g.ndim):
            fwd = np.exp(self.log_fwd[a]).reshape(g.shape)
            bwd = np.exp(self.log_bwd[a]).reshape(g.shape)
            p_up = np.roll(p, -1, axis=a)
            J = g.h[a] * (fwd * p - bwd * p_up)
            if not g.periodic[a]:
                J[(slice(None),) * a + (-1,)] = 0.0
            out.append(J)
        return out


def scharfetter_gummel(grid: Grid, D: np.ndarray, alpha: float, potential=None,
                       drift_faces=None) -> FaceRates:
    """Face rates of the exponentially fitted flux (see :mod:`fpsolve.numerics.flux`).

    D : positive scalar diffusion on the cells. alpha : convention (0 Itô, ½ Stratonovich,
    1 isothermal). Exactly one of ``potential`` (U on the cells) and ``drift_faces`` (normal drift
    on the faces per axis, grid-shaped, wall entries ignored) is given; neither means zero drift.
    """
    D3 = as3d(D)
    ndim = grid.ndim
    N = grid.size
    log_fwd = np.empty((ndim, N))
    log_bwd = np.empty((ndim, N))
    for a in range(ndim):
        per = bool(grid.periodic[a])
        if potential is not None:
            P = flux.peclet_from_potential(as3d(potential), D3, a, per)
        elif drift_faces is not None:
            P = flux.peclet_from_drift(as3d(drift_faces[a]), D3, a, float(grid.h[a]), per)
        else:
            P = np.zeros_like(D3)
        lf, lb = flux.log_face_rates(P, D3, a, float(grid.h[a]), float(alpha), per)
        log_fwd[a] = lf.ravel()
        log_bwd[a] = lb.ravel()
    return FaceRates(grid, log_fwd, log_bwd)
