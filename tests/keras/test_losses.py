"""Keras cross-entropy losses: Keras' documented numbers, from_logits equivalence (torch as oracle), stability
at p = 0 and 1, fusion with a trailing softmax/sigmoid, and the compile() names (issue 12)."""
import math
import warnings

import numpy as np
import pytest

import shendu as sd
from shendu.train.resolve import get_loss

Y_TRUE = [[0, 1, 0], [0, 0, 1]]
Y_PRED = [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]


def test_categorical_crossentropy_keras_documented_values():
    per = sd.losses.categorical_crossentropy(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(per.numpy(), [0.0513, 2.303], atol=5e-4)
    assert sd.losses.CategoricalCrossentropy()(Y_TRUE, Y_PRED).item() == pytest.approx(1.177, abs=5e-4)
    cce = sd.losses.CategoricalCrossentropy()
    assert cce(Y_TRUE, Y_PRED, sample_weight=[0.3, 0.7]).item() == pytest.approx(0.814, abs=5e-4)
    assert sd.losses.CategoricalCrossentropy(reduction="sum")(Y_TRUE, Y_PRED).item() == pytest.approx(2.354, abs=5e-4)
    none = sd.losses.CategoricalCrossentropy(reduction="none")(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(none.numpy(), [0.0513, 2.303], atol=5e-4)


def test_sparse_and_binary_keras_documented_values():
    assert sd.losses.SparseCategoricalCrossentropy()([1, 2], Y_PRED).item() == pytest.approx(1.177, abs=5e-4)
    assert sd.losses.SparseCategoricalCrossentropy()([[1], [2]], Y_PRED).item() == pytest.approx(1.177, abs=5e-4)
    yt, yp = [[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]]
    np.testing.assert_allclose(sd.losses.binary_crossentropy(yt, yp).numpy(), [0.916, 0.714], atol=5e-4)
    assert sd.losses.BinaryCrossentropy()(yt, yp).item() == pytest.approx(0.815, abs=5e-4)
    bce = sd.losses.BinaryCrossentropy(from_logits=True)
    assert bce([0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8]).item() == pytest.approx(0.865, abs=2e-3)


def test_text_004_softmax_output_with_categorical_crossentropy_name():
    """Issue 12: p = [0.7, 0.2, 0.1] with the first class gives -ln 0.7 = 0.35667 (was 0.768: softmax twice)."""
    loss = get_loss("categorical_crossentropy")
    out = sd.tensor([[0.7, 0.2, 0.1]])
    assert loss(out, sd.tensor([[1.0, 0.0, 0.0]])).item() == pytest.approx(-math.log(0.7), abs=1e-6)
    assert get_loss("sparse_categorical_crossentropy")(out, sd.tensor([0])).item() == pytest.approx(0.35667, abs=1e-5)
    assert get_loss("binary_crossentropy")(sd.tensor([[0.7]]), sd.tensor([[1.0]])).item() == pytest.approx(
        -math.log(0.7), abs=1e-5)


def test_pytorch_names_keep_taking_logits():
    F = sd.nn.functional
    assert get_loss("cross_entropy") is F.cross_entropy
    z = sd.tensor([[0.7, 0.2, 0.1]])
    expect = -math.log(math.exp(0.7) / sum(math.exp(v) for v in (0.7, 0.2, 0.1)))
    assert get_loss("cross_entropy")(z, sd.tensor([0])).item() == pytest.approx(expect, abs=1e-5)
    assert sd.nn.CrossEntropyLoss()(z, sd.tensor([0])).item() == pytest.approx(expect, abs=1e-5)


def test_from_logits_matches_torch_and_fused_softmax(device):
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(0)
    z = g.normal(size=(6, 5)) * 3
    y = g.integers(0, 5, 6)
    onehot = sd.keras.utils.to_categorical(y, 5)
    ref = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(y))
    zt = torch.tensor(z, requires_grad=True)
    torch.nn.functional.cross_entropy(zt, torch.tensor(y)).backward()
    for make in (lambda x: sd.losses.CategoricalCrossentropy(from_logits=True)(onehot, x),
                 lambda x: sd.losses.SparseCategoricalCrossentropy(from_logits=True)(y, x),
                 lambda x: sd.losses.CategoricalCrossentropy()(onehot, sd.softmax(x, -1))):  # fused
        x = sd.tensor(z, requires_grad=True, device=device)
        v = make(x)
        v.backward()
        assert v.item() == pytest.approx(ref.item(), rel=1e-10)
        np.testing.assert_allclose(x.grad.cpu().numpy(), zt.grad.cpu().numpy(), rtol=1e-9, atol=1e-12)


def test_binary_from_logits_matches_torch_and_fused_sigmoid(device):
    torch = pytest.importorskip("torch")
    g = np.random.default_rng(1)
    z, y = g.normal(size=(8, 1)) * 4, g.integers(0, 2, (8, 1)).astype(np.float64)
    zt = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.binary_cross_entropy_with_logits(zt, torch.tensor(y))
    ref.backward()
    for fused in (False, True):
        x = sd.tensor(z, requires_grad=True, device=device)
        v = sd.losses.BinaryCrossentropy()(y, sd.sigmoid(x)) if fused else \
            sd.losses.BinaryCrossentropy(from_logits=True)(y, x)
        v.backward()
        assert v.item() == pytest.approx(ref.item(), rel=1e-10)
        np.testing.assert_allclose(x.grad.cpu().numpy(), zt.grad.cpu().numpy(), rtol=1e-9, atol=1e-12)


def test_stable_at_probabilities_zero_and_one(device):
    # clipped as Keras: -log(1e-7) when the true class has p = 0; 0 (to ~1e-7) when it has p = 1
    p = sd.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], requires_grad=True, device=device)
    per = sd.losses.categorical_crossentropy([[0, 1, 0], [1, 0, 0]], p)
    np.testing.assert_allclose(per.cpu().numpy(), [-math.log(1e-7), 0.0], atol=2e-7, rtol=1e-6)
    per.sum().backward()
    assert np.all(np.isfinite(p.grad.cpu().numpy()))
    b = sd.tensor([[0.0], [1.0]], requires_grad=True, device=device)
    per = sd.losses.binary_crossentropy([[1.0], [1.0]], b)
    np.testing.assert_allclose(per.cpu().numpy(), [-math.log(2e-7), 0.0], atol=1e-6, rtol=1e-6)
    per.sum().backward()
    assert np.all(np.isfinite(b.grad.cpu().numpy()))
    # saturated softmax: fused with its logits, so exact and finite (no clipping at 16.1)
    z = sd.tensor([[200.0, -200.0]], requires_grad=True, device=device)
    v = sd.losses.CategoricalCrossentropy()([[0.0, 1.0]], sd.softmax(z, -1))
    assert v.item() == pytest.approx(400.0, rel=1e-6)
    v.backward()
    np.testing.assert_allclose(z.grad.cpu().numpy(), [[1.0, -1.0]], atol=1e-6)


