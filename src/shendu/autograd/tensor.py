"""``Tensor``: a backend array plus its place in the computational graph (textbook 6.5.1).

Operator overloads and most methods are installed by ``shendu.ops`` (they are differentiable ops). This module
keeps the data model (the slots, the graph properties, backward) and the constructors; the rest of the class
lives beside it by concept and is inherited: hooks (``tensor_hooks``), conversion and printing
(``tensor_convert``), in-place ops and version counting (``tensor_inplace``); turning data into arrays is
``tensor_data``. Every name keeps its import path here.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..backend import device_of, get_default_device, get_default_dtype, namespace_of, resolve, to_dtype
from ..backend.lowp import bfloat16 as _BF16
from ..backend.lowp import is_floating as _is_floating
from .grad_mode import _ModeState, note_alias, note_made, refuse_while_tracing
from .tensor_convert import TensorConversion
from .tensor_data import (  # noqa: F401  (re-exported: imported from here by ops, nn and tests)
    _host_values,
    _index_to,
    _not_numeric,
    _ragged,
    _same_device,
    _to_array,
    array_of,
)
from .tensor_hooks import _POST_HOOKS, TensorHooks, _HookHandle, _PostHookHandle, _weak  # noqa: F401
from .tensor_inplace import TensorInPlace

_engine_backward = None  # engine.backward, bound on first use (the engine imports this module)


class Tensor(TensorHooks, TensorConversion, TensorInPlace):
    """An n-dimensional array that can record the operations applied to it.

    ``requires_grad=True`` makes shendu build the graph of every op that uses it, so that
    ``backward()`` can fill ``.grad`` by back-propagation (textbook 6.5).
    """

    __slots__ = (
        "_data",
        "_requires_grad",
        "grad",
        "_grad_fn",
        "_out_idx",
        "_version",
        "_hooks",
        "_retains_grad",
        "name",
        "__weakref__",
    )
    __array_ufunc__ = None  # ndarray <op> Tensor defers to Tensor's reflected operator
    __array_priority__ = 1000

    def __init__(self, data, dtype=None, requires_grad: bool = False, device=None):
        self._data = _to_array(data, dtype, copy=True, device=get_default_device() if device is None else device)
        self._requires_grad = False
        self.grad = None
        self._grad_fn = None
        self._out_idx = 0
        self._version = 0
        self._hooks = None
        self._retains_grad = False
        self.name = None
        if requires_grad:
            self.requires_grad = True

    # --- graph properties -----------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        flag = bool(flag)
        if self._grad_fn is not None and not flag:
            raise RuntimeError(
                "requires_grad: you can only change requires_grad of leaf tensors; "
                "use tensor.detach() to get a tensor that does not require grad"
            )
        if flag and self._data.dtype.kind not in "fc" and not _is_floating(self._data.dtype):
            raise TypeError(
                f"requires_grad: only floating-point tensors can require gradients, got dtype {self._data.dtype}"
            )
        self._requires_grad = flag

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        """Set requires_grad in place and return self."""
        self.requires_grad = flag
        return self

    @property
    def grad_fn(self):
        """The Function that produced this tensor (None for leaves)."""
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user (not by an op that records the graph)."""
        return self._grad_fn is None

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        """Back-propagate from this tensor, accumulating d(self)/d(leaf) into each leaf's ``.grad``.

        A non-scalar tensor needs ``gradient`` (the vector of the vector-Jacobian product).
        """
        global _engine_backward
        if _engine_backward is None:  # resolved once: a function-level import costs ~1 us per call
            from .engine import backward as _engine_backward
        _engine_backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        """A tensor sharing this data but cut from the graph."""
        t = _wrap(self._data)
        if _ModeState.tracing_any:
            note_alias(self, t)
        return t

    def detach_(self) -> "Tensor":
        """Cut this tensor from the graph in place."""
        if _ModeState.tracing_any:
            refuse_while_tracing("detach_() (a tensor cut from the graph in place)")
        self._grad_fn = None
        self._requires_grad = False
        return self

    # --- data access ---------------------------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """A detached tensor sharing storage (PyTorch's ``.data``); assigning replaces the array."""
        t = _wrap(self._data)
        if _ModeState.tracing_any:
            note_alias(self, t)
        return t

    @data.setter
    def data(self, value) -> None:
        if _ModeState.tracing_any:
            refuse_while_tracing("an assignment to .data")
        arr = value._data if isinstance(value, Tensor) else _to_array(value, None, copy=False)
        self._data = arr
        self._version += 1

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def device(self):
        """The device holding the data (``sd.device``; compares equal to "cpu" or "cuda:0")."""
        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return device_of(self._data).type == "cuda"

    def size(self, dim=None):
        """The shape (PyTorch style), or the length of dimension ``dim``."""
        if dim is None:
            return self._data.shape
        return self._data.shape[dim]

    def numel(self) -> int:
        """Number of elements."""
        return int(self._data.size)

    def dim(self) -> int:
        return self._data.ndim

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]



