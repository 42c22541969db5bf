"""``shendu.nn.modules.linear``: PyTorch's ``torch.nn.modules.linear`` path for the classes of nn.layers.linear (and the lazy layer)."""
from ..layers.linear import Bilinear, Linear  # noqa: F401
from ..layers.lazy import LazyLinear  # noqa: F401
from ..layers.misc import Identity  # noqa: F401
