r"""Diffusion beyond a scalar: finite volumes for a tensor D (:doc:`/theory/conventions`).

Flux (Itô, the SGD convention, and the isothermal form printed by Chaudhari–Soatto)::

    J = b p − ∇·(D p) = b̃ p − D ∇p,     b̃ = b − ∇·D  (Itô),   b̃ = b  (isothermal),
    (∇·D)_i = Σ_j ∂_j D_ij,   i.e.   J = −D (∇p − a p),   a = D⁻¹ b̃.

Stratonovich noise with a tensor is σ-dependent (D = σσᵀ/2 does not fix σ, and the Itô drift
b + ½ Σ_jk σ_jk ∂_j σ_ik depends on the choice), so ``"stratonovich"`` is accepted only for a
constant D, where all three conventions coincide; for a tensor field pass the equivalent Itô drift.

The scheme (edge-averaged exponential fitting on the 7-point graph)
--------------------------------------------------------------------
1. Graph: the cells, joined along the axes (legs, the faces of FaceRates) and across each square
   of four cells in every plane (a, j) by one diagonal, the one that follows the sign of D_aj
   (b → b+e_a+e_j if D_aj ≥ 0, b+e_a → b+e_j otherwise; 19-point stencil in 3D).
2. Weights κ_E (1/time): the edge decomposition of −∇·(D∇) on the right triangles of that split
   (P1 elements on the dual mesh): a diagonal gets κ = Σ_T |D_aj,T| / (2 h_a h_j) over its two
   triangles, a leg along a gets κ = D_aa/h_a² − Σ_T |D_aj,T| / (2 h_a h_j) over the triangles
   it belongs to. Σ_E κ_E t_E t_Eᵀ = D per cell (t_E the edge vector): consistency.
3. Fluxes: Scharfetter–Gummel along every edge, rates κ B(−P) forward and κ B(P) back, with the
   edge Péclet number P = ∫_E a·dl: on legs h_a (D_f⁻¹ b̃_f)_a at the face centre, on diagonals
   the mean of the two leg paths around the square. This is the EAFE scheme of Xu & Zikatanov
   (Math. Comp. 68, 1999): J = −D e^φ ∇(e^(−φ) p) with φ linear along each edge.
4. Reflecting walls (zero normal flux, cross part included). The dual triangles stop at the
   outermost cell centres; in the half-cell strip beyond, J·n = 0 fixes the normal derivative,
   and eliminating it leaves the Schur complement D_aa − D_an²/D_nn on the half of each
   wall-row leg that lies in the strip (a quarter per wall, and D_aa − D_aN D_NN⁻¹ D_Na on the
   quarter where two walls meet, in 3D; for a plane (a, j) triangle in the wall row of the third
   axis k, D_aj − ½ D_ka D_kj/D_kk). The drift needs nothing: the Schur-complement drift is
   (D⁻¹ b̃)_a again, which P already uses. Without this closure the scheme is first order.
5. Reference log-density ψ: the comb integral of the leg Péclet numbers. If they have no curl
   (a discrete potential exists) every edge has P = Δψ, detailed balance holds edge by edge, and
   e^ψ is the exact discrete stationary state; otherwise ψ is their least-squares potential,
   used only to scale the generator (E⁻¹ L E, E = diag e^ψ, assembled by Numba kernels in
   :mod:`fpsolve.numerics.anisotropic_kernels` from log rates: no overflow at e^(±700)).

Guaranteed
----------
- Mass conservation: every column of L sums to zero to round-off (a jump process on a graph).
- The exact discrete stationary state p = e^ψ whenever the leg Péclet numbers are curl-free:
  ``reference_log_density`` then reports a round-off defect, e^ψ is a null vector of L to
  round-off, every edge flux vanishes, and E^(−½) L E^(½) is symmetric (real spectrum). This holds
  for any quadratic potential U = ½ xᵀHx with a constant D that commutes with H (HD = DH ⇔ D⁻¹H
  symmetric ⇔ D⁻¹∇U = ∇ψ with ψ = −½ xᵀD⁻¹Hx: a Gibbs state with covariance H⁻¹D), with walls or
  without, in 2D and 3D, and for any potential with D = c·I (as with FaceRates). (A diagonal
  but anisotropic constant D with a non-separable U has no potential: U_xy (1/D_xx − 1/D_yy) ≠ 0.)
- Second-order convergence for smooth coefficients, tensor fields with cross terms included,
  periodic or reflecting walls, Itô and isothermal (tests/numerics/test_anisotropic.py).
- M-matrix (positivity; backward Euler keeps densities ≥ 0) at every Péclet number whenever all
  κ ≥ 0, i.e. D is diagonally dominant on the grid, D_aa/h_a² ≥ Σ_j |D_aj|/(h_a h_j) (e.g.
  D ∝ [[1, ½], [½, 1]] on a square grid), walls included. The drift never breaks it: the rates
  are κ B(±P) ≥ 0 for any P.

Not guaranteed
--------------
- The M-matrix property when D is not diagonally dominant on the grid (strong correlations, or
  very different spacings), or where D_aj changes sign inside a square (a tiny negative diagonal
  weight there): the edges with κ < 0 carry negative rates, densities can dip below
  zero, and a metastable stationary solve can lose accuracy. No linear 2nd-order 9-point scheme is
  monotone for every SPD tensor. ``is_m_matrix`` and ``min_offdiagonal`` say which case applies;
  report the minimum density. Rotating the grid to the eigenframe of D is not possible in general.
- Exactness for a continuous potential that is not a quadratic: O(h²) defect, and the
  stationary state comes from a linear solve.
- Stratonovich with a non-constant tensor (refused, see above).

Coefficient sampling: D is taken at cell centres (a callable D(x₁, …, x_d) is evaluated there);
face values are arithmetic means (convex combinations, so still SPD), derivatives of D (the Itô
term) central differences, one-sided second order in the wall cells. A drift callable is
evaluated at the face centres (all components); a potential U on the cells (b = −∇U from central
differences of U, exact for quadratics).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ..coefficients.drift import drift_vectors_on_faces
from ..coefficients.evaluate import potential_on_cells
from ..coefficients.tensor import check_tensor, tensor_field
from ..conventions import ALPHA, alpha_of
from ..errors import InputError
from ..geometry.grid import Grid
from . import anisotropic_kernels as kernels
from .generator import comb_log_density, reversibility_tolerance, to_csr
from .poisson import least_squares_potential



@dataclass
class TensorRates:
    """The discretised tensor-diffusion generator, with the interface of
    :class:`~fpsolve.numerics.discretisation.FaceRates` (``grid``, ``generator``,
    ``reference_log_density``, ``face_flux``), so every solver in :mod:`fpsolve.numerics` uses it
    unchanged.

    Attributes
    ----------
    grid : Grid
    convention : "ito", "isothermal" or "stratonovich" (constant D only).
    psi, defect : reference log-density on the cells (flat, C order) and the largest edge
        mismatch |P − Δψ| in log units (round-off iff e^ψ is exactly stationary).
    is_m_matrix : whether every off-diagonal entry of L is ≥ 0 (positivity of the scheme).
    min_offdiagonal : the smallest off-diagonal entry of E⁻¹ L E (E = diag e^ψ; same signs as
        L) divided by the largest |diagonal| entry: ≥ 0 iff L is an M-matrix.
    n_floored : number of cells whose tensor eigenvalues were raised to ``floor``.
    leg_log_normal : (ndim, N) log(D_aa/h_a²) of the legs, the normal diffusion alone (1/time).
    leg_logk, leg_sgn, leg_P : (ndim, N) log|κ|, sign of κ and Péclet number of the legs
        k → k+e_a (stored at k; sign 0 on walls). Rates κ B(−P) forward, κ B(P) back.
    planes, orient, dia_logk, dia_sgn, dia_P : the diagonals, per plane (a, j) and lowest cell
        (see :mod:`fpsolve.numerics.anisotropic_kernels`).
    """

    grid: Grid
    convention: str
    psi: np.ndarray
    defect: float
    leg_logk: np.ndarray
    leg_sgn: np.ndarray
    leg_P: np.ndarray
    planes: np.ndarray
    orient: np.ndarray
    dia_logk: np.ndarray
    dia_sgn: np.ndarray
    dia_P: np.ndarray
    leg_log_normal: np.ndarray = None
    n_floored: int = 0
    min_offdiagonal: float = 0.0
    _csr: tuple = None

    def __post_init__(self):
        self._csr = kernels.assemble_scaled(self.shape, self.periodic, *self._edges(), self.psi)
        off, scale = kernels.offdiagonal_extremes(*self._csr)
        self.min_offdiagonal = float(off / scale) if np.isfinite(off) and scale else 0.0

    def _edges(self):
        return (self.leg_logk, self.leg_sgn, self.leg_P, self.planes, self.orient,
                self.dia_logk, self.dia_sgn, self.dia_P)

    @property
    def is_m_matrix(self) -> bool:
        """Whether every off-diagonal entry of L is ≥ 0 (then the scheme keeps densities
        positive and L is an M-matrix)."""
        return self.min_offdiagonal >= 0.0

    @property
    def shape(self):
        """Cells per axis, as an int64 array (what the kernels take)."""
        return np.asarray(self.grid.shape, dtype=np.int64)

    @property
    def periodic(self):
        """Whether each axis is periodic, as a bool array (what the kernels take)."""
        return np.asarray(self.grid.periodic, dtype=np.bool_)

    @property
    def h(self):
        """Cell widths per axis (units of x), as a float array."""
        return np.asarray(self.grid.h, dtype=float)

    @property
    def reversible(self) -> bool:
        """Whether e^ψ is the exact discrete stationary state (detailed balance on the grid):
        the edge mismatch ``defect`` is at round-off level for ψ's magnitude."""
        return bool(self.defect <= reversibility_tolerance(self.psi))

    def generator(self, psi=None, index=None, copy=True):
        """Sparse E⁻¹ L E (E = diag e^ψ; ψ = None gives L) on the cells with ``index >= 0``.

        Removed cells (index −1) are absorbing: the principal submatrix, so rates into them stay
        on the diagonal as loss — exactly as :meth:`FaceRates.generator` (``copy`` too).
        """
        N = self.grid.size
        plain = psi is None and index is None
        if plain and self.__dict__.get("_L") is not None:  # L is asked for several times
            return self._L.copy() if copy else self._L
        psi = np.zeros(N) if psi is None else np.ascontiguousarray(psi, dtype=float)
        index = np.arange(N, dtype=np.int64) if index is None else \
            np.ascontiguousarray(index, dtype=np.int64)
        data, indices, indptr = self._csr
        d, i, p = kernels.rescale_restrict(data, indices, indptr, psi - self.psi, index)
        L = to_csr(d, i, p, len(p) - 1)
        if plain:  # keep this one; the caller gets a copy unless it only reads
            self._L = L
            return L.copy() if copy else L
        return L

    def reference_log_density(self):
        """(ψ, defect): the reference log-density and its edge mismatch (see the class doc)."""
        return self.psi.copy(), float(self.defect)

    def face_flux(self, p: np.ndarray):
        """Probability flux J·e_a through each face along each axis (list of grid-shaped arrays).

        Entry k along axis a is the flux from cell k to cell k+1 (zero on walls), the legs' own
        flux plus half of each adjacent diagonal transfer (routed along the two leg paths around
        its square), so that −div of these fluxes is exactly L p.
        """
        g = self.grid
        p = np.ascontiguousarray(np.asarray(p, dtype=float).ravel())
        F = kernels.face_flux(self.shape, self.periodic, self.h, *self._edges(), p)
        return [F[a].reshape(g.shape) for a in range(g.ndim)]

    # Rates of the normal diffusion D_aa along the legs with the legs' Péclet numbers — not the
    # scheme's rates (those include cross terms and diagonals). They exist because
    # stationary.least_squares_log_density reads log_fwd − log_bwd (= P) to build its scaling.
    @property
    def log_fwd(self):
        """(ndim, N) log of the normal-diffusion leg rate k → k+e_a, log(D_aa/h_a²) + log B(−P)
        (1/time; not the scheme's rates, see the comment above)."""
        return self.leg_log_normal + kernels.log_bernoulli_1d(-self.leg_P.ravel()).reshape(
            self.leg_P.shape)

    @property
    def log_bwd(self):
        """(ndim, N) log of the normal-diffusion leg rate k+e_a → k, log(D_aa/h_a²) + log B(P)
        (1/time; not the scheme's rates, see the comment above)."""
        return self.leg_log_normal + kernels.log_bernoulli_1d(self.leg_P.ravel()).reshape(
            self.leg_P.shape)

    def __repr__(self):
        return (f"TensorRates({self.grid!r}, convention={self.convention!r}, "
                f"reversible={self.reversible}, is_m_matrix={self.is_m_matrix}, "
                f"n_floored={self.n_floored})")


