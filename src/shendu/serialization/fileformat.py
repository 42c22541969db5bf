"""The checkpoint format: a safetensors file whose ``__metadata__`` holds the JSON tree (textbook 7.8 store of
the best parameters). Dtype codes, limits, `CheckpointError`, encoding a tree into tensors + JSON, and the
SHA-256 digests (version 1: tensor bytes; version 2: parsed header and tensor bytes).
"""
from __future__ import annotations

import hashlib
import json
import math
import numbers
import struct

import numpy as np

from ..backend import is_array, to_host
from ..backend.lowp import bfloat16

_FORMAT = "shendu-checkpoint"
_VERSION = 2  # 1: SHA-256 of the tensor bytes only; 2: of the parsed header and the tensor bytes
_MAX_HEADER = 100 * 1024 * 1024
_MAX_DEPTH = 100  # nesting levels of dicts/lists/tuples in a checkpoint tree
_MAX_NDIM = 64
_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64, "U64": np.uint64,
           "I32": np.int32, "U32": np.uint32, "I16": np.int16, "U16": np.uint16, "I8": np.int8, "U8": np.uint8,
           "BOOL": np.bool_, "C64": np.complex64}
if bfloat16 is not None:  # ml_dtypes' bfloat16 (a declared dependency); without it BF16 loads as float32
    _DTYPES["BF16"] = bfloat16
_CODES = {np.dtype(t): code for code, t in _DTYPES.items()}
_ITEMSIZE = {code: np.dtype(t).itemsize for code, t in _DTYPES.items()}
_ITEMSIZE["BF16"] = 2


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupted, malformed, or not a shendu/safetensors file."""


# ----------------------------------------------------------------------------- encode
def _is_tensor(x):
    from ..autograd.tensor import Tensor

    return isinstance(x, Tensor)


def _storable(arr, where):
    """`arr` as a C-contiguous little-endian host array of a safetensors dtype, or a TypeError saying why not."""
    if not isinstance(arr, np.ndarray):  # a NumPy scalar held by a 0-d tensor
        arr = np.asarray(arr)
    native = arr.dtype.newbyteorder("=") if arr.dtype.byteorder in "<>" else arr.dtype
    if native not in _CODES:
        hint = {"M": "; convert datetimes to int64 first (arr.astype('int64'))", "m": "; convert to int64 first",
                "O": "; object arrays would need pickle"}.get(arr.dtype.kind, "")
        raise TypeError(f"sd.save: array at {where or '<root>'} has dtype {arr.dtype}, which safetensors cannot "
                        f"store (supported: {', '.join(sorted(str(d) for d in _CODES))}){hint}")
    little = native.newbyteorder("<")
    if arr.dtype != little:  # big-endian data: stored as little-endian, so it loads back as the same values
        arr = arr.astype(little)
    return arr if arr.flags.c_contiguous else np.array(arr, order="C")  # np.array keeps 0-d shapes


def _key(k, where):
    if isinstance(k, np.generic):
        k = k.item()
    if not isinstance(k, (str, int, float, bool)) and k is not None:
        raise TypeError(f"sd.save: dict key {k!r} at {where or '<root>'} must be str, int, float, bool or None")
    if isinstance(k, float) and not math.isfinite(k):
        raise ValueError(f"sd.save: dict key {k!r} at {where or '<root>'} is not finite; JSON cannot store it")
    return k


def _encode(obj, path, tensors, where, depth=0):
    """JSON-able tree for `obj`; arrays go into `tensors` (name -> contiguous little-endian host ndarray)."""
    if _is_tensor(obj) or is_array(obj):
        kind = "tensor" if _is_tensor(obj) else "ndarray"
        arr = _storable(to_host(obj._data if kind == "tensor" else obj), where)  # device arrays: copied to host
        name = path or "tensor"
        if name == "__metadata__":
            raise ValueError(f"sd.save: the array at {where} would be stored under the name '__metadata__', which "
                             "safetensors reserves for the file's metadata; rename that key")
        if name in tensors:
            i = 1
            while f"{name}#{i}" in tensors:
                i += 1
            name = f"{name}#{i}"
        tensors[name] = arr
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
    if isinstance(obj, (dict, list, tuple)) and depth >= _MAX_DEPTH:
        raise ValueError(f"sd.save: {where or '<root>'} is nested deeper than {_MAX_DEPTH} levels of "
                         "dicts/lists/tuples, which sd.load refuses")
    d = depth + 1
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj) and not any(k.startswith("__") and k.endswith("__") for k in obj):
            return {k: _encode(v, f"{path}.{k}" if path else k, tensors, f"{where}[{k!r}]", d) for k, v in obj.items()}
        items = []
        for k, v in obj.items():
            k = _key(k, where)
            items.append([k, _encode(v, f"{path}.{k}" if path else str(k), tensors, f"{where}[{k!r}]", d)])
        return {"__dict__": items}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v, f"{path}.{i}" if path else str(i), tensors, f"{where}[{i}]", d)
                              for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{path}.{i}" if path else str(i), tensors, f"{where}[{i}]", d) for i, v in enumerate(obj)]
    raise TypeError(f"sd.save: cannot store {type(obj).__name__} at {where or '<root>'}; "
                    "expected Tensor/ndarray, dict, list, tuple, str, number, bool or None (no pickling)")


def _bytes_of(arr):
    return memoryview(arr.reshape(-1).view(np.uint8))


def _digest_v1(arrays):
    """Format 1: SHA-256 over tensor names and bytes (the header itself is not covered)."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        h.update(name.encode())
        h.update(_bytes_of(np.ascontiguousarray(arrays[name])) if arrays[name].size else b"")
    return h.hexdigest()


def _digest_v2(meta, other_metadata, table, data):
    """Format 2: SHA-256 over the parsed header (JSON tree, tensor table, metadata) and the data bytes."""
    body = {k: v for k, v in meta.items() if k != "sha256"}
    canon = json.dumps([body, other_metadata, sorted(table.items())], separators=(",", ":"), ensure_ascii=True)
    h = hashlib.sha256(canon.encode())
    h.update(b"\0")
    for chunk in data:
        h.update(chunk)
    return h.hexdigest()


def _serialize(tree, tensors):
    """The file as a list of byte chunks: length, header (padded to 8 bytes), tensor data (largest items first)."""
    names = sorted(tensors, key=lambda k: (-tensors[k].dtype.itemsize, k))  # keeps every tensor aligned
    table, data, lo = {}, [], 0
    for k in names:
        a = tensors[k]
        table[k] = [_CODES[a.dtype.newbyteorder("=") if a.dtype.byteorder in "<>" else a.dtype],
                    list(a.shape), lo, lo + a.nbytes]
        lo += a.nbytes
        data.append(_bytes_of(a))
    meta = {"format": _FORMAT, "version": _VERSION, "tree": tree}
    meta["sha256"] = _digest_v2(meta, {}, table, data)
    header = {"__metadata__": {"shendu": json.dumps(meta, allow_nan=False)}}
    header.update({k: {"dtype": c, "shape": s, "data_offsets": [a, b]} for k, (c, s, a, b) in table.items()})
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    return [struct.pack("<Q", len(hb)), hb, *data]
