"""The deep configurations of textbook 9.11's classic nets: VGG-11/13/16/19 (Simonyan & Zisserman 2014,
Table 1 configurations A, B, D, E) and bottleneck ResNet-50/101/152 (He et al. 2016):
bottleneck block y = relu(F(x) + shortcut(x)), F = 1x1 (w) - 3x3 (w, stride) - 1x1 (4w), each with BN."""
from __future__ import annotations

from .. import nn
from .resnet import ResNet
from .vgg import VGG

VGG_CONFIGS = {
    11: (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    13: (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    16: (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    19: (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"),
}
RESNET_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def vgg(depth=16, num_classes=1000, in_channels=3, width=1.0, **kw):
    """VGG-``depth`` (11, 13, 16 or 19 weight layers: 8/10/13/16 convolutions + 3 in the classifier of
    :class:`VGG`); ``width`` scales every conv width. (N, C, H, W) -> (N, num_classes)."""
    if depth not in VGG_CONFIGS:
        raise ValueError(f"vgg: depth must be one of {sorted(VGG_CONFIGS)}, got {depth}")
    cfg = tuple(v if v == "M" else max(1, int(round(v * width))) for v in VGG_CONFIGS[depth])
    return VGG(cfg, num_classes, in_channels, **kw)


class Bottleneck(nn.Module):
    """Bottleneck residual block: (N, in_ch, H, W) -> (N, 4 * width, H/stride, W/stride)."""

    expansion = 4

    def __init__(self, in_ch, width, stride=1):
        super().__init__()
        out = width * self.expansion
        self.conv1, self.bn1 = nn.Conv2d(in_ch, width, 1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, out, 1, bias=False), nn.BatchNorm2d(out)
        self.relu = nn.ReLU()
        if stride != 1 or in_ch != out:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out, 1, stride, bias=False), nn.BatchNorm2d(out))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + self.shortcut(x))


class BottleneckResNet(ResNet):
    """ImageNet-style ResNet with bottleneck blocks: 7x7/2 conv stem + 3x3/2 max-pool, four stages of
    ``blocks[i]`` bottlenecks of width ``widths[i]`` (output 4x), global average pool, linear.
    (N, C, H, W) -> (N, num_classes)."""

    def __init__(self, blocks=(3, 4, 6, 3), widths=(64, 128, 256, 512), num_classes=1000, in_channels=3):
        super().__init__(tuple(blocks), tuple(widths), num_classes, in_channels)   # builds the basic version
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 7, 2, 3, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        layers, c = [], widths[0]
        for i, (n, w) in enumerate(zip(blocks, widths)):
            for j in range(n):
                layers.append(Bottleneck(c, w, 2 if (i > 0 and j == 0) else 1))
                c = w * Bottleneck.expansion
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(c, num_classes)


def resnet_bottleneck(depth=50, num_classes=1000, in_channels=3, width=1.0):
    """ResNet-50/101/152 (``width`` scales the stage widths 64-128-256-512)."""
    if depth not in RESNET_BLOCKS:
        raise ValueError(f"resnet_bottleneck: depth must be one of {sorted(RESNET_BLOCKS)}, got {depth}")
    widths = tuple(max(1, int(round(w * width))) for w in (64, 128, 256, 512))
    return BottleneckResNet(RESNET_BLOCKS[depth], widths, num_classes, in_channels)
