"""Cached downloads against a local HTTP server on 127.0.0.1 (never the internet)."""
import hashlib
import socket

import numpy as np
import pytest

from shendu.data.datasets import ChecksumError, DatasetNotFoundError, data_home, download_file, load_cifar10, load_mnist
from shendu.data.datasets.mnist import MNIST_SHA256


def _closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there any more: connection refused


def test_data_home_env_and_root(tmp_path, monkeypatch):
    monkeypatch.setenv("SHENDU_DATA", str(tmp_path / "d"))
    assert data_home("mnist") == tmp_path / "d" / "mnist"
    assert data_home("mnist", root=tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("SHENDU_DATA")
    assert data_home("cifar10").parts[-3:] == (".cache", "shendu", "cifar10")


def test_download_into_cache_atomic(http_root, tmp_path, monkeypatch, fmt):
    served, url = http_root
    arrays, digests = fmt.write_mnist_files(served)
    monkeypatch.setenv("SHENDU_DATA", str(tmp_path / "cache"))
    (xtr, ytr), (xte, yte) = load_mnist(mirrors=[url], sha256=digests)
    folder = tmp_path / "cache" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(digests)  # no temp files left
    np.testing.assert_array_equal(ytr, arrays["train-labels-idx1-ubyte.gz"])
    assert xte.shape == (3, 1, 28, 28)
    for name in digests:  # served files removed: the second load reads the cache only
        (served / name).unlink()
    (xtr2, _), _ = load_mnist(mirrors=[url], sha256=digests)
    np.testing.assert_array_equal(xtr2, xtr)


def test_corrupted_download_rejected_and_cache_left_empty(http_root, tmp_path, fmt):
    served, url = http_root
    _, digests = fmt.write_mnist_files(served)
    bad = dict(digests)
    bad["t10k-images-idx3-ubyte.gz"] = hashlib.sha256(b"something else").hexdigest()
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError, match="t10k-images-idx3-ubyte.gz"):
        load_mnist(root=cache, mirrors=[url], sha256=bad)
    assert not (cache / "t10k-images-idx3-ubyte.gz").exists()
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no partial downloads


def test_download_file_digest_mismatch_leaves_nothing(http_root, tmp_path):
    served, url = http_root
    (served / "blob.bin").write_bytes(b"x" * 5000)
    dest = tmp_path / "out" / "blob.bin"
    with pytest.raises(ChecksumError, match="expected"):
        download_file(url + "blob.bin", dest, sha256="0" * 64)
    assert list((tmp_path / "out").iterdir()) == []
    good = hashlib.sha256(b"x" * 5000).hexdigest()
    assert download_file(url + "blob.bin", dest, sha256=good.upper()).read_bytes() == b"x" * 5000


def test_mirror_fallback(http_root, tmp_path, fmt):
    served, url = http_root
    (served / "mirror2").mkdir()
    _, digests = fmt.write_mnist_files(served / "mirror2")
    (_, ytr), _ = load_mnist(root=tmp_path / "c", mirrors=[url + "missing/", url + "mirror2/"], sha256=digests)
    assert ytr.shape == (5,)


def test_no_network_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    folder = tmp_path / "empty"
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(root=folder, mirrors=[_closed_port_url()])
    msg = str(info.value)
    for name in MNIST_SHA256:
        assert str(folder / name) in msg
    assert "download failed" in msg
    with pytest.raises(DatasetNotFoundError, match="download=False"):
        load_mnist(root=folder, download=False)


def test_cifar_download(http_root, tmp_path, fmt):
    served, url = http_root
    archive = served / "cifar-10-binary.tar.gz"
    (xtr, ytr), _ = fmt.write_cifar_archive(archive)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (x, y), _ = load_cifar10(root=tmp_path / "c", url=url + "cifar-10-binary.tar.gz", sha256=digest,
                             normalize=False)
    np.testing.assert_array_equal(x, xtr)
    np.testing.assert_array_equal(y, ytr)
    with pytest.raises(ChecksumError):
        load_cifar10(root=tmp_path / "d", url=url, sha256="1" * 64)
    assert list((tmp_path / "d").iterdir()) == []
