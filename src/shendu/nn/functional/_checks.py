"""Input checks shared by layers and losses: a Python list (or tuple, number, string) where a tensor is expected
is refused with a TypeError naming the layer or loss, as PyTorch ("linear(): argument 'input' must be Tensor,
not list"), never an AttributeError from deep inside. Layers keep taking NumPy/CuPy arrays as before."""
from __future__ import annotations

import functools

from ...autograd.tensor import Tensor
from ...backend.lowp import AUTOCAST, is_floating

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
    name is looked up only on the error path); one isinstance on the hot path. When ``name`` is a layer,
    ``x`` must also have the dtype of the layer's floating weights (``check_dtype``)."""
    if isinstance(x, Tensor) or hasattr(x, "__array_namespace__") or hasattr(x, "__cuda_array_interface__"):
        if not isinstance(name, str):
            check_dtype(name, x, arg)
        return x  # arrays keep working where a layer took them before (ops wrap them as constants)
    raise not_tensor(name, arg, x)


def _weight_dtype(layer):
    """The dtype of the layer's own first floating parameter (else buffer), or None."""
    d = getattr(layer, "__dict__", None) or {}
    for store in ("_parameters", "_buffers"):
        for p in (d.get(store) or {}).values():
            if p is not None:
                dt = p._data.dtype
                if is_floating(dt):
                    return dt
    return None


def check_dtype(layer, x, arg: str = "input") -> None:
    """A TypeError when the input ``x`` of ``layer`` has another dtype than the layer's floating weights (as
    PyTorch: a float64 input to a float32 layer would silently run the whole pass in float64, an integer one
    would be cast by NumPy); names the layer, both dtypes and the fix."""
    xd = getattr(x, "dtype", None)
    if xd is None:
        return
    wd = _weight_dtype(layer)
    if wd is None or xd == wd or AUTOCAST.dtype is not None:  # amp.autocast mixes dtypes on purpose
        return
    conv = {"float32": "x.float()", "float64": "x.double()", "float16": "x.half()", "bfloat16": "x.bfloat16()"}
    fix = f"convert the {arg} with {conv.get(str(wd), f'x.to({wd})')}"
    if xd.kind != "c" and is_floating(xd):
        whole = {"float32": "model.float()", "float64": "model.double()", "float16": "model.half()",
                 "bfloat16": "model.to(sd.bfloat16)"}.get(str(xd))
        if whole:
            fix += f", or the model with {whole}"
    raise TypeError(f"{type(layer).__name__}: {arg} has dtype {xd} but the layer's weights have dtype {wd} "
                    f"(no silent promotion); {fix}")


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
