"""Texts 003/004 rows: perceptron gates and XOR (T3.3), Adam with eps inside the root (T3.11), the linear
recurrent cell (T3.21), stacked sigmoids (T4.4), softmax(1, 2) (T4.9)."""
import itertools

import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.autograd.gradcheck import gradcheck

X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
GATES = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "NAND": [1, 1, 1, 0], "NOR": [1, 0, 0, 0]}


def perceptron(w, b):
    lin = nn.Linear(2, 1)
    lin.weight.data[...] = np.array([w], np.float32)
    lin.bias.data[...] = np.array([b], np.float32)
    return nn.Sequential(lin, nn.Step())


def perceptron_rule(targets, epochs=50):
    """Rosenblatt's rule w <- w + (t - y) x on the four inputs; returns (weights, bias, converged)."""
    w, b = np.zeros(2), 0.0
    for _ in range(epochs):
        errors = 0
        for x, t in zip(X4, targets):
            y = float(w @ x + b > 0)
            if y != t:
                w, b, errors = w + (t - y) * x, b + (t - y), errors + 1
        if errors == 0:
            return w, b, True
    return w, b, False


def test_t3_3_one_perceptron_per_gate_xor_needs_or_nand_then_and():
    for name, (w, b) in {"AND": ((1, 1), -1.5), "OR": ((1, 1), -0.5), "NAND": ((-1, -1), 1.5),
                         "NOR": ((-1, -1), 0.5)}.items():
        assert perceptron(w, b)(sd.tensor(X4)).numpy().ravel().tolist() == GATES[name], name
    for name, t in GATES.items():                       # and the perceptron rule finds each of them
        w, b, ok = perceptron_rule(np.array(t, float))
        assert ok and [float(w @ x + b > 0) for x in X4] == t, name
    # XOR: the rule never converges and no (w, b) on a fine grid separates it (not linearly separable)
    assert not perceptron_rule(np.array([0, 1, 1, 0], float), epochs=200)[2]
    grid = np.linspace(-2, 2, 41)
    best = max(sum(float(w1 * x[0] + w2 * x[1] + b > 0) == t for x, t in zip(X4, [0, 1, 1, 0]))
               for w1, w2, b in itertools.product(grid, grid, grid))
    assert best == 3
    # the hidden layer computes (OR, NAND) -- a feature space where AND separates XOR
    hidden = nn.Linear(2, 2)
    hidden.weight.data[...] = np.array([[1, 1], [-1, -1]], np.float32)
    hidden.bias.data[...] = np.array([-0.5, 1.5], np.float32)
    net = nn.Sequential(hidden, nn.Step(), *perceptron((1, 1), -1.5))
    h = nn.Sequential(hidden, nn.Step())(sd.tensor(X4)).numpy()
    assert h[:, 0].tolist() == GATES["OR"] and h[:, 1].tolist() == GATES["NAND"]
    assert net(sd.tensor(X4)).numpy().ravel().tolist() == [0, 1, 1, 0]


def _alg_1_2(theta, grads, lr, eps, b1=0.9, b2=0.999):
    m = v = np.zeros_like(theta)
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mh, vh = m / (1 - b1 ** t), v / (1 - b2 ** t)
        theta = theta - lr * mh / np.sqrt(vh + eps)
    return theta


@pytest.mark.parametrize("eps", [1e-8, 1e-2])
def test_t3_11_adam_with_eps_inside_the_square_root_is_algorithm_1_2(eps):
    rng = np.random.default_rng(0)
    theta0 = rng.normal(size=5)
    grads = [rng.normal(size=5) for _ in range(6)]
    p = sd.nn.Parameter(sd.tensor(theta0.copy()))
    opt = sd.optim.Adam([p], lr=0.1, eps=eps, eps_inside_sqrt=True)
    for g in grads:
        p.grad = sd.tensor(g)
        opt.step()
    np.testing.assert_allclose(p.numpy(), _alg_1_2(theta0, grads, 0.1, eps), rtol=1e-10, atol=1e-12)
    # the default keeps the standard form m^ / (sqrt(v^) + eps), which differs for a large eps
    q = sd.nn.Parameter(sd.tensor(theta0.copy()))
    std = sd.optim.Adam([q], lr=0.1, eps=eps)
    for g in grads:
        q.grad = sd.tensor(g)
        std.step()
    assert np.allclose(q.numpy(), p.numpy(), rtol=1e-6) == (eps < 1e-6)


def test_t3_11_first_adam_step_moves_by_lr_times_sign():
    p = sd.nn.Parameter(sd.tensor(np.array([1.0, -2.0, 3.0], np.float32)))
    opt = sd.optim.Adam([p], lr=0.01, eps_inside_sqrt=True)
    p.grad = sd.tensor(np.array([0.5, -3.0, 1e-2], np.float32))
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.99, -1.99, 2.99], rtol=1e-4)