def build_tensor_rates(grid: Grid, diffusion, convention="ito", *, potential=None, drift=None,
                       drift_faces=None, floor=None, checked=False,
                       floored_cells=0) -> TensorRates:
    """Finite-volume generator of ∂t p = −∇·J with a tensor diffusion (see the module doc).

    Parameters
    ----------
    grid : Grid (1–3 axes; periodic axes wrap, the others have reflecting walls).
    diffusion : the symmetric positive-definite tensor D (units length²/time), one of

        - a constant d×d matrix;
        - an array of shape (d, d, *grid.shape) on the cell centres;
        - a callable D(x₁, …, x_d) → (d, d, …) array or nested d×d lists of arrays/numbers,
          evaluated once on the cell centres.
    convention : "ito" (default, SGD: J = b p − ∇·(D p)), "isothermal" (J = b p − D∇p), or
        "stratonovich" (constant D only); or the α value 0, 1, ½.
    potential : U on the cells (array or callable); drift b = −∇U.
    drift : callable b(x₁, …, x_d) → d arrays, evaluated at the face centres (all components),
        or a sequence of d arrays on the cells.
    drift_faces : low level: list over axes a of arrays (d, *grid.shape), the full drift vector
        at the centre of the face k | k+e_a (last entry of a wall axis ignored).
    floor : optional eigenvalue floor (> 0): eigenvalues of D below it are raised to it — a
        regularisation the caller asks for (rank-deficient gradient covariances); without it a
        singular or indefinite tensor is an error.
    checked : the caller passes a D (d, d, *grid.shape) that :mod:`fpsolve.coefficients` has
        already checked and floored (in ``floored_cells`` cells), and arrays only (what
        :class:`fpsolve.FokkerPlanck` does: its coefficients are evaluated once, not once per
        schedule value).

    Give at most one of potential, drift, drift_faces (none: pure diffusion). Callables are
    evaluated through :mod:`fpsolve.coefficients` (the layer that owns user input).
    """
    if not isinstance(grid, Grid):
        raise InputError(f"build_tensor_rates: grid must be an fpsolve.Grid; got "
                         f"{type(grid).__name__}.")
    conv = _convention(convention)
    if sum(x is not None for x in (potential, drift, drift_faces)) > 1:
        raise InputError("build_tensor_rates: give at most one of potential=, drift= and "
                         "drift_faces=.")
    if floor is not None and not (isinstance(floor, numbers.Real) and np.isfinite(floor)
                                  and floor > 0):
        raise InputError(f"build_tensor_rates: floor must be a positive number (an eigenvalue "
                         f"floor in units of D); got {floor!r}.")
    if checked:
        D, n_floored = np.asarray(diffusion, dtype=float), int(floored_cells)
    else:
        D, n_floored = check_tensor(tensor_field(diffusion, grid), grid, floor)
    flat = D.reshape(grid.ndim, grid.ndim, -1)
    # per component (np.ptp): no full-size temporaries (0.2 s of page faults at 1000²)
    tol = 1e-14 * max(float(np.max(np.abs(flat[i, j]))) for i in range(grid.ndim)
                      for j in range(grid.ndim))
    constant = all(float(np.ptp(flat[i, j])) <= tol for i in range(grid.ndim)
                   for j in range(grid.ndim))
    if conv == "stratonovich" and not constant:
        raise InputError(
            "build_tensor_rates: convention 'stratonovich' with a non-constant diffusion tensor "
            "is ambiguous (D = σσᵀ/2 does not determine σ, and the Stratonovich correction "
            "½ Σ_jk σ_jk ∂_j σ_ik depends on it). Pass the equivalent Itô drift "
            "b + ½ Σ_jk σ_jk ∂_j σ_ik for your σ with convention='ito'.")
    b_faces = _drift_vectors(grid, potential, drift, drift_faces)
    if conv == "ito" and not constant:
        _subtract_divergence(grid, D, b_faces)
    return _assemble(grid, D, b_faces, conv, n_floored)


