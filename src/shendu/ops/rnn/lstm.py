"""Fused LSTM over a whole sequence: forward time loop and hand-written BPTT (textbook 10.10.1, eqs.
10.40-10.44; BPTT 10.2.2). Reference: shendu.reference.rnn.lstm_forward / lstm_step / lstm_bptt."""
from __future__ import annotations

from ...autograd.grad_mode import is_grad_enabled
from .._recycle import recycled_empty
from ._base import _carry, _carry_, _masked, _prev_states, _SeqBase, _uncarry_

#: Gate order inside the kernel: o, i, f (the sigmoid gates, one contiguous block) then g (tanh); PyTorch's rows
#: are (i, f, g, o). _ORDER[slot] = the PyTorch gate index held in that slot.
_ORDER = (3, 0, 1, 2)


class LSTMSeq(_SeqBase):
    """LSTM over a sequence. Inputs xproj (T,B,4H) (= x W_ih^T + b_ih + b_hh), w_hh (4H,H),
    h0, c0 (B,H); outputs y (T,B,H), h_T, c_T (textbook 10.10.1, eqs. 10.40-10.44, tanh input unit).
    Reference: shendu.reference.rnn.lstm_forward / lstm_bptt."""

    _grad = True  # whether forward keeps what BPTT needs (set per call by __call__)

    def __call__(self, *inputs):
        self._grad = is_grad_enabled() and any(getattr(x, "requires_grad", False) for x in inputs)
        return super().__call__(*inputs)

    def forward(self, xproj, w_hh, h0, c0):
        xp = self.xp
        T, B, G = xproj.shape
        H = G // 4
        mask = self._mask_on(xproj)
        dt = xproj.dtype
        grad = self._grad
        # Gate-major layout: A[t] is (4, B, H) with the gates in slot order o, i, f, g, so every per-gate op of a
        # step runs on a contiguous block (NumPy runs an op on a (B, H) column slice of (B, 4H) 3-4x slower than
        # on a contiguous one, issue 20). sigmoid(a) = 0.5 tanh(a / 2) + 0.5: the o, i, f pre-activations are
        # halved once (inputs and W_hh rows), so one tanh per step covers all four gates. A starts as the scaled
        # input part of every step; wt[slot] = (scaled W_hh rows of that gate)^T, C-contiguous (H, H), so the
        # step's product h W_hh^T is one batched GEMM (B, H) x (4, H, H) -> (4, B, H).
        A = recycled_empty((T, 4, B, H), dt, xproj)  # large scratch from the arena: no page faults
        wt = recycled_empty((4, H, H), dt, xproj)
        for slot, k in enumerate(_ORDER):
            s = 1.0 if k == 2 else 0.5
            xp.multiply(xproj[..., k * H:(k + 1) * H], s, out=A[:, slot])
            for r in range(0, H, 64):  # transposed in row blocks: ~1.3x faster than one strided pass
                e = min(r + 64, H)
                xp.multiply(w_hh[k * H + r:k * H + e].T, s, out=wt[slot, :, r:e])
        C = recycled_empty((T, B, H), dt, xproj)
        Y = recycled_empty((T, B, H), dt, xproj)
        # For BPTT, each step's local derivatives while its values are in cache (Q[t] in slot order o, i, f, g):
        # Q_o = tanh(c) o (1-o), Q_i = g i (1-i), Q_f = c_{t-1} f (1-f), Q_g = i (1-g^2); K = o (1 - tanh(c)^2).
        Q = recycled_empty((T, 4, B, H), dt, xproj) if grad else None
        K = recycled_empty((T, B, H), dt, xproj) if grad else None
        HP = xp.empty((T, B, H), dt) if grad and mask is not None else None  # else rebuilt from Y in backward
        h, c = h0, c0
        tmp = xp.empty((B, H), dt)
        tc = xp.empty((B, H), dt)
        gh = xp.empty((4, B, H), dt)
        for t in self._steps(T):
            a = A[t]
            xp.matmul(h, wt, out=gh)
            a += gh
            xp.tanh(a, out=a)
            sg = a[:3]
            sg *= 0.5
            sg += 0.5
            o, i, f, g = a[0], a[1], a[2], a[3]
            ct = C[t]
            xp.multiply(f, c, out=ct)
            xp.multiply(i, g, out=tmp)
            ct += tmp
            xp.tanh(ct, out=tc)
            yt = Y[t]
            xp.multiply(o, tc, out=yt)
            if grad:
                q = Q[t]
                qs = q[:3]
                xp.subtract(1, sg, out=qs)
                qs *= sg
                q[0] *= tc
                q[1] *= g
                q[2] *= c
                qg = q[3]
                xp.multiply(g, g, out=qg)
                xp.subtract(1, qg, out=qg)
                qg *= i
                k = K[t]
                xp.multiply(tc, tc, out=k)
                xp.subtract(1, k, out=k)
                k *= o
                if HP is not None:
                    HP[t] = h
            h, c = _carry_(yt, h, mask, t), _carry_(ct, c, mask, t)
        self.saved = (A, Q, K, HP, Y)
        return Y, xp.array(h, dtype=dt), xp.array(c, dtype=dt)

    def backward_array(self, gy, ghT, gcT):  # kept: benchmarks/backward_array_shape.py
        xp = self.xp
        A, Q, K, HP, Y = self.saved
        ins = self.inputs
        w_hh = ins[1]._data
        T, _, B, H = A.shape
        G = 4 * H
        mask = self.mask
        if HP is None:
            HP = _prev_states(Y, ins[2]._data, self.reverse)
        dA = recycled_empty((T, B, G), A.dtype, A)  # PyTorch's gate order i, f, g, o
        dA4 = dA.reshape(T, B, 4, H)
        dh = ghT
        dc = gcT.copy()
        tmp = xp.empty((B, H), A.dtype)
        dh_t = xp.empty((B, H), A.dtype)
        for t in reversed(list(self._steps(T))):
            xp.add(dh, gy[t], out=dh_t)
            keep_h = _uncarry_(dh_t, dh, mask, t)
            keep_c = _uncarry_(dc, dc, mask, t)
            q = Q[t]
            xp.multiply(dh_t, q[0], out=dA[t, :, 3 * H:])  # d a_o
            xp.multiply(dh_t, K[t], out=tmp)  # dc += dh o (1 - tanh(c)^2)
            dc += tmp
            xp.multiply(dc[:, None, :], q[1:].transpose(1, 0, 2), out=dA4[t, :, :3])  # d a_i, d a_f, d a_g
            dc *= A[t, 2]  # f
            dh = dA[t] @ w_hh
            if keep_h is not None:
                dh += keep_h
                dc += keep_c
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
