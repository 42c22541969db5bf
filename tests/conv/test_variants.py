"""LocallyConnected2d, TiledConv2d and SeparableConv2d (textbook 9.5) against direct loops and Conv2d."""
import numpy as np

import shendu as sd
import shendu.nn.functional as F
from shendu.autograd import gradcheck


def _naive_unshared(x, wfull, s, p):
    """Z[n,o,h,w] = sum_{c,i,j} Xpad[n,c,h*s+i,w*s+j] W[o,h,w,c,i,j] (eq. 9.9), by loops."""
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    o, ho, wo, c, kh, kw = wfull.shape
    z = np.zeros((x.shape[0], o, ho, wo))
    for h in range(ho):
        for w in range(wo):
            patch = xp[:, :, h * s:h * s + kh, w * s:w * s + kw]
            z[:, :, h, w] = np.einsum("ncij,ocij->no", patch, wfull[:, h, w])
    return z


def test_locally_connected_matches_loops_and_gradcheck():
    sd.manual_seed(0)
    layer = sd.nn.LocallyConnected2d(2, 3, (6, 5), 3, stride=2, padding=1, dtype=sd.float64)
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 5))
    y = layer(sd.tensor(x))
    ref = _naive_unshared(x, layer.weight.numpy(), 2, 1) + layer.bias.numpy()
    np.testing.assert_allclose(y.numpy(), ref, atol=1e-12)
    assert gradcheck(lambda x, w, b: _lc_call(layer, x, w, b),
                     (sd.tensor(x, requires_grad=True), layer.weight.detach().requires_grad_(),
                      layer.bias.detach().requires_grad_()))


def _lc_call(layer, x, w, b):
    cols = F.unfold(x, layer.kernel_size, 1, layer.padding, layer.stride)
    ho, wo = layer.output_size
    cols = cols.reshape(x.shape[0], -1, ho, wo)
    return sd.einsum("nkhw,ohwk->nohw", cols, w.reshape(w.shape[0], ho, wo, -1)) + b


def test_tiled_conv_cycles_kernels():
    sd.manual_seed(1)
    t = 2
    layer = sd.nn.TiledConv2d(2, 3, (7, 7), 3, tile_size=t, dtype=sd.float64)
    x = np.random.default_rng(1).standard_normal((2, 2, 7, 7))
    k = layer.weight.numpy()  # (O, t, t, C, kh, kw)
    ho, wo = layer.output_size
    wfull = np.stack([np.stack([k[:, h % t, w % t] for w in range(wo)], 1) for h in range(ho)], 1)
    ref = _naive_unshared(x, wfull, 1, 0) + layer.bias.numpy()[:, None, None]
    np.testing.assert_allclose(layer(sd.tensor(x)).numpy(), ref, atol=1e-12)
    # gradients reach every kernel set
    layer(sd.tensor(x)).sum().backward()
    assert np.all(np.abs(layer.weight.grad.numpy()).sum(axis=(0, 3, 4, 5)) > 0)


def test_tiled_conv_with_one_tile_is_a_convolution():
    layer = sd.nn.TiledConv2d(3, 4, 8, 3, tile_size=1, dtype=sd.float64)
    x = sd.randn(2, 3, 8, 8, dtype=sd.float64)
    ref = F.conv2d(x, layer.weight.reshape(4, 3, 3, 3), layer.bias)
    np.testing.assert_allclose(layer(x).numpy(), ref.numpy(), atol=1e-12)


def test_separable_conv_is_depthwise_then_pointwise():
    layer = sd.nn.SeparableConv2d(3, 5, 3, padding=1, depth_multiplier=2, dtype=sd.float64)
    x = sd.randn(2, 3, 6, 6, dtype=sd.float64)
    dw = F.conv2d(x, layer.depthwise.weight, None, padding=1, groups=3)
    ref = F.conv2d(dw, layer.pointwise.weight, layer.pointwise.bias)
    np.testing.assert_allclose(layer(x).numpy(), ref.numpy(), atol=1e-12)
    assert layer.depthwise.weight.shape == (6, 1, 3, 3)
    assert sum(p.numel() for p in layer.parameters()) == 6 * 9 + 6 * 5 + 5


def test_locally_connected_input_size_error():
    layer = sd.nn.LocallyConnected2d(2, 3, 6, 3)
    try:
        layer(sd.randn(1, 2, 7, 6))
    except ValueError as e:
        assert "LocallyConnected2d" in str(e) and "(1, 2, 7, 6)" in str(e)
    else:
        raise AssertionError("expected a ValueError")


def test_tiled_with_output_width_tiles_is_locally_connected():
    """Textbook 9.5: t = output width gives a locally connected layer (one kernel per position)."""
    tiled = sd.nn.TiledConv2d(2, 3, 5, 3, tile_size=3, bias=False, dtype=sd.float64)  # output 3x3
    lc = sd.nn.LocallyConnected2d(2, 3, 5, 3, bias=False, dtype=sd.float64)
    lc.weight.data.copy_(tiled.weight)  # (O, 3, 3, C, kh, kw): same layout when t = 3
    x = sd.randn(2, 2, 5, 5, dtype=sd.float64)
    np.testing.assert_allclose(tiled(x).numpy(), lc(x).numpy(), atol=1e-12)
    assert lc.weight.numel() == 3 * 3 * 3 * 2 * 3 * 3
