"""Scalers and whitening against scikit-learn and the formulas; one_hot; load_digits."""
import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import MinMaxScaler as SkMinMax
from sklearn.preprocessing import StandardScaler as SkStandard

from shendu.data.datasets import load_digits
from shendu.data.preprocessing import MinMaxScaler, PCAWhitening, StandardScaler, ZCAWhitening, one_hot


def _data(seed, n=60, d=5):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    return rng.normal(size=(n, d)) @ a + rng.normal(size=d) * 3


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_standard_scaler_matches_sklearn(seed):
    x = _data(seed)
    x[:, 2] = 4.0  # a constant feature: scale 1, as sklearn
    test = _data(seed + 10)
    ours, ref = StandardScaler().fit(x), SkStandard().fit(x)
    np.testing.assert_allclose(ours.mean_, ref.mean_)
    np.testing.assert_allclose(ours.scale_, ref.scale_)
    np.testing.assert_allclose(ours.transform(test), ref.transform(test), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(test)), test, rtol=1e-10)


def test_standard_scaler_float32_and_per_channel_axis():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(8, 3, 4, 4)) * np.array([1.0, 2.0, 3.0])[None, :, None, None] + 5).astype(np.float32)
    sc = StandardScaler(axis=(0, 2, 3)).fit(x)
    assert sc.mean_.shape == (3,)
    z = sc.transform(x)
    assert z.dtype == np.float32
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1, atol=1e-5)
    with pytest.raises(ValueError, match="does not match the fitted data"):
        sc.transform(np.zeros((2, 4, 4, 4), np.float32))
    with pytest.raises(RuntimeError, match="not fitted"):
        StandardScaler().transform(x)


@pytest.mark.parametrize("seed,rng_", [(0, (0.0, 1.0)), (1, (-1.0, 1.0))])
def test_minmax_matches_sklearn(seed, rng_):
    x, test = _data(seed), _data(seed + 5)
    x[:, 0] = 1.0  # zero range
    ours, ref = MinMaxScaler(feature_range=rng_).fit(x), SkMinMax(feature_range=rng_).fit(x)
    np.testing.assert_allclose(ours.transform(test), ref.transform(test), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(test)), test, rtol=1e-10, atol=1e-12)
    clipped = MinMaxScaler(feature_range=rng_, clip=True).fit(x).transform(test)
    assert clipped.min() >= rng_[0] and clipped.max() <= rng_[1]


@pytest.mark.parametrize("seed", [0, 3])
def test_pca_whitening_matches_sklearn_pca(seed):
    x, test = _data(seed, n=80, d=6), _data(seed + 1, n=10, d=6)
    ours = PCAWhitening(n_components=4, eps=0.0).fit(x)
    ref = PCA(n_components=4, whiten=True, svd_solver="full").fit(x)
    a, b = ours.transform(test), ref.transform(test)
    signs = np.sign(np.sum(a * b, axis=0))  # components are defined up to sign
    np.testing.assert_allclose(a * signs, b, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.explained_variance_[:4], ref.explained_variance_, rtol=1e-9)


def test_whitened_covariance_is_identity_and_inverse():
    x = _data(7, n=200, d=5)
    for w in (PCAWhitening(eps=0.0), ZCAWhitening(eps=0.0)):
        z = w.fit_transform(x)
        np.testing.assert_allclose(np.cov(z, rowvar=False), np.eye(5), atol=1e-8)
        np.testing.assert_allclose(w.inverse_transform(z), x, rtol=1e-8, atol=1e-8)
    zca = ZCAWhitening(eps=0.0).fit(x)
    w = zca._w
    np.testing.assert_allclose(w, w.T, atol=1e-10)  # ZCA matrix U S^-1/2 U^T is symmetric
    # eps > 0 shrinks the variances to S / (S + eps) < 1
    z_eps = ZCAWhitening(eps=1.0).fit_transform(x)
    assert np.all(np.linalg.eigvalsh(np.cov(z_eps, rowvar=False)) < 1.0)


def test_zca_keeps_image_shape_and_singular_error():
    rng = np.random.default_rng(0)
    imgs = rng.normal(size=(50, 1, 3, 3)).astype(np.float32)
    z = ZCAWhitening(eps=1e-5).fit_transform(imgs)
    assert z.shape == imgs.shape and z.dtype == np.float32
    dup = np.repeat(rng.normal(size=(30, 2)), 2, axis=1)  # rank 2 in 4 dims
    with pytest.raises(ValueError, match="singular"):
        ZCAWhitening(eps=0.0).fit(dup)
    assert np.all(np.isfinite(ZCAWhitening(eps=1e-3).fit_transform(dup)))


def test_one_hot():
    out = one_hot(np.array([[0, 2], [1, 0]]), 3)
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0, 1], [0, 0, 1])
    np.testing.assert_array_equal(out.argmax(-1), [[0, 2], [1, 0]])
    assert one_hot([3, 1]).shape == (2, 4)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        one_hot([0, 3], 3)
    with pytest.raises(TypeError, match="integers"):
        one_hot([0.5, 1.0], 3)


def test_load_digits_stratified_fixed_split():
    (xtr, ytr), (xte, yte) = load_digits()
    assert xtr.dtype == np.float32 and ytr.dtype == np.int64
    assert xtr.shape[1] == 64 and len(xtr) + len(xte) == 1797
    assert abs(len(xte) - 0.2 * 1797) <= 1
    assert 0.0 <= xtr.min() and xtr.max() <= 1.0 and xtr.max() == 1.0
    np.testing.assert_allclose(np.bincount(yte) / len(yte), np.bincount(ytr) / len(ytr), atol=0.01)
    (xtr2, _), _ = load_digits(flatten=False)
    assert xtr2.shape == (len(xtr), 1, 8, 8)
    np.testing.assert_array_equal(xtr2.reshape(len(xtr), 64), xtr)  # same seeded split
