"""Unfolding a recurrence over time (textbook 10.1, eq. 10.5 h_t = f(h_{t-1}, x_t; theta)): ``scan`` runs any
cell step by step, with per-sequence lengths (padded steps keep the state and output zeros)."""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import device_of, namespace_of, to_device, to_host
from ...ops import stack
from ...ops.creation import _finish
from ..functional._checks import check_tensor


def _zeros(shape, like):
    """A zero state on the device of tensor ``like``, in its dtype (a factory constant: ``autograd.capture`` may
    reuse it)."""
    return _finish(namespace_of(like._data).zeros(shape, dtype=like.dtype), False)


def _first(state):
    return state[0] if isinstance(state, (tuple, list)) else state


def _blend(m, new, old):
    if isinstance(new, (tuple, list)):
        return type(new)(_blend(m, a, b) for a, b in zip(new, old))
    return new * m + old * (1 - m)


def scan(cell, inputs, h0, lengths=None, reverse=False):
    """Unroll ``cell(x_t, h) -> h'`` (a Tensor or a tuple of Tensors, e.g. an LSTMCell's (h, c)) over
    inputs (T, B, ...) from h0. Returns (outputs (T, B, H): the first state component at each step,
    final state). With ``lengths`` (B,) padded steps keep the state and output zeros (10.1, Fig. 10.2).
    ``reverse=True`` runs from t = T - 1 down to 0 (outputs still indexed by t)."""
    if not callable(cell):
        raise TypeError(f"scan: cell must be callable, got {type(cell).__name__}")
    inputs = check_tensor("scan", inputs, "inputs")
    T = inputs.shape[0]
    masks = None
    if lengths is not None:
        lens = np.asarray(to_host(lengths._data) if isinstance(lengths, Tensor) else lengths)
        if lens.shape != (inputs.shape[1],):
            raise ValueError(f"scan: lengths of shape {lens.shape}, expected ({inputs.shape[1]},)")
        m = (np.arange(T)[:, None] < lens[None, :]).astype(np.dtype(str(inputs.dtype)))
        masks = _wrap(to_device(m, device_of(inputs._data)))
    h = h0
    outs = [None] * T
    order = range(T - 1, -1, -1) if reverse else range(T)
    for t in order:
        new = cell(inputs[t], h)
        if masks is not None:
            mt = masks[t].reshape(-1, *([1] * (_first(new).ndim - 1)))
            new = _blend(mt, new, h)
            outs[t] = _first(new) * mt
        else:
            outs[t] = _first(new)
        h = new
    return stack(outs, 0), h

