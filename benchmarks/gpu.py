"""GPU workloads: shendu on CuPy beside PyTorch CUDA in the same run (issue 11; textbook 12.1.2).

The seven workloads of benchmarks/ (mlp_small, mlp_mnist, mlp_mnist_infer, lenet, cifar_cnn, lstm_lm,
gru_cls) plus large-batch variants (mlp_mnist b8192, cifar_cnn b1024, lstm_lm b256). A step is forward +
loss + backward + update (inference: forward only), float32, data already on the GPU; times are medians
of blocks of steps, each block closed by a device synchronize. Targets: large batches within 1.5x of
PyTorch CUDA, small (launch-bound) ones within 2.5x.

    python benchmarks/gpu.py [--repeat 7] [--only lenet cifar_cnn]
    python benchmarks/gpu.py --strict --quick    # smoke run on the strict CPU stand-in (no GPU; times meaningless)

Reference (H200, PyTorch 2.11 CUDA, median ms/step, from the issue): mlp_small 0.83, mlp_mnist 1.29,
mlp_mnist b8192 1.49, mlp_mnist_infer b1024 0.088, lenet 2.15, cifar_cnn 2.76, cifar_cnn b1024 4.58,
lstm_lm 3.55, lstm_lm b256 6.62, gru_cls 2.11.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import fmt_time, table, try_torch  # noqa: E402

from cnn import copy_weights, sd_model, torch_model  # noqa: E402
from mlp import build_sd, build_torch  # noqa: E402
from rnn import LM, Cls, torch_models  # noqa: E402

import shendu as sd  # noqa: E402
import shendu.nn.functional as F  # noqa: E402

# name: (family, batch, steps per timed block)
WORKLOADS = {
    "mlp_small": ("mlp_small", 32, 50),
    "mlp_mnist": ("mlp_mnist", 128, 20),
    "mlp_mnist_b8192": ("mlp_mnist", 8192, 10),
    "mlp_mnist_infer": ("mlp_infer", 1024, 50),
    "lenet": ("lenet", 64, 10),
    "cifar_cnn": ("cifar_cnn", 128, 10),
    "cifar_cnn_b1024": ("cifar_cnn", 1024, 3),
    "lstm_lm": ("lstm_lm", 32, 5),
    "lstm_lm_b256": ("lstm_lm", 256, 3),
    "gru_cls": ("gru_cls", 64, 10),
}
LARGE = {"mlp_mnist_b8192", "cifar_cnn_b1024", "lstm_lm_b256", "mlp_mnist_infer"}


_SIZES = {"mlp_small": (64, 64, 10), "mlp_mnist": (784, 512, 256, 10), "mlp_infer": (784, 512, 256, 10)}


def models(torch, family):
    """The shendu model of the CPU benchmarks (built on the CPU) and, with torch, its PyTorch twin holding the same
    initial weights (the builders of benchmarks/mlp.py, cnn.py and rnn.py)."""
    sd.manual_seed(0)
    if family in _SIZES:
        m = build_sd(_SIZES[family])
        return m, (build_torch(torch, m) if torch else None)
    if family in ("lenet", "cifar_cnn"):
        m = sd_model(family)
        if not torch:
            return m, None
        t = torch_model(torch, family)
        copy_weights(torch, m, t)
        return m, t
    m = LM() if family == "lstm_lm" else Cls()
    return m, (torch_models(torch, m, family) if torch else None)


def _data(family, batch):
    rng = np.random.default_rng(0)
    if family == "mlp_small":
        return rng.standard_normal((batch, 64)).astype(np.float32), rng.integers(0, 10, batch)
    if family in ("mlp_mnist", "mlp_infer"):
        return rng.standard_normal((batch, 784)).astype(np.float32), rng.integers(0, 10, batch)
    if family == "lenet":
        return rng.standard_normal((batch, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, batch)
    if family == "cifar_cnn":
        return rng.standard_normal((batch, 3, 24, 24)).astype(np.float32), rng.integers(0, 10, batch)
    if family == "lstm_lm":
        return rng.integers(0, 10000, (35, batch)), rng.integers(0, 10000, (35 * batch,))
    return rng.standard_normal((batch, 50, 32)).astype(np.float32), rng.integers(0, 10, batch)


def _optimizer(lib_optim, family, params, clip):
    if family == "mlp_small":
        return lib_optim.SGD(params, lr=0.01, momentum=0.9)
    if family == "lstm_lm":
        return lib_optim.SGD(params, lr=1.0)
    return lib_optim.Adam(params, lr=1e-3)


def sd_step_fn(model, family, batch, device):
    model.to(device)
    x, y = _data(family, batch)
    xs, ys = sd.tensor(x, device=device), sd.tensor(y, device=device)
    if family == "mlp_infer":
        def step():
            with sd.no_grad():
                return model(xs)
        return step
    opt = _optimizer(sd.optim, family, model.parameters(), None)
    params = list(model.parameters())

    def step():
        opt.zero_grad()
        out = model(xs)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), ys)
        loss.backward()
        if family == "lstm_lm":
            sd.optim.clip_grad_norm_(params, 5.0)
        opt.step()
    return step


def torch_step_fn(torch, model, family, batch):
    model.cuda()
    x, y = _data(family, batch)
    tx, ty = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()
    if family == "mlp_infer":
        def step():
            with torch.no_grad():
                return model(tx)
        return step
    opt = _optimizer(torch.optim, family, model.parameters(), None)

    def step():
        opt.zero_grad()
        out = model(tx)
        loss = torch.nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), ty)
        loss.backward()
        if family == "lstm_lm":
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
    return step


def timed(step, sync, number, repeat):
    """Median seconds per step over ``repeat`` blocks of ``number`` steps, each block synchronized."""
    for _ in range(2):
        step()
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            step()
        sync()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--only", nargs="*", default=list(WORKLOADS))
    ap.add_argument("--strict", action="store_true", help="run on the strict CPU stand-in (a smoke test, no GPU)")
    ap.add_argument("--quick", action="store_true", help="one block of one step per workload")
    args = ap.parse_args(argv)
    if args.strict:
        from shendu.testing import strict_device

        strict_device.install()
    if not sd.cuda.is_available():
        from shendu.backend import cuda_available

        print(f"no GPU: {cuda_available()[1]}")
        return []
    torch = None if args.strict else try_torch()
    if torch is not None and not torch.cuda.is_available():
        torch = None
    from shendu.backend.info import info_text

    print(info_text())
    print(f"torch {torch.__version__ if torch else 'absent or without CUDA'}; median of {args.repeat} synchronized blocks")
    rows = []
    for name in args.only:
        family, batch, number = WORKLOADS[name]
        if args.quick:
            number, repeat = 1, 1
        else:
            repeat = args.repeat
        sm, tm = models(torch, family)
        s = timed(sd_step_fn(sm, family, batch, "cuda"), sd.cuda.synchronize, number, repeat)
        t = timed(torch_step_fn(torch, tm, family, batch), torch.cuda.synchronize, number, repeat) if torch else None
        target = 1.5 if name in LARGE else 2.5
        rows.append([name, batch, fmt_time(s), fmt_time(t) if t else "-", f"{s / t:.2f}x" if t else "-", f"<= {target}x"])
        print("  ".join(map(str, rows[-1])), flush=True)
    print(table(rows, ["workload", "batch", "shendu/step", "torch/step", "ratio", "target"]))
    return rows


if __name__ == "__main__":
    main()
