"""linear on N-d inputs runs one GEMM over the flattened leading dims (issue 20, word_lm): same values and
gradients as the 2-D computation, PyTorch as the oracle, gradcheck in float64."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 2, 5)])
def test_nd_linear_matches_flattened_and_gradchecks(shape):
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(shape)
    w_np = rng.standard_normal((6, shape[-1]))
    b_np = rng.standard_normal(6)
    x = sd.tensor(x_np, requires_grad=True)
    w = sd.tensor(w_np, requires_grad=True)
    b = sd.tensor(b_np, requires_grad=True)
    y = F.linear(x, w, b)
    assert y.shape == shape[:-1] + (6,)
    np.testing.assert_allclose(y.numpy(), x_np @ w_np.T + b_np, rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(sd.tensor(g))
    g2, x2 = g.reshape(-1, 6), x_np.reshape(-1, shape[-1])
    np.testing.assert_allclose(x.grad.numpy(), (g2 @ w_np).reshape(shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), g2.T @ x2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), g2.sum(0), rtol=1e-12, atol=1e-12)
    xs = [sd.tensor(x_np, requires_grad=True), sd.tensor(w_np, requires_grad=True), sd.tensor(b_np, requires_grad=True)]
    assert sd.autograd.gradcheck(lambda a, c, d: F.linear(a, c, d), xs, eps=1e-6, atol=1e-6, rtol=1e-5)


def test_nd_linear_float32_matches_torch_and_keeps_dtype():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x_np = rng.standard_normal((7, 5, 16)).astype(np.float32)
    w_np = rng.standard_normal((9, 16)).astype(np.float32)
    x = sd.tensor(x_np, requires_grad=True)
    w = sd.tensor(w_np, requires_grad=True)
    y = F.linear(x[:, 1:], w)  # a non-contiguous input
    assert y.dtype == sd.float32
    (y * y).sum().backward()
    tx = torch.tensor(x_np, requires_grad=True)
    tw = torch.tensor(w_np, requires_grad=True)
    ty = torch.nn.functional.linear(tx[:, 1:], tw)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-4, atol=1e-3)
