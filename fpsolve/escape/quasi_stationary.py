r"""Escape rates: the quasi-stationary state of the killed process and flux-over-population rates.

Three rates describe escape from a metastable well; they agree to leading order as ΔU/D → ∞
and differ by O(relaxation time / escape time) at finite barriers (THEORY §4):

- λ₁, the principal eigenvalue of −L_S (the killed process), from :func:`quasi_stationary`;
  the quasi-stationary density ν is the law of X_t conditioned on survival for large t, and
  E_ν τ = 1/λ₁ exactly;
- 1/E_x τ, the inverse mean first-passage time from a point (:mod:`.first_passage`);
- the flux-over-population rates of :func:`flux_over_population`, defined there.

Each is computed from the trap-reduced Green's solves of :mod:`fpsolve.escape.green`, so it keeps
its relative accuracy for barriers of ΔU/D ≈ 40 and beyond, where a sparse eigensolver's absolute
error (ε·max rate) exceeds λ₁ itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse.linalg as spla

from ..errors import InputError
from ..fields.field import Density
from .green import TRAP_DEPTH, KilledProcess
from .targets import as_mask, is_point, point_cell


@dataclass
class QuasiStationary:
    """Principal eigenpair of the killed process.

    rate : λ₁ > 0 (1/time), the slowest decay rate of the survival probability.
    mean_time : 1/λ₁ = E_ν τ (mean first-passage time from the quasi-stationary density).
    density : ν, normalised on the kept cells, zero on the target.
    info : iterations, method, ``flux_defect`` (relative difference between λ₁ and the absorbed
        flux of ν over its mass — equal for the exact eigenvector), ``residual``.
    """

    rate: float
    mean_time: float
    density: Density
    info: dict = field(default_factory=dict)


def quasi_stationary(model, target, *, tol=1e-12, maxiter=60, trap_depth=TRAP_DEPTH,
                     solver="auto"):
    """λ₁ and the quasi-stationary density of the process killed on ``target``.

    Method: power iteration with the forward Green's operator G = (−L_S)⁻¹ (a positive operator
    whose Perron eigenvalue is 1/λ₁), started from the stationary density restricted to the kept
    cells, with the backward eigenvector iterated alongside (one backward solve) for a two-sided
    Rayleigh quotient. Each step costs two accurate trap-reduced solves; the eigenvalue error
    shrinks by (λ₁/λ₂)² per step, so a deep well converges in three or four steps. If
    ``maxiter`` steps do not reach ``tol`` (shallow wells, λ₁ ≈ λ₂),
    ARPACK finishes the job on the same operator.
    """
    kp = KilledProcess(model, as_mask(model.grid, target, "target"), trap_depth=trap_depth,
                       solver=solver)
    pi = np.exp(kp.log_pi[kp.kept])
    v = pi / pi.sum()
    phi = np.ones_like(v)  # backward (left) eigenvector iterate
    lam_old = np.inf
    method = "power iteration on (−L_S)⁻¹, two-sided Rayleigh quotient"
    it = 0
    converged = False
    small = 0
    for it in range(1, maxiter + 1):
        n, _ = kp.occupation(v, check=False)
        # two-sided Rayleigh quotient ⟨φ, v⟩/⟨φ, G v⟩: its error is the product of the errors
        # of both iterates, so it converges like (λ₁/λ₂)² per step
        lam = float((phi @ v) / (phi @ n))
        phi, _ = kp.solve(phi, check=False)
        phi /= phi.max()
        v = n / n.sum()
        small = small + 1 if abs(lam - lam_old) <= tol * lam else 0
        if small >= 2:
            converged = True
            break
        lam_old = lam
    if not converged:
        N = kp.kept.size

        def matvec(x):
            x = np.real(np.asarray(x).ravel())
            pos = np.clip(x, 0, None)
            neg = np.clip(-x, 0, None)
            out = np.zeros(N)
            if pos.any():
                out += kp.occupation(pos, check=False)[0]
            if neg.any():
                out -= kp.occupation(neg, check=False)[0]
            return out

        op = spla.LinearOperator((N, N), matvec=matvec, dtype=float)
        vals, vecs = spla.eigs(op, k=1, which="LM", v0=v, tol=tol, maxiter=5000)
        lam = float(1.0 / np.real(vals[0]))
        v = np.abs(np.real(vecs[:, 0]))
        v /= v.sum()
        method = "ARPACK on (−L_S)⁻¹ after power iteration"
    # checks: the eigen-equation residual, and λ₁ = absorbed flux / mass (positive sums)
    L = kp.generator_restricted()
    res = np.abs(L @ v + lam * v).sum() / (np.abs(L.diagonal()).max() * v.sum())
    lam_flux = float((v * kp.leak[kp.kept]).sum() / v.sum())
    full = np.zeros(kp.grid.size)
    full[kp.kept] = v
    dens = Density(kp.grid, full.reshape(kp.grid.shape))
    info = {"method": method, "iterations": it, "residual": float(res),
            "flux_rate": lam_flux, "flux_defect": abs(lam_flux - lam) / lam,
            "traps": int(kp.traps.size), "trap_depths": [float(d) for d in kp.trap_depths],
            "reversible": kp.reversible, "target_cells": int(kp.removed.sum())}
    dens.info = dict(info)
    return QuasiStationary(rate=lam, mean_time=1.0 / lam, density=dens, info=info)


@dataclass
class EscapeRate:
    """Flux-over-population rate ``rate`` = ``flux`` / ``population`` (1/time).

    method : "source-sink" or "reactive-flux" (definitions in :func:`flux_over_population`).
    flux : probability per unit time carried from the source into the target.
    population : the probability (mass) it is divided by.
    info : diagnostics, including the two ways of computing the flux and their difference.
    """

    rate: float
    flux: float
    population: float
    method: str
    info: dict = field(default_factory=dict)

    @property
    def mean_time(self):
        return 1.0 / self.rate


def _source_mask(model, source):
    g = model.grid
    if is_point(g, source):
        mask = np.zeros(g.size, dtype=bool)
        mask[point_cell(g, source)] = True
        return mask.reshape(g.shape)
    return as_mask(g, source, "source")


def flux_over_population(model, source, target, *, method="source-sink", population=None,
                         trap_depth=TRAP_DEPTH, solver="auto") -> EscapeRate:
    r"""Escape rate from ``source`` into ``target`` as a flux divided by a population.

    source : the well (or its core): a point (its cell), callable mask, box or bool array.
    target : absorbing set beyond the barrier (callable mask, box or bool array).

    method="source-sink" (Kramers 1940): a steady state in which probability is injected at unit
        rate into the source cells, distributed as the stationary density π restricted to them,
        and removed on entering the target. Rate = (absorbed flux = 1) / (steady population),
        the population being the steady mass in ``population`` (a set; default: every kept
        cell). With the default population this is exactly 1 / E_{π|source} τ, the inverse mean
        first-passage time averaged over the injection law.

    method="reactive-flux" (transition path theory, equilibrium): no sink; with the forward
        committor q⁺ = P(reach target before source) and the backward committor q⁻ (the
        probability that the process came last from the source; 1 − q⁺ under detailed balance;
        π q⁻ is computed as the occupation density of the killed process fed from the source),

            flux = Σ_{i ∈ source, j ∉ source} π_i rate(i → j) q⁺_j     (reactive flux),
            population = Σ_x π_x q⁻_x                                      (last in the source),

        with π normalised to 1 on the whole grid: the rate of source → target transitions per
        unit time spent "on the source side". Under detailed balance 1/rate = E_ν τ with ν the
        last-exit (equilibrium-measure) law on the source boundary.

    Both tend to the Eyring–Kramers rate as ΔU/D → ∞. Returns :class:`EscapeRate`.
    """
    g = model.grid
    A = _source_mask(model, source).ravel()
    B = as_mask(g, target, "target").ravel()
    if np.any(A & B):
        raise InputError("flux_over_population: source and target overlap.")
    if method == "source-sink":
        kp = KilledProcess(model, B, trap_depth=trap_depth, solver=solver)
        lp = kp.log_pi
        s = np.where(A, np.exp(lp - lp[A].max()), 0.0)
        s /= s.sum()
        n, info = kp.occupation(s[kp.kept])
        absorbed = float((n * kp.leak[kp.kept]).sum())
        if population is None:
            pop = float(n.sum())
        else:
            P = as_mask(g, population, "population").ravel()
            full = np.zeros(g.size)
            full[kp.kept] = n
            pop = float(full[P].sum())
        info = dict(info, absorbed_flux=absorbed, flux_defect=abs(absorbed - 1.0))
        return EscapeRate(rate=1.0 / pop, flux=1.0, population=pop, method=method, info=info)
    if method == "reactive-flux":
        kp = KilledProcess(model, A | B, trap_depth=trap_depth, solver=solver)
        Bi, Ai = np.flatnonzero(B), np.flatnonzero(A)
        R = kp.R
        c = np.logaddexp.reduce(kp.log_pi)
        pi = np.exp(kp.log_pi - c)  # normalised on the grid
        # forward committor q⁺ (backward solve); π q⁻ is the occupation density of the process
        # injected from the source at the stationary rates π_a r(a → y) and killed on A ∪ B
        qp, info_p = kp.solve(np.asarray(R[kp.kept][:, Bi].sum(axis=1)).ravel())
        inj = np.asarray(R[Ai].T @ pi[Ai]).ravel()
        n, info_m = kp.occupation(inj[kp.kept])
        qplus = B.astype(float)
        qplus[kp.kept] = qp
        pq = pi * A            # π q⁻: π on the source, n on the kept cells, 0 on the target
        pq[kp.kept] = n
        flux_A = float(pi[Ai] @ (R[Ai][:, np.flatnonzero(~A)] @ qplus[~A]))
        into_B = np.asarray(R[:, Bi].sum(axis=1)).ravel()
        flux_B = float(pq[~B] @ into_B[~B])
        pop = float(pq.sum())
        info = {"flux_from_source": flux_A, "flux_into_target": flux_B,
                "flux_defect": abs(flux_A - flux_B) / max(flux_A, flux_B),
                "forward_committor": info_p, "backward_committor": info_m,
                "traps": int(kp.traps.size), "reversible": kp.reversible}
        return EscapeRate(rate=flux_A / pop, flux=flux_A, population=pop, method=method, info=info)
    raise InputError(f"flux_over_population: method {method!r} is unknown; choose "
                     f"'source-sink' or 'reactive-flux'.")
