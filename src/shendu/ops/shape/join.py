"""Joining and splitting along a dimension: cat/stack, split/chunk/unbind, narrow. The gradient of a join
is the matching slices of the output gradient; of a split, the gradients joined back (textbook 6.5.2)."""
from __future__ import annotations

from ...autograd.function import Function
from ...autograd.tensor import Tensor, as_tensor
from .._arr import norm_dim
from .views import squeeze, unsqueeze


class Cat(Function):
    needs_input_values = False

    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        xp = self.xp
        self.sizes = [x.shape[self.axis] for x in xs]
        return xp.concatenate(xs, axis=self.axis)

    def _bounds(self):
        out, start = [], 0
        for n in self.sizes:
            out.append((start, start + n))
            start += n
        return out

    def backward(self, gy):
        return tuple(narrow(gy, self.axis, s, e - s) for s, e in self._bounds())


def _tensors_and_dim(name, tensors, dim, axis):
    """The sequence as a non-empty list of Tensors, and the dimension (``axis`` is numpy's name for ``dim``)."""
    tensors = [t if isinstance(t, Tensor) else as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty sequence of tensors")
    return tensors, dim if axis is None else axis


def cat(tensors, dim=0, axis=None):
    """Concatenate tensors along an existing dimension."""
    tensors, dim = _tensors_and_dim("cat", tensors, dim, axis)
    nd = tensors[0].ndim
    if nd == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = norm_dim(dim, nd, "cat")
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.ndim != nd or any(a != b for j, (a, b) in enumerate(zip(t.shape, ref)) if j != d):
            raise ValueError(f"cat: tensor {i} has shape {t.shape}, expected {ref} except in dimension {d}")
    return Cat(d)(*tensors)


concatenate = cat
concat = cat


def stack(tensors, dim=0, axis=None):
    """Join tensors of one shape along a new dimension."""
    tensors, dim = _tensors_and_dim("stack", tensors, dim, axis)
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != ref:
            raise ValueError(
                f"stack: all tensors must have the same shape; tensor 0 has {ref}, tensor {i} has {t.shape}"
            )
    d = norm_dim(dim, len(ref) + 1, "stack")
    return cat([unsqueeze(t, d) for t in tensors], d)


class Split(Function):
    needs_input_values = False

    def __init__(self, axis, bounds):
        self.axis, self.bounds = axis, bounds

    def forward(self, x):
        idx = [slice(None)] * x.ndim
        out = []
        for s, e in self.bounds:
            idx[self.axis] = slice(s, e)
            out.append(x[tuple(idx)])
        return tuple(out)

    def backward(self, *gys):
        return cat(list(gys), self.axis)


def split(x, split_size_or_sections, dim=0):
    """Split into pieces of ``split_size`` (int) or of the listed sizes, along ``dim`` (PyTorch semantics)."""
    d = norm_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} do not add up to {n}, the size of dimension {d}")
    bounds, start = [], 0
    for s in sizes:
        bounds.append((start, start + s))
        start += s
    return Split(d, bounds)(x)


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` nearly equal pieces (the last may be smaller)."""
    n = x.shape[norm_dim(dim, x.ndim, "chunk")]
    step = -(-n // chunks)
    return split(x, max(step, 1), dim)


def unbind(x, dim=0):
    """Remove dimension ``dim``, returning the slices along it."""
    dim = norm_dim(dim, x.ndim, "unbind")
    return tuple(squeeze(p, dim) for p in split(x, 1, dim))


def narrow(x, dim, start, length):
    """The slice ``start:start+length`` along ``dim``."""
    idx = [slice(None)] * x.ndim
    idx[norm_dim(dim, x.ndim, "narrow")] = slice(start, start + length)
    return x[tuple(idx)]

