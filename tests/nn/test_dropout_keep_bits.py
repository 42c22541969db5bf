"""Dropout's keep mask from random integer bits (textbook 7.12): the keep probability is exactly 1 - p at the
documented resolution (2^-16 for multiples of 2^-16, else 2^-32), the kept units carry 1/(1-p), and the mask is
drawn on the input's device."""
import importlib

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F

D = importlib.import_module("shendu.nn.functional.dropout")


class _AllValues:
    """A generator stand-in whose ``integers`` returns given values (to count the threshold's keeps exactly)."""

    def __init__(self, values16, values32):
        self.values = {np.uint16: values16, np.uint32: values32}
        self.calls = []

    def integers(self, low, high, size, dtype):
        self.calls.append((low, high, dtype))
        v = self.values[dtype]
        assert v.size == int(np.prod(size))
        return v.astype(dtype).reshape(size)


@pytest.mark.parametrize("p", [0.25, 0.5, 0.125, 3 / 65536])
def test_keep_fraction_exact_for_multiples_of_2_pow_minus_16(p):
    gen = _AllValues(np.arange(65536), None)
    keep = D._keep(gen, (256, 256), p)
    assert gen.calls == [(0, 65536, np.uint16)]
    assert int(keep.sum()) == 65536 - round(p * 65536)  # every 16-bit value once: P(keep) = 1 - p exactly


def test_keep_none_at_p_1():
    keep = D._keep(_AllValues(np.arange(65536), None), (65536,), 1.0)
    assert not keep.any()
    x = sd.ones(100, 20)
    np.testing.assert_array_equal(F.alpha_dropout(x, 1.0, training=True).numpy(), 0.0)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.9])
def test_keep_threshold_at_2_pow_minus_32_otherwise(p):
    thr = round(p * 2 ** 32)
    vals = np.array([0, thr - 1, thr, thr + 1, 2 ** 32 - 1], dtype=np.uint64)
    gen = _AllValues(None, vals)
    keep = D._keep(gen, (5,), p)
    assert gen.calls == [(0, 2 ** 32, np.uint32)]
    np.testing.assert_array_equal(keep, [False, False, True, True, True])
    assert abs(thr / 2 ** 32 - p) <= 2 ** -33


def test_dropout_keep_rate_and_scale_statistics():
    sd.manual_seed(3)
    for p in (0.25, 0.1):
        y = F.dropout(sd.ones(400, 1000), p).numpy()
        kept = y != 0
        n = kept.size
        sigma = np.sqrt(p * (1 - p) / n)
        assert abs(kept.mean() - (1 - p)) < 5 * sigma
        np.testing.assert_array_equal(y[kept], np.float32(1 / (1 - p)))
        assert y.dtype == np.float32


def test_dropout_masks_on_device_and_repeatable(device):
    x = sd.ones(64, 300, device=device)
    sd.manual_seed(7)
    a = F.dropout(x, 0.3)
    assert a.device == x.device
    sd.manual_seed(7)
    b = F.dropout(x, 0.3)
    np.testing.assert_array_equal(a.cpu().numpy(), b.cpu().numpy())
    keep = a.cpu().numpy() != 0
    assert 0.6 < keep.mean() < 0.8
    # float64 input keeps its dtype; dropout2d draws one mask value per (n, c)
    y = F.dropout2d(sd.ones(8, 50, 3, 3, dtype=sd.float64, device=device), 0.5).cpu().numpy()
    assert y.dtype == np.float64
    assert (y.reshape(8, 50, 9).std(axis=2) == 0).all()
    assert set(np.unique(y)) <= {0.0, 2.0}
