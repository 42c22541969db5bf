"""Properties of convolution (textbook 9.1-9.5, 9.8): output sizes per padding mode, equivariance to
shifts, strided = downsampled, true convolution vs cross-correlation, separable kernels, errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu as sd
import shendu.nn.functional as F


@settings(max_examples=40, deadline=None)
@given(size=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 3), d=st.integers(1, 2),
       mode=st.sampled_from(["valid", "same", "full", 0, 1, 2]))
def test_output_size_formula(size, k, s, d, mode):
    ek = d * (k - 1) + 1
    if mode == "valid":
        expect = (size - ek) // s + 1
    elif mode == "same":
        expect = -(-size // s)
    elif mode == "full":
        expect = (size + ek - 1 - 1) // s + 1  # m + k - 1 for stride 1 (textbook 9.4, 'full')
    else:
        expect = (size + 2 * mode - ek) // s + 1
    x = sd.zeros(1, 1, size, 3)
    w = sd.zeros(1, 1, k, 1)
    if expect < 1:
        with pytest.raises(ValueError, match="conv2d"):
            F.conv2d(x, w, stride=(s, 1), padding=mode if isinstance(mode, str) else (mode, 0), dilation=(d, 1))
        return
    y = F.conv2d(x, w, stride=(s, 1), padding=mode if isinstance(mode, str) else (mode, 0), dilation=(d, 1))
    assert y.shape == (1, 1, expect, 3)
    if mode == "same" and s == 1:
        assert y.shape[2] == size


def test_textbook_strided_is_downsampled_unit_stride():
    """Textbook 9.5 (stride): X = 1..25 (5x5), K = ones(3,3): stride 1 and stride 2 values."""
    x = sd.tensor(np.arange(1, 26, dtype=np.float64).reshape(1, 1, 5, 5))
    k = sd.ones(1, 1, 3, 3, dtype=sd.float64)
    y1 = F.conv2d(x, k).numpy()[0, 0]
    y2 = F.conv2d(x, k, stride=2).numpy()[0, 0]
    np.testing.assert_array_equal(y1, [[63, 72, 81], [108, 117, 126], [153, 162, 171]])
    np.testing.assert_array_equal(y2, [[63, 81], [153, 171]])
    np.testing.assert_array_equal(y2, y1[::2, ::2])


def test_translation_equivariance_away_from_borders():
    """conv(shift(x)) = shift(conv(x)) (textbook 9.2, equivariance) for interior positions."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 12, 12))
    w = sd.tensor(rng.standard_normal((3, 2, 3, 3)))
    y = F.conv2d(sd.tensor(x), w, padding=1).numpy()
    ys = F.conv2d(sd.tensor(np.roll(x, (2, 3), axis=(2, 3))), w, padding=1).numpy()
    np.testing.assert_allclose(ys[..., 3:11, 4:11], y[..., 1:9, 1:8], atol=1e-12)


def test_flip_kernel_is_true_convolution():
    scipy_signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal((6, 7)), rng.standard_normal((3, 2))
    for mode in ("valid", "full", "same"):
        y = F.conv2d(sd.tensor(x[None, None]), sd.tensor(k[None, None]), padding=mode, flip_kernel=True).numpy()[0, 0]
        ref = scipy_signal.convolve2d(x, k, mode=mode)
        if mode == "same":  # scipy's 'same' puts an even kernel's extra padding at the start; ours at the end
            assert y.shape == ref.shape
            continue
        np.testing.assert_allclose(y, ref, atol=1e-12)
    # correlation without flip equals scipy's correlate2d
    y = F.conv2d(sd.tensor(x[None, None]), sd.tensor(k[None, None])).numpy()[0, 0]
    np.testing.assert_allclose(y, scipy_signal.correlate2d(x, k, mode="valid"), atol=1e-12)


