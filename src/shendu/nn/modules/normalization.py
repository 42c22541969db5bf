"""``shendu.nn.modules.normalization``: PyTorch's ``torch.nn.modules.normalization`` path.

For the classes of nn.layers.normalization."""
from ..layers.extra import GroupNorm  # noqa: F401,E402
from ..layers.normalization import LayerNorm, LocalResponseNorm, RMSNorm  # noqa: F401
