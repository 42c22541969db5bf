"""GradientTape, apply_gradients (Keras optimizers and shendu's), to_categorical (text 003 code 1.2; text 004)."""
import numpy as np
import pytest

import shendu as sd
from shendu.keras.layers import Dense


def _model():
    return sd.keras.Sequential([Dense(5, activation="tanh", input_dim=3), Dense(2)])


def test_tape_gradients_equal_backward(device):
    m = _model().to(device)
    x = sd.tensor(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32), device=device)
    with sd.GradientTape() as tape:
        loss = (m(x) ** 2).mean()
    grads = tape.gradient(loss, m.trainable_weights)
    assert all(p.grad is None for p in m.trainable_weights)  # the tape does not touch .grad
    (m(x) ** 2).mean().backward()
    for g, p in zip(grads, m.trainable_weights):
        np.testing.assert_allclose(g.cpu().numpy(), p.grad.cpu().numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(loss, m.trainable_weights)


def test_tape_watch_persistent_structures_and_unconnected():
    x = sd.tensor([1.0, 2.0, 3.0])
    u = sd.tensor([1.0], requires_grad=True)
    with sd.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x  # non-scalar: summed, as TensorFlow
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])
    d = tape.gradient(y, {"x": x, "u": u})
    assert d["u"] is None and np.allclose(d["x"].numpy(), [2, 4, 6])
    assert tape.gradient(y, (x,))[0].shape == (3,)
    with sd.no_grad(), sd.GradientTape() as t2:  # the tape records even inside no_grad
        z = (u * 3.0).sum()
    assert t2.gradient(z, [u])[0].item() == pytest.approx(3.0)


def test_keras_adam_apply_gradients_matches_torch():
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(0)
    w0 = g.normal(size=(3, 2))
    grads = [g.normal(size=(3, 2)) for _ in range(3)]
    w = sd.tensor(w0, requires_grad=True)
    opt = sd.optimizers.Adam(learning_rate=0.01)  # Keras' epsilon 1e-7
    tw = torch.tensor(w0, requires_grad=True)
    topt = torch.optim.Adam([tw], lr=0.01, eps=1e-7)
    for gr in grads:
        opt.apply_gradients(zip([sd.tensor(gr)], [w]))
        tw.grad = torch.tensor(gr)
        topt.step()
    np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-12)
    assert opt.iterations == 3 and opt.learning_rate == pytest.approx(0.01)
    with pytest.raises(ValueError, match="shape"):
        opt.apply_gradients([(sd.tensor(np.ones(2)), w)])


def test_apply_gradients_on_shendu_optimizer_touches_only_given_vars():
    a, b = sd.tensor([1.0], requires_grad=True), sd.tensor([1.0], requires_grad=True)
    opt = sd.optim.SGD([a, b], lr=0.5)
    b.grad = sd.tensor([4.0])
    opt.apply_gradients(zip([sd.tensor([2.0])], [a]))
    assert a.item() == pytest.approx(0.0) and b.item() == pytest.approx(1.0) and b.grad.item() == 4.0


def test_compile_with_keras_optimizer_and_loss_object_learns():
    from shendu.data.datasets import load_digits

    (x, y), (xt, yt) = load_digits()
    m = sd.keras.Sequential([Dense(32, activation="relu", input_dim=64), Dense(10)])
    m.compile(optimizer=sd.optimizers.Adam(learning_rate=0.01),
              loss=sd.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    m.fit(x, y, epochs=3, verbose=0)
    loss, acc = m.evaluate(xt, yt)
    assert acc >= 0.9 and loss < 0.4
    assert m.evaluate(xt, yt, return_dict=True)["accuracy"] == acc


def test_to_categorical_as_keras():
    np.testing.assert_array_equal(sd.keras.utils.to_categorical([4], 10), [[0, 0, 0, 0, 1, 0, 0, 0, 0, 0]])
    out = sd.keras.utils.to_categorical(np.array([[0], [2], [1]]))
    assert out.dtype == np.float32 and out.shape == (3, 3)
    np.testing.assert_array_equal(out.argmax(1), [0, 2, 1])
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        sd.keras.utils.to_categorical([0, 3], 3)
