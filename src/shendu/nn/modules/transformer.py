"""``shendu.nn.modules.transformer``: PyTorch's ``torch.nn.modules.transformer`` path for nn.layers.transformer."""
from ..layers.transformer import (  # noqa: F401
    MultiheadAttention,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
