"""The PyTorch layers issue 12 added, by their old path ``shendu.nn.layers.extra``: each now lives with its
concept (param_containers, group_norm, distance, shrink, resample) and its computation in ``nn.functional``;
this module re-exports them so existing imports keep working."""
from ..functional.group_norm import group_norm  # noqa: F401
from ..functional.resample import interpolate, pixel_shuffle, pixel_unshuffle  # noqa: F401
from ..functional.shrink import threshold  # noqa: F401
from .distance import CosineEmbeddingLoss, CosineSimilarity, PairwiseDistance, TripletMarginLoss  # noqa: F401
from .group_norm import GroupNorm  # noqa: F401
from .param_containers import ParameterDict, ParameterList  # noqa: F401
from .resample import (  # noqa: F401
    ConstantPad1d,
    ConstantPad2d,
    Fold,
    PixelShuffle,
    PixelUnshuffle,
    Unfold,
    Upsample,
    ZeroPad1d,
    ZeroPad2d,
)
from .shrink import GLU, Hardshrink, Softmax2d, Softshrink, Tanhshrink, Threshold  # noqa: F401
