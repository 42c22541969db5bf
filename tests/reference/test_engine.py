"""The product engine (Tensor.backward) against shendu.reference.engine (Algorithm 6.6) on random small graphs,
shared subexpressions, x * x, and a multi-output op; float64."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.reference import engine as R

UNARY = [lambda a: a.tanh(), lambda a: a.sin(), lambda a: (a * 0.3).exp(), lambda a: a.sigmoid(),
         lambda a: a * a, lambda a: a.sum(dim=1, keepdim=True) * a, lambda a: a.transpose(0, 1).transpose(0, 1)]
BINARY = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a - 2.0 * b, lambda a, b: (a @ b.transpose(0, 1)) @ a]


def _random_graph(seed):
    rng = np.random.default_rng(seed)
    leaves = [sd.tensor(rng.standard_normal((3, 4)) * 0.5, requires_grad=True) for _ in range(3)]
    bias = sd.tensor(rng.standard_normal(4) * 0.5, requires_grad=True)  # broadcast: its gradient is a sum
    nodes = list(leaves) + [leaves[0] + bias]
    for _ in range(int(rng.integers(4, 12))):
        if rng.random() < 0.5:
            nodes.append(UNARY[rng.integers(len(UNARY))](nodes[rng.integers(len(nodes))]))
        else:
            a, b = (nodes[i] for i in rng.integers(len(nodes), size=2))
            nodes.append(BINARY[rng.integers(len(BINARY))](a, b) * 0.5)
    z = sum((n * float(rng.standard_normal())).sum() for n in nodes[-3:])
    return z, leaves + [bias]


@pytest.mark.parametrize("seed", range(12))
def test_engine_matches_algorithm_6_6_on_random_graphs(seed):
    z, leaves = _random_graph(seed)
    ref = R.backward(z, leaves)
    z.backward()
    for x, g in zip(leaves, ref):
        if g is None:  # z does not depend on this leaf: the product engine leaves .grad unset
            assert x.grad is None
        else:
            np.testing.assert_allclose(x.grad.numpy(), g.numpy(), rtol=1e-12, atol=1e-12)
    assert any(g is not None for g in ref)


def test_distinct_inputs_rule_and_shared_subexpression():
    """mul(x, x) hands x to each slot (d/dx x*x = 2x at 3 is 6); a diamond ladder sums both paths."""
    x = sd.tensor(np.array(3.0), requires_grad=True)
    (g,) = R.backward(x * x, [x])
    assert g.numpy() == 6.0
    u = x
    for _ in range(10):  # u_{k+1} = sin(u_k) + cos(u_k): 2^10 paths, one bprop per node
        u = u.sin() + u.cos()
    (g,) = R.backward(u, [x])
    u.backward()
    np.testing.assert_allclose(g.numpy(), x.grad.numpy(), rtol=1e-12)


def test_engine_through_multi_output_op():
    """The fused LSTM op returns (y, h, c); only y and c are used, so h's slot gets a zero gradient."""
    rng = np.random.default_rng(7)
    lstm = nn.LSTM(3, 2, dtype="float64")
    x = sd.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    y, (h, c) = lstm(x)
    z = (y * y).sum() + c.sum() * 0.5
    params = [x] + list(lstm.parameters())
    ref = R.backward(z, params)
    z.backward()
    for p, g in zip(params, ref):
        np.testing.assert_allclose(p.grad.numpy(), g.numpy(), rtol=1e-12, atol=1e-12)
