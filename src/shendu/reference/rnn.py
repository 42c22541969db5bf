"""The RNN of eq. 10.8, LSTM and GRU steps as the gate equations of textbook 10.10, and back-propagation
through time by hand (textbook 10.2.2, eqs. 10.17-10.28). Reference for shendu.ops.rnn (ElmanSeq, LSTMSeq,
GRUSeq) and nn.RNN / nn.LSTM / nn.GRU.

PyTorch weight layout and gate order: W_ih (G*H, in), W_hh (G*H, H), b_ih, b_hh (G*H,);
LSTM gates (i, f, g, o), GRU gates (r, z, n). Sequences are (T, B, in); states (B, H).

LSTM (10.10.1, eqs. 10.40-10.44, with PyTorch's tanh input unit g):
    i = sigm(a_i), f = sigm(a_f), g = tanh(a_g), o = sigm(a_o),  a = W_ih x + b_ih + W_hh h + b_hh
    c' = f * c + i * g;   h' = o * tanh(c')
GRU (10.10.2, eqs. 10.45-10.47, PyTorch's reset-after form of the candidate n):
    r = sigm(a_r), z = sigm(a_z),  n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h
BPTT (10.2.2): walk t = T-1 .. 0; the gradient reaching h_t is dy_t plus what h_{t+1} sends back; each
step's local derivatives (chain rule through the gate equations) give the step's weight gradients, which
are summed over time because the weights are shared.
A reversed run, or a batch of sequences of different lengths (the fused kernels' mask), is these same
functions run on each sequence alone, in its direction, over its own length (tests/reference/test_rnn.py).
"""
from __future__ import annotations

import numpy as np


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def rnn_textbook_example(x, y, W, U, V, b, c, h0):
    """The RNN of eq. 10.8 with a softmax output and NLL loss, and its gradients by eqs. 10.17-10.28, in the
    book's notation (one sequence, column vectors): a_t = b + W h_{t-1} + U x_t, h_t = tanh(a_t),
    o_t = c + V h_t, L = sum_t -log softmax(o_t)[y_t]. x (T, in), y (T,) class indices.
    Returns (L, hs (T, H), dict of dW, dU, dV, db, dc)."""
    T = len(y)
    hs, yhat, h, L = [], [], h0, 0.0
    for t in range(T):  # forward, eq. 10.8-10.11
        h = np.tanh(b + W @ h + U @ x[t])
        o = c + V @ h
        p = np.exp(o - o.max())
        p /= p.sum()
        L -= np.log(p[y[t]])
        hs.append(h)
        yhat.append(p)
    dW, dU, dV, db, dc = (np.zeros_like(a) for a in (W, U, V, b, c))
    dh_next = np.zeros_like(h0)  # (diag(1 - h_{t+1}^2) grad_{h_{t+1}} L), zero after the last step
    for t in reversed(range(T)):
        do = yhat[t].copy()
        do[y[t]] -= 1.0  # eq. 10.18
        dh = V.T @ do + W.T @ dh_next  # eqs. 10.19 and 10.21
        da = (1.0 - hs[t] ** 2) * dh  # diag(1 - h_t^2) grad_{h_t} L
        h_prev = hs[t - 1] if t > 0 else h0
        dW += np.outer(da, h_prev)  # eq. 10.22-10.23
        dU += np.outer(da, x[t])  # eq. 10.24-10.25
        dV += np.outer(do, hs[t])  # eq. 10.26
        db += da  # eq. 10.27
        dc += do  # eq. 10.28
        dh_next = da
    return L, np.array(hs), dict(dW=dW, dU=dU, dV=dV, db=db, dc=dc)


