"""Winograd minimal-filtering convolution F(m x m, r x r) (textbook 9.8; Lavin & Gray 2015): the Cook-Toom
transforms, the forward correlation and the input and weight gradients against the textbook loop reference
(shendu.reference.conv) in float64, against PyTorch, and the float32 accuracy against the im2col path.

Arrays go to the default device (the strict stand-in GPU when SHENDU_TEST_DEVICE=strict), so any host/device
mix inside the kernel fails here."""
from fractions import Fraction

import numpy as np
import pytest

import shendu as sd
from shendu.backend import to_host
from shendu.ops import _winograd as W
from shendu.ops import conv_settings
from shendu.reference import conv as R

TOL64 = dict(rtol=1e-10, atol=1e-10)


def _dev(a):
    """A host array on the default device (as the kernels see a tensor's data)."""
    return sd.tensor(a)._data


def _fwd(x, w, pads, **kw):
    xd, wd = _dev(x), _dev(w)
    y = W.conv2d_forward(xd, wd, pads, **kw)
    assert type(y) is type(xd), "output left the input's device"
    return to_host(y)


def _rand(shape, seed, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# --- the transforms -------------------------------------------------------------------------------------
@pytest.mark.parametrize("m,r", [(2, 3), (4, 3), (6, 3), (2, 5), (3, 5), (4, 5), (3, 2), (1, 3), (3, 1)])
def test_transforms_compute_the_1d_correlation(m, r):
    """y = A^T [(G g) (.) (B^T d)] is the correlation y_i = sum_k g_k d_{i+k} (Lavin & Gray 2015, section 4)."""
    at, g, bt = W.transforms(m, r, np.float64)
    alpha = m + r - 1
    assert at.shape == (m, alpha) and g.shape == (alpha, r) and bt.shape == (alpha, alpha)
    rng = np.random.default_rng(m * 10 + r)
    for _ in range(3):
        gg, d = rng.standard_normal(r), rng.standard_normal(alpha)
        want = np.array([gg @ d[i:i + r] for i in range(m)])
        np.testing.assert_allclose(at @ ((g @ gg) * (bt @ d)), want, rtol=1e-12, atol=1e-12)


def test_f23_transforms_are_lavins():
    """F(2,3) from the points 0, 1, -1 is Lavin & Gray's published F(2,3), up to the sign of each (G, B^T) row
    pair and the matching A^T column."""
    at, g, bt = W.transforms(2, 3, np.float64)
    at_l = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], float)
    g_l = np.array([[1, 0, 0], [.5, .5, .5], [.5, -.5, .5], [0, 0, 1]])
    bt_l = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], float)
    for j in range(4):
        s = 1.0 if np.allclose(bt[j], bt_l[j]) else -1.0
        np.testing.assert_array_equal(bt[j], s * bt_l[j])
        # the sign sits on B^T and on G or A^T: the triple products are Lavin's
        np.testing.assert_array_equal(np.outer(at[:, j], g[j]) * s, np.outer(at_l[:, j], g_l[j]))


def test_transforms_are_cached_read_only_and_cast():
    a = W.transforms(4, 3, np.float32)
    assert a is W.transforms(4, 3, np.float32)
    assert all(t.dtype == np.float32 and not t.flags.writeable for t in a)
    # rounded once from the exact (float64) matrices
    np.testing.assert_array_equal(a[1], W.transforms(4, 3, np.float64)[1].astype(np.float32))


def test_transforms_custom_points_and_errors():
    at, g, bt = W.transforms(2, 3, np.float64, points=(0, Fraction(1, 2), -2))
    gg, d = _rand(3, 1), _rand(4, 2)
    np.testing.assert_allclose(at @ ((g @ gg) * (bt @ d)), [gg @ d[:3], gg @ d[1:]], rtol=1e-12)
    with pytest.raises(ValueError, match="distinct"):
        W.transforms(2, 3, np.float64, points=(0, 1, 1))
    with pytest.raises(ValueError, match="needs 3"):
        W.transforms(2, 3, np.float64, points=(0, 1))
    with pytest.raises(ValueError, match="positive integers"):
        W.transforms(0, 3)


