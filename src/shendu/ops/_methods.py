"""Install the operator overloads and op methods on ``Tensor`` (so ``a @ b`` and ``x.sum()`` record the graph)."""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd.grad_mode import _Mode, no_grad
from ..autograd.tensor import Tensor
from . import elementwise as E
from . import index as I
from . import linalg as L
from . import reduce as R
from . import shape as S
from . import softmax as N
from ._arr import norm_dim


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
    "__iadd__": _iop("__iadd__", "add_", E.add), "__isub__": _iop("__isub__", "sub_", E.sub),
    "__imul__": _iop("__imul__", "mul_", E.mul), "__itruediv__": _iop("__itruediv__", "div_", E.div),
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


# --- issue 12: torch-style names (ops without a family file of their own yet, and Tensor methods) ----------
def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices) of ``x`` sorted along ``dim``; values are differentiable (a gather)."""
    from ..autograd.tensor import _wrap
    from ..backend import namespace_of

    xp = namespace_of(x._data)
    idx = xp.argsort(-x._data if descending else x._data, axis=dim, kind="stable")
    return _SortResult(I.gather(x, dim, _wrap(idx)), _wrap(idx))


class _SortResult(tuple):
    """A (values, indices) pair that also has ``.values`` and ``.indices`` (torch's named tuple)."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])


def argsort(x, dim=-1, descending=False, stable=False):
    """Indices that sort ``x`` along ``dim`` (int64)."""
    return sort(x, dim, descending)[1]


def topk(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """(values, indices) of the ``k`` largest (or smallest) entries along ``dim``; values differentiable."""
    if not 0 <= k <= x.shape[dim]:
        raise ValueError(f"topk: k={k} out of range for dim {dim} of size {x.shape[dim]}")
    v, i = sort(x, dim, descending=largest)
    return _SortResult(S.narrow(v, dim, 0, k), S.narrow(i, dim, 0, k))


def _logical(name):
    def f(x, dim=None, keepdim=False):
        from ..backend import namespace_of
        from ._arr import const

        xp = namespace_of(x._data)
        return const(getattr(xp, name)(x._data.astype(bool), axis=dim, keepdims=keepdim))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"True where {'every' if name == 'all' else 'some'} element (along ``dim``) is nonzero."
    return f


all = _logical("all")  # noqa: A001
any = _logical("any")  # noqa: A001


def nonzero(x, as_tuple=False):
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or a tuple of 1-D index tensors."""
    from ..backend import namespace_of
    from ._arr import const

    xp = namespace_of(x._data)
    idx = xp.nonzero(x._data)
    if as_tuple:
        return tuple(const(i.astype(np.int64)) for i in idx)
    return const(xp.stack(idx, axis=1).astype(np.int64) if idx else xp.zeros((0, 0), dtype=np.int64))


def count_nonzero(x, dim=None):
    """Number of nonzero elements (along ``dim``)."""
    from ..backend import namespace_of
    from ._arr import const

    xp = namespace_of(x._data)
    return const(xp.asarray(xp.count_nonzero(x._data, axis=dim)).astype(np.int64))


def masked_select(x, mask):
    """The elements of ``x`` where ``mask`` is true, as a 1-D tensor (differentiable)."""
    m = mask._data if isinstance(mask, Tensor) else mask
    shape = np.broadcast_shapes(x.shape, tuple(m.shape))
    from ..backend import namespace_of

    return I.getitem(S.broadcast_to(x, shape), namespace_of(m).broadcast_to(m, shape))


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors (``indexing='ij'`` as torch's default, or 'xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    ts = list(tensors)
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    n = len(ts)
    out = [S.broadcast_to(S.reshape(t, tuple(-1 if j == i else 1 for j in range(n))), shape) for i, t in enumerate(ts)]
    if swap:  # 'xy': grids of shape (len(t1), len(t0), ...), the first varying along dim 1
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def t(x):
    """Transpose of a tensor with at most 2 dims (0-D and 1-D returned as they are)."""
    if x.ndim > 2:
        raise ValueError(f"t: expects a tensor with <= 2 dimensions, got shape {tuple(x.shape)}")
    return x if x.ndim < 2 else S.transpose(x, 0, 1)


def hstack(tensors):
    """Stack along dim 1 (dim 0 for 1-D tensors)."""
    return S.cat(list(tensors), dim=0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Stack 1-D tensors as rows, or concatenate along dim 0."""
    return S.cat([S.reshape(t_, (1, -1)) if t_.ndim == 1 else t_ for t_ in tensors], dim=0)


def numel(x):
    """Number of elements of ``x``."""
    return x.numel()


def is_floating_point(x):
    """True for a floating-point tensor."""
    return x.dtype.kind == "f"


def scatter(x, dim, index, src, reduce=None):
    """Out-of-place ``x.scatter_(dim, index, src)``: x[..index[i][j].., j] = src[i][j] (no gradient)."""
    from ..backend import namespace_of
    from ._arr import const

    xp = namespace_of(x._data)
    out = x._data.copy()
    idx = index._data if isinstance(index, Tensor) else index
    val = src._data if isinstance(src, Tensor) else src
    if not isinstance(val, (int, float, bool)):
        val = val[tuple(slice(0, s) for s in idx.shape)]
    xp.put_along_axis(out, idx, val, axis=dim)
    return const(out)


class inference_mode(no_grad):
    """Like ``no_grad`` (torch.inference_mode): no graph is recorded inside the block; ``mode=False`` records."""

    def __init__(self, mode=True):
        self._target = not bool(mode)


def _new(kind):
    from . import creation as C

    def new(self, *size, dtype=None, device=None, requires_grad=False):
        kw = dict(dtype=self.dtype if dtype is None else dtype, device=self.device if device is None else device,
                  requires_grad=requires_grad)
        if kind == "full":
            size, fill = size
            return C.full(size, fill, **kw)
        return getattr(C, kind)(*size, **kw)

    new.__name__ = f"new_{kind}"
    new.__doc__ = f"A new ``{kind}`` tensor with this tensor's dtype and device (unless given)."
    return new


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    from ..autograd.tensor import tensor

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
    from ..backend import device_of, generator_for, to_device

    g = generator or generator_for(self._data)
    self._check_inplace("bernoulli_")
    self._data[...] = to_device(g.random(self._data.shape) < p, device_of(self._data))
    self._version += 1
    return self


def median(x, dim=None, keepdim=False):
    """The lower median (as torch): of all elements, or (values, indices) along ``dim``."""
    if dim is None:
        v = sort(S.reshape(x, (-1,)))[0]
        return v[(v.shape[0] - 1) // 2]
    v, i = sort(x, dim)
    k = (x.shape[dim] - 1) // 2
    v, i = S.narrow(v, dim, k, 1), S.narrow(i, dim, k, 1)
    return _SortResult(v, i) if keepdim else _SortResult(S.squeeze(v, dim), S.squeeze(i, dim))


def std_mean(x, dim=None, keepdim=False, *, correction=1):
    """(std, mean) over ``dim``."""
    return R.std(x, dim, keepdim, correction=correction), R.mean(x, dim, keepdim)


def var_mean(x, dim=None, keepdim=False, *, correction=1):
    """(var, mean) over ``dim``."""
    return R.var(x, dim, keepdim, correction=correction), R.mean(x, dim, keepdim)


def movedim(x, source, destination):
    """Move dims ``source`` to positions ``destination`` (the others keep their order)."""
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    nd = x.ndim
    src, dst = [norm_dim(s, nd, "movedim") for s in src], [norm_dim(d, nd, "movedim") for d in dst]
    rest = [d for d in range(nd) if d not in src]
    order = [None] * nd
    for s_, d_ in zip(src, dst):
        order[d_] = s_
    it = iter(rest)
    return S.permute(x, *[o if o is not None else next(it) for o in order])


def take(x, index):
    """Elements of ``x`` (as if flattened) at ``index``; result has ``index``'s shape."""
    return I.getitem(S.reshape(x, (-1,)), index._data if isinstance(index, Tensor) else index)


def broadcast_tensors(*tensors):
    """The tensors broadcast to their common shape."""
    shape = np.broadcast_shapes(*[tuple(t_.shape) for t_ in tensors])
    return tuple(S.broadcast_to(t_, shape) for t_ in tensors)


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The sorted distinct values of ``x`` (and, on request, the inverse indices and counts); no gradient."""
    from ..backend import namespace_of
    from ._arr import const

    if dim is not None:
        raise ValueError("unique: dim= is not supported; unique over all elements only")
    xp = namespace_of(x._data)
    vals, inv, cnt = xp.unique(x._data, return_inverse=True, return_counts=True)
    out = [const(vals)]
    if return_inverse:
        out.append(const(inv.reshape(x.shape).astype(np.int64)))
    if return_counts:
        out.append(const(cnt.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unflatten(x, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one may be -1)."""
    d = norm_dim(dim, x.ndim, "unflatten")
    return S.reshape(x, tuple(x.shape[:d]) + tuple(sizes) + tuple(x.shape[d + 1:]))


EXTRA = {
    "median": median, "std_mean": std_mean, "var_mean": var_mean, "movedim": movedim, "take": take,
    "unique": unique, "unflatten": unflatten, "asin": E.asin, "acos": E.acos, "atan": E.atan, "exp2": E.exp2,
    "frac": E.frac, "lerp": E.lerp, "true_divide": E.true_divide, "floor_divide": E.floor_divide,
    "remainder": E.remainder, "fmod": E.fmod,
    "t": t, "sinh": E.sinh, "cosh": E.cosh, "tan": E.tan, "log2": E.log2, "log10": E.log10,
    "reciprocal": E.reciprocal, "trunc": E.trunc, "isclose": E.isclose, "equal": E.equal,
    "logical_not": E.logical_not, "logical_and": E.logical_and, "logical_or": E.logical_or,
    "all": all, "any": any, "sort": sort, "argsort": argsort, "topk": topk, "nonzero": nonzero,
    "count_nonzero": count_nonzero, "masked_select": masked_select, "scatter": scatter,
    "tril": L.tril, "triu": L.triu, "diag": L.diag, "diagonal": L.diagonal, "trace": L.trace, "mm": L.mm,
    "bmm": L.bmm, "where": lambda self, cond, other: E.where(cond, self, other),
    "nelement": lambda self: self.numel(), "is_floating_point": is_floating_point,
    "is_contiguous": lambda self: True, "element_size": lambda self: self.dtype.itemsize,
    "new_zeros": _new("zeros"), "new_ones": _new("ones"), "new_empty": _new("empty"), "new_full": _new("full"),
    "new_tensor": _new_tensor, "__format__": _format, "bernoulli_": _bernoulli_,
    "masked_fill_": _inplace("masked_fill_", I.masked_fill), "scatter_": _inplace("scatter_", scatter),
    "scatter_add_": _inplace("scatter_add_", I.scatter_add), "index_add_": _inplace("index_add_", I.index_add),
    "unsqueeze_": _reshape_inplace("unsqueeze_", S.unsqueeze), "squeeze_": _reshape_inplace("squeeze_", S.squeeze),
    "t_": _reshape_inplace("t_", t), "transpose_": _reshape_inplace("transpose_", S.transpose),
}
for _n in ("pow", "exp", "log", "sqrt", "abs", "neg", "relu", "sigmoid", "tanh", "sin", "cos", "floor", "ceil", "round",
           "sign", "square", "log1p", "expm1", "rsqrt", "reciprocal", "trunc", "sinh", "cosh", "tan", "clip"):
    EXTRA[_n + "_"] = _inplace(_n + "_", EXTRA.get(_n) or METHODS[_n])


def _fill_diagonal_(self, fill_value, wrap=False):
    self._check_inplace("fill_diagonal_")
    n = min(self.shape)
    from ..backend import namespace_of

    idx = namespace_of(self._data).arange(n)
    self._data[(idx,) * self.ndim] = fill_value
    self._version += 1
    return self


EXTRA["fill_diagonal_"] = _fill_diagonal_


def install() -> None:
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    for name, fn in EXTRA.items():
        if name not in Tensor.__dict__ or name in METHODS:  # never replace a method Tensor defines itself
            setattr(Tensor, name, fn)
    Tensor.T = property(S.T)
    Tensor.mT = property(S.mT)
    Tensor.__hash__ = lambda self: id(self)


install()
