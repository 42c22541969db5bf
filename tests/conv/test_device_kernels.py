"""The performance kernels on every device (textbook 12.1.2): im2col convolution (each fast path), transposed
convolution, max/avg pooling (both max-pool layouts), batch normalization (train and eval) and the fused
LSTM/GRU/Elman layers give on ``device`` the values and gradients they give on the CPU (float64, tight
tolerance), and their outputs and gradients stay on ``device``. Scratch buffers are kept per device."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.backend import to_host
from shendu.ops import _workspace, conv_settings
from shendu.ops import pool as pool_ops
from shendu.ops._conv import half

TOL = dict(rtol=1e-10, atol=1e-12)


def _on(t, device):
    return str(t.device).startswith(device)


def _run(fn, arrays, device, seed=3):
    """Outputs of fn on ``device`` and the gradients of sum_i <out_i, v_i> (v drawn on the host), as host
    arrays, after checking that all of them live on ``device``."""
    xs = [sd.tensor(a, requires_grad=True, device=device) for a in arrays]
    out = fn(*xs)
    outs = out if isinstance(out, tuple) else (out,)
    rng = np.random.default_rng(seed)
    loss = None
    for o in outs:
        assert _on(o, device), f"output on {o.device}, expected {device}"
        term = (o * sd.tensor(rng.standard_normal(o.shape), device=device)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
    grads = []
    for x in xs:
        assert x.grad is not None and _on(x.grad, device), "gradient missing or on the wrong device"
        grads.append(to_host(x.grad._data))
    return [to_host(o._data) for o in outs], grads


def _check(fn, arrays, device, tol=TOL):
    """fn on ``device`` equals fn on the CPU, outputs and gradients."""
    ref_out, ref_g = _run(fn, arrays, "cpu")
    out, g = _run(fn, arrays, device)
    for a, b in zip(out, ref_out):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **tol)
    for i, (a, b) in enumerate(zip(g, ref_g)):
        np.testing.assert_allclose(a, b, err_msg=f"gradient of input {i}", **tol)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed + sum(shape)).standard_normal(shape)


# --- convolution ------------------------------------------------------------------------------------------
CONV1D = [  # (x shape, w shape, stride, padding, dilation, groups)
    ((2, 3, 10), (4, 3, 3), 2, 1, 1, 1),
    ((2, 3, 11), (6, 1, 3), 1, "same", 2, 3),
    ((3, 40, 9), (33, 40, 4), 1, 3, 1, 1),  # many channels: channels-last columns, rot180 input gradient
]


@pytest.mark.parametrize("case", CONV1D)
def test_conv1d(case, device):
    xs, ws, s, p, d, g = case
    _check(lambda x, w, b: F.conv1d(x, w, b, s, p, d, g), [_rand(*xs), _rand(*ws, seed=1), _rand(ws[0], seed=2)],
           device)


CONV2D = [  # (x shape, w shape, stride, padding, dilation, groups): one per kernel path
    ((2, 4, 7, 6), (6, 2, 3, 2), (2, 1), (1, 2), (1, 2), 2),  # grouped, strided, dilated (NCHW columns)
    ((3, 1, 8, 7), (4, 1, 3, 3), 1, 1, 1, 1),  # one channel, stride 1: the 'wide' grid
    ((3, 2, 8, 7), (4, 2, 3, 3), 1, 1, 1, 1),  # few channels, stride 1: per-item channels-last ("nhwc-items")
    ((2, 6, 9, 8), (3, 6, 3, 3), 1, (1, 0), (1, 2), 1),  # few output channels: "half-col2im" input gradient
    ((2, 3, 40, 40), (5, 3, 3, 3), 2, 0, 1, 1),  # many output positions: per-item batched GEMM
    ((2, 16, 6, 5), (8, 16, 3, 3), 2, 1, 1, 1),  # channels-last columns (C*kw >= 32)
    ((2, 32, 6, 5), (12, 32, 3, 3), 1, 1, 1, 1),  # stride 1, C >= 32: fused rot180 input and weight gradients
    ((2, 32, 6, 5), (8, 8, 3, 2), 1, (2, 1), (1, 2), 4),  # stride 1, C >= 32, groups: rot180 correlation
]


@pytest.mark.parametrize("case", CONV2D)
def test_conv2d(case, device):
    xs, ws, s, p, d, g = case
    _check(lambda x, w, b: F.conv2d(x, w, b, s, p, d, g), [_rand(*xs), _rand(*ws, seed=1), _rand(ws[0], seed=2)],
           device)


def test_conv3d(device):
    _check(lambda x, w: F.conv3d(x, w, None, (1, 2, 1), 1), [_rand(2, 2, 4, 5, 3), _rand(3, 2, 2, 3, 2, seed=1)],
           device)


@pytest.mark.parametrize("keep_bytes", [0, 1 << 30])
@pytest.mark.parametrize("channels", [1, 2, 40])  # the wide grid, "nhwc-items" + "half-col2im", NHWC
def test_conv2d_in_workspace_chunks(monkeypatch, device, keep_bytes, channels):
    """Batches split into several workspace chunks, with and without the forward's column matrix kept."""
    monkeypatch.setattr(conv_settings, "workspace_bytes", 3000 * channels)
    monkeypatch.setattr(conv_settings, "keep_cols_bytes", keep_bytes)
    # the wide plan: kept whole-batch columns, or chunks of its own size (and the flat col2im's chunks)
    monkeypatch.setattr(conv_settings, "wide_chunk_bytes", 0 if keep_bytes else 3000 * channels)
    monkeypatch.setattr(conv_settings, "flat_col2im_bytes", 3000 * channels)
    monkeypatch.setattr(half, "CHUNK_BYTES", 3000 * channels)
    x, w = _rand(7, channels, 6, 6), _rand(3, channels, 3, 3, seed=1)
    _check(lambda x, w: F.conv2d(x, w, padding=1), [x, w], device)
    _check(lambda x, w: F.conv2d(x, w, stride=2), [x, w], device)


