"""The engine's named steps (autograd.backprop_steps): pruning (Algorithm 6.5), in-place sums that never alias,
the version check, the bprop contract checks; Function.__call__'s fast paths; the split of autograd.tensor."""
import importlib

import numpy as np
import pytest

import shendu as sd
from shendu.autograd import backprop_steps as steps
from shendu.autograd.function import Function


class Counted(Function):
    """y = 2x, counting its bprop calls."""

    calls = 0

    def forward(self, x):
        return x * 2

    def backward(self, gy):
        type(self).calls += 1
        return gy * 2


def test_grad_prunes_ops_that_do_not_reach_the_requested_inputs():
    """Algorithm 6.5: G' keeps the ancestors of z that descend from T; w's branch is never back-propagated."""
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    w = sd.tensor([3.0, 4.0], requires_grad=True)
    Counted.calls = 0
    z = (x * x).sum() + Counted()(w).sum()
    (gx,) = sd.grad(z, [x], retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert Counted.calls == 0 and w.grad is None
    z.backward(inputs=[w])  # only w: the x branch is pruned and x.grad stays unset
    assert Counted.calls == 1 and x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 2.0])


def test_useful_ops_is_the_pruned_graph():
    x = sd.tensor([1.0], requires_grad=True)
    w = sd.tensor([1.0], requires_grad=True)
    a, b = x * 3, w * 5
    z = a + b
    order = steps.topo_order([z.grad_fn])
    assert order[-1] is z.grad_fn and set(order) == {a.grad_fn, b.grad_fn, z.grad_fn}
    assert steps.useful_ops([z.grad_fn], {id(x)}, {}) == {a.grad_fn, z.grad_fn}
    assert steps.useful_ops([z.grad_fn], set(), {(b.grad_fn, 0): b}) == {z.grad_fn}


def test_node_gradient_summed_in_place_never_changes_an_aliased_gradient():
    """Add hands the same gradient array to both inputs; a later in-place sum into one entry must not reach the
    other (the table marks only the entries it allocated). s is created last, so its bprop runs first and the
    shared array is the first entry of u's and v's slots."""
    x = sd.tensor(np.arange(3.0), requires_grad=True)
    u, v = x * 1.0, x * 1.0
    m2, m3 = u * 2.0, u * 3.0
    s = u + v
    (m2 + m3 + s).sum().backward()  # u: 2 + 3 + 1, v: 1
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 7.0))
    w = sd.tensor(np.arange(3.0), requires_grad=True)
    p2, p3 = w * 2.0, w * 3.0
    t = w + w * 1.0  # the same array goes to leaf w's total and to the Mul node's slot
    (p2 + p3 + t).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.full(3, 7.0))


def test_retained_gradient_is_not_changed_by_later_sums():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.retain_grad()
    z = y + y  # y's gradient is the sum of two contributions
    (z.sum() + (y * 4.0).sum()).backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 6.0])
    np.testing.assert_allclose(x.grad.numpy(), [12.0, 12.0])


def test_version_check_names_the_op_and_input():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y * y
    with sd.no_grad():
        y.add_(1.0)
    with pytest.raises(RuntimeError, match=r"Mul: input 0 \(shape \(2,\)\) was modified in place"):
        z.sum().backward()


def test_bprop_contract_errors():
    class WrongCount(Function):
        def forward(self, a, b):
            return a + b

        def backward(self, gy):
            return (gy,)

    class WrongShape(Function):
        def forward(self, a):
            return a * 1

        def backward(self, gy):
            return gy.sum()

    a = sd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="WrongCount.backward returned 1 gradients, expected 2"):
        WrongCount()(a, a).sum().backward()
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape \(\) for input 0"):
        WrongShape()(a).sum().backward()


def test_gradient_is_cast_to_the_input_dtype():
    class Upcast(Function):
        def forward(self, a):
            return a * 1

        def backward(self, gy):
            return gy.double()

    a = sd.tensor([1.0, 2.0], requires_grad=True)
    Upcast()(a).sum().backward()
    assert a.grad.dtype == np.float32


def test_function_call_fast_path_runs_forward_once_and_keeps_zero_d_arrays():
    class Flaky(Function):
        runs = 0

        def forward(self, a, b):
            type(self).runs += 1
            raise AttributeError("inside forward")

    a = sd.tensor([1.0])
    with pytest.raises(AttributeError, match="inside forward"):
        Flaky()(a, a)
    assert Flaky.runs == 1  # an error inside forward is not mistaken for a non-Tensor input

    class Total(Function):
        def forward(self, a):
            return a.sum()  # NumPy returns a scalar, not an array

        def backward(self, gy):
            return gy * sd.ones_like(self.inputs[0])

    x = sd.tensor([1.0, 2.0], requires_grad=True)
    y = Total()(x)
    assert isinstance(y._data, np.ndarray) and y.shape == () and y.grad_fn is not None
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])
    with sd.no_grad():
        assert Total()(x).grad_fn is None and Total()(x).requires_grad is False


def test_function_call_records_only_what_needs_grad():
    a = sd.tensor([1.0, 2.0], requires_grad=True)
    b = sd.tensor([3.0, 4.0])
    y = a * b
    fn = y.grad_fn
    assert fn.needs_input_grad == (True, False) and fn.inputs == (a, b) and fn._versions == (0, 0)
    assert y.requires_grad and not y.is_leaf
    assert (b * b).grad_fn is None and not (b * b).requires_grad
    s = a + b  # Add reads no input values: no versions kept
    assert s.grad_fn._versions is None and s.grad_fn._seq > fn._seq


def test_anomaly_mode_checks_forward_on_the_fast_path():
    x = sd.tensor([-1.0, 1.0], requires_grad=True)
    with sd.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(RuntimeError, match="Log produced NaN/Inf in its forward output 0"):
            sd.log(x)
    with np.errstate(invalid="ignore"):
        assert np.isnan(sd.log(x).detach().numpy()[0])  # off again: no check


@pytest.mark.parametrize("name", ["Tensor", "tensor", "as_tensor", "is_tensor", "scalar_like", "array_of", "_wrap",
                                  "_wrap_grad", "_to_array", "_index_to", "_POST_HOOKS", "_HookHandle",
                                  "_PostHookHandle", "_ragged", "_not_numeric", "_host_values", "_same_device"])
def test_tensor_module_keeps_every_import_path(name):
    mod = importlib.import_module("shendu.autograd.tensor")
    assert getattr(mod, name) is not None
    assert sd.Tensor is mod.Tensor


def test_tensor_methods_from_each_concept_file():
    t = sd.tensor([[1.5, -2.0]])
    assert t.numpy().tolist() == [[1.5, -2.0]] and t.double().dtype == np.float64  # tensor_convert
    r = repr(sd.tensor([1.0], requires_grad=True))
    assert r.startswith("tensor([1.]") and r.endswith("requires_grad=True)")
    v0 = t._version
    t.mul_(2.0).add_(1.0)  # tensor_inplace: each in-place op counts a version
    assert t._version == v0 + 2 and t.numpy().tolist() == [[4.0, -3.0]]
    p = sd.tensor([1.0], requires_grad=True)
    h = p.register_hook(lambda g: g * 3)  # tensor_hooks
    (p * 2).sum().backward()
    assert p.grad.numpy().tolist() == [6.0]
    h.remove()
    with pytest.raises(RuntimeError, match="in-place operation on a leaf tensor"):
        p.add_(1.0)
