"""ResNet with basic residual blocks (He et al. 2016; textbook 9.11): y = relu(F(x) + shortcut(x)),
F = conv3x3-BN-ReLU-conv3x3-BN, shortcut = identity or 1x1 conv-BN when the shape changes."""
from __future__ import annotations

from .. import nn


class BasicBlock(nn.Module):
    """Residual block: (N, in_ch, H, W) -> (N, out_ch, H/stride, W/stride)."""

    def __init__(self, in_ch, out_ch, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.relu = nn.ReLU()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))
        else:
            self.shortcut = nn.Identity()

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet(nn.Module):
    """ResNet: a 3x3 stem, stages of ``blocks[i]`` BasicBlocks of width ``widths[i]`` (stride 2 from the
    second stage on), global average pooling and a linear classifier. input (N, C, H, W) -> (N, num_classes)."""

    def __init__(self, blocks=(2, 2, 2), widths=(16, 32, 64), num_classes=10, in_channels=3):
        super().__init__()
        if len(blocks) != len(widths) or not blocks:
            raise ValueError(f"ResNet: blocks {blocks} and widths {widths} must be non-empty and of equal length")
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU())
        layers, c = [], widths[0]
        for i, (n, w) in enumerate(zip(blocks, widths)):
            for j in range(n):
                layers.append(BasicBlock(c, w, 2 if (i > 0 and j == 0) else 1))
                c = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.GlobalAvgPool2d()
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.layers(self.stem(x))))


def resnet_cifar(depth=20, num_classes=10, in_channels=3):
    """The CIFAR ResNet family of depth 6n+2 (20, 32, 44, 56, 110): three stages of n blocks, widths 16/32/64."""
    if (depth - 2) % 6:
        raise ValueError(f"resnet_cifar: depth must be 6n+2 (20, 32, 44, ...), got {depth}")
    n = (depth - 2) // 6
    return ResNet((n, n, n), (16, 32, 64), num_classes, in_channels)
