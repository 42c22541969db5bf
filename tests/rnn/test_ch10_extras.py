"""Chapter-10 extras: scan, context-conditioned and feedback RNNs, deep transition, Clockwork RNN, GRU variants,
recursive-net extensions, stop-token / length-predicting generators, the information-flow regularizer (10.52)
and the random step on non-finite gradients (10.11.1)."""
import math

import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.autograd import gradcheck
from shendu.nn import functional as F
from shendu.nn.layers.recursive import Node, RecursiveNet, balanced_tree, tree_depth
from shendu.nn.layers.rnn_variants import (
    ClockworkRNN,
    ConditionalRNN,
    DeepTransitionRNN,
    FeedbackRNN,
    GRUVariantCell,
    LengthPredictingRNN,
    RNN2d,
    StopTokenRNN,
    information_flow_regularizer,
    sample_logits,
    scan,
)
from shendu.optim import clip_grad_norm_

F64 = sd.float64


def _t(*shape, seed=0, scale=0.5, grad=False):
    return sd.tensor(np.random.default_rng(seed).standard_normal(shape) * scale, dtype=F64, requires_grad=grad)


def _set(p, arr):
    p._data[...] = sd.tensor(np.asarray(arr, dtype=np.float64), dtype=p.dtype)._data


def _np(lin):
    return lin.weight.numpy(), (None if lin.bias is None else lin.bias.numpy())


# --- scan ------------------------------------------------------------------------------------------------
def test_scan_with_builtin_cells_equals_the_fused_layers():
    x = _t(5, 3, 4)
    rnn = nn.RNN(4, 6, dtype=F64)
    cell = nn.RNNCell(4, 6, dtype=F64)
    for a, b in [("weight_ih_l0", "weight_ih"), ("weight_hh_l0", "weight_hh"), ("bias_ih_l0", "bias_ih"),
                 ("bias_hh_l0", "bias_hh")]:
        _set(getattr(cell, b), getattr(rnn, a).numpy())
    out, h = scan(cell, x, sd.zeros(3, 6, dtype=F64))
    ref, hn = rnn(x)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-12)
    # variable lengths: padded steps keep the state and output zeros, as the layer with lengths=
    out, h = scan(cell, x, sd.zeros(3, 6, dtype=F64), lengths=[5, 2, 3])
    ref, hn = rnn(x, lengths=np.array([5, 2, 3]))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-12)
    np.testing.assert_allclose(h.numpy(), hn.numpy()[0], atol=1e-12)
    # a tuple state (LSTMCell's (h, c))
    lc = nn.LSTMCell(4, 2, dtype=F64)
    z = sd.zeros(3, 2, dtype=F64)
    out, (hT, cT) = scan(lc, x, (z, z))
    assert out.shape == (5, 3, 2) and cT.shape == (3, 2)
    np.testing.assert_allclose(out.numpy()[-1], hT.numpy())


def test_scan_user_cell_gradcheck_and_reverse():
    U, W = _t(3, 2, seed=1, grad=True), _t(2, 2, seed=2, grad=True)
    x = _t(4, 2, 3, seed=3, grad=True)
    cell = lambda xt, h: (xt @ U + h @ W).tanh()  # noqa: E731
    assert gradcheck(lambda x_, U_, W_: scan(lambda xt, h: (xt @ U_ + h @ W_).tanh(), x_,
                                             sd.zeros(2, 2, dtype=F64))[0], (x, U, W))
    fwd, _ = scan(cell, x, sd.zeros(2, 2, dtype=F64), reverse=True)
    rev, _ = scan(cell, sd.stack([x[t] for t in range(3, -1, -1)], 0), sd.zeros(2, 2, dtype=F64))
    np.testing.assert_allclose(fwd.numpy(), rev.numpy()[::-1], atol=1e-12)
    with pytest.raises(TypeError, match="scan: cell must be callable"):
        scan(3, x, None)


