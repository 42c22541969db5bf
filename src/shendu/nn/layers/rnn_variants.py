"""Chapter-10 recurrent variants beyond RNN/LSTM/GRU (textbook 10.1-10.11).

- ``scan(cell, inputs, h0)``: unroll a user cell over time (10.1, eq. 10.5 h_t = f(h_{t-1}, x_t; theta)).
- ``ConditionalRNN``: a fixed context vector c conditions the RNN as an extra input x^T R at every step,
  as the initial state h_0 = tanh(W_c c + b_c), or both (10.2.4, Fig. 10.9).
- ``FeedbackRNN``: hidden-to-hidden and output-to-hidden recurrence, the output at t feeds h at t + 1
  (Fig. 10.10), teacher-forced or free-running.
- ``DeepTransitionRNN``: an MLP as the state transition with an optional skip path h_{t-1} -> h_t
  (10.5, Fig. 10.13 b, c).
- ``ClockworkRNN``: groups of units that update every T_g steps, fed only by slower groups (10.9.3; Koutnik 2014).
- ``GRUVariantCell``: GRU with the reset gate shared across groups of units and/or the update gate the product
  of a global (per-group) gate and a local (per-unit) gate (10.10.2, last paragraph).
- ``StopTokenRNN``: an extra Bernoulli output "stop here" decides the sequence length (10.2.3).
- ``LengthPredictingRNN``: predicts tau from the context, then gets the remaining steps tau - t as an input
  (10.2.3, 10.34).
- ``RNN2d``: four RNNs sweep an image left, right, up and down (10.3, 2-D bidirectional RNNs; ReNet-style stacking).
- ``LiquidStateMachine``: a reservoir of leaky integrate-and-fire spiking units with a ridge readout (10.8).
- ``information_flow_regularizer``: Pascanu et al.'s Omega (10.52) over a list of hidden states.
All sequences are time-major (T, B, ...). Every layer composes shendu ops, so they run on any device.
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import (
    device_of,
    get_default_dtype,
    get_generator,
    namespace_of,
    to_device,
    to_device_of,
    to_dtype,
    to_host,
)
from ...ops import stack
from .. import functional as F
from ..functional._checks import check_tensor
from ..module import Module
from ..parameter import Parameter
from .linear import Linear

__all__ = ["RNN2d", "sample_logits", "scan", "ConditionalRNN", "FeedbackRNN", "DeepTransitionRNN", "ClockworkRNN",
           "GRUVariantCell", "StopTokenRNN", "LengthPredictingRNN", "LiquidStateMachine",
           "information_flow_regularizer"]


def _zeros(shape, like):
    return _wrap(namespace_of(like._data).zeros(shape, dtype=like.dtype))


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


class ConditionalRNN(Module):
    """Elman RNN conditioned on a fixed vector c (textbook 10.2.4, Fig. 10.9):

    every_step: a_t = W h_{t-1} + U x_t + R c + b;  init_state: h_0 = tanh(W_c c + b_c);  both: the two.
    forward(c (B, C), x (T, B, in) or None, steps=T) -> (outputs (T, B, H), h_T). With no x (input_size 0) it
    is a vector -> sequence model (image captioning's decoder without its word inputs)."""

    MODES = ("every_step", "init_state", "both")

    def __init__(self, input_size, context_size, hidden_size, context_mode="every_step", dtype=None):
        super().__init__()
        if context_mode not in self.MODES:
            raise ValueError(f"ConditionalRNN: context_mode must be one of {self.MODES}, got {context_mode!r}")
        self.input_size, self.context_size, self.hidden_size = input_size, context_size, hidden_size
        self.context_mode = context_mode
        self.hh = Linear(hidden_size, hidden_size, dtype=dtype)
        self.ih = Linear(input_size, hidden_size, bias=False, dtype=dtype) if input_size else None
        self.R = Linear(context_size, hidden_size, bias=False, dtype=dtype) if context_mode != "init_state" else None
        self.init = Linear(context_size, hidden_size, dtype=dtype) if context_mode != "every_step" else None

    def initial_state(self, c):
        if self.init is not None:
            return self.init(c).tanh()
        return _zeros((c.shape[0], self.hidden_size), c)

    def forward(self, c, x=None, steps=None, h0=None):
        c = check_tensor(self, c, "context")
        if c.ndim != 2 or c.shape[1] != self.context_size:
            raise ValueError(f"ConditionalRNN: context of shape {tuple(c.shape)}, expected (B, {self.context_size})")
        if x is None and steps is None:
            raise ValueError("ConditionalRNN: give the inputs x (T, B, in) or the number of steps")
        if x is not None and (x.ndim != 3 or x.shape[2] != self.input_size):
            raise ValueError(f"ConditionalRNN: x of shape {tuple(x.shape)}, expected (T, B, {self.input_size})")
        T = x.shape[0] if x is not None else int(steps)
        bias = self.R(c) if self.R is not None else None  # x^T R: a per-unit bias that depends on c
        h = self.initial_state(c) if h0 is None else h0
        outs = []
        for t in range(T):
            a = self.hh(h)
            if x is not None and self.ih is not None:
                a = a + self.ih(x[t])
            if bias is not None:
                a = a + bias
            h = a.tanh()
            outs.append(h)
        return stack(outs, 0), h


class FeedbackRNN(Module):
    """RNN with hidden-to-hidden and output-to-hidden recurrence (textbook 10.2.4, Fig. 10.10):

    h_t = tanh(W h_{t-1} + U x_t + F y_{t-1} + b), o_t = V h_t + c.
    forward(x, y_prev) is teacher-forced: y_prev (T, B, out) holds the true y_{t-1} (row 0: the start value).
    ``generate(x)`` is free-running and feeds back ``feedback`` of o_t: 'output' (o itself, real-valued targets),
    'softmax', 'argmax' (one-hot) or 'sample' (one-hot of a draw from softmax(o / temperature))."""

    def __init__(self, input_size, hidden_size, output_size, dtype=None):
        super().__init__()
        self.ih = Linear(input_size, hidden_size, dtype=dtype)
        self.hh = Linear(hidden_size, hidden_size, bias=False, dtype=dtype)
        self.oh = Linear(output_size, hidden_size, bias=False, dtype=dtype)
        self.ho = Linear(hidden_size, output_size, dtype=dtype)
        self.hidden_size, self.output_size = hidden_size, output_size

    def step(self, x_t, h, y_prev):
        h = (self.ih(x_t) + self.hh(h) + self.oh(y_prev)).tanh()
        return self.ho(h), h

    def forward(self, x, y_prev, h0=None):
        x = check_tensor(self, x, "input")
        if tuple(y_prev.shape) != (x.shape[0], x.shape[1], self.output_size):
            raise ValueError(f"FeedbackRNN: y_prev of shape {tuple(y_prev.shape)}, expected "
                             f"{(x.shape[0], x.shape[1], self.output_size)}")
        h = _zeros((x.shape[1], self.hidden_size), x) if h0 is None else h0
        outs = []
        for t in range(x.shape[0]):
            o, h = self.step(x[t], h, y_prev[t])
            outs.append(o)
        return stack(outs, 0)

    def generate(self, x, y0=None, feedback="output", temperature=1.0, h0=None):
        if feedback not in ("output", "softmax", "argmax", "sample"):
            raise ValueError(f"FeedbackRNN: feedback must be output, softmax, argmax or sample, got {feedback!r}")
        B = x.shape[1]
        h = _zeros((B, self.hidden_size), x) if h0 is None else h0
        y = _zeros((B, self.output_size), x) if y0 is None else y0
        outs = []
        for t in range(x.shape[0]):
            o, h = self.step(x[t], h, y)
            outs.append(o)
            y = _feed(o, feedback, temperature)
        return stack(outs, 0)


def _feed(o, feedback, temperature):
    """What a free-running model feeds back from output o (B, K)."""
    if feedback == "output":
        return o
    if feedback == "softmax":
        return (o / temperature).softmax(-1)
    xp = namespace_of(o._data)
    if feedback == "argmax":
        idx = o._data.argmax(-1)
    else:
        idx = sample_logits(o, temperature)
    return _wrap((idx[:, None] == xp.arange(o.shape[-1])[None, :]).astype(o._data.dtype))


def sample_logits(logits, temperature=1.0, top_k=None, top_p=None):
    """Draw one index per row from softmax(logits / temperature), optionally restricted to the top_k
    largest logits or to the smallest set whose probability reaches top_p (nucleus). logits (B, K) Tensor
    or array -> (B,) int array on the logits' device (drawn with that device's generator)."""
    from ...backend import generator_for

    z = logits._data if isinstance(logits, Tensor) else logits
    xp = namespace_of(z)
    if temperature <= 0:
        raise ValueError(f"sample_logits: temperature must be > 0, got {temperature}")
    z = z.astype(np.float64) / float(temperature)
    K = z.shape[-1]
    if top_k is not None:
        if not 1 <= top_k <= K:
            raise ValueError(f"sample_logits: top_k must lie in [1, {K}], got {top_k}")
        kth = xp.sort(z, -1)[:, K - top_k][:, None]
        z = xp.where(z >= kth, z, -np.inf)
    p = xp.exp(z - z.max(-1, keepdims=True))
    p = p / p.sum(-1, keepdims=True)
    if top_p is not None:
        if not 0 < top_p <= 1:
            raise ValueError(f"sample_logits: top_p must lie in (0, 1], got {top_p}")
        ps = -xp.sort(-p, -1)  # descending
        n_keep = ((xp.cumsum(ps, -1) - ps) < top_p).sum(-1)  # keep until the mass before reaches top_p
        cut = xp.take_along_axis(ps, (n_keep - 1)[:, None], -1)  # the smallest kept probability
        keep = p >= cut
        p = xp.where(keep, p, 0.0)
        p = p / p.sum(-1, keepdims=True)
    u = generator_for(z).random((z.shape[0], 1))
    cdf = xp.cumsum(p, -1)
    idx = (cdf < u).sum(-1)
    return xp.minimum(idx, K - 1)


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


def information_flow_regularizer(loss, states, create_graph=True):
    """Pascanu et al.'s regularizer (textbook 10.11, eq. 10.52, with the norms the text drops):

    Omega = sum_t ( || g_t dh_t/dh_{t-1} || / || g_t || - 1 )^2,  g_t = dL/dh_t held constant (detached).

    ``states``: the hidden states h_1..h_T (each (B, H), in the graph, h_t computed from h_{t-1}); ``loss``
    the scalar L they feed (a term needs h_{t-1} to require grad: give h_0 requires_grad=True to include t = 1).
    The vector-Jacobian products go through one step each and are differentiable
    (create_graph), so Omega's gradient reaches the recurrent weights. Batch rows are summed into g_t."""
    from ...autograd import grad as _grad

    if len(states) < 2:
        raise ValueError(f"information_flow_regularizer: need at least 2 states, got {len(states)}")
    use = [i for i, h in enumerate(states) if isinstance(h, Tensor) and h.requires_grad]
    got = _grad(loss, [states[i] for i in use], retain_graph=True, allow_unused=True)
    gs = dict(zip(use, got))
    omega = None
    for t in range(1, len(states)):
        g = gs.get(t)
        if g is None or (t - 1) not in gs:  # a state outside the graph (e.g. a constant h_0): no term
            continue
        g = g.detach()
        (v,) = _grad(states[t], [states[t - 1]], grad_outputs=g, retain_graph=True, create_graph=create_graph)
        gn = (g * g).sum().sqrt()
        term = ((v * v).sum().sqrt() / (gn + 1e-12) - 1.0) ** 2
        omega = term if omega is None else omega + term
    if omega is None:
        raise ValueError("information_flow_regularizer: no consecutive states in the graph of the loss")
    return omega


def _lsm_base():
    from .esn import EchoStateNetwork

    return EchoStateNetwork


class LiquidStateMachine(_lsm_base()):
    """Liquid state machine (textbook 10.8: a reservoir of spiking neurons; Maass et al. 2002): leaky
    integrate-and-fire units with a fixed random recurrent matrix,

    v_t = decay * v_{t-1} + W_in u_t + W s_{t-1} + b,  s_t = [v_t >= threshold],  v_t <- v_t - threshold * s_t,

    read out linearly (ridge regression, as ``EchoStateNetwork.fit``) from the low-pass spike traces
    r_t = trace_decay * r_{t-1} + s_t. The final state is the tuple (v, s, r)."""

    def __init__(self, input_size, reservoir_size, output_size, spectral_radius=0.5, input_scaling=2.0,
                 sparsity=0.9, decay=0.9, threshold=1.0, trace_decay=0.5, bias_scaling=0.5, ridge=1e-2, dtype=None):
        super().__init__(input_size, reservoir_size, output_size, spectral_radius, input_scaling, sparsity, 1.0,
                         bias_scaling, ridge, dtype)
        self.decay, self.threshold, self.trace_decay = decay, threshold, trace_decay

    def reservoir(self, u, h0=None):
        u = to_device_of(u, self.w, self.w._data.dtype)
        if u.shape[-1] != self.input_size or u.ndim not in (2, 3):
            raise ValueError(f"LiquidStateMachine: expected input (T, {self.input_size}) or (T, B, "
                             f"{self.input_size}), got {u.shape}")
        W, Win, b = self.w._data, self.w_in._data, self.b._data
        xp = namespace_of(W)
        shape = u.shape[1:-1] + (self.reservoir_size,)
        if h0 is None:
            v, s, r = (xp.zeros(shape, u.dtype) for _ in range(3))
        else:
            v, s, r = (to_device_of(a, self.w) for a in h0)
        pre = u @ Win.T + b
        out = xp.empty(u.shape[:-1] + (self.reservoir_size,), u.dtype)
        self.spikes = xp.empty_like(out)
        for t in range(u.shape[0]):
            v = self.decay * v + pre[t] + s @ W.T
            s = (v >= self.threshold).astype(u.dtype)
            v = v - self.threshold * s
            r = self.trace_decay * r + s
            out[t] = r
            self.spikes[t] = s
        return out, (v, s, r)

    def generate(self, n_steps, u0, h0):
        raise NotImplementedError("LiquidStateMachine: free-running generation is not implemented")
