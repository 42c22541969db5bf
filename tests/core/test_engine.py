"""The back-propagation engine (textbook 6.5): chain rule, fan-out, memoisation, deep graphs,
freeing, higher-order gradients, hooks, grad modes, custom Functions and errors."""
import sys

import numpy as np
import pytest

import shendu as sd
from shendu.autograd import Function


def test_mul_x_x_is_2x():
    # Textbook 6.5.6: bprop treats repeated inputs as distinct; d/dx (x*x) at 3 is 6.
    x = sd.tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == 6.0


def test_fanout_weight_decay_graph():
    # Textbook figure 6.8(d): w feeds the prediction and the penalty lambda * sum(w^2).
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 3)), rng.standard_normal(5)
    w = sd.tensor(rng.standard_normal(3), requires_grad=True)
    lam = 0.3
    J = ((sd.tensor(X) @ w - sd.tensor(y)) ** 2).mean() + lam * (w * w).sum()
    J.backward()
    expected = 2 * X.T @ (X @ w.numpy() - y) / 5 + 2 * lam * w.numpy()
    np.testing.assert_allclose(w.grad.numpy(), expected, rtol=1e-12)


def test_matmul_rule_against_finite_differences():
    # Textbook 6.5.6 MatMul rule: z = sum(W o (AB)); grad_A = G B^T, grad_B = A^T G with G = W.
    rng = np.random.default_rng(1)
    A = sd.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    B = sd.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    W = rng.standard_normal((2, 4))
    (sd.tensor(W) * (A @ B)).sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), W @ B.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(B.grad.numpy(), A.numpy().T @ W, rtol=1e-12)
    num = sd.autograd.numerical_grad(lambda a: (sd.tensor(W) * (a @ B.detach())).sum(), A.detach().double())
    np.testing.assert_allclose(A.grad.numpy(), num, rtol=1e-6)


def test_diamond_ladder_calls_bprop_linearly():
    # Textbook 6.5.9: u_{k+1} = f(u_k) + g(u_k) has 2^L paths; backprop must call each bprop once.
    calls = {"n": 0}

    class Counted(Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, gy):
            calls["n"] += 1
            return gy

    L = 40
    x = sd.tensor(1.0, requires_grad=True)
    u = x
    for _ in range(L):
        u = Counted.apply(u) + Counted.apply(u)
    u.backward()
    assert calls["n"] == 2 * L
    assert x.grad.item() == 2.0 ** L


def test_deep_graph_has_no_recursion_limit():
    x = sd.tensor(np.ones(3), requires_grad=True)
    h = x
    n = max(10_000, sys.getrecursionlimit() * 3)
    for _ in range(n):
        h = h * 1.0 + 0.0
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones(3))


def test_gradients_accumulate_across_backward_calls():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


def test_second_backward_through_freed_graph_raises():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1)


def test_backward_on_non_scalar_needs_gradient():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"scalar outputs; got an output of shape \(2,\)"):
        (x * 2).backward()
    (x * 2).backward(sd.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        sd.tensor([1.0]).sum().backward()


def test_leaf_grads_never_share_memory():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    y = sd.tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    x.grad.mul_(0.0)
    np.testing.assert_allclose(y.grad.numpy(), [1.0, 1.0])


def test_grad_function_and_allow_unused():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    z = sd.tensor([5.0], requires_grad=True)
    y = (x ** 2).sum()
    (gx,) = sd.grad(y, [x], retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert x.grad is None  # sd.grad does not touch .grad
    with pytest.raises(RuntimeError, match="not used"):
        sd.grad(y, [x, z], retain_graph=True)
    gx2, gz = sd.grad(y, [x, z], allow_unused=True)
    assert gz is None


def test_grad_wrt_intermediate_tensor():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = sd.grad(y, [h])
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())


def test_higher_order_derivatives():
    x = sd.tensor(2.0, requires_grad=True)
    y = x ** 3
    (g,) = sd.grad(y, [x], create_graph=True)
    (g2,) = sd.grad(g, [x], create_graph=True)
    (g3,) = sd.grad(g2, [x])
    assert (g.item(), g2.item(), g3.item()) == (12.0, 12.0, 6.0)


def test_create_graph_backward_builds_differentiable_grad():
    x = sd.tensor([0.5, -1.0], requires_grad=True)
    y = sd.tanh(x).sum()
    y.backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = sd.grad(x.grad.sum(), [x])
    t = np.tanh(x.numpy())
    np.testing.assert_allclose(gg.numpy(), -2 * t * (1 - t * t), rtol=1e-6)


def test_hvp_matches_explicit_hessian():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((4, 4))
    A = A @ A.T
    w = sd.tensor(rng.standard_normal(4), requires_grad=True)
    v = sd.tensor(rng.standard_normal(4))

    def f():
        return 0.5 * (w @ (sd.tensor(A) @ w)) + (w ** 3).sum()

    hv = sd.autograd.hvp(f, w, v)
    H = A + np.diag(6 * w.numpy())
    np.testing.assert_allclose(hv.numpy(), H @ v.numpy(), rtol=1e-10)
    np.testing.assert_allclose(sd.autograd.hessian(f, [w]).numpy(), H, rtol=1e-10)


def test_jacobian():
    x = sd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    J = sd.autograd.jacobian(lambda t: t * t, x)
    np.testing.assert_allclose(J.numpy(), np.diag([2.0, 4.0, 6.0]))


def test_hooks_on_leaf_and_intermediate():
    x = sd.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    h = x * 2
    h.register_hook(lambda g: g * 10)  # replaces the gradient flowing into h
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 10 * 2 * h.numpy())
    np.testing.assert_allclose(x.grad.numpy(), 2 * 10 * 2 * h.numpy())
    np.testing.assert_allclose(seen[0], x.grad.numpy())


