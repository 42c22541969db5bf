"""gradcheck and gradgradcheck (float64) for convolution, transposed convolution and pooling."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.autograd import gradcheck, gradgradcheck


def _t(shape, seed):
    return sd.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("kw", [
    dict(stride=1, padding=1),
    dict(stride=(2, 1), padding="same", dilation=(1, 2), groups=2),
    dict(stride=2, padding=0),
    dict(padding="full"),
])
def test_conv2d_grad_and_double_grad(kw):
    x, w, b = _t((2, 4, 5, 5), 0), _t((4, 4 // kw.get("groups", 1), 3, 2), 1), _t((4,), 2)

    def f(x, w, b):
        return F.conv2d(x, w, b, **kw)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))
    if kw.get("padding") in (1, "full"):  # stride 1, few channels: these routes are the ones checked
        p = F.conv_plan(x.shape, w.shape, dtype=np.float64, **kw)
        assert (p.name, p.input_grad) == ("nhwc-items", "half-col2im")


def test_conv1d_and_conv3d_grad():
    assert gradcheck(lambda x, w: F.conv1d(x, w, stride=2, padding=1), (_t((2, 2, 7), 3), _t((3, 2, 3), 4)))
    assert gradcheck(lambda x, w: F.conv3d(x, w, padding=1), (_t((1, 2, 3, 4, 3), 5), _t((2, 2, 2, 2, 2), 6)))


def test_conv_flip_kernel_grad():
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, padding=1, flip_kernel=True), (_t((1, 2, 4, 4), 7),
                                                                                     _t((2, 2, 3, 3), 8)))


def test_conv_transpose_grad_and_double_grad():
    x, w, b = _t((2, 4, 3, 3), 9), _t((4, 1, 3, 2), 10), _t((2,), 11)

    def f(x, w, b):
        return F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)

    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_weight_gradient_op_is_itself_differentiable():
    """d/dx of (dL/dw): the weight-gradient op's own backward (third order in the chain)."""
    x, w = _t((1, 2, 4, 4), 12), _t((2, 2, 2, 2), 13)

    def f(x, w):
        with sd.enable_grad():
            if not w.requires_grad:  # gradcheck's numeric pass may hand in plain tensors
                w = w.detach().requires_grad_()
            y = F.conv2d(x, w, stride=2)
            (gw,) = sd.grad((y * y).sum(), (w,), create_graph=True)
        return gw

    assert gradcheck(f, (x, w))


@pytest.mark.parametrize("fn", [
    lambda x: F.max_pool2d(x, 3, 2, 1),
    lambda x: F.max_pool2d(x, 2, padding="same"),
    lambda x: F.max_pool2d(x, (2, 3), 1, dilation=(2, 1), ceil_mode=True),
    lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True),
    lambda x: F.avg_pool2d(x, 3, 2, "same"),
    lambda x: F.max_pool1d(x.reshape(2, 2, 25), 3, 2),
    lambda x: F.avg_pool1d(x.reshape(2, 2, 25), 4, 3, 2, ceil_mode=True),
    lambda x: F.lp_pool2d(x * x + 0.5, 2, 2),
    lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
    lambda x: F.global_max_pool2d(x),
])
@pytest.mark.parametrize("cl_min", [1, 10**9])
def test_pool_grad_and_double_grad(fn, cl_min, monkeypatch):
    from shendu.ops import pool

    monkeypatch.setattr(pool, "CL_MIN", cl_min)  # both max-pool layouts
    x = _t((2, 2, 5, 5), 14)
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_pool3d_grad():
    x = _t((1, 2, 4, 3, 4), 15)
    assert gradcheck(lambda x: F.max_pool3d(x, 2, 1), (x,))
    assert gradcheck(lambda x: F.avg_pool3d(x, 2, 2, 1), (x,))
