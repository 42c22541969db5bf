"""Fused whole-sequence recurrent kernels: LSTM, GRU and Elman RNN forward + BPTT (textbook 10.2.2, 10.10).

One autograd Function runs the whole time loop: the input projection ``xproj`` (T, B, G*H),
computed by the caller as one GEMM for all steps, is added to one GEMM per step
``h W_hh^T`` for all gates. ``backward_array`` is a hand-written back-propagation through
time over the saved gate activations (textbook 10.2.2, eqs. 10.18-10.28), with the weight
gradient ``dW_hh = sum_t dA_t^T h_{t-1}`` as one GEMM after the loop. ``backward`` (used
only when a graph is recorded, e.g. double backward) recomputes the sequence with
differentiable shendu ops and differentiates it, so higher derivatives stay exact.

Gate layouts follow PyTorch: LSTM rows (i, f, g, o), GRU rows (r, z, n) with
n = tanh(x_n + r * (W_hn h + b_hn)). ``mask`` (T, B, 1) of 0/1 marks real steps: a padded
step leaves h (and c) unchanged and outputs zeros (PyTorch's packed-sequence semantics;
run in reverse this starts each sequence at its own last real step). The mask lives on the
device of the inputs. The kernels compute with ``self.xp``, the namespace of the inputs.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import _wrap
from ..backend import device_of, namespace_of, to_device


def _sigmoid_(a):
    """In-place logistic sigmoid via tanh (no overflow): s = 0.5 tanh(a/2) + 0.5."""
    a *= 0.5
    namespace_of(a).tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


class _SeqBase(Function):
    """Shared recompute-and-differentiate ``backward`` for graph-recording passes."""

    n_state = 1

    def __init__(self, mask=None, reverse=False):
        self.mask = mask  # array (T, B, 1) or None
        self.reverse = reverse

    def backward(self, *gys):
        from .. import autograd
        from ..autograd.grad_mode import enable_grad

        ins = self.inputs
        need = self.needs_input_grad
        idx = [i for i, n in enumerate(need) if n]
        with enable_grad():
            outs = self.compose(*ins)
            pairs = [(o, g) for o, g in zip(outs, gys) if o.requires_grad]
            gs = autograd.grad([o for o, _ in pairs], [ins[i] for i in idx], grad_outputs=[g for _, g in pairs],
                               create_graph=True, allow_unused=True)
        res = [None] * len(ins)
        for i, g in zip(idx, gs):
            res[i] = g
        return tuple(res)

    def _mask_on(self, like):
        """The mask on the device of array ``like`` (a host mask given with device inputs is copied once)."""
        mask = self.mask
        if mask is not None and type(like) is not np.ndarray and type(mask) is np.ndarray:
            mask = self.mask = to_device(mask, device_of(like))
        return mask

    def _steps(self, T):
        return range(T - 1, -1, -1) if self.reverse else range(T)

    def compose(self, *ins):  # pragma: no cover - abstract
        raise NotImplementedError


def _prev_states(Y, h0, reverse):
    """h_{t-1} for every step t (T, B, H) of an unmasked run: the outputs shifted by one step."""
    P = namespace_of(Y).empty_like(Y)
    if reverse:
        P[:-1] = Y[1:]
        P[-1] = h0
    else:
        P[1:] = Y[:-1]
        P[0] = h0
    return P


def _masked(m, new, old):
    """m * new + (1 - m) * old with differentiable ops (m a constant 0/1 array)."""
    mt = _wrap(m)
    return new * mt + old * (1.0 - mt)


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
        # so one tanh per step covers all four gates.
        scale = xp.full(G, 0.5, dt)
        scale[2 * H:3 * H] = 1
        xs = xproj * scale
        wT = (w_hh * scale[:, None]).T
        h, c = h0, c0
        tmp = xp.empty((B, H), dt)
        for t in self._steps(T):
            a = A[t]
            xp.matmul(h, wT, out=a)
            a += xs[t]
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
            if mask is not None:
                m = mask[t]
                yt *= m
                ct *= m
                h = yt + h * (1 - m)
                c = ct + c * (1 - m)
            else:
                h, c = yt, ct
        self.saved = (A, C, TC, HP, CP, Y) if mask is not None else (A, C, TC, None, None, Y)
        return Y, xp.array(h, dtype=dt), xp.array(c, dtype=dt)

    def backward_array(self, gy, ghT, gcT):
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
        Q = xp.empty((T, B, 4, H), A.dtype)
        xp.multiply(g, i * (1 - i), out=Q[:, :, 0])
        xp.multiply(CP, f * (1 - f), out=Q[:, :, 1])
        xp.multiply(i, 1 - g * g, out=Q[:, :, 2])
        xp.multiply(TC, o * (1 - o), out=Q[:, :, 3])
        K = o * (1 - TC * TC)
        dA = xp.empty((T, B, 4, H), A.dtype)
        dh = ghT
        dc = gcT.copy()
        tmp = xp.empty((B, H), A.dtype)
        for t in reversed(list(self._steps(T))):
            dh_t = dh + gy[t]
            if mask is not None:
                m = mask[t]
                keep_h = dh * (1 - m)
                keep_c = dc * (1 - m)
                dh_t *= m
                dc = dc * m
            d4 = dA[t]
            xp.multiply(dh_t, Q[t, :, 3], out=d4[:, 3])
            xp.multiply(dh_t, K[t], out=tmp)
            dc += tmp
            xp.multiply(dc[:, None, :], Q[t, :, :3], out=d4[:, :3])
            dc *= f[t]
            dh = d4.reshape(B, G) @ w_hh
            if mask is not None:
                dh += keep_h
                dc += keep_c
        dA = dA.reshape(T, B, G)
        need = self.needs_input_grad
        gw = None
        if need[1]:
            gw = dA.reshape(T * B, G).T @ HP.reshape(T * B, H)
        return (dA if need[0] else None, gw, dh if need[2] else None, dc if need[3] else None)

    def compose(self, xproj, w_hh, h0, c0):
        from ..ops import stack
        H = w_hh.shape[1]
        mask = self.mask
        h, c = h0, c0
        ys = [None] * xproj.shape[0]
        for t in self._steps(xproj.shape[0]):
            a = xproj[t] + h @ w_hh.T
            i, f, g, o = a[:, :H].sigmoid(), a[:, H:2 * H].sigmoid(), a[:, 2 * H:3 * H].tanh(), a[:, 3 * H:].sigmoid()
            cn = f * c + i * g
            hn = o * cn.tanh()
            if mask is not None:
                ys[t] = hn * _wrap(mask[t])
                h, c = _masked(mask[t], hn, h), _masked(mask[t], cn, c)
            else:
                ys[t], h, c = hn, hn, cn
        return stack(ys, 0), h, c


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
        A = xp.empty((T, B, G), dt)   # r, z, n
        HN = xp.empty((T, B, H), dt)  # W_hn h + b_hn
        HP = xp.empty((T, B, H), dt) if mask is not None else None
        Y = xp.empty((T, B, H), dt)
        wT = w_hh.T
        hh = xp.empty((B, G), dt)
        h = h0
        for t in self._steps(T):
            xt = xproj[t]
            a = A[t]
            xp.matmul(h, wT, out=hh)
            hh += b_hh
            xp.add(xt[:, :2 * H], hh[:, :2 * H], out=a[:, :2 * H])
            _sigmoid_(a[:, :2 * H])
            HN[t] = hh[:, 2 * H:]
            n = a[:, 2 * H:]
            xp.multiply(a[:, :H], hh[:, 2 * H:], out=n)
            n += xt[:, 2 * H:]
            xp.tanh(n, out=n)
            if mask is not None:
                HP[t] = h
            z = a[:, H:2 * H]
            yt = Y[t]
            # h' = n + z (h - n)
            xp.subtract(h, n, out=yt)
            yt *= z
            yt += n
            if mask is not None:
                m = mask[t]
                yt *= m
                h = yt + h * (1 - m)
            else:
                h = yt
        self.saved = (A, HN, HP, Y)
        return Y, xp.array(h, dtype=dt)

    def backward_array(self, gy, ghT):
        xp = self.xp
        A, HN, HP, Y = self.saved
        ins = self.inputs
        w_hh = ins[1]._data
        T, B, G = A.shape
        H = G // 3
        mask = self.mask
        if HP is None:
            HP = _prev_states(Y, ins[3]._data, self.reverse)
        r, z, n = A[..., :H], A[..., H:2 * H], A[..., 2 * H:]
        # Step-independent factors for all steps at once: d n_pre = dh (1-z)(1-n^2),
        # d z_pre = dh (h_{t-1} - n) z(1-z), d r_pre = d n_pre (W_hn h + b_hn) r(1-r), d hn = d n_pre r.
        P1 = (1 - z) * (1 - n * n)
        P2 = (HP - n) * (z * (1 - z))
        P3 = HN * (r * (1 - r))
        dHH = xp.empty_like(A)
        dXn = xp.empty((T, B, H), A.dtype)
        dh = ghT
        tmp = xp.empty((B, H), A.dtype)
        for t in reversed(list(self._steps(T))):
            dh_t = dh + gy[t]
            if mask is not None:
                m = mask[t]
                keep = dh * (1 - m)
                dh_t *= m
            dhh = dHH[t]
            dn = dXn[t]
            xp.multiply(dh_t, P1[t], out=dn)
            xp.multiply(dh_t, P2[t], out=dhh[:, H:2 * H])
            xp.multiply(dn, P3[t], out=dhh[:, :H])
            xp.multiply(dn, r[t], out=dhh[:, 2 * H:])
            dh = dhh @ w_hh
            xp.multiply(dh_t, z[t], out=tmp)
            dh += tmp
            if mask is not None:
                dh += keep
        need = self.needs_input_grad
        dX = None
        if need[0]:
            dX = xp.empty_like(A)
            dX[..., :2 * H] = dHH[..., :2 * H]
            dX[..., 2 * H:] = dXn
        gw = dHH.reshape(T * B, G).T @ HP.reshape(T * B, H) if need[1] else None
        gb = dHH.reshape(T * B, G).sum(axis=0) if need[2] else None
        return (dX, gw, gb, dh if need[3] else None)

    def compose(self, xproj, w_hh, b_hh, h0):
        from ..ops import stack
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
            if mask is not None:
                ys[t] = hn * _wrap(mask[t])
                h = _masked(mask[t], hn, h)
            else:
                ys[t], h = hn, hn
        return stack(ys, 0), h


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
        wT = w_hh.T
        h = h0
        for t in self._steps(T):
            yt = Y[t]
            xp.matmul(h, wT, out=yt)
            yt += xproj[t]
            if self.relu:
                xp.maximum(yt, 0, out=yt)
            else:
                xp.tanh(yt, out=yt)
            HP[t] = h
            if mask is not None:
                m = mask[t]
                yt *= m
                h = yt + h * (1 - m)
            else:
                h = yt
        self.saved = (Y, HP)
        return Y, xp.array(h, dtype=xproj.dtype)

    def backward_array(self, gy, ghT):
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
            if mask is not None:
                m = mask[t]
                keep = dh * (1 - m)
                d *= m
            y = Y[t]
            if self.relu:
                d *= y > 0
            else:
                d *= 1 - y * y
            dh = d @ w_hh
            if mask is not None:
                dh += keep
        need = self.needs_input_grad
        gw = dA.reshape(T * B, H).T @ HP.reshape(T * B, H) if need[1] else None
        return (dA if need[0] else None, gw, dh if need[2] else None)

    def compose(self, xproj, w_hh, h0):
        from ..ops import stack
        mask = self.mask
        h = h0
        ys = [None] * xproj.shape[0]
        for t in self._steps(xproj.shape[0]):
            a = xproj[t] + h @ w_hh.T
            hn = a.relu() if self.relu else a.tanh()
            if mask is not None:
                ys[t] = hn * _wrap(mask[t])
                h = _masked(mask[t], hn, h)
            else:
                ys[t], h = hn, hn
        return stack(ys, 0), h
