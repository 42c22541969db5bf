"""CNN recipes: cifar10-cnn (the seeds' CIFAR-10 CNN with BatchNorm and augmentation) and lenet-mnist.

cifar10-cnn: random 24x24 crop, random horizontal flip, per-image standardization on the training
images (the seeds' ``_fn_train``); test images are centre-cropped to 24x24 and standardized (the
seeds' test loader skips the crop, which cannot feed a 24x24 model: see notes/examples_and_basics).
"""
from __future__ import annotations

import numpy as np

from .registry import Setup, register


def cifar_transforms(seed=0):
    """(train_transform, test_transform) of the seeds' CIFAR-10 example on (N, 3, 32, 32) batches."""
    from ..data.transforms import CenterCrop, Compose, PerImageStandardization, RandomCrop, RandomHorizontalFlip

    rng = np.random.default_rng(seed)
    train = Compose([RandomCrop(24, rng=rng), RandomHorizontalFlip(rng=rng), PerImageStandardization()])
    test = Compose([CenterCrop(24), PerImageStandardization()])
    return train, test


def cifar_setup(model, optimizer, data, batch_size, seed=0):
    """Setup with a shuffling, augmenting training DataLoader and a preprocessed test split."""
    from ..data import DataLoader, TensorDataset

    (x, y), (xt, yt) = data
    train_tf, test_tf = cifar_transforms(seed)
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, transform=train_tf, seed=seed)
    return Setup(model, "cross_entropy", optimizer, loader, (test_tf(xt).astype(np.float32), yt))


@register("cifar10-cnn", description="the seeds' CIFAR-10 CNN (2x conv 5x5x64 + BatchNorm + 3x3/2 'same' max-pool, "
          "dense 384-192-10) with random 24x24 crops, flips and per-image standardization; Adam",
          epochs=20, batch_size=128, lr=1e-3)
def cifar10_cnn(cfg):
    from .. import optim
    from ..models import CifarCNN
    from ._data import recipe_cifar10

    data = recipe_cifar10(cfg)
    model = CifarCNN()
    return cifar_setup(model, optim.Adam(model.parameters(), lr=cfg["lr"]), data, cfg["batch_size"],
                       int(cfg.get("seed", 0)))


@register("lenet-mnist", description="LeNet-5 (ReLU, max pooling) on MNIST 28x28, Adam", epochs=10, batch_size=64,
          lr=1e-3)
def lenet_mnist(cfg):
    from .. import optim
    from ..models import LeNet5
    from ._data import recipe_mnist

    train, test = recipe_mnist(cfg, flatten=False)
    model = LeNet5()
    return Setup(model, "cross_entropy", optim.Adam(model.parameters(), lr=cfg["lr"]), train, test)
