"""Batch image transforms on (N, C, H, W) arrays."""
import numpy as np
import pytest

from shendu.data import DataLoader, TensorDataset
from shendu.data.transforms import (
    CenterCrop,
    Compose,
    GaussianNoise,
    PerImageStandardization,
    RandomCrop,
    RandomHorizontalFlip,
    RandomRotation,
    RandomTranslation,
    rotate,
)


def _batch(n=5, c=2, h=6, w=7, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, c, h, w)).astype(np.float32)


def _find_offset(padded, crop):
    hits = [(i, j) for i in range(padded.shape[1] - crop.shape[1] + 1)
            for j in range(padded.shape[2] - crop.shape[2] + 1)
            if np.array_equal(padded[:, i:i + crop.shape[1], j:j + crop.shape[2]], crop)]
    return hits


def test_random_crop_windows_come_from_padded_images():
    x = _batch()
    out = RandomCrop((4, 5), padding=1, rng=0)(x)
    assert out.shape == (5, 2, 4, 5) and out.dtype == np.float32
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    offsets = [_find_offset(padded[i], out[i]) for i in range(5)]
    assert all(offsets)  # every crop is a window of its own padded image
    assert len({o[0] for o in offsets}) > 1  # offsets differ between images
    np.testing.assert_array_equal(RandomCrop((4, 5), padding=1, rng=0)(x), out)  # seeded
    with pytest.raises(ValueError, match="larger than the padded image"):
        RandomCrop(9)(x)


def test_random_crop_offsets_cover_range():
    x = np.zeros((400, 1, 4, 4), np.float32)
    x[:, :, 0, 0] = 1.0  # a marker: its position in the crop reveals the offset
    out = RandomCrop(4, padding=2, rng=1)(x)
    pos = [tuple(np.argwhere(o[0] == 1.0)[0]) if o.any() else None for o in out]
    seen = {p for p in pos if p is not None}
    assert seen == {(i, j) for i in range(3) for j in range(3)}  # marker lands at 0..2 in both axes


def test_center_crop_and_single_image():
    x = np.arange(2 * 1 * 5 * 6, dtype=np.float32).reshape(2, 1, 5, 6)
    out = CenterCrop((3, 2))(x)
    np.testing.assert_array_equal(out, x[:, :, 1:4, 2:4])
    np.testing.assert_array_equal(CenterCrop((3, 2))(x[0]), x[0, :, 1:4, 2:4])
    with pytest.raises(ValueError, match="expected images"):
        CenterCrop(2)(np.zeros((4, 4)))


def test_horizontal_flip():
    x = _batch(n=200)
    out = RandomHorizontalFlip(p=0.5, rng=3)(x)
    flipped = np.array([np.array_equal(o, xi[:, :, ::-1]) for o, xi in zip(out, x)])
    same = np.array([np.array_equal(o, xi) for o, xi in zip(out, x)])
    assert np.all(flipped ^ same) and 60 < flipped.sum() < 140
    np.testing.assert_array_equal(RandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(p=0.0)(x), x)


def test_translation_shifts_content():
    x = np.zeros((300, 1, 9, 9), np.float32)
    x[:, 0, 4, 4] = 1.0
    out = RandomTranslation(2, rng=0)(x)
    assert out.shape == x.shape
    pos = np.array([np.argwhere(o[0] == 1.0)[0] for o in out]) - 4
    assert pos.min() == -2 and pos.max() == 2 and np.all(out.sum(axis=(1, 2, 3)) == 1)
    frac = RandomTranslation(0.25, rng=0)(x)
    assert np.all(frac.sum(axis=(1, 2, 3)) == 1)


def test_rotation_exact_angles():
    x = _batch(n=2, h=5, w=5)
    np.testing.assert_allclose(rotate(x, [0.0, 0.0]), x, atol=1e-6)
    np.testing.assert_allclose(rotate(x, [90.0, 90.0]), np.rot90(x, 1, axes=(2, 3)), atol=1e-5)
    np.testing.assert_allclose(rotate(x, [180.0, 180.0], interpolation="nearest"), x[:, :, ::-1, ::-1], atol=1e-6)
    out = RandomRotation((90, 90), rng=0)(x)
    np.testing.assert_allclose(out, np.rot90(x, 1, axes=(2, 3)), atol=1e-5)


def test_rotation_small_angles_keep_center_and_fill():
    x = np.ones((4, 1, 11, 11), np.float32)
    out = RandomRotation(20, fill=0.0, rng=0)(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:, :, 5, 5], 1.0, atol=1e-6)  # the centre stays
    assert np.all(out[:, :, 0, 0] < 1.0)  # corners rotate out and read the fill value
    assert np.all((out >= 0) & (out <= 1 + 1e-6))


def test_per_image_standardization_tf_formula():
    x = _batch(n=3)
    x[2] = 0.25  # a uniform image: std floored at 1/sqrt(num_elements)
    out = PerImageStandardization()(x)
    m = x[0].size
    for i in range(3):
        ref = (x[i] - x[i].mean()) / max(x[i].std(), 1 / np.sqrt(m))
        np.testing.assert_allclose(out[i], ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[:2].reshape(2, -1).std(axis=1), 1.0, rtol=1e-5)
    assert np.all(out[2] == 0)


def test_gaussian_noise_any_shape():
    x = np.zeros((2000, 8), np.float32)
    out = GaussianNoise(0.5, rng=0)(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    assert abs(out.std() - 0.5) < 0.01 and abs(out.mean()) < 0.01
    np.testing.assert_array_equal(GaussianNoise(0.0)(x), x)


def test_compose_in_loader_cifar_pipeline():
    x = np.random.default_rng(0).uniform(size=(10, 3, 32, 32)).astype(np.float32)
    pipe = Compose([RandomCrop(24, rng=0), RandomHorizontalFlip(rng=1), PerImageStandardization()])
    loader = DataLoader(TensorDataset(x, np.arange(10)), batch_size=4, transform=pipe, as_tensor=False)
    shapes = [bx.shape for bx, _ in loader]
    assert shapes == [(4, 3, 24, 24), (4, 3, 24, 24), (2, 3, 24, 24)]
    bx, _ = next(iter(loader))
    np.testing.assert_allclose(bx.reshape(4, -1).mean(axis=1), 0, atol=1e-5)
