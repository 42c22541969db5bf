"""``Tensor``: a backend array plus its place in the computational graph (textbook 6.5.1).

Operator overloads and most methods are installed by ``shendu.ops`` (they are
differentiable ops); this module keeps the data model, conversion and in-place rules.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..backend import (
    CPU,
    device_of,
    generator_for,
    get_default_device,
    get_default_dtype,
    is_array,
    namespace_of,
    parse_to_args,
    resolve,
    to_device,
    to_dtype,
    to_host,
)
from ..backend.lowp import bfloat16 as _BF16
from ..backend.lowp import is_floating as _is_floating
from .grad_mode import _Mode

_engine_backward = None  # engine.backward, bound on first use (the engine imports this module)


class Tensor:
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

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self._grad_fn is None:
            return
        self._retains_grad = True
        self._out_hooks().append(("retain", _weak(self)))

    def register_hook(self, hook):
        """Register ``hook(grad) -> grad or None`` called with this tensor's gradient during backward.

        Returns a handle whose ``remove()`` unregisters it."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            lst = self._hooks
        else:
            lst = self._out_hooks()
        entry = ("hook", hook)
        lst.append(entry)
        return _HookHandle(lst, entry)

    def register_post_accumulate_grad_hook(self, hook):
        """Register ``hook(tensor)`` on a leaf, called after its ``.grad`` got this backward's total.

        Backward hands the gradient over (and calls the hook) as soon as every contribution is in, so
        work such as DistributedDataParallel's bucket all-reduce starts while backward continues.
        Returns a handle whose ``remove()`` unregisters it."""
        if not self._requires_grad or self._grad_fn is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: only a leaf tensor that requires grad "
                f"takes one (this tensor: requires_grad={self._requires_grad}, is_leaf={self._grad_fn is None})"
            )
        if self._hooks is None:
            self._hooks = []
        entry = ("post", hook)
        self._hooks.append(entry)
        _POST_HOOKS[0] += 1
        return _PostHookHandle(self._hooks, entry)

    def _out_hooks(self) -> list:
        fn = self._grad_fn
        hooks = getattr(fn, "_out_hooks", None)
        if hooks is None:
            hooks = {}
            fn._out_hooks = hooks
        return hooks.setdefault(self._out_idx, [])

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
        return _wrap(self._data)

    def detach_(self) -> "Tensor":
        """Cut this tensor from the graph in place."""
        self._grad_fn = None
        self._requires_grad = False
        return self

    # --- data access ---------------------------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """A detached tensor sharing storage (PyTorch's ``.data``); assigning replaces the array."""
        t = _wrap(self._data)
        return t

    @data.setter
    def data(self, value) -> None:
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

    def numpy(self) -> np.ndarray:
        """The underlying NumPy array (shared, not copied). A GPU tensor must be copied with ``.cpu()`` first."""
        d = self._data
        if type(d) is not np.ndarray and device_of(d) is not CPU:
            raise TypeError(
                f"numpy(): can't convert {device_of(d)} device type tensor to numpy. "
                "Use Tensor.cpu() to copy the tensor to host memory first."
            )
        return d

    def __array__(self, dtype=None, copy=None):
        d = self.numpy()
        if dtype is not None:
            return d.astype(dtype, copy=False)
        return d

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """DLPack capsule of the data, shared not copied (NumPy on the CPU, CuPy on a GPU); ``sd.from_dlpack``."""
        kw = {k: v for k, v in (("stream", stream), ("max_version", max_version), ("dl_device", dl_device),
                                ("copy", copy)) if v is not None}
        return self._data.__dlpack__(**kw)

    def __dlpack_device__(self):
        """(device type, index) in DLPack's codes: (1, 0) the CPU, (2, i) CUDA device i."""
        return self._data.__dlpack_device__()

    def item(self):
        """The single value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(
                f"item(): only one-element tensors can be converted to a Python scalar, got shape {self.shape}"
            )
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self._data.size} elements is ambiguous")
        return bool(self._data.item())

    def __index__(self):
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.item())

    def __hash__(self):
        return id(self)

    def __repr__(self):
        body = np.array2string(to_host(self._data), separator=", ", precision=4, prefix="tensor(")
        extras = []
        dev = device_of(self._data)
        if dev is not CPU:
            extras.append(f"device='{dev}'")
        dt = self._data.dtype
        if (dt != get_default_dtype() and dt.kind == "f") or (dt.kind not in "fb" and dt != np.int64):
            extras.append(f"dtype={self._data.dtype}")
        if self._grad_fn is not None:
            extras.append(f"grad_fn=<{type(self._grad_fn).__name__}Backward>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    # --- dtype conversion -----------------------------------------------------------------
    def to(self, *args, **kwargs) -> "Tensor":
        """Move to a device and/or convert dtype: ``t.to("cuda")``, ``t.to(sd.float64)``, ``t.to(other)``.

        Differentiable: the gradient flows back to the original device and dtype (textbook 12.1.2)."""
        dtype, dev = parse_to_args(args, kwargs)
        t = self
        if dev is not None and dev != device_of(self._data):
            from ..ops.elementwise import ToDevice

            t = ToDevice(dev)(t)
        if dtype is not None:
            t = t.type(dtype)
        if kwargs.get("copy") and t is self:
            t = self.clone()
        return t

    def type(self, dtype) -> "Tensor":
        dt = to_dtype(dtype)
        if dt == self._data.dtype:
            return self
        from ..ops.elementwise import Cast

        return Cast(dt)(self)

    def float(self):
        return self.type(np.float32)

    def double(self):
        return self.type(np.float64)

    def long(self):
        return self.type(np.int64)

    def int(self):
        return self.type(np.int32)

    def bool(self):
        return self.type(np.bool_)

    def half(self):
        return self.type(np.float16)

    def bfloat16(self):
        """This tensor in bfloat16 (ml_dtypes on the CPU; 8 exponent bits, 7 mantissa bits; textbook 12.1.6)."""
        return self.type(_BF16)

    def cpu(self):
        """This tensor on the CPU (itself if it is there)."""
        return self.to(CPU)

    def cuda(self, device=None, non_blocking: bool = False):
        """This tensor on a CUDA device (default: cuda:0)."""
        if device is None:
            device = "cuda"
        elif isinstance(device, int):
            device = f"cuda:{device}"
        return self.to(device)

    def contiguous(self):
        return self

    def clone(self) -> "Tensor":
        """A copy that stays in the graph (gradient flows back to self)."""
        from ..ops.elementwise import Clone

        return Clone()(self)

    # --- in-place ops (no autograd through them) ------------------------------------------
    def _check_inplace(self, opname: str, *operands) -> None:
        """Refuse an in-place op that autograd cannot record while grad mode is on (as PyTorch): on a leaf
        that requires grad (``p -= lr * p.grad`` outside ``no_grad`` would otherwise be lost), on a tensor
        inside the graph, or with an operand that requires grad (its gradient would be dropped)."""
        if _Mode.grad_enabled:
            if self._requires_grad:
                shape = tuple(self._data.shape)
                if self._grad_fn is None:
                    raise RuntimeError(
                        f"{opname}: in-place operation on a leaf tensor of shape {shape} that requires grad (a leaf "
                        "Variable that requires grad is being used in an in-place operation); do the update inside "
                        "`with sd.no_grad():` (as an optimizer step does), or use the out-of-place op"
                    )
                raise RuntimeError(
                    f"{opname}: in-place operation on a tensor of shape {shape} that is part of the graph (shendu "
                    "records no in-place ops); use the out-of-place op (y = y + z) or wrap it in `with sd.no_grad():`"
                )
            for o in operands:
                if isinstance(o, Tensor) and o._requires_grad:
                    raise RuntimeError(
                        f"{opname}: an operand of shape {tuple(o.shape)} requires grad, but the in-place result "
                        "would not record it (its gradient would be lost); use the out-of-place op "
                        "(y = y + z), or wrap it in `with sd.no_grad():`"
                    )
        d = self._data
        if type(d) is np.ndarray and not d.flags.writeable:
            self._data = d.copy()

    def _arith_operand(self, other, op):
        """``other`` as the operand of the in-place arithmetic ``op`` on this tensor (see ``_operand``): it may
        not broadcast this tensor bigger, nor bring floats into an integer tensor (PyTorch refuses both)."""
        o = self._operand(other, op)
        d = self._data
        shape = getattr(o, "shape", ())
        if shape != d.shape and len(shape):
            try:
                ok = np.broadcast_shapes(d.shape, shape) == d.shape
            except ValueError:
                ok = False
            if not ok:
                raise ValueError(f"{op}: an operand of shape {tuple(shape)} cannot be broadcast to the shape "
                                 f"{tuple(d.shape)} of the tensor updated in place")
        if d.dtype.kind in "iub":
            kind = o.dtype.kind if hasattr(o, "dtype") else ("f" if isinstance(o, (float, complex)) else "i")
            if kind in "fc" or op == "div_":
                raise TypeError(f"{op}: the result is floating point and cannot be written in place into a tensor "
                                f"of dtype {d.dtype}; use the out-of-place op (e.g. x = x / y) or x.float() first")
        return o

    def _inplace_result(self, value) -> "Tensor":
        arr = value._data if isinstance(value, Tensor) else value
        self._data[...] = arr
        self._version += 1
        return self

    def __setitem__(self, key, value):
        self._check_inplace("__setitem__", value)
        if isinstance(key, Tensor):
            key = key._data
        elif isinstance(key, tuple):
            key = tuple(k._data if isinstance(k, Tensor) else k for k in key)
        d = self._data
        if type(d) is not np.ndarray:
            key = _index_to(key, device_of(d))
        d[key] = self._operand(value, "__setitem__")
        self._version += 1

    def zero_(self):
        self._check_inplace("zero_")
        self._data.fill(0)
        self._version += 1
        return self

    def fill_(self, value):
        self._check_inplace("fill_")
        self._data.fill(value._data.item() if isinstance(value, Tensor) else value)
        self._version += 1
        return self

    def copy_(self, src):
        self._check_inplace("copy_")  # a value copy (``w.data.copy_(other_param)``): src's graph is not followed
        d = self._data
        # copy_ moves across devices
        if isinstance(src, Tensor):
            src = src._data
        elif not is_array(src):  # numbers and lists; arrays of any device are moved as they are
            src = np.asarray(src)
        arr = to_device(src, device_of(d))
        xp = namespace_of(d)
        xp.copyto(d, xp.broadcast_to(arr, d.shape), casting="unsafe")
        self._version += 1
        return self

    def _operand(self, other, op):
        """``other`` (a tensor, array or number) as an operand of an in-place op on this tensor: on this
        tensor's device. 0-d tensors and host data move there (as PyTorch); a tensor on another device is an error."""
        o = other._data if isinstance(other, Tensor) else other
        d = self._data
        if isinstance(o, (list, tuple)) and type(d) is not np.ndarray:
            o = np.asarray(o, dtype=d.dtype)  # host data: moved to the device below
        if not hasattr(o, "shape") or isinstance(o, np.generic) or (type(o) is np.ndarray and type(d) is np.ndarray):
            return o
        dev = device_of(d)
        if device_of(o) != dev:
            if isinstance(other, Tensor) and o.ndim:
                _same_device(o, dev, op)
            o = to_device(o, dev)
        return o

    def add_(self, other, alpha=1):
        self._check_inplace("add_", other)
        o = self._arith_operand(other, "add_")
        if alpha != 1:
            o = o * alpha
        namespace_of(self._data).add(self._data, o, out=self._data, casting="unsafe")
        self._version += 1
        return self

    def sub_(self, other, alpha=1):
        self._check_inplace("sub_", other)
        o = self._arith_operand(other, "sub_")
        if alpha != 1:
            o = o * alpha
        namespace_of(self._data).subtract(self._data, o, out=self._data, casting="unsafe")
        self._version += 1
        return self

    def mul_(self, other):
        self._check_inplace("mul_", other)
        o = self._arith_operand(other, "mul_")
        namespace_of(self._data).multiply(self._data, o, out=self._data, casting="unsafe")
        self._version += 1
        return self

    def div_(self, other):
        self._check_inplace("div_", other)
        o = self._arith_operand(other, "div_")
        namespace_of(self._data).divide(self._data, o, out=self._data, casting="unsafe")
        self._version += 1
        return self

    def clamp_(self, min=None, max=None):
        self._check_inplace("clamp_", min, max)
        namespace_of(self._data).clip(self._data, min, max, out=self._data)
        self._version += 1
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None):
        g = generator or generator_for(self._data)
        self._check_inplace("normal_")
        # a generator may be another device's
        self._data[...] = to_device(g.normal(mean, std, self._data.shape), device_of(self._data))
        self._version += 1
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        g = generator or generator_for(self._data)
        self._check_inplace("uniform_")
        self._data[...] = to_device(g.uniform(a, b, self._data.shape), device_of(self._data))
        self._version += 1
        return self


