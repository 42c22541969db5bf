"""Ops that copy a tensor into a new layout: constant padding, tile/repeat/repeat_interleave, flip, roll.
Backward: crop the padding, sum the tiles, flip or roll back (textbook 6.5.2, vector-Jacobian products)."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from ...backend import to_host
from .._arr import norm_dim
from .views import _shape_arg, flatten, reshape


class Pad(Function):
    needs_input_values = False

    def __init__(self, widths, value):
        self.widths, self.value = widths, value

    def forward(self, x):
        xp = self.xp
        return xp.pad(x, self.widths, mode="constant", constant_values=self.value)

    def _crop(self):
        return tuple(slice(a, a + n) for (a, _), n in zip(self.widths, self.in_shape))

    def backward(self, gy):
        return gy[self._crop()]


def pad(x, pad, mode="constant", value=0.0):
    """Constant padding; ``pad`` is PyTorch-style (last dim first: (left, right, top, bottom, ...))."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    pad = tuple(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: padding {pad} must have an even length of at most 2*{x.ndim}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        a, b = pad[2 * i], pad[2 * i + 1]
        if a < 0 or b < 0:
            raise ValueError(f"pad: negative padding {pad} is not supported")
        widths[x.ndim - 1 - i] = (a, b)
    fn = Pad(tuple(widths), value)
    fn.in_shape = x.shape
    return fn(x)


class Tile(Function):
    needs_input_values = False

    def __init__(self, reps):
        self.reps = reps

    def forward(self, x):
        xp = self.xp
        self.in_shape = x.shape
        return xp.tile(x, self.reps)

    def _split_shape(self):
        # tiled shape (r0, s0, r1, s1, ...) -> sum over the r axes
        reps = self.reps
        shp = (1,) * (len(reps) - len(self.in_shape)) + tuple(self.in_shape)
        inter = []
        for r, s in zip(reps, shp):
            inter += [r, s]
        return inter, tuple(range(0, 2 * len(reps), 2)), shp

    def backward(self, gy):
        inter, axes, shp = self._split_shape()
        return reshape(reshape(gy, inter).sum(dim=axes), self.in_shape)


def tile(x, *reps):
    """Repeat the whole tensor ``reps`` times along each dimension (NumPy's tile)."""
    reps = _shape_arg(reps)
    reps = (1,) * (x.ndim - len(reps)) + tuple(reps)
    return Tile(reps)(x)


def repeat(x, *sizes):
    """PyTorch's ``Tensor.repeat``: tile the tensor (``sizes`` may add leading dimensions)."""
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: number of repeat dims {len(sizes)} is smaller than the tensor's {x.ndim} dims")
    return tile(x, sizes)


def repeat_interleave(x, repeats, dim=None):
    """Repeat each element ``repeats`` times (NumPy's repeat); flattens when dim is None."""
    if dim is None:
        x, dim = flatten(x), 0
    d = norm_dim(dim, x.ndim, "repeat_interleave")
    if isinstance(repeats, Tensor):
        repeats = to_host(repeats._data)
    # the index is built on the host from shapes and counts; getitem moves it to x's device
    idx = np.repeat(np.arange(x.shape[d]), repeats)
    sl = [slice(None)] * x.ndim
    sl[d] = idx
    return x[tuple(sl)]


class Flip(Function):
    needs_input_values = False

    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        xp = self.xp
        return xp.flip(x, self.axes)

    def backward(self, gy):
        return flip(gy, self.axes)


def flip(x, dims):
    """Reverse the order of elements along ``dims``."""
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    return Flip(tuple(norm_dim(d, x.ndim, "flip") for d in dims))(x)


class Roll(Function):
    needs_input_values = False

    def __init__(self, shifts, axes):
        self.shifts, self.axes = shifts, axes

    def forward(self, x):
        xp = self.xp
        return xp.roll(x, self.shifts, self.axes)

    def backward(self, gy):
        return roll(gy, tuple(-s for s in self.shifts), self.axes)


def roll(x, shifts, dims=None):
    """Shift elements cyclically along ``dims`` (flattened when dims is None)."""
    if dims is None:
        return reshape(roll(flatten(x), shifts, 0), x.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(dims)} dims; they must match")
    return Roll(shifts, tuple(norm_dim(d, x.ndim, "roll") for d in dims))(x)
