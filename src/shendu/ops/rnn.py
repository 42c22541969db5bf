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
run in reverse this starts each sequence at its own last real step).
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import _wrap
from ..backend import xp


def _sigmoid_(a):
    """In-place logistic sigmoid via tanh (no overflow): s = 0.5 tanh(a/2) + 0.5."""
    a *= 0.5
    xp.tanh(a, out=a)
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

    def _steps(self, T):
        return range(T - 1, -1, -1) if self.reverse else range(T)

    def compose(self, *ins):  # pragma: no cover - abstract
        raise NotImplementedError


def _masked(m, new, old):
    """m * new + (1 - m) * old with differentiable ops (m a constant 0/1 array)."""
    mt = _wrap(m)
    return new * mt + old * (1.0 - mt)


class LSTMSeq(_SeqBase):
    """LSTM over a sequence. Inputs xproj (T,B,4H) (= x W_ih^T + b_ih + b_hh), w_hh (4H,H),
    h0, c0 (B,H); outputs y (T,B,H), h_T, c_T (textbook 10.10.1, eqs. 10.40-10.44, tanh input unit)."""

    def forward(self, xproj, w_hh, h0, c0):
        T, B, G = xproj.shape
        H = G // 4
        mask = self.mask
        dt = xproj.dtype
        A = xp.empty((T, B, G), dt)  # gate activations i, f, g, o
        C = xp.empty((T, B, H), dt)
        TC = xp.empty((T, B, H), dt)
        Y = xp.empty((T, B, H), dt)
        HP = xp.empty((T, B, H), dt)  # h_{t-1} per step (for dW_hh)
        CP = xp.empty((T, B, H), dt)
        wT = w_hh.T
        h, c = h0, c0
        tmp = xp.empty((B, H), dt)
        for t in self._steps(T):
            a = A[t]
            xp.matmul(h, wT, out=a)
            a += xproj[t]
            _sigmoid_(a[:, :2 * H])
            xp.tanh(a[:, 2 * H:3 * H], out=a[:, 2 * H:3 * H])
            _sigmoid_(a[:, 3 * H:])
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
        self.saved = (A, C, TC, HP, CP)
        return Y, xp.array(h, dtype=dt), xp.array(c, dtype=dt)

    def backward_array(self, gy, ghT, gcT):
        A, C, TC, HP, CP = self.saved
        w_hh = self.inputs[1]._data
        T, B, G = A.shape
        H = G // 4
        mask = self.mask
        dA = xp.empty_like(A)
        dh = ghT.copy()
        dc = gcT.copy()
        tmp = xp.empty((B, H), A.dtype)
        for t in reversed(list(self._steps(T))):
            a = A[t]
            i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
            dh_t = dh + gy[t]
            if mask is not None:
                m = mask[t]
                keep_h = dh * (1 - m)
                keep_c = dc * (1 - m)
                dh_t *= m
                dc = dc * m
            tc = TC[t]
            d = dA[t]
            do = d[:, 3 * H:]
            xp.multiply(dh_t, tc, out=do)
            # dc += dh * o * (1 - tanh(c)^2)
            xp.multiply(tc, tc, out=tmp)
            xp.subtract(1, tmp, out=tmp)
            tmp *= o
            tmp *= dh_t
            dc = dc + tmp
            xp.multiply(dc, g, out=d[:, :H])       # d i
            xp.multiply(dc, CP[t], out=d[:, H:2 * H])  # d f
            xp.multiply(dc, i, out=d[:, 2 * H:3 * H])  # d g
            dc *= f
            # through the activations
            s = d[:, :2 * H]
            s *= a[:, :2 * H]
            s *= 1 - a[:, :2 * H]
            do *= o
            do *= 1 - o
            dg = d[:, 2 * H:3 * H]
            dg *= 1 - g * g
            dh = d @ w_hh
            if mask is not None:
                dh += keep_h
                dc += keep_c
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
    n = tanh(x_n + r (W_hn h + b_hn)), h' = (1 - z) n + z h (textbook 10.10.2, eqs. 10.45-10.47)."""

    def forward(self, xproj, w_hh, b_hh, h0):
        T, B, G = xproj.shape
        H = G // 3
        mask = self.mask
        dt = xproj.dtype
        A = xp.empty((T, B, G), dt)   # r, z, n
        HN = xp.empty((T, B, H), dt)  # W_hn h + b_hn
        HP = xp.empty((T, B, H), dt)
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
        self.saved = (A, HN, HP)
        return Y, xp.array(h, dtype=dt)

    def backward_array(self, gy, ghT):
        A, HN, HP = self.saved
        w_hh = self.inputs[1]._data
        T, B, G = A.shape
        H = G // 3
        mask = self.mask
        dX = xp.empty_like(A)
        dHH = xp.empty_like(A)
        dh = ghT.copy()
        for t in reversed(list(self._steps(T))):
            a = A[t]
            r, z, n = a[:, :H], a[:, H:2 * H], a[:, 2 * H:]
            hp = HP[t]
            dh_t = dh + gy[t]
            if mask is not None:
                m = mask[t]
                keep = dh * (1 - m)
                dh_t *= m
            dx = dX[t]
            dhh = dHH[t]
            dn = dx[:, 2 * H:]
            xp.subtract(1, z, out=dn)
            dn *= dh_t
            dn *= 1 - n * n                      # d n_pre  (= d x_n)
            dz = dx[:, H:2 * H]
            xp.subtract(hp, n, out=dz)
            dz *= dh_t
            dz *= z
            dz *= 1 - z                          # d z_pre
            dhh[:, H:2 * H] = dz
            xp.multiply(dn, r, out=dhh[:, 2 * H:])  # d (W_hn h + b_hn)
            dr = dx[:, :H]
            xp.multiply(dn, HN[t], out=dr)
            dr *= r
            dr *= 1 - r                          # d r_pre
            dhh[:, :H] = dr
            dh = dhh @ w_hh
            dh += dh_t * z
            if mask is not None:
                dh += keep
        need = self.needs_input_grad
        gw = dHH.reshape(T * B, G).T @ HP.reshape(T * B, H) if need[1] else None
        gb = dHH.reshape(T * B, G).sum(axis=0) if need[2] else None
        return (dX if need[0] else None, gw, gb, dh if need[3] else None)

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
    xproj (T,B,H) includes both biases; act is 'tanh' or 'relu'. Outputs y, h_T."""

    def __init__(self, mask=None, reverse=False, nonlinearity="tanh"):
        super().__init__(mask, reverse)
        self.relu = nonlinearity == "relu"

    def forward(self, xproj, w_hh, h0):
        T, B, H = xproj.shape
        mask = self.mask
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
