"""Losses and output-unit costs (textbook 6.2.1-6.2.2 cost functions and output units, 5.5 maximum
likelihood; seeds ch. 1-3 quadratic and cross-entropy costs).

All take ``reduction='mean'|'sum'|'none'`` as PyTorch. Cross-entropies are computed from
logits through log-sum-exp / softplus, never log(softmax) or log(sigmoid).

Targets and class weights given as host arrays (or lists) are copied to the input's device; index
targets are checked on the host when they come from there (no device-to-host copy).
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor, _wrap, array_of, as_tensor
from ...backend import is_host, namespace_of, to_device_of, to_host
from ...backend.lowp import AUTOCAST
from ...ops import abs as _abs
from ...ops import clamp, exp, gather, log, log_softmax, relu, softmax, softplus, where
from ...ops import sum as _sum
from ...ops._autocast import to_fp32
from ._checks import tensor_args

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str, name: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_same(name, input, target):
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"{name}: input of shape {tuple(input.shape)} and target of shape {tuple(target.shape)} must match"
        )


def _as_target(target, ref: Tensor) -> Tensor:
    if isinstance(target, Tensor):
        return target
    arr = array_of(target)
    if arr.dtype.kind == "f":
        arr = arr.astype(ref._data.dtype)
    return as_tensor(to_device_of(arr, ref))


def _as_weight(weight, ref: Tensor):
    """Class weights as a Tensor on ``ref``'s device (host arrays are copied over; Tensors are used as given)."""
    if weight is None or isinstance(weight, Tensor):
        return weight
    return as_tensor(to_device_of(array_of(weight), ref))


def _min_max(a):
    """(min, max) of a non-empty array as host values: one device-to-host copy for a device array."""
    if is_host(a):
        return a.min(), a.max()
    lo, hi = to_host(namespace_of(a).stack((a.min(), a.max())))
    return lo, hi


# --- regression -------------------------------------------------------------------------------
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


# --- classification ------------------------------------------------------------------------------
class _CrossEntropyIdx(Function):
    """Fused softmax cross-entropy on logits (N, C) and class indices (N,).

    loss_i = -(1-eps) log p_{i,y_i} - (eps/C) sum_c log p_ic, log p = z - logsumexp(z);
    d loss_i / d z_i = p_i - q_i with q = (1-eps) onehot(y) + eps/C (textbook 6.2.2.3, eq. 6.30)."""

    def __init__(self, target, ignore_index, smoothing, reduction):
        self.target = target
        self.ignore_index = ignore_index
        self.smoothing = smoothing
        self.reduction = reduction

    def forward(self, z):
        xp = self.xp
        n, c = z.shape
        t = self.target
        valid = None
        if self.ignore_index is not None:
            valid = t != self.ignore_index
            if valid.all():
                valid = None
            else:
                t = xp.where(valid, t, 0)
        self.t, self.valid = t, valid
        m = z.max(axis=1, keepdims=True)
        s = z - m
        e = xp.exp(s)
        se = e.sum(axis=1, keepdims=True)
        lse = xp.log(se)
        rows = xp.arange(n)
        nll = lse[:, 0] - s[rows, t]
        eps = self.smoothing
        if eps:
            nll = (1 - eps) * nll + (eps / c) * (c * lse[:, 0] - s.sum(axis=1))
            nll = nll.astype(z.dtype, copy=False)
        e /= se
        self.saved = e  # softmax probabilities
        if valid is not None:
            nll = nll * valid
            count = int(valid.sum())
        else:
            count = n
        self.count = count
        if self.reduction == "none":
            return nll
        if self.reduction == "sum":
            return nll.sum()
        return nll.sum() / z.dtype.type(count) if count else xp.asarray(math.nan, dtype=z.dtype)

    def _q(self, p):
        """The target distribution q as an array."""
        xp = self.xp
        n, c = p.shape
        eps = self.smoothing
        q = xp.full(p.shape, eps / c, dtype=p.dtype) if eps else xp.zeros(p.shape, dtype=p.dtype)
        q[xp.arange(n), self.t] += p.dtype.type(1 - eps)
        return q

    def _scale(self, gy, dtype):
        """Per-row multiplier of (p - q): gy/count, gy, or gy_i, with ignored rows zeroed."""
        if self.reduction == "none":
            s = gy[:, None]
        elif self.reduction == "sum":
            s = gy
        else:
            s = gy / dtype.type(max(self.count, 1))
        if self.valid is not None:
            s = s * self.valid[:, None].astype(dtype)
        return s

    def backward_array(self, gy):
        p = self.saved
        g = p.copy() if self.smoothing else p.copy()
        n = p.shape[0]
        if self.smoothing:
            g -= self._q(p)
        else:
            g[self.xp.arange(n), self.t] -= 1
        s = self._scale(gy, p.dtype)
        g *= s
        return g

    def backward(self, gy):
        z = self.inputs[0]
        p = softmax(z, 1)
        q = _wrap(self._q(self.saved))
        if self.reduction == "none":
            s = gy.reshape((-1, 1))
        elif self.reduction == "sum":
            s = gy
        else:
            s = gy / max(self.count, 1)
        if self.valid is not None:
            s = s * _wrap(self.valid[:, None].astype(self.saved.dtype))
        return (p - q) * s


