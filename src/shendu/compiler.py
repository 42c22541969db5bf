"""``sd.compile``: PyTorch's ``torch.compile`` entry point, on shendu's capture-and-replay (``autograd.capture``).

``torch.compile(model)`` turns a module or a function into one that runs faster after a few warm-up calls, and
falls back to eager Python where it cannot compile ("graph breaks"). shendu has no code generator; its
counterpart records the ops of the first two calls with each signature and replays them (textbook 6.5.1: the graph
as a program run again), which removes the per-op Python work of small ops (benchmarks/overhead.py). Where
``autograd.capture`` refuses a function (a host read, a random draw outside ops, batch norm's running statistics in
training mode, ...), ``compile`` warns once and runs that signature eagerly, as ``torch.compile`` does at a graph
break; ``fullgraph=True`` raises instead. A refused call is not run twice: recording stops at the refusal and the
call goes on eagerly, so it draws, updates and returns exactly what an eager call would. ``backend``, ``mode``,
``dynamic`` and ``options`` are accepted and ignored.
"""
from __future__ import annotations

import warnings

from .autograd.capture import capture
from .autograd.capture_trace import CaptureError
from .nn.module import Module


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None,  # noqa: A001
            disable=False):
    """``model`` (an ``nn.Module`` or a function) with its calls captured and replayed; as ``torch.compile``, also
    a decorator with or without arguments. A module comes back wrapped in an ``OptimizedModule`` sharing its
    parameters (its ``state_dict`` keys start with ``_orig_mod.``, as PyTorch's)."""
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, disable=disable)
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, fullgraph)
    if not callable(model):
        raise TypeError(f"compile: expected an nn.Module or a callable, got {type(model).__name__}")
    return _Compiled(model, fullgraph)


class _Compiled:
    """A captured callable that falls back to eager calls for the signatures ``capture`` refuses."""

    def __init__(self, fn, fullgraph):
        self._orig = fn
        self._captured = capture(fn, _lenient=not fullgraph)
        self._fullgraph = fullgraph
        self._eager = set()  # signatures capture refused: called eagerly from then on
        self._warned = False
        self.__wrapped__ = fn

    def __call__(self, *args, **kwargs):
        if kwargs:  # capture takes positional arguments only
            return self._orig(*args, **kwargs)
        key = _eager_key(args)
        try:
            if key in self._eager:
                return self._orig(*args)
        except TypeError:  # an unhashable setting: no capture for this call
            return self._orig(*args)
        try:
            return self._captured(*args)
        except (CaptureError, TypeError) as e:
            if isinstance(e, TypeError) and not str(e).startswith("capture:"):
                raise
            if self._fullgraph:
                raise
            self._eager.add(key)
            if not self._warned:
                self._warned = True
                warnings.warn(f"sd.compile: {e} -- running these calls eagerly", RuntimeWarning, stacklevel=2)
            if hasattr(e, "result"):  # the refused call ran to its end eagerly: its result is the eager one
                return e.result
            return self._orig(*args)  # refused before fn ran (a call inside another trace, an argument's type)


def _eager_key(args):
    """The shape of a call that ``_Compiled`` remembers as refused: tensor shapes and dtypes, other values."""
    out = []
    for a in args:
        d = getattr(a, "_data", None)
        out.append((d.shape, str(d.dtype)) if d is not None else a)
    return tuple(out)


class OptimizedModule(Module):
    """``compile(module)``: calls go through the captured forward; attributes, parameters, ``train()``/``eval()``
    and ``state_dict`` (keys prefixed ``_orig_mod.``) reach the original module."""

    def __init__(self, mod, fullgraph=False):
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled", _Compiled(mod, fullgraph))

    def __call__(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def forward(self, *args, **kwargs):
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.__dict__["_modules"]["_orig_mod"], name)
