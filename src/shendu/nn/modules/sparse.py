"""``shendu.nn.modules.sparse``: PyTorch's ``torch.nn.modules.sparse`` path for the classes of nn.layers.embedding."""
from ..layers.embedding import Embedding  # noqa: F401