# -- input handling ---------------------------------------------------------------------------

def _convention(convention) -> str:
    """A convention name, also from its α value (0, ½, 1)."""
    if isinstance(convention, numbers.Real) and not isinstance(convention, bool):
        for name, alpha in ALPHA.items():
            if float(convention) == alpha:
                return name
    alpha_of(convention, "build_tensor_rates")  # raises with the list of known names
    return convention


def _drift_vectors(grid: Grid, potential, drift, drift_faces):
    """Full drift vectors at the faces: list over a of (d, *shape) (entry k: face k | k+e_a)."""
    d, shape, h = grid.ndim, grid.shape, grid.h
    if drift_faces is not None:
        out = []
        for a in range(d):
            arr = np.asarray(drift_faces[a], dtype=float)
            if arr.shape != (d,) + shape:
                raise InputError(f"drift_faces[{a}] has shape {arr.shape}; expected "
                                 f"{(d,) + shape} (all components at the faces normal to axis "
                                 f"{a}).")
            out.append(np.where(_interior(grid, a), arr, 0.0))
        return out
    if potential is not None:
        U = potential_on_cells(potential, grid)
        grads = [_cell_diff(U, j, grid) for j in range(d)]
        out = []
        for a in range(d):
            b = np.empty((d,) + shape)
            for j in range(d):
                b[j] = -(_up(U, a, d) - U) / h[a] if j == a else -_face_mean(grads[j], a, d)
            out.append(np.where(_interior(grid, a), b, 0.0))
        return out
    if drift is not None:
        return drift_vectors_on_faces(drift, grid)
    return [np.zeros((d,) + shape) for _ in range(d)]


