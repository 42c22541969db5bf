"""GoogLeNet / Inception v1 (Szegedy et al. 2014) and the v2, v3 and v4 (Inception-ResNet) blocks, textbook 9.11.
The v1 Inception block runs 1x1, 1x1->3x3, 1x1->5x5 and 3x3 max-pool->1x1 branches in parallel and concatenates
them along channels."""
from __future__ import annotations

from .. import nn, ops

# (c1, c3_reduce, c3, c5_reduce, c5, pool_proj) for 3a 3b | 4a-4e | 5a 5b (the paper's Table 1)
GOOGLENET_V1 = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def _conv(i, o, k, p=0):
    return nn.Sequential(nn.Conv2d(i, o, k, 1, p), nn.ReLU())


class Inception(nn.Module):
    """Inception v1 block: (N, in, H, W) -> (N, c1 + c3 + c5 + pool_proj, H, W)."""

    def __init__(self, in_channels, c1, c3_reduce, c3, c5_reduce, c5, pool_proj):
        super().__init__()
        self.b1 = _conv(in_channels, c1, 1)
        self.b2 = nn.Sequential(_conv(in_channels, c3_reduce, 1), _conv(c3_reduce, c3, 3, 1))
        self.b3 = nn.Sequential(_conv(in_channels, c5_reduce, 1), _conv(c5_reduce, c5, 5, 2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), _conv(in_channels, pool_proj, 1))
        self.out_channels = c1 + c3 + c5 + pool_proj

    def forward(self, x):
        return ops.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], dim=1)


class GoogLeNet(nn.Module):
    """GoogLeNet v1 without the auxiliary classifiers: stem (7x7/2 conv, pool, 1x1, 3x3, pool), Inception
    3a-3b, pool, 4a-4e, pool, 5a-5b, global average pool, dropout 0.4, linear. ``stages`` picks a prefix
    of the blocks (e.g. ("3a", "3b") for a small net), ``small_stem`` a 3x3 stem for 32x32/8x8 images.
    (N, C, H, W) -> (N, num_classes)."""

    def __init__(self, num_classes=1000, in_channels=3, stages=tuple(GOOGLENET_V1), small_stem=False,
                 dropout=0.4):
        super().__init__()
        if small_stem:
            stem, c = [_conv(in_channels, 192, 3, 1)], 192
        else:
            stem = [nn.Conv2d(in_channels, 64, 7, 2, 3), nn.ReLU(), nn.MaxPool2d(3, 2, 1), _conv(64, 64, 1),
                    _conv(64, 192, 3, 1), nn.MaxPool2d(3, 2, 1)]
            c = 192
        blocks = []
        for name in stages:
            if name not in GOOGLENET_V1:
                raise ValueError(f"GoogLeNet: unknown stage {name!r}; expected some of {tuple(GOOGLENET_V1)}")
            if name in ("4a", "5a") and not small_stem:
                blocks.append(nn.MaxPool2d(3, 2, 1))
            blk = Inception(c, *GOOGLENET_V1[name])
            blocks.append(blk)
            c = blk.out_channels
        self.out_channels = c
        self.features = nn.Sequential(*stem, *blocks)
        self.pool = nn.GlobalAvgPool2d()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.fc(self.dropout(self.pool(self.features(x))))


def _cbr(i, o, k, p=0):
    """conv - BatchNorm - ReLU (the Inception v2+ unit)."""
    return nn.Sequential(nn.Conv2d(i, o, k, 1, p, bias=False), nn.BatchNorm2d(o), nn.ReLU())


class InceptionV2(nn.Module):
    """Inception v2 block (Ioffe & Szegedy 2015; Szegedy et al. 2016 Fig 5): BatchNorm everywhere and the 5x5
    branch factorised into two 3x3 convolutions (same receptive field, 18 c^2 instead of 25 c^2 weights);
    average-pool projection. (N, in, H, W) -> (N, c1 + c3 + d3 + pool_proj, H, W)."""

    def __init__(self, in_channels, c1, c3_reduce, c3, d3_reduce, d3, pool_proj):
        super().__init__()
        self.b1 = _cbr(in_channels, c1, 1)
        self.b2 = nn.Sequential(_cbr(in_channels, c3_reduce, 1), _cbr(c3_reduce, c3, 3, 1))
        self.b3 = nn.Sequential(_cbr(in_channels, d3_reduce, 1), _cbr(d3_reduce, d3, 3, 1), _cbr(d3, d3, 3, 1))
        self.b4 = nn.Sequential(nn.AvgPool2d(3, 1, 1), _cbr(in_channels, pool_proj, 1))
        self.out_channels = c1 + c3 + d3 + pool_proj

    def forward(self, x):
        return ops.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], dim=1)


class InceptionV3(nn.Module):
    """Inception v3 block with asymmetric factorisation (Szegedy et al. 2016 Fig 6): an n x n convolution as
    1 x n then n x 1 (2n instead of n^2 weights per channel pair). Branches 1x1 | 1x1 - 1xn - nx1 |
    1x1 - nx1 - 1xn - nx1 - 1xn | avgpool - 1x1. (N, in, H, W) -> (N, c1 + 2 * c7 + pool_proj, H, W)."""

    def __init__(self, in_channels, c1, c7_reduce, c7, pool_proj, n=7):
        super().__init__()
        p = n // 2

        def row(i, o):
            return _cbr(i, o, (1, n), (0, p))

        def col(i, o):
            return _cbr(i, o, (n, 1), (p, 0))

        self.b1 = _cbr(in_channels, c1, 1)
        self.b2 = nn.Sequential(_cbr(in_channels, c7_reduce, 1), row(c7_reduce, c7_reduce), col(c7_reduce, c7))
        self.b3 = nn.Sequential(_cbr(in_channels, c7_reduce, 1), col(c7_reduce, c7_reduce), row(c7_reduce, c7_reduce),
                                col(c7_reduce, c7_reduce), row(c7_reduce, c7))
        self.b4 = nn.Sequential(nn.AvgPool2d(3, 1, 1), _cbr(in_channels, pool_proj, 1))
        self.out_channels = c1 + 2 * c7 + pool_proj

    def forward(self, x):
        return ops.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], dim=1)


class InceptionResNetBlock(nn.Module):
    """Inception-ResNet block (Inception v4 paper, Szegedy et al. 2017, block A form): branches 1x1 |
    1x1 - 3x3 | 1x1 - 3x3 - 3x3, concatenated, a linear 1x1 back to ``channels``, scaled by ``scale`` (0.1-0.3
    stabilises training) and added to the input: y = relu(x + scale * W [b1; b2; b3]). Shape-preserving."""

    def __init__(self, channels, branch=32, scale=0.17):
        super().__init__()
        self.scale = scale
        self.b1 = _cbr(channels, branch, 1)
        self.b2 = nn.Sequential(_cbr(channels, branch, 1), _cbr(branch, branch, 3, 1))
        self.b3 = nn.Sequential(_cbr(channels, branch, 1), _cbr(branch, branch, 3, 1), _cbr(branch, branch, 3, 1))
        self.up = nn.Conv2d(3 * branch, channels, 1)

    def forward(self, x):
        y = self.up(ops.cat([self.b1(x), self.b2(x), self.b3(x)], dim=1))
        return (x + y * self.scale).relu()
