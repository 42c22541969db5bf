"""``shendu.nn.modules.normalization``: PyTorch's ``torch.nn.modules.normalization`` path for the classes of nn.layers.normalization."""
from ..layers.normalization import LayerNorm, LocalResponseNorm, RMSNorm  # noqa: F401
from ..layers.extra import GroupNorm  # noqa: F401,E402
