"""Categorical cross-entropy and negative log-likelihood (Textbook 6.2.2.3 softmax units, eq. 6.30; 5.5 maximum
likelihood; 7.5.1 label smoothing). ``cross_entropy`` is computed from logits through log-sum-exp, never
log(softmax); its common case (N, C) logits with (N,) class indices runs the fused ``_CrossEntropyIdx``."""
from __future__ import annotations

import math

import numpy as np

from ....autograd.function import Function
from ....autograd.grad_mode import check_values
from ....autograd.tensor import Tensor, _wrap, array_of
from ....backend import device_of, namespace_of, to_device_of
from ....backend.lowp import AUTOCAST
from ....ops import gather, log_softmax, softmax, where
from ....ops import sum as _sum
from ....ops._autocast import to_fp32
from .._checks import tensor_args
from ._common import _REDUCTIONS, _as_target, _as_weight, _check_same, _min_max, _reduce


def _move_class_last(x: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N*d1*..., C)."""
    c = x.shape[1]
    perm = (0,) + tuple(range(2, x.ndim)) + (1,)
    return x.permute(*perm).reshape((-1, c))


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
        rows = xp.arange(n)
        st = s[rows, t]
        eps = self.smoothing
        ssum = s.sum(axis=1) if eps else None
        e = xp.exp(s, out=s)  # in place: s is not needed past here (one (N, C) array fewer)
        se = e.sum(axis=1, keepdims=True)
        lse = xp.log(se)
        nll = lse[:, 0] - st
        if eps:
            nll = (1 - eps) * nll + (eps / c) * (c * lse[:, 0] - ssum)
            nll = nll.astype(z.dtype, copy=False)
        self.saved = e  # exp(z - max) per row; the softmax probabilities are e / se (normalized in backward)
        self.se = se
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
        e = self.saved
        n = e.shape[0]
        s = self._scale(gy, e.dtype)
        if self.smoothing:
            g = e / self.se
            g -= self._q(e)
            g *= s
        else:  # s (p - onehot) = e (s / se) - s onehot: one pass over (N, C)
            g = e * (s / self.se)
            g[self.xp.arange(n), self.t] -= s.reshape(-1) if getattr(s, "ndim", 0) else s
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


def _check_classes(t, ignore_index, c):
    """Refuse a class index outside [0, c) other than ``ignore_index`` (one min and one max on the host)."""
    lo, hi = _min_max(t) if t.size else (0, 0)
    if lo < 0 or hi >= c:
        bad = (t != ignore_index) & ((t < 0) | (t >= c))
        if bad.any():
            raise ValueError(f"cross_entropy: target contains class {int(t[bad][0])} outside [0, {c})")


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
        check_values(tflat, _check_classes, ignore_index=ignore_index, c=c)  # (again in a captured replay)
        ignore = ignore_index  # the op ignores the rows equal to it, when there are any (decided at every call)
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


def _check_nll_classes(ts, c):
    if ((ts < 0) | (ts >= c)).any():
        raise ValueError(f"nll_loss: target contains a class outside [0, {c})")


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
    # the target's rows, which of them count, and their classes (0 where ignored), by ops on the target tensor:
    # a captured call (autograd.capture) computes them again from its own target
    t = (target if isinstance(target, Tensor) else _wrap(tarr)).reshape((-1,))
    if t.dtype != np.intp:
        t = t.type(np.intp)
    valid = t != ignore_index
    ts = where(valid, t, 0)
    check_values(ts._data, _check_nll_classes, c=c)  # where the target is (a host target: no device sync)
    if device_of(ts._data) != device_of(z._data):
        valid, ts = valid.to(z.device), ts.to(z.device)
    w = valid.type(z._data.dtype)
    weight = _as_weight(weight, input)
    if weight is not None:
        w = weight[ts] * w
    nll = -gather(z, 1, ts.unsqueeze(1)).reshape((-1,)) * w
    if reduction == "mean":
        return nll.sum() / w.sum()
    out = _reduce(nll, reduction, "nll_loss")
    if reduction == "none" and input.ndim > 2:
        out = out.reshape(tarr.shape)
    return out
