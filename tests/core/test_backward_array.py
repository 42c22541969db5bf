"""The kept ``backward_array`` fast paths compute the same gradients as their differentiable ``backward``
(issue 22: each derivative written once, a second copy only where benchmarks/backward_array.py shows it pays)."""
import importlib
import inspect

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.nn.functional.embedding import _Embedding
from shendu.nn.functional.linear import LinearFn
from shendu.nn.functional.loss import _CrossEntropyIdx
from shendu.nn.functional.loss.binary import _BCEProb
from shendu.ops.elementwise import Add, Clamp, Div, Exp, Log, Mul, Neg, Relu, Sigmoid, Sub, Tanh, Where
from shendu.ops.index import Gather, GetItem
from shendu.ops.softmax import LogSoftmax, Softmax

#: The classes of these modules that keep a fast path (the table in benchmarks/backward_array.py).
KEPT = {Add, Sub, Mul, Div, Neg, Exp, Log, Tanh, Sigmoid, Relu, Clamp, Where, Softmax, LogSoftmax, GetItem, Gather,
        LinearFn, _Embedding, _CrossEntropyIdx, _BCEProb}
MODULES = [importlib.import_module(f"shendu.ops.elementwise.{m}") for m in (
    "arithmetic", "explog", "trig", "activation", "piecewise", "compare", "conversion")] + [
    importlib.import_module(m) for m in ("shendu.ops.softmax", "shendu.ops.index", "shendu.nn.functional.activation",
                                         "shendu.nn.functional.linear", "shendu.nn.functional.embedding",
                                         _CrossEntropyIdx.__module__, _BCEProb.__module__)]

RNG = np.random.default_rng(0)


def _t(*shape, lo=-2.0, hi=2.0):
    return sd.tensor(RNG.uniform(lo, hi, shape), requires_grad=True)  # float64: tight comparison


def _grads(f, xs, seed):
    for x in xs:
        x.grad = None
    y = f(*xs)
    y.backward(sd.tensor(np.random.default_rng(seed).standard_normal(y.shape)))
    return [None if x.grad is None else x.grad.numpy().copy() for x in xs]