# --- context-conditioned and feedback RNNs ------------------------------------------------------------
@pytest.mark.parametrize("mode", ["every_step", "init_state", "both"])
def test_conditional_rnn_matches_the_formula(mode):
    m = ConditionalRNN(3, 2, 4, context_mode=mode, dtype=F64)
    c, x = _t(2, 2, seed=1), _t(5, 2, 3, seed=2)
    out, hT = m(c, x)
    Wh, bh = _np(m.hh)
    U = m.ih.weight.numpy()
    cn, xn = c.numpy(), x.numpy()
    h = np.tanh(cn @ m.init.weight.numpy().T + m.init.bias.numpy()) if mode != "every_step" else np.zeros((2, 4))
    bias = cn @ m.R.weight.numpy().T if mode != "init_state" else 0.0  # x^T R: a context-dependent bias
    for t in range(5):
        h = np.tanh(h @ Wh.T + bh + xn[t] @ U.T + bias)
        np.testing.assert_allclose(out.numpy()[t], h, atol=1e-12)
    ps = [p for p in m.parameters()]
    assert gradcheck(lambda c_: m(c_, x)[0], (_t(2, 2, seed=1, grad=True),))
    assert len(ps) == {"every_step": 4, "init_state": 5, "both": 6}[mode]


def test_conditional_rnn_vector_to_sequence_and_errors():
    m = ConditionalRNN(0, 3, 4, context_mode="both", dtype=F64)
    out, _ = m(_t(2, 3), steps=6)
    assert out.shape == (6, 2, 4)
    with pytest.raises(ValueError, match="context_mode"):
        ConditionalRNN(1, 1, 1, context_mode="first")
    with pytest.raises(ValueError, match=r"expected \(B, 3\)"):
        m(_t(2, 2), steps=3)


def test_feedback_rnn_teacher_forcing_equals_free_running_on_its_own_outputs():
    m = FeedbackRNN(3, 5, 2, dtype=F64)
    x = _t(6, 4, 3, seed=1)
    free = m.generate(x, feedback="output")
    y_prev = sd.cat([sd.zeros(1, 4, 2, dtype=F64), free[:-1]], 0)
    np.testing.assert_allclose(m(x, y_prev).numpy(), free.numpy(), atol=1e-12)
    assert gradcheck(lambda yp: m(x[:3], yp), (_t(3, 4, 2, seed=2, grad=True),))
    # the hidden-to-hidden path exists too: zeroing the output feedback leaves a dependence on the past
    _set(m.oh.weight, np.zeros((5, 2)))
    a = m(x, sd.zeros(6, 4, 2, dtype=F64)).numpy()
    x2 = x.numpy().copy()
    x2[0] += 1
    b = m(sd.tensor(x2, dtype=F64), sd.zeros(6, 4, 2, dtype=F64)).numpy()
    assert np.abs(a[3] - b[3]).max() > 1e-6
    s = m.generate(x, feedback="sample")
    assert s.shape == (6, 4, 2)


def test_sample_logits_temperature_top_k_top_p():
    logits = sd.tensor(np.log(np.array([[0.5, 0.3, 0.15, 0.05]] * 4000)))
    idx = sd.tensor(sample_logits(logits)).numpy()
    np.testing.assert_allclose(np.bincount(idx, minlength=4) / 4000, [0.5, 0.3, 0.15, 0.05], atol=0.03)
    assert set(sd.tensor(sample_logits(logits, top_k=2)).numpy().tolist()) == {0, 1}
    assert set(sd.tensor(sample_logits(logits, top_p=0.75)).numpy().tolist()) == {0, 1}  # 0.5 + 0.3 reaches 0.75
    cold = sd.tensor(sample_logits(logits, temperature=0.05)).numpy()
    assert (cold == 0).mean() > 0.99
    with pytest.raises(ValueError, match="top_k"):
        sample_logits(logits, top_k=9)


# --- deep transition, Clockwork ------------------------------------------------------------------------
def test_deep_transition_rnn_formula_and_skip_path():
    m = DeepTransitionRNN(3, 4, depth=3, skip=True, dtype=F64)
    x = _t(4, 2, 3, seed=1)
    out, _ = m(x)
    h = np.zeros((2, 4))
    L = [_np(layer) for layer in m.layers]
    for t in range(4):
        z = np.tanh(h @ L[0][0].T + L[0][1] + x.numpy()[t] @ m.ih.weight.numpy().T)
        z = np.tanh(z @ L[1][0].T + L[1][1])
        h = np.tanh(z @ L[2][0].T + L[2][1] + h @ m.skip.weight.numpy().T)
        np.testing.assert_allclose(out.numpy()[t], h, atol=1e-12)
    assert gradcheck(lambda x_: m(x_)[0], (_t(3, 2, 3, seed=2, grad=True),))
    # with the transition MLP's recurrent input cut, h_{t-1} reaches h_t only through the skip connection
    for skip in (True, False):
        m2 = DeepTransitionRNN(3, 4, depth=3, skip=skip, dtype=F64)
        _set(m2.layers[0].weight, np.zeros((4, 4)))
        h0 = _t(2, 4, seed=3, grad=True)
        m2(x[:1], h0=h0)[1].sum().backward()
        assert (np.abs(h0.grad.numpy()).max() > 1e-3) == skip


