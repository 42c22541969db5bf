"""LeNet-5 (LeCun et al. 1998) for 1x28x28 inputs: conv 6@5x5 pad 2 -> pool 2 -> conv 16@5x5 -> pool 2
-> dense 120 -> 84 -> classes (the textbook's CNN chapter architecture family, 9.11)."""
from __future__ import annotations

from .. import nn


class LeNet5(nn.Module):
    """LeNet-5: input (N, in_channels, 28, 28) -> logits (N, num_classes).

    ``activation`` 'relu' (default) or 'sigmoid'/'tanh' (the original); ``pool`` 'max' (default) or 'avg'
    (the original's subsampling)."""

    def __init__(self, num_classes=10, in_channels=1, activation="relu", pool="max"):
        super().__init__()
        acts = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
        if activation not in acts or pool not in ("max", "avg"):
            raise ValueError(f"LeNet5: activation must be one of {sorted(acts)} and pool 'max' or 'avg', got "
                             f"{activation!r}, {pool!r}")
        act = acts[activation]
        P = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=2), act(), P(2),
            nn.Conv2d(6, 16, 5), act(), P(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), act(), nn.Linear(120, 84), act(), nn.Linear(84, num_classes),
        )

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[2:]) != (28, 28):
            raise ValueError(f"LeNet5: expected input (N, C, 28, 28), got {tuple(x.shape)}")
        return self.classifier(self.features(x))
