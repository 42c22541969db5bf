"""AlexNet (Krizhevsky et al. 2012) and ZFNet (Zeiler & Fergus 2013), textbook 9.11 classic architectures.

Single-tower AlexNet: conv 11x11/4 (96) - LRN - maxpool 3/2 - conv 5x5 (256) - LRN - maxpool 3/2 - conv 3x3
(384, 384, 256) - maxpool 3/2 - FC 4096 - FC 4096 - FC classes, dropout 0.5 before each hidden FC;
LRN size 5, alpha 1e-4, beta 0.75, k 2. ZFNet: the same with conv1 7x7/2 and conv2 5x5/2.
Input (N, 3, 227, 227) (AlexNet) or (N, 3, 224, 224) (ZFNet) -> logits (N, classes); an adaptive average
pool to 6x6 lets other sizes through. ``width`` scales the conv widths, ``hidden`` the FC width."""
from __future__ import annotations

from .. import nn


def _w(c, width):
    return max(1, int(round(c * width)))


class AlexNet(nn.Module):
    """AlexNet (textbook 9.11, with LocalResponseNorm). (N, C, H, W) -> (N, num_classes); 62,378,344
    parameters at the defaults (single-tower widths 96-256-384-384-256, FC 4096)."""

    _first = (11, 4, 0)     # conv1 kernel, stride, padding
    _second = (5, 1, 2)

    def __init__(self, num_classes=1000, in_channels=3, width=1.0, hidden=4096, dropout=0.5, lrn=True):
        super().__init__()
        c1, c2, c3, c4, c5 = (_w(c, width) for c in (96, 256, 384, 384, 256))
        (k1, s1, p1), (k2, s2, p2) = self._first, self._second

        def norm():
            return [nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)] if lrn else []

        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, k1, s1, p1), nn.ReLU(), *norm(), nn.MaxPool2d(3, 2),
            nn.Conv2d(c1, c2, k2, s2, p2), nn.ReLU(), *norm(), nn.MaxPool2d(3, 2),
            nn.Conv2d(c2, c3, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(c3, c4, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(c4, c5, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(3, 2))
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c5 * 36, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


class ZFNet(AlexNet):
    """ZFNet: AlexNet with conv1 7x7 stride 2 and conv2 5x5 stride 2 (smaller first-layer filters and stride,
    from visualising AlexNet's features). (N, C, 224, 224) -> (N, num_classes)."""

    _first = (7, 2, 1)
    _second = (5, 2, 0)