def test_clockwork_rnn_updates_by_period_and_slow_to_fast_connectivity():
    m = ClockworkRNN(2, 2, periods=(1, 2, 4), dtype=F64)
    x = _t(8, 3, 2, seed=1)
    out, _ = m(x)
    o = out.numpy()
    # the period-4 group (units 4, 5) changes only at t = 4 (after t = 0); the period-2 group at even t
    for t in range(1, 8):
        assert np.allclose(o[t, :, 4:], o[t - 1, :, 4:]) == (t % 4 != 0)
        assert np.allclose(o[t, :, 2:4], o[t - 1, :, 2:4]) == (t % 2 != 0)
    # numpy reference with the block mask (row group receives from column groups at least as slow)
    W = m.weight_hh.numpy() * m.hh_mask.numpy()
    Ui, bi = _np(m.ih)
    h = np.zeros((3, 6))
    per = np.repeat([1, 2, 4], 2)
    for t in range(8):
        new = np.tanh(x.numpy()[t] @ Ui.T + bi + h @ W.T)
        h = np.where(t % per == 0, new, h)
        np.testing.assert_allclose(o[t], h, atol=1e-12)
    assert np.all(m.hh_mask.numpy()[4:, :4] == 0) and np.all(m.hh_mask.numpy()[:4, 4:] == 1)
    out.sum().backward()
    assert np.all(m.weight_hh.grad.numpy()[4:, :4] == 0)  # fast -> slow weights are cut
    assert gradcheck(lambda x_: m(x_)[0], (_t(4, 1, 2, seed=2, grad=True),))
    with pytest.raises(ValueError, match="increasing"):
        ClockworkRNN(2, 2, periods=(4, 1))


# --- GRU variants -------------------------------------------------------------------------------------
def _gru_set(cell, uw, ww, rw, wr, nw, wn):
    for lin, v in [(cell.x_u, uw), (cell.h_u, ww), (cell.x_r, rw), (cell.h_r, wr), (cell.x_n, nw), (cell.h_n, wn)]:
        _set(lin.weight, [[v]])
        if lin.bias is not None:
            _set(lin.bias, [0.0])


@pytest.mark.parametrize("act,expect", [("sigmoid", 0.70797885), ("tanh", 0.74165158)])
def test_gru_variant_cell_book_vector_w10_6(act, expect):
    """notes A16 scalar GRU: x = 1, h0 = 0.5, (U^u, W^u) = (0.5, -1), (U^r, W^r) = (1, 0.5), (U, W) = (2, 1)."""
    cell = GRUVariantCell(1, 1, activation=act, dtype=F64)
    _gru_set(cell, 0.5, -1.0, 1.0, 0.5, 2.0, 1.0)
    h = cell(sd.tensor([[1.0]], dtype=F64), sd.full((1, 1), 0.5, dtype=F64))
    np.testing.assert_allclose(h.item(), expect, atol=1e-8)


