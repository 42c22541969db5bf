"""Keras-style layers and models: inferred input sizes, functional Model from Input([None, 784]) (text 003),
Sequential (text 004), summary counts, get_weights/set_weights layout, layers against torch."""
import numpy as np
import pytest

import shendu as sd
from shendu.keras.layers import Activation, BatchNormalization, Dense, Dropout, Flatten, Input
from shendu.keras.models import Model, Sequential


def test_text_003_static_model_infers_shapes():
    """Code 1.3 (TensorLayer names): 784 -> 800 -> 800 -> 10 has 1,276,810 parameters."""
    ni = Input([None, 784])
    nn = Dense(n_units=800, act="relu")(ni)
    nn = Dense(n_units=800, act="relu")(nn)
    nn = Dense(n_units=10, act="relu")(nn)
    M = Model(inputs=ni, outputs=nn)
    assert nn.shape == (None, 10) and M.count_params() == 1_276_810
    assert [tuple(w.shape) for w in M.get_weights()] == [(784, 800), (800,), (800, 800), (800,), (800, 10), (10,)]
    M.eval()
    out = M(np.zeros((3, 784), np.float32))
    assert out.shape == (3, 10)


def test_keras_input_shape_excludes_batch_and_lazy_dense():
    x = Input(shape=(5,))
    assert x.shape == (None, 5)
    d = Dense(4, activation="tanh")
    assert not d.built and d.get_weights() == []
    y = d(sd.tensor(np.ones((2, 7), np.float32)))
    assert d.built and y.shape == (2, 4) and d.get_weights()[0].shape == (7, 4)
    with pytest.raises(ValueError, match=r"Dense 7 -> 4.*\(2, 3\)"):
        d(sd.tensor(np.ones((2, 3), np.float32)))


def test_text_004_sequential_summary_counts():
    """784 -> Dense 100 -> BN -> ReLU -> Dense 10 -> softmax: 79,910 params, 79,710 trainable (Keras' numbers)."""
    model = Sequential([Dense(100, input_dim=784), BatchNormalization(), Activation("relu"), Dense(10),
                        Activation("softmax")])
    lines = []
    text = model.summary(print_fn=lines.append)
    assert lines == [text]
    assert "Total params: 79,910" in text and "Trainable params: 79,710" in text
    assert "Non-trainable params: 200" in text and "(None, 100)" in text and "(None, 10)" in text
    assert len(model.layers) == 5 and [w.shape for w in model.layers[0].get_weights()] == [(784, 100), (100,)]
    with pytest.raises(ValueError, match="not yet been built"):
        Sequential([Dense(3)]).summary()


def test_get_set_weights_round_trip_keras_layout():
    model = Sequential([Dense(3, input_dim=4), BatchNormalization(), Dense(2)])
    ws = model.get_weights()
    assert [w.shape for w in ws] == [(4, 3), (3,), (3,), (3,), (3,), (3,), (3, 2), (2,)]
    g = np.random.default_rng(0)
    new = [g.normal(size=w.shape).astype(np.float32) for w in ws]
    new[5] = np.abs(new[5]) + 0.5  # a moving variance
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    x = g.normal(size=(5, 4)).astype(np.float32)
    model.eval()
    h = x @ new[0] + new[1]
    h = (h - new[4]) / np.sqrt(new[5] + 1e-3) * new[2] + new[3]
    np.testing.assert_allclose(model(x).numpy(), h @ new[6] + new[7], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="expected 8 arrays"):
        model.set_weights(new[:2])
    with pytest.raises(ValueError, match="shape"):
        model.layers[0].set_weights([np.zeros((3, 4)), np.zeros(3)])


def test_dense_batchnorm_match_torch(device):
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(0)
    x = g.normal(size=(8, 6))
    d = Dense(4, activation="relu", input_dim=6, dtype="float64")
    d.to(device)
    lin = torch.nn.Linear(6, 4).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(d.get_weights()[0].T))
        lin.bias.copy_(torch.tensor(d.get_weights()[1]))
    np.testing.assert_allclose(d(sd.tensor(x, device=device)).cpu().numpy(),
                               torch.relu(lin(torch.tensor(x))).detach().numpy(), rtol=1e-12)
    bn = BatchNormalization(dtype="float64", input_shape=(6,))
    bn.to(device)
    tbn = torch.nn.BatchNorm1d(6, eps=1e-3, momentum=0.01).double()
    for _ in range(2):
        np.testing.assert_allclose(bn(sd.tensor(x, device=device)).cpu().numpy(),
                                   tbn(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.get_weights()[2], tbn.running_mean.numpy(), rtol=1e-10)
    bn.eval(), tbn.eval()
    np.testing.assert_allclose(bn(sd.tensor(x, device=device)).cpu().numpy(),
                               tbn(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_dropout_flatten_activation():
    x = sd.tensor(np.ones((4, 2, 3), np.float32))
    f = Flatten()
    assert f(x).shape == (4, 6) and f(Input([None, 2, 3])).shape == (None, 6)
    assert Dropout(keep=0.8).rate == pytest.approx(0.2)
    drop = Dropout(0.5)
    y = drop(sd.tensor(np.ones((200, 50), np.float32))).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < np.mean(y == 0) < 0.6
    drop.eval()
    np.testing.assert_array_equal(drop(x).numpy(), x.numpy())
    np.testing.assert_allclose(Activation("softmax")(x).numpy().sum(-1), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.5)


def test_functional_graph_with_two_branches_and_subclassed_model():
    inp = Input(shape=(3,))
    h = Dense(4, name="hidden")(inp)
    a, b = Dense(2, name="a")(h), Dense(2, name="b")(h)
    m = Model(inp, [a, b])
    x = np.ones((5, 3), np.float32)
    ya, yb = m(x)
    hh = m.get_layer("hidden")(x)
    np.testing.assert_allclose(ya.numpy(), m.get_layer("a")(hh).numpy(), rtol=1e-6)
    assert yb.shape == (5, 2) and len(m.layers) == 3

    class Sub(Model):
        def __init__(self):
            super().__init__()
            self.d1 = Dense(8, activation="relu")
            self.d2 = Dense(2)

        def call(self, x):
            return self.d2(self.d1(x))

    s = Sub()
    assert s(x).shape == (5, 2) and len(s.trainable_weights) == 4
    with pytest.raises(ValueError, match="unique"):
        Model(inp, Dense(2, name="hidden")(h))
