"""`sd.save(obj, path)` / `sd.load(path)`: state dicts and checkpoints, never pickle.

Format: one safetensors file. Every array leaf (Tensor or ndarray) of `obj` is a safetensors tensor;
the rest of the structure (dicts, lists, tuples, numbers, strings, None) is JSON kept in the
safetensors header's ``__metadata__`` together with a SHA-256 of the tensor bytes, so truncated or
corrupted files are rejected with a clear `CheckpointError`. A plain state dict (str -> array) keeps
its own key names, so the file is an ordinary safetensors state dict for other tools too.
Writes are atomic: temp file in the same folder, fsync, `os.replace`, fsync of the folder; a crash
mid-save leaves the previous file intact. Loading parses JSON and raw arrays only: it cannot run code.
Tensors on a GPU are saved from host copies (`to_host`); `sd.load(path, map_location=...)` puts the loaded
Tensors on the CPU (default, as PyTorch) or on the device named.
(Textbook 7.8: the early-stopping copy of the best parameters may live on disk; this is that store.)
"""
from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import struct
import tempfile
from collections import OrderedDict

import numpy as np

from .backend import CPU, device, is_host, resolve, to_device, to_host

__all__ = ["save", "load", "CheckpointError", "atomic_write_bytes"]

_FORMAT = "shendu-checkpoint"
_VERSION = 1
_MAX_HEADER = 100 * 1024 * 1024


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupted or not a shendu/safetensors file."""


# ----------------------------------------------------------------------------- encode
def _is_tensor(x):
    from .autograd.tensor import Tensor

    return isinstance(x, Tensor)


def _is_device_array(x):
    """An array on a device (a CuPy array; arrays of the strict stand-in), not a host array or scalar."""
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.generic) and not is_host(x)


def _encode(obj, path, tensors, where):
    """JSON-able tree for `obj`; arrays go into `tensors` (name -> contiguous host ndarray)."""
    if _is_tensor(obj) or isinstance(obj, np.ndarray) or _is_device_array(obj):
        kind = "tensor" if _is_tensor(obj) else "ndarray"
        arr = to_host(obj._data if kind == "tensor" else obj)  # device arrays: an explicit copy to the host
        if not isinstance(arr, np.ndarray):  # a NumPy scalar held by a 0-d tensor
            arr = np.asarray(arr)
        if arr.dtype == object or arr.dtype.kind in "USV":
            raise TypeError(f"sd.save: array at {where or '<root>'} has dtype {arr.dtype}, which safetensors cannot store")
        name = path or "tensor"
        if name in tensors:
            i = 1
            while f"{name}#{i}" in tensors:
                i += 1
            name = f"{name}#{i}"
        tensors[name] = arr if arr.flags.c_contiguous else np.array(arr, order="C")  # keeps 0-d shapes
        return {"__array__": name, "kind": kind}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, numbers.Integral):
        return int(obj)
    if isinstance(obj, numbers.Real):
        f = float(obj)
        return f if math.isfinite(f) else {"__float__": repr(f)}
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj) and not any(k.startswith("__") and k.endswith("__") for k in obj):
            return {k: _encode(v, f"{path}.{k}" if path else k, tensors, f"{where}[{k!r}]") for k, v in obj.items()}
        items = []
        for k, v in obj.items():
            if isinstance(k, np.generic):
                k = k.item()
            if not isinstance(k, (str, int, float, bool)) and k is not None:
                raise TypeError(f"sd.save: dict key {k!r} at {where or '<root>'} must be str, int, float, bool or None")
            items.append([k, _encode(v, f"{path}.{k}" if path else str(k), tensors, f"{where}[{k!r}]")])
        return {"__dict__": items}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{path}.{i}" if path else str(i), tensors, f"{where}[{i}]")
                              for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{path}.{i}" if path else str(i), tensors, f"{where}[{i}]") for i, v in enumerate(obj)]
    raise TypeError(f"sd.save: cannot store {type(obj).__name__} at {where or '<root>'}; "
                    "expected Tensor/ndarray, dict, list, tuple, str, number, bool or None (no pickling)")


def _digest(tensors):
    h = hashlib.sha256()
    for name in sorted(tensors):
        h.update(name.encode())
        h.update(memoryview(tensors[name]).cast("B") if tensors[name].size else b"")
    return h.hexdigest()


def atomic_write_bytes(path, data: bytes) -> None:
    """Write `data` to `path` atomically: temp file in the same folder, fsync, os.replace, fsync folder."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def save(obj, path) -> None:
    """Save a state dict / checkpoint tree `obj` to `path` (safetensors + JSON metadata, atomic).

    obj: Tensor/ndarray, or nested dict/list/tuple of arrays, numbers, strings, bools, None
    (dict keys str/int/float/bool/None). `sd.load(path)` returns the same structure. Tensors and arrays on
    a GPU are written from host copies.
    """
    from safetensors.numpy import save as st_save

    if hasattr(obj, "state_dict") and callable(obj.state_dict) and not isinstance(obj, dict):
        raise TypeError(f"sd.save: got a {type(obj).__name__}; save its state_dict() instead (no pickling of objects)")
    tensors: dict = {}
    tree = _encode(obj, "", tensors, "")
    meta = {"format": _FORMAT, "version": _VERSION, "tree": tree, "sha256": _digest(tensors)}
    data = st_save(tensors, metadata={"shendu": json.dumps(meta, allow_nan=False)})
    atomic_write_bytes(path, data)