def test_t3_21_linear_rnn_cell_is_w_times_concat_plus_b():
    rng = np.random.default_rng(0)
    cell = nn.LinearRNNCell(3, 4)
    x, h = rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(2, 4)).astype(np.float32)
    W, b = cell.weight.numpy(), cell.bias.numpy()
    np.testing.assert_allclose(cell(sd.tensor(x), sd.tensor(h)).numpy(), np.concatenate([x, h], 1) @ W.T + b,
                               rtol=1e-5, atol=1e-6)
    assert tuple(cell(sd.tensor(x)).shape) == (2, 4)
    # W = [I I], b = 0: h_t = h_{t-1} + x_t, a running sum (no squashing)
    acc = nn.LinearRNNCell(2, 2)
    acc.weight.data[...] = np.hstack([np.eye(2), np.eye(2)]).astype(np.float32)
    acc.bias.data[...] = 0
    seq = rng.normal(size=(5, 1, 2)).astype(np.float32) * 10
    hh = None
    for xt in seq:
        hh = acc(sd.tensor(xt), hh)
    np.testing.assert_allclose(hh.numpy(), seq.sum(0), rtol=1e-5)
    c64 = nn.LinearRNNCell(2, 3, dtype=sd.float64)
    xs = sd.tensor(rng.normal(size=(2, 2)), requires_grad=True)
    hs = sd.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    assert gradcheck(lambda a, b: c64(a, b), [xs, hs])
    with pytest.raises(ValueError, match="LinearRNNCell"):
        cell(sd.zeros(2, 5))


def test_t4_4_stacked_sigmoids_squash_towards_0_659():
    x = sd.tensor(np.array([2.0], np.float32))
    vals = []
    for _ in range(3):
        x = F.sigmoid(x)
        vals.append(float(x.numpy()[0]))
    np.testing.assert_allclose(vals, [0.8808, 0.7070, 0.6697], atol=5e-5)
    assert [round(v, 2) for v in vals] == [0.88, 0.71, 0.67]
    for _ in range(50):
        x = F.sigmoid(x)
    assert float(x.numpy()[0]) == pytest.approx(0.6590, abs=1e-4)   # the fixed point
    # and the gradient through the stack shrinks by sigma' <= 1/4 per layer
    z = sd.tensor(np.array([2.0]), requires_grad=True)
    y = z
    for _ in range(3):
        y = F.sigmoid(y)
    y.backward()
    assert 0 < float(z.grad.numpy()[0]) < 0.25 ** 3 * 4


def test_t4_9_softmax_of_1_2():
    p = F.softmax(sd.tensor(np.array([1.0, 2.0], np.float32)), dim=0).numpy()
    np.testing.assert_allclose(p, [0.2689, 0.7311], atol=5e-5)
    assert np.exp(1) / np.exp(2) == pytest.approx(0.3679, abs=1e-4)
    np.testing.assert_allclose(p[0] / p[1], np.exp(-1), rtol=1e-6)


def test_t4_2_sinusoidal_positional_encoding_values():
    from shendu.nn.layers.positional import sinusoidal_table
    pe = sinusoidal_table(50, 8)
    np.testing.assert_allclose(pe[0], [0, 1, 0, 1, 0, 1, 0, 1])
    np.testing.assert_allclose(pe[:, 0], np.sin(np.arange(50)))
    np.testing.assert_allclose(pe[7, 3], np.cos(7 / 10000 ** (2 / 8)))
    layer = nn.PositionalEncoding(8, max_len=50, batch_first=True)
    x = sd.zeros(2, 5, 8)
    np.testing.assert_allclose(layer(x).numpy(), np.broadcast_to(pe[:5], (2, 5, 8)), rtol=1e-6, atol=1e-7)
    seq_first = nn.PositionalEncoding(8, max_len=50)
    np.testing.assert_allclose(seq_first(sd.zeros(5, 2, 8)).numpy()[:, 1], pe[:5], rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="PositionalEncoding"):
        layer(sd.zeros(2, 60, 8))


def test_t4_2_transformer_reverses_sequences_only_with_positions():
    """Attention reaches every position at once; reversing needs order, which only the positional encoding gives
    (self-attention alone is permutation-equivariant)."""
    V, L, D = 6, 8, 32

    class Rev(nn.Module):
        def __init__(self, pos):
            super().__init__()
            self.emb = nn.Embedding(V, D)
            self.pos = nn.PositionalEncoding(D, batch_first=True) if pos else nn.Identity()
            self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, 4, 64, dropout=0.0, batch_first=True), 2)
            self.out = nn.Linear(D, V)

        def forward(self, x):
            return self.out(self.enc(self.pos(self.emb(x))))

    accs = {}
    for pos, steps in ((True, 400), (False, 150)):
        sd.manual_seed(0)
        rng = np.random.default_rng(0)
        net = Rev(pos)
        opt = sd.optim.Adam(net.parameters(), lr=3e-3)
        for _ in range(steps):
            x = rng.integers(V, size=(32, L))
            loss = F.cross_entropy(net(sd.tensor(x)).reshape(-1, V), sd.tensor(x[:, ::-1].reshape(-1)))
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        x = rng.integers(V, size=(200, L))
        accs[pos] = (net(sd.tensor(x)).numpy().argmax(-1) == x[:, ::-1]).mean()
    assert accs[True] > 0.95 and accs[False] < 0.6, accs
