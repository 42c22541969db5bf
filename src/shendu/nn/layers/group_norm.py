"""``GroupNorm``: group normalization (Wu & He 2018), the per-example variant of batch normalization
(Textbook 8.7.1); the computation is ``nn.functional.group_norm``."""
from __future__ import annotations

import numpy as np

from ..functional._checks import check_tensor
from ..functional.group_norm import group_norm
from ..module import Module
from ..parameter import Parameter


class GroupNorm(Module):
    """Group normalization over (N, C, *) input: each group of C / G channels of an example normalized by its
    own mean and variance, then gamma_c x + beta_c; affine weight 1 and bias 0 per channel at init."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels={num_channels} must be divisible by num_groups={num_groups}")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        dt = np.float32 if dtype is None else dtype
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dt))
            self.bias = Parameter(np.zeros(num_channels, dtype=dt))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
