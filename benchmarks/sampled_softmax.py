"""High-dimensional outputs at |V| = 50,000 (textbook 12.4.3): time per training step of the output layer alone
(forward + loss + backward, gradients w.r.t. the hidden batch and the layer's parameters), full softmax vs
hierarchical softmax (Huffman and balanced trees), the two-level class softmax, importance-sampled softmax and
NCE, with PyTorch's full softmax in the same run for reference. Then ``--quality``: the perplexity cost on a
small synthetic task (|V| = 2,000, Zipfian), each output trained for the same number of steps and scored with
its exact normalised probabilities.

    python benchmarks/sampled_softmax.py [--vocab 50000] [--hidden 256] [--batch 128] [--samples 256]
                                         [--repeat 10] [--clock wall|cpu] [--quality]
Ratios are shendu full softmax time / method time (same run, medians).
"""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import bench, fmt_time, table, try_torch  # noqa: E402

import shendu as sd  # noqa: E402
from shendu.nn import functional as F  # noqa: E402
from shendu.text import (HierarchicalSoftmax, NCELoss, SampledSoftmaxLoss, TwoLevelSoftmax, balanced_tree,  # noqa: E402
                         huffman_tree, unigram_proposal)


def bench_cpu(fn, warmup=2, repeat=10):
    """Median process CPU seconds per call (steadier than wall time on a shared machine; single-threaded runs)."""
    import statistics
    import time

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def zipf_counts(V, seed=0):
    """Zipf-like word counts (rank r has count ~ 1e6 / r)."""
    return np.maximum(1, (1e6 / np.arange(1, V + 1))).astype(np.int64)


def frequency_classes(counts, n_classes):
    """Two-level classes: words sorted by frequency, cut into n_classes bins of equal size (about sqrt V words;
    bins of equal total frequency, Mikolov 2011, would put most rare words in one huge class)."""
    order = np.argsort(-counts, kind="stable")
    cls = np.empty(len(counts), np.int64)
    cls[order] = np.arange(len(counts)) * n_classes // len(counts)
    return cls


def layers(V, H, m, counts):
    sd.manual_seed(0)
    q = unigram_proposal(counts, power=0.75)
    full = sd.nn.Linear(H, V)
    return {
        "full softmax": full,
        "hierarchical (Huffman)": HierarchicalSoftmax(H, huffman_tree(counts)),
        "hierarchical (balanced)": HierarchicalSoftmax(H, balanced_tree(V)),
        "two-level classes": TwoLevelSoftmax(H, frequency_classes(counts, int(math.sqrt(V)))),
        f"importance sampling (m={m})": SampledSoftmaxLoss(H, V, m, q),
        f"NCE (k={m})": NCELoss(H, V, m, q),
    }


def loss_of(name, layer, h, y):
    if name == "full softmax":
        return F.cross_entropy(layer(h), y)
    if name.startswith("hierarchical") or name.startswith("two-level"):
        return layer.loss(h, y)
    return layer(h, y)


def speed(args):
    V, H, B, m = args.vocab, args.hidden, args.batch, args.samples
    timer = bench_cpu if args.clock == "cpu" else bench
    counts = zipf_counts(V)
    rng = np.random.default_rng(0)
    p = counts / counts.sum()
    y = rng.choice(V, size=B, p=p)
    hx = rng.standard_normal((B, H)).astype(np.float32)
    rows, times = [], {}
    for name, layer in layers(V, H, m, counts).items():
        params = list(layer.parameters())

        def step(name=name, layer=layer, params=params):
            for q in params:
                q.grad = None
            h = sd.tensor(hx, requires_grad=True)
            loss_of(name, layer, h, y).backward()

        times[name] = timer(step, warmup=2, repeat=args.repeat)
    torch = try_torch()
    t_torch = None
    if torch is not None:
        if args.clock == "cpu":
            torch.set_num_threads(1)
        torch.manual_seed(0)
        lin = torch.nn.Linear(H, V)
        ty = torch.from_numpy(y)

        def tstep():
            lin.zero_grad(set_to_none=True)
            h = torch.from_numpy(hx).requires_grad_(True)
            torch.nn.functional.cross_entropy(lin(h), ty).backward()

        t_torch = timer(tstep, warmup=2, repeat=args.repeat)
    full = times["full softmax"]
    for name, t in times.items():
        rows.append([name, fmt_time(t), f"{full / t:6.2f}x"])
    if t_torch is not None:
        rows.append(["PyTorch full softmax", fmt_time(t_torch), f"{full / t_torch:6.2f}x"])
    print(f"output layer, |V| = {V}, n_h = {H}, batch {B}: {args.clock} time per step (forward + backward), "
          f"median of {args.repeat}; speed-up = shendu full softmax / method")
    print(table(rows, ["method", "time/step", "speed-up"]))


def quality(args, V=2000, H=32, C=64, steps=400, B=256):
    """Train each output on the same synthetic data; report exact test perplexity (the cost of the approximation)."""
    rng = np.random.default_rng(1)
    ctx_emb = rng.standard_normal((C, H)).astype(np.float32)
    # each context's true distribution: Zipf over a context-specific permutation of part of the vocabulary
    base = 1.0 / np.arange(1, V + 1) ** 1.1
    P = np.stack([base[rng.permutation(V)] for _ in range(C)])
    P = 0.7 * P / P.sum(1, keepdims=True) + 0.3 * (base / base.sum())
    n = 60000
    c = rng.integers(0, C, n)
    w = np.array([rng.choice(V, p=P[i]) for i in range(C) for _ in range((c == i).sum())])
    c = np.sort(c)
    order = rng.permutation(n)
    c, w = c[order], w[order]
    tr, te = slice(0, 50000), slice(50000, n)
    counts = np.bincount(w[tr], minlength=V) + 1
    entropy = -np.mean(np.log(P[c[te], w[te]]))
    rows = []
    for name, layer in layers(V, H, args.samples_quality, counts).items():
        sd.manual_seed(0)
        opt = sd.optim.Adam(layer.parameters(), lr=args.quality_lr)
        r = np.random.default_rng(2)
        for _ in range(steps):
            idx = r.integers(0, 50000, B)
            loss = loss_of(name, layer, sd.tensor(ctx_emb[c[tr][idx]]), w[tr][idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with sd.no_grad():
            h = sd.tensor(ctx_emb[c[te]])
            if name == "full softmax":
                lp = F.log_softmax(layer(h), dim=1).numpy()
            elif hasattr(layer, "full_log_prob"):
                lp = layer.full_log_prob(h).numpy()
            else:
                lp = F.log_softmax(layer.logits(h), dim=1).numpy()
        ppl = math.exp(-lp[np.arange(len(lp)), w[te]].mean())
        rows.append([name, f"{ppl:8.2f}"])
    print(f"\nperplexity cost: |V| = {V}, {C} contexts, {steps} Adam steps (lr {args.quality_lr}) of batch {B}; exact "
          f"normalised probabilities (the true distribution's: {math.exp(entropy):.2f})")
    print(table(rows, ["method", "test perplexity"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocab", type=int, default=50000)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--samples-quality", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="cpu: process CPU time, single-threaded PyTorch (for a busy machine)")
    ap.add_argument("--quality", action="store_true", help="also run the perplexity-cost comparison")
    ap.add_argument("--quality-lr", type=float, default=0.005)
    args = ap.parse_args()
    speed(args)
    if args.quality:
        quality(args)


if __name__ == "__main__":
    main()
