"""Per-example normalization, where the batch does not enter the statistics: group normalization (Wu & He
2018, the per-example variant of Textbook 8.7.1's batch normalization) and Lp normalization of vectors."""
from __future__ import annotations

from ...autograd.tensor import Tensor
from ...ops import clamp_min, norm


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """y = (x - mu_g) / sqrt(var_g + eps) * gamma_c + beta_c, with mu_g, var_g (biased) over each group of
    C / G channels of one example (torch's F.group_norm). input (N, C, *), weight and bias (C,)."""
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected input (N, C, *), got shape {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if num_groups < 1 or c % num_groups:
        raise ValueError(f"group_norm: num_channels={c} is not divisible by num_groups={num_groups}")
    g = input.reshape(n, num_groups, -1)
    mu = g.mean(dim=2, keepdim=True)
    centred = g - mu
    var = (centred * centred).mean(dim=2, keepdim=True)
    y = (centred * (var + eps).rsqrt()).reshape(*input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(*shape)
    if bias is not None:
        y = y + bias.reshape(*shape)
    return y


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along ``dim`` (torch's F.normalize); any shape."""
    return input / clamp_min(norm(input, p, dim=dim, keepdim=True), eps)
