"""Comparisons and logical ops (boolean results, no gradient): eq, ne, lt, le, gt, ge, logical_and/or/xor/not,
isnan, isinf, isfinite, isclose, allclose, equal."""
from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import _ModeState, note_pure, refuse_while_tracing
from ...backend import namespace_of
from .._arr import const as _const
from ._operands import _arrays, _pair


def _cmp(ufunc):
    name = ufunc.__name__

    def op(a, b):
        a, b = _pair(a, b)
        xp, (x, y) = _arrays(name, a._data, b._data)
        out = _const((ufunc if xp is np else getattr(xp, name))(x, y))
        if _ModeState.tracing_any:  # autograd.capture: a replay compares again
            note_pure(name, (a, b), out)
        return out

    op.__name__ = name
    op.__doc__ = f"Elementwise {name} (boolean result, no gradient)."
    return op


eq = _cmp(np.equal)
ne = _cmp(np.not_equal)
lt = _cmp(np.less)
le = _cmp(np.less_equal)
gt = _cmp(np.greater)
ge = _cmp(np.greater_equal)
logical_and = _cmp(np.logical_and)
logical_or = _cmp(np.logical_or)
logical_xor = _cmp(np.logical_xor)


def _unary(name, x):
    """``xp.<name>(x)`` as a constant (no gradient: a boolean test, ``sign``); recomputed by a captured replay."""
    out = _const(getattr(namespace_of(x._data), name)(x._data))
    if _ModeState.tracing_any:
        note_pure(name, (x,), out)
    return out


def logical_not(x):
    """Elementwise not (boolean result, no gradient)."""
    return _unary("logical_not", x)


def isnan(x):
    """True where x is NaN."""
    return _unary("isnan", x)


def isinf(x):
    """True where x is +-inf."""
    return _unary("isinf", x)


def isfinite(x):
    """True where x is neither NaN nor +-inf."""
    return _unary("isfinite", x)


def allclose(a, b, rtol=1e-5, atol=1e-8):
    """True when every |a - b| <= atol + rtol |b| (a Python bool)."""
    if _ModeState.tracing_any:
        refuse_while_tracing("allclose() (a host read of tensor values)")
    a, b = _pair(a, b)
    xp, (x, y) = _arrays("allclose", a._data, b._data)
    return bool(xp.allclose(x, y, rtol=rtol, atol=atol))


def isclose(a, b, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Elementwise |a - b| <= atol + rtol |b| (bool tensor)."""
    a, b = _pair(a, b)
    xp, (x, y) = _arrays("isclose", a._data, b._data)
    return _const(xp.isclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(a, b):
    """True when both tensors have the same shape and elements."""
    if _ModeState.tracing_any:
        refuse_while_tracing("equal() (a host read of tensor values)")
    return tuple(a.shape) == tuple(b.shape) and bool((a == b).all())
