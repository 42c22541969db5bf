"""Keras cross-entropy losses: probabilities in unless ``from_logits=True`` (textbook 003 eq. 1.15-1.16).

Argument order is Keras' ``(y_true, y_pred)``. On probabilities the value is clipped to [eps, 1 - eps] with
Keras' eps = 1e-7; when ``y_pred`` was made by a softmax (sigmoid) recorded in the graph, the loss is computed
from that op's input logits instead (log-softmax / softplus), as Keras' TensorFlow backend does.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor, _wrap
from ..backend import device_of, get_default_dtype, namespace_of, to_device, to_device_of
from ..ops import elementwise
from ..ops import reduce as reduce_ops
from ..ops.softmax import Softmax, log_softmax

__all__ = ["EPSILON", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy",
           "Loss", "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "BinaryCrossentropy", "get"]

EPSILON = 1e-7  # keras.config.epsilon()


def _pred(y_pred, who):
    if isinstance(y_pred, Tensor):
        return y_pred
    arr = y_pred if hasattr(y_pred, "dtype") and hasattr(y_pred, "shape") else np.asarray(y_pred, get_default_dtype())
    return _wrap(arr if arr.dtype.kind == "f" else arr.astype(get_default_dtype()))


def _true(y_true, ref, dtype=None):
    """y_true as an array on ref's device, in ref's dtype (or ``dtype``)."""
    return to_device_of(y_true, ref, ref.dtype if dtype is None else dtype)


def _logits_of(y_pred, op, axis):
    """The input of the softmax (``op=Softmax``) or sigmoid op that produced ``y_pred`` in the graph, or None."""
    fn = y_pred._grad_fn
    if type(fn) is not op or fn.inputs is None:
        return None
    if op is Softmax and fn.axis != axis % y_pred.ndim:
        return None
    return fn.inputs[0]


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample -sum_k y_k log p_k over ``axis`` (one-hot or soft y_true, same shape as y_pred).
    Probabilities are renormalized to sum 1 and clipped to [1e-7, 1 - 1e-7] as in Keras."""
    y_pred = _pred(y_pred, "categorical_crossentropy")
    y = _true(y_true, y_pred)
    if tuple(y.shape) != tuple(y_pred.shape):
        hint = " (integer labels need sparse_categorical_crossentropy)" if y.ndim == y_pred.ndim - 1 else ""
        raise ValueError(f"categorical_crossentropy: y_true shape {tuple(y.shape)} must equal y_pred shape "
                         f"{tuple(y_pred.shape)}{hint}")
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y.shape[axis]
    y = _wrap(y)
    if not from_logits:
        z = _logits_of(y_pred, Softmax, axis)
        if z is None:
            p = y_pred / reduce_ops.sum(y_pred, axis, keepdim=True)
            p = elementwise.clamp(p, EPSILON, 1.0 - EPSILON)
            return -reduce_ops.sum(y * elementwise.log(p), axis)
        y_pred = z
    return -reduce_ops.sum(y * log_softmax(y_pred, axis), axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Per-sample -log p_{y} with integer labels y_true of shape y_pred.shape without ``axis`` (a trailing 1 is
    allowed, as Keras). Probabilities are renormalized and clipped to [1e-7, 1 - 1e-7]."""
    y_pred = _pred(y_pred, "sparse_categorical_crossentropy")
    axis = axis % y_pred.ndim
    lab = y_true._data if isinstance(y_true, Tensor) else y_true
    if not hasattr(lab, "dtype"):
        lab = np.asarray(lab)
    want = tuple(y_pred.shape[:axis] + y_pred.shape[axis + 1:])
    if tuple(lab.shape) != want and tuple(lab.shape) == want + (1,):
        lab = lab.reshape(want)
    if tuple(lab.shape) != want:
        raise ValueError(f"sparse_categorical_crossentropy: y_true shape {tuple(lab.shape)} must be y_pred shape "
                         f"{tuple(y_pred.shape)} without axis {axis}, i.e. {want} (one-hot targets need "
                         "categorical_crossentropy)")
    k = y_pred.shape[axis]
    lab = to_device(lab, device_of(y_pred._data))
    xp = namespace_of(lab)
    if xp is np and lab.size and lab.dtype.kind in "iuf":  # host labels: a cheap range check
        bad = (lab < 0) | (lab >= k)
        if ignore_class is not None:
            bad &= lab != ignore_class
        if bad.any():
            raise ValueError(f"sparse_categorical_crossentropy: labels must lie in [0, {k}), got {lab[bad][:5]}")
    lab = lab.astype(np.int64, copy=False)
    shape = [1] * y_pred.ndim
    shape[axis] = k
    onehot = (xp.arange(k).reshape(shape) == xp.expand_dims(lab, axis)).astype(y_pred.dtype)
    if ignore_class is not None:
        onehot = onehot * xp.expand_dims(lab != ignore_class, axis).astype(y_pred.dtype)
    return categorical_crossentropy(_wrap(onehot), y_pred, from_logits=from_logits, axis=axis)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample mean over ``axis`` of -(y log p + (1 - y) log(1 - p)), p clipped to [1e-7, 1 - 1e-7] as Keras;
    from logits z: softplus(z) - y z (textbook 6.2.2.2). y_true (N,) with y_pred (N, 1) is accepted."""
    y_pred = _pred(y_pred, "binary_crossentropy")
    y = _true(y_true, y_pred)
    if y.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y = y.reshape(y_pred.shape)
    if tuple(y.shape) != tuple(y_pred.shape):
        raise ValueError(f"binary_crossentropy: y_true shape {tuple(y.shape)} must equal y_pred shape "
                         f"{tuple(y_pred.shape)}")
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    y = _wrap(y)
    if not from_logits:
        z = _logits_of(y_pred, elementwise.Sigmoid, axis)
        if z is None:
            p = elementwise.clamp(y_pred, EPSILON, 1.0 - EPSILON)
            bce = y * elementwise.log(p + EPSILON) + (1.0 - y) * elementwise.log(1.0 - p + EPSILON)
            return -reduce_ops.mean(bce, axis)
        y_pred = z
    return reduce_ops.mean(elementwise.softplus(y_pred) - y * y_pred, axis)


_REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", "auto", None)


for _f in (categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy):
    _f._keras_loss = True  # (y_true, y_pred) order: compile() swaps the arguments


class Loss:
    """Keras loss object: ``loss(y_true, y_pred, sample_weight=None)`` -> reduced per-sample loss
    (reduction 'sum_over_batch_size' (default, = mean), 'sum' or 'none')."""

    _keras_loss = True

    def __init__(self, fn, name, reduction="sum_over_batch_size", **kwargs):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.fn, self.name, self.reduction, self.kwargs = fn, name, reduction, kwargs

    def call(self, y_true, y_pred):
        """Per-sample losses."""
        return self.fn(y_true, y_pred, **self.kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        per = self.call(y_true, y_pred)
        if sample_weight is not None:
            w = _true(sample_weight, per)
            w = w.reshape(w.shape + (1,) * (per.ndim - w.ndim)) if w.ndim < per.ndim else w
            per = per * _wrap(w)
        if self.reduction == "none":
            return per
        return reduce_ops.sum(per) if self.reduction == "sum" else reduce_ops.mean(per)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self.kwargs}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.kwargs.items())
        return f"{type(self).__name__}({args})"


class CategoricalCrossentropy(Loss):
    """Keras CategoricalCrossentropy: one-hot targets, probabilities (or logits with from_logits=True)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="categorical_crossentropy"):
        super().__init__(categorical_crossentropy, name, reduction, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(Loss):
    """Keras SparseCategoricalCrossentropy: integer targets, probabilities (or logits with from_logits=True)."""

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, name, reduction, from_logits=from_logits,
                         ignore_class=ignore_class)


class BinaryCrossentropy(Loss):
    """Keras BinaryCrossentropy: 0/1 targets, probabilities (or logits with from_logits=True)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_crossentropy"):
        super().__init__(binary_crossentropy, name, reduction, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


_BY_NAME = {"categorical_crossentropy": CategoricalCrossentropy,
            "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
            "binary_crossentropy": BinaryCrossentropy}


def get(name):
    """The Keras loss object for a Keras name ('categorical_crossentropy', ...), or None for other names."""
    cls = _BY_NAME.get(name.lower()) if isinstance(name, str) else None
    return None if cls is None else cls()
