"""``nn.Dropout2d`` as PyTorch runs it on any input: 2-D (N, C) input gets element-wise dropout with
PyTorch's deprecation warning; (N, C, *spatial) input gets channel dropout (textbook 7.12)."""
from __future__ import annotations

import warnings

from ..functional.dropout import dropout
from .dropout import Dropout2d as _ChannelDropout2d

_MSG = ("dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result in an error in a "
        "future release. To retain the behavior and silence this warning, please use dropout instead. Note that "
        "dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
        "and an optional batch dimension (i.e. 3D or 4D inputs).")


class Dropout2d(_ChannelDropout2d):
    """Channel dropout of (N, C, H, W) feature maps; a 2-D (N, C) input drops elements (one mask per
    (n, c) entry, as PyTorch's feature dropout does) and warns like PyTorch."""

    def forward(self, x):
        if x.ndim == 2:
            warnings.warn(_MSG.format(nd=2), UserWarning, stacklevel=2)
            return dropout(x, self.p, self.training, mode=self.mode)
        return super().forward(x)
