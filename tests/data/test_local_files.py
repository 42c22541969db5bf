"""Your own data files (issue 23 items 4 and 8): well-formed local files are used whatever their checksum (with a
ChecksumWarning), malformed ones are refused by their format, `--data-dir DIR` and `$SHENDU_DATA=DIR` mean the same
folder, `normalize=False` gives the raw pixels, and the generated smoke files are in the real formats."""
import gzip
import tarfile

import numpy as np
import pytest

from shendu.data.datasets import ChecksumWarning, data_home, load_cifar10, load_digits, load_mnist, read_idx
from shendu.data.datasets.idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC
from shendu.data.datasets.smoke import idx_bytes, write_cifar10_like, write_idx, write_mnist_like


@pytest.fixture(scope="module")
def own_mnist(tmp_path_factory):
    """DIR with DIR/mnist holding four MNIST-format files that are not the official ones."""
    base = tmp_path_factory.mktemp("data")
    write_mnist_like(base / "mnist", n_train=300, n_test=100, seed=1)
    return base


def test_generated_files_are_in_the_real_formats(tmp_path):
    paths = write_mnist_like(tmp_path, n_train=20, n_test=10)
    raw = gzip.decompress(paths["train-images-idx3-ubyte.gz"].read_bytes())
    assert int.from_bytes(raw[:4], "big") == IDX_IMAGES_MAGIC and raw[4:16] == bytes.fromhex("000000140000001c0000001c")
    labels = read_idx(paths["t10k-labels-idx1-ubyte.gz"], expected_magic=IDX_LABELS_MAGIC)
    assert labels.shape == (10,) and labels.dtype == np.uint8 and labels.max() < 10
    archive = write_cifar10_like(tmp_path, per_batch=3, n_test=4)
    with tarfile.open(archive) as tar:
        sizes = {m.name.split("/")[-1]: m.size for m in tar if m.isfile()}
    assert sizes == {**{f"data_batch_{i}.bin": 3 * 3073 for i in range(1, 6)}, "test_batch.bin": 4 * 3073}
    assert idx_bytes(np.arange(3, dtype=np.int32)) == bytes([0, 0, 0x0C, 1, 0, 0, 0, 3]) + \
        np.arange(3, dtype=">i4").tobytes()


def test_own_mnist_file_with_another_checksum_is_used_with_a_warning(own_mnist):
    with pytest.warns(ChecksumWarning, match="not the official file"):
        (x, y), (xt, yt) = load_mnist(data_dir=own_mnist, download=False)
    assert x.shape == (300, 1, 28, 28) and xt.shape == (100, 1, 28, 28) and y.dtype == np.int64


def test_recipe_accepts_own_mnist_file_with_a_warning(own_mnist, tmp_path):
    from shendu.recipes import run

    lines = []
    with pytest.warns(ChecksumWarning, match="train-images-idx3-ubyte.gz, .* are not the official files"):
        res = run("mnist-mlp", out=tmp_path, verbose=0, print_fn=lines.append, data_dir=own_mnist, download=False,
                  epochs=2)
    assert res["test"]["accuracy"] > 0.5  # learned from the user's 300 images (digits, 10 classes)
    assert not any("--quick" in ln for ln in lines)  # the user's files, not generated ones


def test_malformed_files_are_refused_by_format(tmp_path):
    write_mnist_like(tmp_path, n_train=10, n_test=5)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((5, 27, 27), np.uint8))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz: expected uint8 images of 28x28"):
        load_mnist(root=tmp_path, download=False, verify=False)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros(5, np.uint8))  # a labels-like file
    with pytest.raises(ValueError, match="IDX magic number is 0x00000801, expected 0x00000803"):
        load_mnist(root=tmp_path, download=False, verify=False)
    archive = write_cifar10_like(tmp_path, per_batch=2, n_test=2)
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar if m.isfile()]
    with tarfile.open(archive, "w:gz") as tar:  # one batch cut short of a whole record
        for m, data in members:
            data = data[:-5] if m.name.endswith("test_batch.bin") else data
            m.size = len(data)
            import io

            tar.addfile(m, io.BytesIO(data))
    with pytest.raises(ValueError, match="not a positive multiple of the 3073-byte record"):
        load_cifar10(root=tmp_path, download=False, verify=False)


def test_data_dir_and_env_mean_the_same_folder(own_mnist, monkeypatch):
    monkeypatch.setenv("SHENDU_DATA", str(own_mnist))
    assert data_home("mnist") == data_home("mnist", data_dir=own_mnist) == own_mnist / "mnist"
    with pytest.warns(ChecksumWarning):
        (a, _), _ = load_mnist(download=False)
    monkeypatch.delenv("SHENDU_DATA")
    with pytest.warns(ChecksumWarning):
        (b, _), _ = load_mnist(data_dir=own_mnist, download=False)
    np.testing.assert_array_equal(a, b)


def test_cli_data_dir_and_env_read_the_same_files(own_mnist, tmp_path, monkeypatch, capsys):
    from shendu.cli import main

    args = ["train", "mnist-mlp", "--no-download", "--epochs", "1", "--verbose", "0"]
    assert main(args + ["--data-dir", str(own_mnist), "--out", str(tmp_path / "a")]) == 0
    out_a = capsys.readouterr()
    monkeypatch.setenv("SHENDU_DATA", str(own_mnist))
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    out_b = capsys.readouterr()
    acc = [o.out.split("accuracy ")[1].split()[0] for o in (out_a, out_b)]
    assert acc[0] == acc[1]
    for o in (out_a, out_b):  # the warning is one readable line, not a Python warning dump
        warn = [ln for ln in o.err.splitlines() if "warning" in ln]
        assert len(warn) == 1 and warn[0].startswith("shendu: warning: data set 'mnist': train-images-idx3-ubyte.gz")
        assert "not the official files" in warn[0]


def test_normalize_false_gives_raw_uint8(own_mnist, tmp_path):
    with pytest.warns(ChecksumWarning):
        (raw, _), _ = load_mnist(data_dir=own_mnist, download=False, normalize=False)
        (scaled, _), _ = load_mnist(data_dir=own_mnist, download=False)
    assert raw.dtype == np.uint8 and raw.max() == 255 and raw.min() == 0
    assert scaled.dtype == np.float32 and scaled.max() == 1.0
    np.testing.assert_allclose(raw / np.float32(255), scaled)
    write_cifar10_like(tmp_path, per_batch=4, n_test=4)
    (cr, _), _ = load_cifar10(root=tmp_path, download=False, verify=False, normalize=False)
    assert cr.dtype == np.uint8 and cr.max() > 200
    (dr, _), _ = load_digits(normalize=False)
    (ds, _), _ = load_digits()
    assert dr.dtype == np.uint8 and dr.max() == 16
    np.testing.assert_allclose(dr / np.float32(16), ds)


@pytest.mark.skipif(not hasattr(__import__("os"), "fchmod"), reason="POSIX file modes")
def test_downloaded_files_respect_the_umask(http_root, tmp_path):
    import os
    import stat

    from shendu.data.datasets import download_file

    served, url = http_root
    (served / "blob.bin").write_bytes(b"x" * 100)
    old = os.umask(0o027)
    try:
        path = download_file(url + "blob.bin", tmp_path / "blob.bin", sha256=None)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640  # not mkstemp's 0600