def test_loss_objects_in_compile_and_logits_warning():
    out, y = sd.tensor([[2.0, -1.0, 0.5]]), sd.tensor([[1.0, 0.0, 0.0]])
    loss = get_loss(sd.losses.CategoricalCrossentropy(from_logits=True))
    assert loss(out, y).item() == pytest.approx(sd.nn.functional.cross_entropy(out, sd.tensor([0])).item(), rel=1e-6)
    with pytest.warns(UserWarning, match="not probabilities"):
        get_loss("categorical_crossentropy")(out, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_loss("categorical_crossentropy")(sd.tensor([[0.7, 0.2, 0.1]]), y)


def test_shape_errors_name_the_loss():
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        sd.losses.categorical_crossentropy([0, 1], Y_PRED)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        sd.losses.sparse_categorical_crossentropy([0, 3], Y_PRED)
    with pytest.raises(ValueError, match="reduction"):
        sd.losses.BinaryCrossentropy(reduction="avg")


def test_keras_loss_functions_in_compile_take_y_true_first():
    out, y = sd.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]), sd.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    v = get_loss(sd.losses.categorical_crossentropy)(out, y)
    assert v.ndim == 0 and v.item() == pytest.approx(-(math.log(0.7) + math.log(0.8)) / 2, abs=1e-6)
    # a PyTorch-style model ending in nn.Softmax: the graph's softmax is fused with the loss (exact gradient)
    z = sd.tensor([[30.0, -30.0, 0.0]], requires_grad=True)
    loss = get_loss("categorical_crossentropy")(sd.nn.Softmax(dim=-1)(z), sd.tensor([[0.0, 1.0, 0.0]]))
    assert loss.item() == pytest.approx(60.0, rel=1e-5)
    loss.backward()
    np.testing.assert_allclose(z.grad.numpy(), [[1.0, -1.0, 0.0]], atol=1e-6)
