"""Graph introspection (6.39, A.8.4) and linear-region counting / tent folding (6.34, W6.13)."""
import numpy as np
import pytest

import shendu as sd
from shendu.autograd import graph
from shendu.nn import regions as R


def test_get_operation_inputs_consumers_and_topological_order():
    x = sd.tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = sd.tensor(np.array([3.0, -1.0]), requires_grad=True)
    a = x * w            # consumers of x: mul, and exp below
    b = x.exp()
    c = a + b
    loss = (c * c).sum()
    assert graph.get_operation(x) is None and graph.get_inputs(x) == ()
    assert graph.get_operation(a) is a.grad_fn
    ins = graph.get_inputs(a)
    assert len(ins) == 2 and ins[0] is x and ins[1] is w
    cons = graph.get_consumers(x, loss)
    assert sorted(type(f).__name__ for f in cons) == sorted([type(a.grad_fn).__name__, type(b.grad_fn).__name__])
    assert {id(f) for f in cons} == {id(a.grad_fn), id(b.grad_fn)}
    assert [id(f) for f in graph.get_consumers(a, loss)] == [id(c.grad_fn)]
    assert len(graph.get_consumers(c, loss)) == 1  # c * c: one node, c in both slots
    order = graph.topological_order(loss)
    pos = {id(f): i for i, f in enumerate(order)}
    assert len(order) == 5 and order[-1] is loss.grad_fn
    for fn in order:  # every producer comes before its consumer
        for t in fn.inputs:
            if t.grad_fn is not None:
                assert pos[id(t.grad_fn)] < pos[id(fn)]
    assert [id(t) for t in graph.leaves(loss)] == [id(x), id(w)]
    assert graph.get_consumers(w, b) == []  # w does not feed b's graph
    with pytest.raises(TypeError, match="get_inputs"):
        graph.get_inputs(np.ones(2))


def test_freed_graph_is_reported():
    x = sd.tensor(np.array([1.0]), requires_grad=True)
    y = (x * x).exp()
    y.backward()
    with pytest.raises(RuntimeError, match="freed"):
        graph.topological_order(y)


@pytest.mark.parametrize("l", [1, 2, 3, 4, 5, 6])
def test_w6_13_tent_fold_layers_have_2_to_the_l_linear_pieces(l):
    net = R.tent_net(l, dtype=np.float64)
    f = lambda x: net(sd.tensor(x)).numpy()  # noqa: E731
    assert R.count_linear_pieces(f, 0.0, 1.0, n=4001) == 2 ** l
    y = f(np.array([[0.0], [0.5], [1.0]]))[:, 0]
    np.testing.assert_allclose(y, [1.0, 0.0 if l == 1 else 1.0, 1.0], atol=1e-12)  # maps [0, 1] onto itself


def test_count_pieces_of_a_random_shallow_relu_net_matches_its_kinks():
    for seed in range(20):  # a net whose kinks are resolvable on the grid (at least 0.01 apart)
        rng = np.random.default_rng(seed)
        W1, b1, W2 = rng.normal(size=8), rng.normal(size=8), rng.normal(size=8)
        kinks = -b1 / W1
        inside = np.sort(kinks[(kinks > -2) & (kinks < 2)])
        if len(inside) >= 4 and np.min(np.diff(inside)) > 0.01:
            break
    f = lambda x: np.maximum(x * W1 + b1, 0) @ W2  # noqa: E731
    assert R.count_linear_pieces(f, -2.0, 2.0, n=20001) == len(inside) + 1


def test_region_bounds_6_42_and_6_43_grow_exponentially_with_depth():
    assert R.montufar_regions(1, 2, 1) == 2 and R.montufar_regions(1, 2, 3) == 8  # d=1, n=2: 2^l as the tent net
    assert R.montufar_regions(2, 4, 3) == 6 ** 4 * 16
    assert R.maxout_regions(2, 1, 5) == 2 ** 5
    with pytest.raises(ValueError, match="montufar_regions"):
        R.montufar_regions(0, 2, 2)
