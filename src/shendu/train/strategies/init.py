"""Initialisation strategies (textbook 8.4): output bias from the class marginals, LSUV-style data-driven scaling.

- ``init_output_bias(linear, class_counts)``: b = log c with c the class marginals, so softmax(b) = c (W8.22);
  with weights near zero the initial predictions equal the marginal distribution.
- ``lsuv_init(model, x)``: (Mishkin & Matas 2016; textbook 8.4 "data-driven scale adjustment") orthogonal init,
  then, layer by layer in forward order, rescale each Linear/Conv weight until its output on the batch x has unit
  variance.
"""
from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import no_grad
from ...backend import device_of, to_device
from ...nn import init as _init
from ...nn.layers.conv import _ConvNd
from ...nn.layers.linear import Linear

__all__ = ["init_output_bias", "lsuv_init"]


def init_output_bias(linear, class_counts, zero_weights: bool = False):
    """Set linear.bias = log(c / sum c) (softmax(b) = c, textbook 8.4, W8.22); optionally zero the weights."""
    c = np.asarray(class_counts, dtype=np.float64)
    if linear.bias is None or c.shape != tuple(linear.bias.shape) or (c <= 0).any():
        want = None if linear.bias is None else tuple(linear.bias.shape)
        raise ValueError(f"init_output_bias: need a layer with a bias and {want} "
                         f"positive class counts, got counts of shape {c.shape} (min {c.min() if c.size else None})")
    b = np.log(c / c.sum()).astype(linear.bias.dtype)
    with no_grad():
        linear.bias.copy_(to_device(b, device_of(linear.bias._data)))
        if zero_weights:
            linear.weight.zero_()
    return linear


def lsuv_init(model, x, tol: float = 0.05, max_iter: int = 10, orthogonal: bool = True):
    """Scale every Linear/Conv layer of ``model`` (forward order) so its output on the batch ``x`` has variance 1
    (+- tol). Returns the output variance of each layer after its adjustment (a list of floats)."""
    layers = [m for m in model.modules() if isinstance(m, (Linear, _ConvNd))]
    if not layers:
        raise ValueError(f"lsuv_init: {type(model).__name__} has no Linear or Conv layers")
    out = {}

    def hook(module, inputs, output):
        out["y"] = output

    variances = []
    with no_grad():
        for layer in layers:
            if orthogonal:
                _init.orthogonal_(layer.weight)
            handle = layer.register_forward_hook(hook)
            try:
                for _ in range(int(max_iter)):
                    model(x)
                    v = float(out["y"].var().item())
                    if abs(v - 1.0) < tol or v <= 0:
                        break
                    layer.weight /= float(np.sqrt(v))  # in place (no_grad): optimizers keep their references
                model(x)
                variances.append(float(out["y"].var().item()))
            finally:
                handle.remove()
    return variances
