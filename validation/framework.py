"""The records of the validation suite: verdicts, checks, cases, and the context a case runs in.

A *case* is one claim checked numerically. It holds one or more :class:`Check` records, each
comparing one fpsolve number (or array of numbers) with an independent reference and/or with a
paper's printed and corrected forms. The verdict of a check is *computed* from those numbers and
the tolerances by :func:`judge`; the verdict of a case is the worst verdict of its checks. Case
authors never choose a verdict by hand.

Verdicts (ordered from best to worst):

``holds``
    fpsolve agrees with the exact reference, and with the printed claim when one is given.
``holds after correction``
    fpsolve agrees with the corrected form; the printed form is either not checkable as printed
    (``printed=None``: an ill-posed or typo'd formula) or differs from the corrected one by a
    typographical erratum (``erratum=True``: a factor 2, a sign, a misplaced root) and not in
    substance.
``printed claim contradicted``
    the numerics disagree with the printed claim and agree with the corrected form (or, when no
    corrected form is given, with the exact reference). A finding about the paper, not a failure
    of fpsolve.
``FAIL``
    fpsolve disagrees with an exact reference (a bug), the numerics agree with neither the printed
    nor the corrected form, or the case raised.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fpsolve.jsonable import jsonable

#: Verdict: fpsolve agrees with the reference and the claim holds as printed.
HOLDS = "holds"
#: Verdict: fpsolve agrees with the reference; the claim holds once corrected.
HOLDS_AFTER_CORRECTION = "holds after correction"
#: Verdict: fpsolve agrees with the reference, which contradicts the printed claim (a finding).
CONTRADICTED = "printed claim contradicted"
#: Verdict: fpsolve disagrees with its exact reference (a bug), or the case raised.
FAIL = "FAIL"
#: All verdicts, from best to worst (:func:`worst` picks by this order).
VERDICTS = (HOLDS, HOLDS_AFTER_CORRECTION, CONTRADICTED, FAIL)


# ---------------------------------------------------------------------------------------------
# verdict helpers
# ---------------------------------------------------------------------------------------------
def _array(value):
    """A float (or complex) array from a number, list or array; None stays None."""
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype.kind not in "fcib":
        raise TypeError(f"a checked value must be numeric; got {value!r}.")
    return arr.astype(complex if arr.dtype.kind == "c" else float)


def agrees(value, target, rtol: float = 0.0, atol: float = 0.0) -> bool:
    """Whether |value − target| ≤ atol + rtol·|target| elementwise (NaN never agrees).

    Shapes broadcast; every element must agree. ``rtol = atol = 0`` demands exact equality.
    """
    v, t = _array(value), _array(target)
    try:
        v, t = np.broadcast_arrays(v, t)
    except ValueError:
        raise ValueError(f"cannot compare values of shapes {np.shape(value)} and "
                         f"{np.shape(target)}.") from None
    ok = np.abs(v - t) <= atol + rtol * np.abs(t)
    return bool(np.all(ok))  # NaN compares False


def errors(value, target):
    """(max absolute error, max relative error) of ``value`` against ``target``.

    The relative error divides by |target| (inf where target is 0 and the error is not)."""
    v, t = np.broadcast_arrays(_array(value), _array(target))
    abs_err = np.abs(v - t)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(abs_err == 0, 0.0, abs_err / np.abs(t))
    return float(np.max(abs_err)), float(np.max(rel))


def judge(numerical, reference=None, *, printed=None, corrected=None, rtol: float = 0.0,
          atol: float = 0.0, claim_rtol: float | None = None, claim_atol: float | None = None,
          erratum: bool = False) -> tuple[str, str]:
    """The verdict on one number (or array) and the reason for it, as ``(verdict, reason)``.

    numerical : fpsolve's answer.
    reference : an exact or independent reference (closed form, quadrature, second method).
        fpsolve must agree with it within ``rtol``/``atol`` (discretisation error); if it does
        not, the verdict is ``FAIL``.
    printed, corrected : the paper's printed value and the corrected form. They are compared with
        the numerical answer within ``claim_rtol``/``claim_atol`` (default: ``rtol``/``atol``),
        which is where an asymptotic formula's own error goes.
    erratum : the printed form differs from the corrected one by a typographical erratum, so that
        a contradicted printed value still "holds after correction".

    Rules, in order: reference disagrees → FAIL; printed agrees → holds; corrected agrees →
    holds after correction (printed is None or ``erratum``) or printed claim contradicted;
    printed given, no corrected form, but the reference agrees → printed claim contradicted;
    no printed and no corrected form → holds (a pure exactness check); otherwise FAIL.
    """
    if reference is None and printed is None and corrected is None:
        raise ValueError("judge: give at least one of reference, printed, corrected to compare "
                         "the numerical answer with.")
    crtol = rtol if claim_rtol is None else claim_rtol
    catol = atol if claim_atol is None else claim_atol
    if reference is not None and not agrees(numerical, reference, rtol, atol):
        a, r = errors(numerical, reference)
        return FAIL, (f"fpsolve disagrees with the exact reference: abs. error {a:.3g}, rel. "
                      f"error {r:.3g} > tolerance (rtol {rtol:g}, atol {atol:g})")
    if printed is None and corrected is None:
        return HOLDS, "agrees with the exact reference"
    if printed is not None and agrees(numerical, printed, crtol, catol):
        extra = ("; the corrected form agrees too at these parameters"
                 if corrected is not None and agrees(numerical, corrected, crtol, catol) else "")
        return HOLDS, "agrees with the printed claim" + extra
    if corrected is not None and agrees(numerical, corrected, crtol, catol):
        if printed is None:
            return HOLDS_AFTER_CORRECTION, ("agrees with the corrected form (the printed form is "
                                            "not checkable as printed)")
        if erratum:
            return HOLDS_AFTER_CORRECTION, ("agrees with the corrected form; the printed form "
                                            "differs by a typographical erratum")
        return CONTRADICTED, "disagrees with the printed claim, agrees with the corrected form"
    if printed is not None and corrected is None and reference is not None:
        return CONTRADICTED, "disagrees with the printed claim, agrees with the exact reference"
    return FAIL, "agrees with neither the printed nor the corrected form"


def verdict(numerical, reference=None, **kwargs) -> str:
    """Just the verdict of :func:`judge` (same arguments)."""
    return judge(numerical, reference, **kwargs)[0]


def worst(*verdicts) -> str:
    """The worst of several verdicts (``holds`` for none)."""
    if len(verdicts) == 1 and not isinstance(verdicts[0], str):
        verdicts = tuple(verdicts[0])
    for v in verdicts:
        if v not in VERDICTS:
            raise ValueError(f"unknown verdict {v!r}; verdicts are {VERDICTS}.")
    return max(verdicts, key=VERDICTS.index, default=HOLDS)


# ---------------------------------------------------------------------------------------------
# records
# ---------------------------------------------------------------------------------------------
@dataclass
class Check:
    """One compared quantity of a case; its verdict is computed on construction.

    quantity : what is compared, in the paper's words ("λ₁", "stationary variance").
    numerical : fpsolve's answer (number or array).
    reference, printed, corrected, rtol, atol, claim_rtol, claim_atol, erratum : see :func:`judge`.
    why : why the tolerance is what it is (the expected size of the discretisation or asymptotic
        error, with its scaling), e.g. "O(h²): (h/σ)² = 2.5e-3".
    """

    quantity: str
    numerical: Any
    reference: Any = None
    printed: Any = None
    corrected: Any = None
    rtol: float = 0.0
    atol: float = 0.0
    claim_rtol: float | None = None
    claim_atol: float | None = None
    erratum: bool = False
    why: str = ""
    verdict: str = field(init=False)
    reason: str = field(init=False)
    abs_error: float | None = field(init=False, default=None)
    rel_error: float | None = field(init=False, default=None)

    def __post_init__(self):
        self.verdict, self.reason = judge(
            self.numerical, self.reference, printed=self.printed, corrected=self.corrected,
            rtol=self.rtol, atol=self.atol, claim_rtol=self.claim_rtol,
            claim_atol=self.claim_atol, erratum=self.erratum)
        target = self.reference
        if target is None:
            target = self.corrected if self.corrected is not None else self.printed
        self.abs_error, self.rel_error = errors(self.numerical, target)

    @property
    def tolerance(self) -> str:
        """The tolerances as text ("rtol 1e-06, claim rtol 0.05")."""
        parts = []
        if self.rtol:
            parts.append(f"rtol {self.rtol:.3g}")
        if self.atol:
            parts.append(f"atol {self.atol:.3g}")
        if self.claim_rtol is not None:
            parts.append(f"claim rtol {self.claim_rtol:.3g}")
        if self.claim_atol is not None:
            parts.append(f"claim atol {self.claim_atol:.3g}")
        return ", ".join(parts) or "exact"

    def key_number(self) -> str:
        """Short text for the summary table: for a contradicted or corrected claim, the printed
        claim against what holds (fpsolve's number, and the corrected form if there is one);
        otherwise the error against the tolerance."""
        if self.verdict in (CONTRADICTED, HOLDS_AFTER_CORRECTION) and self.printed is not None:
            holds = f"{_short(self.numerical)}"
            if self.corrected is not None:
                holds += f" = corrected {_short(self.corrected)}"
            return f"{self.quantity}: printed {_short(self.printed)}, holds {holds}"
        if self.rtol or (self.claim_rtol and not self.atol):
            tol = self.rtol or self.claim_rtol
            return f"{self.quantity}: rel.err {self.rel_error:.2g} (tol {tol:.2g})"
        tol = self.atol or self.claim_atol or 0.0
        return f"{self.quantity}: err {self.abs_error:.2g} (tol {tol:.2g})"

    def to_record(self) -> dict:
        """The check as a JSON-ready dict (numbers, tolerances, verdict and reason), as in
        results.json.
        """
        return jsonable({
            "quantity": self.quantity, "numerical": self.numerical, "reference": self.reference,
            "printed": self.printed, "corrected": self.corrected, "rtol": self.rtol,
            "atol": self.atol, "claim_rtol": self.claim_rtol, "claim_atol": self.claim_atol,
            "erratum": self.erratum, "abs_error": self.abs_error, "rel_error": self.rel_error,
            "tolerance": self.tolerance, "why": self.why, "verdict": self.verdict,
            "reason": self.reason,
        })


@dataclass
class Case:
    """The record of one validated claim (returned by a case function).

    title : one line saying what is checked.
    checks : list of :class:`Check`; the case's verdict is the worst of theirs.
    equation : where the claim is printed: "Lemma 2.3, eq. (2.5)" (the paper is the registry key).
    claim : the claim as printed (a formula in text form).
    corrected_claim : the corrected form, where the printed one is wrong (else None).
    method : how fpsolve computed its answer (solver, grid, step sizes).
    reference_method : what the independent reference is and how it was computed.
    tolerance_note : why the tolerances are what they are (per-check reasons go in Check.why).
    figure : path of the figure, relative to the report directory (``ctx.save_figure`` gives it).
    numbers : every other number worth keeping (parameters, grids, intermediate results).
    key : name of the entry of ``numbers`` shown in the summary table (default: the worst check's
        error against its tolerance).

    ``paper``, ``name``, ``duration`` and ``error`` are filled in by the runner.
    """

    title: str
    checks: list = field(default_factory=list)
    equation: str = ""
    claim: str = ""
    corrected_claim: str | None = None
    method: str = ""
    reference_method: str = ""
    tolerance_note: str = ""
    figure: str | None = None
    numbers: dict = field(default_factory=dict)
    key: str | None = None
    paper: str = ""
    name: str = ""
    duration: float = 0.0
    error: str | None = None

    @property
    def verdict(self) -> str:
        """The worst verdict of the case's checks; ``FAIL`` when it raised or made no check."""
        if self.error is not None or not self.checks:
            return FAIL
        return worst(c.verdict for c in self.checks)

    @property
    def reason(self) -> str:
        """Why the case has its verdict: the first check with that verdict and its reason."""
        if self.error is not None:
            return "the case raised an exception (traceback in the record)"
        if not self.checks:
            return "the case made no checks"
        bad = [c for c in self.checks if c.verdict == self.verdict]
        return f"{bad[0].quantity}: {bad[0].reason}"

    def key_number(self) -> str:
        """The number that best summarises the case for the report's table: its key number, else
        the worst check's error against its tolerance (at most 70 characters).
        """
        if self.error is not None:
            last = self.error.strip().splitlines()[-1] if self.error.strip() else "error"
            return last[:70]
        if self.key is not None and self.key in self.numbers:
            return f"{self.key} = {_short(self.numbers[self.key])}"
        if not self.checks:
            return ""
        c = max(self.checks, key=lambda c: (VERDICTS.index(c.verdict), _ratio(c)))
        return c.key_number()

    @classmethod
    def failed(cls, paper: str, name: str, error: str, title: str = "") -> "Case":
        """The record of a case that raised: verdict FAIL, with the traceback."""
        return cls(title=title or name, paper=paper, name=name, error=error)

    def to_record(self) -> dict:
        """A JSON-serialisable dict with every field, the verdict and all numbers."""
        checks = [c.to_record() for c in self.checks]
        numbers = dict(jsonable(self.numbers))
        for c in checks:
            numbers.setdefault(c["quantity"], c["numerical"])
        return {
            "paper": self.paper, "name": self.name, "title": self.title,
            "verdict": self.verdict, "reason": self.reason, "key_number": self.key_number(),
            "equation": self.equation, "claim": self.claim,
            "corrected_claim": self.corrected_claim, "method": self.method,
            "reference_method": self.reference_method, "tolerance_note": self.tolerance_note,
            "figure": self.figure, "duration_s": round(float(self.duration), 4),
            "checks": checks, "numbers": numbers, "error": self.error,
        }


def _ratio(check: Check) -> float:
    """Error over tolerance, for picking the tightest check."""
    tol = check.rtol or check.claim_rtol
    if tol:
        return (check.rel_error or 0.0) / tol
    tol = check.atol or check.claim_atol
    return (check.abs_error or 0.0) / tol if tol else 0.0


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    if isinstance(value, (list, tuple)):
        items = [_short(v) for v in value[:4]]
        return "[" + ", ".join(items) + (", …]" if len(value) > 4 else "]")
    return str(value)


# ---------------------------------------------------------------------------------------------
# the context a case runs in
# ---------------------------------------------------------------------------------------------
@dataclass
class Context:
    """What a case function receives: the resolution mode and where to put its figure.

    mode : "quick" (``fpsolve validate --quick``, the default: the whole suite in minutes) or
        "full" (validation-grade resolution).
    out_dir : the report directory; figures go to ``out_dir / "figures"``.
    """

    paper: str
    name: str
    mode: str = "quick"
    out_dir: Path = Path("validation-report")

    def __post_init__(self):
        if self.mode not in ("quick", "full"):
            raise ValueError(f"Context: mode must be 'quick' or 'full'; got {self.mode!r}.")
        self.out_dir = Path(self.out_dir)

    @property
    def quick(self) -> bool:
        """Whether the run is in quick (coarse) mode."""
        return self.mode == "quick"

    @property
    def full(self) -> bool:
        """Whether the run is in full (validation-grade) mode."""
        return self.mode == "full"

    def pick(self, quick, full):
        """``quick`` in quick mode, ``full`` in full mode (grid sizes, step counts, ...)."""
        return quick if self.quick else full

    def rng(self, salt: int = 0) -> np.random.Generator:
        """A random generator seeded from the case's name: the same numbers on every run."""
        seed = zlib.crc32(f"{self.paper}/{self.name}/{salt}".encode())
        return np.random.default_rng(seed)

    def figure(self, nrows: int = 1, ncols: int = 1, size=(5.0, 3.6), **kwargs):
        """A new matplotlib Figure and its axes (no pyplot state, Agg canvas): ``fig, ax``."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=True, **kwargs)
        return fig, axes

    @property
    def figure_path(self) -> Path:
        """Where the case's figure goes: ``figures/PAPER__NAME.png`` in the report folder."""
        return self.out_dir / "figures" / f"{self.paper}__{self.name}.png"

    def save_figure(self, fig, dpi: int = 110) -> str:
        """Save ``fig`` as this case's PNG; returns its path relative to the report directory."""
        path = self.figure_path
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi)
        if getattr(fig.canvas, "manager", None) is not None:  # a pyplot figure: release it
            import matplotlib.pyplot as plt
            plt.close(fig)
        return path.relative_to(self.out_dir).as_posix()
