"""Fused GRU (PyTorch's reset-after form) over a whole sequence: forward time loop and hand-written BPTT
(textbook 10.10.2, eqs. 10.45-10.47; BPTT 10.2.2). Reference: shendu.reference.rnn.gru_forward / gru_step /
gru_bptt."""
from __future__ import annotations

from .._recycle import recycled_empty
from ._base import _carry, _carry_, _prev_states, _SeqBase, _sigmoid_, _uncarry_


class GRUSeq(_SeqBase):
    """GRU over a sequence (PyTorch form). Inputs xproj (T,B,3H) (= x W_ih^T + b_ih), w_hh (3H,H),
    b_hh (3H,), h0 (B,H); outputs y, h_T. r = s(x_r + W_hr h + b_hr), z = s(...),
    n = tanh(x_n + r (W_hn h + b_hn)), h' = (1 - z) n + z h (textbook 10.10.2, eqs. 10.45-10.47).
    Reference: shendu.reference.rnn.gru_forward / gru_bptt."""

    def forward(self, xproj, w_hh, b_hh, h0):
        xp = self.xp
        T, B, G = xproj.shape
        H = G // 3
        mask = self._mask_on(xproj)
        dt = xproj.dtype
        # Gate-major layout: A[t] is (3, B, H) (r, z, n), so every per-gate op of a step runs on a contiguous
        # block (NumPy runs an op on a (B, H) column slice of (B, 3H) several times slower; issue 20, as
        # LSTMSeq). wt[k] = (W_hh rows of gate k)^T, C-contiguous (H, H): the step's h W_hh^T is one batched GEMM
        # (B, H) x (3, H, H) -> (3, B, H).
        X = xproj.reshape(T, B, 3, H)
        A = recycled_empty((T, 3, B, H), dt, xproj)
        HN = recycled_empty((T, B, H), dt, xproj)  # W_hn h + b_hn
        Y = recycled_empty((T, B, H), dt, xproj)
        HP = xp.empty((T, B, H), dt) if mask is not None else None
        wt = xp.ascontiguousarray(w_hh.reshape(3, H, H).transpose(0, 2, 1))
        bh = b_hh.reshape(3, 1, H)
        gh = xp.empty((3, B, H), dt)
        h = h0
        for t in self._steps(T):
            xt = X[t]
            a = A[t]
            xp.matmul(h, wt, out=gh)
            gh += bh
            for k in (0, 1):
                xp.add(xt[:, k], gh[k], out=a[k])
            _sigmoid_(a[:2])
            HN[t] = gh[2]
            n = a[2]
            xp.multiply(a[0], gh[2], out=n)
            n += xt[:, 2]
            xp.tanh(n, out=n)
            if mask is not None:
                HP[t] = h
            yt = Y[t]
            # h' = n + z (h - n)
            xp.subtract(h, n, out=yt)
            yt *= a[1]
            yt += n
            h = _carry_(yt, h, mask, t)
        self.saved = (A, HN, HP, Y)
        return Y, xp.array(h, dtype=dt)

    def backward_array(self, gy, ghT):  # kept: benchmarks/backward_array_shape.py
        xp = self.xp
        A, HN, HP, Y = self.saved
        ins = self.inputs
        w_hh = ins[1]._data
        T, _, B, H = A.shape
        G = 3 * H
        dt = A.dtype
        mask = self.mask
        if HP is None:
            HP = _prev_states(Y, ins[3]._data, self.reverse)
        r, z, n = A[:, 0], A[:, 1], A[:, 2]
        # Step-independent factors for all steps at once: d n_pre = dh (1-z)(1-n^2),
        # d z_pre = dh (h_{t-1} - n) z(1-z), d r_pre = d n_pre (W_hn h + b_hn) r(1-r), d hn = d n_pre r.
        # Computed in place (three arrays the size of the sequence, no further temporaries).
        P1 = xp.multiply(n, n)
        xp.subtract(1, P1, out=P1)
        S = xp.subtract(1, z)
        P1 *= S
        P2 = xp.subtract(HP, n)
        S *= z
        P2 *= S
        P3 = S
        xp.subtract(1, r, out=P3)
        P3 *= r
        P3 *= HN
        # d(pre-activations) of the W_hh products, per step in PyTorch's row order (B, 3H): the GEMMs take
        # them as they are; the n part of the input's gradient (dXn, before the reset gate) is kept apart
        dHH = recycled_empty((T, B, G), dt, A)
        dXn = recycled_empty((T, B, H), dt, A)
        dh = ghT
        tmp = xp.empty((B, H), dt)
        for t in reversed(list(self._steps(T))):
            dh_t = dh + gy[t]
            keep = _uncarry_(dh_t, dh, mask, t)
            dhh = dHH[t]
            dn = dXn[t]
            xp.multiply(dh_t, P1[t], out=dn)
            xp.multiply(dh_t, P2[t], out=dhh[:, H:2 * H])
            xp.multiply(dn, P3[t], out=dhh[:, :H])
            xp.multiply(dn, r[t], out=dhh[:, 2 * H:])
            dh = dhh @ w_hh
            xp.multiply(dh_t, z[t], out=tmp)
            dh += tmp
            if keep is not None:
                dh += keep
        need = self.needs_input_grad
        dX = None
        if need[0]:
            dX = xp.empty((T, B, G), dt)
            dX[..., :2 * H] = dHH[..., :2 * H]
            dX[..., 2 * H:] = dXn
        gw = dHH.reshape(T * B, G).T @ HP.reshape(T * B, H) if need[1] else None
        gb = dHH.reshape(T * B, G).sum(axis=0) if need[2] else None
        return (dX, gw, gb, dh if need[3] else None)

    def compose(self, xproj, w_hh, b_hh, h0):
        from ..shape import stack
        H = w_hh.shape[1]
        mask = self.mask
        h = h0
        ys = [None] * xproj.shape[0]
        for t in self._steps(xproj.shape[0]):
            xt = xproj[t]
            hh = h @ w_hh.T + b_hh
            r = (xt[:, :H] + hh[:, :H]).sigmoid()
            z = (xt[:, H:2 * H] + hh[:, H:2 * H]).sigmoid()
            n = (xt[:, 2 * H:] + r * hh[:, 2 * H:]).tanh()
            hn = n + z * (h - n)
            ys[t], h = _carry(mask, t, hn, h)
        return stack(ys, 0), h

