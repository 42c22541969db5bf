"""``autograd.capture``: record a function's ops once, then replay them without the per-op Python work.

Textbook 6.5.1 describes a computational graph as a program of operations; back-propagation (6.5.6, Algorithm
6.6) runs the operations' bprops in reverse order. For a function whose program does not depend on its data
(the same ops on the same shapes at every call), building that program anew at every call, one Function object,
one Tensor and one grad_table entry per op, is pure overhead: about 4 us per op in Python (benchmarks/overhead.py),
more than the arithmetic of small arrays. ``capture`` records the program on the first two calls of each argument
signature (run eagerly, as usual) and checks that they agree (``capture_trace``); later calls run the recorded
forwards on arrays and return outputs whose graph is one node, whose bprop runs the recorded bprops in reverse
order with a fixed grad_table. PyTorch's nearest equivalents are ``torch.cuda.make_graphed_callables`` and
``torch.jit.trace``; like them, a replay holds the last call's intermediate values (a call's backward must come
before the next call's forward) and takes Python numbers inside the function as constants (checked here: a
number that differs between the two traced calls is refused).

What a replay could get wrong is refused while tracing, with an error naming it: host reads, in-place updates,
optimizer steps, backward passes and hooks inside the function, random draws outside ops (dropout draws inside its
op, so a replay draws a fresh mask), module buffer updates (batch norm in training mode), and values computed
outside the ops from tensor data.
"""
from __future__ import annotations

import threading
import types

import numpy as np

from ..backend import get_default_dtype
from ..backend.device import device_of
from ..backend.lowp import AUTOCAST
from .capture_plan import _Plan, _Replayed  # noqa: F401  (_Replayed: the node type of a replayed call)
from .capture_trace import CaptureError, Trace, params_changed
from .grad_mode import _Mode, _ModeState, is_grad_enabled, set_tracer
from .tensor import Tensor

_ndarray = np.ndarray


class capture:
    """``capture(fn)`` (or ``@capture``): a callable that runs ``fn`` eagerly on the first two calls with each
    argument signature (tensor shapes, dtypes, requires_grad, device; the other arguments, which must be hashable;
    grad mode; the calling thread: each thread has its own program), then replays the recorded ops. Gradients flow
    to the tensor arguments and to the tensors ``fn`` reaches by itself (parameters), through ``backward`` as usual.
    A parameter that changes shape, dtype or requires_grad starts a new trace. ``fn`` returns a Tensor or a
    tuple/list of Tensors."""

    #: Signatures kept per captured function; beyond it every plan is dropped (and traced again when called).
    MAX_PLANS = 64

    def __init__(self, fn, _lenient=False):
        self.fn = fn
        self._lenient = _lenient  # sd.compile: a refused call runs to its end eagerly, then CaptureError (.result)
        self._plans = {}  # signature -> (first Trace, its output keys) after one call, then a _Plan
        self._lock = threading.Lock()
        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):  # not update_wrapper: fn's __dict__
            if hasattr(fn, attr):  # could overwrite this object's own attributes
                setattr(self, attr, getattr(fn, attr))
        self.__wrapped__ = fn

    def __get__(self, obj, objtype=None):
        """``@capture`` on a method: the instance is an argument like any other (part of the signature)."""
        return self if obj is None else types.MethodType(self, obj)

    def __call__(self, *args):
        if _ModeState.anomaly_any and _Mode.anomaly:  # anomaly mode checks every op: run eagerly
            return self.fn(*args)
        key = _signature(args)
        entry = self._plans.get(key)
        if type(entry) is _Plan:
            if entry.unchanged(args):
                return entry.call(args)
            with self._lock:
                self._plans.pop(key, None)
            entry = None
        return self._trace(key, entry, args)

    def _trace(self, key, first, args):
        if _Mode.tracer is not None:
            raise CaptureError("capture: a captured function called while another call is being traced")
        trace = Trace(args, self._lenient)
        set_tracer(trace)
        try:
            result = self.fn(*args)
        finally:
            set_tracer(None)
        try:
            outs = trace.finish(result) if not trace.refused else None
            if trace.refused:  # lenient (sd.compile): a refusal during the call or in finish's checks
                raise CaptureError(trace.refused)
            plan = None if first is None or params_changed(first[0], trace) else \
                _Plan(self.fn, first, (trace, outs), args, result)
        except CaptureError as e:
            e.result = result  # the call itself ran to its end (eagerly): sd.compile returns it
            raise
        if plan is None:
            trace.slim()
        with self._lock:
            if len(self._plans) >= self.MAX_PLANS:
                self._plans.clear()
            self._plans[key] = (trace, outs) if plan is None else plan
        return result

    def reset(self):
        """Forget every recorded program (the next calls trace again)."""
        with self._lock:
            self._plans.clear()


def _signature(args):
    """What selects a recorded program: the thread (each records and replays its own), grad mode, autocast's dtype,
    the default dtype; per tensor argument its shape, dtype, requires_grad, device and which earlier argument it is
    (``f(x, x)`` is another program than ``f(x, y)``); the other arguments by value (floats by their bits)."""
    sig = [threading.get_ident(), is_grad_enabled(), AUTOCAST.dtype, get_default_dtype()]
    first = {}
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            d = a._data
            sig.append((d.shape, d.dtype, a._requires_grad, type(d) if type(d) is _ndarray else str(device_of(d)),
                        first.setdefault(id(a), i)))
        elif type(a) is float:
            sig.append(("float", a.hex()))
        else:
            if type(a) in (tuple, list) and any(isinstance(v, Tensor) for v in a):
                raise TypeError(f"capture: argument {i} is a {type(a).__name__} holding tensors; pass the tensors as "
                                "separate arguments")
            try:
                hash(a)
            except TypeError:
                raise TypeError(f"capture: argument {i} ({type(a).__name__}) is neither a Tensor nor hashable; "
                                "pass tensors, or hashable settings that select a trace") from None
            sig.append(("value", type(a), a))
    return tuple(sig)
