"""``Module.state_dict`` / ``load_state_dict``: a network's parameters and persistent buffers by dotted name,
saved and restored (Textbook 7.8 early stopping keeps the best parameters; 8.7.4 initialising from another
model). A mixin of ``nn.Module``; it relies on ``Module.named_modules()``."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from ..autograd.tensor import array_of
from ..backend import to_device_of
from ..backend.lowp import is_floating


def named_state(module, prefix: str = ""):
    """(dotted name, tensor) for every parameter and persistent buffer of ``module``'s tree, in state-dict order."""
    for mp, m in module.named_modules(prefix=prefix):
        skip = m.__dict__.get("_non_persistent", ())
        for name, p in m._parameters.items():
            if p is not None:
                yield (f"{mp}.{name}" if mp else name), p
        for name, b in m._buffers.items():
            if b is not None and name not in skip:
                yield (f"{mp}.{name}" if mp else name), b


class StateDictMixin:
    """state_dict / load_state_dict of a Module tree (PyTorch's semantics: strict keys, shape checks)."""

    __slots__ = ()

    def state_dict(self, prefix: str = "") -> OrderedDict:
        """Parameters and persistent buffers by dotted name (tensors share memory with the model)."""
        out = OrderedDict()
        for k, t in named_state(self, prefix):
            out[k] = t.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values into parameters and buffers; ``strict`` reports missing and unexpected keys.

        Returns (missing_keys, unexpected_keys)."""
        name = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{name}.load_state_dict: expected a dict name -> Tensor/array (from "
                            f"model.state_dict() or sd.load(path)), got {type(state_dict).__name__}")
        own = OrderedDict(named_state(self))
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys: {missing}")
            if unexpected:
                parts.append(f"unexpected keys: {unexpected}")
            raise KeyError(f"{name}.load_state_dict: " + "; ".join(parts))
        errors = []
        for k, t in own.items():
            if k not in state_dict:
                continue
            arr = array_of(state_dict[k])
            if arr.dtype.kind not in "biufc" and not is_floating(arr.dtype):  # bfloat16's NumPy kind is 'V'
                raise TypeError(f"{name}.load_state_dict: {k!r} must be a Tensor or numeric array, "
                                f"got {type(state_dict[k]).__name__} (dtype {arr.dtype})")
            if tuple(arr.shape) != tuple(t.shape):
                errors.append(f"{k}: checkpoint shape {tuple(arr.shape)} vs model shape {tuple(t.shape)}")
        if errors:
            raise ValueError(f"{name}.load_state_dict: size mismatch for " + "; ".join(errors))
        for k, t in own.items():
            if k in state_dict:
                # onto the parameter's device, wherever the source is; never sharing memory with the source
                t._data = to_device_of(array_of(state_dict[k]), t, t._data.dtype, copy=True)
                t._version += 1
        return missing, unexpected