def _subtract_divergence(grid: Grid, D, b_faces):
    """Itô: b̃ = b − ∇·D at the faces, (∇·D)_i = Σ_j ∂_j D_ij (second order)."""
    d, h = grid.ndim, grid.h
    dD = [[_cell_diff(D[i, j], j, grid) for j in range(d)] for i in range(d)]  # ∂_j D_ij
    div_cells = [sum(dD[i][j] for j in range(d)) for i in range(d)]
    for a in range(d):
        for i in range(d):
            if i == a:
                div = (_up(D[a, a], a, d) - D[a, a]) / h[a]
                div = div + sum(_face_mean(dD[a][j], a, d) for j in range(d) if j != a)
            else:
                div = _face_mean(div_cells[i], a, d)
            b_faces[a][i] = np.where(_interior(grid, a), b_faces[a][i] - div, 0.0)


# -- grid helpers -----------------------------------------------------------------------------

def _up(X, a, nd):
    """Value at the upper neighbour along grid axis a (the last nd axes of X are the grid's)."""
    return np.roll(X, -1, axis=a - nd)


def _face_mean(X, a, nd):
    """Arithmetic mean over the two cells of the face k | k+e_a (wraps on the last entry)."""
    return 0.5 * (X + np.roll(X, -1, axis=a - nd))