class _HookHandle:
    __slots__ = ("_lst", "_entry")

    def __init__(self, lst, entry):
        self._lst, self._entry = lst, entry

    def remove(self):
        try:
            self._lst.remove(self._entry)
        except ValueError:
            pass


# How many post-accumulate hooks are registered (the engine hands leaf gradients over early only then).
_POST_HOOKS = [0]


class _PostHookHandle(_HookHandle):
    __slots__ = ()

    def remove(self):
        if self._entry in self._lst:
            self._lst.remove(self._entry)
            _POST_HOOKS[0] -= 1


def _weak(t):
    import weakref

    return weakref.ref(t)


# --- fast constructors used by ops (no validation) ------------------------------------------
_new = object.__new__


def _wrap(arr) -> Tensor:
    """A leaf Tensor around ``arr`` (no copy, no grad)."""
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


def _to_array(data, dtype, copy: bool, device=None):
    """Convert ``data`` to an array on ``device`` (None: where a Tensor/array already is, else the default
    device); Python floats and lists of floats become the default float dtype."""
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, np.ndarray) or (hasattr(data, "shape") and device_of(data) is not CPU):
        arr = data
        if arr.dtype.kind not in "biufc" and arr.dtype != _BF16:
            raise _not_numeric(data, arr)
        if dtype is not None:
            arr = arr.astype(to_dtype(dtype), copy=copy)
        elif copy:
            arr = arr.copy()
        if device is not None:
            dev = resolve(device)
            if dev != device_of(arr):
                arr = to_device(arr, dev)
        return arr
    if hasattr(data, "__array__") and not isinstance(data, (list, tuple)):
        arr = np.asarray(data)
        if arr.dtype.kind not in "biufc" and arr.dtype != _BF16:
            raise _not_numeric(data, arr)
        if dtype is not None:
            arr = arr.astype(to_dtype(dtype), copy=False)
    else:
        values = _host_values(data)
        try:
            arr = np.array(values)
        except ValueError:  # NumPy >= 1.24 refuses ragged nesting
            raise _ragged(values) from None
        if arr.dtype.kind not in "biufc":
            if arr.dtype.kind == "O" and dtype is not None:  # e.g. ints beyond int64 for a float dtype
                try:
                    arr = np.array(values, dtype=to_dtype(dtype))
                except (ValueError, TypeError, OverflowError):
                    raise _ragged(values) or _not_numeric(data, arr) from None
            else:
                raise _ragged(values) or _not_numeric(data, arr)
        if dtype is not None:
            arr = arr.astype(to_dtype(dtype), copy=False)
        elif arr.dtype.kind == "f" and arr.dtype != get_default_dtype():
            arr = arr.astype(get_default_dtype())
    dev = get_default_device() if device is None else resolve(device)
    return arr if dev is CPU else to_device(arr, dev)


