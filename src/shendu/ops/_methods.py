"""Install the operator overloads and op methods on ``Tensor`` (so ``a @ b`` and ``x.sum()`` record the graph).

Only the installation lives here; every op is defined in its family module (elementwise, index, linalg,
reduce, shape, softmax, search, shape_compose, stats)."""
from __future__ import annotations

from ..autograd.grad_mode import _Mode, no_grad
from ..autograd.tensor import Tensor, tensor
from ..backend import device_of, generator_for, namespace_of, to_device
from . import creation, elementwise, index, linalg, reduce, search, shape, shape_compose, softmax, stats


def _r(f):
    return lambda self, other: f(other, self)


def _matmul_r(self, other):
    return linalg.matmul(other, self)


def _iop(op, name, f):
    """``x op= y``: in place (same Tensor and array, ``_version`` bumped) inside ``no_grad`` or when nothing
    requires grad; a leaf that requires grad raises (PyTorch: "a leaf Variable that requires grad is being
    used in an in-place operation"), so a hand-written ``p -= lr * p.grad`` is never a silent no-op. A
    non-leaf in the graph (or an operand that requires grad) gives the differentiable out-of-place result,
    rebound to the name: the gradient is right, only the object identity differs from PyTorch."""
    def iop(self, other):
        if _Mode.grad_enabled and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
            if self._requires_grad and self._grad_fn is None:
                self._check_inplace(op)  # raises: a leaf that requires grad
            r = f(self, other)  # out of place inside the graph
            if r.shape != self.shape:
                raise ValueError(f"{op}: an operand of shape {tuple(getattr(other, 'shape', ()))} cannot be broadcast "
                                 f"to the shape {tuple(self.shape)} of the tensor updated in place")
            return r
        getattr(self, name)(other)
        return self

    iop.__name__ = op
    return iop


def _reshape(self, *sizes):
    return shape.reshape(self, *sizes)


def _permute(self, *dims):
    return shape.permute(self, *dims)


def _expand(self, *sizes):
    return shape.expand(self, *sizes)


def _repeat(self, *sizes):
    return shape.repeat(self, *sizes)


def _tile(self, *reps):
    return shape.tile(self, *reps)



METHODS = {
    "__add__": elementwise.add, "__radd__": _r(elementwise.add),
    "__sub__": elementwise.sub, "__rsub__": _r(elementwise.sub),
    "__mul__": elementwise.mul, "__rmul__": _r(elementwise.mul),
    "__truediv__": elementwise.div, "__rtruediv__": _r(elementwise.div),
    "__matmul__": linalg.matmul, "__rmatmul__": _matmul_r,
    "__pow__": elementwise.pow, "__rpow__": _r(elementwise.pow),
    "__neg__": elementwise.neg, "__pos__": lambda self: self, "__abs__": elementwise.abs,
    "__floordiv__": elementwise.floor_divide, "__mod__": elementwise.remainder,
    "__eq__": elementwise.eq, "__ne__": elementwise.ne, "__lt__": elementwise.lt, "__le__": elementwise.le,
    "__gt__": elementwise.gt, "__ge__": elementwise.ge,
    "__and__": elementwise.logical_and, "__or__": elementwise.logical_or, "__xor__": elementwise.logical_xor,
    "__invert__": elementwise.logical_not,
    "__getitem__": index.getitem,
    "__iadd__": _iop("__iadd__", "add_", elementwise.add), "__isub__": _iop("__isub__", "sub_", elementwise.sub),
    "__imul__": _iop("__imul__", "mul_", elementwise.mul),
    "__itruediv__": _iop("__itruediv__", "div_", elementwise.div),
    **{n: getattr(elementwise, n) for n in (
        "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "log1p", "expm1", "sqrt", "rsqrt", "square", "abs",
        "sign", "sin", "cos", "tanh", "sigmoid", "relu", "softplus", "clamp", "maximum", "minimum",
        "eq", "ne", "lt", "le", "gt", "ge", "isnan", "isinf", "isfinite", "floor", "ceil", "round", "allclose")},
    "clip": elementwise.clamp,
    **{n: getattr(reduce, n) for n in (
        "sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "logsumexp",
        "cumsum", "norm")},
    "softmax": softmax.softmax, "log_softmax": softmax.log_softmax,
    "matmul": linalg.matmul, "dot": linalg.dot, "outer": linalg.outer, "mm": linalg.matmul, "bmm": linalg.matmul,
    "reshape": _reshape, "view": _reshape, "permute": _permute, "expand": _expand, "repeat": _repeat, "tile": _tile,
    **{n: getattr(shape, n) for n in (
        "flatten", "squeeze", "unsqueeze", "transpose", "swapaxes", "expand_as", "broadcast_to", "split", "chunk",
        "unbind", "narrow", "repeat_interleave", "flip", "roll")},
    **{n: getattr(index, n) for n in ("gather", "scatter_add", "index_add", "index_select", "masked_fill")},
    "view_as": lambda self, other: shape.reshape(self, other.shape),
    "reshape_as": lambda self, other: shape.reshape(self, other.shape),
    "type_as": lambda self, other: self.type(other.dtype),
}


