"""Layer Modules by family (linear, norm, dropout, conv, pool, recurrent, attention, embedding)."""
from .activation import (  # noqa: F401  (issue 3: activation layers)
    CELU, ELU, GELU, PReLU, RBF, SELU, AbsRectification, CosineUnit, Hardsigmoid, HardSigmoid, Hardswish, Hardtanh,
    HardTanh, Heaviside, LeakyReLU, LogSigmoid, LogSoftmax, Mish, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin,
    Softplus, Softsign, Step, Swish, Tanh,
)
from .linear import Bilinear, Dense, Linear, LowRankLinear  # noqa: F401
from .misc import Flatten, Identity, Reshape, Unflatten  # noqa: F401
from .dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d  # noqa: F401
from .embedding import Embedding  # noqa: F401
from .maxout import Maxout, maxout  # noqa: F401
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, LocalResponseNorm, RMSNorm  # noqa: F401
from .linear import GaussianHead, MixtureDensity  # noqa: F401
