"""Winograd F(m x m, r x r) convolution (shendu.ops._winograd) against shendu's im2col path and PyTorch, same run
(issue 20, textbook 9.8): forward, forward + input gradient and forward + weight gradient, on the conv shapes
of the CNN workloads.

    python benchmarks/winograd.py [--repeat 5] [--only mnist_conv2 cifar_conv2] [--m 2 4]
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/winograd.py   # 1 thread

im2col: ``sd.nn.functional.conv2d`` under ``no_grad`` (forward), and its autograd backward with only x (or
only w) requiring a gradient; Winograd: ``conv2d_forward`` plus ``conv2d_input_grad`` (or
``conv2d_weight_grad``); PyTorch: ``torch.nn.functional.conv2d`` the same three ways. The methods alternate
within each round; medians. Ratios < 1: Winograd faster.

Measured 2026-11-30, shared 2-core AMD EPYC at load 3-7, 1 thread, three runs (--repeat 5/7; ratios to im2col,
to PyTorch in brackets). Winograd wins where both channel counts are GEMM-sized:
mnist_conv2 (32->64, 3x3) F(4,3): forward 0.34-0.49x (0.58-0.82x), +input grad 0.37-0.43x (0.70-0.90x),
+weight grad 0.39-0.51x (0.81-0.84x); cifar_conv2 (64->64, 5x5) F(4,5): 0.23-0.31x (0.51-0.71x), 0.24x
(0.48-0.52x), 0.26-0.27x (0.50-0.52x); F(2,5): 0.39-0.52x (0.87-1.04x), 0.42-0.47x, 0.44-0.50x. It loses on
cifar_conv1 (3 input channels: 1.3-1.5x im2col's time) and gives nothing reliable on lenet and mnist_conv1
(1-6 input channels; ms-sized timings dominated by noise). shendu.ops._winograd.choose_m encodes this.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import table, try_torch  # noqa: E402
from mlp import blas_threads  # noqa: E402

import shendu as sd  # noqa: E402
import shendu.nn.functional as F  # noqa: E402
from shendu.ops import _winograd as W  # noqa: E402

SHAPES = {  # x (N, C, H, W), w (O, C, r, r), padding; the workloads' convolutions
    "mnist_conv1": ((64, 1, 28, 28), (32, 1, 3, 3), 0),  # tutorials.py mnist_cnn (PyTorch's MNIST example)
    "mnist_conv2": ((64, 32, 26, 26), (64, 32, 3, 3), 0),
    "cifar_conv1": ((128, 3, 24, 24), (64, 3, 5, 5), 2),  # cnn.py cifar_cnn (models.CifarCNN)
    "cifar_conv2": ((128, 64, 12, 12), (64, 64, 5, 5), 2),
    "lenet_conv1": ((64, 1, 28, 28), (6, 1, 5, 5), 2),  # cnn.py lenet (models.LeNet5)
    "lenet_conv2": ((64, 6, 14, 14), (16, 6, 5, 5), 0),
}
TILES = {3: (2, 4, 6), 5: (2, 3, 4)}


def runners(name, ms, torch):
    """{label: (forward, forward + input gradient, forward + weight gradient)} for one shape."""
    xs, ws, p = SHAPES[name]
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
    r = ws[2]
    ho, wo = xs[2] + 2 * p - r + 1, xs[3] + 2 * p - r + 1
    gy = rng.standard_normal((xs[0], ws[0], ho, wo)).astype(np.float32)
    tx, tw, tg = sd.tensor(x), sd.tensor(w), sd.tensor(gy)

    def i2c_fwd():
        with sd.no_grad():
            return F.conv2d(tx, tw, padding=p)

    def i2c_gx():
        xg = sd.tensor(x, requires_grad=True)
        F.conv2d(xg, tw, padding=p).backward(tg)
        return xg.grad

    def i2c_gw():
        wg = sd.tensor(w, requires_grad=True)
        F.conv2d(tx, wg, padding=p).backward(tg)
        return wg.grad

    out = {"im2col": (i2c_fwd, i2c_gx, i2c_gw)}
    for m in ms:
        out[f"F({m},{r})"] = (lambda m=m: W.conv2d_forward(x, w, p, m=m),
                              lambda m=m: (W.conv2d_forward(x, w, p, m=m), W.conv2d_input_grad(gy, w, p, xs, m=m)),
                              lambda m=m: (W.conv2d_forward(x, w, p, m=m), W.conv2d_weight_grad(x, gy, p, ws, m=m)))
    if torch is not None:
        px, pw, pg = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(gy)

        def th_fwd():
            with torch.no_grad():
                return torch.nn.functional.conv2d(px, pw, padding=p)

        def th_gx():
            xg = px.clone().requires_grad_()
            torch.nn.functional.conv2d(xg, pw, padding=p).backward(pg)
            return xg.grad

        def th_gw():
            wg = pw.clone().requires_grad_()
            torch.nn.functional.conv2d(px, wg, padding=p).backward(pg)
            return wg.grad

        out["torch"] = (th_fwd, th_gx, th_gw)
    return out


def measure(fns, repeat):
    """Median seconds per call of each function; the functions alternate within each round (same background load),
    each timed over enough calls to take ~20 ms."""
    number = {}
    for k, f in fns.items():
        f()
        t0 = time.perf_counter()
        f()
        number[k] = max(1, int(0.02 / max(time.perf_counter() - t0, 1e-6)))
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, f in fns.items():
            t0 = time.perf_counter()
            for _ in range(number[k]):
                f()
            times[k].append((time.perf_counter() - t0) / number[k])
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", nargs="*", default=list(SHAPES))
    ap.add_argument("--m", nargs="*", type=int, default=None, help="tile sizes (default: 2 4 6 for 3x3, 2 3 4 for 5x5)")
    args = ap.parse_args(argv)
    torch = try_torch()
    if torch is not None:
        torch.set_num_threads(blas_threads())
    print(f"BLAS threads {blas_threads()}; median of {args.repeat} alternating rounds; ratio < 1: Winograd faster")
    rows = []
    heads = ["shape", "tiles", "fwd ms", "im2col", "torch", "/im2col", "/torch", "+gx ms", "im2col", "torch",
             "/im2col", "/torch", "+gw ms", "im2col", "torch", "/im2col", "/torch"]
    for name in args.only:
        r = SHAPES[name][1][2]
        run = runners(name, args.m or TILES[r], torch)
        res = [measure({k: v[i] for k, v in run.items()}, args.repeat) for i in range(3)]
        for k in run:
            if not k.startswith("F("):
                continue
            row = [name, k]
            for t in res:
                ref = [t["im2col"], t.get("torch")]
                row += [f"{t[k] * 1e3:.2f}"] + [f"{v * 1e3:.2f}" if v else "-" for v in ref]
                row += [f"{t[k] / v:.2f}x" if v else "-" for v in ref]
            rows.append(row)
        print(table(rows[-(len(run) - 1 - ("torch" in run)):], heads), flush=True)
    print()
    print(table(rows, heads))

if __name__ == "__main__":
    main()
