"""Kernel variants A/B in the same run (issues 20, 22): training-step time of the CNN workloads with
SHENDU_NUMBA=1 (numba kernels of shendu.ops._kernels where they apply) and SHENDU_NUMBA=0 (the NumPy
reference path), alternating blocks so both see the same background load; PyTorch's step for the ratio.
With ``--setting NAME=VALUE`` (repeatable), the A/B is instead the convolution settings
(shendu.ops.conv_settings, the planner's thresholds) at their defaults against the values given, on the
NumPy path; each settings field's docstring names the command that measures it.

    python benchmarks/kernels_ab.py [--repeat 9] [--only cifar_cnn mnist_cnn lenet]
    python benchmarks/kernels_ab.py --only lenet --setting wide=False

Settings A/B measured 2026-11-30 (1 thread, load 4-5, lenet median of 9-25 steps, noise +-20% between runs):
item_min_out=1000000 (LeNet's conv1 on the wide grid instead of "item-gemm") 1.26x slower; wide=False (LeNet's
conv2 as "nchw-gemm") 0.80x, 1.19x, 1.12x in three runs; keep_cols_bytes=0 0.93x, 1.12x, 0.99x (no effect).
wide_chunk_bytes=1048576 (LeNet conv2's wide columns in 1 MiB chunks, not kept) against 0 (then the default),
--repeat 41, three runs at load 1: 0.90x, 0.93x, 0.93x (now the default).

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


def parse_settings(items):
    """{field: value} from NAME=VALUE strings, each value parsed as the field's type (bool, int)."""
    from shendu.ops import conv_settings

    out = {}
    for item in items:
        name, _, text = item.partition("=")
        if not hasattr(conv_settings, name) or not text:
            raise SystemExit(f"--setting {item!r}: expected NAME=VALUE with NAME a field of {conv_settings}")
        old = getattr(conv_settings, name)
        out[name] = text.lower() in ("1", "true", "yes") if isinstance(old, bool) else int(text, 0)
    return out


def settings_ab(args, torch):
    """Steps with conv_settings at the defaults ("default") and with ``args.setting`` ("changed"), alternating."""
    from shendu.ops import conv_settings

    changes = parse_settings(args.setting)
    print(f"BLAS threads {blas_threads()}; load {os.getloadavg()[0]:.1f}; median of {args.repeat} alternating steps; "
          f"changed: {changes}")
    os.environ["SHENDU_NUMBA"] = "0"
    rows = []
    for name in args.only:
        step, tstep = steppers(name, torch)
        times = {"default": [], "changed": [], "torch": []}
        for _ in range(2):  # warm up both (buffers of both plans) and PyTorch
            step()
            with conv_settings.override(**changes):
                step()
            if tstep is not None:
                tstep()
        for _ in range(args.repeat):
            for variant in ("default", "changed", "torch"):
                if variant == "torch" and tstep is None:
                    continue
                time.sleep(0.02)
                t0 = time.perf_counter()
                if variant == "changed":
                    with conv_settings.override(**changes):
                        step()
                else:
                    (tstep if variant == "torch" else step)()
                times[variant].append(time.perf_counter() - t0)
        a, b = statistics.median(times["default"]), statistics.median(times["changed"])
        th = statistics.median(times["torch"]) if times["torch"] else None
        rows.append([name, fmt_time(a), fmt_time(b), f"{b / a:.2f}x",
                     f"{a / th:.2f}x / {b / th:.2f}x" if th else "n/a"])
    os.environ.pop("SHENDU_NUMBA", None)
    print(table(rows, ["workload", "defaults", "changed", "changed / defaults", "ratio to torch default / changed"]))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--only", nargs="*", default=["cifar_cnn", "mnist_cnn", "lenet"])
    ap.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                    help="A/B the convolution settings instead of the numba kernels (repeatable)")
    args = ap.parse_args(argv)
    if args.setting:
        torch = try_torch()
        if torch is not None:
            torch.set_num_threads(blas_threads())
        return settings_ab(args, torch)
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