@pytest.mark.parametrize("case", [
    (2, (2, 4, 3, 3), (4, 3, 3, 3), 2, 1, 1, 2, 1),
    (2, (1, 4, 4, 5), (4, 3, 2, 3), (2, 3), (0, 1), (1, 2), 1, 1),
    (1, (2, 2, 6), (2, 3, 4), 3, 1, 2, 1, 1),
    (2, (1, 2, 3, 3), (2, 2, 3, 3), 1, 0, 0, 1, 2),
])
def test_conv_transpose(case, device):
    nd, xs, ws, s, p, op, g, d = case
    f = F.conv_transpose1d if nd == 1 else F.conv_transpose2d
    _check(lambda x, w, b: f(x, w, b, s, p, op, g, d),
           [_rand(*xs), _rand(*ws, seed=1), _rand(ws[1] * g, seed=2)], device)


def test_conv_double_backward(device):
    """Second derivatives run the adjoint kernels (ConvTransposeNd, ConvWeightGradNd) on the device."""
    def f(x, w):
        (gx,) = sd.autograd.grad(F.conv2d(x, w, stride=2, padding=1).tanh().sum(), [x], create_graph=True)
        return gx
    _check(f, [_rand(2, 3, 6, 5), _rand(4, 3, 3, 3, seed=1)], device)


def test_unfold_fold_fft_and_separable(device):
    _check(lambda x: F.unfold(x, (2, 3), 1, 1, 2), [_rand(2, 3, 7, 6)], device)
    _check(lambda c: F.fold(c, (7, 6), (2, 3), 1, 1, 2), [_rand(2, 18, 12)], device)
    _check(lambda x, w, b: F.conv2d_fft(x, w, b, 1), [_rand(2, 3, 9, 8), _rand(4, 3, 5, 4, seed=1), _rand(4)], device)
    col, row = _rand(3, 3, seed=4), _rand(3, 5, seed=5)  # raw kernels follow the input's device
    _check(lambda x: F.conv2d_separable(x, col, row, padding="same"), [_rand(2, 3, 9, 8)], device)


def test_conv_layers(device):
    sd.manual_seed(0)
    layers = [nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2, dtype=sd.float64),
              nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1, dtype=sd.float64)]
    x = _rand(2, 4, 9, 9)
    for m in layers:
        m.to("cpu")
        ref, ref_g = _run(m, [x], "cpu")
        ref_pg = [to_host(p.grad._data) for p in m.parameters()]
        for p in m.parameters():
            p.grad = None
        m.to(device)
        out, g = _run(m, [x], device)
        np.testing.assert_allclose(out[0], ref[0], **TOL)
        np.testing.assert_allclose(g[0], ref_g[0], **TOL)
        for p, r in zip(m.parameters(), ref_pg):
            assert _on(p, device) and _on(p.grad, device)
            np.testing.assert_allclose(to_host(p.grad._data), r, **TOL)


