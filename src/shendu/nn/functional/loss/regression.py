"""Regression costs on real-valued outputs (Textbook 6.2.1.2 learning conditional statistics, 5.5.1 the Gaussian
likelihood behind MSE): mse_loss, l1_loss (the median estimator), lp_loss, huber_loss, smooth_l1_loss, and the
seeds' quadratic cost (seeds ch. 1, eq. 1.6)."""
from __future__ import annotations

from ....autograd.tensor import Tensor
from ....backend.lowp import AUTOCAST
from ....ops import abs as _abs
from ....ops import clamp
from ....ops._autocast import to_fp32
from .._checks import tensor_args
from ._common import _as_target, _check_same, _reduce


@tensor_args("input")
def mse_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean squared error mean((y_hat - y)^2) (textbook 5.4, 6.2.1.2; Gaussian likelihood, eq. 5.64)."""
    if AUTOCAST.dtype is not None:  # amp.autocast: losses run in float32
        input, target = to_fp32(input, target) if isinstance(target, Tensor) else (to_fp32(input)[0], target)
    target = _as_target(target, input)
    _check_same("mse_loss", input, target)
    d = input - target
    return _reduce(d * d, reduction, "mse_loss")


@tensor_args("input")
def quadratic_cost(input: Tensor, target) -> Tensor:
    """The seeds' quadratic cost C = 1/(2N) sum_x ||y(x) - a||^2 (seeds ch. 1, eq. 1.6); N = input.shape[0]."""
    target = _as_target(target, input)
    _check_same("quadratic_cost", input, target)
    d = input - target
    n = input.shape[0] if input.ndim else 1
    return (d * d).sum() * (0.5 / n)


@tensor_args("input")
def l1_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Mean absolute error mean(|y_hat - y|) (textbook 6.2.1.2: the median estimator)."""
    target = _as_target(target, input)
    _check_same("l1_loss", input, target)
    return _reduce(_abs(input - target), reduction, "l1_loss")


@tensor_args("input")
def lp_loss(input: Tensor, target, p: float = 2.0, reduction: str = "mean") -> Tensor:
    """Elementwise |y_hat - y|^p (general Lp cost); p = 2 is MSE, p = 1 is MAE."""
    target = _as_target(target, input)
    _check_same("lp_loss", input, target)
    if p <= 0:
        raise ValueError(f"lp_loss: p must be positive, got {p}")
    d = _abs(input - target)
    return _reduce(d if p == 1 else d ** p, reduction, "lp_loss")


@tensor_args("input")
def huber_loss(input: Tensor, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber: 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta), d = y_hat - y."""
    target = _as_target(target, input)
    _check_same("huber_loss", input, target)
    d = input - target
    a = _abs(d)
    q = clamp(a, max=delta)  # min(|d|, delta)
    loss = (q * q) * 0.5 + (a - q) * delta
    return _reduce(loss, reduction, "huber_loss")


@tensor_args("input")
def smooth_l1_loss(input: Tensor, target, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Smooth L1: 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta (= huber / beta)."""
    if beta == 0:
        return l1_loss(input, target, reduction)
    return huber_loss(input, target, reduction, delta=beta) / beta
