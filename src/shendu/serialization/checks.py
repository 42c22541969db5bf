"""Checks of a checkpoint before use: the header against its schema (dtype codes, shapes that match byte
lengths, offsets inside the file, bounded nesting) and the JSON tree against the tensors; any flaw raises
`CheckpointError` naming the file and the fault.
"""
from __future__ import annotations

import json
import math
import re
import struct

import numpy as np

from .fileformat import _DTYPES, _FORMAT, _ITEMSIZE, _MAX_DEPTH, _MAX_HEADER, _MAX_NDIM, _VERSION, CheckpointError


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _parse_header(blob, name):
    """The header as a dict, and where the data start; only length and JSON syntax are checked here."""
    if len(blob) < 8:
        raise CheckpointError(f"sd.load: {name} is truncated or not a checkpoint ({len(blob)} bytes, "
                              "need an 8-byte header length)")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > _MAX_HEADER or 8 + n > len(blob):
        raise CheckpointError(f"sd.load: {name} is truncated or corrupted (header length {n} bytes, "
                              f"file has {len(blob)})")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"sd.load: {name} has a corrupted header ({e})") from None
    except RecursionError:
        raise CheckpointError(f"sd.load: {name} has a header nested too deeply") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"sd.load: {name} has a corrupted header (not a JSON object)")
    return header, 8 + n


def _check_table(header, size, name):
    """The tensor table {tensor: [dtype, shape, lo, hi]} after checking it against the safetensors schema."""
    table = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        where = f"sd.load: {name}: header entry {key!r}"
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            got = sorted(info) if isinstance(info, dict) else type(info).__name__
            raise CheckpointError(f"{where} must have exactly 'dtype', 'shape', 'data_offsets', got {got}")
        code, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(code, str) or code not in _ITEMSIZE:
            raise CheckpointError(f"{where} has unknown dtype {code!r} (expected one of {sorted(_ITEMSIZE)})")
        if not isinstance(shape, list) or len(shape) > _MAX_NDIM or not all(_is_int(d) and d >= 0 for d in shape):
            raise CheckpointError(f"{where} has shape {shape!r}; expected a list of at most {_MAX_NDIM} ints >= 0")
        if not (isinstance(offs, list) and len(offs) == 2 and all(map(_is_int, offs)) and 0 <= offs[0] <= offs[1]):
            raise CheckpointError(f"{where} has data_offsets {offs!r}; expected [begin, end] ints, 0 <= begin <= end")
        nbytes = math.prod(shape) * _ITEMSIZE[code]
        if offs[1] - offs[0] != nbytes:
            raise CheckpointError(f"{where}: shape {shape} of {code} needs {nbytes} bytes, data_offsets {offs} "
                                  f"give {offs[1] - offs[0]}")
        table[key] = [code, shape, offs[0], offs[1]]
    pos = 0
    for key, (_, _, lo, hi) in sorted(table.items(), key=lambda kv: (kv[1][2], kv[1][3])):
        if lo != pos:
            raise CheckpointError(f"sd.load: {name}: tensor {key!r} starts at data byte {lo}, expected {pos} "
                                  "(tensors overlap or leave a gap)")
        pos = hi
    if pos > size:
        raise CheckpointError(f"sd.load: {name} is truncated: its tensors need {pos} data bytes, the file has {size}")
    if pos < size:
        raise CheckpointError(f"sd.load: {name} is corrupted: {size - pos} bytes after the last tensor's data")
    return table


