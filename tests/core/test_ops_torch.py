"""Every op against PyTorch as an oracle: forward values and gradients in float64 (rel. tol 1e-5)."""
import numpy as np
import pytest

import shendu as sd

from .op_table import CASES, make_inputs

torch = pytest.importorskip("torch")


def _proj(outs, seed=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(outs.shape)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_torch(case):
    name, fn, tfn, shapes, domain = case
    arrays = make_inputs(shapes, domain, seed=2)
    xs = [sd.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*xs)
    ty = tfn(*ts)
    assert tuple(y.shape) == tuple(ty.shape), f"{name}: shape {y.shape} vs torch {tuple(ty.shape)}"
    assert y.dtype == np.float64
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-10)
    v = _proj(y)
    (y * sd.tensor(v)).sum().backward()
    (ty * torch.tensor(v)).sum().backward()
    for i, (x, t) in enumerate(zip(xs, ts)):
        tg = t.grad.numpy() if t.grad is not None else np.zeros_like(arrays[i])
        g = x.grad.numpy() if x.grad is not None else np.zeros_like(arrays[i])
        np.testing.assert_allclose(g, tg, rtol=1e-5, atol=1e-10, err_msg=f"{name}: gradient of input {i}")
