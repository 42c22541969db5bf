"""Neural-network building blocks (textbook chapter 6): Module, Parameter, containers, layers,
activations, losses and initializers."""
from .containers import ModuleDict, ModuleList, Sequential  # noqa: F401
from .module import Module  # noqa: F401
from .parameter import Parameter  # noqa: F401
from . import functional  # noqa: F401
from . import init  # noqa: F401  (issue 3)
from .layers.activation import (  # noqa: F401
    CELU, ELU, GELU, PReLU, RBF, SELU, AbsRectification, CosineUnit, Hardsigmoid, HardSigmoid, Hardswish, Hardtanh,
    HardTanh, Heaviside, LeakyReLU, LogSigmoid, LogSoftmax, Mish, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softmin,
    Softplus, Softsign, Step, Swish, Tanh,
)
from .layers.linear import Bilinear, Dense, Linear, LowRankLinear  # noqa: F401
from .layers.misc import Flatten, Identity, Reshape, Unflatten  # noqa: F401
from .losses import (  # noqa: F401
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, GaussianNLLLoss, HingeEmbeddingLoss, HingeLoss, HuberLoss, KLDivLoss,
    L1Loss, LpLoss, MAELoss, MarginRankingLoss, MDNLoss, MSELoss, MultiLabelSoftMarginLoss, MultiMarginLoss, NLLLoss,
    QuadraticCost, SmoothL1Loss, SoftMarginLoss,
)
from .losses import CTCLoss  # noqa: F401,E402  (issue 16)
from .layers.dropout import AlphaDropout, Dropout, Dropout1d, Dropout3d  # noqa: F401
from .layers.dropout_compat import Dropout2d  # noqa: F401  (issue 12)
from .layers.embedding import Embedding  # noqa: F401
from .layers.maxout import Maxout  # noqa: F401
from .layers.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm, LocalResponseNorm, RMSNorm  # noqa: F401
from .containers import Lambda  # noqa: F401
from .summary import summary  # noqa: F401
from .layers.linear import GaussianHead, MixtureDensity  # noqa: F401
from .layers.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: F401  (issue 6)
from .layers.conv_variants import LocallyConnected2d, SeparableConv2d, TiledConv2d  # noqa: F401  (issue 6)
from .layers.pool import (  # noqa: F401  (issue 6: pooling)
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, AvgPool3d, GlobalAvgPool2d, GlobalMaxPool2d,
    LPPool1d, LPPool2d, MaxPool1d, MaxPool2d, MaxPool3d,
)
from .layers.recurrent import (  # noqa: F401  (issue 7)
    GRU, LSTM, RNN, GRUCell, LeakyRNNCell, LSTMCell, OutputRecurrentRNN, RNNBase, RNNCell, SkipRNN,
)
from .layers.attention import AdditiveAttention, DotAttention, GeneralAttention  # noqa: F401  (issue 7)
from .layers.esn import EchoStateNetwork  # noqa: F401  (issue 7)
from .layers.recursive import Node, RecursiveNet, balanced_tree, tree_depth  # noqa: F401  (issue 7, 16)
from .layers.rnn_variants import (  # noqa: F401  (issue 16: chapter-10 variants)
    ClockworkRNN, ConditionalRNN, DeepTransitionRNN, FeedbackRNN, GRUVariantCell, LengthPredictingRNN, RNN2d,
    LiquidStateMachine, StopTokenRNN, information_flow_regularizer, scan,
)
from .layers.lazy import LazyConv1d, LazyConv2d, LazyLinear  # noqa: F401  (issue 12)
from .layers.multihead_attention import MultiheadAttention  # noqa: F401  (issue 12)
from .layers.transformer import (  # noqa: F401  (issue 12: the Transformer)
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
)
from . import modules, utils  # noqa: F401,E402  (issue 12: torch.nn.modules / torch.nn.utils layout)
from .layers.param_containers import ParameterDict, ParameterList  # noqa: F401,E402  (issue 12)
from .layers.group_norm import GroupNorm  # noqa: F401,E402  (issue 12)
from .layers.distance import CosineEmbeddingLoss, CosineSimilarity, PairwiseDistance, TripletMarginLoss  # noqa: F401,E402
from .layers.shrink import GLU, Hardshrink, Softmax2d, Softshrink, Tanhshrink, Threshold  # noqa: F401,E402  (issue 12)
from .layers.resample import (  # noqa: F401,E402  (issue 12)
    ConstantPad1d, ConstantPad2d, Fold, PixelShuffle, PixelUnshuffle, Unfold, Upsample, ZeroPad1d, ZeroPad2d,
)
from .layers.highway import Highway  # noqa: F401,E402  (issue 19)
from .layers.noise import DropConnect, DropConnectLinear, GaussianDropout, GaussianNoise, StochasticPool2d, WeightNoise  # noqa: F401,E402  (issue 14)
from .layers.tied import TiedLinear  # noqa: F401,E402  (issue 14)
from .layers.multitask import MultiTask  # noqa: F401,E402  (issue 14)
from .layers.fast_dropout import FastDropoutLinear  # noqa: F401,E402  (issue 14)
from . import parallel  # noqa: F401,E402  (issue 17: DistributedDataParallel)
from .layers.moe import MixtureOfExperts  # noqa: F401,E402  (issue 18)
from .layers.cascade import Cascade, recall_threshold  # noqa: F401,E402  (issue 18)
from .layers.conditional import ConditionalBlockDropout  # noqa: F401,E402  (issue 18)
from .layers.cnn_extras import (  # noqa: F401,E402  (hcovB: chapter-9 extras)
    AdaptiveMaxPool2d, CrossChannelPool2d, DistanceWeightedAvgPool2d, LearnedPool2d, LocalContrastNorm2d,
    UntiedBiasConv2d,
)
from .layers.linear_rnn import LinearRNNCell  # noqa: F401,E402  (hcovB: text 003 eq. 1.25)
from . import distributions, random_walk, regions  # noqa: F401,E402  (hcovA: 6.17, 8.24, 6.34)
from .layers.positional import PositionalEncoding  # noqa: F401,E402  (hcovB: T4.2)
