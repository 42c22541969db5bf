"""``shendu.nn.modules.linear``: PyTorch's ``torch.nn.modules.linear`` path.

For the classes of nn.layers.linear (and the lazy layer)."""
from ..layers.lazy import LazyLinear  # noqa: F401
from ..layers.linear import Bilinear, Linear  # noqa: F401
from ..layers.misc import Identity  # noqa: F401
