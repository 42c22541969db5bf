"""What the fused recurrent kernels share (textbook 10.2.2): the mask and direction handling, h_{t-1} rebuilt
from the outputs, and ``backward`` for graph-recording passes, which recomputes the sequence with
differentiable shendu ops (``compose``, the cell equations step by step) and differentiates it, so higher
derivatives stay exact. The first-order BPTT of each kernel is its ``backward_array``."""
from __future__ import annotations

import numpy as np

from ...autograd.function import Function
from ...autograd.tensor import _wrap
from ...backend import device_of, namespace_of, to_device


def _sigmoid_(a):
    """In-place logistic sigmoid via tanh (no overflow): s = 0.5 tanh(a/2) + 0.5."""
    a *= 0.5
    namespace_of(a).tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


class _SeqBase(Function):
    """Shared recompute-and-differentiate ``backward`` for graph-recording passes."""

    n_state = 1

    def __init__(self, mask=None, reverse=False):
        self.mask = mask  # array (T, B, 1) or None
        self.reverse = reverse

    def backward(self, *gys):
        from ... import autograd
        from ...autograd.grad_mode import enable_grad

        ins = self.inputs
        need = self.needs_input_grad
        idx = [i for i, n in enumerate(need) if n]
        with enable_grad():
            outs = self.compose(*ins)
            pairs = [(o, g) for o, g in zip(outs, gys) if o.requires_grad]
            gs = autograd.grad([o for o, _ in pairs], [ins[i] for i in idx], grad_outputs=[g for _, g in pairs],
                               create_graph=True, allow_unused=True)
        res = [None] * len(ins)
        for i, g in zip(idx, gs):
            res[i] = g
        return tuple(res)

    def _mask_on(self, like):
        """The mask on the device of array ``like`` (a host mask given with device inputs is copied once)."""
        mask = self.mask
        if mask is not None and type(like) is not np.ndarray and type(mask) is np.ndarray:
            mask = self.mask = to_device(mask, device_of(like))
        return mask

    def _steps(self, T):
        return range(T - 1, -1, -1) if self.reverse else range(T)

    def compose(self, *ins):  # pragma: no cover - abstract
        raise NotImplementedError


def _prev_states(Y, h0, reverse):
    """h_{t-1} for every step t (T, B, H) of an unmasked run: the outputs shifted by one step."""
    P = namespace_of(Y).empty_like(Y)
    if reverse:
        P[:-1] = Y[1:]
        P[-1] = h0
    else:
        P[1:] = Y[:-1]
        P[0] = h0
    return P


def _masked(m, new, old):
    """m * new + (1 - m) * old with differentiable ops (m a constant 0/1 array)."""
    mt = _wrap(m)
    return new * mt + old * (1.0 - mt)


# A padded sequence (mask m_t = 0 past a sequence's end): the step's output is m_t y_t and the state carried on
# is m_t y_t + (1 - m_t) s_{t-1}, so a finished sequence keeps its last state. The helpers below are that step
# in the fused forward (arrays, in place), in its BPTT, and in ``compose`` (differentiable ops).

def _carry_(y, s, mask, t):
    """Forward of a masked step: y <- m_t y in place; returns the state carried on, y + (1 - m_t) s
    (y itself without a mask)."""
    if mask is None:
        return y
    m = mask[t]
    y *= m
    return y + s * (1 - m)


def _uncarry_(d, ds, mask, t):
    """BPTT of a masked step: d (the gradient reaching the step's new state) <- m_t d in place; returns the part
    of the carried gradient ds that skips the step to s_{t-1}, (1 - m_t) ds (None without a mask). d may be ds."""
    if mask is None:
        return None
    m = mask[t]
    keep = ds * (1 - m)
    d *= m
    return keep


def _carry(mask, t, new, old):
    """``compose``'s masked step: (the output m_t new, the state carried on m_t new + (1 - m_t) old); (new, new)
    without a mask."""
    if mask is None:
        return new, new
    return new * _wrap(mask[t]), _masked(mask[t], new, old)

