"""Activation checkpointing: peak memory against time (textbook 12.1.2, recomputation).

    python examples/efficient/checkpoint_memory.py [--quick] [--depth 16] [--width 512] [--batch 256]

Trains one step (forward + backward) of a deep tanh MLP three ways: plainly, and with
``utils.checkpoint.checkpoint_sequential`` in about sqrt(n) segments and in 2 segments (n = 2 * depth modules:
only segment boundaries are stored, plus one segment's activations while it is recomputed); reports
the peak traced memory of the step (``tracemalloc``, NumPy's allocations included) and its wall time (best of
``--repeat``). ``main`` returns {mode: {"peak_mb": ..., "seconds": ...}} and checks that the gradients agree.
"""
from __future__ import annotations

import argparse
import math
import time
import tracemalloc

import numpy as np

import shendu as sd
from shendu import nn
from shendu.utils.checkpoint import checkpoint_sequential


def build(depth, width, seed=0):
    sd.manual_seed(seed)
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), nn.Tanh()]
    return nn.Sequential(*layers)


def step(model, x, segments):
    model.zero_grad()
    y = model(x) if segments == 0 else checkpoint_sequential(model, segments, x)
    (y * y).mean().backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--depth", type=int, default=None)
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    depth = a.depth or (8 if a.quick else 16)
    width = a.width or (128 if a.quick else 512)
    batch = a.batch or (256 if a.quick else 1024)
    model = build(depth, width)
    x = sd.tensor(np.random.default_rng(0).normal(size=(batch, width)).astype(np.float32))
    n_mod = 2 * depth  # Linear and Tanh modules
    sq = max(2, round(math.sqrt(n_mod)))
    modes = {"plain": 0, f"{sq} segments (~sqrt n)": sq, "2 segments": 2}
    res, grads = {}, {}
    for name, seg in modes.items():
        tracemalloc.start()
        grads[name] = step(model, x, seg)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        best = float("inf")
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            step(model, x, seg)
            best = min(best, time.perf_counter() - t0)
        res[name] = {"peak_mb": peak / 2 ** 20, "seconds": best}
        print(f"{name:28s} peak {peak / 2 ** 20:8.2f} MiB   step {best * 1e3:8.1f} ms")
    ref = grads["plain"]
    for name, g in grads.items():
        err = max(float(np.abs(u - v).max()) for u, v in zip(ref, g))
        res[name]["max_grad_diff"] = err
    print("activation size per layer:", f"{batch * width * 4 / 2 ** 20:.2f} MiB")
    return res


if __name__ == "__main__":
    main()
