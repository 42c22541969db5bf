"""IDX file format (MNIST, Fashion-MNIST): parse header and data, validating sizes.

Layout: magic = 0x00 0x00 <type code> <ndim>, then ndim big-endian uint32 sizes, then the data
in C order, big-endian. Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64. Images: magic 2051 (0x803, 3-D); labels: magic 2049 (0x801, 1-D).
"""
from __future__ import annotations

import gzip
import math
import struct
import zlib

import numpy as np

__all__ = ["parse_idx", "read_idx", "IDX_IMAGES_MAGIC", "IDX_LABELS_MAGIC"]

IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801
_DTYPES = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def parse_idx(data: bytes, name: str = "IDX data", expected_magic: int | None = None) -> np.ndarray:
    """Parse the bytes of one IDX file into an array of shape `dims` (native byte order)."""
    if len(data) < 4:
        raise ValueError(f"{name}: truncated IDX header ({len(data)} bytes, need at least 4)")
    magic = int.from_bytes(data[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(f"{name}: IDX magic number is 0x{magic:08x}, expected 0x{expected_magic:08x}")
    code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or code not in _DTYPES:
        raise ValueError(f"{name}: not an IDX file (magic number 0x{magic:08x})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{name}: truncated IDX header ({len(data)} bytes, need {header} for {ndim} dims)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = np.dtype(_DTYPES[code])
    count = math.prod(dims)
    need, have = count * dtype.itemsize, len(data) - header
    if have < need:
        raise ValueError(f"{name}: truncated IDX data: dims {dims} need {need} bytes, file has {have}")
    if have > need:
        raise ValueError(f"{name}: {have - need} unexpected trailing bytes after IDX data of dims {dims}")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def read_idx(path, expected_magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzip-compressed if it starts with the gzip magic bytes) into an array."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(f"{path}: truncated or corrupt gzip file ({exc})") from exc
    return parse_idx(raw, name=str(path), expected_magic=expected_magic)
