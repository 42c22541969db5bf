"""conv1d/2d/3d, conv_transpose and unfold/fold against PyTorch: forward and all gradients (float64)."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _run(sd_fn, th_fn, arrays, seed=0):
    rng = np.random.default_rng(seed)
    ts = [sd.tensor(a, requires_grad=True) for a in arrays]
    ths = [torch.tensor(a, requires_grad=True) for a in arrays]
    y, ty = sd_fn(*ts), th_fn(*ths)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-7, atol=1e-9)
    gy = rng.standard_normal(y.shape)
    y.backward(sd.tensor(gy))
    ty.backward(torch.tensor(gy))
    for a, b in zip(ts, ths):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-9)


CONV_CASES = [
    # nd, N, C, O, spatial, kernel, stride, padding, dilation, groups
    (1, 2, 3, 4, (11,), (3,), 2, 1, 1, 1),
    (1, 3, 4, 6, (9,), (4,), 1, "same", 2, 2),
    (2, 2, 3, 5, (9, 8), (3, 2), (2, 1), (1, 0), (1, 2), 1),
    (2, 3, 4, 6, (7, 7), (3, 3), 1, "same", 1, 2),
    (2, 2, 4, 4, (8, 6), (3, 3), 2, 1, 1, 4),  # depthwise
    (2, 1, 6, 3, (10, 9), (5, 3), (3, 2), (2, 1), (1, 1), 3),
    (2, 2, 2, 3, (6, 6), (1, 1), 1, 0, 1, 1),  # 1x1
    (2, 2, 3, 4, (7, 6), (4, 2), 1, "same", 1, 1),  # even kernel 'same': extra pad at the end
    (3, 2, 2, 4, (5, 6, 5), (2, 3, 2), 1, 1, 1, 2),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_convnd_matches_torch(case):
    nd, n, c, o, sp, k, s, p, d, g = case
    rng = np.random.default_rng(hash(case) % 2**32)
    x = rng.standard_normal((n, c) + sp)
    w = rng.standard_normal((o, c // g) + k)
    b = rng.standard_normal(o)
    f = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[nd]
    tf = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}[nd]
    _run(lambda x, w, b: f(x, w, b, s, p, d, g), lambda x, w, b: tf(x, w, b, s, p, d, g), [x, w, b])


def test_conv2d_random_configs_match_torch():
    rng = np.random.default_rng(7)
    for trial in range(12):
        g = int(rng.choice([1, 2]))
        c, o = g * int(rng.integers(1, 4)), g * int(rng.integers(1, 4))
        k = tuple(int(v) for v in rng.integers(1, 4, 2))
        s = tuple(int(v) for v in rng.integers(1, 3, 2))
        d = tuple(int(v) for v in rng.integers(1, 3, 2))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        sp = tuple(int(v) for v in rng.integers(6, 10, 2))
        x, w = rng.standard_normal((2, c) + sp), rng.standard_normal((o, c // g) + k)
        _run(lambda x, w: F.conv2d(x, w, None, s, p, d, g), lambda x, w: TF.conv2d(x, w, None, s, p, d, g), [x, w],
             seed=trial)


def test_conv2d_float32_keeps_dtype_and_matches():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3, 12, 12)).astype(np.float32)
    w = rng.standard_normal((8, 3, 5, 5)).astype(np.float32)
    y = F.conv2d(sd.tensor(x), sd.tensor(w), padding=2)
    assert y.dtype == sd.float32
    np.testing.assert_allclose(y.numpy(), TF.conv2d(torch.tensor(x), torch.tensor(w), padding=2).numpy(),
                               rtol=1e-4, atol=1e-4)


def test_conv2d_unbatched_input():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((3, 7, 7)), rng.standard_normal((2, 3, 3, 3))
    y = F.conv2d(sd.tensor(x), sd.tensor(w), padding=1)
    np.testing.assert_allclose(y.numpy(), TF.conv2d(torch.tensor(x), torch.tensor(w), padding=1).numpy(), atol=1e-12)


@pytest.mark.parametrize("keep_bytes", [0, 1 << 30])
@pytest.mark.parametrize("channels", [1, 2, 40])  # the wide grid, "nhwc-items" + "half-col2im", NHWC
def test_conv2d_large_batch_chunks_match_torch(monkeypatch, keep_bytes, channels):
    """Batches split into several workspace chunks (uneven last chunk), with and without the forward
    pass's column matrix kept for backward, through the NCHW, wide and channels-last kernels."""
    from shendu.ops import conv_settings
    from shendu.ops._conv import half

    monkeypatch.setattr(conv_settings, "workspace_bytes", 3000 * channels)
    monkeypatch.setattr(conv_settings, "keep_cols_bytes", keep_bytes)
    # the wide plan: kept whole-batch columns, or chunks of its own size (and the flat col2im's chunks)
    monkeypatch.setattr(conv_settings, "wide_chunk_bytes", 0 if keep_bytes else 3000 * channels)
    monkeypatch.setattr(conv_settings, "flat_col2im_bytes", 3000 * channels)
    monkeypatch.setattr(half, "CHUNK_BYTES", 3000 * channels)
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((7, channels, 6, 6)), rng.standard_normal((3, channels, 3, 3))
    _run(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1), [x, w])
    _run(lambda x, w: F.conv2d(x, w, stride=2), lambda x, w: TF.conv2d(x, w, stride=2), [x, w])
    _run(lambda x, w: F.conv2d(x, w, padding=(2, 1), dilation=(2, 2)),
         lambda x, w: TF.conv2d(x, w, padding=(2, 1), dilation=(2, 2)), [x, w])


