"""Distances, Lambda layers, summary()."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.autograd import gradcheck

from ._oracle import compare

R = np.random.default_rng(13)
A, B, C = R.standard_normal((5, 4)), R.standard_normal((5, 4)), R.standard_normal((5, 4))


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_pairwise_and_cdist_match_torch(p):
    torch = pytest.importorskip("torch")
    compare(
        lambda a, b: F.pairwise_distance(a, b, p), lambda a, b: torch.nn.functional.pairwise_distance(a, b, p), [A, B]
    )
    compare(lambda a, b: F.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), [A, B[:3]], rtol=1e-6, atol=1e-9)


def test_cosine_similarity_and_losses_match_torch():
    torch = pytest.importorskip("torch")
    y = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
    compare(F.cosine_similarity, torch.nn.functional.cosine_similarity, [A, B])
    compare(
        lambda a, b: F.cosine_embedding_loss(a, b, y, 0.1),
        lambda a, b: torch.nn.functional.cosine_embedding_loss(a, b, torch.tensor(y), 0.1),
        [A, B],
    )
    compare(F.triplet_margin_loss, torch.nn.functional.triplet_margin_loss, [A, B, C])
    assert gradcheck(F.cosine_similarity, [sd.tensor(A, requires_grad=True), sd.tensor(B, requires_grad=True)])


def test_lambda_without_and_with_weights():
    double = nn.Lambda(lambda x: x * 2)
    assert list(double.parameters()) == []
    np.testing.assert_array_equal(double(sd.ones(2)).numpy(), [2, 2])
    scale = nn.Lambda(lambda x, s, b: x * s + b, weights={"scale": np.full(3, 2.0), "shift": np.zeros(3)})
    assert [n for n, _ in scale.named_parameters()] == ["scale", "shift"]
    x = sd.ones(4, 3)
    scale(x).sum().backward()
    np.testing.assert_array_equal(scale.scale.grad.numpy(), [4, 4, 4])
    net = nn.Sequential(nn.Linear(3, 3), nn.Lambda(lambda x, w: x * w, weights=[sd.ones(3)]))
    assert "1.weight0" in net.state_dict()
    kw = nn.Lambda(lambda x, flag=False: x + 1 if flag else x)
    assert kw(sd.zeros(1), flag=True).item() == 1  # keyword arguments reach fn
    with pytest.raises(TypeError, match="callable"):
        nn.Lambda(3)


def test_summary_table():
    m = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 100), nn.BatchNorm1d(100), nn.ReLU(), nn.Dropout(0.2), nn.Linear(100, 10)
    )
    lines = []
    text = nn.summary(m, (1, 28, 28), print_fn=lines.append)
    assert lines == [text]
    assert "1 (Linear)" in text and "(-1, 100)" in text and "78,500" in text and "(-1, 10)" in text
    assert "Total params: 79,710" in text
    assert m.training  # mode restored
    m[1].weight.requires_grad = False
    assert "Non-trainable params: 78,400" in nn.summary(m, (784,), print_fn=None)
    with pytest.raises(ValueError, match="input_shape"):
        nn.summary(m)
