"""Recurrent architectures that change the shape of the recurrence (textbook 10.3, 10.5, 10.9.3, 10.10.2):
a deep (MLP) state transition, clockwork groups of units, GRU gates shared across groups of units, and a
2-D RNN sweeping an image in four directions."""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import _wrap
from ...backend import device_of, get_default_dtype, get_generator, to_device, to_dtype
from ...ops import stack
from .. import functional as F
from ..functional._checks import check_tensor
from ..module import Module
from ..parameter import Parameter
from .linear import Linear
from .rnn_scan import _zeros, scan


class DeepTransitionRNN(Module):
    """RNN whose state transition is an MLP of ``depth`` tanh layers (textbook 10.5, Fig. 10.13 b):

    z_1 = tanh(W_1 h_{t-1} + U x_t + b_1), z_l = tanh(W_l z_{l-1} + b_l), h_t = z_depth;
    with ``skip=True`` (Fig. 10.13 c) the last layer also gets h_{t-1} directly:
    h_t = tanh(W_depth z_{depth-1} + S h_{t-1} + b_depth), so the shortest path h_{t-1} -> h_t is one layer.
    forward(x (T, B, in), h0=None) -> (outputs (T, B, H), h_T)."""

    def __init__(self, input_size, hidden_size, depth=2, skip=True, dtype=None):
        super().__init__()
        if depth < 1:
            raise ValueError(f"DeepTransitionRNN: depth must be >= 1, got {depth}")
        from ..containers import ModuleList

        self.ih = Linear(input_size, hidden_size, bias=False, dtype=dtype)
        self.layers = ModuleList([Linear(hidden_size, hidden_size, dtype=dtype) for _ in range(depth)])
        self.skip = Linear(hidden_size, hidden_size, bias=False, dtype=dtype) if (skip and depth > 1) else None
        self.depth, self.hidden_size = depth, hidden_size

    def cell(self, x_t, h):
        z = (self.layers[0](h) + self.ih(x_t)).tanh()
        for i in range(1, self.depth):
            a = self.layers[i](z)
            if i == self.depth - 1 and self.skip is not None:
                a = a + self.skip(h)
            z = a.tanh()
        return z

    def forward(self, x, h0=None, lengths=None):
        x = check_tensor(self, x, "input")
        h0 = _zeros((x.shape[1], self.hidden_size), x) if h0 is None else h0
        return scan(self.cell, x, h0, lengths)


class ClockworkRNN(Module):
    """Clockwork RNN (textbook 10.9.3, removing connections; Koutnik et al. 2014).

    The H = G * group_size units form G groups with periods T_1 < ... < T_G. At step t (from 0) group g is
    updated only if t mod T_g == 0, otherwise it copies its state; the recurrent matrix is block-masked so a
    group receives only from groups at least as slow (T_j >= T_g):
    h_t[g] = tanh(W[g, j: T_j >= T_g] h_{t-1} + U[g] x_t + b[g]) if active else h_{t-1}[g].
    forward(x (T, B, in), h0=None) -> (outputs (T, B, H), h_T)."""

    def __init__(self, input_size, group_size, periods=(1, 2, 4, 8), dtype=None):
        super().__init__()
        periods = [int(p) for p in periods]
        if not periods or min(periods) < 1 or sorted(periods) != periods:
            raise ValueError(f"ClockworkRNN: periods must be increasing positive integers, got {periods}")
        G, k = len(periods), group_size
        H = G * k
        self.periods, self.group_size, self.hidden_size = periods, k, H
        self.ih = Linear(input_size, H, dtype=dtype)
        dt = get_default_dtype() if dtype is None else to_dtype(dtype)
        bound = 1.0 / math.sqrt(H)
        grp = np.repeat(np.arange(G), k)
        per = np.asarray(periods)[grp]
        mask = (per[None, :] >= per[:, None]).astype(dt)  # row unit i receives from column unit j if T_j >= T_i
        self.register_buffer("hh_mask", _wrap(mask))
        self.weight_hh = Parameter((get_generator().uniform(-bound, bound, (H, H)) * mask).astype(dt))
        self._unit_period = per

    def active(self, t):
        """(H,) 0/1 host vector of the units updated at step t."""
        return (t % self._unit_period == 0).astype(np.dtype(str(self.weight_hh.dtype)))

    def forward(self, x, h0=None):
        x = check_tensor(self, x, "input")
        h = _zeros((x.shape[1], self.hidden_size), x) if h0 is None else h0
        W = self.weight_hh * self.hh_mask
        dev = device_of(self.weight_hh._data)
        outs = []
        for t in range(x.shape[0]):
            new = (self.ih(x[t]) + F.linear(h, W)).tanh()
            a = _wrap(to_device(self.active(t), dev))
            h = new * a + h * (1 - a)
            outs.append(h)
        return stack(outs, 0), h


