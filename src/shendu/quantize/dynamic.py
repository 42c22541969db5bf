"""Post-training int8 weight quantisation of Linear/Conv/RNN layers (textbook 12.1.6).

``quantize_dynamic(model)`` replaces, in every Linear, Conv and RNN/LSTM/GRU layer, each floating weight
matrix (``weight``, ``weight_ih_l0``, ...) by an int8 buffer ``<name>_int8`` and a per-output-channel scale
buffer ``<name>_scale`` (symmetric, scale_c = max|w_c|/127). The layer keeps its class behaviour: reading
``layer.weight`` dequantises (q * scale) on the fly, so forward is unchanged code. Biases stay float.
Unlike ``torch.ao.quantization.quantize_dynamic`` the activations are not quantised (weight-only; the
matmul runs in float32 on the dequantised weights), so the saving is memory, not arithmetic."""
from __future__ import annotations

import copy

from ..nn.layers.conv import _ConvNd
from ..nn.layers.linear import Linear
from ..nn.layers.recurrent import RNNBase, _CellBase
from ..nn.module import Module
from .fixed_point import quantize_per_channel

DEFAULT_TYPES = (Linear, _ConvNd, RNNBase, _CellBase)
_CLASSES = {}


def _dequant_property(name):
    def get(self):
        b = self._buffers
        q, s = b[name + "_int8"], b[name + "_scale"]
        return q.type(s.dtype) * s

    return property(get, doc=f"{name} dequantised from int8 (q * per-channel scale)")


def _quantized_class(cls, names):
    key = (cls, names)
    if key not in _CLASSES:
        attrs = {n: _dequant_property(n) for n in names}
        attrs["_quantized_weights"] = names
        attrs["__module__"] = __name__
        _CLASSES[key] = type("Quantized" + cls.__name__, (cls,), attrs)
    return _CLASSES[key]


def quantize_module_(module: Module, bits: int = 8) -> Module:
    """Quantise one layer's weight matrices (ndim >= 2, names starting with 'weight') to int8 in place."""
    names = tuple(n for n, p in module._parameters.items()
                  if p is not None and n.startswith("weight") and p.ndim >= 2 and p._data.dtype.kind == "f")
    if not names:
        return module
    for n in names:
        p = module._parameters.pop(n)
        q, s = quantize_per_channel(p.detach(), axis=0, bits=bits)
        module.register_buffer(n + "_int8", q)
        module.register_buffer(n + "_scale", s)
    module.__class__ = _quantized_class(type(module), names)
    return module


def quantize_dynamic(model: Module, qconfig_spec=None, dtype="int8", inplace: bool = False) -> Module:
    """A copy of ``model`` (or the model itself with ``inplace``) whose Linear/Conv/RNN layers (or the layer
    types in ``qconfig_spec``) hold int8 weights with per-channel float scales, dequantised in forward."""
    if str(dtype) not in ("int8", "qint8"):
        raise ValueError(f"quantize_dynamic: only dtype int8 is supported, got {dtype}")
    types = DEFAULT_TYPES if qconfig_spec is None else tuple(qconfig_spec)
    if not all(isinstance(t, type) for t in types):
        raise TypeError(f"quantize_dynamic: qconfig_spec must be a set of layer classes, got {qconfig_spec!r}")
    m = model if inplace else copy.deepcopy(model)
    for sub in list(m.modules()):
        if isinstance(sub, types) and not hasattr(type(sub), "_quantized_weights"):
            quantize_module_(sub)
    return m


def model_nbytes(model: Module) -> int:
    """Bytes held by the model's parameters and buffers (for the memory saved by quantisation)."""
    total = 0
    for t in list(model.parameters()) + list(model.buffers()):
        total += int(t._data.nbytes)
    return total
