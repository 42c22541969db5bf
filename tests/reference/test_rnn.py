"""nn.LSTM / nn.GRU (fused BPTT kernels and the composed cells) against shendu.reference.rnn's gate equations
and hand-written BPTT, in float64; the reference's BPTT against a finite difference."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.reference import rnn as R


def _run_layer(mode, fused, T, B, I, H, seed):
    rng = np.random.default_rng(seed)
    layer = (nn.LSTM if mode == "LSTM" else nn.GRU)(I, H, dtype="float64", fused=fused)
    x = rng.standard_normal((T, B, I))
    h0, c0 = rng.standard_normal((B, H)), rng.standard_normal((B, H))
    xt, h0t, c0t = (sd.tensor(a, requires_grad=True) for a in (x, h0, c0))
    dys, dh, dc = rng.standard_normal((T, B, H)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    if mode == "LSTM":
        y, (hT, cT) = layer(xt, (h0t.unsqueeze(0), c0t.unsqueeze(0)))
        loss = (y * sd.tensor(dys)).sum() + (hT[0] * sd.tensor(dh)).sum() + (cT[0] * sd.tensor(dc)).sum()
    else:
        y, hT = layer(xt, h0t.unsqueeze(0))
        loss = (y * sd.tensor(dys)).sum() + (hT[0] * sd.tensor(dh)).sum()
    loss.backward()
    P = {n: layer._parameters[n + "_l0"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    w = {n: p.numpy() for n, p in P.items()}
    if mode == "LSTM":
        ys, h, c, caches = R.lstm_forward(x, h0, c0, w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"])
        ref = R.lstm_bptt(dys, dh, dc, caches, w["weight_ih"], w["weight_hh"])
        np.testing.assert_allclose(cT.numpy()[0], c, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(c0t.grad.numpy(), ref["dc0"], rtol=1e-9, atol=1e-11)
    else:
        ys, h, caches = R.gru_forward(x, h0, w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"])
        ref = R.gru_bptt(dys, dh, caches, w["weight_ih"], w["weight_hh"])
    np.testing.assert_allclose(y.numpy(), ys, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hT.numpy()[0], h, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), ref["dxs"], rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(h0t.grad.numpy(), ref["dh0"], rtol=1e-9, atol=1e-11)
    for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        np.testing.assert_allclose(P[n].grad.numpy(), ref["d" + n.replace("weight", "w").replace("bias", "b")],
                                   rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("T, B, I, H", [(1, 1, 2, 3), (5, 3, 4, 2), (7, 2, 3, 5)])
def test_recurrent_layer_matches_reference_bptt(mode, fused, T, B, I, H):
    _run_layer(mode, fused, T, B, I, H, seed=T * 10 + H)


def test_cells_match_reference_steps():
    rng = np.random.default_rng(2)
    B, I, H = 3, 4, 5
    x, h, c = rng.standard_normal((B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    w4 = [rng.standard_normal(s) for s in ((4 * H, I), (4 * H, H), (4 * H,), (4 * H,))]
    w3 = [rng.standard_normal(s) for s in ((3 * H, I), (3 * H, H), (3 * H,), (3 * H,))]
    t = [sd.tensor(a) for a in (x, h, c)]
    h2, c2 = F.lstm_cell(t[0], (t[1], t[2]), *[sd.tensor(a) for a in w4])
    rh, rc, _ = R.lstm_step(x, h, c, *w4)
    np.testing.assert_allclose(h2.numpy(), rh, rtol=1e-12)
    np.testing.assert_allclose(c2.numpy(), rc, rtol=1e-12)
    g2 = F.gru_cell(t[0], t[1], *[sd.tensor(a) for a in w3])
    np.testing.assert_allclose(g2.numpy(), R.gru_step(x, h, *w3)[0], rtol=1e-12)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_reference_bptt_matches_finite_differences(mode):
    """The hand-written BPTT is right on its own: d(loss)/d W_hh[0, 1] by central differences."""
    rng = np.random.default_rng(3)
    T, B, I, H = 4, 2, 3, 2
    G = 4 if mode == "LSTM" else 3
    x, h0, c0 = rng.standard_normal((T, B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    w = [rng.standard_normal(s) * 0.7 for s in ((G * H, I), (G * H, H), (G * H,), (G * H,))]
    dys = rng.standard_normal((T, B, H))

    def loss(w_hh):
        if mode == "LSTM":
            return np.sum(R.lstm_forward(x, h0, c0, w[0], w_hh, w[2], w[3])[0] * dys)
        return np.sum(R.gru_forward(x, h0, w[0], w_hh, w[2], w[3])[0] * dys)

    if mode == "LSTM":
        caches = R.lstm_forward(x, h0, c0, *w)[3]
        g = R.lstm_bptt(dys, np.zeros((B, H)), np.zeros((B, H)), caches, w[0], w[1])["dw_hh"]
    else:
        caches = R.gru_forward(x, h0, *w)[2]
        g = R.gru_bptt(dys, np.zeros((B, H)), caches, w[0], w[1])["dw_hh"]
    e = np.zeros_like(w[1])
    for idx in [(0, 1), (G * H - 1, 0)]:
        e[:] = 0
        e[idx] = 1e-6
        fd = (loss(w[1] + e) - loss(w[1] - e)) / 2e-6
        assert abs(fd - g[idx]) < 1e-7 * max(1.0, abs(fd))


@pytest.mark.parametrize("fused", [True, False])
def test_elman_rnn_matches_reference_bptt(fused):
    rng = np.random.default_rng(4)
    T, B, I, H = 6, 3, 4, 5
    layer = nn.RNN(I, H, dtype="float64", fused=fused)
    x, h0 = rng.standard_normal((T, B, I)), rng.standard_normal((B, H))
    dys, dh = rng.standard_normal((T, B, H)), rng.standard_normal((B, H))
    xt, h0t = sd.tensor(x, requires_grad=True), sd.tensor(h0, requires_grad=True)
    y, hT = layer(xt, h0t.unsqueeze(0))
    ((y * sd.tensor(dys)).sum() + (hT[0] * sd.tensor(dh)).sum()).backward()
    P = {n: layer._parameters[n + "_l0"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    w = {n: p.numpy() for n, p in P.items()}
    ys, h, caches = R.rnn_forward(x, h0, w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"])
    ref = R.rnn_bptt(dys, dh, ys, caches, w["weight_ih"], w["weight_hh"])
    np.testing.assert_allclose(y.numpy(), ys, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), ref["dxs"], rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(h0t.grad.numpy(), ref["dh0"], rtol=1e-9, atol=1e-11)
    for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        np.testing.assert_allclose(P[n].grad.numpy(), ref["d" + n.replace("weight", "w").replace("bias", "b")],
                                   rtol=1e-9, atol=1e-11)


def test_textbook_bptt_worked_vector():
    """Notes W10.2 (eqs. 10.17-10.28): the hidden states, L = 3.61904748 and all five gradients."""
    W = np.array([[0.5, -0.3], [0.2, 0.4]])
    U = np.array([[1.0], [-1.0]])
    V = np.array([[1.0, -1.0], [0.5, 0.5], [-0.2, 0.3]])
    b, c = np.array([0.1, -0.1]), np.array([0.0, 0.1, -0.1])
    x, y = np.array([[1.0], [-0.5], [2.0]]), [0, 2, 1]
    L, hs, g = R.rnn_textbook_example(x, y, W, U, V, b, c, np.zeros(2))
    np.testing.assert_allclose(hs, [[0.80049902, -0.80049902], [0.23587279, 0.23540148],
                                    [0.97308399, -0.96098782]], rtol=1e-7)
    assert abs(L - 3.61904748) < 1e-7
    np.testing.assert_allclose(g["dW"], [[0.49301148, -0.48407003], [-0.28670956, 0.24267792]], rtol=1e-7)
    np.testing.assert_allclose(g["dU"], [[-0.25029336], [-0.00307891]], atol=1e-8)
    np.testing.assert_allclose(g["dV"], [[0.64937276, -0.49785143], [-0.61523666, 0.80293613],
                                         [-0.03413611, -0.3050847]], atol=1e-8)
    np.testing.assert_allclose(g["db"], [0.64616822, -0.40559799], rtol=1e-7)
    np.testing.assert_allclose(g["dc"], [0.84973691, -0.28419892, -0.56553799], rtol=1e-7)


def _ref_masked(mode, x, h0, c0, w, dys, dh, dc, lengths, reverse, nonlinearity="tanh"):
    """The reference run on each sequence alone, over its own length, in its own direction: a padded step keeps
    the state and outputs zeros, and a reversed sequence starts at its own last real step. -> (y, h_T, c_T,
    grads) with the weight gradients summed over the batch."""
    T, B, _ = x.shape
    H = h0.shape[1]
    y, hT, cT = np.zeros((T, B, H)), np.zeros((B, H)), np.zeros((B, H))
    g = {k: np.zeros_like(v) for k, v in zip(("dw_ih", "dw_hh", "db_ih", "db_hh"), w)}
    g.update(dxs=np.zeros_like(x), dh0=np.zeros_like(h0), dc0=np.zeros_like(c0))
    for b in range(B):
        n = lengths[b]
        order = slice(n - 1, None, -1) if reverse else slice(0, n)
        xb, dyb, s = x[order, b:b + 1], dys[order, b:b + 1], slice(b, b + 1)
        if mode == "LSTM":
            ys, h, c, caches = R.lstm_forward(xb, h0[s], c0[s], *w)
            r = R.lstm_bptt(dyb, dh[s], dc[s], caches, w[0], w[1])
            cT[b], g["dc0"][b] = c[0], r["dc0"][0]
        elif mode == "GRU":
            ys, h, caches = R.gru_forward(xb, h0[s], *w)
            r = R.gru_bptt(dyb, dh[s], caches, w[0], w[1])
        else:
            ys, h, caches = R.rnn_forward(xb, h0[s], *w, nonlinearity=nonlinearity)
            r = R.rnn_bptt(dyb, dh[s], ys, caches, w[0], w[1], nonlinearity=nonlinearity)
        y[order, b], hT[b] = ys[:, 0], h[0]
        g["dxs"][order, b], g["dh0"][b] = r["dxs"][:, 0], r["dh0"][0]
        for k in ("dw_ih", "dw_hh", "db_ih", "db_hh"):
            g[k] += r[k]
    return y, hT, cT, g


@pytest.mark.parametrize("mode, nonlinearity", [("LSTM", "tanh"), ("GRU", "tanh"), ("RNN", "tanh"), ("RNN", "relu")])
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, (5, 2, 3)])
def test_masked_and_reversed_kernels_match_the_reference_per_sequence(mode, nonlinearity, fused, reverse, lengths):
    """The fused kernels' masks (variable lengths) and reverse direction, and the Elman ReLU, against the
    reference run on each sequence alone (10.2.2 BPTT, 10.10 gates)."""
    from shendu.nn.functional.rnn import lengths_to_mask, recurrent_layer

    rng = np.random.default_rng(7)
    T, B, I, H = 5, 3, 4, 3
    G = {"LSTM": 4, "GRU": 3, "RNN": 1}[mode]
    x, h0, c0 = rng.standard_normal((T, B, I)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    w = [rng.standard_normal(s) * 0.5 for s in ((G * H, I), (G * H, H), (G * H,), (G * H,))]
    dys, dh, dc = rng.standard_normal((T, B, H)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    lens = (T,) * B if lengths is None else lengths
    ts = [sd.tensor(a, requires_grad=True) for a in [x, h0, c0] + w]
    mask = None if lengths is None else lengths_to_mask(np.array(lengths), T, np.float64)
    y, hT, cT = recurrent_layer(mode, ts[0], ts[1], ts[2] if mode == "LSTM" else None, *ts[3:], mask=mask,
                                reverse=reverse, fused=fused, nonlinearity=nonlinearity)
    loss = (y * sd.tensor(dys)).sum() + (hT * sd.tensor(dh)).sum()
    if mode == "LSTM":
        loss = loss + (cT * sd.tensor(dc)).sum()
    loss.backward()
    ry, rh, rc, g = _ref_masked(mode, x, h0, c0, w, dys, dh, dc, lens, reverse, nonlinearity)
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hT.numpy(), rh, rtol=1e-10, atol=1e-12)
    want = [g["dxs"], g["dh0"], g["dc0"], g["dw_ih"], g["dw_hh"], g["db_ih"], g["db_hh"]]
    if mode == "LSTM":
        np.testing.assert_allclose(cT.numpy(), rc, rtol=1e-10, atol=1e-12)
    else:
        assert ts[2].grad is None  # c0 is not an input of a GRU or an Elman RNN
        ts, want = ts[:2] + ts[3:], want[:2] + want[3:]
    for t, b in zip(ts, want):
        np.testing.assert_allclose(t.grad.numpy(), b, rtol=1e-9, atol=1e-11)
