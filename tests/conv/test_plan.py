"""The convolution planner (issue 22): which plan the workloads' shapes get, that the settings object steers
it, that the profiler shows the plan name, and that bad arguments are refused. Values of every plan against
the reference: tests/reference/test_conv.py."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.ops import conv_settings


@pytest.mark.parametrize("x_shape, w_shape, kw, expect", [
    ((64, 1, 28, 28), (6, 1, 5, 5), dict(padding=2), ("item-gemm", "wide-col2im", True)),  # LeNet conv1
    ((64, 6, 14, 14), (16, 6, 5, 5), {}, ("nhwc-items", "half-col2im", True)),  # LeNet conv2
    ((64, 1, 14, 14), (8, 1, 3, 3), dict(padding=1), ("wide-stride1", "wide-col2im", False)),  # C*kw < 6
    ((64, 4, 10, 10), (32, 4, 5, 5), dict(padding=2), ("nhwc-items", "wide-col2im", True)),  # O*kw >= C*kh*(kw-1)
    ((128, 3, 24, 24), (64, 3, 5, 5), dict(padding=2), ("item-gemm", "wide-col2im", False)),  # CIFAR conv1
    ((128, 64, 12, 12), (64, 64, 5, 5), dict(padding=2), ("winograd", "winograd", False)),  # CIFAR conv2
    ((64, 1, 28, 28), (32, 1, 3, 3), {}, ("item-gemm", "wide-col2im", True)),  # mnist_cnn conv1
    ((64, 32, 26, 26), (64, 32, 3, 3), {}, ("winograd", "winograd", False)),  # mnist_cnn conv2
    ((64, 32, 26, 26), (64, 32, 3, 3), dict(stride=2), ("nhwc-gemm", "gemm-col2im", False)),
    ((64, 32, 26, 26), (64, 32, 3, 3), dict(dilation=2), ("nhwc-gemm", "rot180-corr", False)),
    ((8, 3, 16, 16), (8, 3, 3, 3), dict(stride=2, padding=1), ("nchw-gemm", "gemm-col2im", True)),
    ((8, 64, 16, 16), (64, 16, 3, 3), dict(padding=1, groups=4), ("nchw-gemm", "rot180-corr", True)),
    ((2, 4, 10), (5, 4, 3), {}, ("nchw-gemm", "gemm-col2im", True)),  # 1-D
])
def test_workload_shapes_get_their_plans(x_shape, w_shape, kw, expect):
    p = F.conv_plan(x_shape, w_shape, **kw)
    assert (p.name, p.input_grad, p.keep_cols) == expect
    assert p.weight_grad == p.name


def test_wide_chunk_bytes_steers_keeping_and_chunks(monkeypatch):
    """wide_chunk_bytes=0 keeps LeNet conv2's whole-batch wide columns (on the wide grid when "nhwc-items" is
    off); a size keeps none and builds the columns in chunks of that size (the values stay the reference's:
    tests/reference/test_conv.py)."""
    from shendu.ops._conv import nhwc, wide

    monkeypatch.setattr(nhwc, "ITEMS_MIN_CKW", 10 ** 6)
    lenet2 = ((64, 6, 14, 14), (16, 6, 5, 5))
    with conv_settings.override(wide_chunk_bytes=0):
        p0 = F.conv_plan(*lenet2)
        assert p0.keep_cols and wide._nb(lenet2[0], (5, 5), p0, 4) == 64
    with conv_settings.override(wide_chunk_bytes=1 << 20):
        p1 = F.conv_plan(*lenet2)
        assert not p1.keep_cols and wide._nb(lenet2[0], (5, 5), p1, 4) == (1 << 20) // (6 * 25 * 100 * 4)


def test_module_constants_steer_the_planner(monkeypatch):
    """nhwc.ITEMS_MIN_CKW and half.ENABLED (kernel-module constants, part of the plan cache's key) switch
    LeNet conv2's plan back to the wide grid and its input gradient to "wide-col2im"."""
    from shendu.ops._conv import half, nhwc

    lenet2 = ((64, 6, 14, 14), (16, 6, 5, 5))
    assert (F.conv_plan(*lenet2).name, F.conv_plan(*lenet2).input_grad) == ("nhwc-items", "half-col2im")
    assert F.conv_plan((64, 6, 14, 14), (16, 3, 5, 5), groups=2).input_grad == "wide-col2im"  # groups 1 only
    monkeypatch.setattr(nhwc, "ITEMS_MIN_CKW", 31)
    assert F.conv_plan(*lenet2).name == "wide-stride1"
    monkeypatch.setattr(half, "ENABLED", False)
    assert F.conv_plan(*lenet2).input_grad == "wide-col2im"


def test_settings_steer_the_planner():
    lenet1, lenet2 = ((64, 1, 28, 28), (6, 1, 5, 5)), ((64, 6, 14, 14), (16, 6, 5, 5))
    assert F.conv_plan(*lenet2).name == "nhwc-items"
    with conv_settings.override(wide=False):
        assert F.conv_plan(*lenet2).name == "nchw-gemm"
    with conv_settings.override(item_min_out=10 ** 9):
        assert F.conv_plan(*lenet1, padding=2).name == "wide-stride1"
        with conv_settings.override(wide=False):
            assert F.conv_plan(*lenet1, padding=2).name == "nchw-gemm"
    assert F.conv_plan(*lenet1, padding=2).name == "item-gemm"  # restored
    cifar2 = ((128, 64, 12, 12), (64, 64, 5, 5))
    assert F.conv_plan(*cifar2, padding=2).name == "winograd"
    with conv_settings.override(winograd=False):
        assert F.conv_plan(*cifar2, padding=2).input_grad == "rot180-fused"
    with conv_settings.override(winograd_min_c5=65):
        assert F.conv_plan(*cifar2, padding=2).name == "nhwc-gemm"
    assert F.conv_plan((4, 64, 12, 12), (64, 64, 5, 5), padding=2, dtype=np.float16).name == "nhwc-gemm"
    with conv_settings.override(winograd=False, fused_rot180=False):
        assert F.conv_plan(*cifar2, padding=2).input_grad == "rot180-corr"
    with conv_settings.override(winograd=False, rot180=False):
        assert F.conv_plan(*cifar2, padding=2).input_grad == "half-col2im"  # O*kw < C*kh*(kw-1)
        with conv_settings.override(wide_col2im=False):
            assert F.conv_plan((8, 64, 12, 12), (512, 64, 3, 3), padding=1).input_grad == "gemm-col2im"
    with conv_settings.override(winograd=False, nhwc=False):
        assert F.conv_plan(*cifar2, padding=2).name == "nchw-gemm"  # 12x12 = 144 outputs < item_min_out
    with conv_settings.override(keep_cols_bytes=0):
        assert not F.conv_plan(*lenet1, padding=2).keep_cols
    with pytest.raises(ValueError, match="unknown setting"):
        with conv_settings.override(no_such_threshold=1):
            pass


def test_profiler_shows_the_plan_names():
    x = sd.randn(4, 3, 12, 12, requires_grad=True)
    w1, w2 = sd.randn(40, 3, 3, 3, requires_grad=True), sd.randn(8, 40, 3, 3, requires_grad=True)
    with sd.autograd.profile() as prof:
        y = F.conv2d(F.conv2d(x, w1, padding=1), w2, stride=2)
        y.sum().backward()
    names = set(prof.stats())
    assert {"ConvNd[nhwc-items]", "ConvNd[nhwc-gemm]"} <= names, names
    assert repr(y.grad_fn) == "<ConvNd[nhwc-gemm]Backward>"


def test_plan_follows_the_input_and_double_backward_keeps_routes():
    """The second derivative runs the adjoint ops with the same plan's routes (labelled by route)."""
    x = sd.tensor(np.random.default_rng(0).standard_normal((2, 3, 7, 6)), requires_grad=True)
    w = sd.tensor(np.random.default_rng(1).standard_normal((4, 3, 3, 3)), requires_grad=True)
    (gx,) = sd.autograd.grad(F.conv2d(x, w, padding=1).tanh().sum(), [x], create_graph=True)
    assert type(gx.grad_fn).__name__ == "ConvTransposeNd[half-col2im]"
    gx.sum().backward()
    assert w.grad is not None and w.grad.shape == w.shape


def test_conv_plan_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="conv_plan"):
        F.conv_plan((2, 3, 8), (4, 3, 3, 3))
    with pytest.raises(ValueError, match="stride"):
        F.conv_plan((2, 3, 8, 8), (4, 3, 3, 3), stride=(1, 1, 1))
    with pytest.raises(ValueError, match="channels"):
        F.conv_plan((2, 4, 8, 8), (4, 3, 3, 3), groups=2)