def _index_along(grid: Grid, a):
    shp = [1] * grid.ndim
    shp[a] = grid.shape[a]
    return np.broadcast_to(np.arange(grid.shape[a]).reshape(shp), grid.shape)


def _interior(grid: Grid, a):
    """Faces k | k+e_a that exist (all on a periodic axis, all but the last on a wall axis)."""
    if grid.periodic[a]:
        return np.ones(grid.shape, dtype=bool)
    return _index_along(grid, a) < grid.shape[a] - 1


def _wall_row(grid: Grid, k):
    """Cells in the first or last layer along a wall axis k (False on a periodic axis)."""
    if grid.periodic[k]:
        return np.zeros(grid.shape, dtype=bool)
    idx = _index_along(grid, k)
    return (idx == 0) | (idx == grid.shape[k] - 1)


def _cell_diff(X, j, grid: Grid):
    """Cell-centred ∂X/∂x_j of a grid-shaped X: central, wrapping on a periodic axis, one-sided
    second order (−3, 4, −1)/2h in the first and last cell of a wall axis."""
    h = grid.h[j]
    if grid.periodic[j]:
        return (np.roll(X, -1, axis=j) - np.roll(X, 1, axis=j)) / (2 * h)
    out = np.empty_like(X)

    def s(i):
        idx = [slice(None)] * X.ndim
        idx[j] = i
        return tuple(idx)

    out[s(slice(1, -1))] = (X[s(slice(2, None))] - X[s(slice(None, -2))]) / (2 * h)
    out[s(0)] = (-3 * X[s(0)] + 4 * X[s(1)] - X[s(2)]) / (2 * h)
    out[s(-1)] = (3 * X[s(-1)] - 4 * X[s(-2)] + X[s(-3)]) / (2 * h)
    return out


