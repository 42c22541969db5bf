"""``shendu.nn.modules.activation``: PyTorch's ``torch.nn.modules.activation`` path.

For the classes of nn.layers.activation."""
from ..layers.activation import (  # noqa: F401
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Softsign,
    Tanh,
)
from ..layers.transformer import MultiheadAttention  # noqa: F401,E402  (torch.nn.modules.activation path)
