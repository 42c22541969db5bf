"""Names -> objects for the Keras-style API: losses, optimizers, metrics; learning-rate access; gradient clipping.

Losses come from `shendu.nn.functional`, optimizers from `shendu.optim`, metrics from `shendu.metrics`
(textbook 11.1), all looked up when first used so this module imports nothing above `train`.
"""
from __future__ import annotations

import numpy as np

from ..backend import namespace_of

__all__ = ["get_loss", "get_optimizer", "get_metric", "get_lr", "set_lr", "clip_grad_norm", "scale_grads_to_norm"]

LOSSES = {
    "cross_entropy": "cross_entropy", "crossentropy": "cross_entropy", "ce": "cross_entropy",
    "nll": "nll_loss", "nll_loss": "nll_loss",
    "mse": "mse_loss", "mse_loss": "mse_loss", "mean_squared_error": "mse_loss",
    "mae": "l1_loss", "l1": "l1_loss", "l1_loss": "l1_loss", "mean_absolute_error": "l1_loss",
    "bce": "binary_cross_entropy",
    "binary_cross_entropy": "binary_cross_entropy",
    "bce_with_logits": "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits",
    "huber": "huber_loss", "huber_loss": "huber_loss", "smooth_l1": "smooth_l1_loss",
}

#: Keras names: Keras semantics (probabilities in unless from_logits=True), from shendu.keras.losses
KERAS_LOSSES = ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy")

OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad",
              "adadelta": "Adadelta", "nadam": "NAdam", "lbfgs": "LBFGS"}


class KerasLossAdapter:
    """A Keras loss (y_true, y_pred) -> per-sample or reduced loss, called as (output, target) -> mean loss.
    On its first call it warns when the outputs are not probabilities but the loss expects them."""

    def __init__(self, fn, name):
        self.fn, self.__name__ = fn, name
        self._checked = False

    def __call__(self, output, target):
        if not self._checked:
            self._checked = True
            _warn_if_not_probabilities(self.fn, self.__name__, output)
        v = self.fn(target, output)
        return v.mean() if v.ndim else v


def _warn_if_not_probabilities(fn, name, output):
    from ..ops.elementwise import Sigmoid
    from ..ops.softmax import Softmax

    kw = getattr(fn, "kwargs", None) or {}
    if kw.get("from_logits") or type(output._grad_fn) in (Softmax, Sigmoid):
        return
    arr = output._data
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        import warnings

        warnings.warn(f"{name}: the model's outputs lie in [{lo:.3g}, {hi:.3g}], not probabilities; Keras' "
                      f"{name!r} takes probabilities: end the model in softmax/sigmoid, use "
                      f"from_logits=True, or the PyTorch-style 'cross_entropy' for logits", stacklevel=3)


def _by_name(kind, name, table, module, known):
    """``module``'s attribute that ``table`` names for ``name`` (any case); ValueError for a name not in the table
    (listing ``known``) or an attribute this build lacks."""
    key = table.get(name.lower())
    if key is None:
        raise ValueError(f"unknown {kind} {name!r}; known names: {sorted(known)}")
    obj = getattr(module, key, None)
    if obj is None:
        raise ValueError(f"{kind} {name!r} needs {module.__name__}.{key}, which this build does not have")
    return obj


def get_loss(loss):
    """A callable (output, target) -> scalar Tensor from a callable or a name such as 'cross_entropy', 'mse'.
    Keras names ('categorical_crossentropy', 'sparse_categorical_crossentropy', 'binary_crossentropy') and
    Keras loss objects/functions take (y_true, y_pred) and probabilities unless from_logits=True."""
    if isinstance(loss, str) and loss.lower() in KERAS_LOSSES:
        from ..keras import losses as keras_losses

        return KerasLossAdapter(keras_losses.get(loss), loss.lower())
    if callable(loss):
        if getattr(loss, "_keras_loss", False):
            return KerasLossAdapter(loss, getattr(loss, "name", None) or loss.__name__)
        return loss
    if not isinstance(loss, str):
        raise TypeError(f"loss must be a callable or a name, got {type(loss).__name__}")
    from ..nn import functional as F

    return _by_name("loss", loss, LOSSES, F, set(LOSSES) | set(KERAS_LOSSES))


