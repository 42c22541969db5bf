"""Does each ``backward_array`` fast path pay? Forward + backward of one op with and without it (issue 22).

The engine runs a Function's ``backward_array`` (raw arrays) when the class defines one and no graph is
recorded; otherwise its differentiable ``backward`` (Tensors, shendu ops). This script times one op's
forward + backward both ways in the same process, alternating blocks, 1 thread: "with" as the class is,
"without" with ``cls.backward_array = None`` set for the block. Two sizes: 4x4 (per-op overhead) and a
training size (64x9216 as ReLU/dropout after mnist_cnn's conv, 128x650 for tanh/sigmoid, 20x10000 for
softmax/log_softmax/cross-entropy, linear 64x9216 -> 128, embedding 35x20 rows of 10000x650).

Rule (issue 22): keep ``backward_array`` where it saves >= 10% at either size on a hot training op: ReLU,
sigmoid/tanh, add/sub/mul/div/neg, exp/log, softmax/log_softmax, cross-entropy, linear, embedding, and the
other ops the benchmark workloads' training steps run (clamp and where in vae's BCE, getitem in
transformer_enc and gru_cls, gather in mnist_cnn's nll_loss); delete it elsewhere, so those ops state their
derivative once, in ``backward``. Every fast path saves 5-50% at 4x4 (the Tensor path builds a few more
Function calls), so the size-independent part of the rule is "hot". After the deletions the script prints
"no backward_array" for the deleted ones; tests/core/test_backward_array.py pins the kept set and checks each
kept fast path against its ``backward``.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/backward_array.py [--repeat 9] [--only Relu Tanh]

Measured 2026-11-30 on the shared 2-core machine (other agents running), --repeat 9, before the deletions
(median us per forward+backward; saving = 1 - with/without):
    op               4x4 with  without  saving  train with  without  saving  decision
    ---------------------------------------------------------------------------------
    Add              8.0       9.4      +15%    251.6       254.3    +1%     keep
    Sub              8.0       10.4     +23%    248.6       254.4    +2%     keep
    Mul              8.4       12.5     +32%    292.6       303.8    +4%     keep
    Div              9.4       17.6     +47%    6593.3      8673.8   +24%    keep
    Neg              6.7       8.9      +24%    140.5       144.9    +3%     keep
    PowScalar        12.6      17.4     +27%    36198.6     36386.7  +1%     delete
    Exp              6.9       9.6      +28%    422.3       430.1    +2%     keep
    Log              6.7       9.4      +28%    363.9       373.2    +2%     keep
    Log1p            8.7       14.2     +39%    497.0       505.7    +2%     delete
    Expm1            7.2       10.7     +32%    668.8       735.7    +9%     delete
    Sqrt             7.5       12.6     +41%    385.7       398.1    +3%     delete
    Rsqrt            8.9       17.2     +48%    558.3       641.6    +13%    delete
    Square           8.6       15.3     +44%    209.9       260.6    +19%    delete
    Abs              7.4       10.5     +29%    520.9       677.1    +23%    delete
    Sin              12.4      16.2     +24%    893.2       1164.9   +23%    delete
    Cos              7.8       12.6     +38%    2143.9      10357.4  +79%    delete
    Sinh             10.4      11.1     +5%     1163.6      1231.3   +5%     delete
    Cosh             7.6       11.1     +32%    599.6       650.9    +8%     delete
    Tanh             13.1      19.7     +34%    115.2       141.1    +18%    keep
    Sigmoid          20.0      29.0     +31%    608.8       682.0    +11%    keep
    Relu             10.5      18.3     +43%    792.2       1057.2   +25%    keep
    Softplus         27.2      36.4     +25%    8406.5      12018.5  +30%    delete
    Clamp            13.6      16.2     +16%    334.4       345.7    +3%     keep
    Maximum          12.2      16.8     +27%    6801.8      6831.1   +0%     delete
    Where            11.5      17.9     +36%    6450.8      6496.5   +1%     keep
    Cast             7.0       11.4     +38%    202.5       207.4    +2%     delete
    Clone            6.1       7.2      +16%    124.8       127.7    +2%     delete
    Softmax          29.4      46.0     +36%    631.8       643.1    +2%     keep
    LogSoftmax       28.7      45.6     +37%    688.9       714.0    +4%     keep
    CrossEntropyIdx  43.9      66.2     +34%    538.8       1174.8   +54%    keep
    GetItem[rows]    22.4      29.3     +24%    1541.1      1461.0   -5%     keep
    GetItem[slice]   20.7      29.3     +29%    383.2       420.3    +9%     keep
    Gather           36.8      38.1     +3%     63.5        74.4     +15%    keep
    ScatterAddInto   30.5      33.1     +8%     61.3        67.3     +9%     delete
    IndexAdd         23.4      31.8     +26%    11898.6     12002.7  +1%     delete
    LinearFn         28.4      56.0     +49%    15209.6     15590.8  +2%     keep
    Embedding        21.3      38.1     +44%    11801.2     24749.5  +52%    keep
    Step             15.5      25.9     +40%    374.9       454.7    +18%    delete
    LeakyRelu        27.5      31.6     +13%    6591.0      7465.3   +12%    delete
    HardTanh         16.5      24.9     +34%    370.1       438.3    +16%    delete
    Erf              9.1       17.5     +48%    16656.6     12153.0  -37%    delete
Not timed, deleted as well: Minimum (Maximum's), ToDevice (device copies), GetItemGrad (runs only in a double
backward). Training-size figures are noisy on the loaded machine (Cos +79% and Erf -37% above are noise).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import table  # noqa: E402

import shendu as sd  # noqa: E402
from shendu.nn.functional import activation as act  # noqa: E402
from shendu.nn.functional.embedding import _Embedding  # noqa: E402
from shendu.nn.functional.linear import LinearFn  # noqa: E402
from shendu.nn.functional.loss import _CrossEntropyIdx  # noqa: E402
from shendu.ops import elementwise as ew  # noqa: E402
from shendu.ops.index import Gather, GetItem, IndexAdd, ScatterAddInto  # noqa: E402
from shendu.ops.softmax import LogSoftmax, Softmax  # noqa: E402

RNG = np.random.default_rng(0)
SMALL = (4, 4)
ELEM, SQUASH, CLASSES = (64, 9216), (128, 650), (20, 10000)


def _t(shape, lo=-2.0, hi=2.0, grad=True):
    return sd.tensor(RNG.uniform(lo, hi, shape).astype(np.float32), requires_grad=grad)


def unary(make_fn, lo=-2.0, hi=2.0):
    """A case for a one-input op: ``make_fn()`` is a fresh Function instance."""
    return lambda shape: ((_t(shape, lo, hi),), lambda x: make_fn()(x))


def binary(make_fn, lo=-2.0, hi=2.0):
    return lambda shape: ((_t(shape), _t(shape, lo, hi)), lambda a, b: make_fn()(a, b))


def _where(shape):
    cond = sd.tensor(RNG.random(shape) > 0.5)
    return (_t(shape), _t(shape)), lambda a, b: ew.Where()(cond, a, b)


def _softmax_case(cls):
    return lambda shape: ((_t(shape),), lambda x: cls(1)(x))


def _getitem_rows(shape):  # x[idx] with an integer array: the rows of a batch
    idx = RNG.integers(0, shape[0], shape[0])
    return (_t(shape),), lambda x: GetItem(idx)(x)


def _getitem_slice(shape):  # x[:, 1:]: a basic slice
    return (_t(shape),), lambda x: GetItem((slice(None), slice(1, None)))(x)


def _gather(shape):  # the picked logit per row (nll_loss's gather)
    idx = RNG.integers(0, shape[1], (shape[0], 1))
    return (_t(shape),), lambda x: Gather(1, idx)(x)


def _scatter_add(shape):
    idx = RNG.integers(0, shape[1], (shape[0], 1))
    return (_t((shape[0], 1)),), lambda s: ScatterAddInto(1, idx, shape)(s)


def _index_add(shape):
    idx = RNG.integers(0, shape[0], shape[0])
    return (_t(shape), _t(shape)), lambda x, s: IndexAdd(0, idx)(x, s)


def _linear(shape):
    n, k = shape
    out = 4 if shape == SMALL else 128
    return (_t((n, k)), _t((out, k)), _t((out,))), lambda x, w, b: LinearFn()(x, w, b)


def _embedding(shape):
    small = shape == SMALL
    idx = RNG.integers(0, 4 if small else 10000, (4, 1) if small else (35, 20))
    w = _t((4, 4) if small else (10000, 650))
    return (w,), lambda w_: _Embedding(idx, None)(w_)


def _cross_entropy(shape):
    t = RNG.integers(0, shape[1], shape[0])
    return (_t(shape),), lambda z: _CrossEntropyIdx(t, None, 0.0, "mean")(z)


# name -> (class, case builder, training size, hot in a training step)
CASES = {
    "Add": (ew.Add, binary(ew.Add), ELEM, True),
    "Sub": (ew.Sub, binary(ew.Sub), ELEM, True),
    "Mul": (ew.Mul, binary(ew.Mul), ELEM, True),
    "Div": (ew.Div, binary(ew.Div, 0.5, 2.0), ELEM, True),
    "Neg": (ew.Neg, unary(ew.Neg), ELEM, True),
    "PowScalar": (ew.PowScalar, unary(lambda: ew.PowScalar(3)), ELEM, False),
    "Exp": (ew.Exp, unary(ew.Exp), ELEM, True),
    "Log": (ew.Log, unary(ew.Log, 0.5, 2.0), ELEM, True),
    "Log1p": (ew.Log1p, unary(ew.Log1p, 0.0, 2.0), ELEM, False),
    "Expm1": (ew.Expm1, unary(ew.Expm1), ELEM, False),
    "Sqrt": (ew.Sqrt, unary(ew.Sqrt, 0.5, 2.0), ELEM, False),
    "Rsqrt": (ew.Rsqrt, unary(ew.Rsqrt, 0.5, 2.0), ELEM, False),
    "Square": (ew.Square, unary(ew.Square), ELEM, False),
    "Abs": (ew.Abs, unary(ew.Abs), ELEM, False),
    "Sin": (ew.Sin, unary(ew.Sin), ELEM, False),
    "Cos": (ew.Cos, unary(ew.Cos), ELEM, False),
    "Sinh": (ew.Sinh, unary(ew.Sinh), ELEM, False),
    "Cosh": (ew.Cosh, unary(ew.Cosh), ELEM, False),
    "Tanh": (ew.Tanh, unary(ew.Tanh), SQUASH, True),
    "Sigmoid": (ew.Sigmoid, unary(ew.Sigmoid), SQUASH, True),
    "Relu": (ew.Relu, unary(ew.Relu), ELEM, True),
    "Softplus": (ew.Softplus, unary(ew.Softplus), ELEM, False),
    "Clamp": (ew.Clamp, unary(lambda: ew.Clamp(-1.0, 1.0)), ELEM, True),
    "Maximum": (ew.Maximum, binary(ew.Maximum), ELEM, False),
    "Where": (ew.Where, _where, ELEM, True),
    "Cast": (ew.Cast, unary(lambda: ew.Cast(np.float64)), ELEM, False),
    "Clone": (ew.Clone, unary(ew.Clone), ELEM, False),
    "Softmax": (Softmax, _softmax_case(Softmax), CLASSES, True),
    "LogSoftmax": (LogSoftmax, _softmax_case(LogSoftmax), CLASSES, True),
    "CrossEntropyIdx": (_CrossEntropyIdx, _cross_entropy, CLASSES, True),
    "GetItem[rows]": (GetItem, _getitem_rows, ELEM, True),
    "GetItem[slice]": (GetItem, _getitem_slice, ELEM, True),
    "Gather": (Gather, _gather, CLASSES, True),
    "ScatterAddInto": (ScatterAddInto, _scatter_add, CLASSES, False),
    "IndexAdd": (IndexAdd, _index_add, ELEM, False),
    "LinearFn": (LinearFn, _linear, ELEM, True),
    "Embedding": (_Embedding, _embedding, None, True),
    "Step": (act._Step, unary(lambda: act._Step(0.0)), ELEM, False),
    "LeakyRelu": (act._LeakyRelu, unary(lambda: act._LeakyRelu(0.01)), ELEM, False),
    "HardTanh": (act._HardTanh, unary(lambda: act._HardTanh(-1.0, 1.0)), ELEM, False),
    "Erf": (act._Erf, unary(act._Erf), ELEM, False),
}


def _step(xs, f, g):
    def step():
        for x in xs:
            x.grad = None
        f(*xs).backward(g)

    return step


def time_case(cls, build, shape, repeat):
    """Median seconds of forward+backward with and without ``cls.backward_array`` (alternating blocks)."""
    xs, f = build(shape)
    y = f(*xs)
    g = sd.ones(*y.shape, dtype=y.dtype) if y.ndim else None
    step = _step(xs, f, g)
    own = "backward_array" in cls.__dict__
    fast = cls.backward_array
    if fast is None:
        return None
    number = max(1, int(0.02 / _once(step)))  # blocks of ~20 ms
    t_with, t_without = [], []
    try:
        for _ in range(repeat):
            t_with.append(_block(step, number))
            cls.backward_array = None
            try:
                t_without.append(_block(step, number))
            finally:
                cls.backward_array = fast
    finally:
        if not own:
            del cls.backward_array
    return statistics.median(t_with), statistics.median(t_without)


def _once(step):
    step()
    t0 = time.perf_counter()
    step()
    return max(time.perf_counter() - t0, 1e-7)


def _block(step, number):
    t0 = time.perf_counter()
    for _ in range(number):
        step()
    return (time.perf_counter() - t0) / number


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--only", nargs="*", default=None)
    args = ap.parse_args(argv)
    rows = []
    for name, (cls, build, train, hot) in CASES.items():
        if args.only and name not in args.only:
            continue
        if cls.backward_array is None:
            rows.append([name, "-", "-", "-", "-", "-", "-", "no backward_array"])
            continue
        cells = [name]
        savings = []
        for shape in (SMALL, train):
            w, wo = time_case(cls, build, shape, args.repeat)
            savings.append(1 - w / wo)
            cells += [f"{w * 1e6:.1f}", f"{wo * 1e6:.1f}", f"{savings[-1] * 100:+.0f}%"]
        keep = hot and max(savings) >= 0.10
        rows.append(cells + ["keep" if keep else "delete"])
        print(" ".join(f"{c:>14}" for c in rows[-1]), flush=True)
    print()
    print(table(rows, ["op", "4x4 with", "without", "saving", "train with", "without", "saving", "decision"]))


if __name__ == "__main__":
    main()
