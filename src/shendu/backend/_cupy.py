"""The CUDA backend on CuPy (textbook 12.1.2): CuPy arrays, transfers, streams and a device RNG.

Imported only when a "cuda" device is first used; ``import shendu`` never needs CuPy.
"""
from __future__ import annotations

import numpy as np

from .device import Backend


class CupyGenerator:
    """NumPy ``Generator`` methods used by shendu, drawn on one GPU with CuPy's RandomState."""

    def __init__(self, cupy, seed, index):
        self._cp = cupy
        self._index = index
        self.draws = 0  # how many draws so far (CuPy's state cannot be read: autograd.capture counts draws)
        with cupy.cuda.Device(index):
            self._rs = cupy.random.RandomState(seed)

    def _draw(self, fn, *args, **kw):
        self.draws += 1
        with self._cp.cuda.Device(self._index):
            return fn(*args, **kw)

    def random(self, size=None, dtype=np.float64):
        return self._draw(self._rs.random_sample, size, dtype=dtype)

    def standard_normal(self, size=None, dtype=np.float64):
        return self._draw(self._rs.standard_normal, size, dtype=dtype)

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=np.float64):
        return self._draw(self._rs.normal, loc, scale, size, dtype=dtype)

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        return self._draw(self._rs.uniform, low, high, size, dtype=dtype)

    def integers(self, low, high=None, size=None, dtype=np.int64):
        return self._draw(self._rs.randint, low, high, size, dtype=dtype)

    def permutation(self, n):
        return self._draw(self._rs.permutation, n)


class CupyBackend(Backend):
    """CuPy arrays on NVIDIA GPUs."""

    name = "cuda"

    def __init__(self):
        import cupy

        self.xp = cupy
        self.array_type = cupy.ndarray
        self._cp = cupy
        self._count = int(cupy.cuda.runtime.getDeviceCount())  # fixed for the process; resolve() reads it often

    def device_count(self) -> int:
        return self._count

    def index_of(self, arr) -> int:
        return int(arr.device.id)

    def to_device(self, arr, index):
        with self._cp.cuda.Device(index or 0):
            return self._cp.asarray(arr)

    def to_host(self, arr) -> np.ndarray:
        return self._cp.asnumpy(arr)

    def synchronize(self, index=None) -> None:
        if index is None:
            self._cp.cuda.Stream.null.synchronize()
            self._cp.cuda.runtime.deviceSynchronize()
        else:
            with self._cp.cuda.Device(index):
                self._cp.cuda.runtime.deviceSynchronize()

    def use(self, index):
        return self._cp.cuda.Device(index or 0)

    def generator(self, seed, index):
        return CupyGenerator(self._cp, seed, index or 0)

    def info(self) -> dict:
        cp = self._cp
        out = {"cupy": cp.__version__}
        try:
            out["cuda_runtime"] = str(cp.cuda.runtime.runtimeGetVersion())
            out["cuda_driver"] = str(cp.cuda.runtime.driverGetVersion())
        except Exception as exc:  # pragma: no cover - depends on the driver
            out["cuda_runtime"] = f"unknown ({exc})"
        for i in range(self.device_count()):
            try:
                props = cp.cuda.runtime.getDeviceProperties(i)
                name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
                with cp.cuda.Device(i):
                    free, total = cp.cuda.runtime.memGetInfo()
                out[f"cuda:{i}"] = f"{name}, {total / 2**30:.1f} GiB ({free / 2**30:.1f} GiB free)"
            except Exception as exc:  # pragma: no cover
                out[f"cuda:{i}"] = f"unreadable ({exc})"
        return out
