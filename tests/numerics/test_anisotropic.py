"""Tensor diffusion (issue 3) against independent references: Gaussian/Lyapunov closed forms,
the Chaudhari–Soatto circulation, a Fourier spectral discretisation of the same operator, and
manufactured zero-flux states; plus conservation, scaling, restriction and input errors."""
import numpy as np
import pytest
import scipy.linalg as sl
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import fpsolve as fp
from fpsolve.errors import InputError
from fpsolve.coefficients.tensor import is_tensor
from fpsolve.numerics.anisotropic import build_tensor_rates
from fpsolve.numerics.spectrum import smallest_eigenvalues
from fpsolve.numerics.stationary import stationary_log_density


def quadratic(H):
    return lambda *x: 0.5 * np.einsum("i...,ij,j...->...", np.array(x), H, np.array(x))


def density(rates, method):
    log_p, info = stationary_log_density(rates, method=method)
    p = np.exp(log_p - log_p.max()).reshape(rates.grid.shape)
    return p / (p.sum() * rates.grid.cell_volume), info


def covariance(grid, p):
    X = np.array(grid.coords).reshape(grid.ndim, -1)
    w = p.ravel() * grid.cell_volume
    Xc = X - (X @ w)[:, None]
    return (Xc * w) @ Xc.T


def circulation(grid, J):
    """∫ (x₁J₂ − x₂J₁) dx from face fluxes (midpoint rule on the dual cells of interior faces)."""
    x, y = grid.coords
    v = grid.cell_volume
    return np.sum((x * J[1])[:, :-1]) * v - np.sum((y * J[0])[:-1, :]) * v


# -- (1) Gibbs state with cross terms: HD = DH ---------------------------------------------------

GIBBS = [
    # D with cross terms, H = polynomial in D (so HD = DH), box ±6 standard deviations
    (np.array([[1.0, 0.5], [0.5, 1.0]]) * 0.5, (44, 40)),
    (np.array([[1.0, 0.4, 0.2], [0.4, 1.0, 0.3], [0.2, 0.3, 1.2]]) * 0.6, (14, 13, 12)),
]


@pytest.mark.parametrize("D,shape", GIBBS)
def test_gibbs_state_with_cross_terms_is_exact(D, shape):
    d = D.shape[0]
    H = D @ D + 0.5 * D + 0.3 * np.eye(d)
    Sigma = sl.solve_continuous_lyapunov(H, 2 * D)  # HΣ + ΣH = 2D; here Σ = H⁻¹D
    assert np.allclose(Sigma, np.linalg.solve(H, D))
    half = 6 * np.sqrt(np.diag(Sigma))
    g = fp.Grid([(-s, s) for s in half], shape)
    for conv in ("ito", "isothermal", "stratonovich"):  # one scheme for a constant D
        R = build_tensor_rates(g, D, conv, potential=quadratic(H))
        psi, defect = R.reference_log_density()
        assert R.reversible and defect < 1e-12 * np.ptp(psi)
        # the closed form ψ = −½ xᵀ D⁻¹H x, exactly (up to a constant)
        X = np.array(g.coords)
        psi_c = -0.5 * np.einsum("i...,ij,j...->...", X, np.linalg.solve(D, H), X).ravel()
        assert np.ptp(psi - psi_c) < 1e-12 * np.ptp(psi)
        # e^ψ is a null vector of L to round-off, and every face flux vanishes
        L = R.generator()
        p = np.exp(psi - psi.max())
        scale = np.abs(L.diagonal()).max()
        assert np.abs(L @ p).max() < 1e-13 * scale
        J = R.face_flux(p.reshape(g.shape))
        assert max(np.abs(j).max() for j in J) < 1e-13 * scale * max(g.h)
        # self-adjoint in L²(1/π): E^(−½) L E^(½) symmetric
        S = R.generator(psi=0.5 * psi)
        assert abs(S - S.T).max() < 1e-13 * scale
    p, info = density(R, "auto")
    assert info["method"] == "detailed-balance"
    # midpoint rule of a Gaussian on ±6σ: far below O(h²)
    assert np.abs(covariance(g, p) - Sigma).max() < 1e-6 * np.abs(Sigma).max()


