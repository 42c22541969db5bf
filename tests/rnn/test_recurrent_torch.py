"""RNN/LSTM/GRU against torch.nn with weights copied 1:1: forward, state and gradients (float64)."""
import numpy as np
import pytest

import shendu as sd
from shendu.nn.layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

torch = pytest.importorskip("torch")

CLS = {"RNN": (RNN, torch.nn.RNN), "LSTM": (LSTM, torch.nn.LSTM), "GRU": (GRU, torch.nn.GRU)}


def _pair(mode, **kw):
    ours, theirs = CLS[mode]
    m = ours(3, 5, dtype=sd.float64, **kw)
    t = theirs(3, 5, **kw).double()
    with torch.no_grad():
        for name, p in m.named_parameters():
            getattr(t, name).copy_(torch.from_numpy(p.numpy().copy()))
    return m, t


def _run(mode, fused=True, num_layers=1, bidirectional=False, batch_first=False, init=False, lengths=None,
         nonlinearity=None, T=6, B=3):
    kw = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    if nonlinearity:
        kw["nonlinearity"] = nonlinearity
    m, t = _pair(mode, **kw)
    m.fused = fused
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((B, T, 3) if batch_first else (T, B, 3))
    D = 2 if bidirectional else 1
    h0 = rng.standard_normal((num_layers * D, B, 5))
    c0 = rng.standard_normal((num_layers * D, B, 5))
    x = sd.tensor(xs, requires_grad=True)
    xt = torch.tensor(xs, requires_grad=True)
    hx = hxt = None
    if init:
        hs, hts = sd.tensor(h0, requires_grad=True), torch.tensor(h0, requires_grad=True)
        if mode == "LSTM":
            cs, cts = sd.tensor(c0, requires_grad=True), torch.tensor(c0, requires_grad=True)
            hx, hxt = (hs, cs), (hts, cts)
        else:
            hx, hxt = hs, hts
    y, hn = m(x, hx, lengths=lengths)
    if lengths is not None:
        packed = torch.nn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths), batch_first=batch_first,
                                                         enforce_sorted=False)
        yp, hnt = t(packed, hxt)
        yt, _ = torch.nn.utils.rnn.pad_packed_sequence(yp, batch_first=batch_first, total_length=T)
    else:
        yt, hnt = t(xt, hxt)
    if mode == "LSTM":
        hn, hnt = sd.stack([hn[0], hn[1]]), torch.stack([hnt[0], hnt[1]])
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(hn.numpy(), hnt.detach().numpy(), rtol=1e-7, atol=1e-9)
    wy = rng.standard_normal(y.shape)
    wh = rng.standard_normal(hn.shape)
    ((y * sd.tensor(wy)).sum() + (hn * sd.tensor(wh)).sum()).backward()
    ((yt * torch.tensor(wy)).sum() + (hnt * torch.tensor(wh)).sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-9)
    for name, p in m.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), getattr(t, name).grad.numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=name)
    if init:
        pairs = [(hx[0], hxt[0]), (hx[1], hxt[1])] if mode == "LSTM" else [(hx, hxt)]
        for a, b in pairs:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("fused", [True, False])
def test_single_layer(mode, fused):
    _run(mode, fused)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("fused", [True, False])
def test_deep_bidirectional_batch_first_initial_state(mode, fused):
    _run(mode, fused, num_layers=2, bidirectional=True, batch_first=True, init=True)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("fused", [True, False])
def test_variable_lengths_match_packed_sequences(mode, fused):
    _run(mode, fused, num_layers=2, bidirectional=True, init=True, lengths=[6, 2, 4])


def test_relu_rnn():
    _run("RNN", True, num_layers=2, nonlinearity="relu")


def test_unbatched_input():
    m, t = _pair("GRU", num_layers=2)
    x = np.random.default_rng(1).standard_normal((4, 3))
    y, h = m(sd.tensor(x))
    yt, ht = t(torch.tensor(x))
    assert y.shape == (4, 5) and h.shape == (2, 5)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-7)
    np.testing.assert_allclose(h.numpy(), ht.detach().numpy(), rtol=1e-7)


@pytest.mark.parametrize("ours,theirs", [(RNNCell, torch.nn.RNNCell), (LSTMCell, torch.nn.LSTMCell),
                                         (GRUCell, torch.nn.GRUCell)])
def test_cells(ours, theirs):
    m = ours(3, 4, dtype=sd.float64)
    t = theirs(3, 4).double()
    with torch.no_grad():
        for name, p in m.named_parameters():
            getattr(t, name).copy_(torch.from_numpy(p.numpy().copy()))
    rng = np.random.default_rng(2)
    x, h, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    if ours is LSTMCell:
        out, outt = (
            m(sd.tensor(x), (sd.tensor(h), sd.tensor(c))),
            t(torch.tensor(x), (torch.tensor(h), torch.tensor(c))),
        )
        for a, b in zip(out, outt):
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-7)
    else:
        np.testing.assert_allclose(
            m(sd.tensor(x), sd.tensor(h)).numpy(), t(torch.tensor(x), torch.tensor(h)).detach().numpy(), rtol=1e-7
        )


def test_float32_matches_torch():
    m, t = _pair("LSTM")
    m.to(sd.float32)
    x = np.random.default_rng(3).standard_normal((7, 2, 3)).astype(np.float32)
    y, _ = m(sd.tensor(x))
    assert y.dtype == sd.float32
    np.testing.assert_allclose(y.numpy(), t.float()(torch.tensor(x))[0].detach().numpy(), rtol=1e-4, atol=1e-5)
