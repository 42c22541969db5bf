"""Recurrent workloads, shendu vs PyTorch side by side (issue 7 performance targets, each <= 1.0x PyTorch).

    lstm_lm   Embedding 10000x256, LSTM 256, seq 35, batch 32, 10000-way softmax, SGD lr 1 + clip_grad_norm 5.0
    gru_cls   GRU 32->128, seq 50, batch 64, last state -> 10 classes, Adam

A train step is forward + loss + backward + clipping + update, float32; same data and initial weights.
PyTorch runs with as many threads as NumPy's BLAS. Times are medians over five alternating blocks of steps.

    python benchmarks/rnn.py [--repeat 15] [--only lstm_lm]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

# PyTorch's OpenMP workers otherwise spin after each step and steal the cores NumPy's BLAS needs next.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import fmt_time, table, try_torch  # noqa: E402
from mlp import blas_threads  # noqa: E402

import shendu as sd  # noqa: E402
from shendu import nn  # noqa: E402
import shendu.nn.functional as F  # noqa: E402


def clip_norm(params, max_norm):
    f = getattr(getattr(sd, "optim", None), "clip_grad_norm_", None)
    if f is not None:
        return f(params, max_norm)
    gs = [p.grad._data for p in params if p.grad is not None]
    total = float(np.sqrt(sum(float(np.vdot(g, g)) for g in gs)))
    if total > max_norm:
        s = np.float32(max_norm / (total + 1e-6))
        for g in gs:
            g *= s
    return total


class LM(nn.Module):
    def __init__(self, V=10000, E=256, H=256):
        super().__init__()
        self.emb = nn.Embedding(V, E)
        self.rnn = nn.LSTM(E, H, forget_bias=None)
        self.out = nn.Linear(H, V)

    def forward(self, x):
        y, _ = self.rnn(self.emb(x))
        return self.out(y.reshape(-1, y.shape[-1]))


class Cls(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(32, 128, batch_first=True)
        self.out = nn.Linear(128, 10)

    def forward(self, x):
        _, h = self.rnn(x)
        return self.out(h[-1])


def torch_models(torch, m, kind):
    tn = torch.nn
    if kind == "lstm_lm":
        class TLM(tn.Module):
            def __init__(self):
                super().__init__()
                self.emb, self.rnn, self.out = tn.Embedding(10000, 256), tn.LSTM(256, 256), tn.Linear(256, 10000)

            def forward(self, x):
                y = self.rnn(self.emb(x))[0]
                return self.out(y.reshape(-1, y.shape[-1]))
        t = TLM()
    else:
        class TC(tn.Module):
            def __init__(self):
                super().__init__()
                self.rnn, self.out = tn.GRU(32, 128, batch_first=True), tn.Linear(128, 10)

            def forward(self, x):
                return self.out(self.rnn(x)[1][-1])
        t = TC()
    sdict = {k: torch.from_numpy(v.numpy().copy()) for k, v in m.state_dict().items()}
    t.load_state_dict(sdict)
    return t


def setup(kind, torch):
    sd.manual_seed(0)
    rng = np.random.default_rng(0)
    if kind == "lstm_lm":
        m = LM()
        x = rng.integers(0, 10000, (35, 32))
        y = rng.integers(0, 10000, (35 * 32,))
        opt = sd.optim.SGD(m.parameters(), lr=1.0)
        params = list(m.parameters())

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(m(sd.as_tensor(x)).reshape(-1, 10000), y)
            loss.backward()
            clip_norm(params, 5.0)
            opt.step()
    else:
        m = Cls()
        x = rng.standard_normal((64, 50, 32)).astype(np.float32)
        y = rng.integers(0, 10, (64,))
        opt = sd.optim.Adam(m.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(m(sd.as_tensor(x)), y)
            loss.backward()
            opt.step()
    tstep = None
    if torch is not None:
        t = torch_models(torch, m, kind)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        if kind == "lstm_lm":
            topt = torch.optim.SGD(t.parameters(), lr=1.0)
        else:
            topt = torch.optim.Adam(t.parameters(), lr=1e-3)

        def tstep():
            topt.zero_grad()
            out = t(tx)
            loss = torch.nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), ty)
            loss.backward()
            if kind == "lstm_lm":
                torch.nn.utils.clip_grad_norm_(t.parameters(), 5.0)
            topt.step()
    return step, tstep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    torch = try_torch()
    nthreads = blas_threads()
    if torch is not None:
        torch.set_num_threads(nthreads)
    print(f"BLAS threads {nthreads}; torch {'absent' if torch is None else torch.__version__}")
    rows = []
    for kind in ("lstm_lm", "gru_cls"):
        if args.only and kind != args.only:
            continue
        step, tstep = setup(kind, torch)
        for _ in range(3):
            step()
            if tstep:
                tstep()
        ts, tt = [], []
        # Alternate five blocks (not single steps): right after a PyTorch step its worker threads still
        # compete with NumPy's BLAS threads on a small machine, which would bias single-step alternation.
        block = max(1, args.repeat // 5)
        for _ in range(5):
            for fn, acc in ((step, ts), (tstep, tt)):
                if fn is None:
                    continue
                fn()
                for _ in range(block):
                    t0 = time.perf_counter()
                    fn()
                    acc.append(time.perf_counter() - t0)
        s = statistics.median(ts)
        t = statistics.median(tt) if tt else None
        rows.append([kind, fmt_time(s), fmt_time(t) if t else "-", f"{s / t:5.2f}x" if t else "-"])
    print(table(rows, ["workload", "shendu/step", "torch/step", "ratio"]))


if __name__ == "__main__":
    main()