# -- the scheme -------------------------------------------------------------------------------

def _assemble(grid: Grid, D, b_faces, conv, n_floored) -> TensorRates:

    d, shape, N, h = grid.ndim, grid.shape, grid.size, grid.h
    Df = [_face_mean(D, a, d) for a in range(d)]
    inner = [_interior(grid, a) for a in range(d)]
    # leg Péclet numbers h_a (D_f⁻¹ b̃_f)_a = ∫ a·dl along the leg (midpoint rule)
    G = np.zeros((d,) + shape)
    for a in range(d):
        G[a] = kernels.leg_peclet(Df[a].reshape(d, d, N), b_faces[a].reshape(d, N),
                                  inner[a].ravel(), a, float(h[a])).reshape(shape)
    planes = [(a, j) for a in range(d) for j in range(a + 1, d)]
    orient, c_tri = _split(grid, D)
    dia_P = np.array([_diagonal_peclet(grid, G, a, j, o) for (a, j), o in zip(planes, orient)])
    # weights: legs D_eff/h² minus the triangles' cross parts, diagonals plus them
    kappa = np.array([_wall_strip(grid, a, Df[a]) / h[a] ** 2 for a in range(d)])
    kappa_dia = np.zeros((len(planes),) + shape)
    for p, (a, j) in enumerate(planes):
        o = orient[p]
        c0, c1 = o * c_tri[p][0], o * c_tri[p][1]  # ≥ 0 when D_aj keeps the plaquette's sign
        kappa_dia[p] = c0 + c1
        kappa[a] -= c0 + np.roll(c1, 1, axis=j)   # a-legs: T0 at b, T1 at b + e_j
        # j-legs: of T0 at b + e_a (o = +1) or b (o = −1); of T1 at b (+1) or b + e_a (−1)
        kappa[j] -= (np.roll(np.where(o > 0, c0, 0.0), 1, axis=a) + np.where(o < 0, c0, 0.0)
                     + np.where(o > 0, c1, 0.0) + np.roll(np.where(o < 0, c1, 0.0), 1, axis=a))
    for a in range(d):
        kappa[a][~inner[a]] = 0.0
    # reference ψ: exact discrete potential if the legs' Péclet numbers are curl-free
    Gf = G.reshape(d, N)
    psi = comb_log_density(Gf, np.zeros_like(Gf), np.asarray(shape, dtype=np.int64))
    defect = _defect(grid, psi, G, dia_P, orient, planes)
    if defect > reversibility_tolerance(psi):
        psi = _least_squares_potential(grid, Gf)
        defect = _defect(grid, psi, G, dia_P, orient, planes)

    def log_sign(k):
        with np.errstate(divide="ignore"):
            return np.where(k != 0, np.log(np.abs(k)), 0.0), np.sign(k)

    leg_logk, leg_sgn = log_sign(kappa.reshape(d, N))
    dia_logk, dia_sgn = log_sign(kappa_dia.reshape(len(planes), N))
    normal = np.array([np.where(inner[a], Df[a][a, a], 1.0) / h[a] ** 2 for a in range(d)])
    log_normal = np.where(np.array(inner), np.log(normal), -np.inf).reshape(d, N)
    return TensorRates(
        grid=grid, convention=conv, psi=np.ascontiguousarray(psi), defect=defect,
        leg_logk=leg_logk, leg_sgn=leg_sgn, leg_P=np.ascontiguousarray(Gf),
        planes=np.asarray(planes, dtype=np.int64).reshape(-1, 2),
        orient=orient.reshape(len(planes), N).astype(np.int64),
        dia_logk=dia_logk, dia_sgn=dia_sgn,
        dia_P=np.ascontiguousarray(dia_P.reshape(len(planes), N)),
        leg_log_normal=log_normal, n_floored=n_floored)


