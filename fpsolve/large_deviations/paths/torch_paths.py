r"""gMAM in torch: the action and its exact gradient by automatic differentiation, for drifts and
diffusions given as torch functions — in particular a network's −∇L and its gradient-noise
covariance, in the full parameter space.

:class:`TorchDynamics` is a :class:`~fpsolve.large_deviations.Dynamics` whose b and D are torch
functions of a batch of points X (n, d) (device and dtype follow ``dtype``/``device``; float64
by default). D is given either densely (a constant (d, d) tensor or a callable returning
(n, d, d)) or, for large d, as a low-rank factor plus a floor,

    D(x) = F(x)ᵀ F(x) + δ I,      F(x) of shape (r, d),  δ = ``floor`` > 0,

whose inverse is applied by the Woodbury identity, D⁻¹u = (u − Fᵀ(δI_r + FFᵀ)⁻¹F u)/δ: an
r × r Cholesky factorisation per point, never a d × d matrix. (For the gradient-noise covariance
of a network r = N samples; the floor raises the d − r null directions, where D is singular, to
δ, and shifts the others by δ.) Round-off: the Woodbury form loses about log10(λ_max/δ) digits
of the D⁻¹-norm of a vector lying in the range of F; with δ ≥ 1e-8 λ_max that is harmless.

The gMAM iteration itself (:func:`~fpsolve.large_deviations.minimum_action_path`) is shared with
the numpy version: this module supplies :meth:`TorchDynamics.action_state` — the discrete action
with the midpoint rule, its gradient by autograd (exact, no finite differences), λⱼ, D gⱼ, and the
cone curvature ‖JᵀMJ‖ at the midpoints by three warm-started power iterations with
Jacobian-vector products (``torch.func.jvp``/``vjp``). Critical points are refined by Newton's
method with the dense Jacobian (``torch.func.jacfwd``), which is fine up to d of a few thousand.

:func:`network_dynamics` builds the SGD dynamics of a network: b = −∇L(θ) and
D(θ) = (η/2)·c_B·Σ₁(θ) + δI with Σ₁ the per-sample gradient covariance (1/N normalisation,
:mod:`fpsolve.nets.minibatch_noise`), c_B = 1/B with replacement or (N − B)/((N − 1)B) without, time
t = k·η. The action is then the escape exponent at this learning rate (τ ≍ exp(S)); it scales
as 1/η when δ does.
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch.func import grad, jacfwd, jvp, vjp, vmap

try:  # optional (installed with the torch extra): BLAS threads during a path iteration
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

from ...errors import InputError, SolverError
from ...nets import Objective, minibatch_factor
from ..dynamics import Dynamics
from .action import ActionState
from .gmam import minimum_action_path

POWER_STEPS = 3          # power iterations per refresh of the cone curvature (warm-started)
CONE_EVERY = 10          # calls between refreshes of the cone curvature
MAX_DENSE_D = 6000       # dense d × d matrices (Jacobians for Newton, D for checks) up to this d


class _DenseMetric:
    """D given as (n, d, d) tensors."""

    def __init__(self, D):
        self.D = D
        self.L = torch.linalg.cholesky(D)

    def solve(self, u):                     # D⁻¹ u, u (n, d)
        return torch.cholesky_solve(u[..., None], self.L)[..., 0]

    def inner(self, u, v):                  # uᵀ D⁻¹ v per point
        return (u * self.solve(v)).sum(-1)

    def apply(self, u):                     # D u
        return (self.D @ u[..., None])[..., 0]

    def norm(self):                         # ‖D‖_F per point
        return torch.linalg.matrix_norm(self.D)

    def take(self, sl):                     # the metric at a subset of the points
        out = _DenseMetric.__new__(_DenseMetric)
        out.D, out.L = self.D[sl], self.L[sl]
        return out

    def detach(self):
        out = _DenseMetric.__new__(_DenseMetric)
        out.D, out.L = self.D.detach(), self.L.detach()
        return out


class _ScalarMetric:
    """D = c·I (whitened coordinates): no factorisation at all."""

    def __init__(self, c, n, like):
        self.c = float(c)
        self.n = n
        self.like = like

    def solve(self, u):
        return u / self.c

    def inner(self, u, v):
        return (u * v).sum(-1) / self.c

    def apply(self, u):
        return self.c * u

    def norm(self):
        return torch.full((self.n,), self.c, dtype=self.like.dtype, device=self.like.device)

    def take(self, sl):
        return _ScalarMetric(self.c, len(range(self.n)[sl]), self.like)

    def detach(self):
        return self


class _LowRankMetric:
    """D = FᵀF + δI with F (n, r, d); D⁻¹ by the Woodbury identity."""

    def __init__(self, F, floor):
        self.F = F
        self.floor = floor
        r = F.shape[-2]
        K = F @ F.transpose(-1, -2) + floor * torch.eye(r, dtype=F.dtype, device=F.device)
        self.L = torch.linalg.cholesky(K)

    def solve(self, u):
        Fu = (self.F @ u[..., None])
        z = torch.cholesky_solve(Fu, self.L)
        return (u - (self.F.transpose(-1, -2) @ z)[..., 0]) / self.floor

    def inner(self, u, v):
        Fu = self.F @ u[..., None]
        Fv = self.F @ v[..., None]
        z = torch.cholesky_solve(Fv, self.L)
        return ((u * v).sum(-1) - (Fu * z).sum((-1, -2))) / self.floor

    def apply(self, u):
        return (self.F.transpose(-1, -2) @ (self.F @ u[..., None]))[..., 0] + self.floor * u

    def norm(self):                         # an upper bound on the largest eigenvalue
        return (self.F ** 2).sum((-1, -2)) + self.floor

    def take(self, sl):
        out = _LowRankMetric.__new__(_LowRankMetric)
        out.F, out.L, out.floor = self.F[sl], self.L[sl], self.floor
        return out

    def detach(self):
        out = _LowRankMetric.__new__(_LowRankMetric)
        out.F, out.L, out.floor = self.F.detach(), self.L.detach(), self.floor
        return out


class TorchDynamics(Dynamics):
    """dX = b dt + sqrt(2εD) dW with b and D as torch functions (see the module docstring).

    Parameters
    ----------
    ndim : d.
    drift : callable X (n, d) tensor → b (n, d) tensor, differentiable (autograd and torch.func).
    diffusion : a constant (d, d) SPD tensor/array, or a callable X → (n, d, d); or
    factor : a callable X → F (n, r, d) with D = FᵀF + floor·I (needs ``floor`` > 0).
    floor : eigenvalue floor δ (required with ``factor``: the null space of FᵀF).
    dtype, device : of every computation (float64, CPU by default).
    """

    def __init__(self, ndim, drift, *, diffusion=None, factor=None, floor=None,
                 dtype=torch.float64, device=None):
        if not callable(drift):
            raise InputError("TorchDynamics: drift must be a callable X (n, d) → (n, d) tensor.")
        if (diffusion is None) == (factor is None):
            raise InputError("TorchDynamics: give exactly one of diffusion= (dense D) and "
                             "factor= (D = FᵀF + floor·I).")
        if factor is not None and not (floor is not None and float(floor) > 0):
            raise InputError(f"TorchDynamics: a low-rank factor needs floor= > 0 (D = FᵀF is "
                             f"singular on the d − r directions outside the range of F); got "
                             f"floor={floor!r}. Choose δ well below the noise eigenvalues that "
                             f"matter, e.g. 1e-3 × their typical size, and check that the action "
                             f"does not depend on it.")
        self.ndim = int(ndim)
        self.dtype = dtype
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.torch_drift = drift
        self.factor = factor
        self.floor = None if floor is None else float(floor)
        self.potential = self.gradient = self.jacobian = None
        self.drift = drift
        self._D_const = None
        self._scalar = None
        if isinstance(diffusion, (int, float)) and not isinstance(diffusion, bool):
            if not diffusion > 0:
                raise InputError(f"TorchDynamics: a scalar diffusion must be > 0; got {diffusion}.")
            self._scalar = float(diffusion)
        elif diffusion is not None and not callable(diffusion):
            D = torch.as_tensor(np.asarray(diffusion, dtype=float), dtype=dtype,
                                device=self.device)
            if D.shape != (self.ndim, self.ndim):
                raise InputError(f"TorchDynamics: a constant diffusion must be ({ndim}, {ndim}); "
                                 f"got {tuple(D.shape)}.")
            self._D_const = D
        self.torch_diffusion = diffusion
        self.constant_diffusion = False
        self._cone_vectors = None
        self._memo = {}

    # -- torch side ------------------------------------------------------------------------------
    def threads(self):
        """Numpy's BLAS limited to the calling thread while a path iterates (threadpoolctl).

        Each gMAM step alternates torch (the action and its gradient, in torch's OpenMP pool)
        with numpy (the step, on (P, d) arrays: small BLAS calls). Both pools spin-wait after
        their calls, and on a machine with few cores each then waits for the other's spinning
        threads: on 2 cores a d = 1013 network's action evaluation took 65–91 ms between numpy
        calls against 27 ms alone, and 31 ms with numpy's BLAS on one thread (measured). Torch
        keeps its own thread count. Without threadpoolctl nothing changes.
        """
        if threadpool_limits is None:  # pragma: no cover
            return contextlib.nullcontext()
        return threadpool_limits(limits=1, user_api="blas")

    def tensor(self, X):
        return torch.as_tensor(np.asarray(X, dtype=float) if not torch.is_tensor(X) else X,
                               dtype=self.dtype, device=self.device)

    def metric(self, X):
        """The metric object (solve, inner, apply, norm) of D at points X (n, d) tensor."""
        if self.factor is not None:
            return _LowRankMetric(self.factor(X), self.floor)
        if self._scalar is not None:
            return _ScalarMetric(self._scalar, X.shape[0], X)
        if self._D_const is not None:
            return _DenseMetric(self._D_const.expand(X.shape[0], -1, -1))
        D = self.torch_diffusion(X)
        if self.floor is not None:
            w, V = torch.linalg.eigh(0.5 * (D + D.transpose(-1, -2)))
            D = (V * torch.clamp(w, min=self.floor)[..., None, :]) @ V.transpose(-1, -2)
        return _DenseMetric(D)

    # -- numpy side (endpoint checks, critical points) ---------------------------------------------
    def drift_at(self, X) -> np.ndarray:
        X = self.as_points(X)
        with torch.no_grad():
            b = self.torch_drift(self.tensor(X))
        out = b.detach().cpu().numpy().astype(float)
        if not np.all(np.isfinite(out)):
            raise InputError("drift is not finite at some of the points given.")
        return out

    def jacobian_at(self, X) -> np.ndarray:
        X = self.as_points(X)
        if self.ndim > MAX_DENSE_D:
            raise InputError(f"jacobian_at: d = {self.ndim} is too large for a dense Jacobian "
                             f"(limit {MAX_DENSE_D}); give exact critical points.")
        f = lambda x: self.torch_drift(x[None])[0]  # noqa: E731 (one point)
        J = vmap(jacfwd(f))(self.tensor(X))
        return J.detach().cpu().numpy().astype(float)

    def diffusion_at(self, X, check=True) -> np.ndarray:
        X = self.as_points(X)
        if self.ndim > MAX_DENSE_D:
            raise InputError(f"diffusion_at: d = {self.ndim} is too large for dense D.")
        with torch.no_grad():
            m = self.metric(self.tensor(X))
            eye = torch.eye(self.ndim, dtype=self.dtype, device=self.device)
            if isinstance(m, _LowRankMetric):
                D = m.F.transpose(-1, -2) @ m.F + m.floor * eye
            elif isinstance(m, _ScalarMetric):
                D = (m.c * eye).expand(len(X), -1, -1)
            else:
                D = m.D
        return D.cpu().numpy().astype(float)

    def metric_at(self, X):
        D = self.diffusion_at(X)
        return np.linalg.inv(D), D

    # -- the action and what the gMAM step needs --------------------------------------------
    def action_state(self, path) -> ActionState:
        """The discrete geometric action of ``path`` (P, d) and its autograd gradient, with λ,
        D g, ‖D‖ at the interior points and the cone curvature per segment (numpy arrays out).

        D is evaluated at the midpoints only (one factorisation per segment, with the graph for
        the gradient); at an interior point the preconditioner uses the mean of its two
        segments' metrics (λⱼ, D gⱼ: only the preconditioner, so the fixed points are exact).
        The cone curvature costs Jacobian-vector products and is refreshed every
        ``CONE_EVERY`` calls (warm-started power iteration)."""
        P = len(path)
        X = self.tensor(path).detach().requires_grad_(True)
        delta = X[1:] - X[:-1]
        mid = 0.5 * (X[1:] + X[:-1])
        b = self.torch_drift(mid)
        met = self.metric(mid)
        c = torch.sqrt(torch.clamp(met.inner(delta, delta), min=0.0))
        beta = torch.sqrt(torch.clamp(met.inner(b, b), min=0.0))
        s = torch.clamp(c * beta - met.inner(delta, b), min=0.0)
        S = 0.5 * s.sum()
        (g,) = torch.autograd.grad(S, X)
        g = g.detach()
        with torch.no_grad():
            md = met.detach()
            left, right = md.take(slice(0, P - 2)), md.take(slice(1, P - 1))
            bn = self.torch_drift(X[1:-1].detach())
            dphi = (X[2:] - X[:-2]).detach() * (P - 1) / 2.0
            nb = 0.5 * (left.inner(bn, bn) + right.inner(bn, bn))
            nphi = 0.5 * (left.inner(dphi, dphi) + right.inner(dphi, dphi))
            lam = torch.sqrt(torch.clamp(nb, min=0.0) / torch.clamp(nphi, min=1e-300))
            gi = g[1:-1]
            Dg = 0.5 * (left.apply(gi) + right.apply(gi))
            Dnorm = 0.5 * (left.norm() + right.norm())
        cone = self._cone(mid.detach(), md, c.detach(), beta.detach())
        to = lambda t: t.detach().cpu().numpy().astype(float)  # noqa: E731
        return ActionState(float(S.detach()), to(s), to(g), to(lam), to(Dg), to(Dnorm), cone)

    def _cone(self, mid, met, c, beta):
        """c·λ_max(JᵀMJ)/β per midpoint by warm-started power iteration (J = ∂b/∂x), the
        eigenvalue refreshed every CONE_EVERY calls (positions change slowly between)."""
        n, d = mid.shape
        fresh = self._cone_vectors is None or self._cone_vectors.shape != mid.shape
        self._calls = 0 if fresh else self._calls + 1
        if fresh:
            gen = torch.Generator(device="cpu").manual_seed(0)
            self._cone_vectors = torch.randn(n, d, generator=gen, dtype=self.dtype).to(
                self.device)
        if fresh or self._calls % CONE_EVERY == 0:
            u = self._cone_vectors / torch.linalg.vector_norm(self._cone_vectors, dim=1,
                                                              keepdim=True)
            _, pullback = vjp(self.torch_drift, mid)
            for _ in range(POWER_STEPS if not fresh else 3 * POWER_STEPS):
                Ju = jvp(self.torch_drift, (mid,), (u,))[1]
                w = pullback(met.solve(Ju))[0]          # Jᵀ M J u
                lam = torch.linalg.vector_norm(w, dim=1)
                u = w / torch.clamp(lam, min=1e-300)[:, None]
            self._cone_vectors = u.detach()
            self._cone_lambda = lam.detach()
        out = c * self._cone_lambda / torch.clamp(beta, min=1e-300 + 1e-12 * float(beta.max()))
        return out.detach().cpu().numpy().astype(float)


def network_dynamics(model, data=None, *, lr: float, batch_size: int, floor: float,
                     replacement: bool = True, loss=None, state_dependent: bool = True,
                     theta=None, weight_decay: float = 0.0) -> TorchDynamics:
    """The SGD dynamics of a network in its full parameter space, for gMAM.

    b(θ) = −∇L(θ) − λθ,  D(θ) = (η/2)·c_B·Σ₁(θ) + δI  (Woodbury form, rank ≤ N),

    λ = ``weight_decay`` (deterministic, so it does not enter the noise). With fewer samples
    than parameters the minima of L alone form flat valleys (the Hessian is singular along
    them) and are not isolated critical points; a small λ makes them isolated.

    with Σ₁ the per-sample gradient covariance (:mod:`fpsolve.nets.minibatch_noise`), c_B = 1/B
    (``replacement=True``) or (N − B)/((N − 1)B). ``floor`` is δ (units θ² per unit time, like
    D; required: Σ₁ has rank ≤ N − 1 < d). ``state_dependent=False`` freezes Σ₁ at ``theta``
    (default: the model's parameters). ``model``/``data``/``loss`` as for
    :class:`fpsolve.nets.Objective` (or pass an Objective and data=None). Time t = k·η.
    """
    obj = model if isinstance(model, Objective) else Objective(model, data, loss)
    if not lr > 0:
        raise InputError(f"network_dynamics: lr must be > 0; got {lr!r}.")
    N = obj.n_samples
    scale = 0.5 * lr * minibatch_factor(N, batch_size, replacement)
    Xd, Yd = obj.X, obj.Y
    per_sample = vmap(grad(obj.sample_loss), in_dims=(None, 0, 0))

    wd = float(weight_decay)

    def drift(T):
        return -vmap(grad(obj.loss))(T) - wd * T

    def factor_at(T):
        G = vmap(lambda t: per_sample(t, Xd, Yd))(T)          # (n, N, d)
        return (G - G.mean(1, keepdim=True)) * np.sqrt(scale / N)

    if state_dependent:
        factor = factor_at
    else:
        F0 = factor_at(obj.theta(theta)[None])[0].detach()

        def factor(T):
            return F0.expand(T.shape[0], -1, -1)

    dyn = TorchDynamics(obj.n_params, drift, factor=factor, floor=floor, dtype=obj.dtype)
    dyn.objective = obj
    dyn.noise_scale = scale
    if not state_dependent:
        dyn.whitening = _Whitening(F0, float(floor))
    return dyn


class _Whitening:
    """ψ = W θ with W = D̄^(−1/2) for a constant D̄ = F₀ᵀF₀ + δI (thin SVD of F₀, rank ≤ N):
    in ψ the diffusion is the identity."""

    def __init__(self, F0, floor):
        _, sv, Vh = torch.linalg.svd(F0, full_matrices=False)
        self.V = Vh.T                               # (d, r) orthonormal
        self.up = torch.sqrt(sv ** 2 + floor)       # D̄^(1/2) on the range of F₀ᵀ
        self.root = float(np.sqrt(floor))           # D̄^(1/2) = √δ off it

    def _apply(self, X, range_scale, off_scale):
        P = X @ self.V
        return off_scale * (X - P @ self.V.T) + (P * range_scale) @ self.V.T

    def to_white(self, X):                          # ψ = D̄^(−1/2) θ
        return self._apply(X, 1.0 / self.up, 1.0 / self.root)

    def from_white(self, X):                        # θ = D̄^(1/2) ψ
        return self._apply(X, self.up, self.root)


def whitened_path(dyn, start, end, **kw):
    """Minimum-action path of a network with frozen noise (``network_dynamics(...,
    state_dependent=False)``) computed in the coordinates ψ = D̄^(−1/2)θ, where D̄ is the
    identity: the action is invariant under the linear change of variables, and gMAM's
    preconditioner, built for a nearly isotropic D, converges in a number of steps that no longer
    grows with the condition number of D̄ (10⁴ and more for a gradient covariance with a small
    floor). Keyword arguments go to :func:`~fpsolve.large_deviations.minimum_action_path`
    (waypoints ``initial`` in parameter coordinates θ, like the endpoints); the returned path,
    endpoints and saddle are in θ too, and so is the path a SolverError carries."""
    W = getattr(dyn, "whitening", None)
    if W is None:
        raise InputError("whitened_path: the dynamics has no constant noise to whiten; build it "
                         "with network_dynamics(..., state_dependent=False).")
    t = lambda x: torch.as_tensor(np.asarray(x, float), dtype=dyn.dtype,   # noqa: E731
                                  device=dyn.device)
    # ψ̇ = W θ̇ = W b(W⁻¹ψ), and the noise W·sqrt(2εD̄) has covariance 2εI
    white = TorchDynamics(dyn.ndim, lambda Y: W.to_white(dyn.torch_drift(W.from_white(Y))),
                          diffusion=1.0, dtype=dyn.dtype, device=dyn.device)
    if kw.get("initial") is not None:   # waypoints are given in θ, like the endpoints
        kw["initial"] = W.to_white(t(np.atleast_2d(kw["initial"]))).cpu().numpy()
    back = lambda Y: W.from_white(t(Y)).cpu().numpy()  # noqa: E731

    def to_theta(res):
        res.path = back(res.path)
        res.start, res.end = back(res.start[None])[0], back(res.end[None])[0]
        if res.saddle is not None:
            res.saddle = back(res.saddle[None])[0]
        res.info["coordinates"] = "computed in ψ = D̄^(−1/2)θ, returned in θ"
        return res

    try:
        res = minimum_action_path(white, W.to_white(t(start)[None])[0].cpu().numpy(),
                                  W.to_white(t(end)[None])[0].cpu().numpy(), **kw)
    except SolverError as err:   # the unconverged path it carries is in θ too
        if getattr(err, "result", None) is not None:
            to_theta(err.result)
        raise
    return to_theta(res)
