"""F.max_pool2d / avg_pool2d (forward and backward) against shendu.reference.pool in float64, and the
reference against text 001's pooling backprop example (7.2.2, delta = [[2, 8], [4, 6]])."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.reference import pool as R

CASES = [
    # N, C, H, W, kernel, stride, padding, dilation
    (2, 3, 8, 8, 2, None, 0, 1),
    (1, 2, 9, 7, 3, 2, 1, 1),
    (2, 2, 7, 9, (3, 2), (1, 2), (1, 0), 1),
    (1, 3, 10, 10, 3, 2, 1, 2),
    (2, 1, 5, 6, 1, 1, 0, 1),
]


@pytest.mark.parametrize("case", CASES)
def test_max_pool2d_matches_reference(case):
    N, C, H, W, k, s, p, d = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, H, W))
    xt = sd.tensor(x, requires_grad=True)
    y = F.max_pool2d(xt, k, s, p, d)
    y_ref, arg = R.max_pool2d(x, k, s, p, d)
    np.testing.assert_array_equal(y.numpy(), y_ref)
    dy = rng.standard_normal(y_ref.shape)
    y.backward(sd.tensor(dy))
    np.testing.assert_allclose(xt.grad.numpy(), R.max_pool2d_backward(dy, x.shape, arg), rtol=1e-12, atol=1e-12)


def test_max_pool2d_ties_go_to_the_first_maximum():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, :2, :2] = 1.0  # a tie inside the first window
    xt = sd.tensor(x, requires_grad=True)
    F.max_pool2d(xt, 2).sum().backward()
    _, arg = R.max_pool2d(x, 2)
    np.testing.assert_array_equal(xt.grad.numpy(), R.max_pool2d_backward(np.ones((1, 1, 2, 2)), x.shape, arg))
    assert xt.grad.numpy()[0, 0, 0, 0] == 1.0 and xt.grad.numpy()[0, 0, :2, :2].sum() == 1.0


@pytest.mark.parametrize("case", [c for c in CASES if c[7] == 1])
def test_avg_pool2d_matches_reference(case):
    N, C, H, W, k, s, p, _ = case
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, C, H, W))
    xt = sd.tensor(x, requires_grad=True)
    y = F.avg_pool2d(xt, k, s, p)
    y_ref = R.avg_pool2d(x, k, s, p)
    np.testing.assert_allclose(y.numpy(), y_ref, rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y_ref.shape)
    y.backward(sd.tensor(dy))
    np.testing.assert_allclose(xt.grad.numpy(), R.avg_pool2d_backward(dy, x.shape, k, s, p), rtol=1e-12, atol=1e-12)


def test_text001_pooling_backprop_example():
    """Text 001, 7.2.2: delta = [[2, 8], [4, 6]], 2x2 windows; maxima at top-left, bottom-right, top-right,
    bottom-left give the 'upsampled' max matrix; mean pooling spreads each delta over its window."""
    delta = np.array([[[[2.0, 8.0], [4.0, 6.0]]]])
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0] = x[0, 0, 1, 3] = x[0, 0, 2, 1] = x[0, 0, 3, 2] = 1.0  # where each window's max is
    want_max = [[2, 0, 0, 0], [0, 0, 0, 8], [0, 4, 0, 0], [0, 0, 6, 0]]
    want_mean = [[0.5, 0.5, 2, 2], [0.5, 0.5, 2, 2], [1, 1, 1.5, 1.5], [1, 1, 1.5, 1.5]]
    _, arg = R.max_pool2d(x, 2)
    np.testing.assert_array_equal(R.max_pool2d_backward(delta, x.shape, arg)[0, 0], want_max)
    np.testing.assert_array_equal(R.avg_pool2d_backward(delta, x.shape, 2)[0, 0], want_mean)
    for pool, want in ((F.max_pool2d, want_max), (F.avg_pool2d, want_mean)):
        xt = sd.tensor(x, requires_grad=True)
        pool(xt, 2).backward(sd.tensor(delta))
        np.testing.assert_array_equal(xt.grad.numpy()[0, 0], want)


# --- every fast max-pooling kernel against the window loop -----------------------------------------------
FAST_CASES = [
    # N, C, H, W, kernel, stride, padding, dilation
    (2, 3, 8, 8, 2, None, 0, 1),  # k == s: the dense polyphase grid (output written in place)
    (2, 4, 12, 12, 3, 2, 1, 1),  # overlapping windows, padding: taps share phases
    (2, 2, 9, 7, (3, 2), (1, 2), (1, 0), 1),
    (1, 3, 10, 10, 3, 2, 1, 2),  # dilation
    (2, 3, 10, 11, 2, 3, 0, 1),  # stride > kernel: grid phases no tap reads
    (2, 3, 11, 11, 2, 3, 0, 1),  # stride > kernel, dense grid: positions no window reads get 0
    (2, 2, 6, 6, 2, 2, 1, 1),  # k == s with padding: a dense grid holding padded cells
    (1, 2, 5, 6, 1, 1, 0, 1),  # one tap
]


@pytest.fixture(params=["nchw", "grid"])
def layout(request, monkeypatch):
    """Max pooling's two array layouts: NCHW strided taps, and the polyphase grid in several cache blocks."""
    from shendu.ops import pool

    monkeypatch.setattr(pool, "CL_MIN", 1 if request.param == "grid" else 10**9)
    monkeypatch.setattr(pool, "CHUNK", 37)
    return request.param


