"""Test configuration. ``SHENDU_TEST_DEVICE`` picks where the whole suite runs:

* ``cpu`` (default): NumPy arrays;
* ``strict``: the strict CPU stand-in for a GPU (``shendu.testing.strict_device``) as the default
  device, so any implicit host/device mix in shendu fails the test, as it would with CuPy;
* ``cuda``: a real GPU through CuPy.

On a device run, tests read values back with ``.numpy()``, which copies to the host there (user code must
call ``.cpu()`` first; that error is tested explicitly in tests/core/test_device.py).
"""
import os

import pytest

import shendu as sd
from shendu.autograd.tensor import Tensor
from shendu.backend import to_host

TEST_DEVICE = os.environ.get("SHENDU_TEST_DEVICE", "cpu")
_checked_numpy = Tensor.numpy


def _host_numpy(self):
    return to_host(self._data)


if TEST_DEVICE not in ("cpu", "strict", "cuda"):
    raise RuntimeError(f"SHENDU_TEST_DEVICE={TEST_DEVICE!r}: expected cpu, strict or cuda")
if TEST_DEVICE == "strict":
    from shendu.testing import strict_device

    strict_device.install()
if TEST_DEVICE != "cpu":
    sd.set_default_device("cuda")
    Tensor.numpy = _host_numpy
    Tensor.__array__ = lambda self, dtype=None, copy=None: (
        _host_numpy(self) if dtype is None else _host_numpy(self).astype(dtype))


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same global seed."""
    sd.manual_seed(0)
    yield


def _device_params():
    params = ["cpu", "strict"]
    if TEST_DEVICE != "strict":
        params.append(pytest.param("cuda", marks=pytest.mark.skipif(
            not sd.cuda.is_available(), reason="needs CuPy and a CUDA GPU")))
    return params


@pytest.fixture(params=_device_params())
def device(request):
    """Each device a test should pass on: 'cpu', the strict stand-in (as "cuda"), and a real GPU if present."""
    if request.param == "strict" and TEST_DEVICE != "strict":
        from shendu.testing import strict_device

        strict_device.install()
        try:
            yield "cuda"
        finally:
            strict_device.uninstall()
        return
    yield "cuda" if request.param == "strict" else request.param


@pytest.fixture
def checked_numpy():
    """``Tensor.numpy`` as users get it (raises on a GPU tensor), also on device runs."""
    return _checked_numpy
