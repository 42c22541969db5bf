"""Load PyTorch weights into the matching shendu module: ``load_torch_state_dict(module, path_or_dict)``.

shendu's layers use PyTorch's parameter names and layouts (Linear/Conv weight (out, in, *k), BatchNorm
``running_mean``/``running_var``/``num_batches_tracked``, RNN/LSTM/GRU ``weight_ih_l{k}[_reverse]`` with
PyTorch's gate order, Embedding, MultiheadAttention ``in_proj_weight``), so names map 1:1; prefixes added
by wrappers (``module.`` from DataParallel/DDP, ``_orig_mod.`` from torch.compile) are stripped, and
``key_map`` renames the rest. Files: safetensors (``safetensors.torch.save_file``; read without torch) or
torch's .pt/.pth zip (``torch.save``; read with ``torch.load(weights_only=True)``, needs torch).
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

_WRAPPER_PREFIXES = ("module.", "_orig_mod.")


class StateDictMismatch(KeyError):
    """The checkpoint's keys or shapes do not match the module (the message lists every difference)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _to_numpy(v, key):
    if hasattr(v, "_data") and not hasattr(v, "detach"):  # a shendu Tensor
        from ..backend import to_host

        return np.asarray(to_host(v._data))
    if hasattr(v, "detach") and hasattr(v, "cpu"):  # a torch.Tensor
        t = v.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":
            import ml_dtypes
            import torch

            return t.contiguous().view(torch.int16).numpy().view(ml_dtypes.bfloat16)
        return t.numpy()
    if isinstance(v, np.ndarray) or np.isscalar(v):
        return np.asarray(v)
    raise TypeError(f"load_torch_state_dict: {key!r} holds a {type(v).__name__}, expected a tensor or array")


def read_torch_state_dict(path_or_dict) -> dict:
    """name -> NumPy array from a safetensors file, a torch .pt/.pth file, or a dict (torch/shendu tensors, arrays).

    A checkpoint dict that wraps the weights under "state_dict" or "model" is unwrapped."""
    src = path_or_dict
    if isinstance(src, (str, os.PathLike)):
        path = os.fspath(src)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"load_torch_state_dict: no file {path!r}")
        with open(path, "rb") as fh:
            head = fh.read(4)
        if head[:2] == b"PK":  # torch.save's zip format
            try:
                import torch
            except ImportError as e:
                raise ImportError(f"load_torch_state_dict: {path!r} is a torch .pt file; reading it needs torch "
                                  "(pip install torch), or save it as safetensors instead") from e
            src = torch.load(path, map_location="cpu", weights_only=True)
        else:
            from safetensors.numpy import load_file

            try:
                src = load_file(path)
            except Exception as e:  # not safetensors (e.g. torch's legacy non-zip format), or a dtype NumPy lacks
                raise ValueError(f"load_torch_state_dict: could not read {path!r} as safetensors or a torch zip "
                                 f"file ({type(e).__name__}: {e}); save it with safetensors or torch.save") from e
    if not isinstance(src, Mapping):
        raise TypeError(f"load_torch_state_dict: expected a path or a dict name -> tensor, got {type(src).__name__}")
    for wrap in ("state_dict", "model"):
        if isinstance(src.get(wrap), Mapping):  # a training checkpoint {"state_dict": ..., "epoch": ...}
            src = src[wrap]
            break
    return {str(k): _to_numpy(v, k) for k, v in src.items()}


def load_torch_state_dict(module, path_or_dict, strict: bool = True, key_map=None):
    """Copy PyTorch weights into ``module`` (its state-dict names are PyTorch's; see the module docstring).

    ``key_map``: dict old -> new name, or a callable name -> new name (None drops the key). ``strict``:
    missing, unexpected and mis-shaped keys raise ``StateDictMismatch`` listing all of them; with
    ``strict=False`` missing/unexpected keys are skipped (shape mismatches still raise). Values are cast to
    the module's dtypes and moved to its devices. Returns (missing_keys, unexpected_keys)."""
    sd_in = read_torch_state_dict(path_or_dict)
    own = module.state_dict()
    mapped = {}
    for k, v in sd_in.items():
        nk = k
        if callable(key_map):
            nk = key_map(k)
        elif key_map is not None:
            nk = key_map.get(k, k)
        if nk is None:
            continue
        if nk not in own:
            for p in _WRAPPER_PREFIXES:
                while nk.startswith(p) and nk not in own:
                    nk = nk[len(p):]
        mapped[nk] = v
    missing = [k for k in own if k not in mapped]
    unexpected = [k for k in mapped if k not in own]
    shapes = [f"{k}: file {tuple(v.shape)} vs module {tuple(own[k].shape)}" for k, v in mapped.items()
              if k in own and tuple(v.shape) != tuple(own[k].shape)]
    if shapes or (strict and (missing or unexpected)):
        parts = []
        if missing:
            parts.append(f"missing keys ({len(missing)}): {missing}")
        if unexpected:
            parts.append(f"unexpected keys ({len(unexpected)}): {unexpected}")
        if shapes:
            parts.append(f"mis-shaped keys ({len(shapes)}): {shapes}")
        raise StateDictMismatch(f"load_torch_state_dict into {type(module).__name__}: " + "; ".join(parts))
    bad = [k for k, v in mapped.items() if k in own and v.dtype.kind not in "biuf" and str(v.dtype) != "bfloat16"]
    if bad:
        raise TypeError(f"load_torch_state_dict: non-numeric values for {bad}")
    cast = {k: v.astype(np.float32) if str(v.dtype) == "bfloat16" else v for k, v in mapped.items() if k in own}
    module.load_state_dict(cast, strict=False)
    return missing, unexpected