def _arrays(table, blob, start):
    """The tensors as writable native-order arrays; they share the file's buffer where its data are aligned."""
    out = {}
    for key, (code, shape, lo, hi) in table.items():
        if code == "BF16" and "BF16" not in _DTYPES:  # no ml_dtypes: bfloat16 is the top half of a float32
            raw = np.frombuffer(blob, "<u2", (hi - lo) // 2, start + lo).astype(np.uint32) << 16
            out[key] = raw.view(np.float32).reshape(shape)
        else:
            dt = np.dtype(_DTYPES[code]).newbyteorder("<") if _ITEMSIZE[code] > 1 else np.dtype(_DTYPES[code])
            arr = np.frombuffer(blob, dt, (hi - lo) // dt.itemsize, start + lo).reshape(shape)
            native = arr.dtype.newbyteorder("=")
            out[key] = arr if arr.dtype == native and arr.flags.aligned else arr.astype(native)
    return out


def _check_tree(node, arrays, name, where="<root>", depth=0):
    """Raise CheckpointError unless `node` is a tree that `_encode` can write (and names only present arrays)."""
    if node is None or isinstance(node, (bool, int, float, str)):
        return
    bad = f"sd.load: {name}: malformed checkpoint tree at {where}"
    if depth >= _MAX_DEPTH:
        raise CheckpointError(f"{bad}: nested deeper than {_MAX_DEPTH} levels")
    d = depth + 1
    if isinstance(node, list):
        for i, v in enumerate(node):
            _check_tree(v, arrays, name, f"{where}[{i}]", d)
        return
    if not isinstance(node, dict):
        raise CheckpointError(f"{bad}: unexpected {type(node).__name__}")
    if "__array__" in node:
        if set(node) != {"__array__", "kind"} or node["kind"] not in ("tensor", "ndarray"):
            raise CheckpointError(f"{bad}: an array reference needs exactly '__array__' and kind 'tensor'/'ndarray'")
        if not isinstance(node["__array__"], str) or node["__array__"] not in arrays:
            raise CheckpointError(f"{bad}: refers to tensor {node['__array__']!r}, which the file does not hold")
    elif "__float__" in node:
        if set(node) != {"__float__"} or node["__float__"] not in ("inf", "-inf", "nan"):
            raise CheckpointError(f"{bad}: '__float__' must be 'inf', '-inf' or 'nan', got {node!r}")
    elif "__tuple__" in node:
        if set(node) != {"__tuple__"} or not isinstance(node["__tuple__"], list):
            raise CheckpointError(f"{bad}: '__tuple__' must hold a list")
        _check_tree(node["__tuple__"], arrays, name, where, depth)
    elif "__dict__" in node:
        items = node["__dict__"]
        if set(node) != {"__dict__"} or not isinstance(items, list):
            raise CheckpointError(f"{bad}: '__dict__' must hold a list of [key, value] pairs")
        for item in items:
            if not (isinstance(item, list) and len(item) == 2
                    and (item[0] is None or isinstance(item[0], (str, int, float, bool)))):
                raise CheckpointError(f"{bad}: '__dict__' item {item!r} is not a [key, value] pair with a scalar key")
            _check_tree(item[1], arrays, name, f"{where}[{item[0]!r}]", d)
    else:
        for k, v in node.items():
            _check_tree(v, arrays, name, f"{where}[{k!r}]", d)


def _shendu_meta(metadata, name):
    """The parsed shendu metadata (None for another tool's safetensors file)."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise CheckpointError(f"sd.load: {name}: header '__metadata__' must map strings to strings")
    raw = metadata.get("shendu")
    if raw is None:
        if any(_FORMAT in v for v in metadata.values()):  # our metadata under a damaged key
            raise CheckpointError(f"sd.load: {name} is corrupted: shendu metadata under the key "
                                  f"{next(k for k, v in metadata.items() if _FORMAT in v)!r}, expected 'shendu'")
        return None
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"sd.load: {name} has corrupted metadata ({e})") from None
    except RecursionError:
        raise CheckpointError(f"sd.load: {name}: metadata nested too deeply") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise CheckpointError(f"sd.load: {name} has unknown metadata (expected format {_FORMAT!r})")
    version = meta.get("version")
    if _is_int(version) and version > _VERSION:
        raise CheckpointError(f"sd.load: {name} was written by a newer shendu (format version {version}, "
                              f"this one reads up to {_VERSION})")
    if version not in (1, 2) or isinstance(version, bool):
        raise CheckpointError(f"sd.load: {name} has format version {version!r}; expected 1 or {_VERSION}")
    sha = meta.get("sha256")
    if "tree" not in meta or not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
        raise CheckpointError(f"sd.load: {name}: metadata needs 'tree' and a 64-hex-digit 'sha256'")
    return meta
