"""Reference CNNs (shendu.models): shapes, the seeds' CIFAR-10 CNN parameter count and init, a PyTorch
forward/backward oracle for LeNet5, and a short learning test."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import models


def test_cifar_cnn_matches_the_seeds_example():
    sd.manual_seed(0)
    m = models.CifarCNN()
    assert sum(p.numel() for p in m.parameters()) == 1_068_426
    assert m(sd.randn(2, 3, 24, 24)).shape == (2, 10)
    conv1 = m.features[0]
    assert conv1.bias is None and conv1.padding == "same"
    w = conv1.weight.numpy()
    assert np.abs(w).max() <= 2 * 5e-2 and 0.04 < w.std() < 0.06  # truncated normal, std 5e-2 (TF: +-2 std)
    fc1, fc3 = m.classifier[1], m.classifier[5]
    assert np.all(fc1.bias.numpy() == np.float32(0.1)) and np.abs(fc1.weight.numpy()).max() <= 0.08
    assert not np.all(fc3.bias.numpy() == np.float32(0.1))
    assert m.features[1].momentum == pytest.approx(0.01)  # TF decay 0.99
    with pytest.raises(ValueError, match="CifarCNN"):
        m(sd.randn(2, 3, 32, 32))


def test_other_models_shapes():
    assert models.LeNet5()(sd.randn(3, 1, 28, 28)).shape == (3, 10)
    assert models.LeNet5(activation="sigmoid", pool="avg")(sd.randn(1, 1, 28, 28)).shape == (1, 10)
    assert models.vgg_small()(sd.randn(2, 3, 32, 32)).shape == (2, 10)
    r = models.resnet_cifar(8)
    assert r(sd.randn(2, 3, 16, 16)).shape == (2, 10)
    assert len(r.layers) == 3
    with pytest.raises(ValueError, match="6n\\+2"):
        models.resnet_cifar(10)


def test_resnet_block_identity_and_projection_shortcuts():
    b1, b2 = models.BasicBlock(8, 8), models.BasicBlock(8, 16, stride=2)
    assert isinstance(b1.shortcut, sd.nn.Identity) and not isinstance(b2.shortcut, sd.nn.Identity)
    assert b2(sd.randn(2, 8, 8, 8)).shape == (2, 16, 4, 4)


def test_lenet_matches_torch():
    torch = pytest.importorskip("torch")
    sd.manual_seed(0)
    m = models.LeNet5().to(sd.float64)
    tnn = torch.nn
    tm = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(),
                        tnn.MaxPool2d(2), tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84),
                        tnn.ReLU(), tnn.Linear(84, 10)).double()
    with torch.no_grad():
        for a, b in zip(m.parameters(), tm.parameters()):
            b.copy_(torch.tensor(a.numpy()))
    x = np.random.default_rng(0).standard_normal((4, 1, 28, 28))
    y = np.array([1, 2, 3, 4])
    loss = F.cross_entropy(m(sd.tensor(x)), y)
    tloss = torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
    loss.backward()
    tloss.backward()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-10)
    for a, b in zip(m.parameters(), tm.parameters()):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_small_cnn_learns_oriented_bars():
    """A conv-pool-linear net separates horizontal from vertical bars at random positions (translation
    invariance from pooling, textbook 9.3) in a few dozen Adam steps."""
    from shendu import optim

    rng = np.random.default_rng(0)
    n = 128
    x = rng.normal(0, 0.1, (n, 1, 10, 10)).astype(np.float32)
    y = rng.integers(0, 2, n)
    for i in range(n):
        r, c = rng.integers(1, 9, 2)
        if y[i]:
            x[i, 0, r, max(c - 2, 0):c + 2] += 1
        else:
            x[i, 0, max(r - 2, 0):r + 2, c] += 1
    sd.manual_seed(0)
    net = sd.nn.Sequential(sd.nn.Conv2d(1, 4, 3, padding=1), sd.nn.ReLU(), sd.nn.GlobalMaxPool2d(),
                           sd.nn.Linear(4, 2))
    opt = optim.Adam(net.parameters(), lr=0.05)
    xs = sd.tensor(x)
    for _ in range(60):
        opt.zero_grad()
        loss = F.cross_entropy(net(xs), y)
        loss.backward()
        opt.step()
    acc = (net(xs).numpy().argmax(1) == y).mean()
    assert acc > 0.95, acc
