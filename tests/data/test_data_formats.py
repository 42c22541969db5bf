"""IDX (MNIST) and CIFAR-10 binary parsing from small files in the real formats."""
import gzip

import numpy as np
import pytest

from shendu.data.datasets import (
    ChecksumWarning,
    load_cifar10,
    load_fashion_mnist,
    load_mnist,
    parse_cifar10_batch,
    parse_idx,
    read_cifar10_archive,
    read_idx,
)


@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", ">i4", ">f4", ">f8"])
def test_parse_idx_roundtrip_all_types(dtype, fmt):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == "u1":
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    out = parse_idx(fmt.idx_bytes(arr))
    assert out.shape == (2, 3, 4) and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, arr)


def test_parse_idx_header_errors(fmt):
    good = fmt.idx_bytes(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="magic number is 0x00000802, expected 0x00000803"):
        parse_idx(good, expected_magic=0x803)
    with pytest.raises(ValueError, match="not an IDX file"):
        parse_idx(b"\x01" + good[1:])
    with pytest.raises(ValueError, match="truncated IDX header"):
        parse_idx(good[:7])
    with pytest.raises(ValueError, match=r"truncated IDX data: dims \(2, 3\) need 6 bytes, file has 5"):
        parse_idx(good[:-1])
    with pytest.raises(ValueError, match="trailing"):
        parse_idx(good + b"\x00")


def test_read_idx_gzip_and_truncated_gzip(tmp_path, fmt):
    arr = np.arange(50, dtype=np.uint8).reshape(2, 5, 5)
    data = gzip.compress(fmt.idx_bytes(arr))
    (tmp_path / "a.gz").write_bytes(data)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz", expected_magic=0x803), arr)
    (tmp_path / "raw").write_bytes(fmt.idx_bytes(arr))
    np.testing.assert_array_equal(read_idx(tmp_path / "raw"), arr)
    (tmp_path / "cut.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt gzip"):
        read_idx(tmp_path / "cut.gz")


def test_load_mnist_from_folder(tmp_path, fmt):
    arrays, digests = fmt.write_mnist_files(tmp_path)
    (xtr, ytr), (xte, yte) = load_mnist(root=tmp_path, download=False, sha256=digests)
    assert xtr.shape == (5, 1, 28, 28) and xtr.dtype == np.float32 and xte.shape == (3, 1, 28, 28)
    np.testing.assert_allclose(xtr[:, 0], arrays["train-images-idx3-ubyte.gz"] / 255.0, rtol=1e-6)
    assert ytr.dtype == np.int64
    np.testing.assert_array_equal(yte, arrays["t10k-labels-idx1-ubyte.gz"])
    (flat, _), _ = load_mnist(root=tmp_path, download=False, flatten=True, normalize=False, verify=False)
    assert flat.shape == (5, 784) and flat.dtype == np.uint8
    (fx, _), _ = load_fashion_mnist(root=tmp_path, download=False, sha256=digests)
    assert fx.shape == (5, 1, 28, 28)


def test_load_mnist_warns_on_own_files_with_another_digest(tmp_path, fmt):
    fmt.write_mnist_files(tmp_path)  # well-formed IDX files, not the official MNIST: used, with a warning
    with pytest.warns(ChecksumWarning, match="train-images-idx3-ubyte.gz, .* are not the official files"):
        (x, _), _ = load_mnist(root=tmp_path, download=False)  # the built-in digests are those of real MNIST
    assert x.shape == (5, 1, 28, 28)
    assert (tmp_path / "train-images-idx3-ubyte.gz").exists()  # the user's file is left alone


def test_load_mnist_count_mismatch(tmp_path, fmt):
    arrays, _ = fmt.write_mnist_files(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(fmt.idx_bytes(np.zeros(4, np.uint8))))
    with pytest.raises(ValueError, match="holds 5 images but .* holds 4 labels"):
        load_mnist(root=tmp_path, download=False, verify=False)


def test_parse_cifar_batch(fmt):
    x = np.random.default_rng(0).integers(0, 256, (3, 3, 32, 32), dtype=np.uint8)
    y = np.array([0, 9, 4])
    images, labels = parse_cifar10_batch(fmt.cifar_batch_bytes(x, y))
    np.testing.assert_array_equal(images, x)
    np.testing.assert_array_equal(labels, y)
    assert labels.dtype == np.int64
    with pytest.raises(ValueError, match="not a positive multiple of the 3073-byte record"):
        parse_cifar10_batch(fmt.cifar_batch_bytes(x, y)[:-10])
    with pytest.raises(ValueError, match="label 200 out of range"):
        parse_cifar10_batch(fmt.cifar_batch_bytes(x, np.array([0, 200, 1])))


def test_read_cifar_archive_and_load(tmp_path, fmt):
    path = tmp_path / "cifar-10-binary.tar.gz"
    (xtr, ytr), (xte, yte) = fmt.write_cifar_archive(path, per_batch=2)
    (rx, ry), (tx, ty) = read_cifar10_archive(path)
    assert rx.shape == (10, 3, 32, 32)
    np.testing.assert_array_equal(rx, xtr)
    np.testing.assert_array_equal(ry, ytr)
    np.testing.assert_array_equal(tx, xte)
    (lx, ly), (mx, my) = load_cifar10(root=tmp_path, download=False, channels_last=True, verify=False)
    assert lx.shape == (10, 32, 32, 3) and lx.dtype == np.float32
    np.testing.assert_allclose(lx, xtr.transpose(0, 2, 3, 1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(my, yte)


def test_cifar_archive_errors(tmp_path, fmt):
    path = tmp_path / "cifar-10-binary.tar.gz"
    fmt.write_cifar_archive(path, skip="data_batch_3.bin")
    with pytest.raises(ValueError, match="data_batch_3.bin"):
        read_cifar10_archive(path)
    fmt.write_cifar_archive(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_cifar10_archive(path)