def _ragged(values, dim=0):
    """A ValueError naming where a nested sequence is ragged (as PyTorch: "expected sequence of length 2 at dim 1
    (got 1)"), or None when it is not."""
    if not isinstance(values, (list, tuple)):
        return None
    seqs = [isinstance(v, (list, tuple)) for v in values]
    if any(seqs) and not all(seqs):
        return ValueError(f"tensor: ragged nested sequence: at dim {dim + 1} some entries are sequences and some "
                          f"are not ({type(values[seqs.index(False)]).__name__} next to a sequence)")
    if not values or not seqs[0]:
        return None
    n = len(values[0])
    for v in values:
        if len(v) != n:
            return ValueError(f"tensor: ragged nested sequence: expected sequence of length {n} at dim {dim + 1} "
                              f"(got {len(v)})")
    for v in values:
        err = _ragged(v, dim + 1)
        if err is not None:
            return err
    return None


def _not_numeric(data, arr):
    """A TypeError for data that is not numbers or booleans (strings, objects, dates)."""
    msg = (
        f"tensor: cannot convert {type(data).__name__} of {arr.dtype} values to a tensor; expected numbers or booleans"
    )
    if arr.size:
        v = arr.reshape(-1)[0]
        msg += f" (got e.g. {v.item() if isinstance(v, np.generic) else v!r})"
    return TypeError(msg)


