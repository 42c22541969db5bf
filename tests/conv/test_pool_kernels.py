"""The compiled (numba, opt-in with SHENDU_NUMBA=1) max-pooling backward against the NumPy reference path
(issue 20).

The compiled kernel runs only for host NumPy arrays; on the strict stand-in device these tests check that the
existing path is taken (same values) and that nothing host/device mixes."""
import os

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.ops import _kernels

numba = pytest.importorskip("numba")

CASES = [  # shape, kernel, stride, padding, dilation, ceil_mode
    ((2, 3, 9, 9), 3, 2, 1, 1, False),
    ((4, 16, 24, 24), 3, 2, 1, 1, False),  # N*C >= 64: the forward's polyphase grid layout
    ((2, 3, 8, 8), 2, 2, 0, 1, False),
    ((2, 2, 11, 10), (3, 2), (2, 1), (1, 0), (1, 2), True),
    ((3, 5, 7, 7), 3, 1, 1, 2, False),
]


def _grads(x_np, g_np, kw, flag):
    old = os.environ.get("SHENDU_NUMBA")
    os.environ["SHENDU_NUMBA"] = flag
    try:
        x = sd.tensor(x_np, requires_grad=True)
        y = F.max_pool2d(x, **kw)
        y.backward(sd.tensor(g_np))
        return y.numpy(), x.grad.numpy()
    finally:
        if old is None:
            del os.environ["SHENDU_NUMBA"]
        else:
            os.environ["SHENDU_NUMBA"] = old


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_compiled_backward_matches_numpy_path(case, dtype):
    shape, k, s, p, d, ceil = case
    kw = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    x[0, 0, :3, :3] = 0.0  # ties (ReLU zeros): the first tap in scan order gets the gradient
    x[-1, -1, 2, 2] = np.nan  # a NaN window: its last NaN tap gets the gradient
    x[-1, 0, 1, :] = -np.inf
    y = F.max_pool2d(sd.tensor(x), **kw)
    g = rng.standard_normal(y.shape).astype(dtype)
    y0, gx0 = _grads(x, g, kw, "0")
    y1, gx1 = _grads(x, g, kw, "1")
    assert gx1.dtype == dtype
    np.testing.assert_array_equal(np.isnan(y0), np.isnan(y1))
    tol = 1e-6 if dtype == np.float32 else 1e-13  # overlapping windows: sums in another order
    np.testing.assert_allclose(gx1, gx0, rtol=tol, atol=tol)
    assert np.abs(gx1).sum() > 0


def test_compiled_kernel_used_only_for_host_arrays(monkeypatch):
    monkeypatch.setenv("SHENDU_NUMBA", "1")
    x = sd.randn(2, 3, 8, 8, requires_grad=True)
    host = type(x._data) is np.ndarray
    assert _kernels.host_ok(np.zeros(3, np.float32)) and not _kernels.host_ok(np.zeros(3, np.float16))
    F.max_pool2d(x, 2).sum().backward()
    # each window's gradient lands on exactly one tap: the arg-max
    gx = x.grad.numpy()
    assert gx.sum() == pytest.approx(2 * 3 * 4 * 4)
    assert ((gx == 0) | (gx == 1)).all()
    if host:
        assert _kernels.pool_kernels() is not None


def test_opt_in_by_environment(monkeypatch):
    monkeypatch.delenv("SHENDU_NUMBA", raising=False)
    assert _kernels.pool_kernels() is None  # off by default (memory and cold-start cost, see ops/_kernels)
    monkeypatch.setenv("SHENDU_NUMBA", "0")
    assert _kernels.pool_kernels() is None
    monkeypatch.setenv("SHENDU_NUMBA", "1")
    assert _kernels.pool_kernels() is not None
