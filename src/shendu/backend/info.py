"""What the array backend is and why a GPU backend is or is not available (``shendu info``)."""
from __future__ import annotations

import os
import platform


def _thread_pools(pools) -> str:
    """'openblas 2 (numpy, scipy)': each library kind and thread count once, with the packages that load a copy
    (NumPy and SciPy each ship their own OpenBLAS; threadpoolctl reports both)."""
    seen: dict = {}
    for p in pools:
        key = f"{p.get('internal_api', '?')} {p.get('num_threads', '?')}"
        owner = os.path.basename(os.path.dirname(p.get("filepath") or "")).removesuffix(".libs")
        owners = seen.setdefault(key, [])
        if owner and owner not in owners:
            owners.append(owner)
    return ", ".join(f"{k} ({', '.join(o)})" if o else k for k, o in seen.items()) or "none found"


def info() -> dict:
    """Versions, BLAS, CPU and BLAS/OpenMP thread counts and GPU availability, as a dict of strings."""
    import numpy as np

    from . import cuda_backend, cuda_unavailable_reason, get_default_device, get_default_dtype

    why = cuda_unavailable_reason()
    ok = why is None
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")
        deps = cfg.get("Build Dependencies", {})
        b = deps.get("blas", {})
        blas = f"{b.get('name', '?')} {b.get('version', '')}".strip()
    except Exception:  # pragma: no cover - older NumPy without mode="dicts"
        pass
    threads = "unknown"
    try:
        from threadpoolctl import threadpool_info

        threads = _thread_pools(threadpool_info())
    except Exception:  # pragma: no cover - threadpoolctl missing
        pass
    try:
        from importlib.metadata import version

        shendu_version = version("shendu")
    except Exception:  # pragma: no cover - running from a source tree that is not installed
        shendu_version = "unknown (not installed)"
    out = {
        "shendu": shendu_version,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "cpu_count": str(os.cpu_count()),
        "threads": threads,
        "default_dtype": str(get_default_dtype()),
        "backend": "numpy (cpu)" + (", cupy (cuda)" if ok else ""),
        "default_device": str(get_default_device()),
        "cuda": "available" if ok else f"not available: {why}",
    }
    if ok:
        out.update(cuda_backend().info())
    return out


def info_text() -> str:
    """``info()`` as aligned lines, for the command line."""
    d = info()
    width = max(map(len, d))
    return "\n".join(f"{k:<{width}}  {v}" for k, v in d.items())
