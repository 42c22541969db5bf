"""Where a shape/reduce/matmul/recurrent op keeps its array-level ``backward_array`` (benchmarks/
backward_array_shape.py shows it pays), it agrees with the differentiable ``backward``; the ops that lost it
have no second copy; prod's single rule is exact with zeros (first and second order, torch as oracle)."""
import numpy as np
import pytest

import shendu as sd
from shendu.ops import linalg as L
from shendu.ops import reduce as R
from shendu.ops import rnn as RNN
from shendu.ops import shape as S


def _x(*shape, seed=0, scale=1.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


MASK = (np.arange(4)[:, None] < np.array([4, 2, 3])[None, :]).astype(np.float64)[:, :, None]

# (Function class, inputs as arrays, fn(*tensors) -> output or tuple of outputs)
CASES = {
    "sum_axis": (R.Sum, [_x(3, 4, 2)], lambda x: R.sum(x, (0, 2))),
    "sum_keepdim": (R.Sum, [_x(3, 4)], lambda x: R.sum(x, 1, keepdim=True)),
    "sum_all": (R.Sum, [_x(3, 4)], lambda x: R.sum(x)),
    "mean": (R.Mean, [_x(3, 4, 2)], lambda x: R.mean(x, 1)),
    "mean_all": (R.Mean, [_x(3, 4)], lambda x: R.mean(x)),
    "amax_ties": (R.Amax, [np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]])], lambda x: R.amax(x, 1)),
    "amin_all": (R.Amax, [_x(3, 4)], lambda x: R.amin(x)),
    "norm2_zero_row": (R.Norm2, [np.array([[0.0, 0.0], [3.0, 4.0]])], lambda x: R.norm(x, 2, 1)),
    "norm2_all": (R.Norm2, [_x(3, 4)], lambda x: R.norm(x)),
    "matmul_2d": (L.MatMul, [_x(3, 4), _x(4, 5, seed=1)], lambda a, b: L.matmul(a, b)),
    "matmul_batched": (L.MatMul, [_x(2, 3, 4), _x(4, 5, seed=1)], lambda a, b: L.matmul(a, b)),
    "matmul_vec_mat": (L.MatMul, [_x(4), _x(2, 4, 5, seed=1)], lambda a, b: L.matmul(a, b)),
    "matmul_mat_vec": (L.MatMul, [_x(2, 3, 4), _x(4, seed=1)], lambda a, b: L.matmul(a, b)),
    "matmul_dot": (L.MatMul, [_x(4), _x(4, seed=1)], lambda a, b: L.matmul(a, b)),
    "lstm": (RNN.LSTMSeq, [_x(4, 3, 8, scale=0.5), _x(8, 2, seed=1), _x(3, 2, seed=2), _x(3, 2, seed=3)],
             lambda *a: RNN.LSTMSeq()(*a)),
    "lstm_mask_reverse": (RNN.LSTMSeq, [_x(4, 3, 8, scale=0.5), _x(8, 2, seed=1), _x(3, 2, seed=2),
                                        _x(3, 2, seed=3)], lambda *a: RNN.LSTMSeq(MASK, True)(*a)),
    "gru": (RNN.GRUSeq, [_x(4, 3, 6, scale=0.5), _x(6, 2, seed=1), _x(6, seed=2), _x(3, 2, seed=3)],
            lambda *a: RNN.GRUSeq()(*a)),
    "gru_mask": (RNN.GRUSeq, [_x(4, 3, 6, scale=0.5), _x(6, 2, seed=1), _x(6, seed=2), _x(3, 2, seed=3)],
                 lambda *a: RNN.GRUSeq(MASK)(*a)),
    "elman_relu_mask": (RNN.ElmanSeq, [_x(4, 3, 2), _x(2, 2, seed=1), _x(3, 2, seed=2)],
                        lambda *a: RNN.ElmanSeq(MASK, False, "relu")(*a)),
}


def _grads(fn, arrays, seed_grads):
    ts = [sd.tensor(a, requires_grad=True) for a in arrays]
    outs = fn(*ts)
    outs = list(outs) if isinstance(outs, tuple) else [outs]
    sd.autograd.backward(outs, [sd.tensor(g) for g in seed_grads(outs)])
    return [t.grad.numpy() for t in ts]


@pytest.mark.parametrize("name", list(CASES))
def test_kept_backward_array_agrees_with_backward(name, monkeypatch):
    cls, arrays, fn = CASES[name]
    fast = cls.__dict__["backward_array"]  # the op keeps its own array-level rule
    calls = []

    def spy(self, *gys):
        calls.append(1)
        return fast(self, *gys)

    def seeds(outs):
        return [_x(*o.shape, seed=10 + i) for i, o in enumerate(outs)]

    monkeypatch.setattr(cls, "backward_array", spy)
    with_fast = _grads(fn, arrays, seeds)
    assert calls, f"{cls.__name__}.backward_array was not used"
    monkeypatch.setattr(cls, "backward_array", None)  # the engine falls back on the differentiable backward
    with_backward = _grads(fn, arrays, seeds)
    for a, b in zip(with_fast, with_backward):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", [S.Reshape, S.Transpose, S.BroadcastTo, S.SumTo, S.Cat, S.Split, S.Pad, S.Tile,
                                 S.Flip, S.Roll, R.Prod, R.Cumsum, R.LogSumExp, L.Einsum])
def test_ops_without_a_benefit_write_their_derivative_once(cls):
    assert cls.backward_array is None


@pytest.mark.parametrize("zeros", [[], [(0, 1)], [(0, 1), (0, 3)], [(1, 0), (2, 3)], [(0, 0), (0, 1), (0, 2)]])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_gradient_is_exact_with_zeros(zeros, dim):
    """d prod / d x_i = prod_{j != i} x_j with no, one, two or three zeros in a slice; second order too (torch)."""
    torch = pytest.importorskip("torch")
    a = _x(3, 4, seed=5)
    for i, j in zeros:
        a[i, j] = 0.0
    w = _x(4, 4, seed=6)  # mixes the gradient's entries so the second derivative is not trivially zero
    x = sd.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)

    def f(x):
        return (x.prod() if dim is None else x.prod(dim)).sum()

    (g,) = sd.autograd.grad(f(x), [x], create_graph=True)
    (gt,) = torch.autograd.grad(f(t), [t], create_graph=True)
    np.testing.assert_allclose(g.numpy(), gt.detach().numpy(), rtol=1e-12, atol=1e-12)
    ((g @ sd.tensor(w)) ** 2).sum().backward()
    ((gt @ torch.tensor(w)) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
