"""Recurrent layers RNN, LSTM, GRU and their cells; leaky and delay-d skip cells; truncated BPTT.

Textbook 10.2 (RNNs), 10.3 (bidirectional), 10.5 (deep RNNs), 10.9 (leaky units, skip connections
through time), 10.10 (LSTM, GRU). Parameter names and layouts as PyTorch (``weight_ih_l{k}``
(G*H, in), ``weight_hh_l{k}`` (G*H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}``, suffix ``_reverse``;
gate order LSTM (i, f, g, o), GRU (r, z, n)), so weights copy 1:1 from ``torch.nn``.

Init: U(-1/sqrt(H), 1/sqrt(H)) as PyTorch, except the LSTM forget-gate bias: ``bias_ih`` forget
slice = ``forget_bias`` (default 1.0, Jozefowicz et al. 2015, textbook 10.10.2) and ``bias_hh``
forget slice = 0; pass ``forget_bias=None`` for PyTorch's init.
Input (T, B, in) (or (B, T, in) with ``batch_first``, or unbatched (T, in)); ``lengths`` (B,) or
``mask`` (B, T) / (T, B) for variable-length batches: padded steps leave the state unchanged and
output zeros. Output: (output (T, B, D*H), h_n (L*D, B, H)) and for LSTM h_n is (h_n, c_n).
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import get_default_dtype, get_generator, namespace_of, to_device_of, to_dtype, to_host
from ...ops import cat, stack
from .. import functional as F
from ..functional._checks import check_tensor
from ..functional.rnn import (
    gru_cell,
    leaky_rnn_cell,
    lengths_to_mask,
    lstm_cell,
    recurrent_layer,
    rnn_relu_cell,
    rnn_tanh_cell,
)
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, pad_packed_sequence, repack_like

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _uniform(shape, k, dt):
    return get_generator().uniform(-k, k, size=shape).astype(dt)


def _zeros(shape, like):
    """A zero state on the device of tensor ``like``, in its dtype."""
    return _wrap(namespace_of(like._data).zeros(shape, dtype=like.dtype))


class RNNBase(Module):
    """Multi-layer, optionally bidirectional recurrent layer (see module docstring)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, nonlinearity="tanh", forget_bias=1.0, cell_activation="tanh",
                 peephole=False, reset_after=True, fused=True, dtype=None, device=None):
        super().__init__()
        if input_size <= 0 or hidden_size <= 0 or num_layers <= 0:
            raise ValueError(f"{mode}: input_size, hidden_size and num_layers must be positive, "
                             f"got {input_size}, {hidden_size}, {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{mode}: dropout must be in [0, 1), got {dropout}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"{mode}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.nonlinearity, self.cell_activation = nonlinearity, cell_activation
        self.reset_after, self.fused = reset_after, fused
        self.peephole = bool(peephole) and mode == "LSTM"
        self.forget_bias = forget_bias if mode == "LSTM" else None
        dt = get_default_dtype() if dtype is None else to_dtype(dtype)
        G, H = _GATES[mode] * hidden_size, hidden_size
        D = 2 if bidirectional else 1
        k = 1.0 / math.sqrt(H)
        for layer in range(num_layers):
            in_l = input_size if layer == 0 else D * H
            for sfx in ("", "_reverse")[:D]:
                setattr(self, f"weight_ih_l{layer}{sfx}", Parameter(_uniform((G, in_l), k, dt)))
                setattr(self, f"weight_hh_l{layer}{sfx}", Parameter(_uniform((G, H), k, dt)))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{sfx}", Parameter(_uniform((G,), k, dt)))
                    setattr(self, f"bias_hh_l{layer}{sfx}", Parameter(_uniform((G,), k, dt)))
                    if self.forget_bias is not None:
                        getattr(self, f"bias_ih_l{layer}{sfx}")._data[H:2 * H] = self.forget_bias
                        getattr(self, f"bias_hh_l{layer}{sfx}")._data[H:2 * H] = 0
                if self.peephole:
                    setattr(self, f"weight_peep_l{layer}{sfx}", Parameter(_uniform((3, H), k, dt)))

    def _params(self, layer, sfx):
        g = lambda n: getattr(self, f"{n}_l{layer}{sfx}", None)  # noqa: E731
        peep = g("weight_peep")
        peep = None if peep is None else (peep[0], peep[1], peep[2])
        return g("weight_ih"), g("weight_hh"), g("bias_ih"), g("bias_hh"), peep

    def _mask(self, lengths, mask, T, B, x):
        """The (T, B, 1) step mask on the device of ``x``, in its dtype (host masks/lengths are copied over)."""
        dt = x.dtype
        if lengths is not None:
            m = lengths_to_mask(lengths, T, dt)
            if m.shape[1] != B:
                raise ValueError(f"{self.mode}: lengths has {m.shape[1]} entries for a batch of {B}")
            return to_device_of(m, x)
        if mask is None:
            return None
        m = to_device_of(mask, x, dt, copy=True)
        shape = tuple(m.shape)
        if self.batch_first or shape != (T, B):
            m = m.T if shape == (B, T) else m
        if tuple(m.shape) != (T, B):
            want = (B, T) if self.batch_first else (T, B)
            raise ValueError(f"{self.mode}: mask of shape {tuple(m.shape)}, expected {want}")
        return m[:, :, None]

    def flatten_parameters(self):
        """No-op (PyTorch compacts cuDNN weights here; shendu's weights are already one GEMM per layer)."""

    def _forward_packed(self, packed, hx):
        """PackedSequence in -> PackedSequence out (same batch_sizes/indices), via padded input + ``lengths``;
        h_n (c_n) hold each sequence's state at its own length, in the original batch order (as PyTorch)."""
        padded, lens = pad_packed_sequence(packed, batch_first=self.batch_first)
        out, state = self.forward(padded, hx, lengths=lens)
        return repack_like(out, packed, batch_first=self.batch_first), state

    def forward(self, input, hx=None, lengths=None, mask=None):
        name = type(self).__name__
        if isinstance(input, PackedSequence):
            if lengths is not None or mask is not None:
                raise ValueError(f"{name}: a PackedSequence input carries its own lengths; "
                                 "do not pass lengths= or mask=")
            return self._forward_packed(input, hx)
        input = check_tensor(self, input, "input")
        unbatched = input.ndim == 2
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ValueError(f"{name}: expected input of shape ({'B, T' if self.batch_first else 'T, B'}, "
                             f"{self.input_size}) or (T, {self.input_size}), got {tuple(input.shape)}")
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        T, B = x.shape[0], x.shape[1]
        if T == 0:  # an empty batch (B = 0) runs and gives empty outputs; no time steps is an error, as PyTorch
            raise ValueError(f"{name}: expected sequence length to be larger than 0, got input of shape "
                             f"{tuple(input.shape)}")
        D, H, L = (2 if self.bidirectional else 1), self.hidden_size, self.num_layers
        h0 = c0 = None
        if hx is not None:
            if self.mode == "LSTM":
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise TypeError(f"{name}: hx must be a tuple (h_0, c_0)")
                h0, c0 = hx
            else:
                h0 = hx
            want = (L * D, H) if unbatched else (L * D, B, H)
            for s in (h0, c0) if self.mode == "LSTM" else (h0,):
                if tuple(s.shape) != want:
                    raise ValueError(f"{name}: initial state of shape {tuple(s.shape)}, expected {want}")
            if unbatched:
                h0 = h0.unsqueeze(1)
                c0 = None if c0 is None else c0.unsqueeze(1)
        m = self._mask(lengths, mask, T, B, x)
        zero = None
        hs, cs = [], []
        out = x
        for layer in range(L):
            ys = []
            for d, sfx in enumerate(("", "_reverse")[:D]):
                w_ih, w_hh, b_ih, b_hh, peep = self._params(layer, sfx)
                j = layer * D + d
                if h0 is not None:
                    hi = h0[j]
                    ci = c0[j] if c0 is not None else None
                else:
                    if zero is None:
                        zero = _zeros((B, H), x)
                    hi, ci = zero, (zero if self.mode == "LSTM" else None)
                y, h, c = recurrent_layer(self.mode, out, hi, ci, w_ih, w_hh, b_ih, b_hh, m, reverse=bool(d),
                                          fused=self.fused, nonlinearity=self.nonlinearity,
                                          cell_activation=self.cell_activation, peephole=peep,
                                          reset_after=self.reset_after)
                ys.append(y)
                hs.append(h)
                cs.append(c)
            out = ys[0] if D == 1 else cat(ys, -1)
            if self.dropout and self.training and layer < L - 1:
                out = F.dropout(out, self.dropout, True)
        h_n = stack(hs, 0)
        if unbatched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if self.mode == "LSTM":
            c_n = stack(cs, 0)
            return out, (h_n, c_n.squeeze(1) if unbatched else c_n)
        return out, h_n

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.batch_first:
            s += ", batch_first=True"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s


class RNN(RNNBase):
    """Elman RNN h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), act tanh or relu (textbook 10.2, eq. 10.8)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, **kw):
        super().__init__("RNN", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         nonlinearity=nonlinearity, **kw)


class LSTM(RNNBase):
    """LSTM (textbook 10.10.1, eqs. 10.40-10.44); forget_bias=1.0 default, cell_activation='sigmoid' for the
    book's input unit, peephole=True for diagonal peepholes (composed path)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, forget_bias=1.0, **kw):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         forget_bias=forget_bias, **kw)


class GRU(RNNBase):
    """GRU (textbook 10.10.2); reset_after=True is PyTorch's form, False the book/Cho form (composed path)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, **kw):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, **kw)


class _CellBase(Module):
    def __init__(self, name, input_size, hidden_size, gates, bias, dtype):
        super().__init__()
        dt = get_default_dtype() if dtype is None else to_dtype(dtype)
        k = 1.0 / math.sqrt(hidden_size)
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = Parameter(_uniform((gates * hidden_size, input_size), k, dt))
        self.weight_hh = Parameter(_uniform((gates * hidden_size, hidden_size), k, dt))
        if bias:
            self.bias_ih = Parameter(_uniform((gates * hidden_size,), k, dt))
            self.bias_hh = Parameter(_uniform((gates * hidden_size,), k, dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self._name = name

    def _check(self, x):
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{self._name}: expected input (B, {self.input_size}), got {tuple(x.shape)}")
        return x.unsqueeze(0) if x.ndim == 1 else x

    def _zeros(self, x):
        return _zeros((x.shape[0], self.hidden_size), x)


class RNNCell(_CellBase):
    """One Elman step h' = act(W_ih x + b_ih + W_hh h + b_hh). x (B, in), h (B, H) -> (B, H)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None):
        super().__init__("RNNCell", input_size, hidden_size, 1, bias, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, x, hx=None):
        x = check_tensor(self, x, "input")
        x1 = self._check(x)
        h = self._zeros(x1) if hx is None else (hx.unsqueeze(0) if hx.ndim == 1 else hx)
        f = rnn_relu_cell if self.nonlinearity == "relu" else rnn_tanh_cell
        out = f(x1, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out.squeeze(0) if x.ndim == 1 else out


class LSTMCell(_CellBase):
    """One LSTM step (textbook 10.10.1) -> (h', c'); forget-gate bias initialised to ``forget_bias`` (1.0)."""

    def __init__(self, input_size, hidden_size, bias=True, forget_bias=1.0, cell_activation="tanh",
                 peephole=False, dtype=None):
        super().__init__("LSTMCell", input_size, hidden_size, 4, bias, dtype)
        H = hidden_size
        if bias and forget_bias is not None:
            self.bias_ih._data[H:2 * H] = forget_bias
            self.bias_hh._data[H:2 * H] = 0
        self.cell_activation = cell_activation
        if peephole:
            self.weight_peep = Parameter(_uniform((3, H), 1.0 / math.sqrt(H), self.weight_hh.dtype))
        else:
            self.weight_peep = None

    def forward(self, x, hx=None):
        x = check_tensor(self, x, "input")
        x1 = self._check(x)
        if hx is None:
            z = self._zeros(x1)
            hx = (z, z)
        elif hx[0].ndim == 1:
            hx = (hx[0].unsqueeze(0), hx[1].unsqueeze(0))
        p = self.weight_peep
        h, c = lstm_cell(x1, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.cell_activation,
                         None if p is None else (p[0], p[1], p[2]))
        return (h.squeeze(0), c.squeeze(0)) if x.ndim == 1 else (h, c)


class GRUCell(_CellBase):
    """One GRU step (textbook 10.10.2): h' = (1 - z) n + z h."""

    def __init__(self, input_size, hidden_size, bias=True, reset_after=True, activation="tanh", dtype=None):
        super().__init__("GRUCell", input_size, hidden_size, 3, bias, dtype)
        self.reset_after, self.activation = reset_after, activation

    def forward(self, x, hx=None):
        x = check_tensor(self, x, "input")
        x1 = self._check(x)
        h = self._zeros(x1) if hx is None else (hx.unsqueeze(0) if hx.ndim == 1 else hx)
        out = gru_cell(x1, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.reset_after,
                       self.activation)
        return out.squeeze(0) if x.ndim == 1 else out


class LeakyRNNCell(_CellBase):
    """Leaky unit h' = alpha h + (1 - alpha) tanh(W_ih x + W_hh h + b) (textbook 10.9.2).

    ``alpha`` per unit: fixed (a number or (H,) values) or, with ``learn_alpha=True``, alpha = sigmoid(a)
    with a trainable ``alpha_logit`` (H,)."""

    def __init__(self, input_size, hidden_size, alpha=0.9, learn_alpha=False, dtype=None):
        super().__init__("LeakyRNNCell", input_size, hidden_size, 1, True, dtype)
        self.register_parameter("bias_hh", None)
        a = np.broadcast_to(np.asarray(to_host(alpha._data) if isinstance(alpha, Tensor) else alpha,
                                       dtype=self.weight_hh.dtype), (hidden_size,)).copy()  # built on the host
        if np.any((a < 0) | (a > 1)):
            raise ValueError(f"LeakyRNNCell: alpha must lie in [0, 1], got {alpha}")
        if learn_alpha:
            logit = np.log(np.clip(a, 1e-6, 1 - 1e-6) / np.clip(1 - a, 1e-6, None))
            self.alpha_logit = Parameter(logit.astype(a.dtype))
        else:
            self.register_buffer("alpha", _wrap(a))
        self.learn_alpha = learn_alpha

    def forward(self, x, hx=None):
        x = check_tensor(self, x, "input")
        x1 = self._check(x)
        h = self._zeros(x1) if hx is None else hx
        alpha = self.alpha_logit.sigmoid() if self.learn_alpha else self.alpha
        return leaky_rnn_cell(x1, h, self.weight_ih, self.weight_hh, self.bias_ih, alpha)


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
