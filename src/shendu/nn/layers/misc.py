"""Shape and pass-through layers: Identity, Flatten, Unflatten, Reshape."""
from __future__ import annotations

from ...ops._arr import norm_dim
from ..functional._checks import check_tensor
from ..module import Module


class Identity(Module):
    """Returns its input unchanged (ignores constructor arguments, as PyTorch)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x  # anything, as PyTorch's Identity


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        x = check_tensor(self, x, "input")
        nd = x.ndim
        s, e = norm_dim(self.start_dim, nd, "Flatten"), norm_dim(self.end_dim, nd, "Flatten")
        if s > e:
            raise ValueError(
                f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} "
                f"for input of shape {tuple(x.shape)}"
            )
        shape = x.shape
        if s == e:
            return x
        n = 1
        for d in shape[s:e + 1]:
            n *= d
        return x.reshape(tuple(shape[:s]) + (n,) + tuple(shape[e + 1:]))

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dim ``dim`` into ``unflattened_size``: (N, 12) -> (N, 3, 4)."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        d = norm_dim(self.dim, x.ndim, "Unflatten")
        return x.reshape(tuple(x.shape[:d]) + self.unflattened_size + tuple(x.shape[d + 1:]))


class Reshape(Module):
    """Reshape each sample to ``shape`` (the batch dim is kept): Reshape(1, 28, 28)."""

    def __init__(self, *shape):
        super().__init__()
        self.shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return x.reshape((x.shape[0],) + self.shape)

    def extra_repr(self):
        return f"shape={self.shape}"
