"""DLPack exchange (zero copy) with NumPy, PyTorch, CuPy, JAX...: ``sd.from_dlpack(obj)`` and
``Tensor.__dlpack__`` / ``__dlpack_device__`` (so ``torch.from_dlpack(t)`` and ``np.from_dlpack(t)`` work)."""
from __future__ import annotations

import numpy as np

_CPU, _CUDA, _CUDA_HOST, _CUDA_MANAGED = 1, 2, 3, 13


def from_dlpack(ext):
    """A shendu Tensor sharing the memory of ``ext`` (any object with ``__dlpack__``), as ``torch.from_dlpack``.

    CPU data become a NumPy-backed tensor, CUDA data a CuPy-backed one (needs CuPy). Writes through
    either side are seen by the other. A shendu Tensor is returned as is."""
    from ..autograd.tensor import Tensor, _wrap

    if isinstance(ext, Tensor):
        return ext
    if not hasattr(ext, "__dlpack__") or not hasattr(ext, "__dlpack_device__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ and __dlpack_device__ (a NumPy array, "
                        f"torch.Tensor, cupy.ndarray...), got {type(ext).__name__}")
    dev_type, index = (int(v) for v in ext.__dlpack_device__())
    if dev_type == _CPU:
        return _wrap(np.from_dlpack(ext))
    if dev_type in (_CUDA, _CUDA_HOST, _CUDA_MANAGED):
        from ..backend.device import cuda_backend

        be = cuda_backend()
        xp = be.xp
        if not hasattr(xp, "from_dlpack") or getattr(xp, "__name__", "") != "cupy":
            raise TypeError(f"from_dlpack: CUDA data need CuPy as shendu's CUDA backend, got {xp.__name__}")
        with xp.cuda.Device(index):
            return _wrap(xp.from_dlpack(ext))
    raise TypeError(f"from_dlpack: unsupported DLPack device type {dev_type} (index {index}); shendu reads "
                    "the CPU (1) and CUDA (2, 3, 13)")
