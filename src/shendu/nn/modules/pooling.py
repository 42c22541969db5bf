"""``shendu.nn.modules.pooling``: PyTorch's ``torch.nn.modules.pooling`` path for the classes of nn.layers.pool."""
from ..layers.pool import (  # noqa: F401
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    LPPool1d,
    LPPool2d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
)
