"""nn.RNN/LSTM/GRU given a PackedSequence against torch (weights copied, float64): the output is a
PackedSequence whose padded form, h_n/c_n (each sequence's state at its own length) and all gradients equal
torch's; sorted and unsorted packing, 2 layers, bidirectional, batch_first; on each ``device``."""
import numpy as np
import pytest

import shendu as sd
from shendu.backend import to_host
from shendu.nn.layers.recurrent import GRU, LSTM, RNN
from shendu.nn.utils import rnn as srnn

torch = pytest.importorskip("torch")
trnn = torch.nn.utils.rnn

CLS = {"RNN": (RNN, torch.nn.RNN), "LSTM": (LSTM, torch.nn.LSTM), "GRU": (GRU, torch.nn.GRU)}
TOL = dict(rtol=1e-7, atol=1e-10)


def _host(t):
    return to_host(t.detach()._data)


def _pair(mode, device, **kw):
    ours, theirs = CLS[mode]
    m = ours(3, 4, dtype=sd.float64, **kw).to(device)
    t = theirs(3, 4, **kw).double()
    with torch.no_grad():
        for name, p in m.named_parameters():
            getattr(t, name).copy_(torch.from_numpy(_host(p).copy()))
    return m, t


def _check(mode, device, lengths, enforce_sorted, batch_first=False, init=False):
    m, t = _pair(mode, device, num_layers=2, bidirectional=True, batch_first=batch_first)
    rng = np.random.default_rng(0)
    T, B = max(lengths), len(lengths)
    xs = rng.standard_normal((B, T, 3) if batch_first else (T, B, 3))
    x = sd.tensor(xs, requires_grad=True, device=device)
    xt = torch.tensor(xs, requires_grad=True)
    hx = hxt = None
    if init:
        h0 = [rng.standard_normal((4, B, 4)) for _ in range(2 if mode == "LSTM" else 1)]
        hs = [sd.tensor(a, requires_grad=True, device=device) for a in h0]
        hts = [torch.tensor(a, requires_grad=True) for a in h0]
        hx, hxt = (tuple(hs), tuple(hts)) if mode == "LSTM" else (hs[0], hts[0])
    p = srnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    pt = trnn.pack_padded_sequence(xt, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=enforce_sorted)
    y, hn = m(p, hx)
    yt, hnt = t(pt, hxt)
    assert isinstance(y, srnn.PackedSequence)
    np.testing.assert_array_equal(_host(y.batch_sizes), pt.batch_sizes.numpy())
    yp, ylen = srnn.pad_packed_sequence(y, batch_first=batch_first)
    ypt, ylent = trnn.pad_packed_sequence(yt, batch_first=batch_first)
    np.testing.assert_array_equal(_host(ylen), ylent.numpy())
    np.testing.assert_allclose(_host(yp), ypt.detach().numpy(), **TOL)
    states = list(hn) if mode == "LSTM" else [hn]
    states_t = list(hnt) if mode == "LSTM" else [hnt]
    for a, b in zip(states, states_t):
        assert str(a.device).startswith(device)
        np.testing.assert_allclose(_host(a), b.detach().numpy(), **TOL)
    ws = [rng.standard_normal(tuple(s.shape)) for s in states]
    # weight the padded outputs (same layout on both sides), so packing order does not matter
    wp = rng.standard_normal(tuple(yp.shape))
    loss = (yp * sd.tensor(wp, device=device)).sum() + sum((s * sd.tensor(w, device=device)).sum()
                                                           for s, w in zip(states, ws))
    loss_t = (ypt * torch.tensor(wp)).sum() + sum((s * torch.tensor(w)).sum() for s, w in zip(states_t, ws))
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(_host(x.grad), xt.grad.numpy(), rtol=1e-6, atol=1e-9)
    for name, prm in m.named_parameters():
        np.testing.assert_allclose(_host(prm.grad), getattr(t, name).grad.numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=name)
    if init:
        for a, b in zip(hs, hts):
            np.testing.assert_allclose(_host(a.grad), b.grad.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_packed_unsorted_matches_torch(mode, device):
    _check(mode, device, [3, 5, 2, 5], enforce_sorted=False, init=True)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_packed_sorted_batch_first_matches_torch(mode, device):
    _check(mode, device, [5, 4, 2], enforce_sorted=True, batch_first=True)


def test_packed_sequence_output_layout_and_errors():
    m = LSTM(2, 3, dtype=sd.float64)
    seqs = [sd.tensor(np.ones((n, 2))) for n in (2, 4, 1)]
    p = srnn.pack_sequence(seqs, enforce_sorted=False)
    y, (h, c) = m(p)
    assert y.data.shape == (7, 3) and h.shape == (1, 3, 3)
    np.testing.assert_array_equal(y.sorted_indices.numpy(), p.sorted_indices.numpy())
    np.testing.assert_array_equal(y.batch_sizes.numpy(), [3, 2, 1, 1])
    with pytest.raises(ValueError, match="PackedSequence"):
        m(p, lengths=[2, 4, 1])
