"""Chapter 12.2.1 rows: range-mix warning, resize, test-time augmentation, mean-image subtraction, PCA colour
jitter, elastic distortions."""
import warnings

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.data import DataLoader, TensorDataset
from shendu.data.datasets import load_digits
from shendu.data.preprocessing import StandardScaler
from shendu.data.transforms import (
    ElasticDistortion,
    PCAColorJitter,
    RangeCheck,
    Resize,
    elastic_field,
    fit_pca_color,
    flip_views,
    resize,
    ten_crop_views,
    tta_predict,
    warp_by_field,
)


def test_range_check_warns_once_when_unit_and_255_batches_are_mixed():
    rc = RangeCheck()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rc(np.random.rand(4, 3, 5, 5))           # [0, 1] batches: silent
        rc(np.random.rand(4, 3, 5, 5))
    with pytest.warns(UserWarning, match=r"\[0, 1\] and to \[0, 255\] are mixed"):
        rc(np.random.rand(4, 3, 5, 5) * 255)
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # only once
        rc(np.random.rand(4, 3, 5, 5) * 255)
        rc(np.random.rand(4, 3, 5, 5))
        RangeCheck()(np.full((2, 2), 200.0))     # only 255-scaled: silent
    # in a DataLoader: the 3rd batch comes unscaled
    x = np.random.rand(12, 1, 4, 4).astype(np.float32)
    x[8:] *= 255
    loader = DataLoader(TensorDataset(x, np.zeros(12, np.int64)), batch_size=4, transform=RangeCheck())
    with pytest.warns(UserWarning, match="RangeCheck"):
        for _ in loader:
            pass


def test_resize_matches_torch_bilinear_and_nearest_and_rescale():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).random((2, 3, 7, 9)).astype(np.float32)
    for size in ((14, 18), (4, 5), (7, 9), (10, 3)):
        for mode in ("bilinear", "nearest"):
            ref = torch.nn.functional.interpolate(torch.tensor(x), size=size, mode=mode,
                                                  **({"align_corners": False} if mode == "bilinear" else {}))
            np.testing.assert_allclose(resize(x, size, mode), ref.numpy(), rtol=1e-5, atol=1e-6)
    assert Resize(scale=0.5)(x).shape == (2, 3, 3, 4)
    assert Resize((16, 16))(x[0]).shape == (3, 16, 16)
    np.testing.assert_allclose(resize(x, (7, 9)), x)        # same size = identity
    with pytest.raises(ValueError, match="Resize"):
        Resize()