def _flat_arg(arg, W):
    return arg[..., 0] * W + arg[..., 1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", FAST_CASES)
def test_fast_max_pool2d_layouts_match_reference(case, dtype, layout):
    """Values, arg-max taps (ReLU zeros tie: the first in scan order wins) and the routed gradient of each
    layout equal shendu.reference.pool.max_pool2d / max_pool2d_backward."""
    N, C, H, W, k, s, p, d = case
    rng = np.random.default_rng(5)
    x = np.maximum(rng.standard_normal((N, C, H, W)), 0).astype(dtype)
    xt = sd.tensor(x, requires_grad=True)
    y, idx = F.max_pool2d(xt, k, s, p, d, return_indices=True)
    y_ref, arg = R.max_pool2d(x, k, s, p, d)
    np.testing.assert_array_equal(y.numpy(), y_ref)
    np.testing.assert_array_equal(idx.numpy(), _flat_arg(arg, W))
    dy = rng.standard_normal(y_ref.shape).astype(dtype)
    y.backward(sd.tensor(dy))
    tol = 1e-6 if dtype == np.float32 else 1e-12  # overlapping windows add in another order
    np.testing.assert_allclose(xt.grad.numpy(), R.max_pool2d_backward(dy, x.shape, arg), rtol=tol, atol=tol)
    assert xt.grad.dtype == dtype


@pytest.mark.parametrize("case", FAST_CASES[:4])
def test_compiled_max_pool2d_backward_matches_reference(case, layout, monkeypatch):
    """The opt-in numba scatter (SHENDU_NUMBA=1, shendu.ops._kernels._pool) routes like the window loop."""
    pytest.importorskip("numba")
    monkeypatch.setenv("SHENDU_NUMBA", "1")
    N, C, H, W, k, s, p, d = case
    rng = np.random.default_rng(6)
    x = np.maximum(rng.standard_normal((N, C, H, W)), 0).astype(np.float32)
    xt = sd.tensor(x, requires_grad=True)
    y = F.max_pool2d(xt, k, s, p, d)
    _, arg = R.max_pool2d(x, k, s, p, d)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    y.backward(sd.tensor(dy))
    np.testing.assert_allclose(xt.grad.numpy(), R.max_pool2d_backward(dy, x.shape, arg), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", [FAST_CASES[0], FAST_CASES[5], FAST_CASES[6]])
def test_dense_grid_cases_take_the_dense_backward(case, layout, monkeypatch):
    """The k == s cases above run MaxPoolNd._backward_dense (every grid cell an output) in the grid layout."""
    from shendu.ops import pool

    N, C, H, W, k, s, p, d = case
    x = sd.tensor(np.zeros((N, C, H, W)), requires_grad=True)
    calls = []
    orig = pool.MaxPoolNd._backward_dense
    monkeypatch.setattr(pool.MaxPoolNd, "_backward_dense", lambda self, gy: calls.append(1) or orig(self, gy))
    F.max_pool2d(x, k, s, p, d).sum().backward()
    assert len(calls) == (1 if layout == "grid" else 0)


def test_grid_scratch_is_block_sized_and_keyed_by_input_size(monkeypatch):
    """The grid layout's scratch holds one cache block of channels (the grid copy one spare channel more), not
    the batch; inputs of 24 and 23 with padding 1 have the same grid (13 x 13 cells per phase) but not the same
    padded border, so the 23 input must not see the 24 input's last row and column (it did before)."""
    from shendu.ops import pool
    from shendu.ops._workspace import clear_workspace, thread_buffers

    monkeypatch.setattr(pool, "CL_MIN", 1)
    monkeypatch.setattr(pool, "CHUNK", 400)  # 169 cells a channel: blocks of 2 channels, the last one of 1
    clear_workspace()
    rng = np.random.default_rng(7)
    for H, shift in ((24, 100.0), (23, 0.0)):  # the first input is large: any of its cells left would win
        x = np.maximum(rng.standard_normal((1, 11, H, H)), 0) + shift  # ReLU zeros: ties
        xt = sd.tensor(x, requires_grad=True)
        y = F.max_pool2d(xt, 3, 2, 1)
        y_ref, arg = R.max_pool2d(x, 3, 2, 1)
        np.testing.assert_array_equal(y.numpy(), y_ref)
        dy = rng.standard_normal(y_ref.shape)
        y.backward(sd.tensor(dy))
        np.testing.assert_allclose(xt.grad.numpy(), R.max_pool2d_backward(dy, x.shape, arg), rtol=1e-12, atol=1e-12)
    host = type(y._data) is np.ndarray  # a device runs the batch as one block
    bufs = thread_buffers()
    grids = [a.shape for k, a in bufs.items() if k[0] == "maxpool_grid"]
    gys = [a.shape for k, a in bufs.items() if k[0] == "maxpool_gy"]
    assert grids == [(4, 3 if host else 11, 13, 13)] * 2
    assert gys and all(s == (2 if host else 11, 13, 13) for s in gys)
