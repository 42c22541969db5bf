"""Fixtures for the data tests: tiny files in the real IDX / CIFAR-10 binary formats and a local HTTP server."""
import functools
import gzip
import hashlib
import http.server
import io
import struct
import tarfile
import threading

import numpy as np
import pytest


def idx_bytes(arr, code=None):
    """Encode `arr` as an IDX file (big-endian)."""
    codes = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype("i2"): 0x0B, np.dtype("i4"): 0x0C,
             np.dtype("f4"): 0x0D, np.dtype("f8"): 0x0E}
    arr = np.asarray(arr)
    code = codes[arr.dtype.newbyteorder("=")] if code is None else code
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_mnist_files(folder, n_train=5, n_test=3, seed=0):
    """Write the four MNIST gzip IDX files with random content; return (arrays, {name: sha256})."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    digests = {}
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        data = gzip.compress(idx_bytes(arr))
        (folder / name).write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    return arrays, digests


def cifar_batch_bytes(images, labels):
    """CIFAR-10 binary records: label byte + 3072 pixel bytes each."""
    rec = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(len(labels), -1)], axis=1)
    return rec.astype(np.uint8).tobytes()


def write_cifar_archive(path, per_batch=2, seed=0, skip=None):
    """Write a tiny cifar-10-binary.tar.gz; return ((x_train, y_train), (x_test, y_test)) uint8/ints."""
    rng = np.random.default_rng(seed)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    content = {}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in ["batches.meta.txt"] + names:
            if name == skip:
                continue
            if name.endswith(".bin"):
                x = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8)
                y = rng.integers(0, 10, per_batch)
                content[name] = (x, y)
                data = cifar_batch_bytes(x, y)
            else:
                data = b"airplane\nautomobile\n"
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    if skip is not None:
        return None
    train = [content[f"data_batch_{i}.bin"] for i in range(1, 6)]
    return ((np.concatenate([t[0] for t in train]), np.concatenate([t[1] for t in train])),
            content["test_batch.bin"])


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def http_root(tmp_path, monkeypatch):
    """(folder, base_url): files written to `folder` are served at base_url on 127.0.0.1."""
    for var in ("no_proxy", "NO_PROXY"):  # never send the local requests through a proxy
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fmt():
    """The file-format writers above, as a fixture (test modules never import conftest directly)."""
    import types

    return types.SimpleNamespace(idx_bytes=idx_bytes, write_mnist_files=write_mnist_files,
                                 cifar_batch_bytes=cifar_batch_bytes, write_cifar_archive=write_cifar_archive)
