"""``shendu.nn.modules.flatten``: PyTorch's ``torch.nn.modules.flatten`` path for the classes of nn.layers.misc."""
from ..layers.misc import Flatten, Unflatten  # noqa: F401
