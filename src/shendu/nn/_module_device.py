"""``Module.to`` and its shorthands (cpu, cuda, double, float, half, bfloat16): moving a network's parameters
and buffers to a device and/or dtype in place (Textbook 12.1.2, GPU computation; 12.1.6 low precision).
A mixin of ``nn.Module``; it relies on ``Module.modules()``."""
from __future__ import annotations

import numpy as np

from ..backend import device_of, parse_to_args, to_device, to_dtype
from ..backend.lowp import bfloat16 as _BF16
from ..backend.lowp import is_floating


class DeviceDtypeMixin:
    """Device and dtype conversion of every parameter, gradient and buffer of a Module tree."""

    __slots__ = ()

    def to(self, *args, **kwargs):
        """Move parameters and buffers to a device and/or convert floating ones to a dtype, in place
        (the same Parameter objects, so an optimizer built before keeps working): ``model.to("cuda")``,
        ``model.to(sd.float64)``, ``model.to(device, dtype)`` (textbook 12.1.2)."""
        dtype, dev = parse_to_args(args, kwargs)
        if dtype is None and dev is None:
            return self
        dt = None if dtype is None else to_dtype(dtype)

        def convert(t):
            arr = t._data
            if dev is not None and device_of(arr) != dev:
                arr = to_device(arr, dev)
            if dt is not None and arr.dtype.kind != "c" and is_floating(arr.dtype):
                arr = arr.astype(dt)
            return arr

        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    p._data = convert(p)
                    if p.grad is not None:
                        p.grad._data = convert(p.grad)
            for b in m._buffers.values():
                if b is not None:
                    b._data = convert(b)
        return self

    def cpu(self):
        """Move every parameter and buffer to the CPU (in place)."""
        return self.to("cpu")

    def cuda(self, device=None):
        """Move every parameter and buffer to a CUDA device (in place; default cuda:0)."""
        return self.to("cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else device))

    def double(self):
        """Floating parameters and buffers to float64."""
        return self.to(np.float64)

    def float(self):
        """Floating parameters and buffers to float32."""
        return self.to(np.float32)

    def half(self):
        """Floating parameters and buffers to float16 (torch's Module.half)."""
        return self.to(np.float16)

    def bfloat16(self):
        """Floating parameters and buffers to bfloat16 (ml_dtypes on the CPU; torch's Module.bfloat16)."""
        return self.to(_BF16)