def test_gibbs_spectrum_is_the_ou_spectrum():
    """OU eigenvalues are sums of eigenvalues of H whatever D is: λ₁ = min eig H, O(h²)."""
    D = np.array([[1.0, 0.5], [0.5, 1.0]]) * 0.5
    H = D @ D + D
    half = 6 * np.sqrt(np.diag(np.linalg.solve(H, D)))
    errs = []
    for n in (24, 48):
        g = fp.Grid([(-s, s) for s in half], n)
        lam, mode = smallest_eigenvalues(build_tensor_rates(g, D, potential=quadratic(H)), 2)
        assert mode == "symmetric"
        errs.append(abs(lam[1] / np.linalg.eigvalsh(H)[0] - 1))
    assert errs[1] < 0.02 and 3.2 < errs[0] / errs[1] < 5.0


# -- (2) Chaudhari–Soatto: HD ≠ DH, a circulating stationary current ----------------------------

def test_chaudhari_soatto_ou_covariance_and_circulation():
    H = np.diag([1.0, 4.0])  # f = ½(x₁² + 4x₂²)
    D = 0.5 * np.array([[1.0, 0.5], [0.5, 1.0]])  # does not commute with H
    Sigma = sl.solve_continuous_lyapunov(H, 2 * D)
    # J = (−H + DΣ⁻¹) x p for p = N(0, Σ), so ∫(x₁J₂ − x₂J₁) = ((−H + DΣ⁻¹)Σ)₂₁ − (…)₁₂
    #   = (HΣ − ΣH)₁₂ = 2 Q₁₂ (THEORY §2, Chaudhari–Soatto's OU case)
    circ_ref = (H @ Sigma - Sigma @ H)[0, 1]
    assert abs(circ_ref) > 0.1
    half = 6 * np.sqrt(np.diag(Sigma))
    g = fp.Grid([(-s, s) for s in half], 80)
    R = build_tensor_rates(g, D, "ito", potential=quadratic(H))
    assert not R.reversible
    p, info = density(R, "solve")
    assert info["method"] == "solve" and info["residual"] < 1e-12
    assert np.abs(covariance(g, p) - Sigma).max() < 0.01 * np.abs(Sigma).max()
    assert circulation(g, R.face_flux(p)) == pytest.approx(circ_ref, rel=0.02)
    lam, _ = smallest_eigenvalues(R, 3)  # OU spectrum: 0, 1, 2 (sums of eig H)
    assert np.real(lam[1:]) == pytest.approx([1.0, 2.0], rel=0.015)
    # commuting D: the same potential has no current at all (to round-off)
    Dc = 0.5 * np.diag([1.0, 2.0])
    Rc = build_tensor_rates(g, Dc, "ito", potential=quadratic(H))
    pc, _ = density(Rc, "auto")
    scale = np.abs(Rc.generator().diagonal()).max() * pc.max() * max(g.h)
    assert max(np.abs(j).max() for j in Rc.face_flux(pc)) < 1e-13 * scale


# -- (3) second order with a non-constant tensor field with cross terms ------------------------

def D_field(x, y):
    d12 = 0.35 + 0.15 * np.cos(x + y)
    return [[1.0 + 0.3 * np.sin(x), d12], [d12, 0.8 + 0.3 * np.cos(y)]]


def b_field(x, y):
    return [0.6 * np.sin(y) - 0.4 * np.sin(x), -0.5 * np.cos(x) + 0.3 * np.sin(y)]


def fourier_eigenvalues(n, convention, k=4):
    """Fourier collocation (odd n) of L p = −∇·(b p) + ∂_i∂_j(D_ij p) (Itô) or
    −∇·(b p) + ∂_i(D_ij ∂_j p) (isothermal) on the 2π-torus: the independent reference."""
    x = np.arange(n) * 2 * np.pi / n
    i = np.arange(n)
    dif = i[:, None] - i[None, :]
    with np.errstate(divide="ignore"):
        D1 = 0.5 * (-1.0) ** dif / np.sin(dif * np.pi / n)
    D1[dif == 0] = 0.0
    Dd = [np.kron(D1, np.eye(n)), np.kron(np.eye(n), D1)]
    X, Y = np.meshgrid(x, x, indexing="ij")
    Dm, b = D_field(X, Y), b_field(X, Y)
    A = np.zeros((n * n, n * n))
    for a in range(2):
        A -= Dd[a] * b[a].ravel()[None, :]
        for j in range(2):
            dij = np.broadcast_to(Dm[a][j], X.shape).ravel()
            A += (Dd[a] @ Dd[j]) * dij[None, :] if convention == "ito" else \
                Dd[a] @ (dij[:, None] * Dd[j])
    w = -spla.eigs(A, k=k, sigma=-1e-3, which="LM", return_eigenvectors=False)
    return w[np.argsort(w.real)]


