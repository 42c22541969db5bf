import numpy as np
import pytest

import shendu as sd
from shendu.autograd import Function


def test_profile_counts_ops_forward_and_backward():
    x = sd.randn(3, 4, requires_grad=True)
    w = sd.randn(4, 2, requires_grad=True)
    with sd.autograd.profile() as prof:
        y = (x @ w).tanh().sum()
        y.backward()
    s = prof.stats()
    assert s["MatMul"]["forward_calls"] == 1 and s["MatMul"]["backward_calls"] == 1
    assert s["Tanh"]["forward_calls"] == 1 and s["Tanh"]["backward_calls"] == 1
    assert all(v["total_s"] >= 0 for v in s.values())
    assert "MatMul" in prof.table()
    # outside the context nothing is recorded and the hook is gone
    (x * 2).sum().backward()
    assert "Mul" not in prof.stats()
    assert Function.__call__.__name__ == "__call__"


def test_profile_times_layers_by_name():
    class Net(sd.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = sd.nn.Sequential()

        def forward(self, x):
            return self.inner(x) * 2

    net = Net()
    with sd.autograd.profile(net) as prof:
        net(sd.ones(2))
        net(sd.ones(2))
    assert prof.layers["inner"].calls == 2
    assert "inner" in prof.table()


def test_profilers_do_not_nest():
    with sd.autograd.profile():
        with pytest.raises(RuntimeError, match="nest"):
            with sd.autograd.profile():
                pass
    np.testing.assert_allclose((sd.ones(2) * 3).numpy(), [3, 3])
