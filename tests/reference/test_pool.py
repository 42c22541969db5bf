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
