"""Attention: scores and weights against NumPy formulas, masks, shapes, gradcheck."""
import numpy as np
import pytest

import shendu as sd
from shendu.autograd import gradcheck
from shendu.nn.layers.attention import AdditiveAttention, DotAttention, GeneralAttention


def _np_softmax(e):
    e = e - e.max(-1, keepdims=True)
    return np.exp(e) / np.exp(e).sum(-1, keepdims=True)


def _qk(seed=0, B=2, S=4, H=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, H)), rng.standard_normal((B, S, H))


def test_dot_attention_matches_formula():
    q, k = _qk()
    ctx, w = DotAttention()(sd.tensor(q), sd.tensor(k))
    e = np.einsum("bh,bsh->bs", q, k)
    np.testing.assert_allclose(w.numpy(), _np_softmax(e), rtol=1e-10)
    np.testing.assert_allclose(ctx.numpy(), np.einsum("bs,bsh->bh", _np_softmax(e), k), rtol=1e-10)


def test_general_and_additive_match_formula():
    q, k = _qk(1)
    g = GeneralAttention(3, dtype=sd.float64)
    W = g.proj.weight.numpy()  # (Hq, Hk)
    _, w = g(sd.tensor(q), sd.tensor(k))
    np.testing.assert_allclose(w.numpy(), _np_softmax(np.einsum("bh,bsk,hk->bs", q, k, W)), rtol=1e-10)
    a = AdditiveAttention(3, 3, 5, dtype=sd.float64)
    Wq, Wk, bk, v = a.w_q.weight.numpy(), a.w_k.weight.numpy(), a.w_k.bias.numpy(), a.v.weight.numpy()[0]
    e = np.tanh((q @ Wq.T)[:, None, :] + k @ Wk.T + bk) @ v
    _, w = a(sd.tensor(q), sd.tensor(k))
    np.testing.assert_allclose(w.numpy(), _np_softmax(e), rtol=1e-10)


@pytest.mark.parametrize("att", [DotAttention(), GeneralAttention(3, dtype=sd.float64),
                                 AdditiveAttention(3, 3, dtype=sd.float64)])
def test_mask_zeroes_weights_and_gradcheck(att):
    q, k = _qk(2)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    ctx, w = att(sd.tensor(q), sd.tensor(k), mask=mask)
    assert np.all(w.numpy()[0, 2:] == 0)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0)
    # masked keys do not influence the context
    k2 = k.copy()
    k2[0, 2:] += 100
    ctx2, _ = att(sd.tensor(q), sd.tensor(k2), mask=mask)
    np.testing.assert_allclose(ctx2.numpy()[0], ctx.numpy()[0], rtol=1e-10)
    qt, kt = sd.tensor(q, requires_grad=True), sd.tensor(k, requires_grad=True)
    assert gradcheck(lambda a, b: att(a, b, mask=mask)[0], (qt, kt))


def test_many_queries_and_errors():
    rng = np.random.default_rng(3)
    q, k = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 4, 3))
    ctx, w = DotAttention()(sd.tensor(q), sd.tensor(k))
    assert ctx.shape == (2, 5, 3) and w.shape == (2, 5, 4)
    _, w1 = DotAttention()(sd.tensor(q[:, 1]), sd.tensor(k))
    np.testing.assert_allclose(w.numpy()[:, 1], w1.numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="DotAttention"):
        DotAttention()(sd.tensor(q), sd.tensor(k[0]))
    with pytest.raises(ValueError, match="mask"):
        DotAttention()(sd.tensor(q), sd.tensor(k), mask=np.ones((2, 3), bool))