def test_hook_handle_remove():
    x = sd.tensor([1.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 0)
    handle.remove()
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0


def test_backward_inputs_restricts_accumulation():
    a = sd.tensor([1.0], requires_grad=True)
    b = sd.tensor([2.0], requires_grad=True)
    (a * b).sum().backward(inputs=[a])
    assert a.grad.item() == 2.0 and b.grad is None


def test_no_grad_and_enable_grad():
    x = sd.tensor([1.0], requires_grad=True)
    with sd.no_grad():
        y = x * 2
        assert not sd.is_grad_enabled()
        with sd.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad
    assert sd.is_grad_enabled()

    @sd.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    with sd.set_grad_enabled(False):
        assert not (x + 1).requires_grad


def test_custom_function_pytorch_style_and_gradcheck():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return gy * 3 * x * x

    x = sd.tensor(np.array([0.5, -2.0, 1.5]), requires_grad=True)
    y = Cube.apply(x)
    np.testing.assert_allclose(y.numpy(), x.numpy() ** 3)
    assert sd.autograd.gradcheck(Cube.apply, [x])


def test_gradcheck_catches_a_wrong_backward():
    class Wrong(Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * self.inputs[0] * 3  # should be 2x

    x = sd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(sd.autograd.GradcheckError, match=r"input 0 \(shape \(2,\)\) at index \(0,\)") as info:
        sd.autograd.gradcheck(lambda t: Wrong.apply(t), [x])
    import re

    ana, num = map(float, re.search(r"analytic (\S+) vs numerical (\S+)", str(info.value)).groups())
    assert abs(ana / num - 1.5) < 1e-6  # 3x instead of 2x


def test_inplace_modification_of_needed_value_is_detected():
    w = sd.tensor([1.0, 2.0], requires_grad=True)
    x = sd.tensor([3.0, 4.0])
    y = (w * x).sum()
    x[0] = 10.0  # x is needed by mul's backward
    with pytest.raises(RuntimeError, match=r"Mul: input 1 .* modified in place"):
        y.backward()


def test_inplace_on_leaf_requiring_grad_raises_unless_no_grad():
    w = sd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place operation on a leaf"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="__setitem__"):
        w[0] = 3.0
    with sd.no_grad():
        w.add_(1.0)
        w[1] = 0.0
    np.testing.assert_allclose(w.numpy(), [2.0, 0.0])


def test_inplace_after_use_through_optimizer_style_update_is_detected():
    w = sd.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    with sd.no_grad():
        w.sub_(0.1)
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_anomaly_mode_names_the_op():
    x = sd.tensor([0.0, 1.0], requires_grad=True)
    with sd.detect_anomaly():
        with pytest.raises(RuntimeError, match="Log produced NaN/Inf"):
            sd.log(x - 1.0)
        y = sd.sqrt(x)  # forward finite, backward infinite at 0
        with pytest.raises(RuntimeError, match="SqrtBackward produced NaN/Inf"):
            y.sum().backward()


def test_unused_outputs_of_multi_output_op_get_zero_gradient():
    x = sd.tensor(np.arange(6.0), requires_grad=True)
    a, b, c = sd.split(x, 2)
    (b * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0, 3, 3, 0, 0])


def test_gradient_dtype_matches_input_even_with_mixed_dtypes():
    w = sd.tensor([1.0, 2.0], requires_grad=True)  # float32
    x = sd.tensor(np.array([1.0, 1.0]))  # float64
    (w * x).sum().backward()
    assert w.grad.dtype == np.float32


def test_intermediates_are_freed_after_backward():
    import gc
    import weakref

    x = sd.tensor(np.ones(10), requires_grad=True)
    h = x.exp()
    fn_ref = weakref.ref(h.grad_fn)
    y = (h * 2).sum()
    del h
    y.backward()
    del y
    gc.collect()
    assert fn_ref() is None


def test_leaf_hook_sees_the_total_gradient_once():
    # As PyTorch's AccumulateGrad: a leaf used twice gets its hook called once, on the sum.
    a = sd.tensor([1.0, 1.0], requires_grad=True)
    calls = []
    a.register_hook(lambda g: calls.append(g.numpy().copy()))
    (a * 2 + a * 3).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0], [5.0, 5.0])


def test_shared_leaf_gradient_sums_without_aliasing():
    # a feeds an Add (whose backward passes one array to both inputs) and two more uses:
    # in-place summation inside the engine must not corrupt the other consumer's gradient.
    a = sd.tensor([1.0, 2.0], requires_grad=True)
    e = sd.tensor([3.0, 4.0], requires_grad=True)
    h = e * 2
    z = (a + h) + a * 5 + a * 7
    z.backward(sd.tensor([1.0, 10.0]))
    np.testing.assert_allclose(a.grad.numpy(), [13.0, 130.0])
    np.testing.assert_allclose(e.grad.numpy(), [2.0, 20.0])
    assert not np.shares_memory(a.grad.numpy(), e.grad.numpy())