def test_workspace_is_kept_per_device(device):
    """Scratch buffers are keyed by device: host and device buffers never mix; clear_workspace frees all."""
    x, w = _rand(2, 3, 8, 8), _rand(4, 3, 3, 3, seed=1)
    for dev in ("cpu", device, "cpu", device):
        _check(lambda x, w: F.conv2d(x, w, padding=1), [x, w], dev)
        _check(lambda x: F.max_pool2d(x, 3, 2, 1), [_rand(4, 16, 9, 9)], dev)
    bufs = _workspace.thread_buffers()
    assert bufs
    for key, buf in bufs.items():
        where = key[-1]
        if where is None:
            assert type(buf) is np.ndarray, key
        else:
            assert type(buf) is where[0] and where[1].type != "cpu", key
    _workspace.clear_workspace()
    assert not _workspace.thread_buffers() and _workspace.workspace_bytes(all_threads=True) == 0


# --- pooling ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cl_min", [1, 1 << 30])  # the polyphase grid and the NCHW layout
@pytest.mark.parametrize("case", [
    ((2, 3, 9, 8), 3, 2, 1, 1, False),
    ((2, 2, 9, 9), (2, 3), (2, 1), (1, 0), (2, 1), True),
    ((4, 16, 9, 9), 3, 2, 1, 1, False),
])
def test_max_pool2d(monkeypatch, device, cl_min, case):
    monkeypatch.setattr(pool_ops, "CL_MIN", cl_min)
    xs, k, s, p, d, ceil = case
    _check(lambda x: F.max_pool2d(x, k, s, p, d, ceil), [_rand(*xs)], device)


def test_max_pool_nan_indices_1d_and_large_kernel(device):
    x = _rand(2, 3, 6, 6)
    x[0, 1, 2, 3] = x[1, 2, 0, 0] = np.nan
    ref = F.max_pool2d(sd.tensor(x, device="cpu"), 2, return_indices=True)
    y, idx = F.max_pool2d(sd.tensor(x, device=device), 2, return_indices=True)
    assert _on(y, device) and _on(idx, device)
    np.testing.assert_array_equal(to_host(y._data), ref[0].numpy())
    np.testing.assert_array_equal(to_host(idx._data), ref[1].numpy())
    xt = sd.tensor(x, device=device, requires_grad=True)
    F.max_pool2d(xt, 2).sum().backward()
    xc = sd.tensor(x, device="cpu", requires_grad=True)
    F.max_pool2d(xc, 2).sum().backward()
    np.testing.assert_array_equal(to_host(xt.grad._data), xc.grad.numpy())
    _check(lambda x: F.max_pool1d(x, 3, 2, 1), [_rand(2, 3, 10)], device)
    _check(lambda x: F.max_pool2d(x, 16, 1), [_rand(1, 2, 17, 17)], device)  # 256 taps: int32 offsets
    _check(lambda x: F.max_pool3d(x, 2), [_rand(1, 2, 4, 4, 4)], device)


def test_max_pool_double_backward(device):
    def f(x):
        (gx,) = sd.autograd.grad((F.max_pool2d(x, 2) ** 2).sum(), [x], create_graph=True)
        return gx
    _check(f, [_rand(2, 3, 6, 6)], device)


@pytest.mark.parametrize("case", [
    (2, (3, 3), 2, 1, False, True),
    (2, (3, 3), 2, 1, True, False),  # uneven windows: an array divisor on the device
    (1, 4, 3, 0, True, True),
])
def test_avg_pool(device, case):
    nd, k, s, p, ceil, cip = case
    f = F.avg_pool1d if nd == 1 else F.avg_pool2d
    shape = (2, 3, 10) if nd == 1 else (2, 3, 9, 8)
    _check(lambda x: f(x, k, s, p, ceil, cip), [_rand(*shape)], device)


def test_adaptive_lp_and_global_pools(device):
    x = _rand(2, 3, 9, 7)
    _check(lambda x: F.adaptive_avg_pool2d(x, (4, 3)), [x], device)
    _check(lambda x: F.adaptive_avg_pool1d(x, 4), [_rand(2, 3, 10)], device)
    _check(lambda x: F.lp_pool2d(x, 2, 2), [np.abs(x) + 0.1], device)
    _check(lambda x: F.global_max_pool2d(x), [x], device)


