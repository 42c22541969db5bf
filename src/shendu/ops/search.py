"""Sorting and searching: sort/argsort, topk, median, unique, nonzero/count_nonzero, all/any (torch names).

Sorted values are differentiable (a gather of the input at the sorting indices); indices, counts and
truth values carry no gradient."""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import _ModeState, refuse_while_tracing
from ..autograd.tensor import _wrap
from ..backend import namespace_of
from ._arr import const
from .index import gather
from .shape import narrow, reshape, squeeze


class _SortResult(tuple):
    """A (values, indices) pair that also has ``.values`` and ``.indices`` (torch's named tuple)."""

    def __new__(cls, values, indices):
        return super().__new__(cls, (values, indices))

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])


def sort(x, dim=-1, descending=False, stable=False):
    """(values, indices) of ``x`` sorted along ``dim``; values are differentiable (a gather)."""
    xp = namespace_of(x._data)
    idx = xp.argsort(-x._data if descending else x._data, axis=dim, kind="stable")
    return _SortResult(gather(x, dim, _wrap(idx)), _wrap(idx))


def argsort(x, dim=-1, descending=False, stable=False):
    """Indices that sort ``x`` along ``dim`` (int64)."""
    return sort(x, dim, descending)[1]


def topk(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    """(values, indices) of the ``k`` largest (or smallest) entries along ``dim``; values differentiable."""
    if not 0 <= k <= x.shape[dim]:
        raise ValueError(f"topk: k={k} out of range for dim {dim} of size {x.shape[dim]}")
    v, i = sort(x, dim, descending=largest)
    return _SortResult(narrow(v, dim, 0, k), narrow(i, dim, 0, k))


def median(x, dim=None, keepdim=False):
    """The lower median (as torch): of all elements, or (values, indices) along ``dim``."""
    if dim is None:
        v = sort(reshape(x, (-1,)))[0]
        return v[(v.shape[0] - 1) // 2]
    v, i = sort(x, dim)
    k = (x.shape[dim] - 1) // 2
    v, i = narrow(v, dim, k, 1), narrow(i, dim, k, 1)
    return _SortResult(v, i) if keepdim else _SortResult(squeeze(v, dim), squeeze(i, dim))


def unique(x, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The sorted distinct values of ``x`` (and, on request, the inverse indices and counts); no gradient."""
    if dim is not None:
        raise ValueError("unique: dim= is not supported; unique over all elements only")
    if _ModeState.tracing_any:
        refuse_while_tracing("unique() (its result's size depends on the values)")
    xp = namespace_of(x._data)
    vals, inv, cnt = xp.unique(x._data, return_inverse=True, return_counts=True)
    out = [const(vals)]
    if return_inverse:
        out.append(const(inv.reshape(x.shape).astype(np.int64)))
    if return_counts:
        out.append(const(cnt.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def nonzero(x, as_tuple=False):
    """Indices of the nonzero elements: an (n, ndim) int64 tensor, or a tuple of 1-D index tensors."""
    if _ModeState.tracing_any:
        refuse_while_tracing("nonzero() (its result's size depends on the values)")
    xp = namespace_of(x._data)
    idx = xp.nonzero(x._data)
    if as_tuple:
        return tuple(const(i.astype(np.int64)) for i in idx)
    return const(xp.stack(idx, axis=1).astype(np.int64) if idx else xp.zeros((0, 0), dtype=np.int64))


def count_nonzero(x, dim=None):
    """Number of nonzero elements (along ``dim``)."""
    xp = namespace_of(x._data)
    return const(xp.asarray(xp.count_nonzero(x._data, axis=dim)).astype(np.int64))


def _logical(name):
    def f(x, dim=None, keepdim=False):
        xp = namespace_of(x._data)
        return const(getattr(xp, name)(x._data.astype(bool), axis=dim, keepdims=keepdim))

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"True where {'every' if name == 'all' else 'some'} element (along ``dim``) is nonzero."
    return f


all = _logical("all")  # noqa: A001
any = _logical("any")  # noqa: A001
