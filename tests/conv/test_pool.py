"""Pooling (textbook 9.3; the seeds' CNN back-propagation "upsample" examples) vs PyTorch and test vectors."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F

# the seeds' example: 4x4 input, 2x2 pooling, pooled-layer errors [[2, 8], [4, 6]]
DELTA = np.array([[2.0, 8.0], [4.0, 6.0]])


def test_seeds_max_pool_upsample_routes_to_recorded_argmax():
    # arg-max of the four windows at top-left, bottom-right, top-right, bottom-left (as the text assumes)
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 0, 0] = 1
    x[0, 0, 1, 3] = 1
    x[0, 0, 2, 1] = 1
    x[0, 0, 3, 2] = 1
    xt = sd.tensor(x, requires_grad=True)
    F.max_pool2d(xt, 2).backward(sd.tensor(DELTA[None, None]))
    expect = [[2, 0, 0, 0], [0, 0, 0, 8], [0, 4, 0, 0], [0, 0, 6, 0]]
    np.testing.assert_array_equal(xt.grad.numpy()[0, 0], expect)


def test_seeds_mean_pool_upsample_spreads_evenly():
    xt = sd.tensor(np.random.default_rng(0).standard_normal((1, 1, 4, 4)), requires_grad=True)
    F.avg_pool2d(xt, 2).backward(sd.tensor(DELTA[None, None]))
    expect = [[0.5, 0.5, 2, 2], [0.5, 0.5, 2, 2], [1, 1, 1.5, 1.5], [1, 1, 1.5, 1.5]]
    np.testing.assert_array_equal(xt.grad.numpy()[0, 0], expect)


def test_fig_1_19_pool_values():
    x = sd.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(F.max_pool2d(x, 2).numpy()[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(F.avg_pool2d(x, 2).numpy()[0, 0], [[2.5, 4.5], [10.5, 12.5]])


def test_max_pool_ties_go_to_first_position():
    x = sd.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0], [0, 0]])


def test_same_padding_as_the_seeds_cifar_cnn():
    """3x3/2 'same' pooling: 24 -> 12 -> 6 (TensorFlow: output ceil(n/s), pads 0 before and 1 after)."""
    x = sd.randn(2, 3, 24, 24)
    y = F.max_pool2d(x, 3, 2, padding="same")
    assert y.shape == (2, 3, 12, 12)
    assert F.max_pool2d(y, 3, 2, padding="same").shape == (2, 3, 6, 6)
    xn = x.numpy()
    np.testing.assert_array_equal(y.numpy()[..., -1, -1], xn[..., 22:, 22:].max(axis=(-1, -2)))
    a = F.avg_pool2d(x, 3, 2, padding="same")  # TF: padding not counted
    np.testing.assert_allclose(a.numpy()[..., -1, -1], xn[..., 22:, 22:].mean(axis=(-1, -2)), rtol=1e-6)


def test_pool_layers_and_shapes():
    x = sd.randn(2, 3, 9, 9)
    assert sd.nn.MaxPool2d(2)(x).shape == (2, 3, 4, 4)
    assert sd.nn.MaxPool2d(2, ceil_mode=True)(x).shape == (2, 3, 5, 5)
    assert sd.nn.AvgPool2d(3, 2, 1)(x).shape == (2, 3, 5, 5)
    assert sd.nn.GlobalAvgPool2d()(x).shape == (2, 3)
    assert sd.nn.GlobalMaxPool2d(keepdim=True)(x).shape == (2, 3, 1, 1)
    assert sd.nn.AdaptiveAvgPool2d((2, 3))(x).shape == (2, 3, 2, 3)
    assert sd.nn.LPPool2d(2, 3)(x).shape == (2, 3, 3, 3)
    assert sd.nn.MaxPool1d(2)(sd.randn(2, 3, 9)).shape == (2, 3, 4)
    assert sd.nn.AvgPool1d(3, 1, 1)(sd.randn(2, 3, 9)).shape == (2, 3, 9)
    assert sd.nn.MaxPool2d(2)(sd.randn(3, 8, 8)).shape == (3, 4, 4)  # unbatched
    np.testing.assert_allclose(sd.nn.GlobalAvgPool2d()(x).numpy(), x.numpy().mean(axis=(2, 3)), rtol=1e-6)
    y, idx = sd.nn.MaxPool2d(2, return_indices=True)(x)
    flat = x.numpy().reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), -1).reshape(y.shape),
                                  y.numpy())


def test_adaptive_avg_pool_variable_input_sizes():
    """Textbook 9.3/9.7: adaptive pooling gives a fixed-size output for any input size."""
    pool = sd.nn.AdaptiveAvgPool2d((2, 2))
    for h, w in [(28, 28), (40, 33), (5, 7)]:
        assert pool(sd.randn(1, 4, h, w)).shape == (1, 4, 2, 2)


def test_max_pool_float32_keeps_dtype():
    y = F.max_pool2d(sd.randn(1, 2, 6, 6), 3, 2, 1)
    assert y.dtype == sd.float32


torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _cmp(f, tf, shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    xs, xt = sd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = f(xs), tf(xt)
    if isinstance(yt, tuple):
        np.testing.assert_array_equal(y[1].numpy(), yt[1].numpy())
        y, yt = y[0], yt[0]
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(sd.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


POOL_CASES = [
    ("max2d", dict(kernel_size=3, stride=2, padding=1), (2, 3, 9, 8)),
    ("max2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, return_indices=True), (2, 3, 10, 8)),
    ("max2d", dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), dilation=(2, 1)), (2, 3, 9, 8)),
    ("max2d", dict(kernel_size=2, stride=3), (2, 3, 10, 11)),  # stride > kernel: phases no tap reads
    ("max2d", dict(kernel_size=3, stride=1, padding=1), (2, 3, 7, 6)),
    ("max1d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (2, 3, 10)),
    ("max3d", dict(kernel_size=2, stride=1), (2, 2, 4, 5, 4)),
    ("avg2d", dict(kernel_size=3, stride=2, padding=1), (2, 3, 9, 8)),
    ("avg2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (2, 3, 10, 8)),
    ("avg2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (2, 3, 10, 8)),
    ("avg2d", dict(kernel_size=3, stride=2, padding=1, divisor_override=4), (2, 3, 10, 8)),
    ("avg1d", dict(kernel_size=4, stride=3, padding=2, ceil_mode=True), (2, 3, 10)),
    ("avg3d", dict(kernel_size=2), (2, 3, 4, 5, 4)),
]


@pytest.fixture(params=["nchw", "grid"])
def max_pool_layout(request, monkeypatch):
    """Run max pooling through both of its layouts (the polyphase grid is chosen for large N*C)."""
    from shendu.ops import pool

    monkeypatch.setattr(pool, "CL_MIN", 1 if request.param == "grid" else 10**9)
    monkeypatch.setattr(pool, "CHUNK", 37)  # several cache blocks in the grid forward
    return request.param


@pytest.mark.parametrize("case", POOL_CASES)
def test_pool_matches_torch(case, max_pool_layout):
    kind, kw, shape = case
    ours = {"max1d": F.max_pool1d, "max2d": F.max_pool2d, "max3d": F.max_pool3d, "avg1d": F.avg_pool1d,
            "avg2d": F.avg_pool2d, "avg3d": F.avg_pool3d}[kind]
    theirs = {"max1d": TF.max_pool1d, "max2d": TF.max_pool2d, "max3d": TF.max_pool3d, "avg1d": TF.avg_pool1d,
              "avg2d": TF.avg_pool2d, "avg3d": TF.avg_pool3d}[kind]
    if kind.startswith("avg") and "count_include_pad" not in kw:
        kw = dict(kw, count_include_pad=True)
    _cmp(lambda x: ours(x, **kw), lambda x: theirs(x, **kw), shape)


def test_lp_adaptive_match_torch():
    _cmp(lambda x: F.lp_pool2d(x.abs() + 0.1, 2, 3, 2), lambda x: TF.lp_pool2d(x.abs() + 0.1, 2, 3, 2), (2, 3, 9, 8))
    _cmp(lambda x: F.lp_pool1d(x.abs() + 0.1, 3, 2), lambda x: TF.lp_pool1d(x.abs() + 0.1, 3, 2), (2, 3, 9))
    _cmp(lambda x: F.adaptive_avg_pool2d(x, (3, 4)), lambda x: TF.adaptive_avg_pool2d(x, (3, 4)), (2, 3, 10, 7))
    _cmp(lambda x: F.adaptive_avg_pool1d(x, 4), lambda x: TF.adaptive_avg_pool1d(x, 4), (2, 3, 10))


def test_max_pool_relu_ties_match_torch(max_pool_layout):
    """After ReLU many windows tie at 0: the gradient goes to the same (first) position as PyTorch."""
    rng = np.random.default_rng(3)
    x = np.maximum(rng.standard_normal((2, 4, 12, 12)), 0).astype(np.float32)
    xs, xt = sd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.max_pool2d(xs, 3, 2, 1).sum().backward()
    TF.max_pool2d(xt, 3, 2, 1).sum().backward()
    np.testing.assert_array_equal(xs.grad.numpy(), xt.grad.numpy())


def test_max_pool_same_padding_matches_torch(max_pool_layout):
    """The CIFAR 3x3/2 'same' geometry (pad 0 before, 1 after, as -inf; ReLU ties at 0), vs PyTorch."""
    rng = np.random.default_rng(4)
    x = np.maximum(rng.standard_normal((2, 3, 12, 12)), 0)
    xs, xt = sd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = F.max_pool2d(xs, 3, 2, padding="same")
    yt = TF.max_pool2d(TF.pad(xt, (0, 1, 0, 1), value=-np.inf), 3, 2)
    np.testing.assert_array_equal(y.numpy(), yt.detach().numpy())
    g = rng.standard_normal(y.shape)
    y.backward(sd.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)  # summation order


@pytest.mark.parametrize("shape,k,s,p", [((2, 3, 6, 6), 2, 2, 0), ((2, 128, 12, 12), 3, 2, 1), ((1, 1, 5, 5), 3, 1, 1)])
def test_max_pool_nan_window_routes_gradient_like_pytorch(shape, k, s, p):
    # NaN propagates to the output, and its window's gradient goes to the (last) NaN, as in PyTorch.
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x[0, 0, 1, 1] = np.nan
    x[-1, -1, 2, 3] = x[-1, -1, 3, 3] = np.nan
    xs = sd.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ys, yt = F.max_pool2d(xs, k, s, p), torch.nn.functional.max_pool2d(xt, k, s, p)
    g = rng.standard_normal(tuple(yt.shape))
    ys.backward(sd.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(ys.numpy(), yt.detach().numpy(), equal_nan=True)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy())