# --- fast constructors used by ops (no validation) ------------------------------------------
_new = object.__new__


def _wrap(arr) -> Tensor:
    """A leaf Tensor around ``arr`` (no copy, no grad). Sets the same fields as ``Tensor.__init__`` without its
    conversions: every op output goes through here (or ``_wrap_grad``), so it stays inlined (benchmarks/overhead.py)."""
    t = _new(Tensor)
    t._data = arr
    t._requires_grad = False
    t.grad = None
    t._grad_fn = None
    t._out_idx = 0
    t._version = 0
    t._hooks = None
    t._retains_grad = False
    t.name = None
    return t


def _wrap_grad(arr, fn, idx) -> Tensor:
    """A non-leaf Tensor produced by Function ``fn`` (output ``idx``)."""
    t = _new(Tensor)
    t._data = arr
    t._requires_grad = True
    t.grad = None
    t._grad_fn = fn
    t._out_idx = idx
    t._version = 0
    t._hooks = None
    t._retains_grad = False
    t.name = None
    return t

def tensor(data, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Create a tensor by copying ``data`` (list, number, ndarray or Tensor).

    Python floats become float32 (the default dtype); NumPy arrays keep their dtype."""
    if _ModeState.tracing_any:
        if isinstance(data, Tensor) or (isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in data)):
            refuse_while_tracing("sd.tensor(...) of a tensor's values (a copy made outside the ops; use .clone())")
        t = Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)
        note_made(t)
        return t
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Wrap ``data`` as a tensor without copying when possible (shares NumPy memory)."""
    if isinstance(data, Tensor) and (dtype is None or to_dtype(dtype) == data.dtype) and (
            device is None or resolve(device) == device_of(data._data)):
        return data
    t = _wrap(_to_array(data, dtype, copy=False, device=device))
    if _ModeState.tracing_any and not isinstance(data, Tensor):
        note_made(t)
    return t


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def scalar_like(value, ref: Tensor) -> Tensor:
    """A 0-d constant tensor for a Python number in an op with ``ref``, keeping ref's dtype
    where NumPy's weak-scalar rule does (float32 tensor * 2.0 stays float32)."""
    d = ref._data
    dt = d.dtype
    xp = np if type(d) is np.ndarray else namespace_of(d)
    if isinstance(value, bool):
        arr = xp.asarray(value, dtype=dt if dt.kind != "b" else np.bool_)
    elif isinstance(value, numbers.Integral):
        arr = xp.asarray(value, dtype=dt if dt.kind in "fciu" or dt == _BF16 else np.int64)
    elif isinstance(value, numbers.Real):
        arr = xp.asarray(value, dtype=dt if dt.kind in "fc" or dt == _BF16 else get_default_dtype())
    elif isinstance(value, numbers.Complex):
        arr = xp.asarray(value, dtype=dt if dt.kind == "c" else np.complex64)
    elif hasattr(value, "shape") and hasattr(value, "dtype"):
        arr = value
    else:
        raise TypeError(f"unsupported operand type {type(value).__name__} for a tensor operation")
    t = _wrap(arr)
    if _ModeState.tracing_any and arr is not value:  # a Python number: a constant of the program
        note_made(t)
    return t