@pytest.mark.parametrize("convention", ["ito", "isothermal"])
def test_second_order_periodic_tensor_field_against_fourier(convention):
    ref = fourier_eigenvalues(21, convention)[1]
    assert abs(ref - fourier_eigenvalues(17, convention)[1]) < 1e-9  # converged reference
    errs = []
    for n in (16, 32, 64):
        g = fp.Grid([(0, 2 * np.pi)] * 2, n, periodic=True)
        lam, _ = smallest_eigenvalues(build_tensor_rates(g, D_field, convention, drift=b_field),
                                      2)
        # a complex pair is returned as either member: compare real part and |imag|
        errs.append(abs(complex(lam[1].real - ref.real, abs(lam[1].imag) - abs(ref.imag))))
    orders = np.log2(np.array(errs[:-1]) / errs[1:])
    assert errs[-1] < 2e-3 and np.all((1.8 < orders) & (orders < 2.2)), (errs, orders)


def test_second_order_with_reflecting_walls_richardson():
    """Walls matter here (O(1) density there); without the wall-strip closure this is 1st order."""
    lam = []
    for n in (20, 40, 80):
        g = fp.Grid([(0, 3.0), (-1.0, 2.0)], n)
        R = build_tensor_rates(g, D_field, "ito", drift=b_field)
        lam.append(np.real(smallest_eigenvalues(R, 2)[0][1]))
    d = np.abs(np.diff(lam))
    order = np.log2(d[0] / d[1])
    assert 1.8 < order < 2.2, (lam, order)


def _manufactured(ndim):
    """D(x) with cross terms and ψ(x), with the Itô drift b = D∇ψ + ∇·D (all by hand), so that
    p = e^ψ has zero flux everywhere: the exact stationary state with reflecting walls."""
    if ndim == 2:
        def D(x, y):
            c = 0.4 + 0.1 * np.cos(x + y)
            return [[1 + 0.3 * np.sin(x), c], [c, 0.8 + 0.2 * np.cos(y)]]

        def div(x, y):
            return [0.3 * np.cos(x) - 0.1 * np.sin(x + y), -0.1 * np.sin(x + y) - 0.2 * np.sin(y)]

        def psi(x, y):
            return -(0.5 * x ** 2 + y ** 2 + 0.3 * np.sin(x) * y)

        def grad(x, y):
            return [-x - 0.3 * np.cos(x) * y, -2 * y - 0.3 * np.sin(x)]
    else:
        def D(x, y, z):
            a, b, c = 0.3 + 0.1 * np.cos(x + y), 0.2 + 0.1 * np.sin(z), 0.25 + 0.1 * np.sin(y + z)
            return [[1 + 0.3 * np.sin(x), a, b], [a, 0.9 + 0.2 * np.cos(y), c],
                    [b, c, 1.1 + 0.2 * np.sin(z + x)]]

        def div(x, y, z):
            return [0.3 * np.cos(x) - 0.1 * np.sin(x + y) + 0.1 * np.cos(z),
                    -0.1 * np.sin(x + y) - 0.2 * np.sin(y) + 0.1 * np.cos(y + z),
                    0.1 * np.cos(y + z) + 0.2 * np.cos(z + x)]

        def psi(x, y, z):
            return -(0.5 * x ** 2 + y ** 2 + 0.8 * z ** 2 + 0.3 * np.sin(x) * y + 0.2 * y * z)

        def grad(x, y, z):
            return [-x - 0.3 * np.cos(x) * y, -2 * y - 0.3 * np.sin(x) - 0.2 * z,
                    -1.6 * z - 0.2 * y]

    def drift(*x):
        Dm = [[np.broadcast_to(v, x[0].shape) for v in row] for row in D(*x)]
        g, dv = grad(*x), div(*x)
        return [sum(Dm[i][j] * g[j] for j in range(ndim)) + dv[i] for i in range(ndim)]

    return D, drift, psi


