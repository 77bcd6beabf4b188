"""Independent references for the escape tests: exact discrete answers by dense (or tridiagonal)
linear algebra on the model's generator, written with numpy/scipy only."""
import numpy as np
import scipy.linalg as sla


def killed_rates(model, removed):
    """(A, kept): A = −L restricted to the kept cells (dense), from the model's generator."""
    removed = np.asarray(removed, dtype=bool).ravel()
    kept = np.flatnonzero(~removed)
    L = model.generator().toarray()
    return -L[np.ix_(kept, kept)], kept


def symmetric_killed_eigen(model, removed, k=1):
    """(k smallest eigenvalues of −L_S, kept cells) for a reversible model, by the symmetrised
    dense eigenproblem S_ij = −sqrt(r_ij r_ji) (absolute error ~ε‖S‖)."""
    A, kept = killed_rates(model, removed)
    off = A.copy()
    np.fill_diagonal(off, 0.0)
    S = -np.sqrt(off * off.T) + np.diag(np.diag(A))
    return np.linalg.eigvalsh(S)[:k], kept


def tridiagonal_killed_eigenvalue(model, removed):
    """Smallest eigenvalue of −L_S for a reversible 1D model whose kept cells are contiguous,
    by bisection on the symmetrised tridiagonal matrix (scipy's eigh_tridiagonal)."""
    removed = np.asarray(removed, dtype=bool).ravel()
    kept = np.flatnonzero(~removed)
    assert np.all(np.diff(kept) == 1), "kept cells must be contiguous"
    L = model.generator().tocsr()
    d = -L.diagonal()[kept]
    up = L.diagonal(-1)[kept[:-1]]  # L[i+1, i] = rate i → i+1
    dn = L.diagonal(1)[kept[:-1]]   # L[i, i+1] = rate i+1 → i
    e = -np.sqrt(up * dn)
    return float(sla.eigh_tridiagonal(d, e, eigvals_only=True, select="i",
                                      select_range=(0, 0))[0])
