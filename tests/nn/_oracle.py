"""Helpers for PyTorch-oracle tests of nn: run a shendu and a torch function on the same float64
inputs, compare outputs and input gradients."""
import numpy as np

import shendu as sd


def compare(sd_fn, th_fn, arrays, rtol=1e-6, atol=1e-8, grad=True, seed_grad=0):
    """Forward and (with a random output cotangent) backward must match torch."""
    import torch

    xs = [sd.tensor(a, requires_grad=grad) for a in arrays]
    ts = [torch.tensor(a, requires_grad=grad) for a in arrays]
    y = sd_fn(*xs)
    yt = th_fn(*ts)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=rtol, atol=atol)
    if grad:
        g = np.random.default_rng(seed_grad).standard_normal(yt.shape)
        (y * sd.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        for x, t in zip(xs, ts):
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol)
    return y, yt