@pytest.mark.parametrize("ndim,sizes", [(2, (30, 60)), (3, (8, 16))])
def test_second_order_manufactured_zero_flux_state(ndim, sizes):
    D, drift, psi = _manufactured(ndim)
    errs = []
    for n in sizes:
        g = fp.Grid([(-3, 3)] + [(-2.5, 2.5)] * (ndim - 1), n)
        p, _ = density(build_tensor_rates(g, D, "ito", drift=drift), "auto")
        ref = np.exp(psi(*g.coords))
        ref /= ref.sum() * g.cell_volume
        errs.append(np.sqrt(np.sum((p - ref) ** 2) / np.sum(ref ** 2)))  # relative L²
    order = np.log2(errs[0] / errs[1])
    assert 1.8 < order < 2.2, (errs, order)


# -- (4) conservation, scaling, restriction, flux form --------------------------------------------

@pytest.mark.parametrize("case", ["walls-2d", "mixed-2d", "walls-3d", "periodic-3d"])
def test_columns_sum_to_zero_and_interface(case, rng):
    if case.endswith("2d"):
        g = fp.Grid([(0, 2.0), (0, 1.5)], (9, 7), periodic=(False, case == "mixed-2d"))
        D, b = D_field, b_field
    else:
        g = fp.Grid([(0, 2.0), (0, 1.5), (0, 1.0)], (6, 5, 4), periodic=case == "periodic-3d")
        D, b, _ = _manufactured(3)
    R = build_tensor_rates(g, D, "ito", drift=b)
    L = R.generator()
    scale = np.abs(L.diagonal()).max()
    assert np.abs(np.asarray(L.sum(axis=0))).max() < 1e-13 * scale
    # flux form: L p = −div of the face fluxes
    p = rng.random(g.shape)
    F = R.face_flux(p)
    div = sum((np.roll(F[a], 1, axis=a) - F[a]) / g.h[a] for a in range(g.ndim))
    assert np.abs(div.ravel() - L @ p.ravel()).max() < 1e-13 * scale * p.max()
    # E⁻¹ L E scaling and the index restriction (principal submatrix, removed cells absorb)
    psi = rng.normal(size=g.size)
    E = np.exp(psi)
    ref = L.multiply(E[None, :]).multiply(1 / E[:, None])
    assert abs(R.generator(psi=psi) - ref).max() < 1e-13 * abs(ref).max()
    index = np.arange(g.size)
    index[[0, 5, g.size - 1]] = -1
    keep = index >= 0
    index[keep] = np.arange(keep.sum())
    assert abs(R.generator(index=index) - L[keep][:, keep]).max() == 0.0


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_isotropic_tensor_is_the_scalar_scheme(ndim):
    """D = c·I: no cross terms, and the scheme is FaceRates' Scharfetter–Gummel, entry by entry."""
    from fpsolve.numerics.discretisation import scharfetter_gummel

    g = fp.Grid([(-2.0, 2.0)] * ndim, (9, 8, 7)[:ndim], periodic=(False, True, False)[:ndim])
    U = lambda *x: sum((k + 1) * np.cos(xk) + 0.3 * xk ** 2 for k, xk in enumerate(x))
    R = build_tensor_rates(g, 0.7 * np.eye(ndim), "ito", potential=U)
    ref = scharfetter_gummel(g, np.full(g.shape, 0.7), 0.0, potential=U(*g.coords)).generator()
    assert abs(R.generator() - ref).max() < 1e-13 * abs(ref).max()
    assert R.reversible


def test_drift_inputs_agree():
    g = fp.Grid([(0, 2.0), (0, 1.5)], (9, 7), periodic=(False, True))
    via_callable = build_tensor_rates(g, D_field, "isothermal", drift=b_field).generator()
    faces = []
    for a in range(2):  # full drift vectors at the face centres, padded on the wall axis
        x = [c + (0.5 * g.h[a] if k == a else 0.0) for k, c in enumerate(g.coords)]
        faces.append(np.array(b_field(*x)))
    via_faces = build_tensor_rates(g, D_field, "isothermal", drift_faces=faces).generator()
    assert abs(via_callable - via_faces).max() < 1e-13 * abs(via_faces).max()
    # drift on the cells (face values by averaging): a different O(h²) sampling, same scheme
    via_cells = build_tensor_rates(g, D_field, "isothermal", drift=b_field(*g.coords)).generator()
    assert 0 < abs(via_callable - via_cells).max() < 0.05 * abs(via_faces).max()


