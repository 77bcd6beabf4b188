r"""The finite-volume discretisation of the kinetic Fokker–Planck operator in phase space (x, v).

The equation (unit mass, friction γ, temperature T(x); Itô, though for this equation all
conventions coincide: the noise acts on V and its amplitude depends on X only, which has no
martingale part)

    ∂t p = −∂x(v p) + ∂v(U′(x) p) + γ ∂v(v p + T(x) ∂v p)

is split into the Hamiltonian transport (the first two terms) and the Ornstein–Uhlenbeck part in
v, and each is written in a form whose discrete version keeps the structure of the continuum.

Transport through a stream function
-----------------------------------
With a reference temperature T_r (T_r = T when T is constant; the smallest T(x) otherwise) and the
reference density π(x, v) = exp(−H/T_r), H = U(x) + v²/2, the equilibrium transport flux is
(v π, −U′ π) = (∂v Ψ, −∂x Ψ) with the stream function Ψ = −T_r π: it is divergence-free. The
scheme puts Ψ on the cell *corners* (exact values there, Ψ = 0 on the corners of the box's
boundary) and takes as equilibrium flux through each face the difference of Ψ between its two
end corners, divided by the face length. The discrete divergence of these fluxes vanishes
identically (the four corner differences of a cell telescope), and the flux through every wall
is zero. The actual transport flux through a face is that equilibrium flux times a face value of
f = p/π:

- ``central``: the mean of f in the two cells (second order; the transport is then exactly
  skew-adjoint in the inner product ⟨p, q⟩ = Σ p q/π, so it neither creates nor dissipates
  the χ²-distance to π), plus a fourth-difference dissipation in x (below);
- ``upwind``: f of the cell the equilibrium flux leaves (first order in x; M-matrix).

Why the dissipation: central differences of −v ∂x decouple odd and even x-cells. A mode
(−1)^i g(x, v) sees the transport with the sign of v reversed, i.e. the *inverted* potential, and
the discrete spectrum acquires spurious slow modes with rates n(sqrt(γ²/4 + ω²) − γ/2) — measured
on the kinetic Ornstein–Uhlenbeck process at γ = 3, ω = 1: a spurious λ = 0.3028 below the true
gap 0.3820, converged in h (0.3097, 0.3046, 0.3032 at 32², 64², 128²). The cure is the classical
fourth-difference artificial dissipation, written here so that it keeps every structure:

    L_d p = −Dᵀ W D (p/π),   (D f)_i = f_{i−1} − 2f_i + f_{i+1} along x,
    W_i = κ |ṽ_j| π_ij / h_x,   κ = 1/16,

which annihilates π (D 1 = 0), conserves mass (1ᵀDᵀ = 0) and is symmetric negative semi-definite
in ⟨·,·⟩ (so the χ² decay and Re λ ≥ 0 below still hold). On smooth f it is κ|v|h_x³ ∂x⁴f, third
order; on the odd-even modes it damps at rate ≈ 16κ|v|/h_x = |v|/h_x, like upwinding. Measured:
the spurious modes disappear (kinetic OU eigenvalues to 3e-3 at 128², 9e-4 at 256²) and the
far-tail oscillations of first-passage fields with them (min E τ −2·10⁹ → +1.6·10⁻³ at 256²,
E τ(−1, 0) changed by 4e-6 relative). The weight κ trades accuracy at very low friction, where
it adds energy diffusion, against damping: κ = 1/64 let the spurious modes back in at 64². Its second differences are dropped where they
would reach into an absorbing target.

Ornstein–Uhlenbeck part
-----------------------
In each column x_i, the flux −γ(v p + T_i ∂v p) is the Scharfetter–Gummel flux with drift −γv,
diffusion γT_i (Scharfetter & Gummel 1969): rates γT_i B(±Δ)/h_v², Δ = h_v v_{j+½}/T_i,
B(z) = z/(eᶻ − 1); its null vector is exp(−v²/2T_i) cell by cell and the drift at every face is
exactly −γ v_{j+½}. In the ``upwind`` scheme the v-transport through a face is upwinded only as
much as needed to keep both off-diagonal rates non-negative (the smallest upwind fraction; none
where the cell Péclet number |U′| h_v/(γT) ≤ 2).

Tail
----
Where the reference density is below e^(−tail) of its maximum (tail = 30 by default; first-
passage questions raise it to 15 above the deepest barrier they cross), the central scheme
upwinds (x) and upwinds as little as keeps the rates ≥ 0 (v). Nothing of weight lives there,
and it is where the central scheme's oscillations used to grow: near the corners of the box, at
p/p_max ~ 1e-19–1e-32, a state-dependent T(x) gave negative stationary densities (292 cells at
256×128) without it and none with it. Gibbs exactness, mass and the χ² dissipativity are kept
(upwinding adds a symmetric negative semi-definite part in ⟨·,·⟩).

Guarantees (both schemes)
-------------------------
- Mass: every flux leaves one cell and enters its neighbour; columns of the generator sum to 0.
- Constant T: the discrete Gibbs state π_ij = exp(−(U(x_i) + v_j²/2)/T) is stationary to
  round-off, whatever the face values of f are (each face's equilibrium flux is the Ψ-difference,
  and the Ornstein–Uhlenbeck fluxes vanish on it) — including with absorbing targets' faces
  upwinded (:meth:`PhaseSpaceScheme.generator`, ``absorbing_x``).
- Second order in h_x, h_v where the solution is smooth: ``central`` only (measured orders in the
  tests and ``docs/theory/kinetic``); ``upwind`` is first order in x, and in v wherever the cell
  Péclet number exceeds 2.
- Positivity: ``upwind`` is an M-matrix (non-negative off-diagonal rates): densities stay
  non-negative under backward Euler, the backward equation has a maximum principle, and
  first-passage quantities are probabilities and times of a Markov jump process on the cells.
  ``central`` is not an M-matrix (the x-transport has rates ±v/(2h_x) with no diffusion in x to
  compensate — no linear scheme for pure transport is both monotone and second order, Godunov's
  theorem); instead, with constant T, it is dissipative in the χ² norm Σ p²/π: every eigenvalue
  has Re λ ≤ 0 and implicit steps are unconditionally stable, but densities and first-passage
  fields can dip below zero, by small amounts in O(h) layers next to absorbing targets and by
  large ones far in the Gibbs tail (where π/π_max ≲ e⁻²⁵), where the solution is controlled only
  in the π-weighted norm. Results carry a diagnostic of this.

Not guaranteed: a discrete stationary state in closed form when T depends on x (there is none in
the continuum either: it is computed by a linear solve); accuracy near the box's walls, where the
transport is deflected along the wall (Ψ = 0 there) — the walls must lie in the Gibbs tail, which
:class:`~fpsolve.kinetic.model.Langevin` checks.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import assembly

SCHEMES = ("central", "upwind")
#: weight κ of the fourth-difference dissipation of the central scheme (module docstring)
KAPPA = 1.0 / 16.0
#: the central scheme upwinds the faces between cells whose reference density is below
#: e^(−TAIL) of its maximum (module docstring: "Tail")
TAIL = 30.0


def bernoulli(z):
    """B(z) = z / (eᶻ − 1), B(0) = 1, accurate for every real z (elementwise)."""
    z = np.asarray(z, dtype=float)
    out = np.ones_like(z)
    nz = np.abs(z) > 1e-8
    zz = z[nz]
    out[nz] = zz / np.expm1(zz)
    small = ~nz  # series: B(z) = 1 − z/2 + z²/12
    out[small] = 1.0 - 0.5 * z[small] + z[small] ** 2 / 12.0
    return out


class PhaseSpaceScheme:
    """The coefficients of the discretisation on one (x, v) grid, and the generator built from them.

    Parameters
    ----------
    grid : Grid (2D, axis 0 = position x, axis 1 = velocity v)
    U_cells, U_faces : potential at the x cell centres (nx,) and at the nx + 1 x-faces (the
        walls included; their values are not used).
    T_cells : temperature at the x cell centres (nx,), positive.
    friction : γ > 0.
    scheme : "central" or "upwind" (see the module docstring).
    """

    def __init__(self, grid, U_cells, U_faces, T_cells, friction, scheme="central"):
        self.grid = grid
        self.scheme = scheme
        self.friction = float(friction)
        nx, nv = grid.shape
        self.shape = (nx, nv)
        hx, hv = (float(h) for h in grid.h)
        self.hx, self.hv = hx, hv
        x, v = grid.axes
        vf = grid.bounds[1, 0] + np.arange(nv + 1) * hv
        self.T_cells = np.asarray(T_cells, dtype=float)
        # the transport's reference density must be at least as concentrated as the solution:
        # with the largest T(x), f = p/π varied by e^2.6 per cell in the v-tails of the cold
        # regions and a 48² T(x) stationary solve came out negative; with the smallest, positive
        Tr = float(np.min(self.T_cells))
        self.T_ref = Tr
        self.constant_T = bool(np.all(self.T_cells == Tr))
        Umin = float(np.min(U_cells))
        # log of the reference density's factors a(x) = e^(−U/T_r), b(v) = e^(−v²/2T_r), on
        # cells and faces; the boundary faces get −inf (Ψ = 0 on the box's boundary)
        self.lac = -(np.asarray(U_cells, float) - Umin) / Tr
        laf = -(np.asarray(U_faces, float) - Umin) / Tr
        laf[0] = laf[-1] = -np.inf
        self.lbc = -v ** 2 / (2 * Tr)
        lbf = -vf ** 2 / (2 * Tr)
        lbf[0] = lbf[-1] = -np.inf
        self.laf, self.lbf = laf, lbf
        # Ψ-differences divided by the reference density of the cell they are attached to:
        # discrete velocity ṽ_j = −T_r (b_{j+½} − b_{j−½}) / (h_v b_j) ≈ v_j and discrete force
        # f̃_i = T_r (a_{i+½} − a_{i−½}) / (h_x a_i) ≈ −U′(x_i) (exact as T_r → ∞)
        self.v_disc = -Tr * (np.exp(lbf[1:] - self.lbc) - np.exp(lbf[:-1] - self.lbc)) / hv
        self.f_disc = Tr * (np.exp(laf[1:] - self.lac) - np.exp(laf[:-1] - self.lac)) / hx
        # Scharfetter–Gummel rates of the OU part per column (nx, nv − 1)
        vmid = vf[1:-1]
        delta = hv * vmid[None, :] / self.T_cells[:, None]
        gT = self.friction * self.T_cells[:, None]
        self.ou_up = gT * bernoulli(delta) / hv     # coefficient of p_j in the flux j → j+1
        self.ou_dn = gT * bernoulli(-delta) / hv    # coefficient of p_{j+1}

    # -- reference density -----------------------------------------------------------------
    @property
    def log_reference(self) -> np.ndarray:
        """log π on the cells (nx, nv), π = exp(−(U − U_min + v²/2)/T_r), max 0 at the minimum."""
        return self.lac[:, None] + self.lbc[None, :]

    # -- face coefficients ------------------------------------------------------------------
    def x_face_coefficients(self, upwind=None, tail=TAIL):
        """(c_lo, c_hi), each (nx − 1, nv): flux through the x-face between cells (i, j) and
        (i+1, j) is c_lo p_ij − c_hi p_{i+1,j} (per unit face length). ``upwind``: bool mask
        (nx − 1,) or (nx − 1, nv) of faces forced to upwinding (absorbing targets); ``tail``: the
        central scheme upwinds faces between cells with log π < −tail."""
        up = np.exp(self.laf[1:-1] - self.lac[:-1])[:, None] * self.v_disc[None, :]
        dn = np.exp(self.laf[1:-1] - self.lac[1:])[:, None] * self.v_disc[None, :]
        theta = np.full(up.shape, 1.0 if self.scheme == "upwind" else 0.0)
        lr = self.log_reference
        theta[(lr[:-1] < -tail) & (lr[1:] < -tail)] = 1.0
        if upwind is not None:
            mask = np.asarray(upwind, dtype=bool)
            theta[np.broadcast_to(mask[:, None] if mask.ndim == 1 else mask, up.shape)] = 1.0
        s = np.sign(up)
        return 0.5 * (1 + theta * s) * up, -0.5 * (1 - theta * s) * dn

    def v_face_coefficients(self, tail=TAIL):
        """(c_lo, c_hi), each (nx, nv − 1), for the v-face between (i, j) and (i, j+1):
        transport (Ψ-weighted) plus the Scharfetter–Gummel OU flux (upwinded as little as
        keeps the rates ≥ 0: everywhere for "upwind", beyond ``tail`` for "central")."""
        up = self.f_disc[:, None] * np.exp(self.lbf[None, 1:-1] - self.lbc[None, :-1])
        dn = self.f_disc[:, None] * np.exp(self.lbf[None, 1:-1] - self.lbc[None, 1:])
        c_lo = 0.5 * up + self.ou_up
        c_hi = -0.5 * dn + self.ou_dn
        lr = self.log_reference
        where = (np.ones(up.shape, dtype=bool) if self.scheme == "upwind"
                 else (lr[:, :-1] < -tail) & (lr[:, 1:] < -tail))
        if where.any():
            # least upwinding that keeps the downstream rate ≥ 0 (exactly 0 where it binds)
            pos = where & (up > 0) & (c_hi < 0)
            neg = where & (up < 0) & (c_lo < 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                c_lo = np.where(pos, up + self.ou_up - self.ou_dn * up / dn, c_lo)
                c_hi = np.where(neg, -dn + self.ou_dn - self.ou_up * dn / up, c_hi)
            c_hi = np.where(pos, 0.0, c_hi)
            c_lo = np.where(neg, 0.0, c_lo)
        return c_lo, c_hi

    # -- the generator ----------------------------------------------------------------------
    def generator(self, absorbing_x=None, cells=None, tail=TAIL) -> sp.csr_matrix:
        """The generator L (scipy CSR, C-order cells (i, j) ↦ i·nv + j): dp/dt = L p.

        Off-diagonal L[k, l] is the rate l → k (1/time); columns sum to zero.
        ``absorbing_x``: bool mask (nx,) of target positions: the x-faces between them and the
        other cells are upwinded (flux only into the target) and the central scheme's
        dissipation stencils that reach into them are dropped. ``cells``: flat indices (sorted)
        to restrict L to (rows and columns; rates out of them into other cells stay on the
        diagonal as loss) — the killed process; default all N cells. ``tail``: log-density
        level beyond which the central scheme upwinds (module docstring, "Tail").
        """
        nx, nv = self.shape
        up = None
        if absorbing_x is not None:
            ab = np.asarray(absorbing_x, dtype=bool)
            up = ab[1:] != ab[:-1]
        xlo, xhi = self.x_face_coefficients(up, tail)
        vlo, vhi = self.v_face_coefficients(tail)
        if self.scheme == "central":
            ok = np.ones(nx - 2, dtype=bool)
            if absorbing_x is not None:
                ok = ~(ab[:-2] | ab[1:-1] | ab[2:])
            dW = KAPPA * np.abs(self.v_disc) / self.hx
        else:
            ok, dW = np.zeros(0, dtype=bool), np.zeros(nv)
        index = np.arange(nx * nv, dtype=np.int64)
        if cells is not None:
            index = np.full(nx * nv, -1, dtype=np.int64)
            index[np.asarray(cells)] = np.arange(len(cells))
        indptr, indices, data = assembly.assemble(
            nx, nv, np.ascontiguousarray(xlo), np.ascontiguousarray(xhi),
            np.ascontiguousarray(vlo), np.ascontiguousarray(vhi), self.hx, self.hv, ok, dW,
            np.ascontiguousarray(self.log_reference), index)
        m = len(indptr) - 1
        return sp.csr_matrix((data, indices, indptr), shape=(m, m))

    def _dissipation_entries(self, absorbing_x=None):
        """COO entries of L_d = −Dᵀ W D Π⁻¹ (module docstring): for every stencil centre k and
        a, b ∈ {−1, 0, 1}, L_d[k+a, k+b] −= c_a c_b W_k/π_{k+b}, c = (1, −2, 1), written with the
        neighbour ratios π_k/π_{k+b} so that nothing under- or overflows."""
        nx, nv = self.shape
        idx = np.arange(nx * nv).reshape(nx, nv)
        ok = np.ones(nx - 2, dtype=bool)
        if absorbing_x is not None:
            ab = np.asarray(absorbing_x, dtype=bool)
            ok = ~(ab[:-2] | ab[1:-1] | ab[2:])
        centre = np.flatnonzero(ok) + 1
        lp = self.log_reference
        W = KAPPA * np.abs(self.v_disc)[None, :] / self.hx             # W_k / π_k
        c = (1.0, -2.0, 1.0)
        rows, cols, vals = [], [], []
        for b in (-1, 0, 1):
            ratio = W * np.exp(lp[centre] - lp[centre + b])             # W_k / π_{k+b}
            for a in (-1, 0, 1):
                rows.append(idx[centre + a].ravel())
                cols.append(idx[centre + b].ravel())
                vals.append((-c[a + 1] * c[b + 1] * ratio).ravel())
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)

    def dissipation(self, absorbing_x=None) -> sp.csr_matrix:
        """L_d alone, as a sparse matrix (for inspection and tests)."""
        n = self.shape[0] * self.shape[1]
        r, c, v = self._dissipation_entries(absorbing_x)
        return sp.csr_matrix((v, (r, c)), shape=(n, n))

    def is_m_matrix(self, L=None) -> bool:
        """Whether every off-diagonal rate of the generator is ≥ 0."""
        L = self.generator() if L is None else L
        off = L.tocoo()
        keep = off.row != off.col
        return bool(np.all(off.data[keep] >= 0))
