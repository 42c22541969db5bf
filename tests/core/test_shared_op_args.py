"""Argument handling shared by sibling ops (issue 22): argmax/argmin, cat/stack, softmax/log_softmax, and the
name lookup of the Keras-style API (train.resolve)."""
import numpy as np
import pytest

import shendu as sd
from shendu.train import resolve


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin_match_numpy(name):
    x_np = np.array([[3.0, -1.0, 7.0], [2.0, 9.0, -4.0]], np.float32)
    x = sd.tensor(x_np)
    fn, ref = getattr(sd, name), getattr(np, name)
    assert int(fn(x).numpy()) == ref(x_np)
    np.testing.assert_array_equal(fn(x, 1).numpy(), ref(x_np, 1))
    np.testing.assert_array_equal(fn(x, dim=-2, keepdim=True).numpy(), ref(x_np, -2, keepdims=True))
    np.testing.assert_array_equal(fn(x, axis=0, keepdims=True).numpy(), ref(x_np, 0, keepdims=True))
    assert int(fn(sd.tensor(np.float32(5.0))).numpy()) == 0
    with pytest.raises((ValueError, IndexError), match=name):
        fn(x, 2)


@pytest.mark.parametrize("name", ["cat", "stack"])
def test_cat_stack_take_axis_and_name_the_op_when_empty(name):
    fn = getattr(sd, name)
    a, b = np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)
    want = np.concatenate([a, b], 1) if name == "cat" else np.stack([a, b], 1)
    np.testing.assert_array_equal(fn([sd.tensor(a), sd.tensor(b)], axis=1).numpy(), want)
    np.testing.assert_array_equal(fn([sd.tensor(a), sd.tensor(b)], dim=1).numpy(), want)
    np.testing.assert_array_equal(fn((sd.tensor(a), sd.tensor(b)), 0, axis=-1).numpy(),
                                  np.concatenate([a, b], -1) if name == "cat" else np.stack([a, b], -1))
    with pytest.raises(ValueError, match=f"^{name}: expected a non-empty sequence of tensors"):
        fn([])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_log_softmax_dim_axis_and_errors(name):
    F = sd.nn.functional
    x_np = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], np.float32)
    e = np.exp(x_np - x_np.max(0, keepdims=True))
    p = e / e.sum(0, keepdims=True)
    want = p if name == "softmax" else np.log(p)
    fn = getattr(F, name)
    np.testing.assert_allclose(fn(sd.tensor(x_np), dim=0).numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(fn(sd.tensor(x_np), axis=0).numpy(), want, rtol=1e-6)
    with pytest.raises((ValueError, IndexError), match=name):
        fn(sd.tensor(x_np), 2)


def test_resolve_names_unknown_and_missing(monkeypatch):
    assert resolve.get_loss("MSE") is sd.nn.functional.mse_loss
    assert isinstance(resolve.get_optimizer("Adam", [sd.nn.Parameter(sd.zeros(2))], lr=0.1), sd.optim.Adam)
    with pytest.raises(ValueError, match="unknown loss 'nope'; known names: .*'mse'"):
        resolve.get_loss("nope")
    with pytest.raises(ValueError, match="unknown optimizer 'nope'; known names: .*'adam'"):
        resolve.get_optimizer("nope", [])
    monkeypatch.setitem(resolve.LOSSES, "gone", "no_such_loss")
    monkeypatch.setitem(resolve.OPTIMIZERS, "gone", "NoSuchOptimizer")
    with pytest.raises(ValueError, match=r"loss 'gone' needs shendu\.nn\.functional\.no_such_loss, which this "
                                         "build does not have"):
        resolve.get_loss("gone")
    with pytest.raises(ValueError, match=r"optimizer 'gone' needs shendu\.optim\.NoSuchOptimizer, which this "
                                         "build does not have"):
        resolve.get_optimizer("gone", [])
