"""Per-parameter state helpers of the optimizers (textbook 8.3-8.5): preallocated scratch buffers, the
gradient with weight decay g + lambda w (textbook 7.1.1), placing loaded state on a parameter's device and dtype,
and the ``required`` marker of a hyperparameter with no default.
"""
from __future__ import annotations

import numpy as np

from ...backend import device_of, is_host, namespace_of, to_device


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


def _scratch(st, key, like):
    """A preallocated work array ``st[key]`` shaped and typed like ``like``, on its device (re-made if any changed)."""
    t = st.get(key)
    if t is None or t.shape != like.shape or t.dtype != like.dtype or type(t) is not type(like):
        t = st[key] = namespace_of(like).empty_like(like)
    return t


def _grad_with_decay(st, g, d, wd, maximize, xp=None):
    """The gradient with L2 weight decay wd*d added (and negated for ``maximize``), in a scratch array
    (``xp``: the arrays' namespace, looked up when not given)."""
    if not wd and not maximize:
        return g
    if xp is None:
        xp = namespace_of(d)
    gg = _scratch(st, "_g", d)
    if wd:
        xp.multiply(d, wd, out=gg)
        (xp.subtract if maximize else xp.add)(gg, g, out=gg)
        return gg
    return xp.negative(g, out=gg)


def _placed(v, dtype, dev):
    """A copy of array ``v`` with ``dtype`` (None: its own) on device ``dev`` (state loaded from host arrays goes
    to the param's device)."""
    if dtype is None:
        dtype = v.dtype
    if is_host(v):
        v = np.array(v, dtype=dtype)
        return to_device(v, dev)
    if device_of(v) == dev:
        return v.astype(dtype, copy=True)
    return to_device(v, dev).astype(dtype, copy=False)  # to_device copies across devices
