"""VGG (Simonyan & Zisserman 2014; textbook 9.11): stacks of 3x3 'same' convolutions (optional BatchNorm)
and 2x2 max pooling, then global average pooling and a dense classifier."""
from __future__ import annotations

from .. import nn


class VGG(nn.Module):
    """``cfg`` lists conv widths with 'M' for a 2x2 max-pool, e.g. (64, 'M', 128, 'M').
    input (N, in_channels, H, W) -> logits (N, num_classes)."""

    def __init__(self, cfg=(32, "M", 64, "M", 128, 128, "M"), num_classes=10, in_channels=3, batch_norm=True,
                 hidden=256, dropout=0.5):
        super().__init__()
        layers, c = [], in_channels
        for v in cfg:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            layers.append(nn.Conv2d(c, v, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU())
            c = v
        self.features = nn.Sequential(*layers)
        self.pool = nn.GlobalAvgPool2d()
        self.classifier = nn.Sequential(nn.Linear(c, hidden), nn.ReLU(), nn.Dropout(dropout),
                                        nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))


def vgg_small(num_classes=10, in_channels=3, **kw):
    """A small VGG for 32x32 inputs: 32, M, 64, M, 128, 128, M."""
    return VGG((32, "M", 64, "M", 128, 128, "M"), num_classes, in_channels, **kw)
