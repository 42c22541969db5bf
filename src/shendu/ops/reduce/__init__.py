"""Reductions, by concept: ``sums`` (sum, mean, var, std, prod, cumsum), ``extrema`` (amax/amin, max/min,
argmax/argmin, logsumexp, textbook 6.2.2.3) and ``norms`` (vector p-norms). ``dim``/``keepdim`` follow
PyTorch (``axis``/``keepdims`` accepted); every gradient is a vector-Jacobian product (textbook 6.5.2)."""
from .extrema import (  # noqa: F401
    Amax, LogSumExp, MaxResult, amax, amin, argmax, argmin, clamp_max, clamp_min, logsumexp, max, min,
)
from .norms import Norm2, norm  # noqa: F401
from .sums import Cumsum, Mean, Prod, Sum, cumsum, mean, prod, std, sum, var  # noqa: F401
