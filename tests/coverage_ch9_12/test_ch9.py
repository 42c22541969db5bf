"""Chapter 9 rows of docs/coverage.md: worked vectors W9.1/2/4/5/16, conv as a Toeplitz / circulant matrix,
distance-weighted / cross-channel / adaptive max / learned pooling, untied biases, Fig 9.11 nets, AlexNet,
ZFNet, GoogLeNet, SENet."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.autograd.gradcheck import gradcheck
from shendu.models import (
    GOOGLENET_V1,
    AlexNet,
    FixedSizeConvNet,
    FullyConvNet,
    GoogLeNet,
    Inception,
    SEBlock,
    SEResNet,
    VariableSizeConvNet,
    ZFNet,
)
from shendu.nn.layers.cnn_extras import (
    AdaptiveMaxPool2d,
    CrossChannelPool2d,
    DistanceWeightedAvgPool2d,
    LearnedPool2d,
    UntiedBiasConv2d,
    adaptive_max_pool2d,
    conv_matrix,
    distance_weighted_avg_pool2d,
)


def t(a, dtype=np.float32, **kw):
    return sd.tensor(np.asarray(a, dtype=dtype), **kw)


def n_params(m):
    return sum(int(np.prod(p.shape)) for p in m.parameters())


# ----------------------------------------------------------------- worked vectors
def test_w9_1_one_d_xcorr_true_conv_and_full_conv():
    x, k = t([[[1, 2, 3, 4]]]), t([[[1, 0, -1]]])
    assert F.conv1d(x, k).numpy().ravel().tolist() == [-2, -2]
    assert F.conv1d(x, k, flip_kernel=True).numpy().ravel().tolist() == [2, 2]
    assert F.conv1d(x, k, padding=2, flip_kernel=True).numpy().ravel().tolist() == [1, 2, 2, 2, -3, -4]
    assert F.conv1d(x, k, padding=2).numpy().ravel().tolist() == [-1, -2, -2, -2, 3, 4]
    # the same through the Toeplitz matrix of the 1-D kernel
    T = conv_matrix(t([1, 0, -1]), (4,))
    assert (T @ t([1, 2, 3, 4])).numpy().tolist() == [-2, -2]


def test_w9_2_two_d_xcorr_true_conv_and_full():
    x = t(np.arange(1, 13).reshape(1, 1, 3, 4))
    k = t([[[[1, 2], [3, 4]]]])
    np.testing.assert_array_equal(F.conv2d(x, k).numpy()[0, 0], [[44, 54, 64], [84, 94, 104]])
    np.testing.assert_array_equal(F.conv2d(x, k, flip_kernel=True).numpy()[0, 0], [[26, 36, 46], [66, 76, 86]])
    full = F.conv2d(x, k, padding=1, flip_kernel=True).numpy()[0, 0]
    np.testing.assert_array_equal(full, [[1, 4, 7, 10, 8], [8, 26, 36, 46, 32], [24, 66, 76, 86, 56],
                                         [27, 66, 73, 80, 48]])


def test_w9_4_toeplitz_matrix_times_x_is_the_convolution_and_has_block_toeplitz_structure():
    rng = np.random.default_rng(0)
    x, k = rng.normal(size=(5, 6)).astype(np.float32), rng.normal(size=(2, 3)).astype(np.float32)
    T = conv_matrix(t(k), (5, 6))
    assert tuple(T.shape) == (4 * 4, 5 * 6)
    y = (T @ t(x.reshape(-1))).numpy().reshape(4, 4)
    np.testing.assert_allclose(y, F.conv2d(t(x[None, None]), t(k[None, None])).numpy()[0, 0], rtol=1e-5, atol=1e-5)
    yf = (conv_matrix(t(k), (5, 6), flip_kernel=True) @ t(x.reshape(-1))).numpy().reshape(4, 4)
    np.testing.assert_allclose(yf, F.conv2d(t(x[None, None]), t(k[None, None]), flip_kernel=True).numpy()[0, 0],
                               rtol=1e-5, atol=1e-5)
    # doubly block Toeplitz: block (i, r) depends only on r - i, and each block is Toeplitz (entry depends on c - j)
    B = T.numpy().reshape(4, 4, 5, 6)
    for i in range(4):
        for r in range(5):
            blk = B[i, :, r, :]
            np.testing.assert_array_equal(blk, B[0, :, r - i, :] if 0 <= r - i < 5 else blk)
            for j in range(4):
                for c in range(6):
                    if 0 <= c - j < 3 and 0 <= r - i < 2:
                        assert blk[j, c] == k[r - i, c - j]
                    else:
                        assert blk[j, c] == 0


def test_doubly_block_circulant_matrix_is_the_wraparound_convolution_and_diagonalised_by_the_dft():
    rng = np.random.default_rng(1)
    x, k = rng.normal(size=(4, 5)), rng.normal(size=(3, 3))
    C = conv_matrix(t(k, np.float64), (4, 5), circular=True, flip_kernel=True).numpy()
    kp = np.zeros((4, 5))
    kp[:3, :3] = k
    circ = np.real(np.fft.ifft2(np.fft.fft2(x) * np.fft.fft2(kp)))   # circular true convolution
    np.testing.assert_allclose((C @ x.reshape(-1)).reshape(4, 5), circ, atol=1e-12)
    # block circulant with circulant blocks: shifting the input by one row/col shifts the output the same way
    sx = np.roll(x, (1, 2), axis=(0, 1))
    np.testing.assert_allclose((C @ sx.reshape(-1)).reshape(4, 5), np.roll(circ, (1, 2), axis=(0, 1)), atol=1e-12)


def test_conv_matrix_gradcheck_in_the_kernel_and_errors():
    x = t(np.random.default_rng(2).normal(size=(16,)), np.float64)
    k = t(np.random.default_rng(3).normal(size=(2, 2)), np.float64, requires_grad=True)
    assert gradcheck(lambda kk: conv_matrix(kk, (4, 4)) @ x, [k])
    with pytest.raises(ValueError, match="conv_matrix"):
        conv_matrix(t(np.ones((5, 5))), (3, 3))
    with pytest.raises(TypeError, match="conv_matrix"):
        conv_matrix(np.ones((2, 2)), (3, 3))


def test_w9_5_max_pool_invariance_two_of_four_outputs_change():
    d = t([[[0.1, 1.0, 0.2, 0.1, 0.0, 0.3]]])
    shifted = t([[[0.0, 0.1, 1.0, 0.2, 0.1, 0.0]]])
    p = F.max_pool1d(d, 3, 1).numpy().ravel()
    ps = F.max_pool1d(shifted, 3, 1).numpy().ravel()
    np.testing.assert_allclose(p, [1.0, 1.0, 0.2, 0.3])
    np.testing.assert_allclose(ps, [1.0, 1.0, 1.0, 0.2])
    assert np.all(d.numpy() != shifted.numpy())          # every detector value changed
    assert int(np.sum(~np.isclose(p, ps))) == 2          # only 2 of 4 pooled outputs did


def test_w9_16_shared_weights_520_parameters_vs_23550_and_output_sizes():
    conv = nn.Conv2d(1, 20, 5)
    assert n_params(conv) == 520
    assert n_params(nn.Linear(28 * 28, 30)) == 23550
    y = conv(sd.zeros(2, 1, 28, 28))
    assert tuple(y.shape) == (2, 20, 24, 24)
    assert tuple(nn.MaxPool2d(2)(y).shape) == (2, 20, 12, 12)


# ----------------------------------------------------------------- pooling variants
def test_distance_weighted_pool_weights_centre_more_and_keeps_constants():
    x = np.zeros((1, 1, 3, 3), np.float32)
    x[0, 0, 1, 1] = 1.0                              # only the centre pixel
    c = distance_weighted_avg_pool2d(t(x), 3, sigma=1.0).numpy().item()
    x2 = np.zeros_like(x)
    x2[0, 0, 0, 0] = 1.0                             # only a corner pixel
    corner = distance_weighted_avg_pool2d(t(x2), 3, sigma=1.0).numpy().item()
    g = np.exp(-np.array([[2, 1, 2], [1, 0, 1], [2, 1, 2]]) / 2.0)
    np.testing.assert_allclose([c, corner], [g[1, 1] / g.sum(), g[0, 0] / g.sum()], rtol=1e-6)
    assert c > 1 / 9 > corner                        # unlike the plain average
    ones = DistanceWeightedAvgPool2d(2)(sd.ones(2, 3, 6, 6))
    np.testing.assert_allclose(ones.numpy(), 1.0, rtol=1e-6)
    assert tuple(ones.shape) == (2, 3, 3, 3)
    xx = t(np.random.default_rng(0).normal(size=(1, 2, 4, 4)), np.float64, requires_grad=True)
    assert gradcheck(lambda a: distance_weighted_avg_pool2d(a, 3, 1, sigma=0.7), [xx])


def test_cross_channel_pool_over_rotated_filters_is_rotation_invariant():
    rng = np.random.default_rng(0)
    layer = CrossChannelPool2d(1, 1, 3, pieces=4, bias=False)
    k = rng.normal(size=(3, 3)).astype(np.float32)
    layer.conv.weight.data[...] = np.stack([np.rot90(k, r) for r in range(4)])[:, None]
    img = rng.normal(size=(1, 1, 9, 9)).astype(np.float32)
    g = nn.GlobalMaxPool2d()
    a = g(layer(t(img))).numpy()
    b = g(layer(t(np.rot90(img, 1, axes=(2, 3)).copy()))).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-5)
    # a single filter (pieces=1) is not invariant
    single = nn.Conv2d(1, 1, 3, bias=False)
    single.weight.data[...] = k[None, None]
    assert not np.allclose(g(single(t(img))).numpy(), g(single(t(np.rot90(img, 1, axes=(2, 3)).copy()))).numpy())
    # the max over channel groups, gradchecked
    xx = t(rng.normal(size=(1, 1, 4, 4)), np.float64, requires_grad=True)
    lay64 = CrossChannelPool2d(1, 2, 3, pieces=2)
    lay64.to(sd.float64)
    assert gradcheck(lambda a: lay64(a), [xx])


def test_adaptive_max_pool_fixed_grid_for_any_size_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for h, w, out in ((32, 32, 2), (57, 43, 2), (10, 7, 3), (9, 9, (3, 2))):
        x = rng.normal(size=(2, 3, h, w)).astype(np.float32)
        xs = t(x, requires_grad=True)
        y = AdaptiveMaxPool2d(out)(xs)
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.adaptive_max_pool2d(xt, out)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy())
        g = rng.normal(size=tuple(yt.shape)).astype(np.float32)
        y.backward(t(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy())
    # quadrants: one statistic per quadrant
    q = np.zeros((1, 1, 6, 6), np.float32)
    q[0, 0, 0, 5], q[0, 0, 4, 1] = 7, 3
    np.testing.assert_array_equal(adaptive_max_pool2d(t(q), 2).numpy()[0, 0], [[0, 7], [3, 0]])
    with pytest.raises(ValueError, match="adaptive_max_pool2d"):
        adaptive_max_pool2d(sd.zeros(1, 1, 2, 2), 3)


def test_learned_pool_starts_as_average_pooling_and_learns_a_corner_selection():
    rng = np.random.default_rng(0)
    lp = LearnedPool2d(2, 2)
    x = t(rng.normal(size=(4, 2, 6, 6)))
    np.testing.assert_allclose(lp(x).numpy(), nn.AvgPool2d(2)(x).numpy(), rtol=1e-5, atol=1e-6)
    xx = t(rng.normal(size=(1, 2, 4, 4)), np.float64, requires_grad=True)
    lp64 = LearnedPool2d(2, 2, dtype=sd.float64)
    lp64.logits.data[...] = rng.normal(size=(2, 4))
    assert gradcheck(lambda a: lp64(a), [xx])
    assert gradcheck(lambda a: lp64(xx.detach()), [lp64.logits])
    # target: the top-left pixel of each window; the learned weights move onto that position
    opt = sd.optim.Adam(lp.parameters(), lr=0.1)
    for _ in range(150):
        xb = t(rng.normal(size=(8, 2, 6, 6)))
        loss = ((lp(xb) - xb[:, :, ::2, ::2]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    w = lp.pool_weights().numpy()
    assert np.all(w[:, 0] > 0.9), w
    np.testing.assert_allclose(w.sum(1), 1.0, rtol=1e-5)


def test_untied_bias_conv_has_one_bias_per_location_and_gradchecks():
    layer = UntiedBiasConv2d(2, 3, 3, (5, 5), padding=1)
    assert tuple(layer.bias.shape) == (3, 5, 5)
    assert n_params(layer) == 3 * 2 * 9 + 3 * 25
    x = t(np.random.default_rng(0).normal(size=(2, 2, 5, 5)))
    ref = F.conv2d(x, layer.conv.weight, None, 1, 1).numpy() + layer.bias.numpy()[None]
    np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-5, atol=1e-6)
    # a border unit can learn its own bias (the zero-padding correction of the text)
    layer.bias.data[...] = 0
    layer.bias.data[:, 0, 0] = 5.0
    out = layer(sd.zeros(1, 2, 5, 5)).numpy()
    assert out[0, :, 0, 0].tolist() == [5, 5, 5] and np.all(out[0, :, 1:, :] == 0)
    with pytest.raises(ValueError, match="UntiedBiasConv2d"):
        layer(sd.zeros(1, 2, 6, 6))
    l64 = UntiedBiasConv2d(1, 2, 2, (3, 3), dtype=sd.float64)
    xx = t(np.random.default_rng(1).normal(size=(1, 1, 3, 3)), np.float64, requires_grad=True)
    assert gradcheck(lambda a, b: l64(a), [xx, l64.bias])


# ----------------------------------------------------------------- Fig 9.11 and classic nets
def test_fig_9_11_three_architectures_and_the_576_unit_vector():
    fixed = FixedSizeConvNet(num_classes=5, image_size=32, width=8)
    assert fixed.n_flat == 8 * 2 * 2 and tuple(fixed(sd.zeros(2, 3, 32, 32)).shape) == (2, 5)
    assert FixedSizeConvNet().fc.weight.shape[1] == 16384         # the figure: 16 x 16 x 64
    var = VariableSizeConvNet(num_classes=5)
    assert var.n_flat == 576 and var.fc.weight.shape[1] == 576
    for h, w in ((24, 24), (37, 29)):
        feats = var.features(sd.zeros(1, 3, h, w))
        assert tuple(feats.shape) == (1, 64, 3, 3)
        assert tuple(var(sd.zeros(1, 3, h, w)).shape) == (1, 5)
    fc = FullyConvNet(num_classes=4, width=8)
    for h, w in ((16, 16), (40, 24)):
        assert tuple(fc(sd.zeros(2, 3, h, w)).shape) == (2, 4)
    assert not any(isinstance(m, nn.Linear) for m in fc.modules())


def test_alexnet_parameter_count_and_zfnet_shapes_with_lrn():
    torch = pytest.importorskip("torch")
    net = AlexNet(width=0.125, hidden=32, num_classes=7)
    assert tuple(net(sd.zeros(1, 3, 227, 227)).shape) == (1, 7)
    assert sum(isinstance(m, nn.LocalResponseNorm) for m in net.modules()) == 2
    # the full single-tower AlexNet: 62,378,344 parameters (the ~60 M of the paper), counted from the config
    widths = [3, 96, 256, 384, 384, 256]
    ks = [11, 5, 3, 3, 3]
    conv = sum(widths[i] * widths[i + 1] * ks[i] ** 2 + widths[i + 1] for i in range(5))
    fcs = 9216 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000
    assert conv + fcs == 62378344
    small = AlexNet(width=0.125, hidden=32, num_classes=7)
    expect = sum(int(np.prod(p.shape)) for p in small.parameters())
    w = [3] + [max(1, round(c * 0.125)) for c in widths[1:]]
    assert expect == sum(w[i] * w[i + 1] * ks[i] ** 2 + w[i + 1] for i in range(5)) + \
        (w[5] * 36 * 32 + 32) + (32 * 32 + 32) + (32 * 7 + 7)
    # LRN as AlexNet uses it (size 5, alpha 1e-4, beta 0.75, k 2) matches torch
    x = np.random.default_rng(0).normal(size=(2, 12, 5, 5)).astype(np.float32) * 10
    lrn = nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)
    np.testing.assert_allclose(lrn(t(x)).numpy(),
                               torch.nn.LocalResponseNorm(5, 1e-4, 0.75, 2.0)(torch.tensor(x)).numpy(), rtol=1e-5)
    zf = ZFNet(width=0.125, hidden=32, num_classes=3)
    assert zf.features[0].kernel_size == (7, 7) and zf.features[0].stride == (2, 2)
    assert tuple(zf(sd.zeros(1, 3, 224, 224)).shape) == (1, 3)


def test_inception_block_branches_concatenate_and_googlenet_table_widths():
    blk = Inception(192, *GOOGLENET_V1["3a"])
    assert blk.out_channels == 256
    y = blk(sd.zeros(1, 192, 7, 7))
    assert tuple(y.shape) == (1, 256, 7, 7)
    assert n_params(blk) == 163696
    outs = []
    for cfg in GOOGLENET_V1.values():
        c = cfg[0] + cfg[2] + cfg[4] + cfg[5]
        outs.append(c)
    assert outs == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    x = np.random.default_rng(0).normal(size=(1, 4, 6, 6)).astype(np.float32)
    b = Inception(4, 2, 2, 3, 1, 2, 1)
    ref = np.concatenate([b.b1(t(x)).numpy(), b.b2(t(x)).numpy(), b.b3(t(x)).numpy(), b.b4(t(x)).numpy()], 1)
    np.testing.assert_allclose(b(t(x)).numpy(), ref)
    small = GoogLeNet(num_classes=10, in_channels=1, stages=("3a", "3b"), small_stem=True)
    assert small.out_channels == 480 and tuple(small(sd.zeros(2, 1, 8, 8)).shape) == (2, 10)
    full = GoogLeNet(num_classes=10, stages=("3a", "3b", "4a"))
    assert tuple(full(sd.zeros(1, 3, 64, 64)).shape) == (1, 10)


def test_se_block_formula_matches_torch_and_gradchecks():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    se = SEBlock(8, reduction=4)
    x = rng.normal(size=(2, 8, 3, 3)).astype(np.float32)
    w1, b1, w2, b2 = (torch.tensor(p.numpy()) for p in (se.fc1.weight, se.fc1.bias, se.fc2.weight, se.fc2.bias))
    xt = torch.tensor(x, requires_grad=True)
    s = torch.sigmoid(torch.relu(xt.mean((2, 3)) @ w1.T + b1) @ w2.T + b2)
    yt = xt * s[:, :, None, None]
    xs = t(x, requires_grad=True)
    y = se(xs)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = rng.normal(size=x.shape).astype(np.float32)
    y.backward(t(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-6)
    se64 = SEBlock(4, 2)
    se64.to(sd.float64)
    xx = t(rng.normal(size=(1, 4, 2, 2)), np.float64, requires_grad=True)
    assert gradcheck(lambda a: se64(a), [xx])


def test_se_resnet_learns_digits():
    from shendu.data.datasets import load_digits
    sd.manual_seed(0)
    (Xtr, ytr), (Xte, yte) = load_digits(flatten=False)
    net = SEResNet(blocks=(1, 1), widths=(8, 16), num_classes=10, in_channels=1, reduction=4)
    assert sum(isinstance(m, SEBlock) for m in net.modules()) == 2
    opt = sd.optim.Adam(net.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    for _ in range(3):
        for idx in np.array_split(rng.permutation(len(Xtr)), 20):
            loss = F.cross_entropy(net(t(Xtr[idx])), sd.tensor(ytr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    acc = float((net(t(Xte)).numpy().argmax(1) == yte).mean())
    assert acc > 0.85, acc



def test_vgg_16_19_configurations_and_bottleneck_resnet_50_101_152():
    from shendu.models import Bottleneck, resnet_bottleneck, vgg
    for depth, n_conv, conv_params in ((16, 13, 14714688), (19, 16, 20024384)):
        net = vgg(depth, batch_norm=False)
        convs = [m for m in net.features.modules() if isinstance(m, nn.Conv2d)]
        assert len(convs) == n_conv and n_conv + 3 == depth
        assert sum(n_params(c) for c in convs) == conv_params          # torchvision's VGG features
    small = vgg(16, num_classes=3, width=0.0625, hidden=16)
    assert tuple(small(sd.zeros(1, 3, 32, 32)).shape) == (1, 3)
    r50 = resnet_bottleneck(50)
    assert n_params(r50) == 25557032                                   # torchvision's resnet50
    for depth in (50, 101, 152):
        r = resnet_bottleneck(depth, num_classes=5, width=0.0625)
        n_blocks = sum(isinstance(m, Bottleneck) for m in r.modules())
        assert 3 * n_blocks + 2 == depth
    tiny = resnet_bottleneck(50, num_classes=5, width=0.0625)
    assert tuple(tiny(sd.zeros(1, 3, 64, 64)).shape) == (1, 5)
    # with the last BN's scale at zero, an identity-shortcut block is relu(x)
    blk = Bottleneck(16, 4)
    blk.eval()
    blk.bn3.weight.data[...] = 0
    blk.bn3.bias.data[...] = 0
    x = t(np.random.default_rng(0).normal(size=(2, 16, 5, 5)))
    np.testing.assert_allclose(blk(x).numpy(), np.maximum(x.numpy(), 0), atol=1e-6)


def _toy_detection(n, rng, size=16):
    x = np.zeros((n, 3, size, size), np.float32)
    boxes, labels = [], []
    for _ in range(n):
        c, s = int(rng.integers(3)), int(rng.integers(3, 7))
        x0, y0 = int(rng.integers(0, size - s + 1)), int(rng.integers(0, size - s + 1))
        x[len(boxes), c, y0:y0 + s, x0:x0 + s] = 1.0
        boxes.append([((x0 + s / 2) / size, (y0 + s / 2) / size, s / size, s / size)])
        labels.append([c])
    return x + rng.normal(0, 0.05, x.shape).astype(np.float32), boxes, labels


def test_yolo_loss_formula_encode_decode_and_gradcheck():
    from shendu.models import box_iou, decode, encode_targets, yolo_loss
    tgt = encode_targets([[(0.3, 0.6, 0.2, 0.1)], []], [[2], []], grid=4, num_classes=3)
    assert tgt[0, 2, 1].tolist() == pytest.approx([0.2, 0.4, 0.2, 0.1, 1, 0, 0, 1])
    assert tgt[0].sum() == pytest.approx(sum(tgt[0, 2, 1])) and tgt[1].sum() == 0
    logit = np.log(np.clip(tgt, 1e-6, 1 - 1e-6) / (1 - np.clip(tgt, 1e-6, 1 - 1e-6)))
    (cx, cy, w, h, conf, cls), = decode(logit, 0.5)[0]
    assert (cx, cy, w, h, cls) == pytest.approx((0.3, 0.6, 0.2, 0.1, 2), abs=1e-5) and decode(logit, 0.5)[1] == []
    assert box_iou((0.5, 0.5, 0.2, 0.2), (0.6, 0.5, 0.2, 0.2)) == pytest.approx(1 / 3)
    rng = np.random.default_rng(0)
    raw = rng.normal(size=tgt.shape)
    sg = 1 / (1 + np.exp(-raw[..., :5]))
    p = np.exp(raw[..., 5:]) / np.exp(raw[..., 5:]).sum(-1, keepdims=True)
    obj = tgt[..., 4]
    coord = (sg[..., 0] - tgt[..., 0]) ** 2 + (sg[..., 1] - tgt[..., 1]) ** 2 + \
        (np.sqrt(sg[..., 2]) - np.sqrt(tgt[..., 2])) ** 2 + (np.sqrt(sg[..., 3]) - np.sqrt(tgt[..., 3])) ** 2
    ref = (obj * (5 * coord + (sg[..., 4] - 1) ** 2 + ((p - tgt[..., 5:]) ** 2).sum(-1))
           + (1 - obj) * 0.5 * sg[..., 4] ** 2).sum() / 2
    assert yolo_loss(t(raw, np.float64), t(tgt, np.float64)).numpy() == pytest.approx(ref, rel=1e-6)
    r = t(raw, np.float64, requires_grad=True)
    assert gradcheck(lambda a: yolo_loss(a, t(tgt, np.float64)), [r])


def test_tiny_yolo_learns_to_localise_and_classify_toy_objects():
    from shendu.models import TinyYOLO, box_iou, decode, encode_targets, yolo_loss
    rng = np.random.default_rng(0)
    xtr, btr, ltr = _toy_detection(600, rng)
    xte, bte, lte = _toy_detection(100, rng)
    ttr = encode_targets(btr, ltr, 4, 3)
    sd.manual_seed(0)
    net = TinyYOLO(3, widths=(16, 32))
    opt = sd.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(12):
        for idx in np.array_split(rng.permutation(600), 12):
            loss = yolo_loss(net(t(xtr[idx])), t(ttr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    dets = decode(net(t(xte)), 0.0)
    ious = np.array([box_iou(d[0][:4], b[0]) for d, b in zip(dets, bte)])
    cls = np.mean([d[0][5] == lab[0] for d, lab in zip(dets, lte)])
    assert ious.mean() > 0.6 and (ious > 0.5).mean() > 0.85 and cls > 0.9, (ious.mean(), (ious > 0.5).mean(), cls)


def _support(net, c_in, size):
    """Input pixels that influence the centre output of ``net`` (the receptive field), as a bool (size, size)."""
    x = sd.tensor(np.random.default_rng(0).normal(size=(1, c_in, size, size)), requires_grad=True)
    y = net(x)
    y[0, 0, size // 2, size // 2].backward()
    return np.abs(x.grad.numpy()[0]).sum(0) > 0


def test_inception_v2_v3_factorisations_and_inception_resnet_block():
    from shendu.models import InceptionResNetBlock, InceptionV2, InceptionV3
    # v2: two 3x3 convolutions see a 5x5 window with 18 c^2 instead of 25 c^2 weights
    two = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1, bias=False), nn.Conv2d(4, 4, 3, padding=1, bias=False))
    two.to(sd.float64)
    one = nn.Conv2d(4, 4, 5, padding=2, bias=False)
    one.to(sd.float64)
    np.testing.assert_array_equal(_support(two, 4, 9), _support(one, 4, 9))
    assert _support(two, 4, 9).sum() == 25 and n_params(two) == 18 * 16 and n_params(one) == 25 * 16
    # v3: 1 x n then n x 1 covers n x n with 2n weights per channel pair
    asym = nn.Sequential(nn.Conv2d(2, 2, (1, 7), padding=(0, 3), bias=False),
                         nn.Conv2d(2, 2, (7, 1), padding=(3, 0), bias=False))
    asym.to(sd.float64)
    assert _support(asym, 2, 11).sum() == 49 and n_params(asym) == 2 * 7 * 4
    b2 = InceptionV2(8, 4, 3, 5, 2, 6, 3)
    assert b2.out_channels == 18 and tuple(b2(sd.zeros(2, 8, 7, 7)).shape) == (2, 18, 7, 7)
    b3 = InceptionV3(8, 4, 3, 5, 2, n=5)
    assert b3.out_channels == 16 and tuple(b3(sd.zeros(2, 8, 9, 9)).shape) == (2, 16, 9, 9)
    # Inception-ResNet: y = relu(x + scale * branch); scale 0 leaves relu(x)
    r = InceptionResNetBlock(6, branch=4, scale=0.0)
    x = t(np.random.default_rng(1).normal(size=(2, 6, 5, 5)))
    np.testing.assert_allclose(r(x).numpy(), np.maximum(x.numpy(), 0))
    r.scale = 0.2
    r.eval()
    branch = r.up(sd.cat([r.b1(x), r.b2(x), r.b3(x)], dim=1)).numpy()
    np.testing.assert_allclose(r(x).numpy(), np.maximum(x.numpy() + 0.2 * branch, 0), rtol=1e-5, atol=1e-6)


def test_roi_pool_nms_box_coding_and_smooth_l1():
    torch = pytest.importorskip("torch")
    from shendu.models import box_iou_xyxy, decode_boxes, encode_boxes, nms, roi_pool, smooth_l1
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(2, 3, 8, 8))
    rois = np.array([[0, 0, 0, 7, 7], [1, 2, 2, 5, 6], [0, 1.2, 0.6, 3.4, 3.9]])
    xs = t(feats, np.float64, requires_grad=True)
    out = roi_pool(xs, rois, 2).numpy()
    # by hand: box 1 covers rows 2..6, cols 2..5 of image 1, max-pooled to 2x2 (torch's adaptive regions)
    ref = torch.nn.functional.adaptive_max_pool2d(torch.tensor(feats[1:2, :, 2:7, 2:6]), 2).numpy()[0]
    np.testing.assert_allclose(out[1], ref)
    np.testing.assert_allclose(out[0], torch.nn.functional.adaptive_max_pool2d(torch.tensor(feats[:1]), 2)[0])
    np.testing.assert_allclose(out[2], torch.nn.functional.adaptive_max_pool2d(
        torch.tensor(feats[:1, :, 1:5, 1:4]), 2)[0])
    assert roi_pool(xs, [[0, 3, 3, 3, 3]], 2).shape == (1, 3, 2, 2)   # a one-cell region is repeated
    assert gradcheck(lambda a: roi_pool(a, rois, 2), [xs])
    # greedy NMS
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9]])
    scores = np.array([0.9, 0.8, 0.7, 0.95])
    assert nms(boxes, scores, 0.5).tolist() == [3, 2]
    assert nms(boxes, scores, 0.95).tolist() == [3, 0, 1, 2]
    assert box_iou_xyxy([0, 0, 2, 2], [1, 0, 3, 2])[0, 0] == pytest.approx(1 / 3)
    # R-CNN box parametrisation: decode(encode) is the identity; known deltas
    p, g = rng.uniform(0, 5, (5, 2)), rng.uniform(0, 5, (5, 2))
    p, g = np.hstack([p, p + rng.uniform(1, 4, (5, 2))]), np.hstack([g, g + rng.uniform(1, 4, (5, 2))])
    np.testing.assert_allclose(decode_boxes(p, encode_boxes(p, g)), g, atol=1e-12)
    np.testing.assert_allclose(encode_boxes([[0, 0, 2, 4]], [[1, 1, 3, 5]]), [[0.5, 0.25, 0, 0]])
    np.testing.assert_allclose(smooth_l1(t([-3.0, -0.5, 0.0, 0.2, 2.0])).numpy(), [2.5, 0.125, 0, 0.02, 1.5],
                               rtol=1e-6)


def _toy_proposals(gts, labels, rng, size=16):
    """Two jittered ground-truth boxes (IoU > 0.5, class + 1) and three background boxes (IoU < 0.3) per image."""
    from shendu.models import box_iou_xyxy
    rois, cls = [], []
    for i, (g, lab) in enumerate(zip(gts, labels)):
        cx, cy, w, h = g[0]
        gt = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]) * size
        n_pos = 0
        while n_pos < 2:
            j = gt + rng.normal(0, 1.0, 4)
            if j[2] - j[0] > 1 and j[3] - j[1] > 1 and box_iou_xyxy(j, gt)[0, 0] > 0.5:
                rois.append([i, *j])
                cls.append(lab[0] + 1)
                n_pos += 1
        n_neg = 0
        while n_neg < 3:
            s = rng.uniform(3, 7)
            x0, y0 = rng.uniform(0, size - s, 2)
            j = np.array([x0, y0, x0 + s, y0 + s])
            if box_iou_xyxy(j, gt)[0, 0] < 0.3:
                rois.append([i, *j])
                cls.append(0)
                n_neg += 1
    return np.array(rois), np.array(cls, np.int64)


def test_fast_rcnn_classifies_region_proposals_of_toy_objects():
    from shendu.models import FastRCNN
    rng = np.random.default_rng(0)
    xtr, btr, ltr = _toy_detection(200, rng)
    xte, bte, lte = _toy_detection(60, rng)
    sd.manual_seed(0)
    net = FastRCNN(3)
    opt = sd.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(5):
        for idx in np.array_split(rng.permutation(200), 8):
            rois, cls = _toy_proposals([btr[i] for i in idx], [ltr[i] for i in idx], rng)
            loss = F.cross_entropy(net(t(xtr[idx]), rois)[0], sd.tensor(cls))
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    rois, cls = _toy_proposals(bte, lte, rng)
    logits, deltas = net(t(xte), rois)
    assert tuple(deltas.shape) == (len(rois), 4)
    acc = (logits.numpy().argmax(1) == cls).mean()
    assert acc > 0.9, acc      # background vs three object classes, chance about 0.4