def get_optimizer(optimizer, params, lr=None, **kwargs):
    """An optimizer instance from an instance or a name ('sgd', 'adam', ...) built on `params`."""
    if not isinstance(optimizer, str):
        if hasattr(optimizer, "apply_gradients") and not getattr(optimizer, "built", True):
            optimizer.build(list(params))  # a Keras optimizer made without parameters
        if callable(optimizer) and not hasattr(optimizer, "step"):
            return optimizer(params)  # a factory params -> optimizer
        if not hasattr(optimizer, "step"):
            raise TypeError(f"optimizer must have a step() method or be a name, got {type(optimizer).__name__}")
        if lr is not None:
            set_lr(optimizer, lr)
        return optimizer
    from .. import optim

    cls = _by_name("optimizer", optimizer, OPTIMIZERS, optim, OPTIMIZERS)
    if lr is not None:
        kwargs["lr"] = lr
    return cls(list(params), **kwargs)


def _host(x):
    """Metric inputs as host arrays (tensors and arrays on a GPU are copied over)."""
    from ..data.dataset import to_numpy

    return to_numpy(x)


def _binary_accuracy(y_true, y_pred, threshold=0.5):
    y_pred = _host(y_pred)
    p = y_pred.reshape(len(y_pred), -1)
    if p.shape[1] != 1:
        raise ValueError(f"binary_accuracy: expected outputs (N,) or (N, 1), got {np.shape(y_pred)}")
    t = _host(y_true).reshape(-1)
    return float(np.mean((p[:, 0] > threshold) == (t > 0.5)))


def _labels(p):
    """Class labels from scores (N, K) by argmax; labels (N,) as they are."""
    p = _host(p)
    return p.argmax(1) if p.ndim == 2 else p


def get_metric(metric):
    """(name, fn(y_true, y_pred) -> float) from a callable or a name: 'accuracy', 'top5', 'f1', 'precision', ..."""
    from .. import metrics

    if callable(metric):
        return getattr(metric, "__name__", type(metric).__name__), metric
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a callable or a name, got {type(metric).__name__}")
    name = metric.lower()
    if name in ("accuracy", "acc"):
        return "accuracy", metrics.accuracy
    if name == "binary_accuracy":
        return "binary_accuracy", _binary_accuracy
    if name.startswith("top") and name[3:].isdigit():
        k = int(name[3:])
        return name, lambda t, p: metrics.top_k_accuracy(t, p, k=k)
    for short, fn in (("f1", metrics.f1_score), ("precision", metrics.precision), ("recall", metrics.recall)):
        if name in (short, f"{short}_macro", f"{short}_micro", f"{short}_weighted"):
            avg = name.split("_")[1] if "_" in name else "macro"
            return name, (lambda f, a: (lambda t, p: f(t, _labels(p), average=a)))(fn, avg)
    raise ValueError(f"unknown metric {metric!r}; known: accuracy, binary_accuracy, topK, f1, precision, recall "
                     "(with _macro/_micro/_weighted), or a callable (y_true, y_pred) -> float")


def get_lr(optimizer):
    """Learning rate of the first parameter group (or the optimizer's `lr` attribute)."""
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        return float(groups[0]["lr"])
    return float(optimizer.lr)


def set_lr(optimizer, lr):
    """Set the learning rate of every parameter group (or the `lr` attribute)."""
    groups = getattr(optimizer, "param_groups", None)
    if groups:
        for g in groups:
            g["lr"] = float(lr)
    else:
        optimizer.lr = float(lr)


def clip_grad_norm(parameters, max_norm):
    """Scale gradients in place so their global L2 norm is at most max_norm (textbook 10.11.1); returns the norm
    as a float (read back from the device for gradients on a GPU; the training loop uses `scale_grads_to_norm`,
    which reads nothing back)."""
    total = scale_grads_to_norm(parameters, max_norm)
    return total if isinstance(total, float) else float(total)


def scale_grads_to_norm(parameters, max_norm):
    """`clip_grad_norm` without a device-to-host sync: the norm is a float for host gradients, a 0-d device
    array for gradients on a device (scaled there by min(1, max_norm / (norm + 1e-6)))."""
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return 0.0
    from ..optim.clip import get_total_norm

    total = get_total_norm([p.grad._data for p in params], 2.0)  # a 0-d device array for device gradients
    if not isinstance(total, float):
        return _scale_on_device(params, max_norm, total, namespace_of(total))
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:  # new arrays: the engine may share one gradient buffer between tensors
        for p in params:
            p.grad._data = p.grad._data * p.grad._data.dtype.type(scale)
    return total


def _scale_on_device(params, max_norm, total, xp):
    scale = max_norm / (total + 1e-6)
    scale = xp.where(scale < 1.0, scale, 1.0)  # multiplying by 1 is exact: no branch on a device value
    for p in params:  # new arrays: the engine may share one gradient buffer between tensors
        p.grad._data = p.grad._data * scale.astype(p.grad._data.dtype)
    return total
