"""Compiled kernels on/off in the same run (issue 20): training-step time of the CNN workloads with
SHENDU_NUMBA=1 (numba kernels of shendu.ops._kernels where they apply) and SHENDU_NUMBA=0 (the NumPy
reference path), alternating blocks so both see the same background load; PyTorch's step for the ratio.

    python benchmarks/kernels_ab.py [--repeat 9] [--only cifar_cnn mnist_cnn lenet]

Measured 2026-11-30, shared 2-core AMD EPYC, 1 BLAS thread (OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1),
--repeat 9 (the numba max-pooling backward is the only kernel): at load 1.7 cifar_cnn, mnist_cnn and lenet
1.01x faster with the kernel each; at load 4.7 0.95x, 1.15x and 1.52x (single-step medians, noise dominated).
The kernel alone (max_pool2d backward, CIFAR pool1 3x3/2 on 128x64x24x24): 12 -> 6.2-6.7 ms in two of three
back-to-back runs (22.8 ms in one disturbed run); pool2 (12x12): 3.8-5.8 -> 1.1-1.3 ms in the same two.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cnn  # noqa: E402
import tutorials  # noqa: E402
from _harness import fmt_time, table, try_torch  # noqa: E402
from mlp import blas_threads  # noqa: E402


def steppers(name, torch):
    mod = tutorials if name in tutorials.NUMBER else cnn
    step, *rest = mod.sd_stepper(name)
    sdm = rest[-1]
    tstep = mod.th_stepper(torch, name, sdm) if torch is not None else None
    return step, tstep


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--only", nargs="*", default=["cifar_cnn", "mnist_cnn", "lenet"])
    args = ap.parse_args(argv)
    torch = try_torch()
    if torch is not None:
        torch.set_num_threads(blas_threads())
    print(f"BLAS threads {blas_threads()}; load {os.getloadavg()[0]:.1f}; median of {args.repeat} alternating steps")
    rows = []
    for name in args.only:
        step, tstep = steppers(name, torch)
        times = {"1": [], "0": [], "torch": []}
        for flag in ("1", "0"):  # warm up both paths (and compile)
            os.environ["SHENDU_NUMBA"] = flag
            step()
            step()
        if tstep is not None:
            tstep()
        for _ in range(args.repeat):
            for flag in ("1", "0", "torch"):
                if flag == "torch":
                    if tstep is None:
                        continue
                    fn = tstep
                else:
                    os.environ["SHENDU_NUMBA"] = flag
                    fn = step
                time.sleep(0.02)
                t0 = time.perf_counter()
                fn()
                times[flag].append(time.perf_counter() - t0)
        os.environ.pop("SHENDU_NUMBA", None)
        on, off = statistics.median(times["1"]), statistics.median(times["0"])
        th = statistics.median(times["torch"]) if times["torch"] else None
        rows.append([name, fmt_time(off), fmt_time(on), f"{off / on:.2f}x",
                     f"{off / th:.2f}x / {on / th:.2f}x" if th else "n/a"])
    print(table(rows, ["workload", "numpy path", "numba kernels", "speed-up", "ratio to torch off / on"]))
    return rows


if __name__ == "__main__":
    main()
