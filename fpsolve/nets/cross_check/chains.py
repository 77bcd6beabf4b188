"""Real mini-batch SGD on all parameters of the network: many independent chains, vectorised."""
from __future__ import annotations

import torch
from torch.func import grad, vmap

from ...errors import InputError
from .network import SliceNetwork


def sgd_chains(net: SliceNetwork, lr, B, replacement, C, n_burn, n_samp, n_esc, target, seed):
    """Real mini-batch SGD on all parameters, C independent chains vectorised with vmap, from θ*.
    Returns per-chain sums over the sampled window of z and z zᵀ, and the first step at which
    each chain's z is in the escape target (−1: not by the end)."""
    dev, N = net.device, net.n
    gen = torch.Generator(device=dev)
    gen.manual_seed(int(seed) % (2 ** 63))
    theta = net.theta_star[None, :].repeat(C, 1)
    k = net.V.shape[1]

    def batch_loss(th, xb, yb):
        return net.loss(th, xb, yb)

    g = vmap(grad(batch_loss))
    S1 = torch.zeros(C, k, device=dev, dtype=net.dtype)
    S2 = torch.zeros(C, k, k, device=dev, dtype=net.dtype)
    exit_step = torch.full((C,), -1, dtype=torch.int64, device=dev)
    total = max(n_burn + n_samp, n_esc)
    for step in range(1, total + 1):
        if replacement:
            idx = torch.randint(0, N, (C, B), generator=gen, device=dev)
        else:
            idx = torch.rand(C, N, generator=gen, device=dev).argsort(dim=1)[:, :B]
        theta = theta - lr * g(theta, net.X[idx], net.Y[idx])
        z = (theta - net.theta_star[None, :]) @ net.V
        if step > n_burn and step <= n_burn + n_samp:
            S1 += z
            S2 += z[:, :, None] * z[:, None, :]
        if target is not None and step <= n_esc:
            open_ = exit_step < 0
            if bool(open_.any()):
                hit = target(*z.unbind(-1)) & open_
                exit_step = torch.where(hit, torch.full_like(exit_step, step), exit_step)
            elif step > n_burn + n_samp:
                break
        if step % 64 == 0 and not bool(torch.isfinite(theta).all()):
            raise InputError(f"crosscheck: SGD diverged at step {step} (η = {lr} too large for "
                             f"the full network, although stable on the slice).")
    return {"sums": (S1.cpu().numpy(), S2.cpu().numpy(), n_samp),
            "exit_steps": exit_step.cpu().numpy()}
