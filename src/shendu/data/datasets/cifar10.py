"""CIFAR-10 loader from the binary distribution `cifar-10-binary.tar.gz` (never Python pickles).

50,000 train / 10,000 test 32x32 RGB images in 10 classes (the books' CIFAR-10 CNN example).
Each `.bin` file is a sequence of 3073-byte records: 1 label byte, then 3072 pixel bytes
(1024 red, 1024 green, 1024 blue, each 32x32 in row-major order).
"""
from __future__ import annotations

import posixpath
import tarfile
import zlib

import numpy as np

from .download import fetch_files

__all__ = ["load_cifar10", "parse_cifar10_batch", "read_cifar10_archive",
           "CIFAR10_URL", "CIFAR10_SHA256", "CIFAR10_CLASSES", "CIFAR10_ARCHIVE"]

CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_BATCH = "test_batch.bin"
_RECORD = 1 + 3 * 32 * 32


def parse_cifar10_batch(data: bytes, name: str = "CIFAR-10 batch"):
    """Parse one binary batch into (images uint8 (N, 3, 32, 32), labels int64 (N,))."""
    if len(data) == 0 or len(data) % _RECORD:
        raise ValueError(f"{name}: size {len(data)} bytes is not a positive multiple of the "
                         f"{_RECORD}-byte record (truncated or not a CIFAR-10 binary batch)")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() >= 10:
        raise ValueError(f"{name}: label {int(labels.max())} out of range [0, 10)")
    return records[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


def read_cifar10_archive(path):
    """Read all batches from the tar.gz (members matched by base name; nothing is extracted to disk).

    Returns ((x_train, y_train), (x_test, y_test)) with uint8 images (N, 3, 32, 32).
    """
    wanted = set(TRAIN_BATCHES) | {TEST_BATCH}
    found = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:  # stream order: no backward seeks in the gzip stream
                base = posixpath.basename(member.name)
                if member.isfile() and base in wanted and base not in found:
                    found[base] = parse_cifar10_batch(tar.extractfile(member).read(), name=f"{path}:{member.name}")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{path}: truncated or corrupt tar.gz archive ({exc})") from exc
    missing = sorted(wanted - set(found))
    if missing:
        raise ValueError(f"{path}: archive lacks CIFAR-10 batch file(s) {missing}")
    x_train = np.concatenate([found[b][0] for b in TRAIN_BATCHES])
    y_train = np.concatenate([found[b][1] for b in TRAIN_BATCHES])
    return (x_train, y_train), found[TEST_BATCH]


def load_cifar10(root=None, download=True, normalize=True, channels_last=False, url=None, sha256=None,
                 verify=True, data_dir=None):
    """CIFAR-10 as ((x_train, y_train), (x_test, y_test)).

    x: normalize=True (the default): float32 in [0, 1], already divided by 255; normalize=False: the raw uint8
    pixels 0..255. Shape (N, 3, 32, 32), or (N, 32, 32, 3) if channels_last; y: int64 (N,).
    Reads `cifar-10-binary.tar.gz` from `root` (the folder itself) or `<data_dir>/cifar10` (data_dir: as `--data-dir`;
    default `$SHENDU_DATA`, then ~/.cache/shendu). Your own archive in the binary format is used (ChecksumWarning when
    it is not the official one; each batch must be whole 3073-byte records); a download must match the official SHA-256.
    """
    paths = fetch_files("cifar10", {CIFAR10_ARCHIVE: sha256 or CIFAR10_SHA256}, (url or CIFAR10_URL,),
                        root=root, download=download, verify=verify, data_dir=data_dir)
    out = []
    for x, y in read_cifar10_archive(paths[CIFAR10_ARCHIVE]):
        if channels_last:
            x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        if normalize:
            x = x.astype(np.float32) / np.float32(255.0)
        out.append((x, y))
    return tuple(out)
