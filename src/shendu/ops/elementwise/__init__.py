"""Elementwise ops with broadcasting, by family (textbook 6.3 for the hidden units):

- ``arithmetic``: add, sub, mul, div, neg, pow, reciprocal, lerp; floor_divide, remainder, fmod;
- ``explog``: exp, log, log1p, expm1, sqrt, rsqrt, square, exp2, log2, log10;
- ``trig``: sin, cos, tan, asin, acos, atan, sinh, cosh;
- ``activation``: tanh, sigmoid, relu, softplus;
- ``piecewise``: abs, sign, clamp/clip, maximum, minimum, where; floor, ceil, round, trunc, frac;
- ``compare``: eq ... ge, logical_*, isnan/isinf/isfinite, isclose, allclose, equal (no gradient);
- ``conversion``: Cast, ToDevice, Clone (dtype, device, copy).

Each Function states its derivative once, in ``backward`` (differentiable: higher-order gradients); the hot
training ops also keep ``backward_array`` on raw arrays where benchmarks/backward_array.py shows it pays.
"""
from ._operands import _arrays, _bcast_error, _kinds, _pair  # noqa: F401
from .piecewise import (  # noqa: F401
    Abs, Clamp, Maximum, Minimum, Where, abs, ceil, clamp, clip, floor, frac, maximum, minimum, round, sign, trunc,
    where,
)
from .explog import (  # noqa: F401
    Exp, Expm1, Log, Log1p, Rsqrt, Sqrt, Square, exp, exp2, expm1, log, log1p, log2, log10, rsqrt, sqrt, square,
)
from .arithmetic import (  # noqa: F401
    Add, Div, Mul, Neg, Pow, PowScalar, Sub, add, div, floor_divide, fmod, lerp, mul, neg, ones_like_value, pow,
    reciprocal, remainder, sub, true_divide,
)
from .trig import Acos, Asin, Atan, Cos, Cosh, Sin, Sinh, _InvTrig, acos, asin, atan, cos, cosh, sin, sinh, tan  # noqa: F401
from .activation import Relu, Sigmoid, Softplus, Tanh, _sigmoid_array, relu, sigmoid, softplus, tanh  # noqa: F401
from .compare import (  # noqa: F401
    _cmp, allclose, eq, equal, ge, gt, isclose, isfinite, isinf, isnan, le, logical_and, logical_not, logical_or,
    logical_xor, lt, ne,
)
from .conversion import Cast, Clone, ToDevice  # noqa: F401