# --- forward --------------------------------------------------------------------------------------------
FORWARD = [  # x shape, w shape, padding, m
    ((2, 3, 9, 11), (4, 3, 3, 3), 0, 2),
    ((2, 3, 9, 11), (4, 3, 3, 3), 1, 4),
    ((1, 5, 7, 6), (3, 5, 3, 3), 2, 4),
    ((2, 1, 10, 9), (1, 1, 3, 3), 1, 6),  # C=1, O=1
    ((3, 4, 8, 13), (5, 4, 5, 5), 2, 2),
    ((2, 2, 9, 9), (3, 2, 5, 5), 0, 3),
    ((2, 6, 11, 7), (2, 6, 5, 5), 1, 4),
    ((1, 3, 5, 5), (2, 3, 5, 5), 0, 2),  # one output pixel
    ((2, 3, 7, 9), (4, 3, 3, 5), (1, 2), (2, 3)),  # rectangular kernel and tiles
    ((2, 20, 6, 7), (3, 20, 3, 3), ((0, 2), (1, 0)), 4),  # asymmetric padding, channels-last tiles
]


@pytest.mark.parametrize("xs,ws,pad,m", FORWARD)
def test_forward_matches_reference(xs, ws, pad, m):
    x, w = _rand(xs, 1), _rand(ws, 2)
    (pt, pb), (pl, pr) = W._pads(pad)
    want = R.conv2d(np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr))), w)
    y = _fwd(x, w, pad, m=m)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, want, **TOL64)


@pytest.mark.parametrize("path", ["small-c", "nchw", "nhwc"])
@pytest.mark.parametrize("chunk", [1, 1 << 30])
def test_each_path_and_partial_chunks(monkeypatch, path, chunk):
    """The broadcast-product (C < GEMM_MIN_C), channels-first and channels-last paths, one item per chunk
    (reused buffers, the last chunk partial) and the whole batch in one chunk."""
    monkeypatch.setattr(conv_settings, "winograd_gemm_min_c", 4 if path == "small-c" else 1)
    monkeypatch.setattr(conv_settings, "winograd_nhwc_min_c", 1 if path == "nhwc" else 10 ** 6)
    monkeypatch.setattr(conv_settings, "winograd_chunk_bytes", chunk)
    for m, r in ((4, 3), (2, 5)):
        x, w = _rand((3, 3, 10, 11), m), _rand((5, 3, r, r), r)
        np.testing.assert_allclose(_fwd(x, w, 1, m=m), R.conv2d(x, w, padding=1), **TOL64)


def test_non_contiguous_inputs():
    x, w = _rand((3, 4, 9, 10), 22), _rand((5, 4, 3, 3), 23)
    xd = _dev(np.ascontiguousarray(x.transpose(0, 1, 3, 2))).transpose(0, 1, 3, 2)  # a strided view
    wd = _dev(w[:, :, ::-1, ::-1].copy())[:, :, ::-1, ::-1]  # negative strides
    np.testing.assert_allclose(to_host(W.conv2d_forward(xd, wd, 1, m=4)), R.conv2d(x, w, padding=1), **TOL64)
    gy = _rand((3, 5, 9, 10), 24)
    gyd = _dev(gy[::-1].copy())[::-1]
    gw = W.conv2d_weight_grad(xd, gyd, 1, w.shape, m=2)
    np.testing.assert_allclose(to_host(gw), R.conv2d_weight_grad(gy, np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))),
                                                                 w.shape), **TOL64)


def test_default_tiles_and_float32_dtype():
    x, w = _rand((2, 8, 12, 12), 3, np.float32), _rand((4, 8, 5, 5), 4, np.float32)
    y = _fwd(x, w, 2)
    assert y.dtype == np.float32 and y.shape == (2, 4, 12, 12)
    want = R.conv2d(x.astype(np.float64), w.astype(np.float64), padding=2)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


def test_forward_matches_torch():
    torch = pytest.importorskip("torch")
    x, w = _rand((4, 16, 13, 12), 5, np.float32), _rand((8, 16, 3, 3), 6, np.float32)
    want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), padding=1).numpy()
    np.testing.assert_allclose(_fwd(x, w, 1, m=4), want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


# --- input gradient -------------------------------------------------------------------------------------
GRAD = [  # x shape, w shape, padding, m
    ((2, 3, 9, 11), (4, 3, 3, 3), 0, 2),
    ((2, 3, 9, 11), (4, 3, 3, 3), 1, 4),
    ((1, 4, 7, 8), (2, 4, 3, 3), 3, 4),  # padding > r - 1: the full correlation crops
    ((2, 1, 8, 8), (1, 1, 5, 5), 2, 2),  # C=1, O=1
    ((3, 5, 10, 9), (6, 5, 5, 5), 0, 3),
    ((2, 2, 9, 7), (3, 2, 3, 5), (2, 1), (4, 2)),
]


@pytest.mark.parametrize("xs,ws,pad,m", GRAD)
def test_input_grad_matches_reference_and_is_the_adjoint(xs, ws, pad, m):
    x, w = _rand(xs, 7), _rand(ws, 8)
    (pt, pb), (pl, pr) = W._pads(pad)
    y = R.conv2d(np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr))), w)
    gy = _rand(y.shape, 9)
    gx = to_host(W.conv2d_input_grad(_dev(gy), _dev(w), pad, xs, m=m))
    gxp = R.conv2d_input_grad(gy, (xs[0], xs[1], xs[2] + pt + pb, xs[3] + pl + pr), w)
    np.testing.assert_allclose(gx, gxp[:, :, pt:pt + xs[2], pl:pl + xs[3]], **TOL64)
    # <conv(x), gy> = <x, conv^T(gy)>
    assert np.isclose(np.vdot(_fwd(x, w, pad, m=m), gy), np.vdot(x, gx), rtol=1e-11)


