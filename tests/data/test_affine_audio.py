"""Affine augmentation (zoom, shear, RandomAffine; textbook 7.4 'scale', texts 003/004 skew) and speech
augmentation (noise at an SNR, time shift, speed perturbation; textbook 7.4 speech hook)."""
import numpy as np
import pytest

from shendu.data.transforms import (
    AudioAugment,
    Compose,
    RandomAffine,
    RandomShear,
    RandomZoom,
    add_noise_snr,
    affine,
    rotate,
    shear,
    speed_perturb,
    time_shift,
    zoom,
)

R = np.random.default_rng(3)


# --- zoom / shear / affine (7.17) -------------------------------------------------------------------------------------
def test_zoom_2x_repeats_the_central_pattern_and_scale_1_is_identity():
    pattern = R.uniform(size=(2, 3, 4, 4)).astype(np.float32)
    x = np.zeros((2, 3, 8, 8), np.float32)
    x[:, :, 2:6, 2:6] = pattern
    big = zoom(x, 2.0, interpolation="nearest")
    np.testing.assert_array_equal(big, np.kron(pattern, np.ones((2, 2), np.float32)))  # each pixel -> a 2x2 block
    assert big.dtype == np.float32
    for interp in ("bilinear", "nearest"):
        np.testing.assert_array_equal(zoom(x, [1.0, 1.0], interpolation=interp), x)
    # bilinear is exact on a linear ramp: zoom by s maps value v(x) = x to c + (x - c)/s inside the image
    ramp = np.tile(np.arange(9, dtype=np.float64), (1, 1, 9, 1))
    np.testing.assert_allclose(zoom(ramp, 1.6)[0, 0, 4], 4 + (np.arange(9) - 4) / 1.6, atol=1e-12)
    small = zoom(np.ones((1, 1, 9, 9)), 0.5, fill=0.0)
    assert small[0, 0, 4, 4] == 1.0 and small[0, 0, 0, 0] == 0.0  # shrinking brings in the fill at the border
    with pytest.raises(ValueError, match="zoom.*> 0"):
        zoom(x, 0.0)


def test_shear_moves_a_point_by_tan_times_its_height_and_affine_composes():
    x = np.zeros((1, 1, 7, 7), np.float32)
    x[0, 0, 5, 3] = 1.0  # centred (x, y) = (0, 2), y down
    for interp in ("bilinear", "nearest"):
        out = shear(x, 45.0, interpolation=interp)
        assert out.sum() == pytest.approx(1.0) and out[0, 0, 5, 5] == pytest.approx(1.0)  # -> (0 + tan45 * 2, 2)
    out = shear(x, -45.0)
    assert out[0, 0, 5, 1] == pytest.approx(1.0)
    # affine with a pure rotation matrix is `rotate`; with a translation it shifts by whole pixels exactly
    img = R.uniform(size=(3, 2, 6, 6)).astype(np.float32)
    th = np.deg2rad(30.0)
    Rm = np.array([[np.cos(th), np.sin(th)], [-np.sin(th), np.cos(th)]])
    np.testing.assert_allclose(affine(img, Rm), rotate(img, [30.0] * 3), atol=1e-6)
    moved = affine(img, np.eye(2), translations=[[1.0, 2.0]] * 3)  # +1 right, +2 down
    np.testing.assert_array_equal(moved[:, :, 2:, 1:], img[:, :, :-2, :-1])
    assert np.all(moved[:, :, :2] == 0) and np.all(moved[:, :, :, :1] == 0)
    with pytest.raises(ValueError, match="affine.*invertible"):
        affine(img, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="shear"):
        shear(img, 90.0)


def test_random_zoom_shear_affine_ranges_seeding_and_single_image():
    x = np.ones((16, 1, 11, 11), np.float32)
    z = RandomZoom((0.5, 0.8), rng=0)(x)  # always shrinks: fill enters at the corners, the centre stays
    assert np.all(z[:, 0, 5, 5] == 1.0) and np.all(z[:, 0, 0, 0] == 0.0)
    np.testing.assert_array_equal(RandomZoom((0.5, 0.8), rng=0)(x), z)
    assert len({float(a.sum()) for a in z}) > 8  # a different factor per image
    s = RandomShear(20, rng=1)(x)
    assert s.shape == x.shape and np.all(s[:, 0, 5, :] == 1.0)  # the centre row does not move under a shear
    one = RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=5, rng=2)(x[0])
    assert one.shape == (1, 11, 11) and 0.0 <= one.min() and one.max() <= 1.0 + 1e-6
    ident = RandomAffine(degrees=0, rng=3)(x * 0.5)
    np.testing.assert_array_equal(ident, x * 0.5)
    out = Compose([RandomZoom(0.1, rng=0), RandomShear(5, rng=0)])(x)
    assert out.shape == x.shape
    with pytest.raises(ValueError, match="RandomZoom.*scale"):
        RandomZoom((0.0, 1.0))
    with pytest.raises(ValueError, match="RandomShear.*degrees"):
        RandomShear((10, -10))
    with pytest.raises(ValueError, match="RandomAffine.*translate"):
        RandomAffine(translate=(2.0, 0.0))


