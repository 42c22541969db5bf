"""Shared timing helpers for the side-by-side benchmarks (shendu vs NumPy vs PyTorch in one run).

Quote medians, never a single run (DESIGN.md, performance practice)."""
from __future__ import annotations

import statistics
import time


def bench(fn, warmup: int = 3, repeat: int = 20, number: int = 1, timer=time.perf_counter) -> float:
    """Median seconds per call of ``fn`` over ``repeat`` timings of ``number`` calls each (``timer``: the wall
    clock; ``time.process_time`` counts only this process's CPU time, steadier on a shared machine)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = timer()
        for _ in range(number):
            fn()
        times.append((timer() - t0) / number)
    return statistics.median(times)


def try_torch():
    """Import torch if installed, else None (benchmarks then print shendu alone)."""
    try:
        import torch

        return torch
    except Exception:  # pragma: no cover - depends on the machine
        return None


def fmt_time(s: float) -> str:
    if s < 1e-3:
        return f"{s * 1e6:8.2f} us"
    if s < 1:
        return f"{s * 1e3:8.3f} ms"
    return f"{s:8.3f} s "


def table(rows, headers) -> str:
    """Render rows (lists of str) as an aligned text table."""
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, widths))
    out = [line, "-" * len(line)]
    for r in rows:
        out.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    return "\n".join(out)


def profile_steps(step, n: int, top: int = 20) -> None:
    """cProfile ``n`` calls of ``step`` and print the ``top`` entries by own time (for ``--profile``)."""
    import cProfile
    import pstats

    pr = cProfile.Profile()
    pr.enable()
    for _ in range(n):
        step()
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(top)


# --- peak memory of a training loop, measured in a fresh subprocess ---------------------------------------------
def rss_kib(field: str) -> int:
    """A field of /proc/self/status in KiB (``VmRSS`` resident now, ``VmHWM`` peak); 0 where there is none."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (``VmHWM``) to the resident size now; False where it cannot be."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def measure_mem(script: str, fw: str, name: str) -> dict:
    """Run ``script --mem-child fw name`` in a fresh interpreter and return the JSON line it prints last
    (``{"error": last stderr line}`` if it failed)."""
    import json
    import subprocess
    import sys

    r = subprocess.run([sys.executable, script, "--mem-child", fw, name], capture_output=True, text=True,
                       timeout=600)
    if r.returncode:
        return {"error": (r.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(r.stdout.strip().splitlines()[-1])
