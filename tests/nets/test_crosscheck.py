"""fpsolve.nets.crosscheck on a linear model with mean-square loss: the loss is exactly quadratic
in θ, so the reduced model is quadratic with constant (frozen) noise and every stationary
covariance has a closed form computed here in numpy, independently of fpsolve:

* SDE (PDE):  H Σ + Σ H = 2D                     (continuous Lyapunov equation)
* EM / SGD with step τ: Σ = A Σ Aᵀ + 2Dτ, A = I − τH   (discrete Lyapunov, summed as a series)

with H the Hessian restricted to its top-2 eigenvectors V and D = (η/2)·Vᵀ Σ₁ V / B from the
least-squares residuals."""
import importlib
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="fpsolve.nets needs the optional torch extra")
pytestmark = pytest.mark.torch

from fpsolve import InputError  # noqa: E402
from fpsolve import nets  # noqa: E402
from fpsolve.nets.cross_check import CrossCheck, crosscheck  # noqa: E402

cc_module = importlib.import_module("fpsolve.nets.cross_check.run")  # where the work starts

N, N_IN = 64, 3
LR, B = 0.1, 8


@pytest.fixture(scope="module")
def linear():
    """Linear regression f = w·x + b, L = (1/2N) Σ (f − y)², at its least-squares minimum; the
    reference H, Σ₁ in numpy."""
    data = nets.teacher_student(n=N, n_features=N_IN, hidden=(5,), n_outputs=1, noise=0.3,
                                seed=0)
    X, Y = data.X.numpy(), data.y.numpy()[:, 0]
    Xt = np.hstack([X, np.ones((N, 1))])                       # θ = (w, b): nn.Linear order
    theta = np.linalg.lstsq(Xt, Y, rcond=None)[0]
    model = nets.set_flat_parameters(nets.mlp([N_IN, 1], seed=1), theta)
    H = Xt.T @ Xt / N
    G = Xt * (Xt @ theta - Y)[:, None]                          # per-sample gradients
    Sigma1 = (G - G.mean(0)).T @ (G - G.mean(0)) / N
    w, U = np.linalg.eigh(H)
    V = U[:, ::-1][:, :2]
    Hr, Sr = V.T @ H @ V, V.T @ Sigma1 @ V
    D = 0.5 * LR * Sr / B
    return dict(data=data, model=model, Hr=Hr, D=D, V=V)


def _lyap(Hr, D):
    """HΣ + ΣH = 2D in the eigenbasis of H (Hr is diagonal up to round-off here)."""
    h = np.diag(Hr)
    return 2 * D / (h[:, None] + h[None, :])


def _lyap_discrete(Hr, D, tau, n=20000):
    """Σ = Σ_j A^j (2Dτ) A^jᵀ, A = I − τH, summed until the terms are below round-off."""
    A = np.eye(len(Hr)) - tau * Hr
    S, T = np.zeros_like(D), 2 * D * tau
    for _ in range(n):
        S = S + T
        T = A @ T @ A.T
        if np.abs(T).max() < 1e-18 * np.abs(S).max():
            break
    return S


@pytest.fixture(scope="module")
def result(linear):
    return crosscheck(linear["model"], linear["data"], lr=LR, batch_size=B, k=2,
                      n_particles=512, n_chains=512, grid_cells=41, burn_in=4.0, window=10.0,
                      n_snapshots=6, seed=0, device="cpu")


def test_reduced_slice_is_the_top_hessian_pair(linear, result):
    # the slice spans the top-2 eigenvectors of H (up to sign): |VᵀV_ref| = I to round-off
    r = result
    assert r.k == 2 and r.n_params == N_IN + 1
    np.testing.assert_allclose(r.reduced_hessian, linear["Hr"], atol=1e-10)
    np.testing.assert_allclose(r.diffusion, linear["D"], rtol=1e-9)