def _move_class_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N*d1*..., C)."""
    c = x.shape[1]
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    return x.permute(*perm).reshape((-1, c))


@tensor_args("input")
def cross_entropy(input: Tensor, target, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0, label_smoothing_form: str = "torch") -> Tensor:
    """Categorical cross-entropy from logits: -sum_c q_c log softmax(z)_c (textbook 6.2.2.3, eq. 6.30).

    input: (N, C) or (N, C, d1, ...) logits (or (C,)); target: class indices (N,) / (N, d1, ...),
    or class probabilities (one-hot or soft) with the input's shape. ``weight`` (C,) rescales classes;
    ``label_smoothing`` eps mixes the target with the uniform distribution: form 'torch' (default) q = (1-eps) y
    + eps/C; form 'book' (textbook 7.5.1) eps/(C-1) on wrong classes, 1-eps on the true one (eps <= (C-1)/C)."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if AUTOCAST.dtype is not None:  # amp.autocast: losses run in float32
        (input,) = to_fp32(input)
        if isinstance(target, Tensor):
            (target,) = to_fp32(target)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    if label_smoothing_form not in ("torch", "book"):
        raise ValueError(f"cross_entropy: label_smoothing_form must be 'torch' or 'book', got {label_smoothing_form!r}")
    if label_smoothing_form == "book" and label_smoothing:  # eps/(C-1) = eps'/C: the torch form with eps' = eps C/(C-1)
        nc = input.shape[1] if input.ndim > 1 else input.shape[0]
        if nc < 2 or label_smoothing > (nc - 1) / nc:
            raise ValueError(
                f"cross_entropy: book-form label_smoothing must be <= (C-1)/C = {(nc - 1) / max(nc, 1):.4g} "
                f"for C={nc} classes, got {label_smoothing}"
            )
        label_smoothing = min(label_smoothing * nc / (nc - 1), 1.0)
    # fast path: (N, C) logits, (N,) int array of valid classes, no class weights
    if type(target) is np.ndarray and weight is None and target.ndim == 1 and input.ndim == 2 \
            and target.dtype.kind in "iu" and target.shape[0] == input.shape[0] and target.size:
        c = input.shape[1]
        if target.min() >= 0 and target.max() < c:  # checked on the host, then copied to the input's device
            ignore = ignore_index if 0 <= ignore_index < c else None
            return _CrossEntropyIdx(to_device_of(target, input), ignore, float(label_smoothing), reduction)(input)
    tarr = array_of(target)
    if input.ndim == 1:
        input = input.reshape((1, -1))
        tarr = tarr.reshape((1,) + tarr.shape)
        out = cross_entropy(
            input,
            _wrap(tarr)
            if not isinstance(target, Tensor) or not target.requires_grad
            else target.reshape((1,) + tuple(target.shape)),
            weight,
            ignore_index,
            reduction,
            label_smoothing,
        )
        return out.reshape(()) if reduction == "none" else out
    if input.ndim < 2:
        raise ValueError(f"cross_entropy: input must be (N, C) or (N, C, d1, ...), got shape {tuple(input.shape)}")
    c = input.shape[1]
    if tarr.dtype.kind in "iub":  # class indices
        expected = (input.shape[0],) + tuple(input.shape[2:])
        if tuple(tarr.shape) != expected:
            raise ValueError(
                f"cross_entropy: class-index target of shape {tuple(tarr.shape)} does not match input of shape "
                f"{tuple(input.shape)} (expected {expected})"
            )
        tflat = tarr.reshape(-1).astype(np.intp, copy=False)
        ignore = None  # the ignore_index when it occurs in the target (fast path: it does not)
        lo, hi = _min_max(tflat) if tflat.size else (0, 0)
        if lo < 0 or hi >= c:
            bad = (tflat != ignore_index) & ((tflat < 0) | (tflat >= c))
            if bad.any():
                raise ValueError(f"cross_entropy: target contains class {int(tflat[bad][0])} outside [0, {c})")
            ignore = ignore_index
        elif 0 <= ignore_index < c:
            ignore = ignore_index
        tflat = to_device_of(tflat, input)
        weight = _as_weight(weight, input)
        z = input if input.ndim == 2 else _move_class_last(input)
        if weight is None:
            loss = _CrossEntropyIdx(tflat, ignore, float(label_smoothing), reduction)(z)
        else:
            loss = _weighted_ce_idx(z, tflat, weight, ignore_index, reduction, label_smoothing)
        if reduction == "none" and input.ndim > 2:
            loss = loss.reshape(expected)
        return loss
    # probabilities (one-hot or soft)
    target = _as_target(target, input)
    _check_same("cross_entropy", input, target)
    logp = log_softmax(input, 1)
    q = target
    if label_smoothing:
        q = q * (1 - label_smoothing) + label_smoothing / c
    prod = q * logp
    weight = _as_weight(weight, input)
    if weight is not None:
        prod = prod * weight.reshape((1, c) + (1,) * (input.ndim - 2))
    loss = -_sum(prod, 1)
    if reduction == "mean":
        return loss.sum() / (loss.numel())
    return _reduce(loss, reduction, "cross_entropy")


