"""Implicit time stepping on a torch device (a GPU): the same schemes, the solves by Krylov.

:meth:`fpsolve.FokkerPlanck.evolve` with ``device="cuda"`` (or ``"cpu"``, which runs the same
code on torch's CPU kernels) keeps the generator L, the shifted matrix I − cΔt·L and the
state on the device for a whole output interval, and solves each stage of the scheme
(backward Euler, or TR-BDF2's two stages with the one matrix) by BiCGStab preconditioned with
the diagonal, started from the previous state. No factorisation: at 256³ an LU does not fit,
and the shifted matrix of a time step is well conditioned (its diagonal grows with Δt as its
off-diagonals do; the iteration counts are reported).

Guarantees, and what differs from the CPU path: the same discrete scheme (same matrix, same
stages), with each solve's relative residual ‖b − A x‖/‖b‖ ≤ ``rtol`` (default 1e-12) instead of
a direct solve's round-off. Mass, exact for the direct solves, is therefore conserved to about
``rtol`` per step (I − cΔt·L has unit column sums, so the mass of the solution equals that of
the right-hand side up to the residual's). Positivity as on the CPU path, to the same
tolerance. Float64 throughout. A solve that does not reach ``rtol`` within ``maxiter``
iterations raises :class:`~fpsolve.errors.SolverError`.

Needs the optional dependency torch; the CPU path never imports it.
"""
from __future__ import annotations

import math
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


class TorchImplicit:
    """Backward Euler or TR-BDF2 for dp/dt = L p on a torch device.

    The interface of the CPU path's stepper (``timestepping._Implicit``): ``step(p, dt, n)``
    and ``factorisations`` (here: shifted matrices built and moved to the device).
    ``iterations`` counts the Krylov iterations, ``max_residual`` the largest relative residual
    accepted."""

    GAMMA = 2.0 - math.sqrt(2.0)
    KEEP = 8

    def __init__(self, L, scheme, device, rtol=RTOL, maxiter=MAXITER):
        self.device = resolve_device(device)
        self.scheme = scheme
        self.L_host = sp.csr_matrix(L)
        self.L = to_device(self.L_host, self.device)
        self.rtol, self.maxiter = rtol, maxiter
        self.cache = {}
        self.factorisations = 0
        self.iterations = 0
        self.max_residual = 0.0

    def matrix(self, dt):
        """(I − cΔt·L on the device, 1/its diagonal), built once per step size."""
        import torch

        key = round(dt, 15)
        if key not in self.cache:
            c = self.GAMMA / 2.0 if self.scheme == "tr-bdf2" else 1.0
            if len(self.cache) >= self.KEEP:
                self.cache.pop(next(iter(self.cache)))
            A = sp.identity(self.L_host.shape[0], format="csr") - (c * dt) * self.L_host
            inv_diag = torch.from_numpy(1.0 / A.diagonal()).to(self.device)
            self.cache[key] = (to_device(A, self.device), inv_diag)
            self.factorisations += 1
        return self.cache[key]

    def _solve(self, A, inv_diag, b, x0):
        import torch

        x, its, res = bicgstab(A, b, x0, inv_diag, self.rtol, self.maxiter, dot=torch.dot,
                               where="evolve(device=...)")
        self.iterations += its
        self.max_residual = max(self.max_residual, res)
        return x

    def step(self, p, dt, n=1):
        """``n`` steps of size ``dt`` from the host array ``p``; returns a host array."""
        import torch

        A, inv_diag = self.matrix(dt)
        x = torch.from_numpy(np.ascontiguousarray(p, dtype=np.float64)).to(self.device)
        g = self.GAMMA
        for _ in range(n):
            if self.scheme == "backward-euler":
                x = self._solve(A, inv_diag, x, x)
                continue
            # TR-BDF2: trapezoid to t + γΔt, then BDF2 through t, t + γΔt, t + Δt
            mid = self._solve(A, inv_diag, x + (0.5 * g * dt) * (self.L @ x), x)
            x = self._solve(A, inv_diag, (mid - (1.0 - g) ** 2 * x) / (g * (2.0 - g)), mid)
        return x.cpu().numpy()
