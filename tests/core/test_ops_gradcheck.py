"""Every differentiable op: float64 gradcheck (centered differences) and second derivatives."""
import pytest

import shendu as sd

from .op_table import CASES, make_inputs

IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck(case):
    name, fn, _, shapes, domain = case
    xs = [sd.tensor(a, requires_grad=True) for a in make_inputs(shapes, domain)]
    assert sd.autograd.gradcheck(fn, xs, eps=1e-6, atol=1e-6, rtol=1e-5)


# ops whose backward is itself written with differentiable ops: check second derivatives too
SECOND = {"mul", "div", "pow_tensor", "exp", "log", "sqrt", "tanh", "sigmoid", "softplus", "matmul_2d",
          "matmul_bcast", "sum_dim", "mean", "var", "logsumexp", "softmax", "log_softmax", "norm2_dim",
          "getitem_intarray_repeat", "gather", "cat", "einsum_bmm", "mlp", "fanout", "expand", "prod", "amax",
          "cumsum", "pad", "tile", "rsqrt", "sin", "cos"}


@pytest.mark.parametrize("case", [c for c in CASES if c[0] in SECOND], ids=sorted(SECOND, key=IDS.index))
def test_gradgradcheck(case):
    name, fn, _, shapes, domain = case
    xs = [sd.tensor(a, requires_grad=True) for a in make_inputs(shapes, domain, seed=1)]
    assert sd.autograd.gradgradcheck(fn, xs, eps=1e-6, atol=1e-5, rtol=1e-4)
