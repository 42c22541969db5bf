"""F.conv2d / conv_transpose2d (forward and both gradients) against shendu.reference.conv in float64; the
reference itself against its loop definition, the adjoint identity and text 001's rot180 rule."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu as sd
import shendu.nn.functional as F
from shendu.reference import conv as R

CASES = [
    # N, C, O, H, W, (kh, kw), stride, padding, dilation, groups
    (2, 3, 4, 7, 6, (3, 3), 1, 0, 1, 1),
    (2, 3, 5, 9, 8, (3, 2), (2, 1), (1, 0), (1, 2), 1),
    (1, 4, 6, 7, 7, (3, 3), 1, 1, 1, 2),
    (2, 4, 4, 8, 6, (3, 3), 2, 1, 1, 4),  # depthwise
    (1, 6, 3, 10, 9, (5, 3), (3, 2), (2, 1), (2, 1), 3),
    (3, 2, 3, 5, 5, (1, 1), 1, 0, 1, 1),  # 1x1
]


def _data(rng, N, C, O, H, W, k, groups):
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((O, C // groups, *k))
    b = rng.standard_normal(O)
    return x, w, b


def _check_fast_against_reference(x, w, b, stride, padding, dilation, groups, rng):
    xt, wt, bt = (sd.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.conv2d(xt, wt, bt, stride=stride, padding=padding, dilation=dilation, groups=groups)
    y_ref = R.conv2d(x, w, b, stride, padding, dilation, groups)
    assert y.shape == y_ref.shape
    np.testing.assert_allclose(y.numpy(), y_ref, rtol=1e-10, atol=1e-10)
    dy = rng.standard_normal(y_ref.shape)
    y.backward(sd.tensor(dy))
    np.testing.assert_allclose(xt.grad.numpy(), R.conv2d_input_grad(dy, x.shape, w, stride, padding, dilation, groups),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(wt.grad.numpy(), R.conv2d_weight_grad(dy, x, w.shape, stride, padding, dilation, groups),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(bt.grad.numpy(), R.conv2d_bias_grad(dy), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", CASES)
def test_conv2d_fast_path_matches_reference(case):
    N, C, O, H, W, k, stride, padding, dilation, groups = case
    rng = np.random.default_rng(1)
    x, w, b = _data(rng, N, C, O, H, W, k, groups)
    _check_fast_against_reference(x, w, b, stride, padding, dilation, groups, rng)


@settings(max_examples=12, deadline=None)
@given(N=st.integers(1, 2), cg=st.integers(1, 3), og=st.integers(1, 3), groups=st.integers(1, 2),
       H=st.integers(4, 9), W=st.integers(4, 9), kh=st.integers(1, 3), kw=st.integers(1, 3),
       s=st.integers(1, 3), p=st.integers(0, 2), d=st.integers(1, 2), seed=st.integers(0, 2 ** 16))
def test_conv2d_fast_path_matches_reference_property(N, cg, og, groups, H, W, kh, kw, s, p, d, seed):
    if H + 2 * p < d * (kh - 1) + 1 or W + 2 * p < d * (kw - 1) + 1:
        return  # no output position
    rng = np.random.default_rng(seed)
    x, w, b = _data(rng, N, cg * groups, og * groups, H, W, (kh, kw), groups)
    _check_fast_against_reference(x, w, b, s, p, d, groups, rng)


@pytest.mark.parametrize("case", CASES[:4])
def test_reference_im2col_gemm_equals_loop_definition(case):
    N, C, O, H, W, k, stride, padding, dilation, groups = case
    x, w, b = _data(np.random.default_rng(2), N, C, O, H, W, k, groups)
    np.testing.assert_allclose(R.conv2d(x, w, b, stride, padding, dilation, groups),
                               R.conv2d_direct(x, w, b, stride, padding, dilation, groups), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_reference_gradients_are_adjoints(case):
    """<dy, conv(x, w)> is bilinear: its derivatives are exactly the reference input and weight gradients."""
    N, C, O, H, W, k, stride, padding, dilation, groups = case
    rng = np.random.default_rng(3)
    x, w, _ = _data(rng, N, C, O, H, W, k, groups)
    y = R.conv2d(x, w, None, stride, padding, dilation, groups)
    dy = rng.standard_normal(y.shape)
    dx = R.conv2d_input_grad(dy, x.shape, w, stride, padding, dilation, groups)
    dw = R.conv2d_weight_grad(dy, x, w.shape, stride, padding, dilation, groups)
    assert np.isclose(np.sum(dy * y), np.sum(dx * x))
    assert np.isclose(np.sum(dy * y), np.sum(dw * w))


def test_textbook_rot180_rule_gives_the_input_gradient():
    """Text 001, 7.2.3: delta^{l-1} = padding(delta^l) * rot180(w) (stride 1)."""
    rng = np.random.default_rng(4)
    x, w, _ = _data(rng, 2, 3, 4, 6, 7, (3, 2), 1)
    for pad in (0, 1):
        dy = rng.standard_normal(R.conv2d(x, w, padding=pad).shape)
        np.testing.assert_allclose(R.conv2d_input_grad_rot180(dy, w, padding=pad),
                                   R.conv2d_input_grad(dy, x.shape, w, padding=pad), rtol=1e-12, atol=1e-12)


def test_textbook_worked_convolution():
    """Notes W9: 5x5 input 1..25 with a 3x3 kernel of ones -> window sums; stride 2 keeps every other one."""
    x = np.arange(1.0, 26.0).reshape(1, 1, 5, 5)
    w = np.ones((1, 1, 3, 3))
    np.testing.assert_array_equal(R.conv2d(x, w)[0, 0], [[63, 72, 81], [108, 117, 126], [153, 162, 171]])
    np.testing.assert_array_equal(R.conv2d(x, w, stride=2)[0, 0], [[63, 81], [153, 171]])
    np.testing.assert_array_equal(F.conv2d(sd.tensor(x), sd.tensor(w), stride=2).numpy()[0, 0], [[63, 81], [153, 171]])


@pytest.mark.parametrize("stride, padding, output_padding, dilation, groups",
                         [(1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (3, 2, 2, 2, 2), (2, 0, 0, 1, 3)])
def test_conv_transpose2d_matches_reference(stride, padding, output_padding, dilation, groups):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3 * groups, 4, 5))
    w = rng.standard_normal((3 * groups, 2, 3, 2))
    b = rng.standard_normal(2 * groups)
    xt, wt = sd.tensor(x, requires_grad=True), sd.tensor(w, requires_grad=True)
    y = F.conv_transpose2d(xt, wt, sd.tensor(b), stride=stride, padding=padding, output_padding=output_padding,
                           groups=groups, dilation=dilation)
    y_ref = R.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)
    np.testing.assert_allclose(y.numpy(), y_ref, rtol=1e-10, atol=1e-10)
    # its gradient with respect to x is the forward convolution (the adjoint of the adjoint)
    dy = rng.standard_normal(y_ref.shape)
    y.backward(sd.tensor(dy))
    np.testing.assert_allclose(xt.grad.numpy(), R.conv2d(dy, w, None, stride, padding, dilation, groups),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(wt.grad.numpy(), R.conv2d_weight_grad(x, dy, w.shape, stride, padding, dilation, groups),
                               rtol=1e-10, atol=1e-10)


def test_reference_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    x, w, b = _data(rng, 2, 4, 6, 8, 7, (3, 2), 2)
    y = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), (2, 1), (1, 1), (1, 2), 2)
    np.testing.assert_allclose(R.conv2d(x, w, b, (2, 1), 1, (1, 2), 2), y.numpy(), rtol=1e-10, atol=1e-10)
