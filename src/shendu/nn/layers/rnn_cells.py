"""One-step recurrent cells as Modules (PyTorch layouts): RNNCell (textbook 10.2, eq. 10.8), LSTMCell
(10.10.1), GRUCell (10.10.2) and the leaky unit LeakyRNNCell (10.9.2). x (B, in) or (in,), h (B, H).
Init U(-1/sqrt(H), 1/sqrt(H)) as PyTorch; the LSTM forget-gate bias starts at ``forget_bias`` (1.0)."""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import get_default_dtype, get_generator, to_dtype, to_host
from ..functional._checks import check_tensor
from ..functional.rnn import gru_cell, leaky_rnn_cell, lstm_cell, rnn_relu_cell, rnn_tanh_cell
from ..module import Module
from ..parameter import Parameter
from .rnn_scan import _zeros


def _uniform(shape, k, dt):
    return get_generator().uniform(-k, k, size=shape).astype(dt)



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


