"""Layer Modules by family (linear, norm, dropout, conv, pool, recurrent, attention, embedding)."""
from .activation import (  # noqa: F401  (issue 3: activation layers)
    CELU, ELU, GELU, PReLU, RBF, SELU, AbsRectification, CosineUnit, Hardsigmoid, HardSigmoid, Hardswish, Hardtanh,
    HardTanh, Heaviside, LeakyReLU, LogSigmoid, LogSoftmax, Mish, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin,
    Softplus, Softsign, Step, Swish, Tanh,
)
from .linear import Bilinear, Dense, Linear, LowRankLinear  # noqa: F401
from .misc import Flatten, Identity, Reshape, Unflatten  # noqa: F401
from .dropout import AlphaDropout, Dropout, Dropout1d, Dropout3d  # noqa: F401
from .dropout_compat import Dropout2d  # noqa: F401  (issue 12: 2-D input element-wise, with PyTorch's warning)
from .embedding import Embedding  # noqa: F401
from .maxout import Maxout, maxout  # noqa: F401
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, LocalResponseNorm, RMSNorm  # noqa: F401
from .linear import GaussianHead, MixtureDensity  # noqa: F401
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401  (issue 6)
from .conv_variants import LocallyConnected2d, SeparableConv2d, TiledConv2d  # noqa: F401  (issue 6)
from .pool import (  # noqa: F401  (issue 6: pooling)
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, AvgPool3d, GlobalAvgPool2d, GlobalMaxPool2d,
    LPPool1d, LPPool2d, MaxPool1d, MaxPool2d, MaxPool3d,
)
from .recurrent import GRU, LSTM, RNN, GRUCell, LeakyRNNCell, LSTMCell, OutputRecurrentRNN, RNNBase, RNNCell, SkipRNN  # noqa: F401  (issue 7)
from .attention import AdditiveAttention, DotAttention, GeneralAttention  # noqa: F401  (issue 7)
from .esn import EchoStateNetwork, spectral_radius_  # noqa: F401  (issue 7)
from .recursive import Node, RecursiveNet, balanced_tree, tree_depth  # noqa: F401  (issue 7, 16)
from .rnn_variants import (  # noqa: F401  (issue 16: chapter-10 variants)
    ClockworkRNN, ConditionalRNN, DeepTransitionRNN, FeedbackRNN, GRUVariantCell, LengthPredictingRNN, RNN2d,
    LiquidStateMachine, StopTokenRNN, information_flow_regularizer, scan,
)
from .lazy import LazyConv1d, LazyConv2d, LazyLinear  # noqa: F401  (issue 12)
from .multihead_attention import MultiheadAttention  # noqa: F401  (issue 12)
from .transformer import (  # noqa: F401  (issue 12: the Transformer)
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
)
from .highway import Highway  # noqa: F401,E402  (issue 19)
from .noise import DropConnect, DropConnectLinear, GaussianDropout, GaussianNoise, StochasticPool2d, WeightNoise  # noqa: F401,E402  (issue 14)
from .tied import TiedLinear  # noqa: F401,E402  (issue 14)
from .multitask import MultiTask  # noqa: F401,E402  (issue 14)
from .fast_dropout import FastDropoutLinear  # noqa: F401,E402  (issue 14)
from .cnn_extras import (  # noqa: F401,E402  (hcovB: chapter-9 extras)
    AdaptiveMaxPool2d, CrossChannelPool2d, DistanceWeightedAvgPool2d, LearnedPool2d, LocalContrastNorm2d,
    UntiedBiasConv2d, adaptive_max_pool2d, conv_matrix, distance_weighted_avg_pool2d,
)
from .linear_rnn import LinearRNNCell  # noqa: F401,E402  (hcovB: text 003 eq. 1.25)
from .positional import PositionalEncoding, sinusoidal_table  # noqa: F401,E402  (hcovB: T4.2)
