"""Small generated data in the real MNIST (IDX) and CIFAR-10 (binary tar.gz) formats, for offline smoke runs.

`write_mnist_like(folder)` writes the four gzip IDX files of MNIST from scikit-learn's 8x8 digits (each image
scaled 3x to 24x24 and padded to 28x28, pixel * 255 / 16 as uint8), so a model learns real digit shapes;
`write_cifar10_like(folder)` writes `cifar-10-binary.tar.gz` with 3073-byte records of 32x32 RGB images whose
colour and stripe pattern depend on the class. These are NOT the real data sets: `shendu train RECIPE --quick`
uses them only when the real files are missing, and says so.
"""
from __future__ import annotations

import gzip
import io
import struct
import tarfile
from pathlib import Path

import numpy as np

__all__ = ["idx_bytes", "write_idx", "write_mnist_like", "cifar10_records", "write_cifar10_like"]

_IDX_CODES = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype(">i2"): 0x0B, np.dtype(">i4"): 0x0C,
              np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(arr) -> bytes:
    """The IDX encoding of `arr` (magic 0 0 <type> <ndim>, big-endian uint32 dims, big-endian data)."""
    arr = np.asarray(arr)
    big = arr.dtype.newbyteorder(">") if arr.dtype.itemsize > 1 else arr.dtype
    if big not in _IDX_CODES:
        raise TypeError(f"idx_bytes: dtype {arr.dtype} has no IDX type code (uint8, int8, int16, int32, float32, "
                        "float64)")
    header = bytes([0, 0, _IDX_CODES[big], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(big).tobytes()


def write_idx(path, arr, compress=True) -> Path:
    """Write `arr` as an IDX file (gzip-compressed if `compress`), atomically."""
    from ...serialization import atomic_write_bytes

    data = idx_bytes(arr)
    atomic_write_bytes(path, gzip.compress(data, mtime=0) if compress else data)
    return Path(path)


def _digits_28(n, seed):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    order = np.random.default_rng(seed).permutation(len(bunch.target))
    idx = np.resize(order, n)
    small = (bunch.images[idx] * (255.0 / 16.0)).round().astype(np.uint8)  # (n, 8, 8)
    big = small.repeat(3, axis=1).repeat(3, axis=2)  # (n, 24, 24)
    out = np.zeros((n, 28, 28), np.uint8)
    out[:, 2:26, 2:26] = big
    return out, bunch.target[idx].astype(np.uint8)


def write_mnist_like(folder, n_train=1000, n_test=300, seed=0) -> dict:
    """Write the four MNIST files (train-images-idx3-ubyte.gz, ...) made from the 8x8 digits into `folder`;
    returns {filename: Path}. Train and test images are disjoint while n_train + n_test <= 1,797."""
    folder = Path(folder)
    x, y = _digits_28(n_train + n_test, seed)
    parts = {"train": (x[:n_train], y[:n_train]), "t10k": (x[n_train:], y[n_train:])}
    paths = {}
    for prefix, (xi, yi) in parts.items():
        paths[f"{prefix}-images-idx3-ubyte.gz"] = write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", xi)
        paths[f"{prefix}-labels-idx1-ubyte.gz"] = write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", yi)
    return paths


def cifar10_records(images, labels) -> bytes:
    """CIFAR-10 binary records: per image one label byte, then 3072 bytes (R, G, B planes of 32x32)."""
    images = np.asarray(images, np.uint8).reshape(len(labels), -1)
    if images.shape[1] != 3072:
        raise ValueError(f"cifar10_records: images must be (N, 3, 32, 32), got {images.shape[1]} values each")
    return np.concatenate([np.asarray(labels, np.uint8)[:, None], images], axis=1).tobytes()


def _cifar_like(n, rng):
    y = rng.integers(0, 10, n)
    colour = np.array([[(c * 37) % 256, (c * 91 + 60) % 256, (c * 53 + 120) % 256] for c in range(10)], np.float32)
    rows = np.arange(32, dtype=np.float32)
    stripes = np.sin(rows[None, :] * (1 + y[:, None]) * np.pi / 16)  # (n, 32): class-dependent frequency
    img = colour[y][:, :, None, None] * (0.6 + 0.4 * stripes[:, None, :, None])
    img = img + rng.normal(0, 20, (n, 3, 32, 32))
    return np.clip(img, 0, 255).astype(np.uint8), y


def write_cifar10_like(folder, per_batch=100, n_test=200, seed=0) -> Path:
    """Write `cifar-10-binary.tar.gz` (five data batches of `per_batch` records and a test batch) into `folder`."""
    from ...serialization import atomic_write_bytes

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        names = [(f"data_batch_{i}.bin", per_batch) for i in range(1, 6)] + [("test_batch.bin", n_test)]
        for name, n in names:
            data = cifar10_records(*_cifar_like(n, rng))
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = Path(folder) / "cifar-10-binary.tar.gz"
    atomic_write_bytes(path, buf.getvalue())
    return path