# --- normalization ----------------------------------------------------------------------------------------
def _module_pair(make, x, device, train, steps=2):
    """A module's outputs, input and parameter gradients and buffers on the CPU and on ``device``."""
    res = []
    for dev in ("cpu", device):
        sd.manual_seed(0)
        m = make().to(dev)
        m.train(train)
        for p in m.parameters():  # non-trivial affine parameters, the same on both devices
            p._data[...] = sd.tensor(_rand(*p.shape, seed=9), device=dev)._data
        for _ in range(steps):
            out, g = _run(m, [x], dev)
        for t in list(m.parameters()) + [b for b in m.buffers() if b is not None]:
            assert _on(t, dev) and (t.grad is None or _on(t.grad, dev))
        res.append((out, g, [to_host(p.grad._data) for p in m.parameters()],
                    [to_host(b._data) for b in m.buffers() if b is not None]))
    return res


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("case", [
    (nn.BatchNorm2d, (7, 3, 4, 5), dict(momentum=0.1)),
    (nn.BatchNorm1d, (8, 3), dict(momentum=None)),
    (nn.BatchNorm1d, (4, 3, 5), dict(affine=False)),
])
def test_batch_norm(device, train, case):
    cls, shape, kw = case
    (ro, rg, rpg, rb), (o, g, pg, b) = _module_pair(lambda: cls(3, dtype=sd.float64, **kw), _rand(*shape) * 2 + 1,
                                                    device, train)
    for a, r in zip(o + g + pg + b, ro + rg + rpg + rb):
        np.testing.assert_allclose(a, r, **TOL)


def test_batch_norm_in_sample_blocks(monkeypatch, device):
    """The cache-blocked passes (forced into uneven blocks) agree with the device's whole-batch passes."""
    from shendu.nn.functional import normalization

    ref = _module_pair(lambda: nn.BatchNorm2d(3, dtype=sd.float64), _rand(7, 3, 4, 5), device, True)[0]
    monkeypatch.setattr(normalization, "_block", lambda a3: 3)
    got = _module_pair(lambda: nn.BatchNorm2d(3, dtype=sd.float64), _rand(7, 3, 4, 5), device, True)[1]
    for a, r in zip(sum(got, []), sum(ref, [])):
        np.testing.assert_allclose(a, r, **TOL)


def test_layer_and_rms_norm(device):
    x, w, b = _rand(3, 4, 5), _rand(5, seed=1), _rand(5, seed=2)
    _check(lambda x, w, b: F.layer_norm(x, 5, w, b), [x, w, b], device)
    _check(lambda x, w: F.rms_norm(x, (4, 5), w), [x, _rand(4, 5, seed=3)], device)


# --- recurrent layers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict(num_layers=2)),
    ("RNN", dict(nonlinearity="relu", bidirectional=True)),
    ("RNN", dict()),
    ("LSTM", dict(fused=False)),
    ("GRU", dict(reset_after=False)),
])
@pytest.mark.parametrize("lengths", [None, [5, 3, 1]])
def test_recurrent_layers(device, case, lengths):
    mode, kw = case
    cls = getattr(nn, mode)
    x = _rand(5, 3, 4)

    res = []
    for dev in ("cpu", device):
        sd.manual_seed(0)
        m = cls(4, 6, dtype=sd.float64, **kw).to(dev)
        out, g = _run(lambda inp: _flatten(m(inp, lengths=lengths)), [x], dev)
        for p in m.parameters():
            assert _on(p, dev) and _on(p.grad, dev)
        res.append((out, g, [to_host(p.grad._data) for p in m.parameters()]))
    (ro, rg, rpg), (o, g, pg) = res
    for a, r in zip(o + g + pg, ro + rg + rpg):
        np.testing.assert_allclose(a, r, **TOL)


def _flatten(out):
    y, h = out
    hs = h if isinstance(h, tuple) else (h,)
    return (y,) + hs


@pytest.mark.parametrize("op", ["LSTMSeq", "GRUSeq", "ElmanSeq"])
def test_fused_ops_with_a_host_mask(device, op):
    """The fused sequence ops with a 0/1 mask given on the host: it moves to the inputs' device."""
    from shendu.ops import rnn

    mask = (np.arange(4)[:, None] < np.array([4, 2])[None, :]).astype(np.float64)[:, :, None]
    H = 3
    shapes = {"LSTMSeq": [(4, 2, 4 * H), (4 * H, H), (2, H), (2, H)],
              "GRUSeq": [(4, 2, 3 * H), (3 * H, H), (3 * H,), (2, H)],
              "ElmanSeq": [(4, 2, H), (H, H), (2, H)]}[op]
    arrays = [_rand(*s, seed=i) for i, s in enumerate(shapes)]
    _check(lambda *a: getattr(rnn, op)(mask, True)(*a), arrays, device)
