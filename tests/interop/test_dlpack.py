"""DLPack: sd.from_dlpack and Tensor.__dlpack__ share memory with NumPy and PyTorch (zero copy)."""
import numpy as np
import pytest

import shendu as sd


def test_numpy_round_trip_shares_memory():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = sd.from_dlpack(a)
    assert isinstance(t, sd.Tensor) and t.shape == (2, 3) and t.dtype == np.float32 and t.device == "cpu"
    a[0, 0] = 42.0  # write through NumPy, seen by shendu
    assert t.numpy()[0, 0] == 42.0
    t._data[1, 2] = -1.0  # write through shendu, seen by NumPy
    assert a[1, 2] == -1.0
    b = np.from_dlpack(t)  # shendu -> NumPy through Tensor.__dlpack__
    assert np.shares_memory(b, a)
    assert t.__dlpack_device__() == (1, 0)


def test_torch_both_ways_zero_copy():
    torch = pytest.importorskip("torch")
    src = torch.arange(5, dtype=torch.float32)
    t = sd.from_dlpack(src)
    src[1] = 100.0
    assert t.numpy()[1] == 100.0
    t._data[2] = -7.0
    assert src[2].item() == -7.0
    mine = sd.tensor(np.ones(4, np.float32), device="cpu")
    back = torch.from_dlpack(mine)  # torch reads shendu's memory
    back[0] = 3.0
    assert mine.numpy()[0] == 3.0
    assert back.dtype == torch.float32 and tuple(back.shape) == (4,)
    # an op on the shared tensor computes on the shared values
    assert float((t * 2).sum().item()) == pytest.approx(2 * (0 + 100 - 7 + 3 + 4))


def test_from_dlpack_errors_and_identity():
    x = sd.tensor([1.0, 2.0])
    assert sd.from_dlpack(x) is x
    with pytest.raises(TypeError, match="__dlpack__"):
        sd.from_dlpack([1.0, 2.0])


def test_cupy_zero_copy_when_available():
    cp = pytest.importorskip("cupy")
    try:
        if cp.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no CUDA device")
    except Exception:
        pytest.skip("no CUDA device")
    from shendu.backend.device import cuda_backend
    if cuda_backend(required=False) is None or cuda_backend().xp is not cp:
        pytest.skip("shendu's CUDA backend is not CuPy here")
    a = cp.arange(4, dtype=cp.float32)
    t = sd.from_dlpack(a)
    a[0] = 9.0
    assert float(t.cpu().numpy()[0]) == 9.0
    b = cp.from_dlpack(t)
    b[1] = -2.0
    assert float(a[1]) == -2.0