def test_pde_covariance_is_the_lyapunov_solution(linear, result):
    r = result
    ref = _lyap(linear["Hr"], linear["D"])
    # Tolerance 1e-4 relative: the grid (41 cells over ±6σ) error estimated by refinement is
    # ~3e-6 relative and the truncation of the Gaussian at 6σ ~1e-8; an O(h) scheme or a
    # convention error (Itô vs isothermal, factor 2 in D) would be ≥ 1e-2.
    scale = np.abs(np.diag(ref)).max()
    np.testing.assert_allclose(r.pde_cov, ref, rtol=0, atol=1e-4 * scale)
    assert np.all(r.pde_grid_error < 1e-4 * scale)
    np.testing.assert_allclose(r.pde_mean, 0.0, atol=1e-6 * np.sqrt(scale))   # symmetric law
    np.testing.assert_allclose(r.lyapunov_cov, ref, rtol=1e-9, atol=1e-12 * scale)


def test_particles_match_the_discrete_lyapunov_covariance(linear, result):
    r = result
    # EM with step dt on a quadratic is the linear recursion whose stationary covariance is the
    # discrete Lyapunov solution — exact, so the only error is statistical: 4 standard errors
    # (512 independent particles, each averaged over 6 snapshots), plus the reflecting walls at
    # 6σ (~1e-8 relative).
    ref = _lyap_discrete(linear["Hr"], linear["D"], r.particle_dt)
    z = (r.particle_cov - ref) / r.particle_cov_se
    assert np.all(np.abs(z) <= 4.0), z
    assert np.all(np.abs(r.particle_mean) <= 4.0 * r.particle_mean_se)  # exact mean 0
    assert r.particles_agree
    # the reported z-scores are the same comparison (PDE + the predicted dt-bias)
    np.testing.assert_allclose(r.particle_predicted_cov, ref, rtol=1e-4, atol=1e-4 * ref.max())


def test_sgd_agrees_after_the_eta_bias_and_not_before(linear, result):
    r = result
    # real SGD on the linear model: exactly the linear recursion with A = I − ηH plus mini-batch
    # noise whose covariance is Σ₁(θ)/B; at θ* that is the frozen D. The state dependence of
    # Σ₁(θ) adds O(η·|x|²/B) relative, below the ~1.7 % standard error here, so SGD must agree
    # with the discrete Lyapunov solution at τ = η within 4 standard errors ...
    ref = _lyap_discrete(linear["Hr"], linear["D"], LR)
    z = (r.sgd_cov - ref) / r.sgd_cov_se
    assert np.all(np.abs(z) <= 4.0), z
    assert r.sgd_agrees
    assert np.all(np.abs(r.ratio_gap) <= 4.0), r.ratio_gap
    np.testing.assert_allclose(r.bias_factor, 1 / (1 - LR * np.diag(linear["Hr"]) / 2),
                               rtol=1e-10)
    # ... while the uncorrected SDE answer is resolved as wrong: ηh ≈ 0.13 gives a 5–7 % bias,
    # several standard errors — the test can tell the corrected from the uncorrected model
    assert np.abs(CrossCheck._maxabs(r.sgd_z_uncorrected)) > 4.0
    # a wrong noise normalisation (e.g. B twice too small or large) would be ≫ 4 se away
    assert np.all(np.abs((r.sgd_cov - 2 * ref) / r.sgd_cov_se)[np.diag_indices(2)] > 10)


def test_summary_and_dict(result):
    r = result
    text = r.summary()
    for piece in ("PDE", "particles", "SGD", "1/(1 − ηh/2)", "cov[0,1]"):
        assert piece in text
    d = r.to_dict()
    json.dumps(d)                                     # plain types only
    assert d["particles_agree"] is True and len(d["variance_ratio"]) == 2


def _small(linear, **kw):
    args = dict(lr=LR, batch_size=B, k=1, n_particles=64, n_chains=8, grid_cells=21,
                burn_in=1.0, window=1.0, n_snapshots=2, device="cpu")
    args.update(kw)
    return crosscheck(linear["model"], linear["data"], **args)


