r"""Escape rates: the quasi-stationary state of the killed process and flux-over-population rates.

Three rates describe escape from a metastable well; they agree to leading order as ΔU/D → ∞
and differ by O(relaxation time / escape time) at finite barriers (:ref:`conventions-time-scales`):

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

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse.linalg as spla

from ..errors import InputError, SolverError
from ..fields.field import Density
from . import absorption
from .green import KilledProcess
from .wells import TRAP_DEPTH
from .regions import CellSet
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


def quasi_stationary(model, target, *, tol=1e-10, maxiter=200, trap_depth=TRAP_DEPTH,
                     solver="auto", start=None):
    """λ₁ and the quasi-stationary density of the process killed on ``target``.

    Method: power iterations with the Green's operator G = (−L_S)⁻¹ (positive, Perron eigenvalue
    1/λ₁), both ways, each from a start whose principal component is provably at least as large
    as the start itself, so that no target position, slope or number of wells can hide the
    principal eigenpair from the iteration:

    1. backward: φ ← Gᵀφ / max from φ₀ = 1 (1 = c₁ φ + …, c₁ = ⟨ν, 1⟩/⟨ν, φ⟩ ≥ 1 for
       max φ = 1). The first iterate is the mean first-passage time τ = Gᵀ1, kept for the checks.
    2. forward: ν ← G ν / Σν from a unit mass at the cell x* where φ is largest (principal
       component φ(x*)/⟨φ, ν⟩ ≥ 1). Starting from the stationary density instead (as an earlier
       version did) fails past a steep fall of U: there the restricted π has no weight at all in the
       well, and the iteration converges to a wrong, non-principal eigenpair with a residual of
       1e-15.
    3. λ₁ from the two-sided quotient ⟨φ, ν⟩/⟨φ, G ν⟩ (error: the product of both iterates').

    ``start`` (optional): a density (Density or array on the grid) to start the forward
    iteration from instead of step 2's unit mass, e.g. the answer of a nearby problem in a sweep.
    A start with no weight where ν lives is caught by the checks below (SolverError).

    Each iteration stops when its normalised iterate changes by at most ``tol`` (max norm for φ,
    L¹ for ν) twice in a row; the error shrinks by λ₁/λ₂ per step, so a metastable well takes
    two or three steps. If ``maxiter`` steps do not suffice (λ₁ ≈ λ₂), ARPACK finishes each on
    the same operator, started from the iterate.

    Checks (``info``), each able to expose a non-principal answer:

    - ``rate_forward`` = Σν / Σ Gν and ``rate_backward`` = max φ / max Gᵀφ, the eigenvalue as
      seen by each iteration alone, and ``rate_defect``, their largest relative difference from
      ``rate`` (a wrong eigenvector on either side shows as an O(1) defect);
    - ``mean_time_defect`` = |λ₁ E_ν τ − 1| (E_ν τ = 1/λ₁ exactly for the eigenpair), with τ
      from the Green's solve of step 1;
    - ``rate_lower_bound`` = 1 / max_x E_x τ ≤ λ₁ (maximum principle: φ ≤ λ₁ τ);
    - ``negative_mass``: the mass of ν of the wrong sign before it is made positive (ARPACK);
    - ``residual``: ‖L_S ν + λ₁ν‖₁ / (max rate · ‖ν‖₁), the forward eigen-equation;
    - ``flux_defect``: |absorbed flux of ν / its mass − λ₁| / λ₁.

    Raises :class:`~fpsolve.errors.SolverError` when these say the answer is not the principal
    eigenpair (rate defect > 1e-3, λ₁ below its lower bound, ν not of one sign); warns, with
    ``info["accurate"] = False``, when they say it is inaccurate (defects > 1e-6).
    """
    kp = KilledProcess(model, absorption=absorption.build(model, {"target": target}),
                       trap_depth=trap_depth, solver=solver)
    N = kp.kept.size

    def back(x):
        return kp.solve(x, check=False)[0]

    def fwd(x):
        return kp.occupation(x, check=False)[0]

    # 1. backward iteration from 1
    tau = back(np.ones(N))
    phi, it_b, conv_b = _power(back, tau / tau.max(), _maxnorm, tol, maxiter)
    # 2. forward iteration from a unit mass where φ is largest
    if start is None:
        v0 = np.zeros(N)
        v0[int(np.argmax(phi))] = 1.0
    else:
        v0 = np.asarray(model.density(start).values, dtype=float).ravel()[kp.kept]
        if not v0.sum() > 0:
            raise InputError("quasi_stationary: the start density has no mass outside the "
                             "target.")
    n0 = fwd(v0)
    v, it_f, conv_f = _power(fwd, n0 / n0.sum(), _l1norm, tol, maxiter)
    method = "two-sided power iteration on (−L_S)⁻¹"
    neg = 0.0
    if not (conv_b and conv_f) and N >= 3:  # (ARPACK needs three unknowns)
        v, neg_v = _arpack(fwd, v, tol)
        phi, neg_p = _arpack(back, phi, tol)
        phi = phi / phi.max()
        neg = max(neg_v, neg_p)
        method = "ARPACK on (−L_S)⁻¹ after power iteration"
    # 3. two-sided quotient
    n = fwd(v)
    gphi = back(phi)
    lam = float((phi @ v) / (phi @ n))
    rate_f = float(v.sum() / n.sum())
    rate_b = float(phi.max() / gphi.max())
    rate_defect = max(abs(rate_f - lam), abs(rate_b - lam)) / lam
    mean_time_defect = abs(lam * float(v @ tau) / float(v.sum()) - 1.0)
    lower = 1.0 / float(tau.max())
    # checks: the eigen-equation residual, and λ₁ = absorbed flux / mass (positive sums)
    L = kp.generator_restricted()
    res = np.abs(L @ v + lam * v).sum() / (np.abs(L.diagonal()).max() * v.sum())
    lam_flux = float((v * kp.leak[kp.kept]).sum() / v.sum())
    v = v / v.sum()
    full = np.zeros(kp.grid.size)
    full[kp.kept] = v
    dens = Density(kp.grid, full.reshape(kp.grid.shape))
    info = {"method": method, "iterations": it_b + it_f + 2, "residual": float(res),
            "flux_rate": lam_flux, "flux_defect": abs(lam_flux - lam) / lam,
            "rate_forward": rate_f, "rate_backward": rate_b, "rate_defect": rate_defect,
            "mean_time_defect": mean_time_defect, "rate_lower_bound": lower,
            "negative_mass": neg,
            "traps": int(kp.traps.size), "trap_depths": [float(d) for d in kp.trap_depths],
            "reversible": kp.reversible, "target_cells": int(kp.removed.sum())}
    _judge(info, lam)
    dens.info = dict(info)
    return QuasiStationary(rate=lam, mean_time=1.0 / lam, density=dens, info=info)


#: Defects of the checks above which the eigenpair is declared wrong (SolverError) or
#: inaccurate (warning).
WRONG, INACCURATE = 1e-3, 1e-6


def _judge(info, lam):
    """Raise if the checks say the eigenpair is not the principal one; warn if inaccurate."""
    wrong = []
    if info["rate_defect"] > WRONG:
        wrong.append(f"the forward and backward iterations disagree on λ₁ (forward "
                     f"{info['rate_forward']:.6g}, backward {info['rate_backward']:.6g}, "
                     f"two-sided {lam:.6g})")
    if lam < (1 - 1e-8) * info["rate_lower_bound"]:
        wrong.append(f"λ₁ = {lam:.6g} is below its lower bound 1/max E_x τ = "
                     f"{info['rate_lower_bound']:.6g}")
    if info["negative_mass"] > WRONG:
        wrong.append(f"the eigenvector changes sign ({info['negative_mass']:.2g} of its mass)")
    if wrong:
        raise SolverError("quasi_stationary: the eigenpair found is not the principal one: "
                          + "; ".join(wrong) + ". Try a finer grid or a larger maxiter, and "
                          "please report the model.")
    defects = {k: info[k] for k in ("rate_defect", "mean_time_defect", "flux_defect",
                                    "negative_mass")}
    info["accurate"] = bool(max(defects.values()) <= INACCURATE and info["residual"] <= 1e-8)
    if not info["accurate"]:
        worst = max(defects, key=defects.get)
        warnings.warn(f"quasi_stationary: the eigenpair may be inaccurate: {worst} = "
                      f"{defects[worst]:.2g}, residual {info['residual']:.2g} (see info).",
                      RuntimeWarning, stacklevel=3)


def _maxnorm(a, b):
    return float(np.max(np.abs(a - b)))


def _l1norm(a, b):
    return float(np.abs(a - b).sum())


def _power(op, x, change, tol, maxiter):
    """Normalised power iteration x ← op(x)/‖op(x)‖ (max norm for ``_maxnorm``, sum for L¹)
    until ``change`` ≤ tol twice in a row. Returns (x, iterations, converged)."""
    scale = np.max if change is _maxnorm else np.sum
    small = 0
    for it in range(1, maxiter + 1):
        y = op(x)
        y = y / scale(y)
        d = change(y, x)
        x = y
        small = small + 1 if d <= tol else 0
        if small >= 2:
            return x, it, True
    return x, maxiter, False


def _arpack(op, x0, tol):
    """Perron vector of a positive operator by ARPACK from ``x0``; returns (x ≥ 0 normalised to
    sum 1, mass of the wrong sign before taking the positive part)."""
    N = x0.size

    def matvec(x):  # the solves take non-negative sources: split x into its two signs
        x = np.real(np.asarray(x).ravel())
        pos, neg = np.clip(x, 0, None), np.clip(-x, 0, None)
        out = np.zeros(N)
        if pos.any():
            out += op(pos)
        if neg.any():
            out -= op(neg)
        return out

    A = spla.LinearOperator((N, N), matvec=matvec, dtype=float)
    _, vecs = spla.eigs(A, k=1, which="LM", v0=x0, tol=tol * 1e-2, maxiter=5000)
    x = np.real(vecs[:, 0])
    x = x if x.sum() >= 0 else -x
    wrong = float(np.clip(-x, 0, None).sum() / np.abs(x).sum())
    x = np.clip(x, 0, None)
    return x / x.sum(), wrong


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
        """1/rate: the mean escape time this rate describes (time units)."""
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
    ab = absorption.build(model, {"target": target})
    B = ab.removed
    if np.any(A & B):
        raise InputError("flux_over_population: source and target overlap.")
    if method == "source-sink":
        kp = KilledProcess(model, absorption=ab, trap_depth=trap_depth, solver=solver)
        lp = kp.log_pi
        s = np.zeros(g.size)
        s[A] = np.exp(lp[A] - lp[A].max())  # π on the source only (it may overflow elsewhere)
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
        ab = absorption.build(model, {"A": CellSet(A), "B": target})
        kp = KilledProcess(model, absorption=ab, trap_depth=trap_depth, solver=solver)
        Bi, Ai = np.flatnonzero(B), np.flatnonzero(A)
        R = kp.R
        # π enters on the source only (π q⁻ elsewhere is the occupation n below): scale it to
        # max 1 there, so that a target past a steep fall of U (where π normalised on the grid
        # has all its mass) cannot underflow it; flux and population are reported normalised on
        # the grid, the rate is their ratio and needs no normalisation
        shift = float(np.max(kp.log_pi[A]))
        log_norm = float(np.logaddexp.reduce(kp.log_pi)) - shift
        pi = np.zeros(g.size)
        pi[A] = np.exp(kp.log_pi[A] - shift)
        # forward committor q⁺ (backward solve); π q⁻ is the occupation density of the process
        # injected from the source at the stationary rates π_a r(a → y) and killed on A ∪ B
        into_B = ab.kill_into("B")  # killing into B from the kept cells (its sharp edge)
        into_B[Ai] = np.asarray(R[Ai][:, Bi].sum(axis=1)).ravel()  # source cells: cell-centre
        qp, info_p = kp.solve(into_B[kp.kept])
        inj = np.asarray(R[Ai].T @ pi[Ai]).ravel()
        n, info_m = kp.occupation(inj[kp.kept])
        qplus = B.astype(float)
        qplus[kp.kept] = qp
        pq = pi * A            # π q⁻: π on the source, n on the kept cells, 0 on the target
        pq[kp.kept] = n
        flux_A = float(pi[Ai] @ (R[Ai][:, np.flatnonzero(~A)] @ qplus[~A]))
        flux_B = float(pq[~B] @ into_B[~B])
        pop = float(pq.sum())
        if not (flux_A > 0 and pop > 0):
            raise SolverError("flux_over_population: the reactive flux or the population "
                              "underflowed; the source carries no stationary weight.")
        with np.errstate(under="ignore"):
            info = {"flux_from_source": flux_A * np.exp(-log_norm),
                    "flux_into_target": flux_B * np.exp(-log_norm),
                    "log_flux": float(np.log(flux_A) - log_norm),
                    "log_population": float(np.log(pop) - log_norm),
                    "flux_defect": abs(flux_A - flux_B) / max(flux_A, flux_B),
                    "forward_committor": info_p, "backward_committor": info_m,
                    "traps": int(kp.traps.size), "reversible": kp.reversible}
            return EscapeRate(rate=flux_A / pop, flux=flux_A * np.exp(-log_norm),
                              population=pop * np.exp(-log_norm), method=method, info=info)
    raise InputError(f"flux_over_population: method {method!r} is unknown; choose "
                     f"'source-sink' or 'reactive-flux'.")
