"""``shendu.nn.modules.conv``: PyTorch's ``torch.nn.modules.conv`` path for the classes of nn.layers.conv."""
from ..layers.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401
from ..layers.lazy import LazyConv1d, LazyConv2d  # noqa: F401
