"""The cifar10-cnn and lenet-mnist recipes: registration, the seeds' augmentation, and a short run on
synthetic CIFAR-shaped data (the real data set is not downloaded in tests)."""
import numpy as np

import shendu as sd
from shendu import recipes
from shendu.recipes.cifar10_cnn import cifar_setup, cifar_transforms


def test_recipes_registered():
    names = recipes.names()
    assert "cifar10-cnn" in names and "lenet-mnist" in names
    r = recipes.get("cifar10-cnn")
    assert r.defaults["batch_size"] == 128


def test_seeds_augmentation():
    x = np.random.default_rng(0).uniform(0, 1, (6, 3, 32, 32)).astype(np.float32)
    train_tf, test_tf = cifar_transforms(0)
    a = train_tf(x)
    assert a.shape == (6, 3, 24, 24) and a.dtype == np.float32
    np.testing.assert_allclose(a.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(a.std(axis=(1, 2, 3)), 1, atol=1e-4)
    t = test_tf(x)
    ref = x[:, :, 4:28, 4:28]
    ref = (ref - ref.mean(axis=(1, 2, 3), keepdims=True)) / ref.std(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(t, ref, atol=1e-5)
    b = train_tf(x)
    assert not np.allclose(a, b)  # fresh random crops/flips each call


def test_cifar_setup_trains_on_synthetic_data():
    from shendu import models, optim
    from shendu.train import fit

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (64, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    sd.manual_seed(0)
    model = models.CifarCNN(channels=8)
    s = cifar_setup(model, optim.Adam(model.parameters(), lr=1e-3), ((x, y), (x[:16], y[:16])), 32)
    hist = fit(s.model, s.train, loss=s.loss, optimizer=s.optimizer, epochs=2, verbose=0)
    assert len(hist) == 2
    losses = [float(v) for v in hist.history["loss"]]
    assert all(np.isfinite(losses))
    assert s.test[0].shape == (16, 3, 24, 24)