def rnn_forward(xs, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
    """Elman RNN (eq. 10.8, PyTorch layout) over xs (T, B, in): h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)
    (``nonlinearity='relu'``: max(0, .)). Returns ys (T, B, H), h_T and the caches."""
    act = np.tanh if nonlinearity == "tanh" else (lambda a: np.maximum(a, 0.0))
    h, ys, caches = h0, [], []
    for t in range(xs.shape[0]):
        caches.append((xs[t], h))
        h = act(xs[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        ys.append(h)
    return np.stack(ys), h, caches


def rnn_bptt(dys, dhT, ys, caches, w_ih, w_hh, nonlinearity="tanh"):
    """BPTT for rnn_forward (eqs. 10.21-10.27 with a gradient dys on every h_t): -> dict of dxs, dh0, dw_ih,
    dw_hh, db_ih, db_hh. The activation's derivative from its output: tanh' = 1 - h^2, relu' = [h > 0]."""
    dw_ih, dw_hh, db = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros(w_ih.shape[0], dtype=w_ih.dtype)
    dh, dxs = dhT, [None] * len(caches)
    for t in reversed(range(len(caches))):
        x, h_prev = caches[t]
        dact = 1.0 - ys[t] ** 2 if nonlinearity == "tanh" else (ys[t] > 0).astype(ys[t].dtype)
        da = dact * (dys[t] + dh)
        dw_ih += da.T @ x
        dw_hh += da.T @ h_prev
        db += da.sum(axis=0)
        dxs[t], dh = da @ w_ih, da @ w_hh
    return dict(dxs=np.stack(dxs), dh0=dh, dw_ih=dw_ih, dw_hh=dw_hh, db_ih=db, db_hh=db.copy())


def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One LSTM step: returns h', c' and the cache backward needs."""
    H = h.shape[1]
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    i = sigmoid(a[:, 0:H])
    f = sigmoid(a[:, H:2 * H])
    g = np.tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:4 * H])
    c2 = f * c + i * g
    h2 = o * np.tanh(c2)
    return h2, c2, (x, h, c, i, f, g, o, c2)


def lstm_step_backward(dh2, dc2, cache, w_ih, w_hh):
    """Chain rule through one LSTM step: returns dx, dh, dc and (dW_ih, dW_hh, db)."""
    x, h, c, i, f, g, o, c2 = cache
    tc = np.tanh(c2)
    dc2 = dc2 + dh2 * o * (1.0 - tc * tc)  # c' reaches the loss directly and through h' = o tanh(c')
    do = dh2 * tc
    di, dg, df, dc = dc2 * g, dc2 * i, dc2 * c, dc2 * f
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)], axis=1)
    return da @ w_ih, da @ w_hh, dc, (da.T @ x, da.T @ h, da.sum(axis=0))


def lstm_forward(xs, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """Run the LSTM over xs (T, B, in): returns ys (T, B, H), h_T, c_T and the per-step caches."""
    h, c, ys, caches = h0, c0, [], []
    for t in range(xs.shape[0]):
        h, c, cache = lstm_step(xs[t], h, c, w_ih, w_hh, b_ih, b_hh)
        ys.append(h)
        caches.append(cache)
    return np.stack(ys), h, c, caches


def lstm_bptt(dys, dhT, dcT, caches, w_ih, w_hh):
    """BPTT for lstm_forward: dys (T, B, H), dhT, dcT (B, H) -> dict of dxs, dh0, dc0, dw_ih, dw_hh, db
    (db is the gradient of b_ih and of b_hh: both enter the gates the same way)."""
    dw_ih, dw_hh, db = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros(w_ih.shape[0], dtype=w_ih.dtype)
    dh, dc = dhT, dcT
    dxs = [None] * len(caches)
    for t in reversed(range(len(caches))):
        dxs[t], dh, dc, (gw_ih, gw_hh, gb) = lstm_step_backward(dys[t] + dh, dc, caches[t], w_ih, w_hh)
        dw_ih += gw_ih
        dw_hh += gw_hh
        db += gb
    return dict(dxs=np.stack(dxs), dh0=dh, dc0=dc, dw_ih=dw_ih, dw_hh=dw_hh, db_ih=db, db_hh=db.copy())


def gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """One GRU step: returns h' and the cache backward needs."""
    H = h.shape[1]
    gi = x @ w_ih.T + b_ih  # input side of the three gates
    gh = h @ w_hh.T + b_hh  # hidden side
    r = sigmoid(gi[:, 0:H] + gh[:, 0:H])
    z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    hn = gh[:, 2 * H:3 * H]  # W_hn h + b_hn, gated by r
    n = np.tanh(gi[:, 2 * H:3 * H] + r * hn)
    h2 = (1.0 - z) * n + z * h
    return h2, (x, h, r, z, n, hn)


def gru_step_backward(dh2, cache, w_ih, w_hh):
    """Chain rule through one GRU step: returns dx, dh and (dW_ih, dW_hh, db_ih, db_hh)."""
    x, h, r, z, n, hn = cache
    dn = dh2 * (1.0 - z)
    dz = dh2 * (h - n)
    dh = dh2 * z
    dan = dn * (1.0 - n * n)
    dr = dan * hn
    dar, daz = dr * r * (1 - r), dz * z * (1 - z)
    dgi = np.concatenate([dar, daz, dan], axis=1)
    dgh = np.concatenate([dar, daz, dan * r], axis=1)
    dh = dh + dgh @ w_hh
    return dgi @ w_ih, dh, (dgi.T @ x, dgh.T @ h, dgi.sum(axis=0), dgh.sum(axis=0))


def gru_forward(xs, h0, w_ih, w_hh, b_ih, b_hh):
    """Run the GRU over xs (T, B, in): returns ys (T, B, H), h_T and the per-step caches."""
    h, ys, caches = h0, [], []
    for t in range(xs.shape[0]):
        h, cache = gru_step(xs[t], h, w_ih, w_hh, b_ih, b_hh)
        ys.append(h)
        caches.append(cache)
    return np.stack(ys), h, caches


def gru_bptt(dys, dhT, caches, w_ih, w_hh):
    """BPTT for gru_forward: -> dict of dxs, dh0, dw_ih, dw_hh, db_ih, db_hh."""
    grads = [np.zeros_like(w_ih), np.zeros_like(w_hh),
             np.zeros(w_ih.shape[0], dtype=w_ih.dtype), np.zeros(w_hh.shape[0], dtype=w_hh.dtype)]
    dh = dhT
    dxs = [None] * len(caches)
    for t in reversed(range(len(caches))):
        dxs[t], dh, step = gru_step_backward(dys[t] + dh, caches[t], w_ih, w_hh)
        for acc, g in zip(grads, step):
            acc += g
    return dict(dxs=np.stack(dxs), dh0=dh, dw_ih=grads[0], dw_hh=grads[1], db_ih=grads[2], db_hh=grads[3])
