"""The eigenvalue warning fires exactly where the answer is inaccurate (issue 19, audit of
`eigenvalues` near its resolution limit).

Reference: the eigenvalues of the model's own 1D chain to full *relative* accuracy, independently
of ARPACK. A birth–death generator with rates u_k = r(k→k+1), d_k = r(k+1→k) is similar to
S = GᵀG with G the (n−1)×n bidiagonal of entries √u_k, −√d_k, so λ_j = σ_j(G)². The singular
values of a bidiagonal are determined to high relative accuracy by its entries, and bisection
with the Sturm count of the Golub–Kahan tridiagonal (zero diagonal, off-diagonals √u₀, √d₀,
√u₁, …) computes them so (Demmel & Kahan, SIAM J. Sci. Stat. Comput. 11, 873 (1990), §5): each
step of the count recurrence has relative errors only, so a metastable λ₁ = e^(−40) of the
largest rate comes out with relative error ~1e-14 where the eigensolver's is 100 %.
"""
import warnings

import numpy as np
import pytest

import fpsolve as fp
from fpsolve.numerics.spectrum import RTOL


def chain_eigenvalues(model, ks, iters=120):
    """λ_k (k = 1, 2, …) of −L of a 1D model's chain to high relative accuracy (module doc)."""
    lu = model.rates.log_fwd[0][:-1]  # log r(k → k+1), k = 0 … n−2
    ld = model.rates.log_bwd[0][:-1]  # log r(k+1 → k)
    e2 = np.exp(np.ravel(np.column_stack([lu, ld])))  # squared couplings √u₀, √d₀, √u₁, …
    m = lu.size

    def n_above(x):  # number of singular values of G above x > 0 (vectorised over x)
        q = np.array(x, dtype=float)
        count = np.zeros(q.shape, dtype=int)
        for c in e2:
            q = x - c / np.where(q == 0.0, 1e-300, q)
            count += q < 0
        return count

    out = []
    for k in ks:  # the k-th smallest nonzero σ: #(σ > x) drops from m − k + 1 to m − k
        lo, hi = np.log(1e-300), 0.5 * np.log(4.0 * e2.max())
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            if n_above(np.exp(mid)) >= m - k + 1:
                lo = mid
            else:
                hi = mid
        out.append(np.exp(lo + hi))
    return np.array(out)


def _double_well(barrier, n=200):
    g = fp.Grid([(-2.0, 2.0)], n)
    return fp.FokkerPlanck(g, potential=lambda x: (x ** 2 - 1) ** 2 / 4, diffusion=0.25 / barrier)


def test_reference_matches_a_dense_eigensolver_where_both_are_accurate():
    m = _double_well(4.0, n=60)
    dense = np.sort(np.linalg.eigvalsh(
        -m.rates.generator(psi=0.5 * m.rates.reference_log_density()[0]).toarray()))
    # dense symmetric eigensolver: absolute error ~ε‖S‖ ≈ 1e-13 here, λ ≥ 7e-3
    np.testing.assert_allclose(chain_eigenvalues(m, [1, 2, 3]), dense[1:4], rtol=1e-10)


@pytest.mark.parametrize("barrier", [4.0, 8.0, 12.0, 20.0, 24.0, 28.0, 34.0, 40.0])
def test_warning_exactly_where_the_eigenvalue_is_inaccurate(barrier):
    """ΔU/D from 4 to 40: λ₁ from 7e-3 down to 2e-18 (max rate 4e2 … 4e3)."""
    m = _double_well(barrier)
    ref = chain_eigenvalues(m, [1, 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vals, _, est = fp.numerics.spectrum.smallest_eigenvalues(m.rates, 3, return_errors=True)
    warned = any("may be inaccurate" in str(w.message) for w in caught)
    err = np.abs(vals[1:] / ref - 1)
    # the estimate bounds the error relative to the computed value (the residual bounds the
    # absolute error of a symmetric eigenvalue; measured 0.003–0.4 of it for λ₁, module doc)
    assert np.all(np.abs(vals[1:] - ref) <= est[1:] * np.abs(vals[1:])), (err, est)
    # no warning ⇒ every eigenvalue accurate to RTOL; an eigenvalue worse than RTOL ⇒ warning
    if not warned:
        assert np.all(err <= RTOL)
    if np.any(err > RTOL):
        assert warned
    # and the estimate is not vacuous: within a factor 1000 of the true error when it warns
    if warned:
        assert est[1] < 1e3 * max(err[0], 1e-16)
    # clearly accurate cases (ΔU/D ≤ 12: errors ≤ 2e-9) must not warn
    if barrier <= 12.0:
        assert not warned and err.max() < 1e-8
