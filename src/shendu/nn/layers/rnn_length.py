"""Sequence generators that decide their own length (textbook 10.2.3): an extra Bernoulli "stop here" output,
or a predicted length tau with the remaining steps tau - t as an input (eq. 10.34)."""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import _wrap
from ...backend import device_of, to_device, to_host
from ...ops import stack
from .. import functional as F
from ..module import Module
from .linear import Linear
from .rnn_scan import _zeros


class StopTokenRNN(Module):
    """Sequence generator whose length is set by an extra Bernoulli output (textbook 10.2.3): at each step
    the GRU state gives o_t = V h_t + c (the value) and p_t = sigma(w . h_t + d) = P(the sequence ends at t).

    Conditioned on a context c (B, C) (initial state tanh(W_c c)), fed its previous value y_{t-1}.
    ``loss(c, y, lengths)``: MSE of the values on the real steps + binary cross-entropy of the stop flags
    (1 at t = length - 1, 0 before). ``generate(c, max_len)`` stops a sequence when p_t > 0.5."""

    def __init__(self, context_size, hidden_size, output_size, dtype=None):
        super().__init__()
        from .recurrent import GRUCell

        self.init = Linear(context_size, hidden_size, dtype=dtype)
        self.cell = GRUCell(output_size, hidden_size, dtype=dtype)
        self.out = Linear(hidden_size, output_size, dtype=dtype)
        self.stop = Linear(hidden_size, 1, dtype=dtype)
        self.output_size = output_size

    def _run(self, c, y_prev):
        h = self.init(c).tanh()
        vals, stops = [], []
        for t in range(y_prev.shape[0]):
            h = self.cell(y_prev[t], h)
            vals.append(self.out(h))
            stops.append(self.stop(h)[:, 0])
        return stack(vals, 0), stack(stops, 0)

    def loss(self, c, y, lengths):
        """c (B, C), y (T, B, out) padded, lengths (B,) host ints."""
        lens = np.asarray(lengths)
        T, B = y.shape[0], y.shape[1]
        y_prev = stack([_zeros((B, self.output_size), y)] + [y[t] for t in range(T - 1)], 0)
        vals, stops = self._run(c, y_prev)
        dt = np.dtype(str(y.dtype))
        dev = device_of(y._data)
        m = (np.arange(T)[:, None] < lens[None, :]).astype(dt)
        flag = (np.arange(T)[:, None] == lens[None, :] - 1).astype(dt)
        m_t, flag_t = _wrap(to_device(m, dev)), _wrap(to_device(flag, dev))
        mse = (((vals - y) ** 2).sum(-1) * m_t).sum() / float(m.sum())
        bce = F.binary_cross_entropy_with_logits(stops, flag_t, reduction="none")
        return mse + (bce * m_t).sum() / float(m.sum())

    def generate(self, c, max_len=50):
        """A list (per context) of generated value arrays (len_b, out) on the host."""
        from ...autograd.grad_mode import no_grad

        with no_grad():
            B = c.shape[0]
            h = self.init(c).tanh()
            y = _zeros((B, self.output_size), c)
            res = [[] for _ in range(B)]
            done = np.zeros(B, bool)
            for _ in range(max_len):
                h = self.cell(y, h)
                y = self.out(h)
                p = to_host(self.stop(h)._data)[:, 0]
                yh = to_host(y._data)
                for b in range(B):
                    if not done[b]:
                        res[b].append(yh[b])
                        done[b] = p[b] > 0  # logit > 0: P(stop) > 0.5
                if done.all():
                    break
        return [np.stack(r) for r in res]


class LengthPredictingRNN(Module):
    """Sequence generator that first predicts its length tau from the context, P(tau | c) a softmax over
    1..max_len, then generates tau values with the number of remaining steps tau - t as an extra input
    (textbook 10.2.3, eq. 10.34 P(x_1..x_tau) = P(tau) P(x_1..x_tau | tau)).

    ``loss(c, y, lengths)`` = cross-entropy of the length + MSE of the values (teacher-forced, real steps);
    ``generate(c)`` uses the most probable length."""

    def __init__(self, context_size, hidden_size, output_size, max_len, dtype=None):
        super().__init__()
        from .recurrent import GRUCell

        self.len_head = Linear(context_size, max_len, dtype=dtype)
        self.init = Linear(context_size, hidden_size, dtype=dtype)
        self.cell = GRUCell(output_size + 1, hidden_size, dtype=dtype)
        self.out = Linear(hidden_size, output_size, dtype=dtype)
        self.output_size, self.max_len = output_size, max_len

    def length_logits(self, c):
        """(B, max_len): logits of tau = 1..max_len."""
        return self.len_head(c)

    def _run(self, c, y_prev, remaining):
        """y_prev (T, B, out), remaining (T, B) -> values (T, B, out)."""
        h = self.init(c).tanh()
        vals = []
        for t in range(y_prev.shape[0]):
            from ...ops import cat
            h = self.cell(cat([y_prev[t], remaining[t].unsqueeze(1)], 1), h)
            vals.append(self.out(h))
        return stack(vals, 0)

    def loss(self, c, y, lengths):
        lens = np.asarray(lengths)
        if lens.min() < 1 or lens.max() > self.max_len:
            raise ValueError(f"LengthPredictingRNN: lengths must lie in [1, {self.max_len}], got {lens.tolist()}")
        T, B = y.shape[0], y.shape[1]
        dt = np.dtype(str(y.dtype))
        dev = device_of(y._data)
        rem = (lens[None, :] - np.arange(T)[:, None]).astype(dt)
        m = (rem > 0).astype(dt)
        y_prev = stack([_zeros((B, self.output_size), y)] + [y[t] for t in range(T - 1)], 0)
        vals = self._run(c, y_prev, _wrap(to_device(rem * m, dev)))
        mse = (((vals - y) ** 2).sum(-1) * _wrap(to_device(m, dev))).sum() / float(m.sum())
        ce = F.cross_entropy(self.length_logits(c), _wrap(to_device(lens - 1, dev)))
        return mse + ce

    def generate(self, c):
        from ...autograd.grad_mode import no_grad
        from ...ops import cat

        with no_grad():
            taus = to_host(self.length_logits(c)._data).argmax(-1) + 1
            B = c.shape[0]
            dt = np.dtype(str(c.dtype))
            dev = device_of(c._data)
            h = self.init(c).tanh()
            y = _zeros((B, self.output_size), c)
            outs = []
            for t in range(int(taus.max())):
                rem = _wrap(to_device(np.maximum(taus - t, 0).astype(dt)[:, None], dev))
                h = self.cell(cat([y, rem], 1), h)
                y = self.out(h)
                outs.append(to_host(y._data))
        outs = np.stack(outs, 0)
        return [outs[:taus[b], b] for b in range(B)]


