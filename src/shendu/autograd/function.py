"""``Function``: one node of the computational graph (textbook 6.5.6, op.f and op.bprop).

A Function's ``forward`` works on backend arrays and returns an array (or a tuple of
arrays for a multi-output op). Its ``backward`` receives one gradient per output as
Tensors and returns one gradient per input (or None), written with shendu's own
differentiable ops, so the gradient is itself a graph when ``create_graph=True`` and
second derivatives come for free (textbook 6.5.6: "insert G into the graph").

A hot op may also define ``backward_array`` on raw arrays; the engine uses it when no
graph is being recorded. Ops keep what backward needs in ``self.saved``; the inputs
are kept in ``self.inputs``. ``backward`` must treat all inputs as distinct even when
they are the same tensor (textbook 6.5.6: mul(x, x) gives x to each slot).

User-defined ops subclass Function and call it as ``MyOp.apply(*tensors)`` (or
``MyOp()(*tensors)``); ``forward``/``backward`` may be instance methods or
PyTorch-style static methods taking ``ctx`` first (ctx is the Function instance).
"""
from __future__ import annotations

import itertools

import numpy as np

from ..backend.device import common_namespace, use_device
from .grad_mode import _GRAD_OFF, _Mode, _ModeState, refuse_while_tracing
from .tensor import Tensor, _wrap, _wrap_grad

#: Creation order of recorded nodes: a consumer is always numbered after its producers, so
#: processing nodes by decreasing number is a topological order (the engine relies on it).
_SEQ = itertools.count()
_ndarray = np.ndarray


def _as_tensors(inputs):
    """The inputs of an op call with numbers and arrays as constant tensors."""
    from .tensor import as_tensor

    return tuple(x if isinstance(x, Tensor) else as_tensor(x) for x in inputs)


def _moved(x, arr):
    """Input ``x`` (a 0-d host tensor) as moved to the device: in the graph when it needs a gradient."""
    if x._requires_grad:
        from ..backend import device_of
        from ..ops.elementwise import ToDevice

        return ToDevice(device_of(arr))(x)
    return _wrap(arr)


