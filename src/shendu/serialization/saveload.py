"""`sd.save` / `sd.load` (torch.save / torch.load without pickle) and the PyTorch-compatible no-op
`safe_globals` / `add_safe_globals`.
"""
from __future__ import annotations

import io
import os
from collections import OrderedDict

from ..backend import CPU, device, resolve, to_device
from .atomic import _atomic_write
from .checks import _arrays, _check_table, _check_tree, _parse_header, _shendu_meta
from .fileformat import CheckpointError, _digest_v1, _digest_v2, _encode, _serialize


def save(obj, f) -> None:
    """Save a state dict / checkpoint tree `obj` to `f`, a path (atomic) or a binary file object.

    obj: Tensor/ndarray, or nested dict/list/tuple of arrays, numbers, strings, bools, None
    (dict keys str/int/float/bool/None). `sd.load(f)` returns the same structure. Tensors and arrays on
    a GPU are written from host copies; big-endian arrays are stored little-endian.
    """
    if hasattr(obj, "state_dict") and callable(obj.state_dict) and not isinstance(obj, dict):
        raise TypeError(f"sd.save: got a {type(obj).__name__}; save its state_dict() instead (no pickling of objects)")
    writable = hasattr(f, "write")
    if writable and isinstance(f, io.TextIOBase):
        raise TypeError("sd.save: the file object is open in text mode; open it in binary mode ('wb')")
    if not writable and not isinstance(f, (str, bytes, os.PathLike)):
        raise TypeError(f"sd.save: f must be a path or a binary file object, got {type(f).__name__}")
    tensors: dict = {}
    chunks = _serialize(_encode(obj, "", tensors, ""), tensors)
    if writable:
        for c in chunks:
            f.write(c)
    else:
        _atomic_write(f, chunks)


# ----------------------------------------------------------------------------- decode
def _map_location(map_location):
    """The device named by ``map_location`` (None: the CPU, as PyTorch's default for host-saved tensors)."""
    if map_location is None:
        return CPU
    if not isinstance(map_location, (str, device)) or isinstance(map_location, bool):
        raise ValueError(f"sd.load: map_location must be None, 'cpu', 'cuda', 'cuda:N' or an sd.device, "
                         f"got {map_location!r}")
    try:
        return resolve(map_location)
    except (TypeError, ValueError) as e:
        raise ValueError(f"sd.load: bad map_location {map_location!r}: {e}") from None


def _read(f):
    """(bytes of the file, name for messages) from a path or a binary file object (read to its end)."""
    if hasattr(f, "read"):
        if isinstance(f, io.TextIOBase):
            raise TypeError("sd.load: the file object is open in text mode; open it in binary mode ('rb')")
        name = getattr(f, "name", None)
        blob = f.read()
        if not isinstance(blob, (bytes, bytearray, memoryview)):
            raise TypeError(f"sd.load: reading the file object gave {type(blob).__name__}, expected bytes; "
                            "open it in binary mode ('rb')")
        return bytearray(blob), (name if isinstance(name, str) else f"<{type(f).__name__}>")
    if not isinstance(f, (str, bytes, os.PathLike)):
        raise TypeError(f"sd.load: f must be a path or a binary file object, got {type(f).__name__}")
    path = os.fsdecode(f)
    if not os.path.exists(path):
        raise FileNotFoundError(f"sd.load: no checkpoint at {path}")
    with open(path, "rb") as fh:
        blob = bytearray(os.fstat(fh.fileno()).st_size)
        n = fh.readinto(blob)
    return blob[:n] if n < len(blob) else blob, path


def _decode(node, arrays, dev=CPU):
    if isinstance(node, list):
        return [_decode(v, arrays, dev) for v in node]
    if isinstance(node, dict):
        if "__array__" in node:
            arr = arrays[node["__array__"]]
            if node["kind"] == "tensor":
                from ..autograd.tensor import _wrap

                return _wrap(to_device(arr, dev))
            return arr
        if "__float__" in node:
            return float(node["__float__"])
        if "__tuple__" in node:
            return tuple(_decode(v, arrays, dev) for v in node["__tuple__"])
        if "__dict__" in node:
            return {k: _decode(v, arrays, dev) for k, v in node["__dict__"]}
        return {k: _decode(v, arrays, dev) for k, v in node.items()}
    return node


def load(f, map_location=None, weights_only=True, mmap=None):
    """Load what `sd.save` wrote (or any safetensors state dict) from `f`, a path or a binary file object.

    ``weights_only`` and ``mmap`` are accepted so PyTorch programs run unchanged; they change nothing, since
    loading here is always weights-only (no pickle, no code) and reads the file once.

    Never runs code. Returns the saved tree with Tensors where Tensors were saved (plain safetensors files:
    a dict name -> Tensor). Raises FileNotFoundError, or CheckpointError (a ValueError) naming the file and
    the fault when it is truncated, corrupted or malformed. `map_location`: where the Tensors go: None or
    "cpu" (the host, default), "cuda", "cuda:N" or an ``sd.device`` (a RuntimeError says why when that
    device is not available). Plain NumPy arrays that were saved as such stay NumPy arrays
    (``load_state_dict`` of modules and optimizers moves them). A file object is read to its end.
    """
    dev = _map_location(map_location)
    blob, name = _read(f)
    header, start = _parse_header(blob, name)
    table = _check_table(header, len(blob) - start, name)
    metadata = header.get("__metadata__")
    meta = _shendu_meta(metadata, name)
    if meta is not None and meta["version"] >= 2:
        data = [memoryview(blob)[start:]]  # the tensors cover it exactly (checked above)
        others = {k: v for k, v in metadata.items() if k != "shendu"}
        if _digest_v2(meta, others, table, data) != meta["sha256"]:
            raise CheckpointError(f"sd.load: {name} is corrupted (SHA-256 of the header and tensor data does not "
                                  "match)")
    arrays = _arrays(table, blob, start)
    if meta is None:  # a plain safetensors state dict written by another tool
        from ..autograd.tensor import _wrap

        return OrderedDict((k, _wrap(to_device(arrays[k], dev)))
                           for k in sorted(arrays, key=lambda k: table[k][2]))
    if meta["version"] == 1 and _digest_v1(arrays) != meta["sha256"]:
        raise CheckpointError(f"sd.load: {name} is corrupted (SHA-256 of the tensor data does not match)")
    _check_tree(meta["tree"], arrays, name)
    return _decode(meta["tree"], arrays, dev)


class safe_globals:
    """Context manager (torch.serialization.safe_globals) accepted for PyTorch programs: harmless, because
    ``sd.load`` never unpickles or executes anything from a file, so there are no globals to allow."""

    def __init__(self, safe_globals=None):
        self.safe_globals = list(safe_globals or [])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def add_safe_globals(safe_globals) -> None:
    """No-op (torch.serialization.add_safe_globals): ``sd.load`` reads no pickled globals."""
