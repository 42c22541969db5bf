"""Tensor data model: creation, dtypes, properties, conversion, indexing, errors."""
import numpy as np
import pytest

import shendu as sd


def test_creation_dtypes():
    assert sd.tensor([1.0, 2.0]).dtype == np.float32
    assert sd.tensor([1, 2]).dtype == np.int64
    assert sd.tensor([True]).dtype == np.bool_
    assert sd.tensor([1.0], dtype=sd.float64).dtype == np.float64
    assert sd.tensor(np.zeros(2, np.float64)).dtype == np.float64  # NumPy arrays keep their dtype
    assert sd.zeros(2, 3).dtype == np.float32 and sd.zeros(2, 3).shape == (2, 3)
    assert sd.ones((2, 3)).shape == (2, 3)
    assert sd.full((2,), 7).dtype == np.int64 and sd.full((2,), 0.5).dtype == np.float32
    assert sd.arange(5).dtype == np.int64 and sd.arange(0.0, 1.0, 0.25).dtype == np.float32
    np.testing.assert_allclose(sd.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(sd.eye(3).numpy(), np.eye(3))
    assert sd.empty(4).shape == (4,)
    assert sd.zeros_like(sd.ones(2, dtype=sd.float64)).dtype == np.float64
    assert sd.randn_like(sd.ones(3)).shape == (3,)


def test_tensor_copies_and_as_tensor_shares():
    a = np.zeros(3, np.float32)
    t = sd.tensor(a)
    s = sd.as_tensor(a)
    a[0] = 5
    assert t.numpy()[0] == 0 and s.numpy()[0] == 5


def test_scalar_ops_keep_float32():
    x = sd.ones(3)
    for y in (x * 2.0, x + 1, 2.0 / x, x ** 2, x - 0.5, sd.exp(x), x.mean(), x.sum()):
        assert y.dtype == np.float32, y
    assert (sd.arange(3) * 2).dtype == np.int64
    assert (sd.arange(3) * 0.5).dtype == np.float32
    assert (sd.arange(4) / 2).dtype == np.float32


def test_manual_seed_reproducible():
    sd.manual_seed(42)
    a = sd.randn(5).numpy()
    r = sd.rand(2).numpy()
    i = sd.randint(0, 10, (4,)).numpy()
    sd.manual_seed(42)
    np.testing.assert_array_equal(a, sd.randn(5).numpy())
    np.testing.assert_array_equal(r, sd.rand(2).numpy())
    np.testing.assert_array_equal(i, sd.randint(0, 10, (4,)).numpy())
    assert ((0 <= r) & (r < 1)).all()


def test_properties_and_conversions():
    t = sd.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True, device="cpu")
    assert t.shape == (2, 3) and t.ndim == 2 and t.size() == (2, 3) and t.size(1) == 3 and t.numel() == 6
    assert t.device == "cpu" and t.is_leaf and t.requires_grad
    assert len(t) == 2
    assert t.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert np.asarray(t).shape == (2, 3)
    assert t.T.shape == (3, 2)
    assert sd.tensor([2.5]).item() == 2.5
    with pytest.raises(ValueError, match="one-element"):
        t.item()
    d = t.detach()
    assert not d.requires_grad and d.numpy() is t.numpy()
    assert t.double().dtype == np.float64 and t.long().dtype == np.int64


def test_repr():
    assert repr(sd.tensor([1.0, 2.0], device="cpu")) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(sd.tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(sd.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=float64" in repr(sd.tensor([1.0], dtype=sd.float64))


def test_requires_grad_on_int_tensor_is_an_error():
    with pytest.raises(TypeError, match="only floating-point"):
        sd.tensor([1, 2], requires_grad=True)


def test_device_errors():
    if not sd.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA device requested but not available: CuPy"):
            sd.tensor([1.0], device="cuda")
    with pytest.raises(ValueError, match="unknown device type 'tpu'"):
        sd.zeros(2, device="tpu")
    assert sd.ones(2).to("cpu").device == "cpu"


def test_matmul_shape_error_names_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        sd.ones(2, 3) @ sd.ones(4, 5)


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: operands of shapes \(2, 3\) and \(4,\)"):
        sd.ones(2, 3) + sd.ones(4)
    with pytest.raises(ValueError, match="cannot reshape"):
        sd.ones(2, 3).reshape(4, 2)


def test_setitem_and_comparisons():
    t = sd.zeros(2, 3)
    t[0, 1] = 5.0
    t[1] = sd.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(t.numpy(), [[0, 5, 0], [1, 2, 3]])
    m = t > 1.5
    assert m.dtype == np.bool_ and m.sum().item() == 3
    assert (t == 5.0).numpy().sum() == 1


def test_one_hot_argmax_no_grad_ops():
    oh = sd.one_hot(sd.tensor([0, 2, 1]), 3)
    np.testing.assert_array_equal(oh.numpy(), np.eye(3)[[0, 2, 1]])
    with pytest.raises(ValueError, match="class indices"):
        sd.one_hot(sd.tensor([0, 3]), 3)
    x = sd.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 1.0]])
    np.testing.assert_array_equal(x.argmax(dim=1).numpy(), [1, 0])
    assert x.argmax().item() == 3
    v, i = x.max(dim=1)
    np.testing.assert_array_equal(v.numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(i.numpy(), [1, 0])


def test_stable_logsumexp_softmax_softplus_sigmoid():
    big = sd.tensor([1000.0, -1000.0, 0.0])
    assert np.isfinite(sd.logsumexp(big, dim=0).item())
    np.testing.assert_allclose(sd.softmax(big, dim=0).numpy(), [1, 0, 0], atol=1e-7)
    assert np.isfinite(sd.log_softmax(big, dim=0).numpy()).all()
    np.testing.assert_allclose(sd.softplus(big).numpy(), [1000.0, 0.0, np.log(2)], rtol=1e-6)
    x = sd.tensor([1e4, -1e4, 0.0], requires_grad=True)
    y = sd.sigmoid(x)
    np.testing.assert_allclose(y.numpy(), [1, 0, 0.5])
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_iadd_in_place_without_grad_and_out_of_place_in_graph():
    t = sd.ones(2)
    ref = t
    t += 1
    assert t is ref and t.numpy().tolist() == [2.0, 2.0]
    w = sd.ones(2, requires_grad=True)
    w2 = w
    w2 = w2 * 1
    w2 += 1
    assert w.numpy().tolist() == [1.0, 1.0]


def test_zero_dim_results_stay_arrays():
    t = sd.tensor(2.0) * 3
    assert isinstance(t.numpy(), np.ndarray) and t.numpy().shape == ()
    t[...] = 5.0
    assert t.item() == 5.0
    x = sd.tensor(2.0, requires_grad=True)
    (x * x).backward()
    assert isinstance(x.grad.numpy(), np.ndarray) and x.grad.item() == 4.0


def test_backend_info_reports_backend_and_cuda_reason():
    from shendu.backend.info import info, info_text

    d = info()
    assert d["backend"].startswith("numpy (cpu)")
    assert d["numpy"] == np.__version__
    ok, why = sd.backend.cuda_available(), sd.backend.cuda_unavailable_reason()
    assert d["cuda"] == ("available" if ok else f"not available: {why}")
    assert "cuda" in info_text()