def _split(grid: Grid, D):
    """Orientation (±1, 0 where no square) of each square's diagonal, per plane (a, j), and the
    signed cross coefficients c_T = D_aj,T / (2 h_a h_j) of its two triangles.

    D_aj,T is the mean over the triangle's three cells; in the wall row of the third axis k (3D)
    the wall strip's Schur complement D_aj − D_ka D_kj / D_kk applies on half the thickness.
    """
    d, shape, h = grid.ndim, grid.shape, grid.h
    planes = [(a, j) for a in range(d) for j in range(a + 1, d)]
    orient = np.zeros((len(planes),) + shape, dtype=np.int64)
    c_tri = np.zeros((len(planes), 2) + shape)
    for p, (a, j) in enumerate(planes):
        def at(X, da, dj):
            return np.roll(X, (-da, -dj), axis=(a, j))

        exists = _interior(grid, a) & _interior(grid, j)
        Daj = D[a, j]
        mean4 = Daj + at(Daj, 1, 0) + at(Daj, 0, 1) + at(Daj, 1, 1)
        o = np.where(exists, np.where(mean4 >= 0, 1, -1), 0)
        plus = o > 0

        def mean3(X, t):
            if t == 0:  # {b, b+e_a, b+e_a+e_j} or {b, b+e_a, b+e_j}
                return (X + at(X, 1, 0) + np.where(plus, at(X, 1, 1), at(X, 0, 1))) / 3
            # {b, b+e_j, b+e_a+e_j} or {b+e_a, b+e_j, b+e_a+e_j}
            return (np.where(plus, X, at(X, 1, 0)) + at(X, 0, 1) + at(X, 1, 1)) / 3

        for t in range(2):
            DT = mean3(Daj, t)
            if d == 3:
                k = 3 - a - j
                DT = DT - 0.5 * _wall_row(grid, k) * (mean3(D[k, a], t) * mean3(D[k, j], t)
                                                      / mean3(D[k, k], t))
            c_tri[p, t] = np.where(exists, DT / (2 * h[a] * h[j]), 0.0)
        orient[p] = o
    return orient, c_tri


