"""ONNX converters of the recurrent layers (textbook 10.2, 10.10): RNN/LSTM/GRU become ONNX's RNN/LSTM/GRU ops,
one node per layer, gates reordered from PyTorch's (i, f, g, o) / (r, z, n) to ONNX's (i, o, f, c) / (z, r, h).
"""
from __future__ import annotations

import numpy as np

from .graph import ExportError, _host


def install(reg):
    """Register the recurrent-layer converters with ``reg(*classes)`` (a decorator factory)."""
    from .. import nn

    @reg(nn.RNN, nn.LSTM, nn.GRU)
    def _rnn(g, m, name, x):
        return _rnn_convert(g, m, name, x)


def _rnn_convert(g, m, name, x):
    """RNN/LSTM/GRU -> one ONNX RNN/LSTM/GRU node per layer (gates reordered); outputs (y, h_n[, c_n])."""
    if m.peephole or m.cell_activation != "tanh":
        raise ExportError(f"{m.mode} with peepholes or cell_activation={m.cell_activation!r} is not supported "
                          "(ONNX's operators use tanh)")
    if m.mode == "RNN" and m.nonlinearity not in ("tanh", "relu"):
        raise ExportError(f"nonlinearity {m.nonlinearity!r} is not supported")
    out = m(x)
    if x.ndim != 3:
        raise ExportError(f"expected a batched 3-D input, got shape {tuple(x.shape)}")
    H, L = m.hidden_size, m.num_layers
    sfxs = ("", "_reverse") if m.bidirectional else ("",)
    G = {"RNN": 1, "LSTM": 4, "GRU": 3}[m.mode]
    order = {"RNN": [0], "LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}[m.mode]  # PyTorch gate blocks -> ONNX's
    dt = _host(m.weight_ih_l0).dtype

    def reorder(a):
        blocks = a.reshape((G, H) + a.shape[1:])
        return blocks[order].reshape(a.shape)

    cur = g.node("Transpose", [name], perm=[1, 0, 2]) if m.batch_first else name
    hs, cs = [], []
    for layer in range(L):
        W = np.stack([reorder(_host(getattr(m, f"weight_ih_l{layer}{s}"))) for s in sfxs])
        R = np.stack([reorder(_host(getattr(m, f"weight_hh_l{layer}{s}"))) for s in sfxs])
        if m.bias:
            B = np.stack([np.concatenate([reorder(_host(getattr(m, f"bias_ih_l{layer}{s}"))),
                                          reorder(_host(getattr(m, f"bias_hh_l{layer}{s}")))]) for s in sfxs])
        else:
            B = np.zeros((len(sfxs), 2 * G * H), dt)
        attrs = dict(hidden_size=H, direction="bidirectional" if m.bidirectional else "forward")
        if m.mode == "RNN":
            act = "Relu" if m.nonlinearity == "relu" else "Tanh"
            attrs["activations"] = [act] * len(sfxs)
        if m.mode == "GRU":
            attrs["linear_before_reset"] = int(bool(m.reset_after))
        n_out = 3 if m.mode == "LSTM" else 2
        outs = g.node(m.mode, [cur, g.const("W", W), g.const("R", R), g.const("B", B)], m.mode.lower(),
                      n_out=n_out, **attrs)
        y = outs[0]  # (T, D, B, H) -> (T, B, D*H)
        y = g.node("Transpose", [y], perm=[0, 2, 1, 3])
        cur = g.node("Reshape", [y, g.const("shape", np.asarray([0, 0, -1], np.int64))])
        hs.append(outs[1])
        if m.mode == "LSTM":
            cs.append(outs[2])
    y = g.node("Transpose", [cur], perm=[1, 0, 2]) if m.batch_first else g.node("Identity", [cur])
    h = hs[0] if L == 1 else g.node("Concat", hs, axis=0)
    if m.mode == "LSTM":
        c = cs[0] if L == 1 else g.node("Concat", cs, axis=0)
        return [y, h, c], out
    return [y, h], out

