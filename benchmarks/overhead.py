"""Per-op framework overhead: small-array add and matmul, forward + backward, shendu vs NumPy vs PyTorch.

Issue 2's target: overhead per differentiable op on a 4x4 array <= 5 us and <= 0.5x PyTorch's.
Overhead per op = (time of the fwd+bwd step - time of the same NumPy arithmetic) / ops in the step.
The chain runs twice: eagerly, and through ``sd.autograd.capture`` (recorded on its first two calls, then its ops
replayed as one graph node; PyTorch runs eagerly in both rows).

    python benchmarks/overhead.py [--cpu-time]

``--cpu-time`` times with the process's CPU clock instead of the wall clock (the same median of blocks): on a
machine shared with other jobs it leaves out the time spent waiting for a core, so A/B runs stay comparable.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import bench, fmt_time, table, try_torch  # noqa: E402

import shendu as sd  # noqa: E402


def main(n: int = 4, repeat: int = 30, number: int = 2000, timer=time.perf_counter):
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((n, n)).astype(np.float32)
    b_np = rng.standard_normal((n, n)).astype(np.float32)
    rows = []

    # --- add: y = a + b; y.backward(ones) -------------------------------------------------
    a = sd.tensor(a_np, requires_grad=True)
    b = sd.tensor(b_np, requires_grad=True)
    g = sd.ones(n, n)

    def sd_add():
        a.grad = b.grad = None
        (a + b).backward(g)

    ones = np.ones((n, n), np.float32)

    def np_add():  # the arithmetic alone: forward sum, and the two gradient copies backward needs
        y = a_np + b_np
        return y, ones.copy(), ones.copy()

    # --- matmul: y = a @ b; y.backward(ones) ------------------------------------------------
    def sd_mm():
        a.grad = b.grad = None
        (a @ b).backward(g)

    def np_mm():
        y = a_np @ b_np
        return y, ones @ b_np.T, a_np.T @ ones

    t_sd_add = bench(sd_add, repeat=repeat, number=number, timer=timer)
    t_np_add = bench(np_add, repeat=repeat, number=number, timer=timer)
    t_sd_mm = bench(sd_mm, repeat=repeat, number=number, timer=timer)
    t_np_mm = bench(np_mm, repeat=repeat, number=number, timer=timer)

    torch = try_torch()
    t_th_add = t_th_mm = None
    if torch is not None:
        torch.set_num_threads(1)
        ta = torch.tensor(a_np, requires_grad=True)
        tb = torch.tensor(b_np, requires_grad=True)
        tg = torch.ones(n, n)

        def th_add():
            ta.grad = tb.grad = None
            (ta + tb).backward(tg)

        def th_mm():
            ta.grad = tb.grad = None
            (ta @ tb).backward(tg)

        t_th_add = bench(th_add, repeat=repeat, number=number, timer=timer)
        t_th_mm = bench(th_mm, repeat=repeat, number=number, timer=timer)

    # --- a chain of k mul ops and one backward: the per-op cost inside a graph -------------
    k = 10

    def sd_chain():
        a.grad = b.grad = None
        h = a
        for _ in range(k):
            h = h * b
        h.backward(g)

    def np_chain():  # forward products, and per op the two gradient products of backward
        h = a_np
        for _ in range(k):
            h = h * b_np
        gy = ones
        for _ in range(k):
            gy, _ = gy * b_np, gy * a_np
        return h, gy

    def chain(x, y):
        h = x
        for _ in range(k):
            h = h * y
        return h

    captured = sd.autograd.capture(chain)  # the same chain recorded once, then replayed (autograd.capture)

    def sd_chain_captured():
        a.grad = b.grad = None
        captured(a, b).backward(g)

    t_sd_ch = bench(sd_chain, repeat=repeat, number=number // 5, timer=timer) / k
    t_sd_cap = bench(sd_chain_captured, repeat=repeat, number=number // 5, timer=timer) / k
    t_np_ch = bench(np_chain, repeat=repeat, number=number // 5, timer=timer) / k
    t_th_ch = None
    if torch is not None:
        def th_chain():
            ta.grad = tb.grad = None
            h = ta
            for _ in range(k):
                h = h * tb
            h.backward(tg)

        t_th_ch = bench(th_chain, repeat=repeat, number=number // 5, timer=timer) / k

    for name, t_sd, t_np, t_th in (("add", t_sd_add, t_np_add, t_th_add), ("matmul", t_sd_mm, t_np_mm, t_th_mm),
                                   (f"mul, per op in a {k}-op chain", t_sd_ch, t_np_ch, t_th_ch),
                                   (f"mul, per op in a {k}-op chain, captured", t_sd_cap, t_np_ch, t_th_ch)):
        over = t_sd - t_np
        ratio = f"{t_sd / t_th:.2f}x" if t_th else "n/a"
        label = f"{name} {n}x{n} fwd+bwd" if "chain" not in name else f"{name} {n}x{n}"
        rows.append([label, fmt_time(t_np), fmt_time(t_sd), fmt_time(over),
                     fmt_time(t_th) if t_th else "n/a", ratio])
    print(table(rows, ["workload", "numpy", "shendu", "shendu overhead", "pytorch", "shendu/pytorch"]))
    return rows


if __name__ == "__main__":
    main(timer=time.process_time if "--cpu-time" in sys.argv[1:] else time.perf_counter)
