"""`sd.save(obj, f)` / `sd.load(f)`: state dicts and checkpoints, never pickle.

Format: one safetensors file. Every array leaf (Tensor or ndarray) of `obj` is a safetensors tensor;
the rest of the structure (dicts, lists, tuples, numbers, strings, None) is JSON kept in the
safetensors header's ``__metadata__``. A plain state dict (str -> array) keeps its own key names, so
the file is an ordinary safetensors state dict for other tools too.
Integrity (format version 2): a SHA-256 covers the whole parsed header (tensor names, dtypes, shapes,
offsets, the JSON tree) and the tensor bytes, and the header is checked against a schema before use
(dtype codes, shapes that match byte lengths, offsets inside the file, bounded nesting); any flaw raises
`CheckpointError` naming the file and the fault. Version-1 files (SHA-256 of the tensor bytes only)
still load. Saves that could not be loaded back are refused at save time.
Writes to a path are atomic: temp file in the same folder, fsync, `os.replace`, fsync of the folder; a
crash mid-save leaves the previous file intact, and the next save of that path removes the temp files
that killed saves left behind. `f` may also be a binary file object (``io.BytesIO``, ``open(p, "wb")``).
Loading parses JSON and raw arrays only: it cannot run code. Tensors on a GPU are saved from host
copies; `sd.load(f, map_location=...)` puts Tensors on the CPU (default, as PyTorch) or on the device named.
(Textbook 7.8: the early-stopping copy of the best parameters may live on disk; this is that store.)
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import numbers
import os
import re
import struct
import tempfile
import threading
from collections import OrderedDict

import numpy as np

from .backend import CPU, device, is_array, resolve, to_device, to_host
from .backend.lowp import bfloat16

__all__ = ["save", "load", "CheckpointError", "atomic_write_bytes"]

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
    from .autograd.tensor import Tensor

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


# ----------------------------------------------------------------------------- atomic writes
_IN_FLIGHT: set = set()  # temp files this process is writing now (other threads' saves)
_LOCK = threading.Lock()
_TMP_RE = re.compile(r"(?:(\d+)-)?[a-z0-9_]{8}")  # "<pid>-<random>" (random alone: written before pids)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by another user
        return True
    return True


def _remove_stale_temps(folder, base):
    """Delete temp files of `base` left by saves that were killed (their process is gone)."""
    prefix, me = f".{base}.", os.getpid()
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        m = _TMP_RE.fullmatch(name[len(prefix):-4])
        if m is None:
            continue
        pid = int(m.group(1)) if m.group(1) else None
        full = os.path.join(folder, name)
        with _LOCK:
            if full in _IN_FLIGHT or (pid is not None and pid != me and _pid_alive(pid)):
                continue
        try:
            os.unlink(full)
        except OSError:
            pass


def _chmod_as_umask(fd) -> None:
    """Give the temp file (mkstemp makes it 0600) the mode `open()` would: 0o666 & ~umask."""
    with _LOCK:  # os.umask reads by setting: keep the swap short and serialized
        mask = os.umask(0o022)
        os.umask(mask)
    try:
        os.fchmod(fd, 0o666 & ~mask)
    except (AttributeError, OSError):  # no fchmod (Windows) or a file system without modes
        pass


def _atomic_write(path, chunks) -> None:
    """Write the byte chunks to `path` atomically: temp file in the same folder, fsync, os.replace, fsync folder."""
    path = os.fsdecode(path)
    folder = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    os.makedirs(folder, exist_ok=True)
    _remove_stale_temps(folder, base)
    with _LOCK:
        fd, tmp = tempfile.mkstemp(prefix=f".{base}.{os.getpid()}-", suffix=".tmp", dir=folder)
        _IN_FLIGHT.add(tmp)
    try:
        with os.fdopen(fd, "wb") as f:
            for c in chunks:
                f.write(c)
            f.flush()
            _chmod_as_umask(f.fileno())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        with _LOCK:
            _IN_FLIGHT.discard(tmp)
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


def atomic_write_bytes(path, data: bytes) -> None:
    """Write `data` to `path` atomically: temp file in the same folder, fsync, os.replace, fsync folder."""
    _atomic_write(path, [data])


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


def _decode(node, arrays, dev=CPU):
    if isinstance(node, list):
        return [_decode(v, arrays, dev) for v in node]
    if isinstance(node, dict):
        if "__array__" in node:
            arr = arrays[node["__array__"]]
            if node["kind"] == "tensor":
                from .autograd.tensor import _wrap

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
        from .autograd.tensor import _wrap

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