def array_of(x):
    """The array behind ``x`` where it lives: a Tensor's array, a host or device array as is, and anything
    else (lists, numbers) as a host array."""
    if isinstance(x, Tensor):
        return x._data
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.generic):
        return x
    return np.asarray(x)


def _host_values(data):
    """Lists and tuples with tensors inside (``sd.tensor([t1, t2])``) as host values."""
    if isinstance(data, (list, tuple)):
        return [_host_values(v) for v in data]
    if isinstance(data, Tensor):
        return to_host(data._data)
    return data


def _same_device(arr, dev, op):
    if device_of(arr) != dev:
        raise RuntimeError(f"{op}: Expected all tensors to be on the same device, but found at least two devices, "
                           f"{dev} and {device_of(arr)}")
    return arr


def _index_to(key, dev):
    """Index arrays in ``key`` moved to ``dev`` (host integer/bool arrays and lists index device arrays)."""
    if isinstance(key, tuple):
        return tuple(_index_to(k, dev) for k in key)
    if isinstance(key, Tensor):
        key = key._data
    if isinstance(key, list) or (hasattr(key, "shape") and getattr(key, "ndim", 0) > 0):
        return to_device(np.asarray(key) if isinstance(key, list) else key, dev)
    return key


def tensor(data, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """Create a tensor by copying ``data`` (list, number, ndarray or Tensor).

    Python floats become float32 (the default dtype); NumPy arrays keep their dtype."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Wrap ``data`` as a tensor without copying when possible (shares NumPy memory)."""
    if isinstance(data, Tensor) and (dtype is None or to_dtype(dtype) == data.dtype) and (
            device is None or resolve(device) == device_of(data._data)):
        return data
    return _wrap(_to_array(data, dtype, copy=False, device=device))


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
    return _wrap(arr)
