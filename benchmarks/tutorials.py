"""Workloads from public PyTorch tutorials, shendu vs PyTorch side by side in the same run (issue 20).

    mnist_cnn        PyTorch's examples/mnist network: conv3x3(32) relu conv3x3(64) relu maxpool2 dropout(0.25)
                     flatten fc128 relu dropout(0.5) fc10, log_softmax + nll_loss, Adadelta lr=1, batch 64,
                     1x28x28 random data
    word_lm          examples/word_language_model: Embedding 10k x 650, dropout 0.2, 2-layer LSTM 650 (dropout
                     0.2), Linear 650 -> 10k; bptt 35, batch 20, hidden state carried (detached), SGD lr 20 and
                     clip_grad_norm 0.25
    transformer_enc  nn.TransformerEncoder, 2 layers, d_model 128, 4 heads, feed-forward 512, dropout 0.1,
                     batch_first, seq 64, batch 32, mean over time -> Linear 10, cross-entropy, Adam
    vae              examples/vae: 784-400-(20, 20) / 20-400-784, ReLU, sigmoid, BCE(sum) + KL, batch 128, Adam

A train step is forward + loss + backward (+ clipping) + update, float32, same initial weights (copied through
state_dict) and the same data. PyTorch runs with as many threads as NumPy's BLAS. Times are medians of
``--repeat`` alternating blocks (benchmarks/mlp.py bench_pair). Peak memory (``--mem``): as benchmarks/cnn.py,
each framework in a fresh subprocess, peak RSS growth over the resident size after the imports.

    python benchmarks/tutorials.py [--repeat 7] [--only mnist_cnn vae] [--mem] [--profile word_lm] [--cpu-time]

2026-11-30, after the fused BCE, the lighter cross-entropy, the axpy SGD step and the GEMV bias gradient: 1 thread,
--repeat 5 --cpu-time, three runs at load 0.5-1.0: mnist_cnn 0.64-0.69x, word_lm 0.94-0.96x, transformer_enc
0.81-0.83x, vae 0.85-0.86x; the same code alternated with the previous commit's (3 + 3 runs): vae 0.93-1.02x ->
0.78-0.87x, word_lm 0.92-1.01x -> 0.95-0.99x (its step is ~90% GEMMs; the cuts save ~8 ms of ~670). Peak RSS
growth (--mem, one run): mnist_cnn 101 / 181 MiB = 0.56x, word_lm 227 / 444 MiB = 0.51x (324 MiB before: no
whole-size SGD scratch, one (N, C) array fewer in cross-entropy), transformer_enc 104 / 189 = 0.55x, vae 15 / 100
= 0.15x. The VAE's forward stays ~1.3x PyTorch's: F.sigmoid on (128, 784) takes ~0.5 ms (np.where on a random
sign mask, branch-bound) against PyTorch's 0.05 ms.

2026-11-30, after the gate-major LSTM kernel (contiguous per-gate blocks, h W_hh^T as a batched GEMM on a
transposed copy of W_hh, the BPTT terms made in the forward's time loop, scratch from the ops._recycle arena):
1 thread, --repeat 5 --cpu-time, alternating with the previous code (load ~1): word_lm shendu step 644-656 ms ->
629-643 ms, same-run ratio 0.94-0.97x -> 0.93-0.96x (PyTorch 661-700 ms between runs); per LSTM layer (B 20,
H 650, T 35) forward 39 -> 37 ms, BPTT 64 -> 58 ms; benchmarks/rnn.py lstm_lm 0.80x -> 0.75x. Arena outputs for
the decoder and the cross-entropy too: no faster, +80 MiB peak RSS (--mem 306-326 vs 245 MiB): not kept.

Measured 2026-11-30 on the shared 2-core AMD EPYC with other agents running (load average 4.0-4.9), 1 BLAS
thread each (OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1), --repeat 7; three runs, min-max of the same-run ratio
shendu/PyTorch, and the training loop's peak RSS growth (--mem, one run):
    mnist_cnn        1.31-1.66x      peak memory 144 / 169 MiB = 0.85x
    word_lm          0.72-1.07x      (1.34-1.94x before linear ran N-d inputs as one GEMM)    0.80x
    transformer_enc  0.71-0.88x      (0.88-0.89x before)                                      0.55x
    vae              0.96-1.04x                                                               0.21x
With 2 BLAS threads on that loaded machine (one run, load 4.4) shendu was 2.2-4.9x PyTorch: OpenBLAS's two
threads stall when another process holds a core (PyTorch's OpenMP pool waits passively): the VAE's first-layer
GEMM (128x784 @ 784x400), 30 alternating calls at load 3.8, median 0.55 ms with 2 threads vs 0.90 ms with 1, but
worst 48 ms vs 9 ms. Quote 1-thread ratios on a shared machine. ``--cpu-time`` times both libraries in the
calling thread's CPU seconds (1 thread only): at load 4-7 mnist_cnn's shendu step then moved by about +-15%
between runs, where its wall time moved 2x.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import fmt_time, measure_mem, profile_steps, reset_peak_rss, rss_kib, table, try_torch  # noqa: E402
from mlp import bench_pair, blas_threads  # noqa: E402

import shendu as sd  # noqa: E402
import shendu.nn.functional as F  # noqa: E402
from shendu import nn  # noqa: E402

NUMBER = {"mnist_cnn": 3, "word_lm": 1, "transformer_enc": 2, "vae": 10}


# ---------------------------------------------------------------- shendu models ------------------------------
class MnistNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x).flatten(1)
        x = self.dropout2(F.relu(self.fc1(x)))
        return F.log_softmax(self.fc2(x), dim=1)


class WordLM(nn.Module):
    def __init__(self, ntoken=10000, ninp=650, nhid=650, nlayers=2, dropout=0.2):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)

    def forward(self, x, hidden):
        out, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
        return self.decoder(self.drop(out)).reshape(-1, self.decoder.out_features), hidden


class EncCls(nn.Module):
    def __init__(self, d=128, heads=4, ff=512, layers=2):
        super().__init__()
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, heads, ff, 0.1, batch_first=True), layers)
        self.head = nn.Linear(d, 10)

    def forward(self, x):
        return self.head(self.enc(x).mean(1))


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + sd.randn_like(mu) * (0.5 * logvar).exp()
        return F.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar


# ---------------------------------------------------------------- torch twins ---------------------------------
def torch_model(torch, name):
    tn, tf = torch.nn, torch.nn.functional
    if name == "mnist_cnn":
        class Net(tn.Module):
            def __init__(self):
                super().__init__()
                self.conv1, self.conv2 = tn.Conv2d(1, 32, 3, 1), tn.Conv2d(32, 64, 3, 1)
                self.dropout1, self.dropout2 = tn.Dropout(0.25), tn.Dropout(0.5)
                self.fc1, self.fc2 = tn.Linear(9216, 128), tn.Linear(128, 10)

            def forward(self, x):
                x = tf.max_pool2d(tf.relu(self.conv2(tf.relu(self.conv1(x)))), 2)
                x = torch.flatten(self.dropout1(x), 1)
                x = self.dropout2(tf.relu(self.fc1(x)))
                return tf.log_softmax(self.fc2(x), dim=1)
        return Net()
    if name == "word_lm":
        class LM(tn.Module):
            def __init__(self):
                super().__init__()
                self.drop = tn.Dropout(0.2)
                self.encoder = tn.Embedding(10000, 650)
                self.rnn = tn.LSTM(650, 650, 2, dropout=0.2)
                self.decoder = tn.Linear(650, 10000)

            def forward(self, x, hidden):
                out, hidden = self.rnn(self.drop(self.encoder(x)), hidden)
                return self.decoder(self.drop(out)).reshape(-1, 10000), hidden
        return LM()
    if name == "transformer_enc":
        class Enc(tn.Module):
            def __init__(self):
                super().__init__()
                self.enc = tn.TransformerEncoder(tn.TransformerEncoderLayer(128, 4, 512, 0.1, batch_first=True), 2,
                                                 enable_nested_tensor=False)
                self.head = tn.Linear(128, 10)

            def forward(self, x):
                return self.head(self.enc(x).mean(1))
        return Enc()

    class TVAE(tn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc21, self.fc22 = tn.Linear(784, 400), tn.Linear(400, 20), tn.Linear(400, 20)
            self.fc3, self.fc4 = tn.Linear(20, 400), tn.Linear(400, 784)

        def forward(self, x):
            h = tf.relu(self.fc1(x))
            mu, logvar = self.fc21(h), self.fc22(h)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            return torch.sigmoid(self.fc4(tf.relu(self.fc3(z)))), mu, logvar
    return TVAE()


def sd_model(name):
    sd.manual_seed(0)
    return {"mnist_cnn": MnistNet, "word_lm": WordLM, "transformer_enc": EncCls, "vae": VAE}[name]()


def copy_weights(torch, sdm, tm):
    s = {k: torch.from_numpy(v.numpy().copy()) for k, v in sdm.state_dict().items()}
    t = tm.state_dict()
    assert set(s) == set(t) and all(tuple(s[k].shape) == tuple(t[k].shape) for k in s), "model mismatch"
    tm.load_state_dict(s)


def data(name):
    rng = np.random.default_rng(0)
    if name == "mnist_cnn":
        return rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64)
    if name == "word_lm":
        return rng.integers(0, 10000, (35, 20)), rng.integers(0, 10000, 35 * 20)
    if name == "transformer_enc":
        return rng.standard_normal((32, 64, 128)).astype(np.float32), rng.integers(0, 10, 32)
    return rng.random((128, 784)).astype(np.float32), None


def make_step(lib, name, m, x, y):
    """One training step of workload ``name`` for model ``m``, written once: ``lib`` is shendu or torch (same API)."""
    tf = lib.nn.functional
    xs = lib.as_tensor(x)
    ys = lib.as_tensor(y) if y is not None else None
    if name == "mnist_cnn":
        opt = lib.optim.Adadelta(m.parameters(), lr=1.0)

        def loss_of():
            return tf.nll_loss(m(xs), ys)
    elif name == "word_lm":
        opt = lib.optim.SGD(m.parameters(), lr=20.0)
        params = list(m.parameters())
        state = {"h": None}

        def loss_of():
            h = state["h"]
            if h is not None:
                h = tuple(t.detach() for t in h)
            out, state["h"] = m(xs, h)
            return tf.cross_entropy(out, ys)
    elif name == "transformer_enc":
        opt = lib.optim.Adam(m.parameters(), lr=1e-3)

        def loss_of():
            return tf.cross_entropy(m(xs), ys)
    else:
        opt = lib.optim.Adam(m.parameters(), lr=1e-3)

        def loss_of():
            rx, mu, logvar = m(xs)
            kld = -0.5 * (1 + logvar - mu * mu - logvar.exp()).sum()
            return tf.binary_cross_entropy(rx, xs, reduction="sum") + kld

    def step():
        opt.zero_grad()
        loss = loss_of()
        loss.backward()
        if name == "word_lm":
            lib.nn.utils.clip_grad_norm_(params, 0.25)
        opt.step()
        return loss

    return step


def sd_stepper(name):
    m = sd_model(name)
    m.train()
    return make_step(sd, name, m, *data(name)), m


def th_stepper(torch, name, sdm=None):
    tm = torch_model(torch, name)
    if sdm is not None:
        copy_weights(torch, sdm, tm)
    tm.train()
    step = make_step(torch, name, tm, *data(name))
    step.model = tm
    return step


def check_same(torch, name, sdm, tm):
    """Eval-mode forward outputs of the two models agree (same weights, no dropout, no sampling)."""
    if name == "vae":
        return
    x, _ = data(name)
    sdm.eval()
    tm.eval()
    with sd.no_grad(), torch.no_grad():
        a = sdm(sd.as_tensor(x), None)[0] if name == "word_lm" else sdm(sd.as_tensor(x))
        b = tm(torch.from_numpy(x), None)[0] if name == "word_lm" else tm(torch.from_numpy(x))
    sdm.train()
    tm.train()
    err = float(np.abs(a.numpy() - b.numpy()).max())
    assert err < 1e-3, f"{name}: shendu and PyTorch outputs differ by {err}"


def mem_child(fw, name, steps=6):
    """Subprocess: peak RSS growth (MiB) over the resident size before the model is built, through 2 warm-up
    and ``steps`` training steps."""
    import gc

    torch = None
    if fw == "torch":
        import torch

        torch.set_num_threads(blas_threads())
    gc.collect()
    base = rss_kib("VmRSS")
    reset = reset_peak_rss()
    step = th_stepper(torch, name) if fw == "torch" else sd_stepper(name)[0]
    for _ in range(2 + steps):
        step()
    peak = rss_kib("VmHWM")
    print(json.dumps({"rss_peak_growth_mib": (peak - base) / 1024 if reset else None}))


def bench_pair_cpu(f, g, warmup=2, repeat=7, number=3):
    """bench_pair in CPU seconds of the calling thread (``--cpu-time``; see mlp.bench_pair)."""
    import time

    return bench_pair(f, g, warmup=warmup, repeat=repeat, number=number, timer=time.thread_time)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--only", nargs="*", default=list(NUMBER))
    ap.add_argument("--mem", action="store_true", help="also measure the training loop's peak memory")
    ap.add_argument("--profile", default=None)
    ap.add_argument("--cpu-time", action="store_true",
                    help="time steps in the calling thread's CPU seconds (stable under load; 1 thread only)")
    ap.add_argument("--mem-child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.mem_child:
        return mem_child(*args.mem_child)
    torch = try_torch()
    threads = blas_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    if args.cpu_time and threads != 1:
        ap.error("--cpu-time needs 1 thread (OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1): other threads' work "
                 "would not be counted")
    bench = bench_pair_cpu if args.cpu_time else bench_pair
    print(f"threads: numpy BLAS {threads}, torch {torch.get_num_threads() if torch else 'n/a'}; torch "
          f"{torch.__version__ if torch else 'not installed'}; median of {args.repeat} alternating blocks "
          f"({'thread CPU' if args.cpu_time else 'wall'} time); load {os.getloadavg()[0]:.1f}")
    rows = []
    for name in args.only:
        step, sdm = sd_stepper(name)
        tstep = th_stepper(torch, name, sdm) if torch is not None else None
        if tstep is not None:
            check_same(torch, name, sdm, tstep.model)
        t_sd, t_th = bench(step, tstep, warmup=2, repeat=args.repeat, number=NUMBER[name])
        mem = ""
        if args.mem:
            ms = measure_mem(__file__, "shendu", name)
            mt = measure_mem(__file__, "torch", name) if torch is not None else {}
            a, b = ms.get("rss_peak_growth_mib"), mt.get("rss_peak_growth_mib")
            mem = f"{a:.0f} / {b:.0f} MiB = {a / b:.2f}x" if a is not None and b else f"{ms} / {mt}"
        ratio = t_sd / t_th if t_th else None
        rows.append([name, fmt_time(t_sd), fmt_time(t_th) if t_th else "n/a", f"{ratio:.2f}x" if ratio else "n/a",
                     "<= 1.0x", mem])
        if args.profile == name:
            profile_steps(step, 5, 25)
    print(table(rows, ["workload", "shendu/step", "pytorch/step", "ratio", "target", "peak mem shendu / torch"]))
    return rows


if __name__ == "__main__":
    main()
