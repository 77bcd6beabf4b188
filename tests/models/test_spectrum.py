"""Eigenvalues of −L against closed forms (Ornstein–Uhlenbeck) and against the 1D MFPT
quadrature (double well), plus the observed spatial order of convergence."""
import numpy as np
import pytest
from scipy import integrate

import fpsolve as fp


def test_ornstein_uhlenbeck_eigenvalues_are_n_times_k():
    # dX = −k X dt + sqrt(2D) dW: spectrum of −L is {n k}. Box ±8 std devs, walls negligible.
    k, D = 1.5, 0.4
    sd = np.sqrt(D / k)
    g = fp.Grid([(-8 * sd, 8 * sd)], 800)
    vals = fp.FokkerPlanck(g, potential=lambda x: 0.5 * k * x ** 2, diffusion=D).eigenvalues(5)
    assert vals[0] == 0.0
    np.testing.assert_allclose(vals[1:], k * np.arange(1, 5), rtol=1e-3)


def test_2d_anisotropic_ou_eigenvalues():
    k1, k2, D = 1.0, 2.5, 0.3
    s1, s2 = np.sqrt(D / k1), np.sqrt(D / k2)
    # h/sd ≈ 0.05 per axis: relative eigenvalue error ~(h/sd)²/12 ≈ 2e-4 (cf. 1D test)
    g = fp.Grid([(-8 * s1, 8 * s1), (-8 * s2, 8 * s2)], (320, 320))
    m = fp.FokkerPlanck(g, potential=lambda x, y: 0.5 * (k1 * x ** 2 + k2 * y ** 2), diffusion=D)
    vals = m.eigenvalues(5)
    ref = np.sort([a * k1 + b * k2 for a in range(4) for b in range(3)])[:5]
    np.testing.assert_allclose(vals[1:], ref[1:], rtol=1e-3)


def _mfpt_quadrature(dU, D, left, x0, target):
    """E τ(x0 → target), reflecting at left < x0 < target; constant D (THEORY §1 formula)."""
    phi = lambda y: integrate.quad(lambda s: dU(s) / D, x0, y)[0]
    inner = lambda y: integrate.quad(lambda z: np.exp(-phi(z)) / D, left, y, limit=200)[0]
    return integrate.quad(lambda y: np.exp(phi(y)) * inner(y), x0, target, limit=200)[0]


@pytest.mark.parametrize("D, tol", [(1 / 24, 0.05), (1 / 40, 0.02)])
def test_double_well_gap_against_mfpt_quadrature(D, tol):
    """λ₁ ≈ 2/E[τ(−1 → +1)] for a symmetric double well; the relative gap is
    O(relaxation time / τ), which shrinks with the barrier ΔU/D (6, then 10 here)."""
    U = lambda x: (x ** 2 - 1) ** 2 / 4
    dU = lambda x: x ** 3 - x
    g = fp.Grid([(-2.2, 2.2)], 600)
    lam1 = fp.FokkerPlanck(g, potential=U, diffusion=D).spectral_gap()
    tau = _mfpt_quadrature(dU, D, -2.2, -1.0, 1.0)
    assert lam1 * tau / 2 == pytest.approx(1.0, rel=tol)


def test_spatial_order_of_spectral_gap_with_state_dependent_diffusion():
    """Observed order from three resolutions (Richardson), no reference needed."""
    U = lambda x, y: (x ** 2 - 1) ** 2 / 4 + 0.5 * y ** 2 + 0.2 * x * y
    D = lambda x, y: 0.3 * (1 + 0.3 * np.cos(x) * np.sin(y) + 0.2 * x ** 2 / (1 + x ** 2))
    lams = []
    for n in (48, 96, 192):  # 24² is pre-asymptotic (order 1.66 from 24/48/96)
        g = fp.Grid([(-2.4, 2.4), (-2.4, 2.4)], n)
        lams.append(fp.FokkerPlanck(g, potential=U, diffusion=D).spectral_gap())
    order = np.log2((lams[0] - lams[1]) / (lams[1] - lams[2]))
    assert 1.8 <= order <= 2.2


def test_non_reversible_spectrum_against_dense_eigensolver():
    """Rotational drift: complex eigenvalues; a dense eigensolver is the independent reference."""
    g = fp.Grid([(-2, 2), (-2, 2)], 16)
    m = fp.FokkerPlanck(g, drift=lambda x, y: (-x + 1.5 * y, -y - 1.5 * x), diffusion=0.5)
    vals = m.eigenvalues(4)
    dense = np.linalg.eigvals(-m.generator().toarray())
    dense = dense[np.argsort(dense.real)][:4]
    assert np.iscomplexobj(vals)
    np.testing.assert_allclose(np.sort(vals.real), np.sort(dense.real), atol=1e-9)
    np.testing.assert_allclose(np.sort(np.abs(vals.imag)), np.sort(np.abs(dense.imag)), atol=1e-9)


def test_unresolvable_metastable_gap_warns_and_mfpt_still_works():
    """ΔU/D = 40: λ₁ ≈ 1e-18 × max rate is below the eigensolver's ε-level floor, so it must
    warn; the MFPT (fpsolve.escape) still matches the log-space quadrature."""
    g = fp.Grid([(-2.0, 2.0)], 400)
    D = 1 / 160
    m = fp.FokkerPlanck(g, potential=lambda x: (x ** 2 - 1) ** 2 / 4, diffusion=D)
    with pytest.warns(RuntimeWarning, match="cannot resolve"):
        m.spectral_gap()
    x0 = g.axes[0][np.argmin(np.abs(g.axes[0] + 1))]
    c = g.axes[0][np.argmin(np.abs(g.axes[0] - 1))]
    tau = m.mean_first_passage_time(lambda x: x >= c).at(x0)
    ref = fp.theory.mfpt_1d(x0, c, -2.0, potential_derivative=lambda x: x ** 3 - x, diffusion=D)
    assert tau == pytest.approx(ref.mean, rel=2e-3)  # O(h²) at h = 0.01
