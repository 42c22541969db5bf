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
Defined here: ConditionalRNN, FeedbackRNN, sample_logits, information_flow_regularizer; the others live in
``rnn_scan``, ``rnn_structure`` (deep transition, clockwork, GRU variants, 2-D), ``rnn_length`` (stop token,
predicted length) and ``rnn_reservoir`` (liquid state machine), and are importable from here.
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import namespace_of
from ...ops import stack
from ..functional._checks import check_tensor
from ..module import Module
from .linear import Linear
from .rnn_length import LengthPredictingRNN, StopTokenRNN  # noqa: F401
from .rnn_reservoir import LiquidStateMachine  # noqa: F401
from .rnn_scan import _blend, _first, _zeros, scan  # noqa: F401
from .rnn_structure import ClockworkRNN, DeepTransitionRNN, GRUVariantCell, RNN2d  # noqa: F401

__all__ = ["RNN2d", "sample_logits", "scan", "ConditionalRNN", "FeedbackRNN", "DeepTransitionRNN", "ClockworkRNN",
           "GRUVariantCell", "StopTokenRNN", "LengthPredictingRNN", "LiquidStateMachine",
           "information_flow_regularizer"]



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