def test_gru_variant_defaults_equal_the_book_form_gru_and_variants():
    cell = GRUVariantCell(3, 4, dtype=F64)
    x, h = _t(2, 3, seed=1), _t(2, 4, seed=2)
    w_ih = sd.cat([cell.x_r.weight, cell.x_u.weight, cell.x_n.weight], 0)
    w_hh = sd.cat([cell.h_r.weight, cell.h_u.weight, cell.h_n.weight], 0)
    b_ih = sd.cat([cell.x_r.bias, cell.x_u.bias, cell.x_n.bias], 0)
    ref = F.gru_cell(x, h, w_ih, w_hh, b_ih, None, reset_after=False)
    np.testing.assert_allclose(cell(x, h).numpy(), ref.numpy(), atol=1e-12)
    # shared reset gate: 2 groups of 2 units; global x local update gate per group
    v = GRUVariantCell(3, 4, reset_groups=2, global_gate=True, dtype=F64)
    assert v.x_r.weight.shape == (2, 3) and v.x_g.weight.shape == (2, 3)
    xn, hn = x.numpy(), h.numpy()
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    lin = lambda l, a: a @ l.weight.numpy().T + (0 if l.bias is None else l.bias.numpy())  # noqa: E731
    r = np.repeat(sig(lin(v.x_r, xn) + lin(v.h_r, hn)), 2, axis=1)
    u = sig(lin(v.x_u, xn) + lin(v.h_u, hn)) * np.repeat(sig(lin(v.x_g, xn) + lin(v.h_g, hn)), 2, axis=1)
    n = np.tanh(lin(v.x_n, xn) + lin(v.h_n, r * hn))
    np.testing.assert_allclose(v(x, h).numpy(), u * hn + (1 - u) * n, atol=1e-12)
    assert gradcheck(lambda x_, h_: v(x_, h_), (_t(2, 3, seed=3, grad=True), _t(2, 4, seed=4, grad=True)))
    g = GRUVariantCell(3, 4, global_gate=True, dtype=F64)
    assert g.x_g.weight.shape == (1, 3)  # one global gate for the whole layer
    with pytest.raises(ValueError, match="divide"):
        GRUVariantCell(3, 4, reset_groups=3)


# --- recursive networks -------------------------------------------------------------------------------
def test_balanced_tree_depth_w10_8():
    for tau in range(1, 40):
        t = balanced_tree(list(range(tau)))
        assert tree_depth(t) == math.ceil(math.log2(tau)) if tau > 1 else tree_depth(t) == 0
        flat = []
        stack_ = [t]
        while stack_:
            n = stack_.pop()
            if isinstance(n, tuple):
                stack_.extend(reversed(n))
            else:
                flat.append(n)
        assert flat == list(range(tau))  # the leaves stay in order
    assert balanced_tree([1, 2, 3, 4]) == ((1, 2), (3, 4))


def test_tensor_composition_and_internal_node_inputs():
    net = RecursiveNet(5, 3, composition="tensor", node_input_size=2, dtype=F64)
    E, W, b, T, Ux = (net.embedding.weight.numpy(), net.weight.numpy(), net.bias.numpy(), net.tensor.numpy(),
                      net.weight_x.numpy())
    def f(a, c, x=None):  # noqa: E306
        v = np.concatenate([a, c])
        return np.tanh(np.einsum("i,kij,j->k", v, T, v) + W @ v + b + (0 if x is None else Ux @ x))
    xin = np.array([0.3, -0.7])
    tree = (Node((1, 2), x=xin), 3)
    np.testing.assert_allclose(net(tree).numpy(), f(f(E[1], E[2], xin), E[3]), atol=1e-12)
    assert gradcheck(lambda t_: _recursive_with_tensor(net, t_), (net.tensor,))
    with pytest.raises(ValueError, match="node_input_size"):
        RecursiveNet(5, 3)((Node((1, 2), x=xin), 3))


def _recursive_with_tensor(net, t_):
    old = net.tensor
    net.tensor = t_
    try:
        return net(((1, 2), (3, 4)))
    finally:
        net.tensor = old


