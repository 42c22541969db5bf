"""Fast dropout (Wang & Manning 2013; textbook 7.12): sample a Linear layer's pre-activation from the Gaussian that
approximates it under dropout on the layer's inputs, instead of one Bernoulli draw per input.

With inverted dropout on the inputs (x_i m_i / (1-p), m_i ~ Bernoulli(1-p)), the pre-activation s_j = sum_i W_ji
x_i m_i / (1-p) + b_j has, by the central limit theorem over the inputs,
    mean  = x W^T + b,
    var   = p/(1-p) * (x^2) (W^2)^T,
and fast dropout samples s = mean + sqrt(var) * eps, eps ~ N(0, 1): one normal per output unit. Eval: plain linear.
At test time the Gaussian also gives a better (costlier) estimate of a logistic unit's dropout-ensemble output than
weight scaling's sigmoid(mean): E[sigmoid(s)] ~ sigmoid(mean / sqrt(1 + pi var / 8)) (``fast_dropout_sigmoid``).
"""
from __future__ import annotations

import math

from ...autograd.tensor import Tensor, _wrap
from ..functional import sigmoid
from ..functional._checks import check_tensor
from ..functional.linear import linear
from .linear import Linear
from .noise import _normal

__all__ = ["FastDropoutLinear", "fast_dropout_linear", "fast_dropout_moments", "fast_dropout_sigmoid"]


def _check_p(who, p):
    if not 0.0 <= p < 1.0:
        raise ValueError(f"{who}: dropout probability p must be in [0, 1), got {p}")


def fast_dropout_moments(x: Tensor, weight: Tensor, bias: Tensor | None, p: float):
    """(mean, var) of the pre-activation x W^T + b under inverted dropout (drop probability p) on x:
    mean = x W^T + b, var = p/(1-p) (x^2)(W^2)^T. x: (*, in), W: (out, in) -> two (*, out) tensors."""
    _check_p("fast_dropout_moments", p)
    mean = linear(x, weight, bias)
    var = linear(x * x, weight * weight) * (p / (1.0 - p))
    return mean, var


def fast_dropout_linear(x: Tensor, weight: Tensor, bias: Tensor | None, p: float = 0.5, training: bool = True,
                        noise: Tensor | None = None) -> Tensor:
    """Fast dropout pre-activation: mean + sqrt(var) * eps in training (``fast_dropout_moments``), x W^T + b in eval.

    ``noise``: optional fixed eps shaped like the output (for tests); else eps ~ N(0, 1) is drawn on x's device.
    x: (*, in), W: (out, in) -> (*, out)."""
    _check_p("fast_dropout_linear", p)
    if not training or p == 0:
        return linear(x, weight, bias)
    mean, var = fast_dropout_moments(x, weight, bias, p)
    if noise is None:
        arr = mean._data
        noise = _wrap(_normal(arr, arr.shape, arr.dtype))
    elif tuple(noise.shape) != tuple(mean.shape):
        raise ValueError(f"fast_dropout_linear: noise must have the output's shape {tuple(mean.shape)}, "
                         f"got {tuple(noise.shape)}")
    # a tiny floor keeps d sqrt / d var finite where var = 0 (an all-zero input row)
    return mean + (var + 1e-30).sqrt() * noise


def fast_dropout_sigmoid(x: Tensor, weight: Tensor, bias: Tensor | None, p: float = 0.5) -> Tensor:
    """Deterministic fast-dropout estimate of E_mask[sigmoid(s)] for s the pre-activation of ``fast_dropout_moments``:
    sigmoid(mean / sqrt(1 + pi var / 8)) (the probit approximation, Wang & Manning 2013). x: (*, in) -> (*, out)."""
    mean, var = fast_dropout_moments(x, weight, bias, p)
    return sigmoid(mean * (1.0 + var * (math.pi / 8.0)) ** -0.5)


class FastDropoutLinear(Linear):
    """Linear layer trained with fast dropout on its inputs (Wang & Manning 2013; textbook 7.12): in training the
    output is sampled from N(x W^T + b, p/(1-p) (x^2)(W^2)^T), one normal per output unit; in eval it is x W^T + b
    (the same expectation as inverted dropout). p: drop probability of the inputs. x: (*, in) -> (*, out)."""

    def __init__(self, in_features: int, out_features: int, p: float = 0.5, bias: bool = True, dtype=None,
                 weight_init=None, bias_init=None):
        _check_p("FastDropoutLinear", p)
        super().__init__(in_features, out_features, bias, dtype, weight_init, bias_init)
        self.p = float(p)

    def forward(self, x, noise=None):
        x = check_tensor(self, x, "input")
        if x.shape[-1:] != self.weight.shape[1:]:
            raise ValueError(f"FastDropoutLinear({self.in_features} -> {self.out_features}): expected input of shape "
                             f"(*, {self.in_features}), got {tuple(x.shape)}")
        return fast_dropout_linear(x, self.weight, self.bias, self.p, self.training, noise)

    def extra_repr(self):
        return super().extra_repr() + f", p={self.p}"

