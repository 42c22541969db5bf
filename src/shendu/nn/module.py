"""``Module``: the base of every layer and model (PyTorch-style; Textbook 6.1, a network as a composition of
functions, and 6.5, its parameters theta).

A Module registers the Parameters, buffers and sub-Modules assigned to its attributes, so ``parameters()``,
``state_dict()``, ``train()``/``eval()`` and ``zero_grad()`` reach the whole tree. This file holds the core:
device placement at construction, registration, calling and forward hooks, traversal, modes and gradients.
``state_dict``/``load_state_dict`` live in ``_module_state.py`` and ``to``/``cpu``/``cuda``/dtype casts in
``_module_device.py``, as mixins of the one class users subclass.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from ..autograd.grad_mode import _Mode, _ModeState, refuse_while_tracing
from ..autograd.tensor import Tensor, _wrap, array_of
from ..backend import CPU, get_default_device, namespace_of, resolve
from ._module_device import DeviceDtypeMixin
from ._module_state import StateDictMixin
from .parameter import Parameter

_BUILDING = threading.local()  # how many Module constructors are running (per thread)


class Module(StateDictMixin, DeviceDtypeMixin):
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
        if _ModeState.tracing_any and isinstance(value, Tensor):
            refuse_while_tracing(f"a tensor stored on {type(self).__name__}.{name} (a replay would not store it)")
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
        if _ModeState.tracing_any and _Mode.tracer is not None:  # autograd.capture: watch this module's buffers
            _Mode.tracer.module(self)
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

    # --- repr -----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        children = list(self.named_children())
        if not children:
            return lines[0] + ")"
        for name, m in children:
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        return "\n".join(lines) + "\n)"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules) + list(self._buffers)
