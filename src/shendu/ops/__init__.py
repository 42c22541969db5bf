"""Differentiable operations by family; importing this package installs Tensor's operators."""
from . import _methods  # noqa: F401  (installs operators on Tensor)
from .creation import *  # noqa: F401,F403
from .elementwise import (  # noqa: F401
    abs, add, allclose, ceil, clamp, clip, cos, div, eq, exp, expm1, floor, ge, gt, isfinite, isinf, isnan, le,
    log, log1p, logical_and, logical_not, logical_or, logical_xor, lt, maximum, minimum, mul, ne, neg, pow,
    relu, round, rsqrt, sigmoid, sign, sin, softplus, sqrt, square, sub, tanh, where,
)
from .index import gather, getitem, index_add, index_select, masked_fill, one_hot, scatter_add  # noqa: F401
from .linalg import bmm, diag, diagonal, dot, einsum, matmul, mm, outer, trace, tril, triu  # noqa: F401
from .elementwise import (  # noqa: F401  (issue 12)
    acos, asin, atan, cosh, equal, exp2, floor_divide, fmod, frac, isclose, lerp, log2, log10, reciprocal, remainder,
    sinh, tan, true_divide, trunc,
)
from ..autograd.grad_mode import inference_mode  # noqa: F401
from .index import masked_select, scatter, take  # noqa: F401
from .search import all, any, argsort, count_nonzero, median, nonzero, sort, topk, unique  # noqa: F401,A004
from .shape_compose import (  # noqa: F401
    broadcast_tensors, hstack, is_floating_point, meshgrid, movedim, numel, t, vstack,
)
from .stats import std_mean, var_mean  # noqa: F401
from .softmax import log_softmax, softmax  # noqa: F401
from ._tuning import conv_settings  # noqa: F401  (the convolution kernels' thresholds, issue 22)
from .reduce import (  # noqa: F401
    amax, amin, argmax, argmin, clamp_max, clamp_min, cumsum, logsumexp, max, mean, min, norm, prod, std, sum, var,
)
from .shape import (  # noqa: F401
    broadcast_to, cat, chunk, concat, concatenate, expand, flatten, flip, narrow, pad, permute, repeat,
    repeat_interleave, reshape, roll, split, squeeze, stack, sum_to, swapaxes, tile, transpose, unbind,
    unsqueeze, view,
)

import types as _types

__all__ = [n for n, v in list(globals().items()) if not n.startswith("_") and not isinstance(v, _types.ModuleType)]
