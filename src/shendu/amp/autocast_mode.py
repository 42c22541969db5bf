"""``amp.autocast``: a context manager / decorator that switches the per-thread autocast state on."""
from __future__ import annotations

import functools

import numpy as np

from ..backend.lowp import AUTOCAST, LOW_PRECISION, bfloat16

_DEFAULT = {"cpu": bfloat16, "cuda": np.dtype(np.float16)}


def get_autocast_dtype(device_type: str = "cpu"):
    """The dtype autocast uses on ``device_type`` when none is given (cpu: bfloat16, cuda: float16, as torch)."""
    if device_type not in _DEFAULT:
        raise ValueError(f"autocast: device_type must be 'cpu' or 'cuda', got {device_type!r}")
    return _DEFAULT[device_type]


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on in this thread (for ``device_type`` when given)."""
    return AUTOCAST.dtype is not None and (device_type is None or AUTOCAST.device_type == device_type)


class autocast:
    """Run matmul/linear/conv in ``dtype`` (low precision) and softmax/losses in float32 inside the block.

    ``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)`` as ``torch.autocast``; only
    tensors on ``device_type`` are cast. Blocks nest; ``enabled=False`` switches autocast off inside."""

    def __init__(self, device_type: str = "cpu", dtype=None, enabled: bool = True, cache_enabled=None):
        if device_type not in _DEFAULT:
            raise ValueError(f"autocast: device_type must be 'cpu' or 'cuda', got {device_type!r}")
        dt = get_autocast_dtype(device_type) if dtype is None else np.dtype(dtype)
        if dt not in LOW_PRECISION:
            raise ValueError(f"autocast: dtype must be float16 or bfloat16, got {dt}")
        self.device_type = device_type
        self.fast_dtype = dt
        self._enabled = bool(enabled)

    def __enter__(self):
        self._prev = (AUTOCAST.dtype, AUTOCAST.device_type)
        if self._enabled:
            AUTOCAST.dtype, AUTOCAST.device_type = self.fast_dtype, self.device_type
        else:
            AUTOCAST.dtype, AUTOCAST.device_type = None, None
        return self

    def __exit__(self, *exc):
        AUTOCAST.dtype, AUTOCAST.device_type = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with autocast(self.device_type, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)

        return wrapped