def _diagonal_peclet(grid: Grid, G, a, j, o):
    """Péclet number of each square's diagonal (start → end): the mean of the two leg paths."""
    Ga, Gj = G[a], G[j]
    Ga_up = np.roll(Ga, -1, axis=j)   # a-leg at b + e_j
    Gj_right = np.roll(Gj, -1, axis=a)  # j-leg at b + e_a
    plus = 0.5 * ((Ga + Gj_right) + (Gj + Ga_up))     # b → b+e_a+e_j
    minus = 0.5 * ((Gj - Ga) + (Gj_right - Ga_up))   # b+e_a → b+e_j
    return np.where(o > 0, plus, np.where(o < 0, minus, 0.0))


def _defect(grid: Grid, psi, G, dia_P, orient, planes):
    """max |P − Δψ| over all edges (legs and diagonals)."""
    d = grid.ndim
    P_ = psi.reshape(grid.shape)
    worst = 0.0
    for a in range(d):
        inner = _interior(grid, a)
        if np.any(inner):
            worst = max(worst, float(np.max(np.abs(G[a] - (_up(P_, a, d) - P_))[inner])))
    for p, (a, j) in enumerate(planes):
        o = orient[p]
        if not np.any(o):
            continue
        up_both = np.roll(P_, (-1, -1), axis=(a, j))
        d_plus = up_both - P_
        d_minus = np.roll(P_, -1, axis=j) - np.roll(P_, -1, axis=a)
        dpsi = np.where(o > 0, d_plus, d_minus)
        worst = max(worst, float(np.max(np.abs(dia_P[p] - dpsi)[o != 0])))
    return worst


def _least_squares_potential(grid: Grid, G):
    """ψ minimising Σ_legs (ψ_{k+e_a} − ψ_k − G_a,k)²: a graph Poisson problem, solved exactly by
    fast cosine/Fourier transforms (:mod:`fpsolve.numerics.poisson`; 0.02 s at 512², where the
    sparse LU used before took 0.9 s)."""
    return least_squares_potential(G, grid.shape, grid.periodic)


def _wall_strip(grid: Grid, a, Df):
    """D_aa on the legs along a, with the wall strips' Schur complements.

    In the half cell between a wall (normal n) and the first cell centres, J·n = 0 gives
    ∂_n p = (b̃_n p − Σ_t D_nt ∂_t p)/D_nn; substituted into the a-flux this leaves D_aa − D_an²/D_nn
    (and the drift (D⁻¹b̃)_a, unchanged) on that half of the face; on the quarter next to an edge
    of two walls, the Schur complement with respect to both normals.
    """
    D_eff = Df[a, a].copy()
    walls = [j for j in range(grid.ndim) if j != a and not grid.periodic[j]]
    at = {j: _wall_row(grid, j) for j in walls}
    single = {j: Df[a, j] ** 2 / Df[j, j] for j in walls}
    if len(walls) == 1:
        (j,) = walls
        D_eff -= 0.5 * at[j] * single[j]
    elif len(walls) == 2:
        j, k = walls
        both = at[j] & at[k]
        fj = np.where(both, 0.25, 0.5) * at[j]
        fk = np.where(both, 0.25, 0.5) * at[k]
        det = Df[j, j] * Df[k, k] - Df[j, k] ** 2
        q2 = (Df[a, j] ** 2 * Df[k, k] - 2 * Df[a, j] * Df[a, k] * Df[j, k]
              + Df[a, k] ** 2 * Df[j, j]) / det
        D_eff -= fj * single[j] + fk * single[k] + 0.25 * both * q2
    return D_eff
