"""Random 1D first-passage problems for the property tests: several wells of random depths,
state-dependent D, every convention, targets anywhere, grids not aligned with the targets.

Each problem carries the coefficients in closed form (U, U′, D) for the quadrature references of
fpsolve.theory, and its targets both as sharp sets (fpsolve.escape.regions) and as cell masks.
"""
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import fpsolve as fp
from fpsolve.escape import HalfSpace, Wall
from fpsolve.theory import mfpt_1d, mfpt_interval_1d

#: The default run: 25 draws per property, the same every run (derandomised, so that
#: CI is reproducible); ``-m slow`` runs the long profile: hundreds of fresh draws.
FAST = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
LONG = settings(max_examples=400, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

CONVENTIONS = ("ito", "stratonovich", "isothermal")


@dataclass
class Problem:
    lo: float
    hi: float
    n: int
    c2: float          # confinement c2 x²
    tilt: float        # − tilt · x
    bumps: tuple       # (amplitude, centre, width) Gaussian bumps (wells where amplitude < 0)
    D0: float
    eps: float         # D = D0 (1 + eps sin(om x + ph))
    om: float
    ph: float
    convention: str
    kind: str          # "above", "below", "outside", "inside", "walls", "wall_low", "wall_high"
    a: float           # target edges (meaning depends on kind)
    b: float

    # -- coefficients --------------------------------------------------------------------------
    def U(self, x):
        x = np.asarray(x, dtype=float)
        out = self.c2 * x ** 2 - self.tilt * x
        for A, m, w in self.bumps:
            out = out + A * np.exp(-((x - m) ** 2) / (2 * w * w))
        return out

    def dU(self, x):
        x = np.asarray(x, dtype=float)
        out = 2 * self.c2 * x - self.tilt
        for A, m, w in self.bumps:
            out = out - A * (x - m) / (w * w) * np.exp(-((x - m) ** 2) / (2 * w * w))
        return out

    def D(self, x):
        return self.D0 * (1 + self.eps * np.sin(self.om * np.asarray(x, dtype=float) + self.ph))

    @property
    def h(self):
        return (self.hi - self.lo) / self.n

    def model(self, n=None):
        g = fp.Grid([(self.lo, self.hi)], n or self.n)
        return fp.FokkerPlanck(g, potential=self.U, diffusion=self.D, convention=self.convention)

    def theory_kw(self):
        return dict(potential_derivative=self.dU, diffusion=self.D, convention=self.convention)

    # -- targets -------------------------------------------------------------------------------
    def sharp(self):
        a, b = self.a, self.b
        return {"above": HalfSpace(1, a), "below": HalfSpace(-1, -a),
                "outside": HalfSpace(-1, -a) | HalfSpace(1, b),
                "inside": fp.escape.Box([(a, b)]), "walls": Wall(0),
                "wall_low": Wall(0, "low"), "wall_high": Wall(0, "high")}[self.kind]

    def mask(self):
        """The same set as a callable mask (cell-centre meaning); None for walls."""
        a, b = self.a, self.b
        return {"above": lambda x: x >= a, "below": lambda x: x <= a,
                "outside": lambda x: (x <= a) | (x >= b), "inside": lambda x: (x >= a) & (x <= b),
                }.get(self.kind)

    def continuum_mfpt(self, x0):
        """E τ(x₀) for the sharp target by quadrature (fpsolve.theory), x₀ off the target."""
        kw, a, b = self.theory_kw(), self.a, self.b
        k = self.kind
        if k == "above":
            return mfpt_1d(x0, a, self.lo, second_moment=True, **kw)
        if k == "below":
            return mfpt_1d(x0, a, self.hi, second_moment=True, **kw)
        if k == "outside":
            return mfpt_interval_1d(x0, a, b, second_moment=True, **kw)
        if k == "inside":
            return (mfpt_1d(x0, a, self.lo, second_moment=True, **kw) if x0 < a else
                    mfpt_1d(x0, b, self.hi, second_moment=True, **kw))
        if k == "walls":
            return mfpt_interval_1d(x0, self.lo, self.hi, second_moment=True, **kw)
        if k == "wall_low":
            return mfpt_1d(x0, self.lo, self.hi, second_moment=True, **kw)
        return mfpt_1d(x0, self.hi, self.lo, second_moment=True, **kw)

    def survival_interval(self, x0):
        """(lower, upper, absorbing) of the interval the process lives in, started at x₀."""
        k, a, b = self.kind, self.a, self.b
        return {"above": (self.lo, a, "upper"), "below": (a, self.hi, "lower"),
                "outside": (a, b, "both"), "walls": (self.lo, self.hi, "both"),
                "wall_low": (self.lo, self.hi, "lower"), "wall_high": (self.lo, self.hi, "upper"),
                "inside": (self.lo, a, "upper") if x0 < a else (b, self.hi, "lower")}[k]


@st.composite
def problems(draw, kinds=("above", "below", "outside", "inside", "walls", "wall_low",
                          "wall_high"), max_barrier=8.0, cells=(60, 160)):
    lo = draw(st.floats(-3.4, -2.6))
    hi = draw(st.floats(2.6, 3.4))
    n = draw(st.integers(*cells))
    c2 = draw(st.floats(0.05, 0.3))
    tilt = draw(st.floats(-0.6, 0.6))
    nb = draw(st.integers(1, 3))
    bumps = tuple((draw(st.floats(-1.5, 1.5)), draw(st.floats(lo + 0.8, hi - 0.8)),
                   draw(st.floats(0.3, 0.8))) for _ in range(nb))
    eps = draw(st.floats(0.0, 0.5))
    om = draw(st.floats(0.3, 2.0))
    ph = draw(st.floats(0.0, 2 * np.pi))
    conv = draw(st.sampled_from(CONVENTIONS))
    kind = draw(st.sampled_from(kinds))
    L = hi - lo
    a = draw(st.floats(lo + 0.25 * L, hi - 0.25 * L))
    b = draw(st.floats(a + 0.15 * L, hi - 0.1 * L)) if kind in ("outside", "inside") else a
    if kind == "inside":  # keep both sides of the inner target alive
        a = min(a, hi - 0.5 * L)
        b = min(max(b, a + 0.1 * L), hi - 0.2 * L)
    # noise level from the landscape: the barriers stay below max_barrier·D (dense solves and
    # quadrature both accurate, every solve well conditioned)
    x = np.linspace(lo, hi, 2001)
    p = Problem(lo, hi, n, c2, tilt, bumps, 1.0, eps, om, ph, conv, kind, a, b)
    span = float(np.ptp(p.U(x)))
    p.D0 = span / draw(st.floats(1.0, max_barrier)) + 0.05
    return p


def scale(p, interval):
    """s = max|b/D| + max|D′/D| + 1/(narrowest bump) + 2π/(length of the interval the process
    lives in): the inverse length on which the coefficients and the solutions vary. The
    scheme's O(h²) error is bounded by K (h s)² (a bare interval: λ₁ is off by (πh/L)²/12);
    over 400 draws the largest constant seen was 0.03, hence K = 0.1."""
    xs = np.linspace(p.lo, p.hi, 4001)
    D = p.D(xs)
    return float(np.max(np.abs(p.dU(xs)) / D) + np.max(np.abs(np.gradient(D, xs)) / D)
                 + 1.0 / min(w for _, _, w in p.bumps) + 2 * np.pi / (interval[1] - interval[0]))


K = 0.1


def dense_killed(model, removed):
    """A = −L_S (dense) on the kept cells, and the rate of each kept cell into the removed ones,
    from the model's generator (numpy only)."""
    L = model.generator().toarray()
    keep = ~np.asarray(removed, dtype=bool)
    return -L[np.ix_(keep, keep)], L[np.ix_(~keep, keep)].sum(axis=0), keep


def dense_qsd_rate(A):
    """Smallest eigenvalue of a 1D killed generator (reversible: symmetrised, eigh)."""
    off = A - np.diag(np.diag(A))
    S = -np.sqrt(off * off.T) + np.diag(np.diag(A))
    return float(sla.eigh(S, eigvals_only=True, subset_by_index=[0, 0])[0])
