"""Input checks shared by layers and losses: a Python list (or tuple, number, string) where a tensor is expected
is refused with a TypeError naming the layer or loss, as PyTorch ("linear(): argument 'input' must be Tensor,
not list"), never an AttributeError from deep inside. Layers keep taking NumPy/CuPy arrays as before."""
from __future__ import annotations

import functools

from ...autograd.tensor import Tensor


_MISSING = object()


def not_tensor(name, arg: str, value) -> TypeError:
    """The error for a non-Tensor ``value`` passed as argument ``arg`` of ``name`` (a layer/loss name, or a
    layer: its class name)."""
    if not isinstance(name, str):
        name = type(name).__name__
    kind = type(value).__name__
    return TypeError(f"{name}(): argument '{arg}' must be Tensor, not {kind} (convert it first: sd.tensor(...))")


def check_tensor(name, x, arg: str = "input"):
    """``x`` if it is a Tensor, else a TypeError naming ``name`` (a string, or the layer itself: its class
    name is looked up only on the error path); one isinstance on the hot path."""
    if isinstance(x, Tensor) or hasattr(x, "__array_namespace__") or hasattr(x, "__cuda_array_interface__"):
        return x  # arrays keep working where a layer took them before (ops wrap them as constants)
    raise not_tensor(name, arg, x)


def tensor_args(*names: str):
    """Decorator: the named arguments of a loss function must be Tensors (checked before anything else)."""

    def deco(fn):
        code = fn.__code__
        pos = [(code.co_varnames.index(n), n) for n in names]
        fname = fn.__name__

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for i, n in pos:
                v = args[i] if i < len(args) else kwargs.get(n, _MISSING)
                if not isinstance(v, Tensor) and v is not _MISSING:  # a missing one: Python's own error
                    raise not_tensor(fname, n, v)
            return fn(*args, **kwargs)

        return wrapper

    return deco