def _trained_digit_mlp():
    (xtr, ytr), (xte, yte) = load_digits(flatten=False)
    sd.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = sd.optim.Adam(net.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    for _ in range(15):
        for idx in np.array_split(rng.permutation(len(xtr)), 12):
            loss = F.cross_entropy(net(sd.tensor(xtr[idx])), sd.tensor(ytr[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    return net, xte, yte


def test_test_time_augmentation_averages_views_and_helps_on_shifted_digits():
    net, xte, yte = _trained_digit_mlp()

    def predict(x):
        return F.softmax(net(sd.tensor(np.ascontiguousarray(x, dtype=np.float32))), dim=1)

    # the average of the views' predictions, exactly
    views = flip_views()
    p = tta_predict(predict, xte, views)
    manual = (predict(xte).numpy() + predict(xte[..., ::-1].copy()).numpy()) / 2
    np.testing.assert_allclose(p, manual, rtol=1e-5)
    # test images shifted one pixel right: averaging over small shifts recovers accuracy
    shifted = np.zeros_like(xte)
    shifted[..., 1:] = xte[..., :-1]

    def shift(dx):
        def f(x):
            out = np.zeros_like(x)
            if dx < 0:
                out[..., :dx] = x[..., -dx:]
            else:
                out[..., dx:] = x[..., :x.shape[-1] - dx]
            return out
        return f

    plain = (predict(shifted).numpy().argmax(1) == yte).mean()
    tta = (tta_predict(predict, shifted, [shift(0), shift(-1), shift(-2), shift(1)]).argmax(1) == yte).mean()
    assert tta > plain + 0.05, (plain, tta)
    # AlexNet's ten crops: 4 corners + centre and their mirrors
    v = ten_crop_views(6)
    img = np.arange(64, dtype=np.float32).reshape(1, 1, 8, 8)
    crops = [f(img) for f in v]
    assert len(crops) == 10 and all(c.shape == (1, 1, 6, 6) for c in crops)
    np.testing.assert_array_equal(crops[0], img[..., :6, :6])
    np.testing.assert_array_equal(crops[3], img[..., 2:, 2:])
    np.testing.assert_array_equal(crops[4], img[..., 1:7, 1:7])
    np.testing.assert_array_equal(crops[9], img[..., 1:7, 1:7][..., ::-1])


def test_mean_image_subtraction_with_the_training_mean():
    rng = np.random.default_rng(0)
    train = rng.random((50, 3, 4, 4)).astype(np.float32) * 255
    test = rng.random((10, 3, 4, 4)).astype(np.float32) * 255
    sc = StandardScaler(with_std=False, axis=0).fit(train)
    mean_image = train.mean(0)
    assert sc.mean_.shape == (3, 4, 4)
    np.testing.assert_allclose(sc.mean_, mean_image, rtol=1e-5)
    out = sc.transform(train)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-3)          # the mean image is removed
    np.testing.assert_allclose(out.std(0), train.std(0), rtol=1e-4)  # and nothing is rescaled
    np.testing.assert_allclose(sc.transform(test), test - mean_image, rtol=1e-4, atol=1e-3)
    assert sc.transform(test).dtype == np.float32


def test_pca_color_jitter_shifts_each_image_along_the_colour_eigenvectors():
    rng = np.random.default_rng(0)
    mix = np.array([[1.0, 0.5, 0.2], [0.0, 1.0, 0.3], [0.0, 0.0, 0.5]])
    px = rng.normal(size=(20 * 8 * 8, 3)) @ mix
    imgs = px.reshape(20, 8, 8, 3).transpose(0, 3, 1, 2).astype(np.float32)
    lam, vec = fit_pca_color(imgs)
    np.testing.assert_allclose(vec @ np.diag(lam) @ vec.T, np.cov(px, rowvar=False), atol=1e-8)
    assert np.all(np.diff(lam) <= 0)
    jit = PCAColorJitter(lam, vec, std=0.1, rng=1)
    out = jit(imgs)
    shift = out - imgs
    # constant over the pixels of an image, equal to V (alpha * lambda)
    np.testing.assert_allclose(shift, shift[:, :, :1, :1] * np.ones_like(shift), atol=1e-5)
    np.testing.assert_allclose(shift[:, :, 0, 0], (jit.last_alpha * lam) @ vec.T, atol=1e-5)
    # many draws: covariance of the shifts = V diag(lambda^2 std^2) V^T
    big = PCAColorJitter(lam, vec, std=0.1, rng=2)(np.zeros((20000, 3, 1, 1), np.float32))[:, :, 0, 0]
    np.testing.assert_allclose(np.cov(big, rowvar=False), vec @ np.diag((0.1 * lam) ** 2) @ vec.T,
                               atol=0.05 * (0.1 * lam[0]) ** 2)
    with pytest.raises(ValueError, match="PCAColorJitter"):
        jit(np.zeros((1, 1, 2, 2), np.float32))


def test_elastic_distortion_fields_are_smooth_and_warping_is_exact_on_translations():
    rng = np.random.default_rng(0)
    x = rng.random((2, 1, 10, 10))
    # a constant field of one pixel is a translation
    dx, dy = np.ones((2, 10, 10)), np.zeros((2, 10, 10))
    out = warp_by_field(x, dx, dy)
    np.testing.assert_allclose(out[..., :-1], x[..., 1:])
    np.testing.assert_allclose(out[..., -1], 0)
    np.testing.assert_allclose(warp_by_field(x, 0 * dx, 0 * dy), x)
    # Simard's fields: smoothing makes neighbouring displacements strongly correlated; alpha scales them
    fx, _ = elastic_field(8, 28, 28, 34.0, 4.0, np.random.default_rng(1))
    raw, _ = elastic_field(8, 28, 28, 1.0, 0.0, np.random.default_rng(1))
    corr = np.corrcoef(fx[:, :, :-1].ravel(), fx[:, :, 1:].ravel())[0, 1]
    assert corr > 0.9 and abs(np.corrcoef(raw[:, :, :-1].ravel(), raw[:, :, 1:].ravel())[0, 1]) < 0.05
    fx2, _ = elastic_field(8, 28, 28, 68.0, 4.0, np.random.default_rng(1))
    np.testing.assert_allclose(fx2, 2 * fx)
    # the transform: seeded, shape-preserving, and alpha = 0 is the identity
    img = rng.random((3, 1, 28, 28)).astype(np.float32)
    a, b = ElasticDistortion(rng=5)(img), ElasticDistortion(rng=5)(img)
    np.testing.assert_array_equal(a, b)
    assert a.shape == img.shape and a.dtype == np.float32 and not np.allclose(a, img)
    np.testing.assert_allclose(ElasticDistortion(alpha=0.0, rng=0)(img), img, atol=1e-6)


def test_elastic_distortion_is_label_preserving_on_digits():
    net, xte, yte = _trained_digit_mlp()
    base = (net(sd.tensor(xte)).numpy().argmax(1) == yte).mean()
    dist = ElasticDistortion(alpha=2.0, sigma=1.5, rng=0)(xte)   # 8x8 digits: scaled-down Simard parameters
    acc = (net(sd.tensor(dist)).numpy().argmax(1) == yte).mean()
    assert not np.allclose(dist, xte)
    assert acc > base - 0.2 and acc > 0.7, (base, acc)
