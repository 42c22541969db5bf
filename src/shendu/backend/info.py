"""What the array backend is and why a GPU backend is or is not available (``shendu info``)."""
from __future__ import annotations

import os
import platform


def info() -> dict:
    """Versions, BLAS, CPU and BLAS/OpenMP thread counts and GPU availability, as a dict of strings."""
    import numpy as np

    from . import cuda_available, cuda_backend, get_default_device, get_default_dtype

    ok, why = cuda_available()
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

        threads = ", ".join(f"{p['internal_api']} {p['num_threads']}" for p in threadpool_info()) or "none found"
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
