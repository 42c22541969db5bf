"""Gradcheck (fused and composed paths, double backward), textbook test vectors, masks, errors."""
import numpy as np
import pytest

import shendu as sd
from shendu.autograd import gradcheck, gradgradcheck
from shendu.nn import functional as F
from shendu.nn.layers.recurrent import GRU, LSTM, RNN, GRUCell, LeakyRNNCell, LSTMCell, SkipRNN
from shendu.ops.rnn import ElmanSeq, GRUSeq, LSTMSeq


def _t(*shape, seed=0):
    return sd.tensor(np.random.default_rng(seed).standard_normal(shape) * 0.5, requires_grad=True)


MASK = (np.arange(4)[:, None] < np.array([4, 2])[None, :]).astype(np.float64)[:, :, None]


@pytest.mark.parametrize("mask", [None, MASK])
@pytest.mark.parametrize("reverse", [False, True])
def test_fused_lstm_gradcheck_and_double_backward(mask, reverse):
    xp, w, h0, c0 = _t(4, 2, 8), _t(8, 2, seed=1), _t(2, 2, seed=2), _t(2, 2, seed=3)
    f = lambda *a: LSTMSeq(mask, reverse)(*a)  # noqa: E731
    assert gradcheck(f, (xp, w, h0, c0))
    assert gradgradcheck(f, (xp, w, h0, c0))


@pytest.mark.parametrize("mask", [None, MASK])
@pytest.mark.parametrize("reverse", [False, True])
def test_fused_gru_gradcheck_and_double_backward(mask, reverse):
    xp, w, b, h0 = _t(4, 2, 6), _t(6, 2, seed=1), _t(6, seed=2), _t(2, 2, seed=3)
    f = lambda *a: GRUSeq(mask, reverse)(*a)  # noqa: E731
    assert gradcheck(f, (xp, w, b, h0))
    assert gradgradcheck(f, (xp, w, b, h0))


@pytest.mark.parametrize("nl", ["tanh", "relu"])
@pytest.mark.parametrize("mask", [None, MASK])
def test_fused_elman_gradcheck(nl, mask):
    xp, w, h0 = _t(4, 2, 3), _t(3, 3, seed=1), _t(2, 3, seed=2)
    f = lambda *a: ElmanSeq(mask, False, nl)(*a)  # noqa: E731
    assert gradcheck(f, (xp, w, h0))
    if nl == "tanh":
        assert gradgradcheck(f, (xp, w, h0))


def test_layer_gradcheck_composed_variants():
    sd.manual_seed(0)
    for m in (LSTM(2, 3, peephole=True, dtype=sd.float64), LSTM(2, 3, cell_activation="sigmoid", dtype=sd.float64),
              GRU(2, 3, reset_after=False, dtype=sd.float64)):
        ps = list(m.parameters())
        x = _t(3, 2, 2, seed=5)

        def f(x, *ps):
            return m(x)[0]
        assert gradcheck(f, (x, *ps))


def test_lstm_book_vector():
    """notes A15: scalar LSTM, x=1, h0=0, s0=0.5 (gates i,f,g,o in PyTorch order)."""
    w_ih = sd.tensor([[-0.5], [0.5], [2.0], [1.0]], dtype=sd.float64)
    w_hh = sd.tensor([[0.2], [0.1], [0.4], [0.3]], dtype=sd.float64)
    b = sd.tensor([0.0, 1.0, 0.0, 0.0], dtype=sd.float64)
    x, h0, c0 = (
        sd.tensor([[1.0]], dtype=sd.float64),
        sd.zeros(1, 1, dtype=sd.float64),
        sd.full((1, 1), 0.5, dtype=sd.float64),
    )
    h, c = F.lstm_cell(x, (h0, c0), w_ih, w_hh, b, None, cell_activation="sigmoid")
    np.testing.assert_allclose([c.item(), h.item()], [0.74132396, 0.46052626], atol=1e-8)
    h, c = F.lstm_cell(x, (h0, c0), w_ih, w_hh, b, None)
    np.testing.assert_allclose([c.item(), h.item()], [0.77274686, 0.47410893], atol=1e-8)


def test_gru_book_vector():
    """notes A16: scalar GRU, x=1, h0=0.5; book/Cho form (reset before W)."""
    w_ih = sd.tensor([[1.0], [0.5], [2.0]], dtype=sd.float64)
    w_hh = sd.tensor([[0.5], [-1.0], [1.0]], dtype=sd.float64)
    x, h0 = sd.tensor([[1.0]], dtype=sd.float64), sd.full((1, 1), 0.5, dtype=sd.float64)
    h = F.gru_cell(x, h0, w_ih, w_hh, None, None, reset_after=False, activation="sigmoid")
    np.testing.assert_allclose(h.item(), 0.70797885, atol=1e-8)
    h = F.gru_cell(x, h0, w_ih, w_hh, None, None, reset_after=False)
    np.testing.assert_allclose(h.item(), 0.74165158, atol=1e-8)