def test_tensor_detection():
    g2, g3 = fp.Grid([(0, 1)] * 2, (4, 5)), fp.Grid([(0, 1)] * 3, (3, 3, 4))
    assert is_tensor(np.eye(2), g2) and is_tensor(D_field, g2)
    assert is_tensor(np.ones((3, 3) + g3.shape), g3)
    assert not is_tensor(0.5, g2) and not is_tensor(np.ones(g2.shape), g2)
    assert not is_tensor(lambda x, y: 1 + x * y, g2)
    assert not is_tensor(np.ones(g3.shape), g3)


def test_m_matrix_flag():
    """M-matrix iff D_aa/h_a² ≥ Σ_j |D_aj|/(h_a h_j), whatever the drift (cell Péclet ≫ 1 here)."""
    g = fp.Grid([(-1, 1), (-1, 1)], 20)
    U = lambda x, y: (x ** 2 - 0.5) ** 2 + 2 * y ** 2 + 0.5 * x * y
    for T in (1.0, 0.01):
        ok = build_tensor_rates(g, T * np.array([[1.0, 0.5], [0.5, 1.0]]), potential=U)
        assert ok.is_m_matrix and ok.min_offdiagonal >= 0
        L = ok.generator()
        assert (L - sp.diags(L.diagonal())).min() >= 0
    g2 = fp.Grid([(-2, 2), (-1, 1)], 20)  # h_x = 2 h_y: D_xx/h_x² < |D_xy|/(h_x h_y)
    bad = build_tensor_rates(g2, [[1.0, 0.9], [0.9, 1.0]])
    assert not bad.is_m_matrix and bad.min_offdiagonal < 0


# -- (5) input errors, before any work --------------------------------------------------------------

def test_bad_tensors_raise_with_location():
    g = fp.Grid([(0, 1), (0, 1)], 10)

    def nonsym(x, y):
        return [[1.0 + 0 * x, 0.2 + 0.3 * (x > 0.5)], [0.2 + 0 * x, 1.0 + 0 * x]]

    with pytest.raises(InputError, match=r"not symmetric at x=\(0\.55, 0\.05\).*difference 0\.3"):
        build_tensor_rates(g, nonsym)

    def indefinite(x, y):
        return [[1.0 + 0 * x, 2.0 * (y > 0.7)], [2.0 * (y > 0.7), 1.0 + 0 * x]]

    with pytest.raises(InputError, match=r"not positive definite at x=\(0\.05, 0\.75\).*-1"):
        build_tensor_rates(g, indefinite)

    def singular(x, y):
        c = np.where((x < 0.2) & (y < 0.2), 1.0, 0.5)
        return [[1.0 + 0 * x, c], [c, 1.0 + 0 * x]]

    with pytest.raises(InputError, match=r"singular at x=\(0\.05, 0\.05\) \(cell \(0, 0\); "
                                         r"4 cell\(s\) in all\).*floor="):
        build_tensor_rates(g, singular)
    with pytest.raises(InputError, match="not positive definite"):
        build_tensor_rates(g, -np.eye(2))
    # the floor regularises, and says how much
    R = build_tensor_rates(g, singular, floor=0.1)
    assert R.n_floored == 4
    L = R.generator()
    assert np.abs(np.asarray(L.sum(axis=0))).max() < 1e-13 * np.abs(L.diagonal()).max()


def test_other_bad_input():
    g = fp.Grid([(0, 1), (0, 1)], 10)
    field = lambda x, y: [[1 + x, 0.1 + 0 * x], [0.1 + 0 * x, 1 + y]]
    with pytest.raises(InputError, match="stratonovich.*Itô drift"):
        build_tensor_rates(g, field, "stratonovich")
    with pytest.raises(InputError, match="shape"):
        build_tensor_rates(g, np.eye(3))
    with pytest.raises(InputError, match="not finite"):
        build_tensor_rates(g, lambda x, y: [[np.where(x > 0.5, np.inf, 1.0), 0], [0, 1]])
    with pytest.raises(InputError, match="floor"):
        build_tensor_rates(g, np.eye(2), floor=-1.0)
    with pytest.raises(InputError, match="convention"):
        build_tensor_rates(g, np.eye(2), "ito-ish")
    with pytest.raises(InputError, match="at most one"):
        build_tensor_rates(g, np.eye(2), potential=lambda x, y: x, drift=b_field)
