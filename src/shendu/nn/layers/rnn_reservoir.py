"""Liquid state machine (textbook 10.8, reservoir computing with spiking neurons; Maass et al. 2002): leaky
integrate-and-fire units with a fixed random recurrence and a ridge readout (``EchoStateNetwork.fit``)."""
from __future__ import annotations

from ...backend import namespace_of, to_device_of


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
