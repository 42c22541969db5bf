"""Global and local contrast normalization (textbook eqs. 12.1-12.3)."""
import numpy as np
import pytest

from shendu.data.preprocessing import gaussian_kernel1d, global_contrast_normalize, local_contrast_normalize


def test_gcn_worked_vectors():
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 1, 3)  # one 1x1x3 image
    np.testing.assert_allclose(global_contrast_normalize(x, per_example=False).ravel(),
                               [-1.22474487, 0.0, 1.22474487], rtol=1e-7)
    np.testing.assert_allclose(global_contrast_normalize(x, lam=10.0, eps=0.0, per_example=False).ravel(),
                               [-0.30618622, 0.0, 0.30618622], rtol=1e-7)
    img = np.arange(12.0).reshape(2, 2, 3)
    out = global_contrast_normalize(img, per_example=False)
    np.testing.assert_allclose(out.ravel()[:3], [-1.59325501, -1.30357228, -1.01388955], rtol=1e-7)
    np.testing.assert_allclose(out.std(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(global_contrast_normalize(img[None])[0], out)  # batch form, same result


def test_gcn_properties_on_a_batch():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(6, 3, 5, 4))
    s = 2.5
    out = global_contrast_normalize(x, s=s)
    flat = out.reshape(6, -1)
    np.testing.assert_allclose(flat.mean(axis=1), 0, atol=1e-10)
    np.testing.assert_allclose(flat.std(axis=1), s, rtol=1e-10)
    # on a sphere of radius s * sqrt(3rc) in L2 norm
    np.testing.assert_allclose(np.linalg.norm(flat, axis=1), s * np.sqrt(flat.shape[1]), rtol=1e-10)
    # invariant to affine intensity changes aX + b (a > 0) when lam = 0
    np.testing.assert_allclose(global_contrast_normalize(3.0 * x + 7.0, s=s), out, rtol=1e-9, atol=1e-9)
    # lam > 0 moves examples toward the sphere but keeps some variation in norm
    reg = global_contrast_normalize(x / 255.0, lam=0.1).reshape(6, -1)
    assert np.all(np.linalg.norm(reg, axis=1) < np.sqrt(flat.shape[1]))


def test_gcn_constant_image_and_dtype():
    const = np.full((2, 1, 3, 3), 0.7, dtype=np.float32)
    out = global_contrast_normalize(const)
    assert out.dtype == np.float32 and np.all(out == 0)
    assert np.all(global_contrast_normalize(const, eps=0.0, lam=0.0) == 0)  # guarded 0/0, no NaN
    assert global_contrast_normalize(np.arange(6, dtype=np.uint8).reshape(2, 3)).dtype == np.float32
    with pytest.raises(ValueError, match="lam and eps must be >= 0"):
        global_contrast_normalize(const, lam=-1.0)


def test_lcn_matches_scipy_separable_filters():
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(2, 3, 12, 10))
    w = gaussian_kernel1d(7, 1.5)

    def smooth(a):
        return ndimage.correlate1d(ndimage.correlate1d(a, w, axis=-2, mode="reflect"), w, axis=-1, mode="reflect")

    v = x - smooth(x)
    ref = v / np.maximum(1e-2, np.sqrt(0.01 + smooth(v * v)))
    out = local_contrast_normalize(x, size=7, sigma=1.5, lam=0.01, eps=1e-2)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)

    box = np.full(5, 0.2)
    sm = ndimage.correlate1d(ndimage.correlate1d(x, box, axis=-2, mode="reflect"), box, axis=-1, mode="reflect")
    mean_c = sm.mean(axis=1, keepdims=True)
    v = x - mean_c
    var = ndimage.correlate1d(ndimage.correlate1d(v * v, box, axis=-2, mode="reflect"), box, axis=-1,
                              mode="reflect").mean(axis=1, keepdims=True)
    ref = v / np.maximum(1e-3, np.sqrt(var))
    out = local_contrast_normalize(x, size=5, kernel="box", eps=1e-3, across_channels=True)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


def test_lcn_removes_constant_regions_keeps_edges():
    img = np.zeros((16, 16))
    img[:, 8:] = 0.2  # a dark step edge in a "shadow"
    out = local_contrast_normalize(img, size=5, sigma=1.0)
    assert np.abs(out[:, :4]).max() == 0.0 and np.abs(out[:, 12:]).max() == 0.0
    assert np.abs(out[:, 7:9]).min() > 0.5  # the edge is emphasized regardless of its low contrast
    bright = local_contrast_normalize(img * 5.0, size=5, sigma=1.0)
    np.testing.assert_allclose(bright, out, atol=1e-9)  # same response for a bright edge


def test_lcn_errors():
    with pytest.raises(ValueError, match="odd"):
        local_contrast_normalize(np.zeros((4, 4)), size=4)
    with pytest.raises(ValueError, match="kernel"):
        local_contrast_normalize(np.zeros((4, 4)), kernel="disk")
    with pytest.raises(ValueError, match="at least 3 dims"):
        local_contrast_normalize(np.zeros((4, 4)), across_channels=True)
