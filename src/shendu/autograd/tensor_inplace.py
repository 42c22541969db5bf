"""In-place operations on a Tensor and the version counter (textbook 6.5.6: backward needs the values forward
saw). Each in-place op bumps ``_version``; the engine refuses a backward whose saved input changed. While grad mode
is on, an in-place op is refused on a tensor that requires grad or with an operand that does (autograd records
no in-place ops). ``Tensor`` inherits these methods.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..backend import device_of, generator_for, is_array, namespace_of, to_device
from . import tensor as _tensor
from .grad_mode import _Mode, _ModeState, refuse_while_tracing
from .tensor_data import _index_to, _same_device

if TYPE_CHECKING:
    from .tensor import Tensor


class TensorInPlace:
    """The in-place methods of ``Tensor`` (a mixin: Tensor's slots hold the data and the version)."""

    __slots__ = ()

    # --- in-place ops (no autograd through them) ------------------------------------------
    def _check_inplace(self, opname: str, *operands) -> None:
        """Refuse an in-place op that autograd cannot record while grad mode is on (as PyTorch): on a leaf
        that requires grad (``p -= lr * p.grad`` outside ``no_grad`` would otherwise be lost), on a tensor
        inside the graph, or with an operand that requires grad (its gradient would be dropped)."""
        if _ModeState.tracing_any:
            refuse_while_tracing(f"the in-place update {opname}")
        if _Mode.grad_enabled:
            if self._requires_grad:
                shape = tuple(self._data.shape)
                if self._grad_fn is None:
                    raise RuntimeError(
                        f"{opname}: in-place operation on a leaf tensor of shape {shape} that requires grad (a leaf "
                        "Variable that requires grad is being used in an in-place operation); do the update inside "
                        "`with sd.no_grad():` (as an optimizer step does), or use the out-of-place op"
                    )
                raise RuntimeError(
                    f"{opname}: in-place operation on a tensor of shape {shape} that is part of the graph (shendu "
                    "records no in-place ops); use the out-of-place op (y = y + z) or wrap it in `with sd.no_grad():`"
                )
            for o in operands:
                if isinstance(o, _tensor.Tensor) and o._requires_grad:
                    raise RuntimeError(
                        f"{opname}: an operand of shape {tuple(o.shape)} requires grad, but the in-place result "
                        "would not record it (its gradient would be lost); use the out-of-place op "
                        "(y = y + z), or wrap it in `with sd.no_grad():`"
                    )
        d = self._data
        if type(d) is np.ndarray and not d.flags.writeable:
            self._data = d.copy()

    def _arith_operand(self, other, op):
        """``other`` as the operand of the in-place arithmetic ``op`` on this tensor (see ``_operand``): it may
        not broadcast this tensor bigger, nor bring floats into an integer tensor (PyTorch refuses both)."""
        o = self._operand(other, op)
        d = self._data
        shape = getattr(o, "shape", ())
        if shape != d.shape and len(shape):
            try:
                ok = np.broadcast_shapes(d.shape, shape) == d.shape
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"{op}: an operand of shape {tuple(shape)} cannot be broadcast to the shape "
                                 f"{tuple(d.shape)} of the tensor updated in place")
        if d.dtype.kind in "iub":
            kind = o.dtype.kind if hasattr(o, "dtype") else ("f" if isinstance(o, (float, complex)) else "i")
            if kind in "fc" or op == "div_":
                raise TypeError(f"{op}: the result is floating point and cannot be written in place into a tensor "
                                f"of dtype {d.dtype}; use the out-of-place op (e.g. x = x / y) or x.float() first")
        return o

    def _inplace_result(self, value) -> "Tensor":
        arr = value._data if isinstance(value, _tensor.Tensor) else value
        self._data[...] = arr
        self._version += 1
        return self

    def __setitem__(self, key, value):
        self._check_inplace("__setitem__", value)
        if isinstance(key, _tensor.Tensor):
            key = key._data
        elif isinstance(key, tuple):
            key = tuple(k._data if isinstance(k, _tensor.Tensor) else k for k in key)
        d = self._data
        if type(d) is not np.ndarray:
            key = _index_to(key, device_of(d))
        d[key] = self._operand(value, "__setitem__")
        self._version += 1

    def zero_(self):
        self._check_inplace("zero_")
        self._data.fill(0)
        self._version += 1
        return self

    def fill_(self, value):
        self._check_inplace("fill_")
        self._data.fill(value._data.item() if isinstance(value, _tensor.Tensor) else value)
        self._version += 1
        return self

    def copy_(self, src):
        self._check_inplace("copy_")  # a value copy (``w.data.copy_(other_param)``): src's graph is not followed
        d = self._data
        # copy_ moves across devices
        if isinstance(src, _tensor.Tensor):
            src = src._data
        elif not is_array(src):  # numbers and lists; arrays of any device are moved as they are
            src = np.asarray(src)
        arr = to_device(src, device_of(d))
        xp = namespace_of(d)
        xp.copyto(d, xp.broadcast_to(arr, d.shape), casting="unsafe")
        self._version += 1
        return self

    def _operand(self, other, op):
        """``other`` (a tensor, array or number) as an operand of an in-place op on this tensor: on this
        tensor's device. 0-d tensors and host data move there (as PyTorch); a tensor on another device is an error."""
        o = other._data if isinstance(other, _tensor.Tensor) else other
        d = self._data
        if isinstance(o, (list, tuple)) and type(d) is not np.ndarray:
            o = np.asarray(o, dtype=d.dtype)  # host data: moved to the device below
        if not hasattr(o, "shape") or isinstance(o, np.generic) or (type(o) is np.ndarray and type(d) is np.ndarray):
            return o
        dev = device_of(d)
        if device_of(o) != dev:
            if isinstance(other, _tensor.Tensor) and o.ndim:
                _same_device(o, dev, op)
            o = to_device(o, dev)
        return o

    def add_(self, other, alpha=1):
        self._check_inplace("add_", other)
        o = self._arith_operand(other, "add_")
        if alpha != 1:
            o = o * alpha
        namespace_of(self._data).add(self._data, o, out=self._data, casting="unsafe")
        self._version += 1
        return self

    def sub_(self, other, alpha=1):
        self._check_inplace("sub_", other)
        o = self._arith_operand(other, "sub_")
        if alpha != 1:
            o = o * alpha
        namespace_of(self._data).subtract(self._data, o, out=self._data, casting="unsafe")
        self._version += 1
        return self

    def mul_(self, other):
        self._check_inplace("mul_", other)
        o = self._arith_operand(other, "mul_")
        namespace_of(self._data).multiply(self._data, o, out=self._data, casting="unsafe")
        self._version += 1
        return self

    def div_(self, other):
        self._check_inplace("div_", other)
        o = self._arith_operand(other, "div_")
        namespace_of(self._data).divide(self._data, o, out=self._data, casting="unsafe")
        self._version += 1
        return self

    def clamp_(self, min=None, max=None):
        self._check_inplace("clamp_", min, max)
        namespace_of(self._data).clip(self._data, min, max, out=self._data)
        self._version += 1
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None):
        g = generator or generator_for(self._data)
        self._check_inplace("normal_")
        # a generator may be another device's
        self._data[...] = to_device(g.normal(mean, std, self._data.shape), device_of(self._data))
        self._version += 1
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        g = generator or generator_for(self._data)
        self._check_inplace("uniform_")
        self._data[...] = to_device(g.uniform(a, b, self._data.shape), device_of(self._data))
        self._version += 1
        return self