def _new(kind):
    def new(self, *size, dtype=None, device=None, requires_grad=False):
        kw = dict(dtype=self.dtype if dtype is None else dtype, device=self.device if device is None else device,
                  requires_grad=requires_grad)
        if kind == "full":
            size, fill = size
            return creation.full(size, fill, **kw)
        return getattr(creation, kind)(*size, **kw)

    new.__name__ = f"new_{kind}"
    new.__doc__ = f"A new ``{kind}`` tensor with this tensor's dtype and device (unless given)."
    return new


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    return tensor(data.detach() if isinstance(data, Tensor) else data,
                  dtype=self.dtype if dtype is None else dtype, device=self.device if device is None else device,
                  requires_grad=requires_grad)


def _format(self, spec):
    """``f"{loss:.4f}"``: a 0-d tensor formats as its Python number (as torch); other tensors only with ``{}``."""
    if self.ndim == 0:
        return format(self.item(), spec)
    if spec:
        raise TypeError(f"unsupported format string {spec!r} passed to Tensor.__format__ (tensor of shape "
                        f"{tuple(self.shape)}; only 0-d tensors take a format spec)")
    return repr(self)


def _inplace(name, f):
    """``x.<name>(...)``: compute ``f(x, ...)`` outside the graph and write it into ``x`` (PyTorch in-place)."""

    def m(self, *args, **kwargs):
        self._check_inplace(name, *args, *kwargs.values())
        with no_grad():
            r = f(self, *args, **kwargs)
        return self._inplace_result(r)

    m.__name__ = name
    return m


def _reshape_inplace(name, f):
    def m(self, *args, **kwargs):
        self._check_inplace(name, *args, *kwargs.values())
        with no_grad():
            self._data = f(self, *args, **kwargs)._data
        self._version += 1
        return self

    m.__name__ = name
    return m


def _bernoulli_(self, p=0.5, generator=None):
    g = generator or generator_for(self._data)
    self._check_inplace("bernoulli_")
    self._data[...] = to_device(g.random(self._data.shape) < p, device_of(self._data))
    self._version += 1
    return self


def _fill_diagonal_(self, fill_value, wrap=False):
    self._check_inplace("fill_diagonal_")
    n = min(self.shape)
    idx = namespace_of(self._data).arange(n)
    self._data[(idx,) * self.ndim] = fill_value
    self._version += 1
    return self


EXTRA = {
    **{n: getattr(elementwise, n) for n in (
        "asin", "acos", "atan", "exp2", "frac", "lerp", "true_divide", "floor_divide", "remainder", "fmod", "sinh",
        "cosh", "tan", "log2", "log10", "reciprocal", "trunc", "isclose", "equal", "logical_not", "logical_and",
        "logical_or")},
    **{n: getattr(search, n) for n in (
        "median", "unique", "all", "any", "sort", "argsort", "topk", "nonzero", "count_nonzero")},
    **{n: getattr(stats, n) for n in ("std_mean", "var_mean")},
    **{n: getattr(shape_compose, n) for n in ("movedim", "unflatten", "t", "is_floating_point")},
    **{n: getattr(index, n) for n in ("take", "masked_select", "scatter")},
    **{n: getattr(linalg, n) for n in ("tril", "triu", "diag", "diagonal", "trace", "mm", "bmm")},
    "where": lambda self, cond, other: elementwise.where(cond, self, other),
    "nelement": lambda self: self.numel(),
    "is_contiguous": lambda self: True, "element_size": lambda self: self.dtype.itemsize,
    "new_zeros": _new("zeros"), "new_ones": _new("ones"), "new_empty": _new("empty"), "new_full": _new("full"),
    "new_tensor": _new_tensor, "__format__": _format, "bernoulli_": _bernoulli_, "fill_diagonal_": _fill_diagonal_,
    "masked_fill_": _inplace("masked_fill_", index.masked_fill), "scatter_": _inplace("scatter_", index.scatter),
    "scatter_add_": _inplace("scatter_add_", index.scatter_add),
    "index_add_": _inplace("index_add_", index.index_add),
    "unsqueeze_": _reshape_inplace("unsqueeze_", shape.unsqueeze),
    "squeeze_": _reshape_inplace("squeeze_", shape.squeeze),
    "t_": _reshape_inplace("t_", shape_compose.t), "transpose_": _reshape_inplace("transpose_", shape.transpose),
}
for _n in ("pow", "exp", "log", "sqrt", "abs", "neg", "relu", "sigmoid", "tanh", "sin", "cos", "floor", "ceil", "round",
           "sign", "square", "log1p", "expm1", "rsqrt", "reciprocal", "trunc", "sinh", "cosh", "tan", "clip"):
    EXTRA[_n + "_"] = _inplace(_n + "_", EXTRA.get(_n) or METHODS[_n])


def install() -> None:
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    for name, fn in EXTRA.items():
        if name not in Tensor.__dict__ or name in METHODS:  # never replace a method Tensor defines itself
            setattr(Tensor, name, fn)
    Tensor.T = property(shape.T)
    Tensor.mT = property(shape.mT)
    Tensor.__hash__ = lambda self: id(self)


install()
