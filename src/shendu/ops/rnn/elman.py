"""Fused Elman RNN h_t = act(xproj_t + W_hh h_{t-1}) over a whole sequence: forward time loop and
hand-written BPTT (textbook 10.2, eqs. 10.8-10.9; BPTT 10.2.2, eqs. 10.17-10.28). Reference:
shendu.reference.rnn.rnn_forward / rnn_bptt."""
from __future__ import annotations

from ._base import _carry, _carry_, _SeqBase, _uncarry_


class ElmanSeq(_SeqBase):
    """Elman RNN h_t = act(xproj_t + W_hh h_{t-1}) over a sequence (textbook 10.2, eq. 10.8-10.9);
    xproj (T,B,H) includes both biases; act is 'tanh' or 'relu'. Outputs y, h_T.
    Reference: shendu.reference.rnn.rnn_forward / rnn_bptt."""

    def __init__(self, mask=None, reverse=False, nonlinearity="tanh"):
        super().__init__(mask, reverse)
        self.relu = nonlinearity == "relu"

    def forward(self, xproj, w_hh, h0):
        xp = self.xp
        T, B, H = xproj.shape
        mask = self._mask_on(xproj)
        Y = xp.empty_like(xproj)
        HP = xp.empty_like(xproj)
        wh = xp.empty((H, B), xproj.dtype)
        h = h0
        for t in self._steps(T):
            yt = Y[t]
            xp.matmul(w_hh, h.T, out=wh)  # (W_hh h)^T: faster in OpenBLAS than h @ W_hh^T for B << H
            xp.add(wh.T, xproj[t], out=yt)
            if self.relu:
                xp.maximum(yt, 0, out=yt)
            else:
                xp.tanh(yt, out=yt)
            HP[t] = h
            h = _carry_(yt, h, mask, t)
        self.saved = (Y, HP)
        return Y, xp.array(h, dtype=xproj.dtype)

    def backward_array(self, gy, ghT):  # kept: benchmarks/backward_array_shape.py
        xp = self.xp
        Y, HP = self.saved
        w_hh = self.inputs[1]._data
        T, B, H = Y.shape
        mask = self.mask
        dA = xp.empty_like(Y)
        dh = ghT.copy()
        for t in reversed(list(self._steps(T))):
            d = dA[t]
            xp.add(dh, gy[t], out=d)
            keep = _uncarry_(d, dh, mask, t)
            y = Y[t]
            if self.relu:
                d *= y > 0
            else:
                d *= 1 - y * y
            dh = d @ w_hh
            if keep is not None:
                dh += keep
        need = self.needs_input_grad
        gw = dA.reshape(T * B, H).T @ HP.reshape(T * B, H) if need[1] else None
        return (dA if need[0] else None, gw, dh if need[2] else None)

    def compose(self, xproj, w_hh, h0):
        from ..shape import stack
        mask = self.mask
        h = h0
        ys = [None] * xproj.shape[0]
        for t in self._steps(xproj.shape[0]):
            a = xproj[t] + h @ w_hh.T
            hn = a.relu() if self.relu else a.tanh()
            ys[t], h = _carry(mask, t, hn, h)
        return stack(ys, 0), h
