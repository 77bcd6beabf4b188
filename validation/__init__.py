"""fpsolve's validation suite (``fpsolve validate``), installed as ``fpsolve.validation``.

One module per paper checks that paper's claims three ways (:doc:`/theory/index`): the claim **as
printed**, the **corrected** form where the printed one is wrong, and fpsolve's **numerical**
answer, each against an **independent reference** (closed form, quadrature, or a second method).
``core`` holds fpsolve's own exactness checks. Verdicts are computed from the numbers, never
chosen by hand:

============================== ===============================================================
``holds``                      fpsolve agrees with the reference (and the printed claim holds)
``holds after correction``     agrees with the corrected form; printed form not checkable as
                               printed, or off by a typographical erratum (``erratum=True``)
``printed claim contradicted`` disagrees with the printed claim, agrees with the corrected form
``FAIL``                       fpsolve disagrees with an exact reference (a bug), agrees with
                               neither form, or the case raised
============================== ===============================================================

Adding a case
-------------
A case is a deterministic function of a :class:`Context` returning a :class:`Case`. Put it in
the paper's module (``validation/dai_zhu.py``, ``hu_li.py``, ``mori.py``, ``xie.py``,
``chaudhari_soatto.py``) and, the first time that module gets a case, add its name to
``PAPERS`` in :mod:`.registry`::

    import numpy as np
    import fpsolve as fp
    from .framework import Case, Check
    from .registry import case

    @case(paper="dai_zhu", name="gibbs_constant_beta", quick=True)
    def gibbs_constant_beta(ctx):
        '''Lemma 2.3: constant β gives the Gibbs law exp(−η∞ L).'''
        n = ctx.pick(quick=400, full=4000)           # resolution per mode
        D = 0.1
        grid = fp.Grid([(-4, 4)], n)
        p = fp.FokkerPlanck(grid, potential=lambda x: x**2 / 2, diffusion=D).stationary()
        h = grid.h[0]
        fig, ax = ctx.figure()
        p.plot(ax=ax)
        return Case(
            title="Lemma 2.3: stationary variance of the Gibbs law",
            equation="Lemma 2.3, eq. (2.6)",
            claim="p∞ ∝ exp(−η∞ L), η∞ = 2M/(γβ)",
            method=f"FokkerPlanck.stationary on {n} cells",
            reference_method="closed form: variance D of exp(−x²/2D)",
            checks=[Check("variance", p.var(), reference=D, rtol=h**2 / D,
                          why="midpoint sum of a Gaussian: O(h²/D) relative")],
            numbers={"n": n, "D": D},
            figure=ctx.save_figure(fig),
        )

A check on a paper's claim passes the printed and corrected values as well, e.g.
``Check("λ₁", lam, reference=lam_quadrature, rtol=1e-3, printed=rate_printed,
corrected=rate_corrected, claim_rtol=0.05, why=...)``: fpsolve vs the exact reference uses
``rtol``/``atol`` (a disagreement is a FAIL), the claims use ``claim_rtol``/``claim_atol``
(asymptotic formulas carry their own error).

Rules for case functions:

- Deterministic: fixed parameters; random numbers only from ``ctx.rng()`` (seeded by the name).
- Resolution from ``ctx.pick(quick=..., full=...)`` (``ctx.quick``/``ctx.full`` are booleans);
  ``--quick`` runs only ``quick=True`` cases and the whole quick suite must stay within minutes
  on 2 cores; ``--full`` runs every case at full resolution.
- The reference is computed in the case, independently of the code under test (scipy quadrature,
  a closed form, or a second fpsolve method); never the code's own output.
- One figure per case: ``fig, ax = ctx.figure()`` then ``figure=ctx.save_figure(fig)``.
- Every number worth keeping goes into ``numbers`` (plain numbers, lists or arrays); the checks'
  values are recorded automatically.
- An exception is fine: it is recorded as ``FAIL`` with its traceback and the run goes on.

Running: ``fpsolve validate [--quick | --full] [--only PAPER[/CASE]] [--out DIR] [--jobs N]``, or
from Python ``run(load().select("quick"), out_dir=...)`` then ``write_report``.
"""
from .framework import (CONTRADICTED, FAIL, HOLDS, HOLDS_AFTER_CORRECTION, VERDICTS, Case,
                        Check, Context, agrees, errors, judge, verdict, worst)
from .registry import PAPERS, REGISTRY, CaseSpec, Registry, case, load
from .report import summary_table, write_report
from .runner import Progress, RunResult, run, run_case

__all__ = [
    "Case", "Check", "Context", "case", "Registry", "CaseSpec", "REGISTRY", "PAPERS", "load",
    "run", "run_case", "RunResult", "Progress", "write_report", "summary_table",
    "judge", "verdict", "worst", "agrees", "errors",
    "HOLDS", "HOLDS_AFTER_CORRECTION", "CONTRADICTED", "FAIL", "VERDICTS",
]
