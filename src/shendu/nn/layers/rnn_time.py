"""Connections through time beyond h_{t-1} -> h_t: an extra recurrence of delay d (textbook 10.9.1, skip
connections through time), recurrence from the output only (10.2.1, Fig. 10.4), and truncated
back-propagation through time over chunks of k steps (10.2.2)."""
from __future__ import annotations

import math

from ...ops import stack
from .. import functional as F
from ..functional._checks import check_tensor
from ..module import Module
from ..parameter import Parameter
from .rnn_cells import RNNCell, _uniform, _zeros


class SkipRNN(Module):
    """Elman RNN with an extra recurrence of delay d (textbook 10.9.1, skip connections through time):
    h_t = tanh(W_ih x_t + W_hh h_{t-1} + W_skip h_{t-d} + b). x (T, B, in) -> (outputs (T, B, H), h_T)."""

    def __init__(self, input_size, hidden_size, delay=2, dtype=None):
        super().__init__()
        if delay < 1:
            raise ValueError(f"SkipRNN: delay must be >= 1, got {delay}")
        self.cell = RNNCell(input_size, hidden_size, dtype=dtype)
        k = 1.0 / math.sqrt(hidden_size)
        self.weight_skip = Parameter(_uniform((hidden_size, hidden_size), k, self.cell.weight_hh.dtype))
        self.delay, self.hidden_size = delay, hidden_size

    def forward(self, x):
        x = check_tensor(self, x, "input")
        T, B = x.shape[0], x.shape[1]
        zero = _zeros((B, self.hidden_size), x)
        hs = []
        c = self.cell
        for t in range(T):
            hp = hs[-1] if hs else zero
            hd = hs[t - self.delay] if t >= self.delay else zero
            a = (F.linear(x[t], c.weight_ih, c.bias_ih) + F.linear(hp, c.weight_hh, c.bias_hh)
                 + F.linear(hd, self.weight_skip))
            hs.append(a.tanh())
        return stack(hs, 0), hs[-1]


def detach_state(state):
    """Cut the graph behind a recurrent state (a Tensor or nested tuple of Tensors) for truncated BPTT."""
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    return None if state is None else state.detach()


def tbptt_chunks(x, k, dim=0):
    """Split a long stream x along ``dim`` (time) into consecutive chunks of k steps (the last may be shorter)."""
    T = x.shape[dim]
    return [x.narrow(dim, s, min(k, T - s)) for s in range(0, T, k)]


def truncated_bptt(model, x, y, loss_fn, optimizer_step, k=35, state=None, dim=0):
    """Truncated back-propagation through time (textbook 10.2.2 / 8.1): run ``model(chunk, state) ->
    (out, state)`` over chunks of k steps, back-propagate ``loss_fn(out, y_chunk)`` inside each chunk only,
    call ``optimizer_step()`` after each chunk's backward and carry the detached state to the next chunk.
    Returns (list of chunk losses, final state)."""
    losses = []
    for xc, yc in zip(tbptt_chunks(x, k, dim), tbptt_chunks(y, k, dim)):
        out, state = model(xc, state)
        loss = loss_fn(out, yc)
        loss.backward()
        optimizer_step()
        state = detach_state(state)
        losses.append(float(loss.item()))
    return losses, state


class OutputRecurrentRNN(Module):
    """RNN whose only recurrence is from the output (textbook 10.2.1, Fig. 10.4):
    h_t = tanh(U x_t + W y_{t-1} + b), o_t = V h_t + c. x (T, B, in) -> o (T, B, out).

    ``forward(x, y_prev)`` with teacher forcing takes the true previous outputs y_prev (T, B, out)
    (y_prev[0] is the initial output, usually zeros): every step is then independent, so all steps
    run as one batched computation. ``generate(x, y0)`` is free-running: each o_t is fed back."""

    def __init__(self, input_size, hidden_size, output_size, dtype=None):
        super().__init__()
        self.ih = _Dense(input_size, hidden_size, dtype)
        self.oh = _Dense(output_size, hidden_size, dtype, bias=False)
        self.ho = _Dense(hidden_size, output_size, dtype)
        self.output_size = output_size

    def forward(self, x, y_prev):
        x = check_tensor(self, x, "input")
        y_prev = check_tensor(self, y_prev, "y_prev")
        if tuple(y_prev.shape) != tuple(x.shape[:-1]) + (self.output_size,):
            raise ValueError(f"OutputRecurrentRNN: y_prev of shape {tuple(y_prev.shape)}, expected "
                             f"{tuple(x.shape[:-1]) + (self.output_size,)}")
        return self.ho((self.ih(x) + self.oh(y_prev)).tanh())

    def generate(self, x, y0=None):
        y = _zeros((x.shape[1], self.output_size), x) if y0 is None else y0
        outs = []
        for t in range(x.shape[0]):
            y = self.ho((self.ih(x[t]) + self.oh(y)).tanh())
            outs.append(y)
        return stack(outs, 0)


def _Dense(i, o, dtype, bias=True):
    from .linear import Linear
    return Linear(i, o, bias=bias, dtype=dtype)