def test_input_grad_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    x, w = _rand((3, 8, 12, 12), 10, np.float32), _rand((16, 8, 5, 5), 11, np.float32)
    gy = _rand((3, 16, 12, 12), 12, np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    torch.nn.functional.conv2d(tx, torch.from_numpy(w), padding=2).backward(torch.from_numpy(gy))
    want = tx.grad.numpy()
    gx = to_host(W.conv2d_input_grad(_dev(gy), _dev(w), 2, x.shape, m=2))
    np.testing.assert_allclose(gx, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


# --- weight gradient (F(r x r, m x m), roles swapped) ----------------------------------------------------
@pytest.mark.parametrize("xs,ws,pad,m", GRAD)
def test_weight_grad_matches_reference(xs, ws, pad, m):
    x, w = _rand(xs, 13), _rand(ws, 14)
    (pt, pb), (pl, pr) = W._pads(pad)
    xp_ = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    gy = _rand(R.conv2d(xp_, w).shape, 15)
    gw = W.conv2d_weight_grad(_dev(x), _dev(gy), pad, ws, m=m)
    assert type(gw) is type(_dev(x)) and gw.shape == ws
    np.testing.assert_allclose(to_host(gw), R.conv2d_weight_grad(gy, xp_, ws), **TOL64)


@pytest.mark.parametrize("path", ["small-c", "nchw", "nhwc"])
def test_weight_grad_each_path_and_partial_chunks(monkeypatch, path):
    monkeypatch.setattr(conv_settings, "winograd_gemm_min_c", 4 if path == "small-c" else 1)
    monkeypatch.setattr(conv_settings, "winograd_nhwc_min_c", 1 if path == "nhwc" else 10 ** 6)
    monkeypatch.setattr(conv_settings, "winograd_chunk_bytes", 1)  # one item per chunk: the accumulation over chunks
    x, w = _rand((3, 3, 10, 11), 16), _rand((5, 3, 3, 3), 17)
    gy = _rand((3, 5, 10, 11), 18)
    gw = to_host(W.conv2d_weight_grad(_dev(x), _dev(gy), 1, w.shape, m=4))
    np.testing.assert_allclose(gw, R.conv2d_weight_grad(gy, np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), w.shape),
                               **TOL64)


def test_weight_grad_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    x, w = _rand((4, 16, 12, 12), 19, np.float32), _rand((8, 16, 3, 3), 20, np.float32)
    gy = _rand((4, 8, 12, 12), 21, np.float32)
    tw = torch.from_numpy(w).requires_grad_()
    torch.nn.functional.conv2d(torch.from_numpy(x), tw, padding=1).backward(torch.from_numpy(gy))
    want = tw.grad.numpy()
    gw = to_host(W.conv2d_weight_grad(_dev(x), _dev(gy), 1, w.shape, m=4))
    np.testing.assert_allclose(gw, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


# --- float32 accuracy -----------------------------------------------------------------------------------
def _rel_err(y, want):
    return float(np.abs(y - want).max() / np.abs(want).max())


@pytest.mark.parametrize("m,r,bound,gw_bound", [(2, 3, 1.5, 2.5), (4, 3, 6.0, 4.5), (2, 5, 6.0, 10.0),
                                                (4, 5, 30.0, 25.0)])
def test_float32_error_near_im2col(m, r, bound, gw_bound):
    """Max error / max |result| of float32 Winograd against a float64 reference, on N(0, 1) data with 64
    channels, within a bound times the float32 im2col path's error (~4e-7 here). Measured on this data:
    forward (6 seeds) F(2,3) 0.5-0.8x, F(4,3) 2.0-3.8x, F(2,5) 2.3-3.3x (points 0, +-3/2, +-2/3; Lavin's
    0, +-1, +-2 gave ~11x), F(4,5) 9-15x; weight gradient (3 seeds) 0.8-1.1x, 1.8-2.2x, 4.5-5.8x, 12-15x.
    Larger tiles have larger transform entries, which amplify rounding. Bounds: ~1.6-2x the largest ratio."""
    import shendu.nn.functional as F

    ratios, gw_ratios = [], []
    for seed in range(3):
        x, w = _rand((2, 64, 12, 12), 20 + seed), _rand((16, 64, r, r), 30 + seed)
        gy = _rand((2, 16, 12, 12), 40 + seed)
        p = r // 2
        want = R.conv2d(x, w, padding=p)
        want_gw = R.conv2d_weight_grad(gy, np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))), w.shape)
        x32, w32, gy32 = x.astype(np.float32), w.astype(np.float32), gy.astype(np.float32)
        e_wg = _rel_err(_fwd(x32, w32, p, m=m), want)
        wt = sd.tensor(w32, requires_grad=True)
        y = F.conv2d(sd.tensor(x32), wt, padding=p)
        y.backward(sd.tensor(gy32))
        ratios.append(e_wg / _rel_err(y.detach().numpy(), want))
        e_gw = _rel_err(to_host(W.conv2d_weight_grad(_dev(x32), _dev(gy32), p, w.shape, m=m)), want_gw)
        gw_ratios.append(e_gw / _rel_err(wt.grad.numpy(), want_gw))
        assert e_wg < 2e-5 and e_gw < 2e-5
    assert max(ratios) < bound, ratios
    assert max(gw_ratios) < gw_bound, gw_ratios