# ----------------------------------------------------------------------------- decode
def _decode(node, arrays, dev=CPU):
    if isinstance(node, list):
        return [_decode(v, arrays, dev) for v in node]
    if isinstance(node, dict):
        if "__array__" in node:
            arr = arrays[node["__array__"]]
            if node.get("kind") == "tensor":
                from .autograd.tensor import _wrap

                return _wrap(arr if dev is CPU else to_device(arr, dev))
            return arr
        if "__float__" in node:
            return float(node["__float__"])
        if "__tuple__" in node:
            return tuple(_decode(v, arrays, dev) for v in node["__tuple__"])
        if "__dict__" in node:
            return {k: _decode(v, arrays, dev) for k, v in node["__dict__"]}
        return {k: _decode(v, arrays, dev) for k, v in node.items()}
    return node


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


def _read_header(blob, path):
    if len(blob) < 8:
        raise CheckpointError(f"sd.load: {path} is truncated or not a checkpoint ({len(blob)} bytes, need a 8-byte header)")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > _MAX_HEADER or 8 + n > len(blob):
        raise CheckpointError(f"sd.load: {path} is truncated or corrupted (header claims {n} bytes, file has {len(blob)})")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"sd.load: {path} has a corrupted header ({e})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"sd.load: {path} has a corrupted header (not a JSON object)")
    end = 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            lo, hi = info["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise CheckpointError(f"sd.load: {path} has a corrupted header entry for {name!r}") from None
        if end + hi > len(blob):
            raise CheckpointError(f"sd.load: {path} is truncated: tensor {name!r} needs bytes up to "
                                  f"{end + hi}, file has {len(blob)}")
    return header


def load(path, map_location=None):
    """Load what `sd.save` wrote (or any safetensors state dict) from `path`; never runs code.

    Returns the saved tree with Tensors where Tensors were saved (plain safetensors files: a dict
    name -> Tensor). Raises FileNotFoundError, or CheckpointError (a ValueError) on a bad file.
    `map_location`: where the Tensors go: None or "cpu" (the host, default), "cuda", "cuda:N" or an
    ``sd.device`` (a RuntimeError says why when that device is not available). Plain NumPy arrays that
    were saved as such stay NumPy arrays (``load_state_dict`` of modules and optimizers moves them).
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load as st_load

    dev = _map_location(map_location)
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"sd.load: no checkpoint at {path}")
    with open(path, "rb") as f:
        blob = f.read()
    header = _read_header(blob, path)
    try:
        arrays = st_load(blob)
    except SafetensorError as e:
        raise CheckpointError(f"sd.load: {path} is corrupted or truncated ({e})") from None
    arrays = {k: np.array(v, copy=True) if not v.flags.writeable else v for k, v in arrays.items()}
    meta_all = header.get("__metadata__") or {}
    raw = meta_all.get("shendu") if isinstance(meta_all, dict) else None
    if raw is None:  # a plain safetensors state dict written by another tool
        from .autograd.tensor import _wrap

        return OrderedDict((k, _wrap(arrays[k] if dev is CPU else to_device(arrays[k], dev)))
                           for k in sorted(arrays, key=lambda k: header[k]["data_offsets"][0]))
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"sd.load: {path} has corrupted metadata ({e})") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise CheckpointError(f"sd.load: {path} has unknown metadata (expected format {_FORMAT!r})")
    if int(meta.get("version", 0)) > _VERSION:
        raise CheckpointError(f"sd.load: {path} was written by a newer shendu (format version {meta['version']}, "
                              f"this one reads up to {_VERSION})")
    if _digest(arrays) != meta.get("sha256"):
        raise CheckpointError(f"sd.load: {path} is corrupted (SHA-256 of the tensor data does not match)")
    return _decode(meta["tree"], arrays, dev)