def test_deterministic_under_seed(linear):
    a, b, c = _small(linear, seed=3), _small(linear, seed=3), _small(linear, seed=4)
    da, db, dc = (x.to_dict() for x in (a, b, c))
    for d in (da, db, dc):
        d.pop("timings")
    assert da == db
    assert da["particle_cov"] != dc["particle_cov"] and da["sgd_cov"] != dc["sgd_cov"]


def test_escape_box_k1(linear):
    # MFPT of the 1D OU process (quadratic slice) to |z| = c from 0, by quadrature (THEORY §1):
    # τ = ∫_0^c dy e^{U(y)/D} ∫_0^y e^{−U(z)/D} dz / D. The PDE must match it to the grid error
    # (O(h²), h = c/98: < 1e-3 relative); particles and SGD are monitored at step ends, so they
    # are compared with the PDE on a box widened by 0.5826·sqrt(2 D τ) (BGK) within 4 se.
    from scipy.integrate import quad

    r = _small(linear, k=1, escape=("box", 1.5), n_particles=400, n_chains=400, grid_cells=201,
               seed=1)
    h, D = float(r.reduced_hessian[0, 0]), float(r.diffusion[0, 0])
    c = 1.5 * np.sqrt(D / h)
    p = lambda z: np.exp(-h * z * z / (2 * D))  # noqa: E731
    ref = quad(lambda y: quad(p, 0, y)[0] / (D * p(y)), 0, c)[0]
    e = r.escape
    assert e["pde_mfpt"] == pytest.approx(ref, rel=1e-3)
    assert e["pde_mfpt_dt"] > e["pde_mfpt"]
    assert abs(e["particle_mfpt"] - e["pde_mfpt_dt"]) <= 4 * e["particle_mfpt_se"]
    assert e["particle_censored"] == 0 and e["sgd_censored"] == 0
    assert abs(e["particle_z"]) <= 4


@pytest.mark.parametrize("kw, match", [
    (dict(lr=-0.1), "lr"),
    (dict(lr=float("nan")), "lr"),
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=2.5), "batch_size"),
    (dict(k=3), "k must be 1 or 2"),
    (dict(escape="saddle"), "escape"),
    (dict(escape=("box", -1.0)), "escape level"),
    (dict(n_particles=0), "n_particles"),
    (dict(n_chains=1), "n_chains"),
    (dict(window=0), "window"),
    (dict(backend="jax"), "backend"),
    (dict(seed=-1), "seed"),
    (dict(device="no-such-device"), "device"),
    (dict(batch_size=N, replacement=False), "full-batch"),
])
def test_bad_arguments_raise_before_any_work(linear, monkeypatch, kw, match):
    def boom(*a, **k):
        raise AssertionError("work started before the arguments were checked")

    monkeypatch.setattr(cc_module, "reduced_model", boom)
    args = dict(lr=LR, batch_size=B)
    args.update(kw)
    with pytest.raises(InputError, match=match):
        crosscheck(linear["model"], linear["data"], **args)


def test_bad_model_and_data(linear, monkeypatch):
    monkeypatch.setattr(cc_module, "reduced_model", lambda *a, **k: 1 / 0)
    with pytest.raises(InputError, match="nn.Module"):
        crosscheck("net", linear["data"], lr=LR, batch_size=B)
    with pytest.raises(InputError, match="data is required"):
        crosscheck(linear["model"], None, lr=LR, batch_size=B)
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="CUDA"):
            crosscheck(linear["model"], linear["data"], lr=LR, batch_size=B, device="cuda")


def test_unstable_learning_rate_is_refused(linear):
    # η·h_max ≥ 2: the discrete chain has no stationary state (|1 − ηh| ≥ 1)
    h_max = np.linalg.eigvalsh(linear["Hr"]).max()
    with pytest.raises(InputError, match="unstable"):
        crosscheck(linear["model"], linear["data"], lr=2.1 / h_max, batch_size=B)
