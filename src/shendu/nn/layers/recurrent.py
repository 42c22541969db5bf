"""Multi-layer recurrent layers RNN, LSTM, GRU (the cells are in ``rnn_cells``; skip connections through
time, output recurrence and truncated BPTT in ``rnn_time``; all importable from here).

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

from ...backend import get_default_dtype, to_device_of, to_dtype
from ...ops import cat, stack
from .. import functional as F
from ..functional._checks import check_tensor
from ..functional.rnn import lengths_to_mask, recurrent_layer
from ..module import Module
from ..parameter import Parameter
from ..utils.rnn import PackedSequence, pad_packed_sequence, repack_like
from .rnn_cells import GRUCell, LeakyRNNCell, LSTMCell, RNNCell, _CellBase, _uniform, _zeros  # noqa: F401
from .rnn_time import OutputRecurrentRNN, SkipRNN, detach_state, tbptt_chunks, truncated_bptt  # noqa: F401

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


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

