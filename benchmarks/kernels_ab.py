"""Kernel variants A/B in the same run (issues 20, 22): training-step time of the CNN workloads with
SHENDU_NUMBA=1 (numba kernels of shendu.ops._kernels where they apply) and SHENDU_NUMBA=0 (the NumPy
reference path), alternating blocks so both see the same background load; PyTorch's step for the ratio.
With ``--setting NAME=VALUE`` (repeatable), the A/B is instead the convolution settings
(shendu.ops.conv_settings, the planner's thresholds) at their defaults against the values given, on the
NumPy path; each settings field's docstring names the command that measures it.

    python benchmarks/kernels_ab.py [--repeat 9] [--only cifar_cnn mnist_cnn lenet]
    python benchmarks/kernels_ab.py --only lenet --setting wide=False
    python benchmarks/kernels_ab.py --only lenet --const shendu.ops._conv.half.ENABLED=0
    python benchmarks/kernels_ab.py --routes [--repeat 41]

``--const MODULE.NAME=VALUE`` A/Bs a kernel module's constant the same way (the planner's thresholds that live
in kernel files: shendu.ops._conv.nhwc.ITEMS_MIN_CKW, shendu.ops._conv.half.ENABLED). ``--routes`` times the
kernels alone, outside training steps, on the few-channel stride-1 shapes of ``ROUTE_SHAPES``: forward + weight
gradient of "nhwc-items" against "wide-stride1" (each with its plan's column keeping) and the input gradient of
"half-col2im" against "wide-col2im", alternating; the planner's choice is marked with *.

Issue 20's LeNet round (1 thread, 2026-11-30, --routes --repeat 41, load 1.3): "nhwc-items" 0.58-0.97x the wide
plan's forward + weight gradient on the eight shapes with C*kw >= 6 (LeNet's conv2 1.81 -> 1.12 ms), 1.53x for
C=1 3x3; "half-col2im" 0.50-0.86x "wide-col2im" on the four shapes with O*kw < C*kh*(kw-1) (LeNet's conv2 1.31 ->
0.89 ms), 0.99-1.57x on three others, 0.75x and 1.05x on the two at equality. Training steps, --only lenet
--repeat 41 --const shendu.ops._conv.half.CHUNK_BYTES=V: 524288 1.00x, 2097152 1.03x, 8388608 1.04x the default.

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
import contextlib
import importlib
import math
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


def parse_consts(items):
    """[(module, name, value)] from MODULE.NAME=VALUE strings naming module constants of the kernels (e.g.
    shendu.ops._conv.nhwc.ITEMS_MIN_CKW), each value parsed as the constant's type (bool, int)."""
    out = []
    for item in items:
        path, _, text = item.partition("=")
        mod_name, _, name = path.rpartition(".")
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            mod = None
        if mod is None or not hasattr(mod, name) or not text:
            raise SystemExit(f"--const {item!r}: expected MODULE.NAME=VALUE, NAME a constant of an importable module")
        old = getattr(mod, name)
        out.append((mod, name, text.lower() in ("1", "true", "yes") if isinstance(old, bool) else int(text, 0)))
    return out


@contextlib.contextmanager
def changed(settings, consts):
    """conv_settings overridden by ``settings`` and the module ``consts`` set, for a ``with`` block."""
    from shendu.ops import conv_settings

    old = [(mod, name, getattr(mod, name)) for mod, name, _ in consts]
    for mod, name, value in consts:
        setattr(mod, name, value)
    try:
        with conv_settings.override(**settings):
            yield
    finally:
        for mod, name, value in old:
            setattr(mod, name, value)


ROUTE_SHAPES = [  # (x shape, w shape, padding): stride-1 convolutions with few channels
    ((64, 6, 14, 14), (16, 6, 5, 5), 0),  # LeNet conv2
    ((64, 8, 12, 12), (16, 8, 3, 3), 1),
    ((64, 4, 10, 10), (32, 4, 5, 5), 2),
    ((128, 10, 15, 15), (20, 10, 3, 3), 0),
    ((64, 1, 14, 14), (8, 1, 3, 3), 1),
    ((32, 3, 12, 12), (64, 3, 5, 5), 2),
    ((256, 6, 14, 14), (16, 6, 5, 5), 0),
    ((64, 6, 12, 12), (6, 6, 5, 5), 2),
    ((64, 5, 14, 14), (8, 5, 5, 5), 0),
]


