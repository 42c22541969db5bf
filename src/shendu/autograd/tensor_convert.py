"""Reading a Tensor out and converting it (textbook 6.5.1): to NumPy, DLPack and Python numbers, ``repr``, and
to another dtype or device (``to``, ``type``, ``float()``..., differentiable: the gradient flows back to the
original dtype and device, textbook 12.1.2). ``Tensor`` inherits these methods.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..backend import CPU, device_of, get_default_dtype, parse_to_args, to_dtype, to_host
from ..backend.lowp import bfloat16 as _BF16
from .grad_mode import _ModeState, refuse_while_tracing

if TYPE_CHECKING:
    from .tensor import Tensor


class TensorConversion:
    """The conversion and printing methods of ``Tensor`` (a mixin: Tensor's slots hold the data)."""

    __slots__ = ()

    def numpy(self) -> np.ndarray:
        """The underlying NumPy array (shared, not copied). A GPU tensor must be copied with ``.cpu()`` first."""
        if _ModeState.tracing_any:
            refuse_while_tracing("numpy() (a host read of a tensor's values)")
        d = self._data
        if type(d) is not np.ndarray and device_of(d) is not CPU:
            raise TypeError(
                f"numpy(): can't convert {device_of(d)} device type tensor to numpy. "
                "Use Tensor.cpu() to copy the tensor to host memory first."
            )
        return d

    def __array__(self, dtype=None, copy=None):
        d = self.numpy()
        if dtype is not None:
            return d.astype(dtype, copy=False)
        return d

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """DLPack capsule of the data, shared not copied (NumPy on the CPU, CuPy on a GPU); ``sd.from_dlpack``."""
        kw = {k: v for k, v in (("stream", stream), ("max_version", max_version), ("dl_device", dl_device),
                                ("copy", copy)) if v is not None}
        return self._data.__dlpack__(**kw)

    def __dlpack_device__(self):
        """(device type, index) in DLPack's codes: (1, 0) the CPU, (2, i) CUDA device i."""
        return self._data.__dlpack_device__()

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if _ModeState.tracing_any:
            refuse_while_tracing("item() (a host read of a tensor's value)")
        if self._data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python scalar, got shape {self.shape}"
            )
        return self._data.item()

    def tolist(self):
        if _ModeState.tracing_any:
            refuse_while_tracing("tolist() (a host read of a tensor's values)")
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if _ModeState.tracing_any:
            refuse_while_tracing("bool() of a tensor (Python control flow on a tensor's value)")
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self._data.size} elements is ambiguous")
        return bool(self._data.item())

    def __index__(self):
        if _ModeState.tracing_any:
            refuse_while_tracing("a tensor used as an index (a host read of its value)")
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def __hash__(self):
        return id(self)

    def __repr__(self):
        body = np.array2string(to_host(self._data), separator=", ", precision=4, prefix="tensor(")
        extras = []
        dev = device_of(self._data)
        if dev is not CPU:
            extras.append(f"device='{dev}'")
        dt = self._data.dtype
        if (dt != get_default_dtype() and dt.kind == "f") or (dt.kind not in "fb" and dt != np.int64):
            extras.append(f"dtype={self._data.dtype}")
        if self._grad_fn is not None:
            extras.append(f"grad_fn=<{type(self._grad_fn).__name__}Backward>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # --- dtype conversion -----------------------------------------------------------------
    def to(self, *args, **kwargs) -> "Tensor":
        """Move to a device and/or convert dtype: ``t.to("cuda")``, ``t.to(sd.float64)``, ``t.to(other)``.

        Differentiable: the gradient flows back to the original device and dtype (textbook 12.1.2)."""
        dtype, dev = parse_to_args(args, kwargs)
        t = self
        if dev is not None and dev != device_of(self._data):
            from ..ops.elementwise import ToDevice

            t = ToDevice(dev)(t)
        if dtype is not None:
            t = t.type(dtype)
        if kwargs.get("copy") and t is self:
            t = self.clone()
        return t

    def type(self, dtype) -> "Tensor":
        dt = to_dtype(dtype)
        if dt == self._data.dtype:
            return self
        from ..ops.elementwise import Cast

        return Cast(dt)(self)

    def float(self):
        return self.type(np.float32)

    def double(self):
        return self.type(np.float64)

    def long(self):
        return self.type(np.int64)

    def int(self):
        return self.type(np.int32)

    def bool(self):
        return self.type(np.bool_)

    def half(self):
        return self.type(np.float16)

    def bfloat16(self):
        """This tensor in bfloat16 (ml_dtypes on the CPU; 8 exponent bits, 7 mantissa bits; textbook 12.1.6)."""
        return self.type(_BF16)

    def cpu(self):
        """This tensor on the CPU (itself if it is there)."""
        return self.to(CPU)

    def cuda(self, device=None, non_blocking: bool = False):
        """This tensor on a CUDA device (default: cuda:0)."""
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = f"cuda:{device}"
        return self.to(device)

    def contiguous(self):
        return self

    def clone(self) -> "Tensor":
        """A copy that stays in the graph (gradient flows back to self)."""
        from ..ops.elementwise import Clone

        return Clone()(self)
