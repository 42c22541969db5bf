"""MNIST and Fashion-MNIST loaders (IDX gzip files, 60,000 train / 10,000 test 28x28 images).

MNIST is the handwritten-digit benchmark of the books' MLP examples (textbook 003/004 examples).
"""
from __future__ import annotations

import numpy as np

from .download import fetch_files
from .idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, read_idx

__all__ = ["load_mnist", "load_fashion_mnist", "MNIST_SHA256", "FASHION_MNIST_SHA256",
           "MNIST_MIRRORS", "FASHION_MNIST_MIRRORS", "FASHION_MNIST_CLASSES"]

_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
          "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MNIST_MIRRORS = (
    "http://yann.lecun.com/exdb/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
    "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
    "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
    "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
}
FASHION_MNIST_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def _read_pair(images_path, labels_path, num_classes=10):
    """Read and check one images/labels pair: IDX magic numbers, uint8 28x28 images, 1-D labels, equal counts."""
    images = read_idx(images_path, expected_magic=IDX_IMAGES_MAGIC)
    labels = read_idx(labels_path, expected_magic=IDX_LABELS_MAGIC)
    if images.ndim != 3 or labels.ndim != 1:
        raise ValueError(f"{images_path}: expected 3-D images and 1-D labels, got {images.shape} and {labels.shape}")
    if images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"{images_path}: expected uint8 images of 28x28 pixels (the MNIST format), got "
                         f"{images.dtype} {images.shape[1:]}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images_path} holds {images.shape[0]} images but {labels_path} "
                         f"holds {labels.shape[0]} labels")
    if labels.size and int(labels.max()) >= num_classes:
        raise ValueError(f"{labels_path}: label {int(labels.max())} out of range [0, {num_classes})")
    return images, labels.astype(np.int64)


def _load(name, sha256, mirrors, root, download, flatten, normalize, verify, data_dir=None):
    paths = fetch_files(name, {f: sha256.get(f) for f in _FILES}, mirrors, root=root,
                        download=download, verify=verify, data_dir=data_dir)
    out = []
    for prefix in ("train", "t10k"):
        x, y = _read_pair(paths[f"{prefix}-images-idx3-ubyte.gz"], paths[f"{prefix}-labels-idx1-ubyte.gz"])
        x = x.reshape(x.shape[0], -1) if flatten else x[:, None, :, :]
        if normalize:
            x = x.astype(np.float32) / np.float32(255.0)
        out.append((x, y))
    return tuple(out)


def load_mnist(root=None, download=True, flatten=False, normalize=True, mirrors=None, sha256=None, verify=True,
               data_dir=None):
    """MNIST as ((x_train, y_train), (x_test, y_test)).

    x: normalize=True (the default): float32 in [0, 1], already divided by 255 (do not divide again);
    normalize=False: the raw uint8 pixels 0..255, as the books' code expects before its own ``/ 255``.
    Shape (N, 1, 28, 28), or (N, 784) if flatten.
    y: int64 (N,). Files are read from `root` (the folder itself) or `<data_dir>/mnist` (data_dir: as
    `--data-dir`; default `$SHENDU_DATA`, then ~/.cache/shendu). Your own files in the IDX format are used
    (a ChecksumWarning when they are not the official ones); downloads must match the official SHA-256.
    `mirrors` (base URLs) and `sha256` ({filename: digest}) override the built-in ones.
    """
    return _load("mnist", sha256 or MNIST_SHA256, mirrors or MNIST_MIRRORS, root, download,
                 flatten, normalize, verify, data_dir)


def load_fashion_mnist(root=None, download=True, flatten=False, normalize=True, mirrors=None, sha256=None,
                       verify=True, data_dir=None):
    """Fashion-MNIST (Zalando) as ((x_train, y_train), (x_test, y_test)); same layout as `load_mnist`."""
    return _load("fashion_mnist", sha256 or FASHION_MNIST_SHA256, mirrors or FASHION_MNIST_MIRRORS, root,
                 download, flatten, normalize, verify, data_dir)
