"""Squeeze-and-excitation networks (Hu et al. 2018), textbook 9.11: channel attention
s = sigmoid(W2 relu(W1 mean_hw(x))), y = x * s (per channel); SE-ResNet puts it on each residual branch."""
from __future__ import annotations

from .. import nn
from .resnet import BasicBlock, ResNet


class SEBlock(nn.Module):
    """Squeeze (global average over H, W) and excitation (FC C -> C/r, ReLU, FC -> C, sigmoid), then rescale
    the channels. (N, C, H, W) -> (N, C, H, W)."""

    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def gates(self, x):
        """The (N, C) excitation weights in (0, 1)."""
        return self.fc2(self.fc1(x.mean(dim=(2, 3))).relu()).sigmoid()

    def forward(self, x):
        s = self.gates(x)
        return x * s.reshape(s.shape[0], s.shape[1], 1, 1)


class SEBasicBlock(BasicBlock):
    """ResNet basic block with an SE block on the residual branch: relu(SE(F(x)) + shortcut(x))."""

    def __init__(self, in_ch, out_ch, stride=1, reduction=16):
        super().__init__(in_ch, out_ch, stride)
        self.se = SEBlock(out_ch, reduction)

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.se(self.bn2(self.conv2(y))) + self.shortcut(x))


class SEResNet(ResNet):
    """ResNet of SEBasicBlocks (same arguments as ResNet plus ``reduction``). (N, C, H, W) -> (N, classes)."""

    def __init__(self, blocks=(2, 2, 2), widths=(16, 32, 64), num_classes=10, in_channels=3, reduction=4):
        super().__init__(blocks, widths, num_classes, in_channels)
        layers, c = [], widths[0]
        for i, (n, w) in enumerate(zip(blocks, widths)):
            for j in range(n):
                layers.append(SEBasicBlock(c, w, 2 if (i > 0 and j == 0) else 1, reduction))
                c = w
        self.layers = nn.Sequential(*layers)
