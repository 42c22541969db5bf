"""Losses of probabilistic and structured outputs: KL divergence (Textbook 3.13, eq. 3.50), the heteroscedastic
Gaussian NLL with a learned variance or precision (6.2.2.4), and the mixture-density-network NLL (6.2.2.4,
eq. 6.35)."""
from __future__ import annotations

import math

from ....autograd.grad_mode import check_values
from ....autograd.tensor import Tensor, _wrap
from ....backend import namespace_of
from ....ops import clamp, exp, log, log_softmax, where
from ....ops import sum as _sum
from .._checks import tensor_args
from ._common import _as_target, _check_same, _reduce


@tensor_args("input")
def kl_div(input: Tensor, target, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || model) pointwise: t (log t - input) with input = log q (textbook 3.13, eq. 3.50).

    As PyTorch: 'mean' averages over all elements; 'batchmean' divides the sum by the batch size."""
    target = _as_target(target, input)
    _check_same("kl_div", input, target)
    if log_target:
        loss = exp(target) * (target - input)
    else:
        xp = namespace_of(target._data)
        tpos = target._data > 0
        safe = where(_wrap(tpos), target, _wrap(xp.ones_like(target._data)))
        loss = where(_wrap(tpos), target * (log(safe) - input), _wrap(xp.zeros_like(input._data)) * input)
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction, "kl_div")


@tensor_args("input", "var")
def gaussian_nll_loss(input: Tensor, target, var: Tensor, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Heteroscedastic Gaussian NLL 0.5 (log var + (y - mu)^2 / var) (+ 0.5 log 2pi if full)
    (textbook 6.2.2.4: a learned, input-dependent variance). var is clamped at ``eps`` as PyTorch."""
    target = _as_target(target, input)
    if var.shape != input.shape:
        if var.ndim == input.ndim and var.shape[-1] == 1 and var.shape[:-1] == input.shape[:-1]:
            pass
        elif var.ndim == input.ndim - 1 and var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        else:
            raise ValueError(
                f"gaussian_nll_loss: var of shape {tuple(var.shape)} does not match input {tuple(input.shape)}"
            )
    check_values(var._data, _check_var)
    v = clamp(var, min=eps)
    d = input - target
    loss = (log(v) + d * d / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


def _check_var(var):
    if (var < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entries")


@tensor_args("input", "log_precision")
def gaussian_nll_precision(input: Tensor, target, log_precision: Tensor, reduction: str = "mean") -> Tensor:
    """Gaussian NLL parameterized by log precision s = log beta: 0.5 (beta (y - mu)^2 - s + log 2pi)
    (textbook 6.2.2.4: predicting the precision keeps the cost well conditioned)."""
    target = _as_target(target, input)
    d = input - target
    loss = (exp(log_precision) * d * d - log_precision + math.log(2 * math.pi)) * 0.5
    return _reduce(loss, reduction, "gaussian_nll_precision")


@tensor_args("logits", "means", "log_std")
def mdn_nll(logits: Tensor, means: Tensor, log_std: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mixture-density-network NLL -log sum_i pi_i N(y; mu_i, diag sigma_i^2) (textbook 6.2.2.4, eq. 6.35).

    logits: (N, K) mixing logits (pi = softmax), means and log_std: (N, K, D), target: (N, D)."""
    target = _as_target(target, means)
    if logits.ndim != 2 or means.ndim != 3 or means.shape[:2] != logits.shape or log_std.shape != means.shape \
            or tuple(target.shape) != (means.shape[0], means.shape[2]):
        raise ValueError(
            f"mdn_nll: expected logits (N, K), means/log_std (N, K, D), target (N, D); got {tuple(logits.shape)}, "
            f"{tuple(means.shape)}, {tuple(log_std.shape)}, {tuple(target.shape)}"
        )
    d = means.shape[2]
    zt = (target.unsqueeze(1) - means) * exp(-log_std)
    comp = -0.5 * _sum(zt * zt, 2) - _sum(log_std, 2) - 0.5 * d * math.log(2 * math.pi)
    ll = (log_softmax(logits, 1) + comp).logsumexp(1)
    return _reduce(-ll, reduction, "mdn_nll")