# --- speech augmentation (7.22) --------------------------------------------------------------------------------------
def test_add_noise_reaches_the_snr_white_and_from_a_noise_bank():
    t = np.arange(4000) / 8000.0
    x = np.stack([np.sin(2 * np.pi * 440 * t), 0.1 * np.sin(2 * np.pi * 200 * t)]).astype(np.float32)
    for noise in (None, R.standard_normal((3, 1500))):
        out = add_noise_snr(x, [10.0, 0.0], rng=0, noise=noise)
        assert out.dtype == np.float32 and out.shape == x.shape
        e = (out - x).astype(np.float64)
        snr = 10 * np.log10((x.astype(np.float64) ** 2).mean(1) / (e ** 2).mean(1))
        np.testing.assert_allclose(snr, [10.0, 0.0], atol=1e-3)
    bank = np.arange(100.0)
    e = add_noise_snr(np.ones(250, np.float32), 20.0, rng=1, noise=bank) - 1
    d = np.diff(e.astype(np.float64)) / (e[1] - e[0])  # a tiled, offset slice of the recording: steps 1 and -99
    wraps = np.isclose(d, -99.0, rtol=1e-3)
    assert np.all(np.isclose(d, 1.0, rtol=1e-3) | wraps) and 2 <= wraps.sum() <= 3
    np.testing.assert_array_equal(add_noise_snr(np.zeros((2, 10)), 5.0, rng=0), 0.0)  # silence stays silent


def test_time_shift_and_speed_perturbation_exact_cases():
    x = np.arange(1, 9, dtype=np.float32)[None].repeat(2, 0)
    np.testing.assert_array_equal(time_shift(x, [2, -3]), [[0, 0, 1, 2, 3, 4, 5, 6], [4, 5, 6, 7, 8, 0, 0, 0]])
    np.testing.assert_array_equal(time_shift(x[0], 2, mode="roll"), [7, 8, 1, 2, 3, 4, 5, 6])
    ramp = np.arange(10, dtype=np.float64)
    fast = speed_perturb(ramp, 2.0, keep_length=False)
    np.testing.assert_allclose(fast, [0, 2, 4, 6, 8])  # y[t] = x(2 t), half the length
    slow = speed_perturb(ramp, 0.5)
    np.testing.assert_allclose(slow, np.arange(10) * 0.5)  # stretched and cropped to T
    np.testing.assert_allclose(speed_perturb(ramp, 2.0), [0, 2, 4, 6, 8, 0, 0, 0, 0, 0])  # zero-padded to T
    sine = np.sin(2 * np.pi * 50 * np.arange(8000) / 8000.0)
    f = np.abs(np.fft.rfft(speed_perturb(sine, 1.1, keep_length=False)))
    freq = np.argmax(f) * 8000.0 / (2 * (len(f) - 1))
    assert abs(freq - 55.0) < 1.0  # 10% faster: pitch 50 Hz -> 55 Hz
    with pytest.raises(ValueError, match="time_shift.*whole samples"):
        time_shift(x, 0.5)
    with pytest.raises(ValueError, match="speed_perturb.*> 0"):
        speed_perturb(x, -1.0)


def test_audio_augment_composes_is_seeded_and_keeps_shape():
    x = np.sin(np.linspace(0, 60, 1000, dtype=np.float32))[None].repeat(6, 0)
    aug = AudioAugment(snr_db=(5, 20), max_shift=50, speed=(0.9, 1.0, 1.1), rng=0)
    out = aug(x)
    assert out.shape == x.shape and out.dtype == np.float32
    np.testing.assert_array_equal(AudioAugment(snr_db=(5, 20), max_shift=50, speed=(0.9, 1.0, 1.1), rng=0)(x), out)
    e = out - x
    assert np.all(np.abs(e).mean(1) > 0.05)  # every row changed
    only_shift = AudioAugment(max_shift=3, rng=1)(np.arange(1, 21, dtype=np.float32)[None].repeat(8, 0))
    for row in only_shift:  # each row is a shift of 1..20 by at most 3 samples
        nz = row[row != 0]
        assert np.all(np.diff(nz) == 1) and abs(row.argmax() - 19) <= 3
    noisy = AudioAugment(snr_db=10.0, rng=2)(x[0])
    assert noisy.shape == (1000,)
    snr = 10 * np.log10((x[0] ** 2).mean() / ((noisy - x[0]) ** 2).mean())
    assert abs(snr - 10.0) < 1e-2
    with pytest.raises(ValueError, match="AudioAugment.*speed"):
        AudioAugment(speed=(1.1, 0.9), speed_range=True)
    with pytest.raises(ValueError, match="AudioAugment.*waveforms"):
        aug(np.zeros((2, 3, 4), np.float32))