def test_choose_m_only_where_winograd_applies_and_wins():
    assert W.choose_m((64, 32, 26, 26), (64, 32, 3, 3)) == W.default_m(3)  # mnist_cnn conv2
    assert W.choose_m((128, 64, 12, 12), (64, 64, 5, 5)) == W.default_m(5)  # cifar_cnn conv2
    assert W.choose_m((128, 3, 24, 24), (64, 3, 5, 5)) is None  # few input channels: im2col wins
    assert W.choose_m((64, 32, 26, 26), (64, 32, 3, 3), stride=2) is None
    assert W.choose_m((64, 32, 26, 26), (64, 32, 3, 3), dilation=(1, 2)) is None
    assert W.choose_m((64, 32, 26, 26), (64, 16, 3, 3), groups=2) is None
    assert W.choose_m((64, 32, 26, 26), (64, 32, 7, 7)) is None
    assert W.choose_m((64, 32, 26, 26), (64, 32, 3, 5)) is None
    assert W.choose_m((64, 32, 26), (64, 32, 3)) is None


# --- bad input ------------------------------------------------------------------------------------------
def test_bad_input_names_the_op():
    x, w = _dev(_rand((1, 3, 6, 6), 0)), _dev(_rand((2, 3, 3, 3), 1))
    with pytest.raises(ValueError, match="winograd conv2d.*input channels"):
        W.conv2d_forward(x, _dev(_rand((2, 4, 3, 3), 1)))
    with pytest.raises(ValueError, match="winograd conv2d.*expected x"):
        W.conv2d_forward(x[0], w)
    with pytest.raises(TypeError, match="winograd conv2d.*dtype"):
        W.conv2d_forward(x, _dev(_rand((2, 3, 3, 3), 1, np.float32)))
    with pytest.raises(TypeError, match="floating"):
        W.conv2d_forward(_dev(np.ones((1, 3, 6, 6), np.int64)), _dev(np.ones((2, 3, 3, 3), np.int64)))
    with pytest.raises(ValueError, match="smaller than the kernel"):
        W.conv2d_forward(x, _dev(_rand((2, 3, 7, 7), 1)))
    with pytest.raises(ValueError, match="pads"):
        W.conv2d_forward(x, w, (1, 2, 3))
    assert W._pads(np.int64(1)) == ((1, 1), (1, 1)) and W._pads((1, (0, 2))[1:] * 2) == ((0, 2), (0, 2))
    with pytest.raises(ValueError, match="does not match"):
        W.conv2d_input_grad(_dev(_rand((1, 2, 5, 5), 2)), w, 0, (1, 3, 6, 6))
    with pytest.raises(ValueError, match="weight_grad.*does not match"):
        W.conv2d_weight_grad(x, _dev(_rand((1, 2, 5, 5), 2)), 0, (2, 3, 3, 3))
