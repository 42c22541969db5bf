"""backend.to_device_of (a value onto a reference's device) and backend.is_array, on every device."""
import numpy as np

import shendu as sd
from shendu.backend import device_of, is_array, is_host, to_device_of, to_host


def test_to_device_of_moves_values_to_the_reference_device(device):
    ref = sd.zeros(3, device=device)
    for value, expected in (([1, 2, 3], [1, 2, 3]), (np.array([1.0, 2.0]), [1.0, 2.0]),
                            (sd.tensor([4.0, 5.0]), [4.0, 5.0]), (2.5, 2.5)):
        arr = to_device_of(value, ref)
        assert device_of(arr) == device_of(ref._data), (type(value), device_of(arr))
        assert to_host(arr).tolist() == expected
    back = to_device_of(to_device_of(np.arange(3), ref), np.zeros(1))  # a reference array works too
    assert is_host(back) and back.tolist() == [0, 1, 2]


def test_to_device_of_casts_and_copies_only_when_asked(device):
    ref = sd.zeros(3, device=device)
    arr = to_device_of(np.array([1, 2, 3]), ref, np.float32)
    assert arr.dtype == np.float32 and device_of(arr) == device_of(ref._data)
    assert to_device_of(arr, ref) is arr                      # already there: the same array
    c = to_device_of(arr, ref, copy=True)
    assert c is not arr
    c[...] = 0
    assert to_host(arr).tolist() == [1.0, 2.0, 3.0]           # a copy, not a view
    c2 = to_device_of(arr, ref, np.float32, copy=True)
    assert c2 is not arr and c2.dtype == np.float32
    assert to_device_of(arr, ref, np.float32) is arr          # same dtype, no copy asked: no copy made


def test_is_array(device):
    t = sd.zeros(2, device=device)
    assert is_array(np.zeros(2)) and is_array(t._data)
    assert not is_array(t) and not is_array(np.float32(1)) and not is_array(3) and not is_array([1, 2])
    assert is_array(t._data) and (is_host(t._data) == (device == "cpu"))
