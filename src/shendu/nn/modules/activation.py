"""``shendu.nn.modules.activation``: PyTorch's ``torch.nn.modules.activation`` path for the classes of nn.layers.activation."""
from ..layers.activation import (  # noqa: F401
    CELU, ELU, GELU, PReLU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, Mish, ReLU,
    ReLU6, Sigmoid, SiLU, Softmax, Softmin, Softplus, Softsign, Tanh,
)
from ..layers.transformer import MultiheadAttention  # noqa: F401,E402  (torch.nn.modules.activation path)
