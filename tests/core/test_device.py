"""The device model (textbook 12.1.2): sd.device, Tensor.to/cpu/cuda, default device, sd.cuda, generators,
the strict stand-in's refusals, and the errors a user gets."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.testing import strict_device


def test_device_parsing_and_equality():
    assert str(sd.device("cpu")) == "cpu" and sd.device("cpu").index is None
    d = sd.device("cuda:1")
    assert (d.type, d.index, str(d)) == ("cuda", 1, "cuda:1")
    assert sd.device("cuda", 2) == "cuda:2" and sd.device(3) == sd.device("cuda:3")
    assert repr(sd.device("cuda:0")) == "device(type='cuda', index=0)"
    assert sd.device("cpu") == "cpu" and sd.device("cpu") != "cuda:0"
    assert len({sd.device("cuda:0"), sd.device("cuda", 0)}) == 1
    for bad, err in [("tpu", "unknown device type 'tpu'"), ("cuda:x", "invalid device string"),
                     ("cpu:1", "no index 1")]:
        with pytest.raises(ValueError, match=err):
            sd.device(bad)
    with pytest.raises(TypeError, match="expected a string"):
        sd.device(1.5)


def test_unknown_device_names_it_everywhere():
    with pytest.raises(ValueError, match="'tpu'"):
        sd.zeros(2, device="tpu")
    with pytest.raises(ValueError, match="'tpu'"):
        sd.tensor([1.0], device="tpu")
    with pytest.raises(ValueError, match="'tpu'"):
        nn.Linear(2, 3, device="tpu")
    with pytest.raises(ValueError, match="'tpu'"):
        sd.ones(2).to("tpu")


@pytest.mark.skipif(sd.cuda.is_available(), reason="checks the message given when no GPU is usable")
def test_cuda_unavailable_says_why():
    assert sd.cuda.device_count() == 0
    sd.cuda.synchronize()  # a no-op without a GPU
    for make in (lambda: sd.zeros(2, device="cuda"), lambda: sd.ones(2).cuda(), lambda: nn.Linear(2, 2).cuda()):
        with pytest.raises(RuntimeError, match="CUDA device requested but not available: CuPy is not installed"):
            make()


def test_to_is_differentiable_and_round_trips(device):
    x = sd.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=sd.float64, requires_grad=True, device="cpu")
    y = x.to(device)
    assert str(y.device).startswith(device) and y.dtype == sd.float64
    z = (y * y).sum()
    z.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())
    back = y.cpu()
    assert back.device == "cpu" and back.requires_grad
    np.testing.assert_array_equal(back.detach().numpy(), x.detach().numpy())
    assert x.to("cpu") is x  # no copy when already there (as PyTorch)
    w = x.to(device, sd.float32)
    assert w.dtype == sd.float32 and str(w.device).startswith(device)
    assert x.to(w).dtype == sd.float32 and str(x.to(w).device).startswith(device)


def test_cuda_method_and_device_keywords(device):
    if device == "cpu":
        pytest.skip("cuda() needs a (stand-in) GPU")
    t = sd.ones(2, 3).cuda()
    assert t.device == "cuda:0" and t.is_cuda
    for make in (sd.zeros, sd.ones, sd.empty, sd.rand, sd.randn):
        assert make(2, 3, device=device).device == "cuda:0"
    assert sd.full((2,), 1.5, device=device).device == "cuda:0"
    assert sd.arange(5, device=device).device == "cuda:0"
    assert sd.eye(3, device=device).device == "cuda:0"
    assert sd.randint(0, 5, (4,), device=device).device == "cuda:0"
    assert sd.zeros_like(t).device == "cuda:0" and sd.randn_like(t).device == "cuda:0"
    assert sd.tensor([1.0, 2.0], device=device).device == "cuda:0"
    assert "device='cuda:0'" in repr(t)


def test_numpy_of_a_gpu_tensor_says_call_cpu(device, checked_numpy):
    if device == "cpu":
        pytest.skip("the error is for device tensors")
    t = sd.ones(3, device=device)
    with pytest.raises(TypeError, match=r"can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu\(\)"):
        checked_numpy(t)
    np.testing.assert_array_equal(checked_numpy(t.cpu()), np.ones(3, np.float32))


def test_mixing_devices_names_the_op_and_both_devices(device):
    if device == "cpu":
        pytest.skip("needs a second device")
    a = sd.ones(3, device=device)
    b = sd.ones(3, device="cpu")
    with pytest.raises(RuntimeError, match=r"Mul: Expected all tensors to be on the same device, .*cuda:0 and cpu"):
        a * b
    # a 0-d CPU tensor is a scalar and mixes freely, as in PyTorch
    c = a * sd.tensor(2.0, device="cpu")
    assert c.device == "cuda:0"
    np.testing.assert_array_equal(c.cpu().numpy(), np.full(3, 2.0, np.float32))


def test_module_to_moves_in_place_and_keeps_parameters(device):
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    before = list(m.parameters())
    values = [p.detach().cpu().numpy().copy() for p in before]
    assert m.to(device) is m
    after = list(m.parameters())
    assert all(a is b for a, b in zip(before, after))
    for p, v in zip(after, values):
        assert str(p.device).startswith(device)
        np.testing.assert_array_equal(p.detach().cpu().numpy(), v)
    assert str(m[1].running_mean.device).startswith(device)
    m.cpu()
    assert all(p.device == "cpu" for p in m.parameters())


def test_layer_device_keyword_is_honoured(device):
    lin = nn.Linear(2, 3, device=device)
    assert all(str(p.device).startswith(device) for p in lin.parameters())
    y = lin(sd.ones(5, 2, device=device))
    assert str(y.device).startswith(device) and y.shape == (5, 3)


def test_default_device(device):
    prev = sd.get_default_device()
    try:
        sd.set_default_device(device)
        assert str(sd.zeros(2).device).startswith(device)
        assert str(sd.tensor([1.0]).device).startswith(device)
        assert all(str(p.device).startswith(device) for p in nn.Linear(2, 2).parameters())
        assert sd.zeros(2, device="cpu").device == "cpu"
    finally:
        sd.set_default_device(prev)


def test_generators_repeat_per_device(device):
    def draws():
        sd.manual_seed(7)
        return [sd.randn(4, device=device).cpu().numpy(), sd.rand(3, device=device).cpu().numpy(),
                sd.randint(0, 100, (5,), device=device).cpu().numpy()]

    a, b = draws(), draws()
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    sd.manual_seed(8)
    assert not np.array_equal(sd.randn(4, device=device).cpu().numpy(), a[0])


def test_parse_to_args_forms():
    from shendu.backend import parse_to_args

    assert parse_to_args(("cpu",), {}) == (None, sd.device("cpu"))
    assert parse_to_args((sd.float64,), {}) == (sd.float64, None)
    assert parse_to_args(("float64",), {}) == (sd.float64, None)
    assert parse_to_args((), {"device": "cpu", "dtype": sd.float32}) == (sd.float32, sd.device("cpu"))
    t = sd.zeros(2, dtype=sd.float64, device="cpu")
    assert parse_to_args((t,), {}) == (sd.float64, sd.device("cpu"))


# --- the strict stand-in refuses exactly the implicit conversions CuPy refuses -----------------
@pytest.fixture
def strict():
    from shendu.backend.device import cuda_backend

    if isinstance(cuda_backend(required=False), strict_device.StrictBackend):
        yield strict_device.xp  # the whole suite runs on it already
        return
    strict_device.install()
    try:
        yield strict_device.xp
    finally:
        strict_device.uninstall()


def test_stand_in_refuses_host_device_mixing(strict):
    xp = strict
    d = xp.asarray(np.arange(6.0).reshape(2, 3))  # explicit transfer: allowed
    h = np.ones((2, 3))
    assert isinstance(d, strict_device.StrictArray)
    with pytest.raises(strict_device.HostDeviceMix):
        d + h  # a host array meets a device array in a ufunc
    with pytest.raises(strict_device.HostDeviceMix):
        xp.maximum(h, d)
    with pytest.raises(strict_device.HostDeviceMix):
        xp.concatenate([d, h])
    with pytest.raises(strict_device.HostDeviceMix):
        np.asarray(d)  # implicit device-to-host conversion
    with pytest.raises(strict_device.HostDeviceMix):
        d[0] = np.ones(3)
    with pytest.raises(strict_device.HostDeviceMix):
        d[np.array([0, 1])]
    with pytest.raises(AttributeError, match="writeable"):
        _ = d.flags.writeable
    # what CuPy allows: scalars, device results, 0-d device reductions
    s = (d * 2.0 + np.float32(1)).sum()
    assert isinstance(s, strict_device.StrictArray) and s.ndim == 0 and float(s) == 36.0
    d[0] = 5.0
    assert d[0, 0].item() == 5.0
