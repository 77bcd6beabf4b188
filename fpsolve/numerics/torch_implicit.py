"""Implicit time stepping on a torch device (a GPU): the same schemes, the solves by Krylov.

:meth:`fpsolve.FokkerPlanck.evolve` with ``device="cuda"`` (or ``"cpu"``, which runs the same
code on torch's CPU kernels) keeps the generator L, the shifted matrix I − cΔt·L and the
state on the device for a whole output interval, and solves each stage of the scheme
(backward Euler, or TR-BDF2's two stages with the one matrix) by BiCGStab preconditioned with
the diagonal, started from the previous state. No factorisation: at 256³ an LU does not fit,
and the shifted matrix of a time step is well conditioned (its diagonal grows with Δt as its
off-diagonals do; the iteration counts are reported).

Guarantees, and what differs from the CPU path: the same discrete scheme (same matrix, same
stages), with each solve's relative residual ‖b − A x‖/‖b‖ ≤ :data:`RTOL` (1e-12) instead of
a direct solve's round-off. Mass, exact for the direct solves, is therefore conserved to about
that per step (I − cΔt·L has unit column sums, so the mass of the solution equals that of
the right-hand side up to the residual's). Positivity as on the CPU path, to the same
tolerance. Float64 throughout. A solve that does not reach it within :data:`MAXITER`
iterations raises :class:`~fpsolve.errors.SolverError`.

Needs the optional dependency torch; the CPU path never imports it.
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from .krylov import bicgstab

#: relative residual each solve reaches, and the iteration budget per solve
RTOL = 1e-12
MAXITER = 2000


def resolve_device(device):
    """``device`` as a torch.device; InputError when torch is missing or the device unusable."""
    try:
        import torch
    except ImportError:
        raise InputError(f"evolve(device={device!r}) needs torch: pip install torch (the CPU "
                         f"build), or the project's extra fpsolve[torch]; without device= the "
                         f"CPU path runs.") from None
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError(f"evolve: device {device!r} is not a torch device (e.g. 'cuda', "
                         f"'cuda:0', 'cpu').") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError(f"evolve: device {device!r} was asked for but CUDA is not available "
                         f"here (torch.cuda.is_available() is False); leave device= out for the "
                         f"CPU path.")
    return dev


def to_device(A, device):
    """A scipy CSR matrix as a torch sparse CSR tensor (float64, int64 indices) on ``device``."""
    import torch

    A = sp.csr_matrix(A)
    with warnings.catch_warnings():
        # torch's notice that sparse CSR support is "in beta"; the products used here are tested
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(torch.from_numpy(A.indptr.astype(np.int64)),
                                       torch.from_numpy(A.indices.astype(np.int64)),
                                       torch.from_numpy(np.asarray(A.data, dtype=np.float64)),
                                       size=A.shape, device=device, check_invariants=False)


class DeviceSolve:
    """x = A⁻¹ b on a torch device for one shifted matrix A = I − cΔt·L of a time step: A and 1/its
    diagonal moved to ``device`` once; each call is Jacobi-preconditioned BiCGStab to
    :data:`RTOL`, within :data:`MAXITER` iterations (SolverError otherwise).

    The time stepping (:mod:`fpsolve.numerics.timestepping`) keeps the state on the device
    for a whole output interval (``vector`` moves it there). Calls return (x, iterations, true
    relative residual)."""

    def __init__(self, A, device):
        import torch

        self.device = device
        self.A = to_device(A, device)
        self.inv_diag = torch.from_numpy(1.0 / sp.csr_matrix(A).diagonal()).to(device)
        self.maxiter = MAXITER

    def vector(self, p):
        """A host array as a float64 vector on the device."""
        import torch

        return torch.from_numpy(np.ascontiguousarray(p, dtype=np.float64)).to(self.device)

    def __call__(self, b, x0):
        import torch

        return bicgstab(self.A, b, x0, self.inv_diag, RTOL, self.maxiter, dot=torch.dot,
                        where="evolve(device=...)")
