"""Recycled host buffers of the training step (shendu.ops._recycle), the host ReLU against a zero row, and the
LeNet step's convolution gradients (issue 20): a buffer is handed out again only when nothing references it,
the ReLU matches NumPy/PyTorch for every size and layout, conv1's input gradient is not computed."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.autograd.gradcheck import gradcheck
from shendu.ops import _recycle
from shendu.ops._recycle import recycled_empty


def test_recycled_buffer_reused_only_when_unreferenced():
    like = np.zeros(1, np.float32)
    shape = (64, 1024)  # 256 KiB: pooled
    _recycle.clear_recycled()
    a = recycled_empty(shape, np.float32, like)
    a_ptr = a.ctypes.data
    b = recycled_empty(shape, np.float32, like)
    assert b.ctypes.data != a_ptr  # a is still referenced
    view = a.reshape(-1)[10:]  # a view keeps the owner alive after its name is gone
    del a
    c = recycled_empty(shape, np.float32, like)
    assert c.ctypes.data != a_ptr and c.ctypes.data != b.ctypes.data
    view[:] = 7.0
    del view, c
    d = recycled_empty(shape, np.float32, like)
    assert d.ctypes.data == a_ptr  # now free: handed out again
    assert d.shape == shape and d.dtype == np.float32
    e = recycled_empty((4, 4), np.float32, like)  # small arrays are not pooled
    assert e.shape == (4, 4)
    assert recycled_empty(shape, np.float64, like).dtype == np.float64
    _recycle.clear_recycled()


def test_recycled_outputs_are_not_shared_between_live_tensors():
    """Two convolution outputs alive at once never share memory, and an output kept by the user keeps its
    values through later steps."""
    rng = np.random.default_rng(0)
    x = sd.tensor(rng.standard_normal((64, 6, 14, 14)).astype(np.float32))
    w = sd.tensor(rng.standard_normal((16, 6, 5, 5)).astype(np.float32))
    y1 = F.conv2d(x, w)
    kept = y1.numpy().copy()
    y2 = F.conv2d(x * 2, w)
    np.testing.assert_allclose(y2.numpy(), 2 * kept, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(y1.numpy(), kept)
    del y2
    y3 = F.conv2d(x * 3, w)
    np.testing.assert_array_equal(y1.numpy(), kept)
    np.testing.assert_allclose(y3.numpy(), 3 * kept, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("shape", [(3, 5), (64, 6, 28, 28), (5, 1031), (4097,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_forward_backward_match_torch(shape, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[:3] = 0.0  # the derivative at 0 is 0 (as PyTorch)
    g = rng.standard_normal(shape).astype(dtype)
    xt = sd.tensor(x, requires_grad=True)
    y = F.relu(xt)
    y.backward(sd.tensor(g))
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.relu(tx)
    ty.backward(torch.tensor(g))
    assert y.numpy().dtype == dtype and xt.grad.numpy().dtype == dtype
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(xt.grad.numpy(), tx.grad.numpy())


def test_relu_non_contiguous_and_nan():
    x = np.arange(-6000, 6000, dtype=np.float32).reshape(120, 100)
    x[5, 7] = np.nan
    y = F.relu(sd.tensor(x.T)).numpy()  # a transposed (non-contiguous) input
    np.testing.assert_array_equal(y, np.maximum(x.T, 0))
    big = np.full(8192, -1.0, np.float32)
    big[4100] = np.nan
    assert np.isnan(F.relu(sd.tensor(big)).numpy()[4100])


def test_relu_gradcheck_float64():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((9, 600))
    x[np.abs(x) < 1e-3] = 0.5  # away from the kink
    assert gradcheck(F.relu, [sd.tensor(x, requires_grad=True)])


def test_lenet_conv1_input_gradient_not_computed(monkeypatch):
    """The first convolution's input needs no gradient: only conv2's input gradient runs in a LeNet step."""
    from shendu import models
    from shendu.ops._conv import dispatch

    calls = []
    for route, fn in list(dispatch.INPUT_GRAD.items()):
        def counted(w, gy, x_shape, p, _fn=fn):
            calls.append(tuple(x_shape))
            return _fn(w, gy, x_shape, p)
        monkeypatch.setitem(dispatch.INPUT_GRAD, route, counted)
    sd.manual_seed(0)
    model = models.LeNet5()
    x = sd.tensor(np.random.default_rng(3).standard_normal((8, 1, 28, 28)).astype(np.float32))
    F.cross_entropy(model(x), np.arange(8) % 10).backward()
    assert calls == [(8, 6, 14, 14)]
    assert all(p.grad is not None for p in model.parameters())
