"""Install the operator overloads and op methods on ``Tensor`` (so ``a @ b`` and ``x.sum()`` record the graph)."""
from __future__ import annotations

import numbers

from ..autograd.grad_mode import _Mode
from ..autograd.tensor import Tensor
from . import elementwise as E
from . import index as I
from . import linalg as L
from . import softmax as N
from . import reduce as R
from . import shape as S


def _r(f):
    return lambda self, other: f(other, self)


def _matmul_r(self, other):
    return L.matmul(other, self)


def _pow(self, other):
    return E.pow(self, other)


def _rpow(self, other):
    if isinstance(other, numbers.Number):
        from .elementwise import scalar_like

        return E.pow(scalar_like(other, self), self)
    return E.pow(other, self)


def _floordiv(self, other):
    from ._arr import const
    from .elementwise import _arrays, _pair

    a, b = _pair(self, other)
    _, (x, y) = _arrays("floor_divide", a._data, b._data)
    return const(x // y)


def _mod(self, other):
    from ._arr import const
    from .elementwise import _arrays, _pair

    a, b = _pair(self, other)
    _, (x, y) = _arrays("remainder", a._data, b._data)
    return const(x % y)


def _iop(name, f):
    def iop(self, other):
        if self._requires_grad and _Mode.grad_enabled:
            return f(self, other)  # out of place inside the graph
        getattr(self, name)(other)
        return self

    return iop


def _reshape(self, *shape):
    return S.reshape(self, *shape)


def _permute(self, *dims):
    return S.permute(self, *dims)


def _expand(self, *shape):
    return S.expand(self, *shape)


def _repeat(self, *sizes):
    return S.repeat(self, *sizes)


def _tile(self, *reps):
    return S.tile(self, *reps)


METHODS = {
    "__add__": E.add, "__radd__": _r(E.add), "__sub__": E.sub, "__rsub__": _r(E.sub),
    "__mul__": E.mul, "__rmul__": _r(E.mul), "__truediv__": E.div, "__rtruediv__": _r(E.div),
    "__matmul__": L.matmul, "__rmatmul__": _matmul_r, "__pow__": _pow, "__rpow__": _rpow,
    "__neg__": E.neg, "__pos__": lambda self: self, "__abs__": E.abs,
    "__floordiv__": _floordiv, "__mod__": _mod,
    "__eq__": E.eq, "__ne__": E.ne, "__lt__": E.lt, "__le__": E.le, "__gt__": E.gt, "__ge__": E.ge,
    "__and__": E.logical_and, "__or__": E.logical_or, "__xor__": E.logical_xor, "__invert__": E.logical_not,
    "__getitem__": I.getitem,
    "__iadd__": _iop("add_", E.add), "__isub__": _iop("sub_", E.sub),
    "__imul__": _iop("mul_", E.mul), "__itruediv__": _iop("div_", E.div),
    "add": E.add, "sub": E.sub, "mul": E.mul, "div": E.div, "pow": E.pow, "neg": E.neg,
    "exp": E.exp, "log": E.log, "log1p": E.log1p, "expm1": E.expm1, "sqrt": E.sqrt, "rsqrt": E.rsqrt,
    "square": E.square, "abs": E.abs, "sign": E.sign, "sin": E.sin, "cos": E.cos, "tanh": E.tanh,
    "sigmoid": E.sigmoid, "relu": E.relu, "softplus": E.softplus, "clamp": E.clamp, "clip": E.clamp,
    "maximum": E.maximum, "minimum": E.minimum, "eq": E.eq, "ne": E.ne, "lt": E.lt, "le": E.le, "gt": E.gt, "ge": E.ge,
    "isnan": E.isnan, "isinf": E.isinf, "isfinite": E.isfinite, "floor": E.floor, "ceil": E.ceil, "round": E.round,
    "sum": R.sum, "mean": R.mean, "var": R.var, "std": R.std, "prod": R.prod, "max": R.max, "min": R.min,
    "amax": R.amax, "amin": R.amin, "argmax": R.argmax, "argmin": R.argmin, "logsumexp": R.logsumexp,
    "cumsum": R.cumsum, "norm": R.norm,
    "softmax": N.softmax, "log_softmax": N.log_softmax,
    "matmul": L.matmul, "dot": L.dot, "outer": L.outer, "mm": L.matmul, "bmm": L.matmul,
    "reshape": _reshape, "view": _reshape, "flatten": S.flatten, "squeeze": S.squeeze, "unsqueeze": S.unsqueeze,
    "transpose": S.transpose, "swapaxes": S.swapaxes, "permute": _permute, "expand": _expand, "expand_as": S.expand_as,
    "broadcast_to": S.broadcast_to, "split": S.split, "chunk": S.chunk, "unbind": S.unbind, "narrow": S.narrow,
    "repeat": _repeat, "tile": _tile, "repeat_interleave": S.repeat_interleave, "flip": S.flip, "roll": S.roll,
    "gather": I.gather, "scatter_add": I.scatter_add, "index_add": I.index_add, "index_select": I.index_select,
    "masked_fill": I.masked_fill,
    "view_as": lambda self, other: S.reshape(self, other.shape),
    "reshape_as": lambda self, other: S.reshape(self, other.shape),
    "type_as": lambda self, other: self.type(other.dtype),
    "allclose": E.allclose,
}


def install() -> None:
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(S.T)
    Tensor.mT = property(S.mT)
    Tensor.__hash__ = lambda self: id(self)


install()
