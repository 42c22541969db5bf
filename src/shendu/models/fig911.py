"""The three example classification architectures of textbook 9.3 (Goodfellow Fig 9.11), with the figure's
numbers as defaults: 256x256x3 input, 64-channel 'same' 3x3 convolutions with ReLU, pooling of stride 4.

* :class:`FixedSizeConvNet` (left): conv-pool-conv-pool, reshape 16x16x64 = 16,384 units, matmul to classes.
* :class:`VariableSizeConvNet` (centre): conv-pool-conv, then pooling to a fixed 3x3 grid whatever the image
  size, so the dense layer always gets 3 x 3 x 64 = 576 units.
* :class:`FullyConvNet` (right): conv-pool-conv-pool-conv to one map per class, averaged to one value each.
All return logits (N, num_classes) (the softmax is in the loss)."""
from __future__ import annotations

from .. import nn
from ..nn.layers.cnn_extras import AdaptiveMaxPool2d


def _trunk(in_channels, width, n_conv_pool):
    layers, c = [], in_channels
    for _ in range(n_conv_pool):
        layers += [nn.Conv2d(c, width, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(4, 4)]
        c = width
    return layers


class FixedSizeConvNet(nn.Module):
    """Fig 9.11 left: input (N, C, S, S) with S = image_size fixed -> (N, classes); the dense layer sees
    width * (S/16)^2 units (16,384 at the defaults)."""

    def __init__(self, num_classes=1000, in_channels=3, image_size=256, width=64):
        super().__init__()
        if image_size % 16:
            raise ValueError(f"FixedSizeConvNet: image_size must be a multiple of 16, got {image_size}")
        self.features = nn.Sequential(*_trunk(in_channels, width, 2))
        self.n_flat = width * (image_size // 16) ** 2
        self.fc = nn.Linear(self.n_flat, num_classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


class VariableSizeConvNet(nn.Module):
    """Fig 9.11 centre: conv-pool-conv then max pooling to a ``grid`` x ``grid`` map, so the dense layer gets
    width * grid^2 units (576 = 64 * 3 * 3 at the defaults) for any input of at least 4*grid pixels a side."""

    def __init__(self, num_classes=1000, in_channels=3, width=64, grid=3):
        super().__init__()
        self.features = nn.Sequential(*_trunk(in_channels, width, 1), nn.Conv2d(width, width, 3, 1, 1), nn.ReLU(),
                                      AdaptiveMaxPool2d(grid))
        self.n_flat = width * grid * grid
        self.fc = nn.Linear(self.n_flat, num_classes)

    def forward(self, x):
        return self.fc(self.features(x).flatten(1))


class FullyConvNet(nn.Module):
    """Fig 9.11 right: no dense layer; the last conv has one output map per class, each averaged to one
    logit. Any input size of at least 16 pixels a side."""

    def __init__(self, num_classes=1000, in_channels=3, width=64):
        super().__init__()
        self.features = nn.Sequential(*_trunk(in_channels, width, 2), nn.Conv2d(width, num_classes, 3, 1, 1))
        self.pool = nn.GlobalAvgPool2d()

    def forward(self, x):
        return self.pool(self.features(x))
