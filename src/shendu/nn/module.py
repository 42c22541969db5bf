"""``Module``: the base of every layer and model (PyTorch-style).

A Module registers the Parameters, buffers and sub-Modules assigned to its attributes,
so ``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``zero_grad()`` reach the
whole tree.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ..autograd.tensor import Tensor, _wrap, array_of
from ..backend import (
    CPU,
    device_of,
    get_default_device,
    namespace_of,
    parse_to_args,
    resolve,
    to_device,
    to_device_of,
    to_dtype,
)
from ..backend.lowp import bfloat16 as _BF16
from ..backend.lowp import is_floating
from .parameter import Parameter

_BUILDING = threading.local()  # how many Module constructors are running (per thread)


class Module:
    """Base class for layers and models: subclass it, assign sub-modules/parameters in
    ``__init__`` and write ``forward``."""

    training: bool

    def __init_subclass__(cls, **kwargs):
        """Every layer constructor honours ``device=`` (and the default device): the layer is built, then
        moved there; a constructor need not handle ``device`` itself."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_places_on_device", False):
            return

        def __init__(self, *args, device=None, **kw):
            dev = get_default_device() if device is None else resolve(device)  # an unknown device fails before building
            depth = _BUILDING.depth = getattr(_BUILDING, "depth", 0) + 1
            try:
                init(self, *args, **kw)
            finally:
                _BUILDING.depth = depth - 1
            # the outermost constructor moves the whole tree once (sub-modules built inside it stay where they
            # were built until then); on the cpu only when something may have been made on the default device
            if depth == 1 and (dev is not CPU or get_default_device() is not CPU):
                self.to(dev)

        __init__._places_on_device = True
        __init__.__wrapped__ = init
        __init__.__doc__ = init.__doc__
        __init__.__qualname__ = init.__qualname__
        cls.__init__ = __init__

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # --- registration ------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        params, mods, bufs = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            mods.pop(name, None)
            bufs.pop(name, None)
            self.__dict__.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            bufs.pop(name, None)
            self.__dict__.pop(name, None)
            mods[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}.{name}: cannot assign {type(value).__name__} to a parameter "
                    "(expected Parameter or None)"
                )
            params[name] = None
        elif name in bufs:
            bufs[name] = value if value is None or isinstance(value, Tensor) else _wrap(array_of(value))
        elif name in mods and value is None:
            mods[name] = None
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param) -> None:
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param if isinstance(param, Parameter) else Parameter(param))

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        """Register non-trainable state (e.g. BatchNorm's running mean) saved in the state dict."""
        self.__dict__.pop(name, None)
        self._buffers[name] = (
            None if tensor is None else (tensor if isinstance(tensor, Tensor) else _wrap(array_of(tensor)))
        )
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)

    def add_module(self, name: str, module) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module")
        self._modules[name] = module

    register_module = add_module

    # --- calling ------------------------------------------------------------------------
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    def __call__(self, *args, **kwargs):
        hooks = self.__dict__.get("_forward_hooks")
        out = self.forward(*args, **kwargs)
        if hooks:
            for h in list(hooks.values()):
                r = h(self, args, out)
                if r is not None:
                    out = r
        return out

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` runs after forward (used by summary and the profiler)."""
        hooks = self.__dict__.setdefault("_forward_hooks", OrderedDict())
        key = object()
        hooks[key] = hook

        class _Handle:
            def remove(self_inner):
                hooks.pop(key, None)

        return _Handle()

    # --- traversal ------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = ""):
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mp, m in mods:
            for name, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mp}.{name}" if mp else name), p

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = ""):
        for mp, m in self.named_modules(prefix=prefix):
            for name, b in m._buffers.items():
                if b is not None:
                    yield (f"{mp}.{name}" if mp else name), b

    def buffers(self):
        for _, b in self.named_buffers():
            yield b

    def apply(self, fn):
        """Call ``fn(module)`` on every sub-module (children first) and on self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ----------------------------------------------------------------
    def train(self, mode: bool = True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, flag: bool = True):
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                g = p.grad._data
                p.grad._data = namespace_of(g).zeros_like(g)  # on the gradient's device

    def num_parameters(self, trainable_only: bool = False) -> int:
        return int(sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only))

    # --- dtype and device -------------------------------------------------------------------
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
        return self.to(np.float64)

    def float(self):
        return self.to(np.float32)

    def half(self):
        """Floating parameters and buffers to float16 (torch's Module.half)."""
        return self.to(np.float16)

    def bfloat16(self):
        """Floating parameters and buffers to bfloat16 (ml_dtypes on the CPU; torch's Module.bfloat16)."""
        return self.to(_BF16)

    # --- state dict -------------------------------------------------------------------------
    def state_dict(self, prefix: str = "") -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name (tensors share memory with the model)."""
        out = OrderedDict()
        for mp, m in self.named_modules(prefix=prefix):
            skip = m.__dict__.get("_non_persistent", ())
            for name, p in m._parameters.items():
                if p is not None:
                    out[f"{mp}.{name}" if mp else name] = p.detach()
            for name, b in m._buffers.items():
                if b is not None and name not in skip:
                    out[f"{mp}.{name}" if mp else name] = b.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values into parameters and buffers; ``strict`` reports missing and unexpected keys.

        Returns (missing_keys, unexpected_keys)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{type(self).__name__}.load_state_dict: expected a dict name -> Tensor/array (from "
                            f"model.state_dict() or sd.load(path)), got {type(state_dict).__name__}")
        own = OrderedDict()
        for mp, m in self.named_modules():
            skip = m.__dict__.get("_non_persistent", ())
            for name, p in m._parameters.items():
                if p is not None:
                    own[f"{mp}.{name}" if mp else name] = p
            for name, b in m._buffers.items():
                if b is not None and name not in skip:
                    own[f"{mp}.{name}" if mp else name] = b
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys: {missing}")
            if unexpected:
                parts.append(f"unexpected keys: {unexpected}")
            raise KeyError(f"{type(self).__name__}.load_state_dict: " + "; ".join(parts))
        errors = []
        for k, t in own.items():
            if k not in state_dict:
                continue
            arr = array_of(state_dict[k])
            if arr.dtype.kind not in "biufc" and not is_floating(arr.dtype):  # bfloat16's NumPy kind is 'V'
                raise TypeError(f"{type(self).__name__}.load_state_dict: {k!r} must be a Tensor or numeric array, "
                                f"got {type(state_dict[k]).__name__} (dtype {arr.dtype})")
            if tuple(arr.shape) != tuple(t.shape):
                errors.append(f"{k}: checkpoint shape {tuple(arr.shape)} vs model shape {tuple(t.shape)}")
        if errors:
            raise ValueError(f"{type(self).__name__}.load_state_dict: size mismatch for " + "; ".join(errors))
        for k, t in own.items():
            if k in state_dict:
                # onto the parameter's device, wherever the source is; never sharing memory with the source
                t._data = to_device_of(array_of(state_dict[k]), t, t._data.dtype, copy=True)
                t._version += 1
        return missing, unexpected

    # --- repr -----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        children = list(self.named_children())
        if not children:
            return lines[0] + ")"
        lines[0] = lines[0]
        for name, m in children:
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        return "\n".join(lines) + "\n)"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules) + list(self._buffers)
