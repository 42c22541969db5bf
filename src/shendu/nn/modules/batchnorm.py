"""``shendu.nn.modules.batchnorm``: PyTorch's ``torch.nn.modules.batchnorm`` path.

For the classes of nn.layers.normalization (batch norm)."""
from ..layers.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d  # noqa: F401
