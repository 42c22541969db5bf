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

Modules: fileformat (safetensors layout, encoding, digests), atomic (atomic writes), checks (header and tree
checks on load), saveload (save, load).
"""
from .fileformat import CheckpointError  # noqa: F401
from .atomic import _chmod_as_umask, atomic_write_bytes  # noqa: F401
from .saveload import save, load, safe_globals, add_safe_globals  # noqa: F401

__all__ = ["save", "load", "CheckpointError", "atomic_write_bytes"]
