"""CNN training workloads, shendu vs PyTorch side by side on the same data (issue 6 performance targets).

    lenet      LeNet5 (ReLU, max-pool) on 1x28x28, batch 64, Adam                        (target <= 1.0x PyTorch)
    cifar_cnn  the seeds' CIFAR-10 CNN (BN, 3x3/2 'same' max-pool) on 3x24x24, batch 128, Adam (target <= 1.5x,
               peak memory of the training loop <= 1.5x)

A train step is forward + cross-entropy + backward + Adam update, float32, same initial weights and
data. PyTorch runs with as many threads as NumPy's BLAS. Peak memory: each framework trains in a fresh
subprocess; the kernel's peak-RSS counter is reset (/proc/self/clear_refs) after the imports and the
peak growth over the resident size at that moment, through model creation and training, is reported
(shendu also via tracemalloc, which counts the host arena's regions of ops._recycle whole, touched or not).
Throughput: FLOPs of the convolutions and dense layers (2*MACs, x3 for forward + both backward
products) per step time, next to a plain float32 GEMM of the conv2 shape on this machine.

    python benchmarks/cnn.py [--repeat 10] [--only lenet cifar_cnn] [--no-mem] [--profile cifar_cnn]
    OPENBLAS_NUM_THREADS=1 python benchmarks/cnn.py      # both libraries single-threaded

Measured 2026-11-23 on the shared 2-core AMD EPYC (other jobs running; ratios moved by +-0.2 between runs):
1 thread: lenet 1.17-1.33x, cifar_cnn 1.34-1.65x (GEMM 95-110 GFLOP/s; shendu reaches 55-69 GFLOP/s on the
step, PyTorch/oneDNN 83-107); 2 threads: lenet 1.17-1.22x, cifar_cnn 1.67-2.1x (NumPy's elementwise work,
pooling and copies stay on one core). Peak memory of the cifar_cnn loop 0.77-0.90x PyTorch's.
2026-11-30, 1 thread, --repeat 5, three runs at load 4.3-4.6: lenet 1.23-1.49x, cifar_cnn 1.00-1.43x; peak memory
of the loop cifar_cnn 246 / 253 MiB = 0.97x, lenet 0.29x. The cifar_cnn step reached 49-50 GFLOP/s (PyTorch
49-71) while a plain GEMM of conv2's shape ran at 81-84 in the same runs; --profile cifar_cnn: the two convs'
forward and backward (im2col + GEMM, rot180 fused backward) take ~70% of the step, max pooling (11%), batch norm
(8%) and ReLU (5%) most of the rest (profile of 10 steps at load 6).
2026-11-30, convolution planner (issue 22: ops/_conv, plans "item-gemm" for LeNet's conv1 and per-item matrices on
the wide grid for its conv2), 1 thread, --repeat 3 --no-mem, three alternating runs of the old and new kernels at
load 4-7: lenet 1.38-1.65x -> 1.11-1.18x; cifar_cnn 0.96-1.62x -> 1.17-2.26x (the same kernels: torch's own step
swung 205-600 ms between runs, noise only); the six conv shapes in one process (old vs new kernels, fwd + bwd,
median of 15): lenet conv1 6.5 -> 1.2 ms, conv2 9.0 -> 8.2 ms, mnist_cnn conv1 10.1 -> 6.2 ms, the rest unchanged.
2026-11-30, issue 20 lenet round (recycled output/column buffers: shendu.ops._recycle; ReLU against a zero row; flat
col2im for the wide input gradient; cache-sized wide chunks; cached plans and pooling grids), 1 thread: lenet
--repeat 5 --no-mem, nine runs at load 0.8-1.8: 1.03, 1.04, 1.05, 0.99, 1.07, 1.09, 0.97, 0.93, 1.00x (before:
1.10-1.18x). Shendu alone, old (e80e1ac) and new code in alternating subprocesses, thread CPU time: lenet step
11-15 -> 7.3-8.8 ms (0.60-0.68x; the old step took 1,100-2,400 page faults when glibc trimmed the heap),
mnist_cnn 67 -> 59 ms (0.88x), cifar_cnn 170 -> 159 ms (0.94x). Peak memory growth: lenet 22 MiB (torch 103),
cifar_cnn 240 / 268 MiB = 0.90x.
2026-11-30, issue 20 lenet round 2 (LeNet's conv2 as plan "nhwc-items": per-item channels-last columns kept from
forward, batched GEMMs writing y in NCHW and giving the weight gradient; its input gradient by "half-col2im": the
kernel width folded into the GEMM, 5 row slice-adds instead of 25; 2x2 max-pool backward written straight to gx;
conv bias gradients summed over N first), 1 thread, --repeat 5 --no-mem, six runs alternating the code before
(this helper's files at HEAD, PYTHONPATH) and after in separate processes, load 1.1-2.3: lenet 1.02, 1.00, 1.03,
0.97, 1.01, 1.01x -> 0.82, 0.83, 0.83, 0.79, 0.85, 0.84x (shendu's step 7.2-7.8 -> 5.9-6.5 ms); peak memory
growth 21 / 103 MiB before and after. cifar_cnn 0.86, 0.85x -> 0.84, 0.84x and tutorials.py mnist_cnn 0.79,
0.80x -> 0.82, 0.79x (unchanged: they do not run the new routes).
2026-11-30, issue 20 max-pool scratch (ops/pool.py: the grid copy, masks, codes, phase and gy buffers of the
polyphase grid sized for one cache block of channels, not the batch; the padded grid copy also keyed by the input
size), 1 thread: old and new module in one process, median of 11, three rounds: CIFAR pool1 (128x64x24x24, 3x3/2
'same') forward 8.3 -> 7.8 ms, backward 10.0 -> 8.8 ms; pool2 (12x12) 2.9 -> 2.6 and 3.2 -> 2.8 ms. cifar_cnn
--repeat 1, three runs alternating old and new code (PYTHONPATH copies): peak memory growth 174, 174, 174 ->
134, 135, 134 MiB (torch 220-266 MiB: 0.65-0.74x -> 0.51-0.61x); --repeat 3 --no-mem: shendu's step
157.0-158.5 -> 152.8-159.8 ms (0.83-0.84x -> 0.65-0.80x; torch's own step moved 186-235 ms). lenet --repeat 5
--no-mem 0.83-0.87x -> 0.80-0.86x, tutorials.py mnist_cnn 0.78-0.80x -> 0.77-0.81x (unchanged).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import fmt_time, measure_mem, profile_steps, reset_peak_rss, rss_kib, table, try_torch  # noqa: E402
from mlp import bench_pair, blas_threads, make_optimizer  # noqa: E402

import shendu as sd  # noqa: E402
import shendu.nn.functional as F  # noqa: E402
from shendu import models  # noqa: E402

WORKLOADS = {
    "lenet": dict(shape=(1, 28, 28), batch=64, number=10),
    "cifar_cnn": dict(shape=(3, 24, 24), batch=128, number=3),
}
TARGETS = {"lenet": 1.0, "cifar_cnn": 1.5}


def torch_model(torch, name):
    tnn = torch.nn
    if name == "lenet":
        return tnn.Sequential(
            tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10),
        )
    # 'same' 3x3/2 pooling of 24 (pads 0/1) has PyTorch's padding=1 cost (pads 1/1); same shapes
    return tnn.Sequential(
        tnn.Conv2d(3, 64, 5, padding=2, bias=False), tnn.BatchNorm2d(64, momentum=0.01), tnn.ReLU(),
        tnn.MaxPool2d(3, 2, padding=1),
        tnn.Conv2d(64, 64, 5, padding=2, bias=False), tnn.BatchNorm2d(64, momentum=0.01), tnn.ReLU(),
        tnn.MaxPool2d(3, 2, padding=1),
        tnn.Flatten(), tnn.Linear(2304, 384), tnn.ReLU(), tnn.Linear(384, 192), tnn.ReLU(), tnn.Linear(192, 10),
    )


def sd_model(name):
    sd.manual_seed(0)
    return models.LeNet5() if name == "lenet" else models.CifarCNN()


def copy_weights(torch, sdm, tm):
    sp = list(sdm.parameters())
    tp = list(tm.parameters())
    assert [tuple(p.shape) for p in sp] == [tuple(p.shape) for p in tp], "model mismatch"
    with torch.no_grad():
        for a, b in zip(sp, tp):
            b.copy_(torch.from_numpy(a.numpy()))


def data(name):
    cfg = WORKLOADS[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((cfg["batch"],) + cfg["shape"]).astype(np.float32)
    y = rng.integers(0, 10, cfg["batch"])
    return x, y


def sd_stepper(name):
    model = sd_model(name)
    x, y = data(name)
    xs = sd.tensor(x)
    opt, info = make_optimizer("adam", model.parameters())

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(xs), y)
        loss.backward()
        opt.step()
        return loss

    return step, info, model


def th_stepper(torch, name, sdm=None):
    tm = torch_model(torch, name)
    if sdm is not None:
        copy_weights(torch, sdm, tm)
    x, y = data(name)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    opt = torch.optim.Adam(tm.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tm(tx), ty)
        loss.backward()
        opt.step()
        return loss

    return step


def flops_per_step(name):
    """2*MACs of convs and dense layers, times 3 (forward, input gradient, weight gradient)."""
    n = WORKLOADS[name]["batch"]
    if name == "lenet":
        macs = 6 * 25 * 28 * 28 + 16 * 150 * 10 * 10 + 400 * 120 + 120 * 84 + 84 * 10
    else:
        macs = 64 * 75 * 24 * 24 + 64 * 1600 * 12 * 12 + 2304 * 384 + 384 * 192 + 192 * 10
    return 3 * 2 * macs * n


def gemm_gflops(repeat=10):
    """float32 GEMM throughput of the cifar conv2 product shape (64 x 1600 @ 1600 x 2304) and a 1024^3 one."""
    rng = np.random.default_rng(0)
    out = {}
    for label, (m, k, n) in (("64x1600x2304", (64, 1600, 2304)), ("1024^3", (1024, 1024, 1024))):
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
        a @ b
        ts = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            a @ b
            ts.append(time.perf_counter() - t0)
        out[label] = 2 * m * k * n / float(np.median(ts)) / 1e9
    return out


def mem_child(fw, name, steps=6):
    """Run in a subprocess: peak RSS growth (MiB) over the resident size before the model is built, through
    2 warm-up and ``steps`` training steps (memory kept by either allocator for reuse counts)."""
    import gc
    import tracemalloc

    threads = blas_threads()
    if fw == "torch":
        import torch

        torch.set_num_threads(threads)
    gc.collect()
    base = rss_kib("VmRSS")
    reset = reset_peak_rss()
    if fw == "shendu":
        tracemalloc.start()
    step = th_stepper(torch, name) if fw == "torch" else sd_stepper(name)[0]
    for _ in range(2):
        step()
    if fw == "shendu":
        tracemalloc.start()
    for _ in range(steps):
        step()
    peak = rss_kib("VmHWM")
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if fw == "shendu" else None
    print(json.dumps({"rss_peak_growth_mib": (peak - base) / 1024 if reset else None, "traced_peak_mib": traced}))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--only", nargs="*", default=list(WORKLOADS))
    ap.add_argument("--no-mem", action="store_true")
    ap.add_argument("--profile", default=None)
    ap.add_argument("--mem-child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.mem_child:
        return mem_child(*args.mem_child)
    torch = try_torch()
    threads = blas_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    print(f"threads: numpy BLAS {threads}, torch {torch.get_num_threads() if torch else 'n/a'}; torch "
          f"{torch.__version__ if torch else 'not installed'}; median of {args.repeat} alternating timings")
    g = gemm_gflops()
    print("float32 GEMM on this machine: " + ", ".join(f"{k}: {v:.1f} GFLOP/s" for k, v in g.items()))
    rows = []
    for name in args.only:
        step, info, sdm = sd_stepper(name)
        tstep = th_stepper(torch, name, sdm) if torch is not None else None
        if tstep is not None:
            l1, l2 = float(step().item()), float(tstep().item())
            assert abs(l1 - l2) < 1e-3 * max(1.0, abs(l2)) or name == "cifar_cnn", (l1, l2)
        t_sd, t_th = bench_pair(step, tstep, warmup=2, repeat=args.repeat, number=WORKLOADS[name]["number"])
        fl = flops_per_step(name)
        mem = ""
        if not args.no_mem:
            ms = measure_mem(__file__, "shendu", name)
            mt = measure_mem(__file__, "torch", name) if torch is not None else None
            a = ms.get("rss_peak_growth_mib")
            b = mt.get("rss_peak_growth_mib") if mt else None
            mem = (f"{a:.0f} / {b:.0f} MiB = {a / b:.2f}x" if a is not None and b else f"{a} / {b}")
            if ms.get("traced_peak_mib") is not None:
                mem += f" (traced {ms['traced_peak_mib']:.0f} MiB)"
        ratio = t_sd / t_th if t_th else None
        rows.append([name, fmt_time(t_sd), fmt_time(t_th) if t_th else "n/a", f"{ratio:.2f}x" if ratio else "n/a",
                     f"<= {TARGETS[name]}x", f"{fl / t_sd / 1e9:.1f} / {fl / t_th / 1e9:.1f}" if t_th else "",
                     mem])
        if args.profile == name:
            profile_steps(step, 10, 20)
    print(table(rows, ["workload", "shendu/step", "pytorch/step", "ratio", "target", "GFLOP/s sd / torch",
                       "peak mem growth shendu / torch"]))
    return rows


if __name__ == "__main__":
    main()