def routes_ab(args):
    """Per shape of ROUTE_SHAPES: (forward + weight gradient) of "nhwc-items" vs "wide-stride1" and the input
    gradient of "half-col2im" vs "wide-col2im", median seconds of alternating calls (float32)."""
    import numpy as np

    from shendu.ops import conv_settings
    from shendu.ops._conv import conv_forward, conv_input_grad, conv_weight_grad, nhwc, plan

    print(f"BLAS threads {blas_threads()}; load {os.getloadavg()[0]:.1f}; median of {args.repeat} alternating calls")
    rng = np.random.default_rng(0)
    rows = []
    for xs, ws, pad in ROUTE_SHAPES:
        x, w = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
        b = np.zeros(ws[0], np.float32)
        args_p = (xs, ws, (1, 1), (1, 1), ((pad, pad), (pad, pad)), 1, np.float32)
        chosen = plan(*args_p)
        old, nhwc.ITEMS_MIN_CKW = nhwc.ITEMS_MIN_CKW, 10 ** 9
        try:
            wide = plan(*args_p)  # its own column keeping (cache-sized chunks by default)
        finally:
            nhwc.ITEMS_MIN_CKW = old
        cols_bytes = xs[0] * xs[1] * ws[2] * ws[3] * math.prod(chosen.out) * 4
        plans = {"nhwc-items": chosen._replace(name="nhwc-items", weight_grad="nhwc-items",
                                               keep_cols=cols_bytes <= conv_settings.keep_cols_bytes),
                 "wide-stride1": wide._replace(name="wide-stride1", weight_grad="wide-stride1")}
        gy = rng.standard_normal((xs[0], ws[0]) + chosen.out).astype(np.float32)

        def fwd_wg(p):
            keep = [] if p.keep_cols else None
            conv_forward(x, w, b, p, keep)
            conv_weight_grad(x, gy, ws, p, keep[0] if keep else None)

        calls = {name: (lambda p=p: fwd_wg(p)) for name, p in plans.items()}
        for route in ("half-col2im", "wide-col2im"):
            q = chosen._replace(input_grad=route)
            calls[route] = lambda q=q: conv_input_grad(w, gy, xs, q)
        times = {k: [] for k in calls}
        for fn in calls.values():
            fn()
        for _ in range(args.repeat):
            for k, fn in calls.items():
                t0 = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in times.items()}
        mark = {k: "*" if k in (chosen.name, chosen.input_grad) else "" for k in med}
        rows.append([f"{xs} {ws} pad {pad}"] + [f"{fmt_time(med[k])}{mark[k]}" for k in calls]
                    + [f"{med['nhwc-items'] / med['wide-stride1']:.2f}x",
                       f"{med['half-col2im'] / med['wide-col2im']:.2f}x"])
    print(table(rows, ["shape (x, w)", "nhwc-items", "wide-stride1", "half-col2im", "wide-col2im",
                       "items / wide", "half / wide"]))
    return rows


def settings_ab(args, torch):
    """Steps with conv_settings and the kernels' module constants at the defaults ("default") and with
    ``args.setting`` / ``args.const`` ("changed"), alternating."""
    changes, consts = parse_settings(args.setting), parse_consts(args.const)
    print(f"BLAS threads {blas_threads()}; load {os.getloadavg()[0]:.1f}; median of {args.repeat} alternating steps; "
          f"changed: {changes} {[f'{m.__name__}.{n}={v}' for m, n, v in consts]}")
    os.environ["SHENDU_NUMBA"] = "0"
    rows = []
    for name in args.only:
        step, tstep = steppers(name, torch)
        times = {"default": [], "changed": [], "torch": []}
        for _ in range(2):  # warm up both (buffers of both plans) and PyTorch
            step()
            with changed(changes, consts):
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
                    with changed(changes, consts):
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
    ap.add_argument("--const", action="append", default=[], metavar="MODULE.NAME=VALUE",
                    help="A/B a kernel module's constant (e.g. shendu.ops._conv.half.ENABLED=0; repeatable)")
    ap.add_argument("--routes", action="store_true",
                    help="time the few-channel convolution routes alone on ROUTE_SHAPES (no training steps)")
    args = ap.parse_args(argv)
    if args.routes:
        return routes_ab(args)
    if args.setting or args.const:
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
