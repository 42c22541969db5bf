"""Data sets: digits (offline), MNIST, Fashion-MNIST, CIFAR-10 (cached, SHA-256-verified downloads; your own
well-formed files are accepted with a ChecksumWarning); `smoke` writes small generated files in their formats."""
from .cifar10 import CIFAR10_CLASSES, load_cifar10, parse_cifar10_batch, read_cifar10_archive
from .digits import load_digits
from .download import (ChecksumError, ChecksumWarning, DatasetNotFoundError, data_home, download_file, fetch_files,
                       sha256_file)
from .idx import parse_idx, read_idx
from .mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist

__all__ = [
    "load_digits", "load_mnist", "load_fashion_mnist", "load_cifar10",
    "parse_idx", "read_idx", "parse_cifar10_batch", "read_cifar10_archive",
    "data_home", "sha256_file", "download_file", "fetch_files", "ChecksumError", "ChecksumWarning",
    "DatasetNotFoundError",
    "CIFAR10_CLASSES", "FASHION_MNIST_CLASSES",
]
