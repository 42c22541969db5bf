"""Property tests (hypothesis): broadcasting binary ops give NumPy's forward and sum-reduced gradients."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shendu as sd


def _reduce_to(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


OPS = {
    "add": (lambda a, b: a + b, lambda a, b, g: (g, g)),
    "sub": (lambda a, b: a - b, lambda a, b, g: (g, -g)),
    "mul": (lambda a, b: a * b, lambda a, b, g: (g * b, g * a)),
    "div": (lambda a, b: a / b, lambda a, b, g: (g / b, -g * a / b ** 2)),
}


@settings(max_examples=60, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4),
       op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2**16))
def test_broadcast_forward_and_gradients(shapes, op, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes.input_shapes
    a = rng.uniform(0.5, 2.0, sa)
    b = rng.uniform(0.5, 2.0, sb)
    f, df = OPS[op]
    ta, tb = sd.tensor(a, requires_grad=True), sd.tensor(b, requires_grad=True)
    y = f(ta, tb)
    np.testing.assert_allclose(y.numpy(), f(a, b), rtol=1e-12)
    assert y.shape == shapes.result_shape
    g = rng.standard_normal(shapes.result_shape)
    y.backward(sd.tensor(g))
    ea, eb = df(np.broadcast_to(a, y.shape), np.broadcast_to(b, y.shape), g)
    np.testing.assert_allclose(ta.grad.numpy(), _reduce_to(ea, sa), rtol=1e-10)
    np.testing.assert_allclose(tb.grad.numpy(), _reduce_to(eb, sb), rtol=1e-10)
    assert ta.grad.shape == sa and tb.grad.shape == sb


@settings(max_examples=40, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=4, max_side=5), data=st.data())
def test_reductions_over_random_axes(shape, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    keep = data.draw(st.booleans())
    x = np.random.default_rng(0).standard_normal(shape)
    t = sd.tensor(x, requires_grad=True)
    y = t.sum(dim=axis, keepdim=keep)
    np.testing.assert_allclose(y.numpy(), x.sum(axis=axis, keepdims=keep), rtol=1e-12)
    y.backward(sd.ones(*y.shape, dtype=sd.float64) if y.shape else None)
    np.testing.assert_allclose(t.grad.numpy(), np.ones(shape))