@pytest.mark.parametrize("rot180", [True, False])
def test_input_gradient_paths_agree(monkeypatch, rot180):
    from shendu.ops import conv_settings

    monkeypatch.setattr(conv_settings, "rot180", rot180)
    rng = np.random.default_rng(4)
    for c, g in ((4, 2), (32, 1), (32, 4)):
        x, w = rng.standard_normal((3, c, 7, 6)), rng.standard_normal((8, c // g, 3, 2))
        _run(lambda x, w: F.conv2d(x, w, padding=(2, 1), dilation=(1, 2), groups=g),
             lambda x, w: TF.conv2d(x, w, padding=(2, 1), dilation=(1, 2), groups=g), [x, w])


TRANSPOSE_CASES = [
    (2, 2, 4, 3, (5, 4), (3, 3), 2, 1, 1, 1, 1),
    (2, 2, 4, 6, (4, 5), (2, 3), (2, 3), (0, 1), (1, 2), 2, 1),
    (2, 1, 3, 2, (3, 3), (3, 3), 1, 0, 0, 1, 2),
    (1, 2, 2, 3, (6,), (4,), 3, 1, 2, 1, 1),
    (3, 1, 2, 2, (3, 3, 2), (2, 2, 2), 2, 0, 1, 1, 1),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
def test_conv_transpose_matches_torch(case):
    nd, n, cin, cout, sp, k, s, p, op, g, d = case
    rng = np.random.default_rng(len(sp) * 100 + cin)
    x = rng.standard_normal((n, cin) + sp)
    w = rng.standard_normal((cin, cout // g) + k)
    b = rng.standard_normal(cout)
    f = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[nd]
    tf = {1: TF.conv_transpose1d, 2: TF.conv_transpose2d, 3: TF.conv_transpose3d}[nd]
    _run(lambda x, w, b: f(x, w, b, s, p, op, g, d), lambda x, w, b: tf(x, w, b, s, p, op, g, d), [x, w, b])


def test_unfold_fold_match_torch():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 7, 6))
    _run(lambda x: F.unfold(x, (2, 3), 1, 1, 2), lambda x: TF.unfold(x, (2, 3), 1, 1, 2), [x])
    cols = rng.standard_normal((2, 3 * 6, 4 * 3))
    _run(lambda c: F.fold(c, (7, 6), (2, 3), 1, 1, 2), lambda c: TF.fold(c, (7, 6), (2, 3), 1, 1, 2), [cols])


def test_layers_match_torch_modules():
    sd.manual_seed(0)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 4, 9, 9))
    for ours, theirs in [
        (sd.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, dtype=sd.float64),
         torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, dtype=torch.float64)),
        (sd.nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1, dtype=sd.float64),
         torch.nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1, dtype=torch.float64)),
    ]:
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
            theirs.bias.copy_(torch.tensor(ours.bias.numpy()))
        np.testing.assert_allclose(ours(sd.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), atol=1e-12)
    c1 = sd.nn.Conv1d(3, 5, 4, padding="same", dtype=sd.float64)
    t1 = torch.nn.Conv1d(3, 5, 4, padding="same", dtype=torch.float64)
    with torch.no_grad():
        t1.weight.copy_(torch.tensor(c1.weight.numpy()))
        t1.bias.copy_(torch.tensor(c1.bias.numpy()))
    x1 = rng.standard_normal((2, 3, 10))
    np.testing.assert_allclose(c1(sd.tensor(x1)).numpy(), t1(torch.tensor(x1)).detach().numpy(), atol=1e-12)


def test_conv_transpose_output_size_argument():
    ct = sd.nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    y = ct(sd.randn(1, 2, 4, 4), output_size=(8, 8))
    assert y.shape == (1, 2, 8, 8)


def test_default_init_bounds_like_torch():
    sd.manual_seed(0)
    conv = sd.nn.Conv2d(8, 4, 3)
    bound = 1 / np.sqrt(8 * 9)
    w, b = conv.weight.numpy(), conv.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound


@pytest.mark.parametrize("fused", [True, False])
def test_rot180_fused_weight_gradient_matches_torch(monkeypatch, fused):
    """Stride-1 convs with many channels: the weight gradient from gy's column matrices (shared with the
    input gradient, plan route "rot180-fused") equals PyTorch's, with symmetric, asymmetric and no padding, 2-D
    and 1-D."""
    from shendu.ops import conv_settings
    from shendu.ops._conv import dispatch, nhwc

    monkeypatch.setattr(conv_settings, "fused_rot180", fused)
    calls = []
    orig = nhwc.rot180_fused
    monkeypatch.setattr(dispatch.nhwc, "rot180_fused", lambda *a: (calls.append(1), orig(*a))[1])
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((3, 36, 7, 6)), rng.standard_normal((40, 36, 3, 2))
    _run(lambda x, w: F.conv2d(x, w, padding="same"), lambda x, w: TF.conv2d(x, w, padding="same"), [x, w])
    _run(lambda x, w: F.conv2d(x, w), lambda x, w: TF.conv2d(x, w), [x, w])
    _run(lambda x, w: F.conv2d(x, w, padding=(2, 1)), lambda x, w: TF.conv2d(x, w, padding=(2, 1)), [x, w])
    x, w = rng.standard_normal((2, 32, 9)), rng.standard_normal((33, 32, 4))
    _run(lambda x, w: F.conv1d(x, w, padding=3), lambda x, w: TF.conv1d(x, w, padding=3), [x, w])
    assert (len(calls) == 4) == fused and (len(calls) == 0) != fused