class GRUVariantCell(Module):
    """GRU cell (textbook 10.10.2, book form: reset applied to h before the matmul) with the variants the
    text names at the end of 10.10.2:

    u = sigma(U_u x + W_u h + b_u), r = sigma(U_r x + W_r h + b_r), h~ = act(U x + W (r * h) + b),
    h' = u * h + (1 - u) * h~   (u = 1 copies the old state, as nn.GRUCell).
    ``reset_groups=G``: the reset gate has G outputs, each shared by H / G consecutive units (G = H: standard).
    ``global_gate=True``: u = u_local * u_global with u_global = sigma(U_g x + W_g h + b_g) one value per group
    of ``reset_groups`` (or one for the whole layer when reset_groups is None).
    ``activation``: 'tanh' (default) or 'sigmoid' (the book's sigma candidate). x (B, in), h (B, H) -> (B, H)."""

    def __init__(self, input_size, hidden_size, reset_groups=None, global_gate=False, activation="tanh",
                 dtype=None):
        super().__init__()
        G = hidden_size if reset_groups is None else int(reset_groups)
        if G < 1 or hidden_size % G:
            raise ValueError(f"GRUVariantCell: reset_groups must divide hidden_size {hidden_size}, got {reset_groups}")
        if activation not in ("tanh", "sigmoid"):
            raise ValueError(f"GRUVariantCell: activation must be 'tanh' or 'sigmoid', got {activation!r}")
        self.input_size, self.hidden_size, self.groups = input_size, hidden_size, G
        self.global_gate, self.activation = global_gate, activation
        H = hidden_size
        self.x_u, self.h_u = Linear(input_size, H, dtype=dtype), Linear(H, H, False, dtype)
        self.x_r, self.h_r = Linear(input_size, G, dtype=dtype), Linear(H, G, False, dtype)
        self.x_n, self.h_n = Linear(input_size, H, dtype=dtype), Linear(H, H, False, dtype)
        if global_gate:
            ng = 1 if reset_groups is None else G
            self.x_g, self.h_g = Linear(input_size, ng, dtype=dtype), Linear(hidden_size, ng, False, dtype)

    def _expand(self, g):
        """(B, n) per-group values -> (B, H)."""
        n = g.shape[1]
        k = self.hidden_size // n
        return g.unsqueeze(2).expand(g.shape[0], n, k).reshape(g.shape[0], self.hidden_size)

    def forward(self, x, h=None):
        x = check_tensor(self, x, "input")
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"GRUVariantCell: expected input (B, {self.input_size}), got {tuple(x.shape)}")
        h = _zeros((x.shape[0], self.hidden_size), x) if h is None else h
        u = (self.x_u(x) + self.h_u(h)).sigmoid()
        if self.global_gate:
            u = u * self._expand((self.x_g(x) + self.h_g(h)).sigmoid())
        r = self._expand((self.x_r(x) + self.h_r(h)).sigmoid())
        a = self.x_n(x) + self.h_n(r * h)
        cand = a.tanh() if self.activation == "tanh" else a.sigmoid()
        return u * h + (1 - u) * cand




class RNN2d(Module):
    """Two-dimensional RNN over an image (textbook 10.3, last paragraph): four RNNs going left->right,
    right->left, top->bottom and bottom->top. x (B, C, H, W) -> (B, 2 * hidden, H, W) when ``stacked`` (the
    vertical bidirectional RNN reads the horizontal one's outputs, so every output sees the whole image, as in
    ReNet) or (B, 4 * hidden, H, W) when not (the four sweeps read the input; O_ij sees row i and column j).
    ``cell``: 'RNN' (tanh), 'GRU' or 'LSTM'."""

    def __init__(self, in_channels, hidden_size, cell="RNN", stacked=True, dtype=None):
        super().__init__()
        from .recurrent import GRU, LSTM, RNN

        kinds = {"RNN": RNN, "GRU": GRU, "LSTM": LSTM}
        if cell not in kinds:
            raise ValueError(f"RNN2d: cell must be one of {sorted(kinds)}, got {cell!r}")
        R = kinds[cell]
        self.horizontal = R(in_channels, hidden_size, bidirectional=True, dtype=dtype)
        self.vertical = R(2 * hidden_size if stacked else in_channels, hidden_size, bidirectional=True, dtype=dtype)
        self.stacked, self.hidden_size = stacked, hidden_size

    @staticmethod
    def _sweep(rnn, x, axis):
        """Bidirectional RNN along image axis 'w' or 'h' of x (B, C, H, W) -> (B, 2k, H, W)."""
        B, C, H, W = x.shape
        if axis == "w":
            seq = x.permute(3, 0, 2, 1).reshape(W, B * H, C)
            y, _ = rnn(seq)
            return y.reshape(W, B, H, -1).permute(1, 3, 2, 0)
        seq = x.permute(2, 0, 3, 1).reshape(H, B * W, C)
        y, _ = rnn(seq)
        return y.reshape(H, B, W, -1).permute(1, 3, 0, 2)

    def forward(self, x):
        x = check_tensor(self, x, "input")
        if x.ndim != 4:
            raise ValueError(f"RNN2d: expected input (B, C, H, W), got {tuple(x.shape)}")
        hor = self._sweep(self.horizontal, x, "w")
        if self.stacked:
            return self._sweep(self.vertical, hor, "h")
        from ...ops import cat

        return cat([hor, self._sweep(self.vertical, x, "h")], 1)