def _weighted_ce_idx(z, t, weight, ignore_index, reduction, eps):
    """Class-weighted cross-entropy on (M, C) logits and (M,) indices, as PyTorch (mean divides by sum of w_y)."""
    m, c = z.shape
    if tuple(weight.shape) != (c,):
        raise ValueError(f"cross_entropy: weight of shape {tuple(weight.shape)}, expected ({c},)")
    valid = t != ignore_index
    ts = namespace_of(t).where(valid, t, 0)
    vmask = _wrap(valid.astype(z._data.dtype))
    logp = log_softmax(z, 1)
    wy = weight[_wrap(ts)] * vmask
    nll = -gather(logp, 1, _wrap(ts[:, None])).reshape((-1,)) * wy
    if eps:
        smooth = -_sum(logp * weight.reshape((1, c)), 1) * vmask
        nll = nll * (1 - eps) + smooth * (eps / c)
    if reduction == "mean":
        return nll.sum() / wy.sum()
    return _reduce(nll, reduction, "cross_entropy")


@tensor_args("input")
def nll_loss(input: Tensor, target, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood -log p_y on log-probabilities (textbook 5.5, 6.2.1.1).

    input: (N, C) or (N, C, d1, ...) log-probabilities; target: class indices (N,) / (N, d1, ...)."""
    tarr = array_of(target)
    if input.ndim < 2 or tarr.dtype.kind not in "iu" or tuple(tarr.shape) != (input.shape[0],) + tuple(input.shape[2:]):
        raise ValueError(
            f"nll_loss: expected input (N, C, ...) and integer target (N, ...), got {tuple(input.shape)} and "
            f"{tuple(tarr.shape)} ({tarr.dtype})"
        )
    c = input.shape[1]
    z = input if input.ndim == 2 else _move_class_last(input)
    t = tarr.reshape(-1).astype(np.intp, copy=False)
    valid = t != ignore_index
    ts = namespace_of(t).where(valid, t, 0)
    if ((ts < 0) | (ts >= c)).any():  # checked where the target is (on the host: no device sync)
        raise ValueError(f"nll_loss: target contains a class outside [0, {c})")
    valid, ts = to_device_of(valid, input), to_device_of(ts, input)
    w = _wrap(valid.astype(z._data.dtype))
    weight = _as_weight(weight, input)
    if weight is not None:
        w = weight[_wrap(ts)] * w
    nll = -gather(z, 1, _wrap(ts[:, None])).reshape((-1,)) * w
    if reduction == "mean":
        return nll.sum() / w.sum()
    out = _reduce(nll, reduction, "nll_loss")
    if reduction == "none" and input.ndim > 2:
        out = out.reshape(tarr.shape)
    return out


@tensor_args("input")
def binary_cross_entropy_with_logits(input: Tensor, target, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid cross-entropy from logits z: (1 - y) z + softplus(-z) = softplus(z) - y z
    (textbook 6.2.2.2, eq. 6.22-6.23: through softplus, never log(sigmoid)). Shapes: any, equal."""
    target = _as_target(target, input)
    _check_same("binary_cross_entropy_with_logits", input, target)
    if pos_weight is None:
        loss = softplus(input, threshold=None) - target * input
    else:  # -[p y log s(z) + (1-y) log(1-s(z))] = p y softplus(-z) + (1-y) softplus(z)
        loss = target * _as_weight(pos_weight, input) * softplus(-input, threshold=None) + (1 - target) * softplus(
            input, threshold=None
        )
    weight = _as_weight(weight, input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def _safe_log(p: Tensor) -> Tensor:
    """log p floored at -100 (PyTorch's BCE convention); log(0) gives -100 with a zero gradient, never NaN."""
    xp = namespace_of(p._data)
    pos = _wrap(p._data > 0)
    return clamp(
        where(pos, log(where(pos, p, _wrap(xp.ones_like(p._data)))), _wrap(xp.full_like(p._data, -100.0))), min=-100.0
    )


@tensor_args("input")
def binary_cross_entropy(input: Tensor, target, weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """-[y log p + (1 - y) log(1 - p)] on probabilities p, logs clamped at -100 as PyTorch (textbook 6.2.2.2).

    Prefer ``binary_cross_entropy_with_logits`` (stable)."""
    target = _as_target(target, input)
    _check_same("binary_cross_entropy", input, target)
    if input._data.size:  # probabilities only, as PyTorch (NaN fails too); one host sync on a device
        lo, hi = _min_max(input._data)
        if not (lo >= 0 and hi <= 1):
            raise ValueError(f"binary_cross_entropy: all elements of input should be probabilities in [0, 1], got "
                             f"min {lo}, max {hi} (for logits use binary_cross_entropy_with_logits)")
    lo = _safe_log(input)
    l1 = _safe_log(1 - input)
    loss = -(target * lo + (1 - target) * l1)
    weight = _as_weight(weight, input)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


@tensor_args("input")
def multilabel_soft_margin_loss(input: Tensor, target, weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """Multi-label sigmoid cross-entropy: mean over the C labels of BCE-with-logits, per sample (N, C) -> (N,)."""
    target = _as_target(target, input)
    _check_same("multilabel_soft_margin_loss", input, target)
    loss = softplus(input, threshold=None) - target * input
    weight = _as_weight(weight, input)
    if weight is not None:
        loss = loss * weight
    loss = loss.mean(-1)
    return _reduce(loss, reduction, "multilabel_soft_margin_loss")


@tensor_args("input")
def sigmoid_cross_entropy(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """Multi-label sigmoid cross-entropy, one independent Bernoulli per output (textbook 6.2.2.2)."""
    return binary_cross_entropy_with_logits(input, target, reduction=reduction)


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
    if (var._data < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entries")
    v = clamp(var, min=eps)
    d = input - target
    loss = (log(v) + d * d / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, "gaussian_nll_loss")


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


@tensor_args("input")
def hinge_embedding_loss(input: Tensor, target, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """x if y = 1, max(0, margin - x) if y = -1 (PyTorch's HingeEmbeddingLoss)."""
    target = _as_target(target, input)
    _check_same("hinge_embedding_loss", input, target)
    pos = (target == 1).type(input.dtype)
    loss = input * pos + relu(margin - input) * (target == -1).type(input.dtype)
    return _reduce(loss, reduction, "hinge_embedding_loss")


@tensor_args("input")
def hinge_loss(input: Tensor, target, margin: float = 1.0, reduction: str = "mean") -> Tensor:
    """Binary SVM hinge max(0, margin - y f(x)) with y in {-1, +1} (textbook 5.7.2)."""
    target = _as_target(target, input)
    _check_same("hinge_loss", input, target)
    return _reduce(relu(margin - target * input), reduction, "hinge_loss")


@tensor_args("input")
def multi_margin_loss(
    input: Tensor, target, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean"
) -> Tensor:
    """Multi-class hinge: sum_{j != y} max(0, margin - z_y + z_j)^p / C; input (N, C), target (N,) indices."""
    n, c = input.shape
    t = to_device_of(array_of(target).astype(np.intp), input)
    xp = namespace_of(t)
    zy = gather(input, 1, _wrap(t[:, None]))
    m = relu(input - zy + margin)
    if p == 2:
        m = m * m
    mask = xp.ones((n, c), dtype=input._data.dtype)
    mask[xp.arange(n), t] = 0
    m = m * _wrap(mask)
    weight = _as_weight(weight, input)
    if weight is not None:
        m = m * weight[_wrap(t)].reshape((-1, 1))
    return _reduce(_sum(m, 1) / c, reduction, "multi_margin_loss")


@tensor_args("input1", "input2")
def margin_ranking_loss(input1: Tensor, input2: Tensor, target, margin: float = 0.0, reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin) with y in {-1, +1}."""
    target = _as_target(target, input1)
    return _reduce(relu(-target * (input1 - input2) + margin), reduction, "margin_ranking_loss")


@tensor_args("input")
def soft_margin_loss(input: Tensor, target, reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y x)) = softplus(-y x) with y in {-1, +1}."""
    target = _as_target(target, input)
    _check_same("soft_margin_loss", input, target)
    return _reduce(softplus(-target * input, threshold=None), reduction, "soft_margin_loss")

