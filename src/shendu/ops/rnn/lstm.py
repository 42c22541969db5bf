"""Fused LSTM over a whole sequence: forward time loop and hand-written BPTT (textbook 10.10.1, eqs.
10.40-10.44; BPTT 10.2.2). Reference: shendu.reference.rnn.lstm_forward / lstm_step / lstm_bptt."""
from __future__ import annotations

from ._base import _carry, _carry_, _masked, _prev_states, _SeqBase, _uncarry_


class LSTMSeq(_SeqBase):
    """LSTM over a sequence. Inputs xproj (T,B,4H) (= x W_ih^T + b_ih + b_hh), w_hh (4H,H),
    h0, c0 (B,H); outputs y (T,B,H), h_T, c_T (textbook 10.10.1, eqs. 10.40-10.44, tanh input unit).
    Reference: shendu.reference.rnn.lstm_forward / lstm_bptt."""

    def forward(self, xproj, w_hh, h0, c0):
        xp = self.xp
        T, B, G = xproj.shape
        H = G // 4
        mask = self._mask_on(xproj)
        dt = xproj.dtype
        A = xp.empty((T, B, G), dt)  # gate activations i, f, g, o
        C = xp.empty((T, B, H), dt)
        TC = xp.empty((T, B, H), dt)
        Y = xp.empty((T, B, H), dt)
        if mask is not None:  # h_{t-1}, c_{t-1} per step; unmasked runs rebuild them from Y and C
            HP = xp.empty((T, B, H), dt)
            CP = xp.empty((T, B, H), dt)
        # sigmoid(a) = 0.5 tanh(a / 2) + 0.5: halve the i, f, o pre-activations once (inputs and W_hh rows)
        # so one tanh per step covers all four gates. A starts as the scaled input part of every step.
        scale = xp.full(G, 0.5, dt)
        scale[2 * H:3 * H] = 1
        xp.multiply(xproj, scale, out=A)
        ws = w_hh * scale[:, None]
        h, c = h0, c0
        tmp = xp.empty((B, H), dt)
        wh = xp.empty((G, B), dt)
        for t in self._steps(T):
            a = A[t]
            xp.matmul(ws, h.T, out=wh)  # (W_hh h)^T: ~1.6x faster in OpenBLAS than h @ W_hh^T for B << G
            a += wh.T
            xp.tanh(a, out=a)
            for sl in (a[:, :2 * H], a[:, 3 * H:]):
                sl *= 0.5
                sl += 0.5
            if mask is not None:
                HP[t] = h
                CP[t] = c
            ct = C[t]
            xp.multiply(a[:, H:2 * H], c, out=ct)
            xp.multiply(a[:, :H], a[:, 2 * H:3 * H], out=tmp)
            ct += tmp
            xp.tanh(ct, out=TC[t])
            yt = Y[t]
            xp.multiply(a[:, 3 * H:], TC[t], out=yt)
            h, c = _carry_(yt, h, mask, t), _carry_(ct, c, mask, t)
        self.saved = (A, C, TC, HP, CP, Y) if mask is not None else (A, C, TC, None, None, Y)
        return Y, xp.array(h, dtype=dt), xp.array(c, dtype=dt)

    def backward_array(self, gy, ghT, gcT):  # kept: benchmarks/backward_array_shape.py
        xp = self.xp
        A, C, TC, HP, CP, Y = self.saved
        ins = self.inputs
        w_hh = ins[1]._data
        T, B, G = A.shape
        H = G // 4
        mask = self.mask
        if HP is None:
            HP = _prev_states(Y, ins[2]._data, self.reverse)
            CP = _prev_states(C, ins[3]._data, self.reverse)
        i, f, g, o = A[..., :H], A[..., H:2 * H], A[..., 2 * H:3 * H], A[..., 3 * H:]
        # Step-independent local derivatives, for all steps at once (few big ops instead of many small ones):
        # d a_i = dc g i(1-i), d a_f = dc c_{t-1} f(1-f), d a_g = dc i (1-g^2), d a_o = dh tanh(c) o(1-o),
        # and dc += dh o (1 - tanh(c)^2).
        # Each is computed in place in its slot (no temporaries the size of the sequence).
        Q = xp.empty((T, B, 4, H), A.dtype)
        for k, s, u in ((0, i, g), (1, f, CP), (3, o, TC)):  # u s (1 - s)
            q = Q[:, :, k]
            xp.subtract(1, s, out=q)
            q *= s
            q *= u
        q = Q[:, :, 2]  # i (1 - g^2)
        xp.multiply(g, g, out=q)
        xp.subtract(1, q, out=q)
        q *= i
        K = TC * TC  # o (1 - tanh(c)^2)
        xp.subtract(1, K, out=K)
        K *= o
        dA = xp.empty((T, B, 4, H), A.dtype)
        dh = ghT
        dc = gcT.copy()
        tmp = xp.empty((B, H), A.dtype)
        for t in reversed(list(self._steps(T))):
            dh_t = dh + gy[t]
            keep_h = _uncarry_(dh_t, dh, mask, t)
            keep_c = _uncarry_(dc, dc, mask, t)
            d4 = dA[t]
            xp.multiply(dh_t, Q[t, :, 3], out=d4[:, 3])
            xp.multiply(dh_t, K[t], out=tmp)
            dc += tmp
            xp.multiply(dc[:, None, :], Q[t, :, :3], out=d4[:, :3])
            dc *= f[t]
            dh = d4.reshape(B, G) @ w_hh
            if keep_h is not None:
                dh += keep_h
                dc += keep_c
        dA = dA.reshape(T, B, G)
        need = self.needs_input_grad
        gw = None
        if need[1]:
            gw = dA.reshape(T * B, G).T @ HP.reshape(T * B, H)
        return (dA if need[0] else None, gw, dh if need[2] else None, dc if need[3] else None)

    def compose(self, xproj, w_hh, h0, c0):
        from ..shape import stack
        H = w_hh.shape[1]
        mask = self.mask
        h, c = h0, c0
        ys = [None] * xproj.shape[0]
        for t in self._steps(xproj.shape[0]):
            a = xproj[t] + h @ w_hh.T
            i, f, g, o = a[:, :H].sigmoid(), a[:, H:2 * H].sigmoid(), a[:, 2 * H:3 * H].tanh(), a[:, 3 * H:].sigmoid()
            cn = f * c + i * g
            hn = o * cn.tanh()
            ys[t], h = _carry(mask, t, hn, h)
            c = cn if mask is None else _masked(mask[t], cn, c)
        return stack(ys, 0), h, c

