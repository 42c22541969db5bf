"""Anomaly detection: name the op that first produces a NaN or Inf (``sd.autograd.detect_anomaly``)."""
from __future__ import annotations

from ..backend import namespace_of


def _bad(a) -> bool:
    data = getattr(a, "_data", a)
    return (
        data is not None
        and getattr(data, "dtype", None) is not None
        and data.dtype.kind in "fc"
        and not bool(namespace_of(data).isfinite(data).all())
    )


def check_forward(fn, outputs) -> None:
    for i, y in enumerate(outputs):
        if _bad(y):
            raise RuntimeError(
                f"anomaly: {type(fn).__name__} produced NaN/Inf in its forward output {i} (shape {y.shape})"
            )


def check_backward(fn, grads) -> None:
    for i, g in enumerate(grads):
        if g is not None and _bad(g):
            raise RuntimeError(f"anomaly: {type(fn).__name__}Backward produced NaN/Inf in the gradient of input {i}")
