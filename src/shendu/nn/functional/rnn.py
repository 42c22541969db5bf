"""Recurrent cells as differentiable functions and a one-layer sequence runner (textbook 10.2, 10.10).

Cells (one time step, PyTorch weight layout):
- ``rnn_tanh_cell`` / ``rnn_relu_cell``: h' = act(W_ih x + b_ih + W_hh h + b_hh)  (eqs. 10.8-10.9)
- ``lstm_cell``: gates (i, f, g, o); c' = f c + i g, h' = o tanh(c')  (eqs. 10.40-10.44); the book's
  input unit uses a sigmoid (``cell_activation='sigmoid'``), PyTorch a tanh (default); optional
  diagonal peepholes (w_ci, w_cf, w_co): i, f read c_{t-1}, o reads c_t (Gers & Schmidhuber).
- ``gru_cell``: gates (r, z, n); h' = (1 - z) n + z h  (eqs. 10.45-10.47). ``reset_after=True`` is
  PyTorch's n = act(x_n + r (W_hn h + b_hn)); False is the book/Cho form n = act(x_n + W_hn (r h) + b_hn).
- ``leaky_rnn_cell``: h' = alpha h + (1 - alpha) tanh(W_ih x + W_hh h + b)  (textbook 10.9.2, leaky units).
Shapes: x (B, in), h, c (B, H), W_ih (G*H, in), W_hh (G*H, H), biases (G*H,).
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor, _wrap
from ...backend import device_of, namespace_of, resolve, to_device, to_host
from ...ops import stack
from ...ops.rnn import ElmanSeq, GRUSeq, LSTMSeq
from .linear import linear


def _act(name):
    if name == "tanh":
        return lambda a: a.tanh()
    if name == "sigmoid":
        return lambda a: a.sigmoid()
    if name == "relu":
        return lambda a: a.relu()
    raise ValueError(f"recurrent cell: unknown activation {name!r} (expected 'tanh', 'sigmoid' or 'relu')")


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """Elman step h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (textbook 10.2, eq. 10.8-10.9)."""
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).tanh()


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """Elman step with ReLU: h' = relu(W_ih x + b_ih + W_hh h + b_hh)."""
    return (linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh)).relu()


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, cell_activation="tanh", peephole=None):
    """LSTM step (textbook 10.10.1): returns (h', c'). ``peephole`` = (w_ci, w_cf, w_co), each (H,)."""
    h, c = hx
    H = h.shape[-1]
    a = linear(input, w_ih, b_ih) + linear(h, w_hh, b_hh)
    ai, af, ag, ao = a[..., :H], a[..., H:2 * H], a[..., 2 * H:3 * H], a[..., 3 * H:]
    if peephole is not None:
        ai = ai + peephole[0] * c
        af = af + peephole[1] * c
    i, f, g = ai.sigmoid(), af.sigmoid(), _act(cell_activation)(ag)
    c2 = f * c + i * g
    if peephole is not None:
        ao = ao + peephole[2] * c2
    return ao.sigmoid() * c2.tanh(), c2


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, reset_after=True, activation="tanh"):
    """GRU step (textbook 10.10.2, standard timing): r, z = s(.), n = act(.), h' = (1 - z) n + z h."""
    H = hx.shape[-1]
    gx = linear(input, w_ih, b_ih)
    act = _act(activation)
    if reset_after:
        gh = linear(hx, w_hh, b_hh)
        r = (gx[..., :H] + gh[..., :H]).sigmoid()
        z = (gx[..., H:2 * H] + gh[..., H:2 * H]).sigmoid()
        n = act(gx[..., 2 * H:] + r * gh[..., 2 * H:])
    else:
        gh = linear(hx, w_hh[:2 * H], None if b_hh is None else b_hh[:2 * H])
        r = (gx[..., :H] + gh[..., :H]).sigmoid()
        z = (gx[..., H:2 * H] + gh[..., H:]).sigmoid()
        n = act(gx[..., 2 * H:] + linear(r * hx, w_hh[2 * H:], None if b_hh is None else b_hh[2 * H:]))
    return n + z * (hx - n)


