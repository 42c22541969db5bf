"""Bernoulli (sigmoid) cross-entropies (Textbook 6.2.2.2, eq. 6.22-6.23): from logits through softplus, never
log(sigmoid); on probabilities with logs clamped at -100 as PyTorch; and the multi-label forms."""
from __future__ import annotations

import math

from ....autograd.function import Function
from ....autograd.tensor import Tensor, _wrap
from ....backend import namespace_of
from ....ops import clamp, log, softplus, where
from .._checks import tensor_args
from ._common import _as_target, _as_weight, _check_same, _min_max, _reduce


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


def _floored_log(xp, q):
    """(max(log q, -100), mask where the floor is not active) for q >= 0, log(0) never evaluated."""
    pos = q > 0
    lq = xp.log(xp.where(pos, q, q.dtype.type(1)))
    keep = pos & (lq >= -100)
    return xp.where(keep, lq, lq.dtype.type(-100)), keep


class _BCEProb(Function):
    """Binary cross-entropy on probabilities, fused (Textbook 6.2.2.2), logs floored at -100 as PyTorch:
    l = -(y max(log p, -100) + (1 - y) max(log(1 - p), -100)), summed / averaged unless reduction is 'none';
    dl/dp = (1 - y)/(1 - p) - y/p = (p - y) / (p (1 - p)) where no floor is active (a floored log passes no
    gradient), dl/dy = max(log(1 - p), -100) - max(log p, -100). p, y: same shape."""

    def __init__(self, reduction):
        self.reduction = reduction

    @staticmethod
    def _interior(p):
        """Refuse p outside [0, 1] (NaN too, as PyTorch); True when every p is in (e^-99, 1): no floor can be
        active, no mask needed. One min and one max on the host (one sync on a device). Decided at every call, in
        forward, so that a replayed call (``autograd.capture``) decides it on its own data."""
        if not p.size:
            return False
        lo, hi = _min_max(p)
        if not (lo >= 0 and hi <= 1):
            raise ValueError(f"binary_cross_entropy: all elements of input should be probabilities in [0, 1], got "
                             f"min {lo}, max {hi} (for logits use binary_cross_entropy_with_logits)")
        return bool(lo > 0 and hi < 1 and math.log(float(lo)) > -99.0)

    def _logs(self, p):
        """(max(log p, -100), max(log(1 - p), -100), masks or None)."""
        xp = self.xp
        if self.interior:
            return xp.log(p), xp.log(1 - p), None
        lo, mlo = _floored_log(xp, p)
        l1, ml1 = _floored_log(xp, 1 - p)
        return lo, l1, (mlo, ml1)

    def forward(self, p, y):
        xp = self.xp
        self.interior = self._interior(p)
        lo, l1, _ = self._logs(p)
        xp.subtract(l1, lo, out=lo)  # l = y (l1 - lo) - l1
        lo *= y
        lo -= l1
        if self.reduction == "none":
            return lo
        s = lo.sum()
        if self.reduction == "sum":
            return s
        return s / s.dtype.type(lo.size) if lo.size else xp.asarray(math.nan, dtype=lo.dtype)

    def _scale(self, gy):
        """The output gradient per element: gy, or gy / n for 'mean'."""
        return gy / max(self.inputs[0]._data.size, 1) if self.reduction == "mean" else gy

    def backward_array(self, gy):
        xp = self.xp
        p, y = self.inputs[0]._data, self.inputs[1]._data
        need = self.needs_input_grad
        s = self._scale(gy)
        gp = gt = None
        if need[0]:
            if self.interior:
                q = 1 - p
                q *= p
                gp = p - y
                gp /= q
            else:
                _, _, (mlo, ml1) = self._logs(p)
                zero = p.dtype.type(0)
                one = p.dtype.type(1)
                gp = xp.where(ml1, (1 - y) / xp.where(ml1, 1 - p, one), zero)
                gp -= xp.where(mlo, y / xp.where(mlo, p, one), zero)
            gp *= s
        if need[1]:
            lo, l1, _ = self._logs(p)
            gt = l1 - lo
            gt *= s
        return gp, gt

    def backward(self, gy):
        p, y = self.inputs
        need = self.needs_input_grad
        s = self._scale(gy)
        gp = gt = None
        if need[0]:
            _, _, masks = self._logs(p._data)
            if masks is None:
                gp = (p - y) / (p * (1 - p)) * s
            else:
                mlo, ml1 = _wrap(masks[0]), _wrap(masks[1])
                one = _wrap(self.xp.ones((), dtype=p._data.dtype))
                zero = _wrap(self.xp.zeros((), dtype=p._data.dtype))
                gp = (where(ml1, (1 - y) / where(ml1, 1 - p, one), zero)
                      - where(mlo, y / where(mlo, p, one), zero)) * s
        if need[1]:
            gt = (_safe_log(1 - p) - _safe_log(p)) * s
        return gp, gt


@tensor_args("input")
def binary_cross_entropy(input: Tensor, target, weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """-[y log p + (1 - y) log(1 - p)] on probabilities p, logs clamped at -100 as PyTorch (textbook 6.2.2.2).

    Prefer ``binary_cross_entropy_with_logits`` (stable)."""
    target = _as_target(target, input)
    _check_same("binary_cross_entropy", input, target)
    weight = _as_weight(weight, input)
    if weight is None and reduction in ("sum", "mean"):
        return _BCEProb(reduction)(input, target)
    loss = _BCEProb("none")(input, target)
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