def test_separable_kernel_fast_path():
    rng = np.random.default_rng(2)
    x = sd.tensor(rng.standard_normal((2, 3, 9, 8)), requires_grad=True)
    col, row = rng.standard_normal((3, 3)), rng.standard_normal((3, 5))
    full = col[:, None, :, None] * row[:, None, None, :]
    y = F.conv2d_separable(x, col, row, padding="same")
    ref = F.conv2d(x, sd.tensor(full), padding="same", groups=3)
    np.testing.assert_allclose(y.numpy(), ref.numpy(), atol=1e-12)
    fc, fr = F.separable_factors(full)
    np.testing.assert_allclose(fc[:, 0, :, None] * fr[:, 0, None, :], full[:, 0], atol=1e-12)
    assert F.separable_factors(rng.standard_normal((2, 1, 3, 3))) is None


def test_shape_errors_name_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"conv2d: input \(1, 3, 8, 8\) has 3 channels"):
        F.conv2d(sd.zeros(1, 3, 8, 8), sd.zeros(4, 2, 3, 3))
    with pytest.raises(ValueError, match="conv2d: expected input"):
        F.conv2d(sd.zeros(8, 8), sd.zeros(4, 2, 3, 3))
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        F.conv2d(sd.zeros(1, 1, 2, 2), sd.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="padding"):
        F.conv2d(sd.zeros(1, 1, 4, 4), sd.zeros(1, 1, 3, 3), padding="middle")
    with pytest.raises(ValueError, match="Conv2d"):
        sd.nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="max_pool2d"):
        F.max_pool2d(sd.zeros(1, 1, 4, 4), 3, padding=2)
    with pytest.raises(ValueError, match="output_padding"):
        F.conv_transpose2d(sd.zeros(1, 2, 3, 3), sd.zeros(2, 2, 3, 3), stride=1, output_padding=1)


def test_fft_convolution_matches_direct_and_gradients():
    """Textbook 9.8: FFT convolution (zero-padded to the full linear size) equals the direct one."""
    rng = np.random.default_rng(3)
    x = sd.tensor(rng.standard_normal((2, 3, 9, 8)), requires_grad=True)
    w = sd.tensor(rng.standard_normal((4, 3, 5, 4)), requires_grad=True)
    b = sd.tensor(rng.standard_normal(4), requires_grad=True)
    for pad in (0, 2, "same", "full"):
        np.testing.assert_allclose(F.conv2d_fft(x, w, b, pad).numpy(), F.conv2d(x, w, b, padding=pad).numpy(),
                                   atol=1e-11)
    from shendu.autograd import gradcheck, gradgradcheck

    assert gradcheck(lambda x, w, b: F.conv2d_fft(x, w, b, 1), (x, w, b))
    assert gradgradcheck(lambda x, w, b: F.conv2d_fft(x, w, b, 1), (x, w, b))
    x32 = sd.randn(1, 2, 12, 12)
    assert F.conv2d_fft(x32, sd.randn(3, 2, 7, 7)).dtype == sd.float32


def test_sobel_kernel_is_separable():
    """Textbook 9.8: conv2d(X, outer(u, v)) == column pass with u after row pass with v.

    Sobel: u=[1,2,1], v=[1,0,-1]."""
    u, v = np.array([1.0, 2.0, 1.0]), np.array([1.0, 0.0, -1.0])
    x = sd.tensor(np.random.default_rng(4).standard_normal((1, 1, 7, 6)))
    full = F.conv2d(x, sd.tensor(np.outer(u, v)[None, None]))
    sep = F.conv2d_separable(x, u[None], v[None])
    np.testing.assert_allclose(sep.numpy(), full.numpy(), atol=1e-12)
    fu, fv = F.separable_factors(np.outer(u, v)[None, None])
    np.testing.assert_allclose(np.outer(fu[0, 0], fv[0, 0]), np.outer(u, v), atol=1e-12)


def test_grouped_output_ignores_other_groups():
    """Textbook 9.5 (restricted connectivity): output channels of group 0 do not depend on group 1's inputs."""
    x = sd.randn(1, 4, 6, 6, dtype=sd.float64, requires_grad=True)
    w = sd.randn(6, 2, 3, 3, dtype=sd.float64)
    F.conv2d(x, w, groups=2)[:, :3].sum().backward()
    g = x.grad.numpy()
    assert np.all(g[:, 2:] == 0) and np.all(np.abs(g[:, :2]).sum(axis=(2, 3)) > 0)
    assert sd.nn.Conv2d(4, 6, 3, groups=2, bias=False).weight.numel() == 6 * 2 * 9
