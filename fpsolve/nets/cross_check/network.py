"""The network on a device, as functions of z (numpy or torch) and of many θ (SGD chains)."""
from __future__ import annotations

import copy

import torch
from torch.func import functional_call, grad, vmap

from ..objective import Objective
from ..reduced import ReducedLandscape

#: elements (points × samples × widest layer) evaluated in one vmapped call
BUDGET = 2 ** 22


class SliceNetwork:
    """The objective's network, data, θ* and V on ``device`` (float64): the loss on the slice
    θ* + V z as a function of z (numpy or torch, for the PDE and the particles) and of many θ
    (for the SGD chains)."""

    def __init__(self, obj: Objective, red: ReducedLandscape, device):
        self.obj, self.red = obj, red
        self.device = torch.device(device)
        self.dtype = torch.float64
        kw = dict(device=self.device, dtype=self.dtype)
        self.module = copy.deepcopy(obj.module).to(**kw).eval()
        self.buffers = {n: b.to(self.device) for n, b in obj.buffers.items()}
        self.X = obj.X.to(**kw)
        self.Y = obj.Y.to(**kw)
        self.ell = obj.ell
        self.theta_star = torch.as_tensor(red.theta_star, **kw)
        self.V = torch.as_tensor(red.directions, **kw)
        self.n = obj.n_samples
        self.chunk = max(1, BUDGET // max(1, self.n * obj.width()))

    def unflatten(self, theta):
        """θ (flat) as the network's named parameter tensors."""
        parts = torch.split(theta, self.obj.numels)
        return {n: p.view(s) for n, p, s in zip(self.obj.names, parts, self.obj.shapes)}

    def forward(self, theta, X):
        """The network's output at parameters θ on inputs X."""
        return functional_call(self.module, (self.unflatten(theta), self.buffers), (X,))

    def loss(self, theta, X, Y):
        """The mean loss on (X, Y) at θ."""
        return self.ell(self.forward(theta, X), Y).mean()

    def full_loss(self, theta):
        """L(θ) on the whole data set."""
        return self.loss(theta, self.X, self.Y)

    def _thetas(self, cols):
        Z = torch.stack([c.reshape(-1).to(device=self.device, dtype=self.dtype) for c in
                         torch.broadcast_tensors(*cols)], dim=1)
        return self.theta_star[None, :] + Z @ self.V.T

    # -- callables of the coordinates for FokkerPlanck / particles (numpy or torch) ------------
    def potential(self, *cols):
        """L_red(z): numpy in → numpy out (the ReducedLandscape), torch in → torch out."""
        if not isinstance(cols[0], torch.Tensor):
            return self.red.potential(*cols)
        shape, dev, dt = torch.broadcast_tensors(*cols)[0].shape, cols[0].device, cols[0].dtype
        th = self._thetas(cols)
        f = vmap(self.full_loss)
        out = torch.cat([f(th[i:i + self.chunk]) for i in range(0, th.shape[0], self.chunk)])
        return out.reshape(shape).to(device=dev, dtype=dt)

    def gradient(self, *cols):
        """∇_z L_red = Vᵀ ∇L(θ* + V z), one array per axis (numpy or torch like the input)."""
        if not isinstance(cols[0], torch.Tensor):
            return self.red.gradient(*cols)
        shape, dev, dt = torch.broadcast_tensors(*cols)[0].shape, cols[0].device, cols[0].dtype
        th = self._thetas(cols)
        f = vmap(grad(self.full_loss))
        G = torch.cat([f(th[i:i + self.chunk]) @ self.V
                       for i in range(0, th.shape[0], self.chunk)])
        return tuple(G[:, j].reshape(shape).to(device=dev, dtype=dt) for j in range(G.shape[1]))
