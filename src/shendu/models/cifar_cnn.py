"""The seeds' CIFAR-10 CNN with batch normalization (textbook 003, CNN-with-BN example): two blocks of
conv 64@5x5 'same' (no bias) -> BatchNorm (decay 0.99) -> ReLU -> max-pool 3x3/2 'same', then dense
384 -> 192 -> 10. Init: conv W ~ truncated normal (std 5e-2), dense W ~ truncated normal (std 0.04), hidden
dense bias 0.1. 1,068,426 trainable parameters for 3x24x24 inputs."""
from __future__ import annotations

from .. import nn
from ..nn import init


class CifarCNN(nn.Module):
    """input (N, 3, H, W) (24x24 after the seeds' crop) -> logits (N, num_classes)."""

    def __init__(self, num_classes=10, in_channels=3, input_size=24, channels=64):
        super().__init__()
        half = -(-input_size // 2)  # two 'same' stride-2 pools: ceil(ceil(n/2)/2)
        s = -(-half // 2)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, channels, 5, padding="same", bias=False), nn.BatchNorm2d(channels, momentum=0.01),
            nn.ReLU(), nn.MaxPool2d(3, 2, padding="same"),
            nn.Conv2d(channels, channels, 5, padding="same", bias=False), nn.BatchNorm2d(channels, momentum=0.01),
            nn.ReLU(), nn.MaxPool2d(3, 2, padding="same"),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(channels * s * s, 384), nn.ReLU(), nn.Linear(384, 192), nn.ReLU(),
            nn.Linear(192, num_classes),
        )
        for m in self.features:
            if isinstance(m, nn.Conv2d):
                init.trunc_normal_(m.weight, std=5e-2)
        for m in self.classifier:
            if isinstance(m, nn.Linear):
                init.trunc_normal_(m.weight, std=0.04)
                if m.out_features != num_classes:
                    init.constant_(m.bias, 0.1)
        self.input_size = input_size

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[2:]) != (self.input_size, self.input_size):
            raise ValueError(f"CifarCNN: expected input (N, C, {self.input_size}, {self.input_size}), "
                             f"got {tuple(x.shape)}")
        return self.classifier(self.features(x))
