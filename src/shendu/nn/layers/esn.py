"""Echo state network / reservoir computing (textbook 10.8) and ``spectral_radius_`` initialisation.

Fixed random reservoir: h_t = (1 - a) h_{t-1} + a tanh(W_in u_t + W h_{t-1} + b) with leak rate a
(leaky integration, textbook 10.9.2), W sparse and rescaled so max |eig(W)| = ``spectral_radius``
(the edge of stability). Only the linear readout y_t = W_out [h_t; u_t; 1] is learned, by ridge
regression (closed form): W_out = Y^T X (X^T X + lambda I)^-1. u (T, in) or (T, B, in).

The reservoir is built on the host; after ``.to(device)`` every step runs on that device (inputs are
copied there). Only the eigenvalues of ``spectral_radius_`` are computed on the host (CuPy has no eigvals).
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import get_default_dtype, get_generator, namespace_of, to_device_of, to_dtype, to_host
from ..functional._checks import check_tensor
from ..module import Module
from ..parameter import Parameter


def spectral_radius_(tensor: Tensor, rho: float) -> Tensor:
    """Rescale a square matrix in place so that its largest |eigenvalue| equals ``rho`` (textbook 10.8)."""
    w = tensor._data
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"spectral_radius_: expected a square matrix, got shape {w.shape}")
    # general (non-symmetric) eigenvalues: a host-only LAPACK routine (CuPy has no eigvals), so copy w to the host
    r = float(np.max(np.abs(np.linalg.eigvals(to_host(w).astype(np.float64)))))
    if r == 0:
        raise ValueError("spectral_radius_: the matrix has spectral radius 0 and cannot be rescaled")
    w *= w.dtype.type(rho / r)
    return tensor


class EchoStateNetwork(Module):
    """ESN with a fixed reservoir (buffers ``w_in``, ``w``, ``b``) and a ridge-regression readout ``w_out``."""

    def __init__(self, input_size, reservoir_size, output_size, spectral_radius=0.9, input_scaling=1.0,
                 sparsity=0.9, leak_rate=1.0, bias_scaling=0.0, ridge=1e-6, dtype=None):
        super().__init__()
        if not 0 < leak_rate <= 1:
            raise ValueError(f"EchoStateNetwork: leak_rate must be in (0, 1], got {leak_rate}")
        if not 0 <= sparsity < 1:
            raise ValueError(f"EchoStateNetwork: sparsity must be in [0, 1), got {sparsity}")
        dt = get_default_dtype() if dtype is None else to_dtype(dtype)
        g = get_generator()
        R = reservoir_size
        w = g.uniform(-1, 1, (R, R)) * (g.random((R, R)) >= sparsity)
        if not w.any():
            w[0, 0] = 1.0
        w_t = _wrap(w.astype(dt))
        spectral_radius_(w_t, spectral_radius)
        self.register_buffer("w", w_t)
        self.register_buffer("w_in", _wrap((g.uniform(-1, 1, (R, input_size)) * input_scaling).astype(dt)))
        self.register_buffer("b", _wrap((g.uniform(-1, 1, R) * bias_scaling).astype(dt)))
        self.w_out = Parameter(np.zeros((output_size, R + input_size + 1), dt))
        self.input_size, self.reservoir_size, self.output_size = input_size, R, output_size
        self.leak_rate, self.ridge = leak_rate, ridge

    def reservoir(self, u, h0=None):
        """Reservoir states (T, [B,] R) for inputs u (T, [B,] in) and the final state."""
        u = to_device_of(u, self.w, self.w._data.dtype)
        if u.shape[-1] != self.input_size or u.ndim not in (2, 3):
            raise ValueError(f"EchoStateNetwork: expected input (T, {self.input_size}) or (T, B, {self.input_size}), "
                             f"got {u.shape}")
        W, Win, b, a = self.w._data, self.w_in._data, self.b._data, self.leak_rate
        xp = namespace_of(W)
        h = xp.zeros(u.shape[1:-1] + (self.reservoir_size,), u.dtype) if h0 is None else to_device_of(h0, self.w)
        pre = u @ Win.T + b
        out = xp.empty(u.shape[:-1] + (self.reservoir_size,), u.dtype)
        for t in range(u.shape[0]):
            h = (1 - a) * h + a * xp.tanh(pre[t] + h @ W.T)
            out[t] = h
        return out, h

    def _features(self, states, u):
        xp = namespace_of(states)
        ones = xp.ones(states.shape[:-1] + (1,), states.dtype)
        return xp.concatenate([states, u, ones], -1)

    def fit(self, u, y, washout=0):
        """Fit the readout by ridge regression on states after ``washout`` steps; returns the training MSE."""
        u = to_device_of(u, self.w, self.w._data.dtype)
        y = to_device_of(y, self.w, np.float64)
        xp = namespace_of(u)
        s, h = self.reservoir(u)
        X = self._features(s, u)[washout:].reshape(-1, self.w_out.shape[1]).astype(np.float64)
        Y = y[washout:].reshape(-1, self.output_size)
        A = X.T @ X + self.ridge * xp.eye(X.shape[1])
        w = xp.linalg.solve(A, X.T @ Y).T
        self.w_out._data[...] = w
        self.last_state = h
        return float(xp.mean((X @ w.T - Y) ** 2))

    def forward(self, u, h0=None):
        """Outputs (T, [B,] out) = W_out [h_t; u_t; 1] (differentiable in ``w_out``)."""
        u = check_tensor("EchoStateNetwork", u, "u")  # no dtype check: the reservoir casts u to its dtype
        s, _ = self.reservoir(u, h0)
        uu = to_device_of(u, self.w, s.dtype)
        return _wrap(self._features(s, uu)) @ self.w_out.transpose(0, 1)

    def generate(self, n_steps, u0, h0):
        """Free-running continuation: feed each output back as the next input (output_size == input_size)."""
        u = to_device_of(u0, self.w, self.w._data.dtype).reshape(self.input_size)
        h = to_device_of(h0, self.w)
        W, Win, b, a, Wo = self.w._data, self.w_in._data, self.b._data, self.leak_rate, self.w_out._data
        xp = namespace_of(W)
        one = xp.ones(1, dtype=h.dtype)
        ys = []
        for _ in range(n_steps):
            h = (1 - a) * h + a * xp.tanh(Win @ u + b + W @ h)
            u = Wo @ xp.concatenate([h, u.astype(h.dtype, copy=False), one])
            ys.append(u)
        return xp.stack(ys) if ys else xp.zeros((0, self.output_size), dtype=Wo.dtype)