def test_targets_at_internal_nodes_are_learned():
    """Every internal node predicts whether its subtree holds leaf 0 (targets at internal nodes)."""
    sd.manual_seed(0)
    net = RecursiveNet(4, 8)
    head = nn.Linear(8, 1)

    def contains0(t):
        return t == 0 if not isinstance(t, tuple) else any(contains0(c) for c in t)

    rng = np.random.default_rng(0)
    trees = [balanced_tree([int(v) for v in rng.integers(0, 4, rng.integers(2, 6))]) for _ in range(40)]
    data = []
    for t in trees:
        _, nodes = net.node_states(t)
        idx = [i for i, n in enumerate(nodes) if isinstance(n, tuple)]
        data.append((t, idx, np.array([[float(contains0(nodes[i]))] for i in idx], np.float32)))
    opt = sd.optim.Adam(list(net.parameters()) + list(head.parameters()), lr=0.05)
    for _ in range(25):
        for t, idx, y in data:
            states, _ = net.node_states(t)
            loss = F.binary_cross_entropy_with_logits(head(states[idx]), sd.tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
    correct = total = 0
    for t, idx, y in data:
        states, _ = net.node_states(t)
        correct += int(((head(states[idx]).numpy() > 0) == (y > 0.5)).sum())
        total += len(idx)
    assert correct / total > 0.95


# --- stop token and length prediction -----------------------------------------------------------------
def _length_task():
    """Context one-hot(k), k = 0..3 -> the sequence 1, 2, ..., k + 2 scaled by 1/5."""
    C = np.eye(4, dtype=np.float32)
    lens = np.arange(4) + 2
    Y = np.zeros((5, 4, 1), np.float32)
    for k in range(4):
        Y[:lens[k], k, 0] = (np.arange(lens[k]) + 1) / 5
    return sd.tensor(C), sd.tensor(Y), lens


def test_stop_token_rnn_learns_the_sequence_length():
    sd.manual_seed(0)
    c, y, lens = _length_task()
    m = StopTokenRNN(4, 16, 1)
    opt = sd.optim.Adam(m.parameters(), lr=0.03)
    for _ in range(150):
        loss = m.loss(c, y, lens)
        opt.zero_grad()
        loss.backward()
        opt.step()
    gen = m.generate(c, max_len=10)
    assert [len(g) for g in gen] == lens.tolist()
    for k in range(4):
        np.testing.assert_allclose(gen[k][:, 0], y.numpy()[:lens[k], k, 0], atol=0.08)


def test_length_predicting_rnn_learns_tau_then_values():
    sd.manual_seed(0)
    c, y, lens = _length_task()
    m = LengthPredictingRNN(4, 16, 1, max_len=8)
    opt = sd.optim.Adam(m.parameters(), lr=0.03)
    for _ in range(120):
        loss = m.loss(c, y, lens)
        opt.zero_grad()
        loss.backward()
        opt.step()
    gen = m.generate(c)
    assert [len(g) for g in gen] == lens.tolist()
    for k in range(4):
        np.testing.assert_allclose(gen[k][:, 0], y.numpy()[:lens[k], k, 0], atol=0.08)
    with pytest.raises(ValueError, match="lengths must lie"):
        m.loss(c, y, [0, 2, 3, 4])


# --- information-flow regularizer (10.52) -------------------------------------------------------------
def _elman_states(W, U, x):
    h = sd.zeros(x.shape[1], W.shape[0], dtype=W.dtype, requires_grad=True)  # so the t = 1 term counts
    hs = [h]
    for t in range(x.shape[0]):
        h = (h @ W.T + x[t] @ U.T).tanh()
        hs.append(h)
    return hs


def test_information_flow_regularizer_formula_and_torch_gradient():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    Wn, Un, xn, Vn = rng.standard_normal((3, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2, 2)), \
        rng.standard_normal(3)
    W = sd.tensor(Wn, requires_grad=True)
    hs = _elman_states(W, sd.tensor(Un), sd.tensor(xn))
    loss = (hs[-1] * sd.tensor(Vn)).sum()  # a loss only at the end of the sequence
    omega = information_flow_regularizer(loss, hs)
    # analytic: g_t dh_t/dh_{t-1} = (g_t * (1 - h_t^2)) W for tanh units
    H = [h.numpy() for h in hs]
    g = np.broadcast_to(Vn, (2, 3)).copy()
    gs = [None] * 5
    gs[4] = g
    for t in range(4, 0, -1):
        gs[t - 1] = (gs[t] * (1 - H[t] ** 2)) @ Wn
    ref = sum((np.linalg.norm((gs[t] * (1 - H[t] ** 2)) @ Wn) / np.linalg.norm(gs[t]) - 1) ** 2 for t in range(1, 5))
    np.testing.assert_allclose(omega.numpy(), ref, rtol=1e-10)
    omega.backward()
    # torch oracle of the same recipe (g_t detached, one-step VJPs with create_graph)
    Wt = torch.tensor(Wn, requires_grad=True)
    h = torch.zeros(2, 3, dtype=torch.float64, requires_grad=True)
    hts = [h]
    for t in range(4):
        h = torch.tanh(h @ Wt.T + torch.tensor(xn[t]) @ torch.tensor(Un).T)
        hts.append(h)
    lt = (hts[-1] * torch.tensor(Vn)).sum()
    gts = torch.autograd.grad(lt, hts[1:], retain_graph=True)
    om = 0
    for t in range(1, 5):
        gt = gts[t - 1].detach()
        (v,) = torch.autograd.grad(hts[t], hts[t - 1], grad_outputs=gt, create_graph=True)
        om = om + (v.norm() / gt.norm() - 1) ** 2
    om.backward()
    np.testing.assert_allclose(omega.numpy(), om.item(), rtol=1e-10)
    np.testing.assert_allclose(W.grad.numpy(), Wt.grad.numpy(), rtol=1e-8, atol=1e-12)


# --- random step on non-finite gradients (10.11.1) ----------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_clip_random_step_on_nonfinite_gradient():
    a, b = sd.zeros(3, requires_grad=True), sd.zeros(2, 2, requires_grad=True)
    (a.sum() * float("inf") + b.sum()).backward()
    assert not np.isfinite(a.grad.numpy()).all()
    norm = clip_grad_norm_([a, b], 0.5, on_nonfinite="random_step")
    assert not np.isfinite(norm.numpy())
    ga, gb = a.grad.numpy(), b.grad.numpy()
    assert np.isfinite(ga).all() and np.isfinite(gb).all()
    np.testing.assert_allclose(np.sqrt((ga ** 2).sum() + (gb ** 2).sum()), 0.5, rtol=1e-5)
    first = ga.copy()
    a.grad = None
    (a.sum() * float("nan")).backward()
    clip_grad_norm_([a], 0.5, on_nonfinite="random_step")
    assert np.linalg.norm(a.grad.numpy()) == pytest.approx(0.5, rel=1e-5) and not np.allclose(a.grad.numpy(), first)
    # an SGD step then moves the parameters by exactly lr * v
    opt = sd.optim.SGD([a], lr=1.0)
    before = a.numpy().copy()
    opt.step()
    assert np.linalg.norm(a.numpy() - before) == pytest.approx(0.5, rel=1e-5)
    # 'skip' zeroes, 'raise' raises, finite gradients are clipped as usual
    a.grad = None
    (a.sum() * float("inf")).backward()
    clip_grad_norm_([a], 0.5, on_nonfinite="skip")
    assert np.all(a.grad.numpy() == 0)
    (a.sum() * float("inf")).backward()
    with pytest.raises(RuntimeError, match="total norm"):
        clip_grad_norm_([a], 0.5, on_nonfinite="raise")
    c = sd.zeros(2, requires_grad=True)
    (c * sd.tensor([3.0, 4.0])).sum().backward()
    clip_grad_norm_([c], 1.0, on_nonfinite="random_step")
    np.testing.assert_allclose(c.grad.numpy(), [0.6, 0.8], rtol=1e-5)  # W10.7 unchanged
    with pytest.raises(ValueError, match="on_nonfinite"):
        clip_grad_norm_([c], 1.0, on_nonfinite="ignore")


# --- worked vectors W10.1 and W10.2 -------------------------------------------------------------------
def test_w10_1_softmax_nll_gradient():
    o = sd.tensor([[1.0, 2.0, 3.0]], dtype=F64, requires_grad=True)
    loss = F.cross_entropy(o, np.array([2]))
    np.testing.assert_allclose(loss.item(), 0.40760596, atol=1e-8)
    loss.backward()
    np.testing.assert_allclose(o.grad.numpy()[0], [0.09003057, 0.24472847, -0.33475904], atol=1e-8)


def test_w10_2_bptt_vector_with_rnn_linear_and_summed_loss():
    """notes A5: eq. 10.8 RNN, tanh, o = V h + c, L = sum_t NLL; h, L and every gradient (10.22-10.28)."""
    rnn = nn.RNN(1, 2, dtype=F64)
    out = nn.Linear(2, 3, dtype=F64)
    _set(rnn.weight_hh_l0, [[0.5, -0.3], [0.2, 0.4]])
    _set(rnn.weight_ih_l0, [[1.0], [-1.0]])
    _set(rnn.bias_ih_l0, [0.1, -0.1])
    _set(rnn.bias_hh_l0, [0.0, 0.0])
    _set(out.weight, [[1, -1], [0.5, 0.5], [-0.2, 0.3]])
    _set(out.bias, [0, 0.1, -0.1])
    h, _ = rnn(sd.tensor([[[1.0]], [[-0.5]], [[2.0]]], dtype=F64))
    np.testing.assert_allclose(h.numpy()[:, 0], [[0.80049902, -0.80049902], [0.23587279, 0.23540148],
                                                 [0.97308399, -0.96098782]], atol=1e-8)
    loss = F.cross_entropy(out(h[:, 0]), np.array([0, 2, 1]), reduction="sum")
    np.testing.assert_allclose(loss.item(), 3.61904748, atol=1e-8)
    loss.backward()
    np.testing.assert_allclose(rnn.weight_hh_l0.grad.numpy(), [[0.49301148, -0.48407003], [-0.28670956, 0.24267792]],
                               atol=1e-8)
    np.testing.assert_allclose(rnn.weight_ih_l0.grad.numpy(), [[-0.25029336], [-0.00307891]], atol=1e-8)
    np.testing.assert_allclose(out.weight.grad.numpy(), [[0.64937276, -0.49785143], [-0.61523666, 0.80293613],
                                                         [-0.03413611, -0.3050847]], atol=1e-8)
    np.testing.assert_allclose(rnn.bias_ih_l0.grad.numpy(), [0.64616822, -0.40559799], atol=1e-8)
    np.testing.assert_allclose(out.bias.grad.numpy(), [0.84973691, -0.28419892, -0.56553799], atol=1e-8)


# --- 2-D RNN (10.3) -----------------------------------------------------------------------------------
def test_rnn2d_sweeps_match_row_and_column_rnns_and_receptive_fields():
    x = _t(2, 3, 4, 5, seed=1, grad=True)
    m = RNN2d(3, 2, stacked=False, dtype=F64)
    y = m(x)
    assert y.shape == (2, 8, 4, 5)
    # row i of image b is one sequence of the horizontal bidirectional RNN
    row, _ = m.horizontal(x[1, :, 2].permute(1, 0).unsqueeze(1))  # (W, 1, C)
    np.testing.assert_allclose(y.numpy()[1, :4, 2], row.numpy()[:, 0].T, atol=1e-12)
    col, _ = m.vertical(x[0, :, :, 3].permute(1, 0).unsqueeze(1))  # (H, 1, C)
    np.testing.assert_allclose(y.numpy()[0, 4:, :, 3], col.numpy()[:, 0].T, atol=1e-12)
    y[0, :, 0, 0].sum().backward()
    seen = np.abs(x.grad.numpy()[0]).sum(0) > 0
    cross = np.zeros((4, 5), bool)
    cross[0, :] = cross[:, 0] = True
    np.testing.assert_array_equal(seen, cross)  # the four sweeps see row 0 and column 0
    x.grad = None
    s = RNN2d(3, 2, cell="GRU", dtype=F64)
    out = s(x)
    assert out.shape == (2, 4, 4, 5)
    out[0, :, 0, 0].sum().backward()
    assert np.all(np.abs(x.grad.numpy()[0]).sum(0) > 0) and np.all(x.grad.numpy()[1] == 0)  # the whole image
    assert gradcheck(lambda a: RNN2d.__call__(m, a), (_t(1, 3, 2, 3, seed=2, grad=True),))


# --- liquid state machine (10.8) ----------------------------------------------------------------------
def test_liquid_state_machine_spikes_and_recalls_the_previous_input():
    """A spiking reservoir with a ridge readout recalls u_{t-1} (NMSE < 0.5) where a readout of u_t alone
    cannot (NMSE ~ 1); the units emit binary spikes and the reservoir stays fixed."""
    from shendu.nn.layers.rnn_variants import LiquidStateMachine

    rng = np.random.default_rng(0)
    u = rng.uniform(-1, 1, (1500, 1))
    y = np.roll(u, 1, 0)
    m = LiquidStateMachine(1, 200, 1, dtype=F64)
    w0 = m.w.numpy().copy()
    m.fit(u[:1000], y[:1000], washout=20)
    spikes = sd.tensor(m.spikes).numpy()
    assert set(np.unique(spikes).tolist()) == {0.0, 1.0} and 0.02 < spikes.mean() < 0.5
    np.testing.assert_array_equal(m.w.numpy(), w0)
    pred = m(sd.tensor(u, dtype=F64)).numpy()
    nmse = ((pred[1100:] - y[1100:]) ** 2).mean() / y[1100:].var()
    X = np.c_[u, np.ones(len(u))]
    w = np.linalg.lstsq(X[20:1000], y[20:1000], rcond=None)[0]
    base = ((X[1100:] @ w - y[1100:]) ** 2).mean() / y[1100:].var()
    assert nmse < 0.5 < 0.9 < base, (nmse, base)
