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


# --- every plan of the fast path against the reference (issue 22) ---------------------------------------------
FORWARD_PLANS = ("nchw-gemm", "item-gemm", "nhwc-gemm", "nhwc-items", "wide-stride1", "winograd")
INPUT_ROUTES = ("gemm-col2im", "wide-col2im", "half-col2im", "rot180-corr", "rot180-fused", "winograd")
PLAN_CASES = [
    # N, C, O, H, W, (kh, kw), stride, pads ((lo, hi), (lo, hi)), dilation, groups
    (3, 3, 4, 7, 6, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    (2, 3, 5, 6, 7, (3, 2), (1, 1), ((0, 2), (1, 0)), (1, 1), 1),  # asymmetric padding
    (2, 2, 3, 8, 7, (2, 3), (1, 1), ((1, 0), (2, 2)), (2, 1), 1),  # dilation
    (2, 3, 2, 6, 9, (2, 3), (1, 1), ((1, 1), (2, 0)), (1, 2), 1),  # dilation along the width
    (2, 4, 6, 8, 7, (3, 2), (1, 1), ((2, 1), (0, 1)), (1, 2), 2),  # groups
    (2, 3, 5, 9, 8, (3, 2), (2, 1), ((1, 1), (0, 0)), (1, 2), 1),  # stride
]


def _valid(name, route, stride, dilation, groups, full_pads):
    """Whether a forced (forward plan, input-gradient route) pair applies to this geometry."""
    stride1 = stride == (1, 1)
    if name in ("item-gemm", "nhwc-gemm", "nhwc-items", "wide-stride1") and groups != 1:
        return False
    if name == "wide-stride1" and not stride1:
        return False
    plain = stride1 and dilation == (1, 1) and groups == 1  # Winograd: stride, dilation and groups 1
    if "winograd" in (name, route) and not plain:
        return False
    if route == "wide-col2im":
        return stride1
    if route == "half-col2im":
        return stride1 and groups == 1
    if route.startswith("rot180"):
        ok = stride1 and all(lo >= 0 and hi >= 0 for lo, hi in full_pads)
        return ok and (route == "rot180-corr" or (groups == 1 and dilation == (1, 1)))
    return True


def _forced(case):
    from shendu.ops._conv import plan

    N, C, O, H, W, k, s, pads, d, g = case
    base = plan((N, C, H, W), (O, C // g) + k, s, d, pads, g, np.float64)
    for name in FORWARD_PLANS:
        for route in INPUT_ROUTES:
            if _valid(name, route, s, d, g, base.full_pads):
                for keep in (False, True):
                    yield base._replace(name=name, input_grad=route, weight_grad=name, keep_cols=keep)


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("case", PLAN_CASES)
def test_every_plan_matches_reference(case, chunked, monkeypatch):
    """Each forward plan with each applicable input-gradient route (kept columns or not, whole batch or
    several workspace chunks): y, dL/dx, dL/dw and dL/db equal shendu.reference.conv in float64."""
    from shendu.ops import conv_settings
    from shendu.ops._conv import half
    from shendu.ops.conv import ConvNd

    if chunked:
        for field in ("workspace_bytes", "wide_chunk_bytes", "flat_col2im_bytes"):
            monkeypatch.setattr(conv_settings, field, 1)  # one item per chunk
        monkeypatch.setattr(half, "CHUNK_BYTES", 1)
    N, C, O, H, W, k, s, pads, d, g = case
    rng = np.random.default_rng(7)
    x, w, b = _data(rng, N, C, O, H, W, k, g)
    # the reference takes symmetric padding: pad x by hand for the asymmetric cases, then crop dx
    xpad = np.pad(x, ((0, 0), (0, 0)) + pads)
    y_ref = R.conv2d(xpad, w, b, s, 0, d, g)
    dy = rng.standard_normal(y_ref.shape)
    inner = (slice(None), slice(None), slice(pads[0][0], pads[0][0] + H), slice(pads[1][0], pads[1][0] + W))
    dx_ref = R.conv2d_input_grad(dy, xpad.shape, w, s, 0, d, g)[inner]
    dw_ref = R.conv2d_weight_grad(dy, xpad, w.shape, s, 0, d, g)
    seen = set()
    for p in _forced(case):
        seen.add((p.name, p.input_grad))
        xt, wt, bt = (sd.tensor(a, requires_grad=True) for a in (x, w, b))
        fn = ConvNd.planned(p)
        y = fn(xt, wt, bt)
        assert type(fn).__name__ == f"ConvNd[{p.name}]"
        np.testing.assert_allclose(y.numpy(), y_ref, rtol=1e-10, atol=1e-10, err_msg=str(p))
        y.backward(sd.tensor(dy))
        np.testing.assert_allclose(xt.grad.numpy(), dx_ref, rtol=1e-10, atol=1e-10, err_msg=str(p))
        np.testing.assert_allclose(wt.grad.numpy(), dw_ref, rtol=1e-10, atol=1e-10, err_msg=str(p))
        np.testing.assert_allclose(bt.grad.numpy(), R.conv2d_bias_grad(dy), rtol=1e-10, atol=1e-10)
    expected = set(FORWARD_PLANS) if g == 1 else {"nchw-gemm"}
    if s != (1, 1):
        expected -= {"wide-stride1", "winograd"}
    if d != (1, 1):
        expected.discard("winograd")
    assert {n for n, _ in seen} == expected


def test_plan_tables_are_all_tested():
    """A new kernel in the dispatch tables (e.g. a Winograd plan) must be added to the forced-plan test."""
    from shendu.ops._conv import FORWARD, INPUT_GRAD, WEIGHT_GRAD

    assert set(FORWARD) == set(WEIGHT_GRAD) == set(FORWARD_PLANS)
    assert set(INPUT_GRAD) == set(INPUT_ROUTES)
    routes = {(p.name, p.input_grad) for case in PLAN_CASES for p in _forced(case)}
    assert {r for _, r in routes} == set(INPUT_ROUTES)


def test_transposed_and_weight_grad_ops_run_the_plan_routes():
    """ConvTransposeNd is the input gradient (its route), ConvWeightGradNd the weight gradient: each forced
    route gives the reference's values, and second derivatives through them match the reference too."""
    from shendu.ops._conv import plan
    from shendu.ops.conv import ConvTransposeNd, ConvWeightGradNd

    rng = np.random.default_rng(8)
    x, w, _ = _data(rng, 2, 3, 4, 7, 6, (3, 3), 1)
    base = plan(x.shape, w.shape, (1, 1), (1, 1), ((1, 1), (1, 1)), 1, np.float64)
    dy = rng.standard_normal((2, 4, 7, 6))
    for route in INPUT_ROUTES:
        fn = ConvTransposeNd.planned(base._replace(input_grad=route), x.shape[1:])
        assert type(fn).__name__ == f"ConvTransposeNd[{route}]"
        np.testing.assert_allclose(fn(sd.tensor(dy), sd.tensor(w)).numpy(),
                                   R.conv2d_input_grad(dy, x.shape, w, 1, 1), rtol=1e-10, atol=1e-10)
    for name in FORWARD_PLANS:
        fn = ConvWeightGradNd.planned(base._replace(weight_grad=name), w.shape)
        np.testing.assert_allclose(fn(sd.tensor(x), sd.tensor(dy)).numpy(),
                                   R.conv2d_weight_grad(dy, x, w.shape, 1, 1), rtol=1e-10, atol=1e-10)