IDX = np.array([2, 0, 2, 1])  # a repeated row: the scatter must accumulate
COND = RNG.random((3, 4)) > 0.5
GATHER_IDX = RNG.integers(0, 5, (4, 3))
BCE_ENDS = np.array([[0.0, 1.0, 1.0, 1.0]] * 3)  # p = 0 in the first column: the floored (masked) gradient path
CASES = [
    ("add_bcast", Add, lambda a, b: Add()(a, b), lambda: [_t(3, 4), _t(4)]),
    ("sub_bcast", Sub, lambda a, b: Sub()(a, b), lambda: [_t(3, 1), _t(3, 4)]),
    ("mul_bcast", Mul, lambda a, b: Mul()(a, b), lambda: [_t(3, 4), _t(1, 4)]),
    ("div_bcast", Div, lambda a, b: Div()(a, b), lambda: [_t(3, 4), _t(3, 1, lo=0.5)]),
    ("neg", Neg, lambda x: Neg()(x), lambda: [_t(3, 4)]),
    ("exp", Exp, lambda x: Exp()(x), lambda: [_t(3, 4)]),
    ("log", Log, lambda x: Log()(x), lambda: [_t(3, 4, lo=0.5)]),
    ("tanh", Tanh, lambda x: Tanh()(x), lambda: [_t(3, 4)]),
    ("sigmoid", Sigmoid, lambda x: Sigmoid()(x), lambda: [_t(3, 4, lo=-30.0, hi=30.0)]),
    ("relu", Relu, lambda x: Relu()(x), lambda: [_t(3, 4)]),
    ("clamp", Clamp, lambda x: Clamp(-0.5, 1.0)(x), lambda: [_t(3, 4)]),
    ("clamp_lo", Clamp, lambda x: Clamp(0.0, None)(x), lambda: [_t(3, 4)]),
    ("where_bcast", Where, lambda a, b: sd.where(sd.tensor(COND), a, b),
     lambda: [_t(3, 4), _t(4)]),
    ("softmax", Softmax, lambda x: Softmax(1)(x), lambda: [_t(3, 5)]),
    ("softmax_dim0", Softmax, lambda x: Softmax(0)(x), lambda: [_t(3, 5)]),
    ("log_softmax", LogSoftmax, lambda x: LogSoftmax(1)(x), lambda: [_t(3, 5)]),
    ("getitem_slice", GetItem, lambda x: x[1:, ::2], lambda: [_t(4, 5)]),
    ("getitem_rows", GetItem, lambda x: x[IDX], lambda: [_t(4, 5)]),
    ("getitem_bool", GetItem, lambda x: x[x.detach() > 0], lambda: [_t(4, 5)]),
    ("gather", Gather, lambda x: sd.gather(x, 1, sd.tensor(GATHER_IDX)), lambda: [_t(4, 5)]),
    ("linear_bias", LinearFn, lambda x, w, b: LinearFn()(x, w, b), lambda: [_t(4, 5), _t(3, 5), _t(3)]),
    ("linear_3d", LinearFn, lambda x, w: LinearFn()(x, w), lambda: [_t(2, 4, 5), _t(3, 5)]),
    ("embedding", _Embedding, lambda w: F.embedding(sd.tensor(IDX.reshape(2, 2)), w), lambda: [_t(4, 3)]),
    ("embedding_pad", _Embedding, lambda w: F.embedding(sd.tensor(IDX), w, padding_idx=2), lambda: [_t(4, 3)]),
    ("cross_entropy", _CrossEntropyIdx, lambda z: F.cross_entropy(z, sd.tensor(IDX)), lambda: [_t(4, 5)]),
    ("cross_entropy_smooth_sum", _CrossEntropyIdx,
     lambda z: F.cross_entropy(z, sd.tensor(IDX), label_smoothing=0.1, reduction="sum"), lambda: [_t(4, 5)]),
    ("cross_entropy_ignore_none", _CrossEntropyIdx,
     lambda z: F.cross_entropy(z, sd.tensor([2, -100, 1, 0]), reduction="none"), lambda: [_t(4, 5)]),
    ("bce_sum", _BCEProb, lambda p, y: F.binary_cross_entropy(p, y, reduction="sum"),
     lambda: [_t(3, 4, lo=0.05, hi=0.95), _t(3, 4, lo=0.0, hi=1.0)]),
    ("bce_floor_none", _BCEProb, lambda p, y: F.binary_cross_entropy(p * sd.tensor(BCE_ENDS), y, reduction="none"),
     lambda: [_t(3, 4, lo=0.05, hi=0.95), _t(3, 4, lo=0.0, hi=1.0)]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fast_path_matches_backward(case, monkeypatch):
    _, cls, f, make = case
    assert cls.__dict__.get("backward_array") is not None, f"{cls.__name__} lost its fast path"
    xs = make()
    y = f(*xs)
    assert type(y.grad_fn) is cls  # the case runs the class under test
    fast = _grads(f, xs, seed=1)
    monkeypatch.setattr(cls, "backward_array", None)  # the engine now runs the differentiable backward
    slow = _grads(f, xs, seed=1)
    for g_fast, g_slow in zip(fast, slow):
        assert g_fast is not None and g_slow is not None
        np.testing.assert_allclose(g_fast, g_slow, rtol=1e-12, atol=1e-12)
    assert any(np.abs(g).max() > 0 for g in fast)  # a non-trivial gradient was compared


def test_fast_paths_are_exactly_the_benchmarked_ones():
    """A class of these modules defines ``backward_array`` only if it is in KEPT (decided by the benchmark)."""
    found = set()
    for mod in MODULES:
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if obj.__module__ == mod.__name__ and obj.__dict__.get("backward_array") is not None:
                found.add(obj)
    assert found == KEPT
    assert {c[1] for c in CASES} == KEPT  # each kept fast path is compared above
