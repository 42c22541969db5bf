"""``shendu.nn.modules.module``: PyTorch's ``torch.nn.modules.module`` path for the classes of nn.module."""
from ..module import Module  # noqa: F401