class Function:
    """Base class of every differentiable operation."""

    # Per-node state; class-level defaults so a fresh node needs no __init__ call.
    inputs = None  # the input Tensors (None once the graph is freed, or when nothing needs grad)
    needs_input_grad = None
    saved = None
    _versions = None
    _out_meta = None  # (shape, dtype) per output, for multi-output ops
    _out_hooks = None
    _seq = 0
    backward_array = None  # optional array-level fast path, same signature as backward

    #: False for ops whose backward never reads the input values (add, neg, reshape...);
    #: those skip the in-place version check.
    needs_input_values = True

    #: The array namespace of this call's inputs (NumPy; CuPy or the stand-in when they are on a GPU).
    #: ``forward``/``backward_array`` compute with ``self.xp``, never with a global module.
    xp = np
    device_index = None  # the CUDA ordinal when the inputs are on a GPU other than cuda:0

    # --- user-facing helpers (PyTorch ctx API) -------------------------------------------
    def save_for_backward(self, *tensors):
        """Keep tensors (or arrays) for backward; read them back as ``self.saved_tensors``."""
        self.saved = tensors

    @property
    def saved_tensors(self):
        saved = self.saved
        if saved is None:
            raise RuntimeError(
                f"{type(self).__name__}: saved values were freed by a previous backward; "
                "call backward(retain_graph=True) to backward through the graph twice"
            )
        return tuple(_wrap(s) if not isinstance(s, Tensor) and hasattr(s, "shape") else s for s in saved)

    def mark_non_differentiable(self, *tensors):  # pragma: no cover - compatibility no-op
        pass

    # --- calling ------------------------------------------------------------------------
    @classmethod
    def apply(cls, *inputs, **kwargs):
        """Run the op on ``inputs`` (PyTorch-style entry point for custom Functions)."""
        return cls(**kwargs)(*inputs)

    def __call__(self, *inputs):
        """Run ``forward`` on the inputs' arrays; when grad mode is on and an input requires grad, record this
        node on the output (its inputs, which of them need a gradient, their versions, its creation number)."""
        # One or two host tensors giving one array (nearly every op call) are unrolled: no lists, no star-call,
        # the output wrapped directly (issue 20: ~0.3 us of a 1.4 us mul went to the general path).
        if _ModeState.hooked:  # anomaly mode or a capture trace somewhere: the general path, checked and recorded
            return self._call_hooked(inputs)
        n = len(inputs)
        try:
            if n == 2:
                x0, x1 = inputs
                a0, a1 = x0._data, x1._data
                host = type(a0) is _ndarray and type(a1) is _ndarray
            elif n == 1:
                x0 = inputs[0]
                a0 = x0._data
                host = type(a0) is _ndarray
            else:
                host = False
        except AttributeError:  # not all Tensors: numbers and arrays become constant tensors
            inputs = _as_tensors(inputs)
            host = False
        if not host:
            return self._call_general(inputs)
        if n == 2:
            ys = type(self).forward(self, a0, a1)
            if type(ys) is _ndarray:
                r0, r1 = x0._requires_grad, x1._requires_grad
                if (r0 or r1) and (not _GRAD_OFF or _Mode.grad_enabled):
                    if type(self).needs_input_values:
                        self._versions = (x0._version, x1._version)
                    self.inputs = inputs
                    self.needs_input_grad = (r0, r1)
                    self._seq = next(_SEQ)
                    return _wrap_grad(ys, self, 0)
                return _wrap(ys)
        else:
            ys = type(self).forward(self, a0)
            if type(ys) is _ndarray:
                if x0._requires_grad and (not _GRAD_OFF or _Mode.grad_enabled):
                    if type(self).needs_input_values:
                        self._versions = (x0._version,)
                    self.inputs = inputs
                    self.needs_input_grad = (True,)
                    self._seq = next(_SEQ)
                    return _wrap_grad(ys, self, 0)
                return _wrap(ys)
        return self._record(inputs, ys)

    def _call_hooked(self, inputs):
        """``__call__`` while anomaly mode or a capture trace is on: the general path, and this call recorded by
        the calling thread's capture tracer (which also sees the op's settings as they were before forward)."""
        if not all([isinstance(x, Tensor) for x in inputs]):
            inputs = _as_tensors(inputs)
        tracer = _Mode.tracer
        if tracer is None:
            return self._call_general(inputs)
        settings = dict(self.__dict__)
        tracer.before_op()
        out = self._call_general(inputs)
        tracer.op(self, inputs, settings, out)
        return out

    def _call_general(self, inputs):
        """``__call__`` for any number of inputs on any device: one device check, forward there."""
        arrays = [x._data for x in inputs]
        cls = type(self)
        if all([type(a) is _ndarray for a in arrays]):  # all host arrays: NumPy
            ys = cls.forward(self, *arrays)
        else:  # not all on the host: one device check, then that device's namespace
            self.xp, arrays, index = common_namespace(cls.__name__, list(arrays))
            if any(x._data is not y for x, y in zip(inputs, arrays)):  # 0-d host values moved over
                if _ModeState.tracing_any:
                    refuse_while_tracing(f"{cls.__name__}: a 0-d host tensor moved to the device inside the call")
                inputs = tuple(x if x._data is y else _moved(x, y) for x, y in zip(inputs, arrays))
            if index:  # not cuda:0: allocate on the inputs' GPU, forward and backward
                self.device_index = index
                with use_device(index):
                    ys = cls.forward(self, *arrays)
            else:
                ys = cls.forward(self, *arrays)
        return self._record(inputs, ys)

    def _record(self, inputs, ys):
        """The general case of ``__call__`` after forward: outputs as arrays (several for a multi-output op),
        anomaly check, and the node recorded when grad mode is on and an input requires grad."""
        multi = type(ys) is tuple
        xp = self.xp
        if multi:
            ys = tuple([y if type(y) is _ndarray or xp is not np else np.asarray(y) for y in ys])
        elif type(ys) is not _ndarray and xp is np:  # NumPy turns 0-d results into scalars; keep arrays
            ys = np.asarray(ys)
        if _ModeState.anomaly_any and _Mode.anomaly:  # per-thread flags; anomaly read only while in use
            from .anomaly import check_forward

            check_forward(self, ys if multi else (ys,))
        if not _GRAD_OFF or _Mode.grad_enabled:  # no thread has grad off, or this one has it on
            needs = tuple([x._requires_grad for x in inputs])
            if True in needs:
                if type(self).needs_input_values:
                    self._versions = tuple([x._version for x in inputs])
                self.inputs = inputs
                self.needs_input_grad = needs
                self._seq = next(_SEQ)
                if multi:
                    self._out_meta = tuple([(y.shape, y.dtype) for y in ys])
                    return tuple([_wrap_grad(y, self, i) for i, y in enumerate(ys)])
                return _wrap_grad(ys, self, 0)
        if multi:
            return tuple([_wrap(y) for y in ys])
        return _wrap(ys)

    # --- the op itself ------------------------------------------------------------------
    def forward(self, *arrays):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.forward is not defined")

    def backward(self, *grad_outputs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.backward is not defined")

    # --- helpers for subclasses -----------------------------------------------------------
    def output(self, i: int = 0) -> Tensor:
        """The i-th output as a graph Tensor rebuilt from ``self.saved`` (for backward rules
        that use the output, e.g. exp and tanh, when a graph is being recorded)."""
        return _wrap_grad(self.saved if not isinstance(self.saved, tuple) else self.saved[i], self, i)

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"
