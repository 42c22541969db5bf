"""Dropout (inverted and weight scaling), Embedding, Maxout (textbook 7.12, 12.4, 6.3.1)."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.autograd import gradcheck, gradgradcheck
from shendu.nn.layers.maxout import maxout

R = np.random.default_rng(11)


def test_dropout_inverted_train_and_eval():
    d = nn.Dropout(0.3)
    x = sd.ones(200, 500, requires_grad=True)
    y = d(x)
    v = y.numpy()
    assert y.dtype == sd.float32
    kept = v != 0
    np.testing.assert_allclose(v[kept], 1 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.01
    assert abs(v.mean() - 1.0) < 0.01  # expectation preserved (inverted dropout)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), v)  # same mask in backward
    d.eval()
    assert d(x) is x


def test_dropout_weight_scaling_rule():
    d = nn.Dropout(0.25, mode="weight_scaling")
    x = sd.ones(100, 400)
    v = d(x).numpy()
    assert set(np.unique(v)) == {0.0, 1.0}  # no rescaling while training
    d.eval()
    np.testing.assert_allclose(d(x).numpy(), 0.75)  # multiply by the keep probability at test time (textbook 7.12)
    assert "weight_scaling" in repr(d)


def test_dropout_matches_torch_statistics_and_edge_cases():
    torch = pytest.importorskip("torch")
    x = np.ones((400, 400), np.float32)
    ours = F.dropout(sd.tensor(x), 0.4).numpy()
    theirs = torch.nn.functional.dropout(torch.tensor(x), 0.4).numpy()
    assert set(np.unique(ours)) == set(np.unique(theirs))
    assert abs((ours == 0).mean() - (theirs == 0).mean()) < 0.01
    assert (F.dropout(sd.tensor(x), 1.0).numpy() == 0).all()
    t = sd.tensor(x)
    assert F.dropout(t, 0.0) is t and F.dropout(t, 0.5, training=False) is t
    with pytest.raises(ValueError, match="Dropout.*p must be in"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="mode"):
        nn.Dropout(0.5, mode="bogus")


def test_dropout_seeded_and_gradcheck():
    sd.manual_seed(4)
    a = F.dropout(sd.ones(10, 10), 0.5).numpy()
    sd.manual_seed(4)
    np.testing.assert_array_equal(F.dropout(sd.ones(10, 10), 0.5).numpy(), a)
    x = sd.tensor(R.standard_normal((4, 5)), requires_grad=True)

    def f(x):
        sd.manual_seed(1)  # same mask at every evaluation
        return F.dropout(x, 0.5)

    assert gradcheck(f, [x])
    assert gradgradcheck(lambda x: f(x) ** 2, [x])


def test_dropout2d_zeroes_whole_channels():
    y = F.dropout2d(sd.ones(50, 20, 3, 3), 0.5).numpy()
    per_map = y.reshape(50, 20, 9)
    assert ((per_map == 0).all(-1) | (per_map == 2).all(-1)).all()
    assert 0.4 < (per_map[..., 0] == 0).mean() < 0.6


def test_alpha_dropout_keeps_mean_and_variance():
    x = sd.randn(200000)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.03


def test_embedding_matches_torch_with_padding_idx():
    torch = pytest.importorskip("torch")
    ids = np.array([[1, 3, 0, 3], [2, 2, 0, 4]])
    m = nn.Embedding(5, 3, padding_idx=0).double()
    tm = torch.nn.Embedding(5, 3, padding_idx=0).double()
    assert (m.weight.numpy()[0] == 0).all()
    tm.load_state_dict({"weight": torch.tensor(m.weight.numpy())})
    y, yt = m(sd.tensor(ids)), tm(torch.tensor(ids))
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    g = R.standard_normal((2, 4, 3))
    (y * sd.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-12)
    assert (m.weight.grad.numpy()[0] == 0).all()


def test_embedding_gradcheck_double_backward_and_errors():
    w = sd.tensor(R.standard_normal((6, 2)), requires_grad=True)
    ids = np.array([0, 5, 5, 2])
    assert gradcheck(lambda w: F.embedding(ids, w), [w])  # (padding_idx deliberately zeroes a true gradient)
    assert gradgradcheck(lambda w: F.embedding(ids, w) ** 2, [w])
    with pytest.raises(IndexError, match="embedding"):
        F.embedding(np.array([6]), w)
    with pytest.raises(TypeError, match="integers"):
        F.embedding(np.array([0.5]), w)
    e = nn.Embedding.from_pretrained(np.eye(3))
    assert not e.weight.requires_grad and e(np.array([2])).numpy().tolist() == [[0, 0, 1]]
    assert e(np.array([[1, 2]])).shape == (1, 2, 3)


def test_maxout_textbook_examples():
    z = sd.tensor([[1.0, 5, -2, 3, 0, -1]])
    np.testing.assert_array_equal(maxout(z, 2).numpy(), [[5, 3, 0]])
    np.testing.assert_array_equal(maxout(z, 3).numpy(), [[5, 3]])
    x = sd.tensor([[1.0, 1.0, 2.0, 3.0]], requires_grad=True)
    maxout(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 0, 1]])  # ties go to the first piece
    with pytest.raises(ValueError, match="pieces"):
        maxout(z, 4)


def test_maxout_k2_reproduces_relu_abs_leaky():
    w = R.standard_normal((1, 3))
    b = np.array([0.3])
    x = sd.tensor(R.standard_normal((10, 3)))
    lin = x.numpy() @ w.T + b
    cases = [
        ((0 * w, 0 * b), np.maximum(lin, 0)),
        ((-w, -b), np.abs(lin)),
        ((0.2 * w, 0.2 * b), np.where(lin > 0, lin, 0.2 * lin)),
    ]
    for second, want in cases:
        m = nn.Maxout(3, 1, pieces=2).double()
        m.linear.weight.data.copy_(np.concatenate([w, second[0]]))
        m.linear.bias.data.copy_(np.concatenate([b, second[1]]))
        np.testing.assert_allclose(m(x.double()).numpy(), want, rtol=1e-12)


def test_maxout_layer_gradcheck_and_shape():
    m = nn.Maxout(4, 3, pieces=3).double()
    assert m.linear.weight.shape == (9, 4)
    x = sd.tensor(R.standard_normal((5, 4)), requires_grad=True)
    assert m(x).shape == (5, 3)
    assert gradcheck(lambda x, w, b: maxout(F.linear(x, w, b), 3), [x, m.linear.weight, m.linear.bias])
