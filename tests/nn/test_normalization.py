"""BatchNorm1d/2d, LayerNorm, RMSNorm: PyTorch oracle in train and eval (running statistics), gradcheck."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.autograd import gradcheck, gradgradcheck

R = np.random.default_rng(7)


def _fill(p, values):
    """Set parameter p's values in place from host values (copied to p's device)."""
    p._data[...] = sd.tensor(values, dtype=p.dtype, device=p.device)._data


def _pair(mod, tmod):
    import torch

    tmod.load_state_dict({k: torch.tensor(v.numpy()) for k, v in mod.state_dict().items()})
    return mod, tmod


@pytest.mark.parametrize(
    "cls,shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 5, 6))]
)
@pytest.mark.parametrize("affine,momentum", [(True, 0.1), (False, 0.3), (True, None)])
def test_batchnorm_train_eval_matches_torch(cls, shape, affine, momentum):
    torch = pytest.importorskip("torch")
    m = getattr(nn, cls)(3, affine=affine, momentum=momentum).double()
    tm = getattr(torch.nn, cls)(3, affine=affine, momentum=momentum).double()
    if affine:
        _fill(m.weight, R.standard_normal(3))
        _fill(m.bias, R.standard_normal(3))
    _pair(m, tm)
    assert set(m.state_dict()) == set(tm.state_dict())
    for _step in range(3):  # three training steps update the running statistics
        x = R.standard_normal(shape) * 2 + 1
        g = R.standard_normal(shape)
        xs, xt = sd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yt = m(xs), tm(xt)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-9)
        (y * sd.tensor(g)).sum().backward()
        (yt * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-9)
        if affine:
            np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-7)
            np.testing.assert_allclose(m.bias.grad.numpy(), tm.bias.grad.numpy(), rtol=1e-7)
            m.zero_grad()
            tm.zero_grad()
    for k, v in tm.state_dict().items():
        np.testing.assert_allclose(m.state_dict()[k].numpy(), v.numpy(), rtol=1e-7, err_msg=k)
    m.eval()
    tm.eval()
    x = R.standard_normal(shape)
    xs, xt = sd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = m(xs), tm(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-9)
    (y * y).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-7)
    before = m.running_mean.numpy().copy()
    m(sd.tensor(x))
    np.testing.assert_array_equal(m.running_mean.numpy(), before)  # eval leaves the statistics alone


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    torch = pytest.importorskip("torch")
    m, tm = (
        nn.BatchNorm1d(3, track_running_stats=False).double().eval(),
        torch.nn.BatchNorm1d(3, track_running_stats=False).double().eval(),
    )
    x = R.standard_normal((6, 3))
    np.testing.assert_allclose(m(sd.tensor(x)).numpy(), tm(torch.tensor(x)).detach().numpy(), rtol=1e-7, atol=1e-10)
    assert "running_mean" not in m.state_dict()


def test_batchnorm_gradcheck_and_double_backward():
    for shape in [(5, 3), (3, 3, 2, 2)]:
        x = sd.tensor(R.standard_normal(shape), requires_grad=True)
        w = sd.tensor(R.standard_normal(3), requires_grad=True)
        b = sd.tensor(R.standard_normal(3), requires_grad=True)
        f = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True) ** 2  # noqa: E731
        assert gradcheck(f, [x, w, b])
        assert gradgradcheck(f, [x, w, b])
        c = sd.tensor(R.standard_normal(shape))
        assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True) * c, [x])


def test_batchnorm_normalizes_and_float32():
    m = nn.BatchNorm2d(4)
    y = m(sd.randn(8, 4, 3, 3) * 5 + 2).numpy()
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\).*4-D.*\(4, 3\)"):
        nn.BatchNorm2d(3)(sd.randn(4, 3))
    with pytest.raises(ValueError, match="expected 3 channels"):
        nn.BatchNorm1d(3)(sd.randn(4, 5))
    with pytest.raises(ValueError, match="more than 1 value"):
        nn.BatchNorm1d(3)(sd.randn(1, 3))


@pytest.mark.parametrize("shape,ns", [((4, 5), 5), ((2, 3, 4), (3, 4)), ((2, 3, 4), 4)])
def test_layernorm_matches_torch(shape, ns):
    torch = pytest.importorskip("torch")
    m, tm = nn.LayerNorm(ns).double(), torch.nn.LayerNorm(ns).double()
    _fill(m.weight, R.standard_normal(m.weight.shape))
    _fill(m.bias, R.standard_normal(m.bias.shape))
    _pair(m, tm)
    x, g = R.standard_normal(shape), R.standard_normal(shape)
    xs, xt = sd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = m(xs), tm(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-9)
    (y * sd.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-7)
    np.testing.assert_allclose(m.bias.grad.numpy(), tm.bias.grad.numpy(), rtol=1e-7)


def test_layernorm_variants_gradcheck():
    x = sd.tensor(R.standard_normal((3, 4)), requires_grad=True)
    w = sd.tensor(R.standard_normal(4), requires_grad=True)
    b = sd.tensor(R.standard_normal(4), requires_grad=True)
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, 4, w, b) ** 2, [x, w, b])
    assert gradcheck(lambda x, w: F.layer_norm(x, 4, w) ** 2, [x, w])
    assert nn.LayerNorm(4, bias=False).bias is None
    assert list(nn.LayerNorm(4, elementwise_affine=False).parameters()) == []
    with pytest.raises(ValueError, match="layer_norm"):
        F.layer_norm(sd.randn(3, 4), 5)


def test_rmsnorm_matches_torch():
    torch = pytest.importorskip("torch")
    m, tm = nn.RMSNorm(4, eps=1e-6).double(), torch.nn.RMSNorm(4, eps=1e-6).double()
    _fill(m.weight, R.standard_normal(4))
    _pair(m, tm)
    x = R.standard_normal((3, 4))
    xs, xt = sd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    np.testing.assert_allclose(m(xs).numpy(), tm(xt).detach().numpy(), rtol=1e-7)
    (m(xs) ** 2).sum().backward()
    (tm(xt) ** 2).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-6)
    assert gradcheck(lambda x: F.rms_norm(x, 4) ** 3, [sd.tensor(x, requires_grad=True)])


def test_local_response_norm_matches_torch():
    torch = pytest.importorskip("torch")
    x = R.standard_normal((2, 6, 3, 3))
    for size in (3, 4):
        a = F.local_response_norm(sd.tensor(x), size, 1e-2, 0.75, 2.0).numpy()
        b = torch.nn.functional.local_response_norm(torch.tensor(x), size, 1e-2, 0.75, 2.0).numpy()
        np.testing.assert_allclose(a, b, rtol=1e-7)


def test_num_batches_tracked_stays_a_0d_int_array():
    bn = sd.nn.BatchNorm1d(3)
    for _ in range(3):
        bn(sd.randn(4, 3))
    data = bn.num_batches_tracked._data
    assert isinstance(data, np.ndarray) and data.shape == () and data.dtype == np.int64
    assert bn.num_batches_tracked.item() == 3


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_in_sample_blocks_matches_torch(monkeypatch, affine):
    """The array paths work in blocks of samples (cache-sized); uneven blocks (3, 3, 1) give PyTorch's values."""
    torch = pytest.importorskip("torch")
    from shendu.nn.functional import normalization

    monkeypatch.setattr(normalization, "_block", lambda a3: 3)
    m = nn.BatchNorm2d(3, affine=affine).double()
    tm = torch.nn.BatchNorm2d(3, affine=affine).double()
    if affine:
        _fill(m.weight, R.standard_normal(3))
        _fill(m.bias, R.standard_normal(3))
    _pair(m, tm)
    x = R.standard_normal((7, 3, 4, 5)) * 2 + 1
    g = R.standard_normal(x.shape)
    xs, xt = sd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = m(xs), tm(xt)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-9)
    (y * sd.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-9)
    if affine:
        np.testing.assert_allclose(m.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-7)
        np.testing.assert_allclose(m.bias.grad.numpy(), tm.bias.grad.numpy(), rtol=1e-7)
    np.testing.assert_allclose(m.running_var.numpy(), tm.running_var.numpy(), rtol=1e-7)
