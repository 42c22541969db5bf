"""Does ``backward_array`` pay? Shape, reduction, matmul and recurrent ops, with and without it (issue 22).

For each op: forward + backward (``y.backward(g)`` from the op's own output, so only that op's rule runs),
timed with the class's ``backward_array`` as written and with ``backward_array = None`` (the engine then
wraps the gradient and calls the differentiable ``backward`` under no_grad), alternating A/B in the same
process, median of the per-round ratios. Two sizes: 4x4 (overhead-bound) and a training size.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/backward_array_shape.py
    (--only NAME[,NAME] to run some rows; --rounds N)

The rule (issue 22): keep ``backward_array`` where it saves >= 10% of forward+backward on a hot training op;
elsewhere the differentiable ``backward`` alone ("without/with" = time without backward_array / time with it;
1.10 or more at the training size keeps it). Only ops that still have a ``backward_array`` can be timed (the
others print "no backward_array").

Measured 2026-11-30 (2 cores shared with other agents, load 3-8), 1 thread. R0: all ops, --rounds 1 --budget 0.01;
    R1: all ops, --rounds 7 (both before the removals); R2: --only Amax,LogSumExp,Sum,Norm2,Reshape --rounds 11;
    R3: --rounds 7 after the removals (kept ops only). without/with at 4x4 | at the training size:

    op            4x4 R0/R1/R2/R3          training size R0/R1/R2/R3     decision
    Reshape       1.44/1.29/1.49/1.18      64x9216 1.02/1.14/1.14/0.97   removed (median 1.08; a view)
    Transpose     1.25/1.50                64x9216 1.01/1.05             removed
    BroadcastTo   1.19/1.23                64x9216 1.06/0.99             removed
    SumTo         1.18/1.29                64x9216 0.93/0.91             removed
    Cat           4.12/1.57                64x9216 0.77/0.97             removed
    Split         2.09/1.58                64x9216 1.10/1.04             removed
    Pad           2.40/1.14                64x9216 1.00/1.08             removed
    Tile          2.28/1.37 (not hot)      64x9216 0.69/0.81             removed
    Flip          0.96/1.19 (not hot)      64x9216 1.05/0.99             removed
    Roll          1.21/1.25 (not hot)      64x9216 0.90/1.03             removed
    Sum           1.53/1.42/1.51/1.24      128x650 1.19/1.19/1.18/1.13   kept
    Mean          1.71/1.73/-/1.28         128x650 1.47/1.42/-/1.26      kept
    Amax          1.54/1.76/1.60/1.40      128x650 1.12/0.92/1.14/1.17   kept (median 1.13)
    Norm2         1.93/1.44/2.58/2.26      128x650 1.15/1.23/1.13/1.06   kept (median 1.14)
    LogSumExp     1.50/1.27/1.61           128x650 1.08/1.14/0.97        removed (median 1.08)
    Cumsum        1.43/1.70 (not hot)      128x650 1.01/1.03             removed
    Prod          0.75/0.93 (not hot)      128x650 0.15/0.15             removed: the array rule (exclusive cumprods)
                                                                         was 6.6x slower; the one rule left is exact
                                                                         with zeros (first and second order); 128x650
                                                                         fwd+bwd, new rule vs old array rule: 133 us vs
                                                                         4.1 ms without zeros, 2.4 vs 2.4 ms with one
                                                                         (min of 15 x 20 calls, same process)
    MatMul        2.12/2.22/-/1.59         128x650x650 1.04/1.23/-/1.08  kept: the GEMMs dominate at training size,
                                                                         but benchmarks/overhead.py times 4x4 matmul
                                                                         forward+backward (issue 20), 1.6-2.2x slower
                                                                         without it
    Einsum        0.94/1.12 (not hot)      128x650x650 0.63/1.24         removed
    LSTMSeq       9.25/7.91/-/9.40         T10 B20 H650 3.92/3.96/-/3.85 kept (BPTT by hand vs recompute+grad)
    GRUSeq        7.56/10.41/-/8.81        T10 B20 H650 2.11/2.14/-/2.19 kept
    ElmanSeq      10.42/13.92/-/11.41      T10 B20 H650 2.09/2.24/-/2.36 kept

"Hot": the op runs in a training step of benchmarks/ (word_lm, lstm_lm, gru_cls: Reshape, Cat, LSTMSeq/GRUSeq,
Transpose; transformer_enc: MatMul, Mean, Reshape, Transpose; losses: Sum, Mean). For a view op the gain is
the ~5-10 us of a Function call per backward, whatever the size.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import fmt_time  # noqa: E402

import shendu as sd  # noqa: E402
from shendu.autograd.engine import backward as _backward  # noqa: E402
from shendu.ops import linalg as L  # noqa: E402
from shendu.ops import reduce as R  # noqa: E402
from shendu.ops import rnn as RNN  # noqa: E402
from shendu.ops import shape as S  # noqa: E402


def _t(rng, *shape, grad=True):
    return sd.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=grad)


def cases(rng):
    """(name, Function class, hot in training?, inputs, fn(*inputs) -> output(s))."""
    out = []
    for size, (m, n) in (("4x4", (4, 4)), ("64x9216", (64, 9216))):
        x = _t(rng, m, n)
        out += [
            (f"Reshape {size}", S.Reshape, True, (x,), lambda x, n=n: S.reshape(x, (-1,))),
            (f"Transpose {size}", S.Transpose, True, (x,), lambda x: S.transpose(x, 0, 1)),
            (f"BroadcastTo {size}", S.BroadcastTo, True, (_t(rng, 1, n),),
             lambda x, m=m, n=n: S.broadcast_to(x, (m, n))),
            (f"SumTo {size}", S.SumTo, True, (x,), lambda x, n=n: S.sum_to(x, (1, n))),
            (f"Cat {size}", S.Cat, True, (x, _t(rng, m, n)), lambda a, b: S.cat([a, b], 1)),
            (f"Split {size}", S.Split, True, (x,), lambda x, n=n: S.split(x, n // 2, 1)),
            (f"Pad {size}", S.Pad, True, (x,), lambda x: S.pad(x, (1, 1, 1, 1))),
            (f"Tile {size}", S.Tile, False, (x,), lambda x: S.tile(x, (2, 1))),
            (f"Flip {size}", S.Flip, False, (x,), lambda x: S.flip(x, 1)),
            (f"Roll {size}", S.Roll, False, (x,), lambda x: S.roll(x, 1, 1)),
        ]
    for size, (m, n) in (("4x4", (4, 4)), ("128x650", (128, 650))):
        x = _t(rng, m, n)
        xpos = sd.tensor(rng.uniform(0.9, 1.1, (m, n)).astype(np.float32), requires_grad=True)
        out += [
            (f"Sum {size}", R.Sum, True, (x,), lambda x: R.sum(x, 1)),
            (f"Mean {size}", R.Mean, True, (x,), lambda x: R.mean(x, 1)),
            (f"Amax {size}", R.Amax, True, (x,), lambda x: R.amax(x, 1)),
            (f"Prod {size}", R.Prod, False, (xpos,), lambda x: R.prod(x, 1)),
            (f"LogSumExp {size}", R.LogSumExp, True, (x,), lambda x: R.logsumexp(x, 1)),
            (f"Cumsum {size}", R.Cumsum, False, (x,), lambda x: R.cumsum(x, 1)),
            (f"Norm2 {size}", R.Norm2, True, (x,), lambda x: R.norm(x, 2, 1)),
        ]
    for size, (m, k, n) in (("4x4", (4, 4, 4)), ("128x650x650", (128, 650, 650))):
        a, b = _t(rng, m, k), _t(rng, k, n)
        out += [
            (f"MatMul {size}", L.MatMul, True, (a, b), lambda a, b: L.matmul(a, b)),
            (f"Einsum {size}", L.Einsum, False, (a, b), lambda a, b: L.einsum("ij,jk->ik", a, b)),
        ]
    for size, (T, B, H) in (("T4 B4 H4", (4, 4, 4)), ("T10 B20 H650", (10, 20, 650))):
        s = 0.1
        out += [
            (f"LSTMSeq {size}", RNN.LSTMSeq, True,
             (_t(rng, T, B, 4 * H), sd.tensor(s * rng.standard_normal((4 * H, H)).astype(np.float32),
                                              requires_grad=True), _t(rng, B, H), _t(rng, B, H)),
             lambda *a: RNN.LSTMSeq()(*a)),
            (f"GRUSeq {size}", RNN.GRUSeq, True,
             (_t(rng, T, B, 3 * H), sd.tensor(s * rng.standard_normal((3 * H, H)).astype(np.float32),
                                              requires_grad=True), _t(rng, 3 * H), _t(rng, B, H)),
             lambda *a: RNN.GRUSeq()(*a)),
            (f"ElmanSeq {size}", RNN.ElmanSeq, True,
             (_t(rng, T, B, H), sd.tensor(s * rng.standard_normal((H, H)).astype(np.float32),
                                          requires_grad=True), _t(rng, B, H)),
             lambda *a: RNN.ElmanSeq()(*a)),
        ]
    return out


def _step_fn(fn, inputs):
    outs = fn(*inputs)
    outs = list(outs) if isinstance(outs, tuple) else [outs]
    grads = [sd.tensor(np.ones(o.shape, np.float32)) for o in outs]

    def step():
        for x in inputs:
            x.grad = None
        ys = fn(*inputs)
        ys = list(ys) if isinstance(ys, tuple) else [ys]
        _backward(ys, grads)

    return step


def _time(step, budget):
    """Seconds per call: calls repeated until ``budget`` seconds have passed (at least 3)."""
    step()
    n, t0 = 0, time.perf_counter()
    while True:
        step()
        n += 1
        dt = time.perf_counter() - t0
        if n >= 3 and dt >= budget:
            return dt / n


def measure(cls, step, rounds, budget):
    """(median time with, median time without, median per-round ratio without/with)."""
    fast = cls.__dict__.get("backward_array")
    if fast is None:
        raise SystemExit(f"{cls.__name__} has no backward_array of its own to compare")
    w, wo, ratios = [], [], []
    try:
        for _ in range(rounds):
            cls.backward_array = fast
            a = _time(step, budget)
            cls.backward_array = None
            b = _time(step, budget)
            w.append(a)
            wo.append(b)
            ratios.append(b / a)
    finally:
        cls.backward_array = fast
    return statistics.median(w), statistics.median(wo), statistics.median(ratios)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default="", help="comma-separated op names (class names) to run")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--budget", type=float, default=0.05, help="seconds per timing")
    args = p.parse_args(argv)
    only = {s for s in args.only.split(",") if s}
    rng = np.random.default_rng(0)
    print(f"{'op':24s} {'hot':>3s} {'with':>11s} {'without':>11s} {'without/with':>12s}")
    for name, cls, hot, inputs, fn in cases(rng):
        if only and name.split()[0] not in only:
            continue
        if cls.__dict__.get("backward_array") is None:
            print(f"{name:24s} {'y' if hot else 'n':>3s}   (no backward_array)")
            continue
        w, wo, r = measure(cls, _step_fn(fn, inputs), args.rounds, args.budget)
        print(f"{name:24s} {'y' if hot else 'n':>3s} {fmt_time(w):>11s} {fmt_time(wo):>11s} {r:12.2f}", flush=True)


if __name__ == "__main__":
    main()
