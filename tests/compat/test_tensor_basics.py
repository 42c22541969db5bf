"""Everyday torch / Tensor names a textbook program uses, each checked against torch on the same input."""
import numpy as np
import pytest

import shendu as sd

torch = pytest.importorskip("torch")
from .test_names import A, P, _close, both  # noqa: E402

B = A[::-1].copy()
OPS = {
    "as_tensor": lambda m, x: m.as_tensor(x),
    "is_tensor": lambda m, x: m.is_tensor(x),
    "ones_like": lambda m, x: m.ones_like(x),
    "full_like": lambda m, x: m.full_like(x, 2.5),
    "empty_like": lambda m, x: m.empty_like(x).shape,
    "add": lambda m, x: m.add(x, 1.5),
    "sub": lambda m, x: m.sub(x, x * 2),
    "mul": lambda m, x: m.mul(x, x),
    "div": lambda m, x: m.div(x, 4.0),
    "pow": lambda m, x: m.pow(x, 2),
    "log1p": lambda m, x: m.log1p(x.abs()),
    "expm1": lambda m, x: m.expm1(x),
    "rsqrt": lambda m, x: m.rsqrt(x.abs() + 0.1),
    "square": lambda m, x: m.square(x),
    "cos": lambda m, x: m.cos(x),
    "neg": lambda m, x: m.neg(x),
    "floor": lambda m, x: m.floor(x),
    "round": lambda m, x: m.round(x),
    "clamp": lambda m, x: m.clamp(x, -1, 1),
    "clip": lambda m, x: m.clip(x, min=0.0),
    "minimum": lambda m, x: m.minimum(x, x.flip(0)),
    "amin": lambda m, x: m.amin(x, dim=1),
    "ne": lambda m, x: m.ne(x, 0.5),
    "le": lambda m, x: m.le(x, 0.5),
    "ge": lambda m, x: m.ge(x, 0.5),
    "isnan": lambda m, x: m.isnan(x),
    "isinf": lambda m, x: m.isinf(m.cat([x[0], m.tensor([float("inf"), -float("inf")])])),
    "logical_and": lambda m, x: m.logical_and(x > 0, x < 1),
    "logical_or": lambda m, x: m.logical_or(x > 1, x < 0),
    "logical_xor": lambda m, x: m.logical_xor(x > 0, x < 1),
    "concat": lambda m, x: m.concat([x, x], dim=1),
    "swapaxes": lambda m, x: m.swapaxes(x, 0, 1),
    "broadcast_to": lambda m, x: m.broadcast_to(x[0], (4, 3)),
    "einsum": lambda m, x: m.einsum("ij,kj->ik", x, x),
    "matmul": lambda m, x: m.matmul(x, x.T),
    "dot": lambda m, x: m.dot(x[0], x[1]),
    "outer": lambda m, x: m.outer(x[0], x[1]),
    "Tensor.clone": lambda m, x: x.clone(),
    "Tensor.contiguous": lambda m, x: x.T.contiguous(),
    "Tensor.view": lambda m, x: x.view(3, 2),
    "Tensor.view_-1": lambda m, x: x.view(-1),
    "Tensor.reshape_as": lambda m, x: x.reshape_as(x.T),
    "Tensor.expand": lambda m, x: x[:1].expand(4, 3),
    "Tensor.expand_as": lambda m, x: x[:1].expand_as(x),
    "Tensor.type_as": lambda m, x: x.type_as(m.zeros(1, dtype=m.float64)),
    "Tensor.mT": lambda m, x: x.mT,
    "Tensor.masked_fill": lambda m, x: x.masked_fill(x > 0, -1.0),
    "Tensor.repeat": lambda m, x: x.repeat(2, 1),
    "Tensor.item": lambda m, x: x[0, 0].item(),
    "Tensor.tolist": lambda m, x: x.tolist(),
    "Tensor.numpy": lambda m, x: x.numpy(),
    "Tensor.index_select": lambda m, x: x.index_select(1, m.tensor([2, 0])),
    "Tensor.gather": lambda m, x: x.gather(1, m.tensor([[0], [2]])),
    "Tensor.argmax": lambda m, x: x.argmax(dim=1),
    "Tensor.max_dim": lambda m, x: tuple(x.max(dim=0)),
    "Tensor.float": lambda m, x: (x > 0).float(),
    "Tensor.long": lambda m, x: x.long(),
    "Tensor.size": lambda m, x: tuple(x.size()),
    "Tensor.dim": lambda m, x: x.dim(),
    "Tensor.std": lambda m, x: x.std(dim=0),
    "Tensor.var": lambda m, x: x.var(unbiased=False),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_everyday_op_matches_torch(name):
    s, t = both(OPS[name], A)
    if isinstance(t, (bool, int, float, list, tuple)) and not isinstance(t, tuple) or name == "Tensor.size":
        assert s == t
    elif isinstance(t, torch.Size):
        assert tuple(s) == tuple(t)
    elif isinstance(t, np.ndarray):
        np.testing.assert_allclose(s, t)
    else:
        _close(s, t)


def test_inplace_arithmetic_matches_torch():
    for m in (sd, torch):
        x = m.tensor(P.copy())
        x.sub_(0.5).mul_(2.0).div_(4.0).clamp_(-0.2, 0.6).add_(1.0)
        x.fill_diagonal_(0.0)
        y = m.zeros(2, 3).fill_(3.0)
        y.zero_()
        if m is sd:
            xs, ys = x, y
    _close(xs, x)
    _close(ys, y)


def test_grad_mode_and_hooks_match_torch():
    for m in (sd, torch):
        x = m.tensor(P.copy()).requires_grad_()
        assert x.is_leaf and x.requires_grad and m.is_grad_enabled()
        seen = []
        x.register_hook(lambda g: seen.append(g.sum().item()))
        y = x * 3
        y.retain_grad()
        assert y.grad_fn is not None and not y.is_leaf
        with m.set_grad_enabled(False):
            assert not (x * 2).requires_grad and not m.is_grad_enabled()
            with m.enable_grad():
                assert (x * 2).requires_grad
        (y * y).sum().backward()
        d = y.detach()
        d2 = (x * 1).detach_()
        assert not d.requires_grad and not d2.requires_grad and d.is_contiguous()
        if m is sd:
            ref = (x.grad.numpy(), y.grad.numpy(), seen)
    np.testing.assert_allclose(ref[0], x.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ref[1], y.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(ref[2], seen, rtol=1e-6)


def test_default_dtype_and_dtype_names_match_torch():
    for name in ("float16", "int8", "uint8", "int16", "bool", "half", "long", "double", "float"):
        assert np.dtype(getattr(sd, name)) == torch.zeros(1, dtype=getattr(torch, name)).numpy().dtype, name
    assert sd.get_default_dtype() == np.float32
    sd.set_default_dtype(sd.float64)
    try:
        assert sd.tensor([1.5]).dtype == np.float64 and sd.get_default_dtype() == np.float64
    finally:
        sd.set_default_dtype(sd.float32)


def test_bernoulli_draws_zeros_and_ones_at_rate_p():
    x = sd.empty(4000).bernoulli_(0.3).numpy()
    assert set(np.unique(x)) == {0.0, 1.0} and 0.27 < x.mean() < 0.33
    assert torch.empty(4).bernoulli_(0.3).unique().numel() <= 2