def leaky_rnn_cell(input, hx, w_ih, w_hh, b=None, alpha=0.9):
    """Leaky unit h' = alpha h + (1 - alpha) tanh(W_ih x + W_hh h + b) (textbook 10.9.2); alpha scalar or (H,)."""
    return alpha * hx + (1 - alpha) * (linear(input, w_ih, b) + linear(hx, w_hh)).tanh()


def lengths_to_mask(lengths, T, dtype=np.float32, device=None):
    """0/1 mask (T, B, 1) with mask[t, b] = 1 iff t < lengths[b], on ``device`` (None: the host).

    Lengths are host-side metadata (checked here): a device tensor of lengths is copied to the host once."""
    ln = lengths._data if isinstance(lengths, Tensor) else lengths
    ln = np.asarray(to_host(ln) if hasattr(ln, "shape") else ln).astype(np.int64).reshape(-1)
    if ln.size and (ln.min() < 0 or ln.max() > T):
        raise ValueError(f"recurrent layer: lengths must lie in [0, {T}], got min {ln.min()}, max {ln.max()}")
    m = (np.arange(T)[:, None] < ln[None, :]).astype(dtype)[:, :, None]
    if device is None:
        return m
    return to_device(m, resolve(device))


def recurrent_layer(mode, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, mask=None, reverse=False, fused=True,
                    nonlinearity="tanh", cell_activation="tanh", peephole=None, reset_after=True):
    """Run one direction of one recurrent layer over x (T, B, in); returns (y (T, B, H), h_T, c_T or None).

    ``mode`` is 'RNN', 'LSTM' or 'GRU'. The input projection for all steps is one GEMM; the fused
    path runs the time loop and BPTT in one op (shendu.ops.rnn); the composed path uses the cells
    (needed for peepholes, the book's sigmoid input unit and reset-before GRUs). ``mask`` (T, B, 1), an
    array (a host mask is copied to x's device)."""
    if mask is not None and type(x._data) is not np.ndarray and type(mask) is np.ndarray:
        mask = to_device(mask, device_of(x._data))
    simple = peephole is None and cell_activation == "tanh" and reset_after
    if fused and simple:
        T, B = x.shape[0], x.shape[1]
        x2 = x.reshape(T * B, x.shape[2])  # one 2-D GEMM for all steps (copies a strided x once)
        if mode == "GRU":
            xproj = linear(x2, w_ih, b_ih).reshape(T, B, w_ih.shape[0])  # explicit size: B may be 0
            if b_hh is None:
                b_hh = _wrap(namespace_of(w_hh._data).zeros(w_hh.shape[0], dtype=x.dtype))
            y, h = GRUSeq(mask, reverse)(xproj, w_hh, b_hh, h0)
            return y, h, None
        b = b_ih + b_hh if b_ih is not None and b_hh is not None else (b_ih if b_ih is not None else b_hh)
        xproj = linear(x2, w_ih, b).reshape(T, B, w_ih.shape[0])
        if mode == "LSTM":
            return LSTMSeq(mask, reverse)(xproj, w_hh, h0, c0)
        y, h = ElmanSeq(mask, reverse, nonlinearity)(xproj, w_hh, h0)
        return y, h, None
    T = x.shape[0]
    if T == 0:
        raise ValueError(
            f"{mode}: expected sequence length to be larger than 0 (as PyTorch), got input {tuple(x.shape)}"
        )
    h, c = h0, c0
    ys = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        xt = x[t]
        if mode == "LSTM":
            hn, cn = lstm_cell(xt, (h, c), w_ih, w_hh, b_ih, b_hh, cell_activation, peephole)
        elif mode == "GRU":
            hn, cn = gru_cell(xt, h, w_ih, w_hh, b_ih, b_hh, reset_after, cell_activation), None
        else:
            hn, cn = (rnn_relu_cell if nonlinearity == "relu" else rnn_tanh_cell)(xt, h, w_ih, w_hh, b_ih, b_hh), None
        if mask is not None:
            m = _wrap(mask[t])
            ys[t] = hn * m
            h = hn * m + h * (1.0 - m)
            if cn is not None:
                c = cn * m + c * (1.0 - m)
        else:
            ys[t], h, c = hn, hn, cn
    return stack(ys, 0), h, c