def test_leaky_unit_running_average_vector():
    """notes A14.2: alpha=0.9, v=1, mu0=0 -> 1 - 0.9^t. With W = 0 and a huge input the tanh is 1."""
    cell = LeakyRNNCell(1, 1, alpha=0.9, dtype=sd.float64)
    cell.weight_hh._data[:] = 0
    cell.weight_ih._data[:] = 100.0
    cell.bias_ih._data[:] = 0
    h = sd.zeros(1, 1, dtype=sd.float64)
    got = []
    for _ in range(5):
        h = cell(sd.ones(1, 1, dtype=sd.float64), h)
        got.append(h.item())
    np.testing.assert_allclose(got, [0.1, 0.19, 0.271, 0.3439, 0.40951], atol=1e-10)


def test_learnable_alpha_gets_gradient():
    cell = LeakyRNNCell(2, 3, alpha=0.7, learn_alpha=True, dtype=sd.float64)
    np.testing.assert_allclose(cell.alpha_logit.sigmoid().numpy(), 0.7)
    cell(_t(4, 2)).sum().backward()
    assert np.abs(cell.alpha_logit.grad.numpy()).sum() > 0


def test_skip_rnn_uses_delayed_state():
    sd.manual_seed(0)
    m = SkipRNN(2, 3, delay=3, dtype=sd.float64)
    x = _t(6, 1, 2)
    y, _ = m(x)
    y[5].sum().backward()
    g = m.weight_skip.grad.numpy()
    assert np.abs(g).sum() > 0
    # up to t = delay - 1 the skip input is zero: an output there gives W_skip no gradient
    m.zero_grad()
    y, _ = m(x)
    y[2].sum().backward()
    assert m.weight_skip.grad is None or np.abs(m.weight_skip.grad.numpy()).sum() == 0


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_padding_does_not_change_real_steps(cls):
    sd.manual_seed(1)
    m = cls(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 7, 3)).astype(np.float32)
    y, h = m(sd.tensor(x), lengths=[7, 4])
    y1, h1 = m(sd.tensor(x[1:2, :4]))
    np.testing.assert_allclose(y.numpy()[1, :4], y1.numpy()[0], rtol=1e-5, atol=1e-6)
    assert np.all(y.numpy()[1, 4:] == 0)
    hh, hh1 = (h[0], h1[0]) if cls is LSTM else (h, h1)
    np.testing.assert_allclose(hh.numpy()[:, 1], hh1.numpy()[:, 0], rtol=1e-5, atol=1e-6)
    # garbage in the padding changes nothing
    x2 = x.copy()
    x2[1, 4:] = 1e3
    y2, _ = m(sd.tensor(x2), mask=(np.arange(7)[None] < np.array([[7], [4]])))
    np.testing.assert_allclose(y2.numpy(), y.numpy(), rtol=1e-6)


def test_forget_bias_default_and_off():
    m = LSTM(2, 3)
    np.testing.assert_array_equal(m.bias_ih_l0.numpy()[3:6], 1.0)
    np.testing.assert_array_equal(m.bias_hh_l0.numpy()[3:6], 0.0)
    m2 = LSTM(2, 3, forget_bias=None)
    assert not np.all(m2.bias_ih_l0.numpy()[3:6] == 1.0)
    assert LSTMCell(2, 3).bias_ih.numpy()[3:6].tolist() == [1.0, 1.0, 1.0]


def test_errors_name_layer_and_shapes():
    m = GRU(3, 4)
    with pytest.raises(ValueError, match=r"GRU.*\(T, B, 3\).*\(5, 2, 4\)"):
        m(sd.zeros(5, 2, 4))
    with pytest.raises(ValueError, match="initial state"):
        m(sd.zeros(5, 2, 3), sd.zeros(2, 2, 4))
    with pytest.raises(TypeError, match="tuple"):
        LSTM(3, 4)(sd.zeros(5, 2, 3), sd.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="lengths"):
        m(sd.zeros(5, 2, 3), lengths=[6, 1])
    with pytest.raises(ValueError, match="GRUCell"):
        GRUCell(3, 4)(sd.zeros(2, 5))


def test_dropout_between_layers_only_in_training():
    sd.manual_seed(0)
    m = LSTM(3, 4, num_layers=2, dropout=0.5)
    x = sd.randn(5, 2, 3)
    m.eval()
    y1, _ = m(x)
    y2, _ = m(x)
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    m.train()
    y3, _ = m(x)
    assert not np.allclose(y3.numpy(), y1.numpy())
    one = LSTM(3, 4, num_layers=1, dropout=0.5)
    one.train()
    np.testing.assert_array_equal(one(x)[0].numpy(), one(x)[0].numpy())  # no dropout after the last layer
