"""autograd.capture: a replayed call gives what the eager call gives (values, gradients, parameters after training),
and what a replay would get wrong is refused while tracing."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn as nn
import shendu.nn.functional as F
from shendu.autograd import CaptureError, capture
from shendu.autograd.capture import _Replayed


def _t(*shape, grad=False, dtype=np.float64, device=None):
    return sd.tensor(np.random.default_rng(len(shape) + sum(shape)).standard_normal(shape).astype(dtype),
                     requires_grad=grad, device=device)


def _chain(a, b):
    h = a
    for _ in range(5):
        h = (h * b).tanh() + a
    return h.sum()


def test_chain_replay_matches_eager_on_new_values(device):
    cap = capture(_chain)
    rng = np.random.default_rng(1)
    for call in range(5):
        a = sd.tensor(rng.standard_normal((3, 4)), requires_grad=True, device=device)
        b = sd.tensor(rng.standard_normal((3, 4)), requires_grad=True, device=device)
        y = cap(a, b)
        assert isinstance(y.grad_fn, _Replayed) == (call >= 2)
        y.backward()
        ga, gb = a.grad.cpu().numpy().copy(), b.grad.cpu().numpy().copy()
        a.grad = b.grad = None
        ye = _chain(a, b)
        ye.backward()
        np.testing.assert_allclose(y.cpu().numpy(), ye.cpu().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ga, a.grad.cpu().numpy(), rtol=1e-12)
        np.testing.assert_allclose(gb, b.grad.cpu().numpy(), rtol=1e-12)


def _mlp(seed):
    sd.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3)).double()


def test_training_loop_with_replayed_steps_matches_eager():
    eager, replayed = _mlp(3), _mlp(3)
    opt_e = sd.optim.SGD(eager.parameters(), lr=0.1, momentum=0.9)
    opt_r = sd.optim.SGD(replayed.parameters(), lr=0.1, momentum=0.9)
    step = capture(lambda x, y: F.cross_entropy(replayed(x), y))
    rng = np.random.default_rng(0)
    for _ in range(6):  # parameters change in place between calls: the replay reads them afresh
        x = sd.tensor(rng.standard_normal((8, 6)))
        y = sd.tensor(rng.integers(0, 3, 8))
        losses = []
        for opt, loss_fn in ((opt_e, lambda: F.cross_entropy(eager(x), y)), (opt_r, lambda: step(x, y))):
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[1] == pytest.approx(losses[0], rel=1e-12)
    assert isinstance(step(x, y).grad_fn, _Replayed)
    for pe, pr in zip(eager.parameters(), replayed.parameters()):
        np.testing.assert_allclose(pr.numpy(), pe.numpy(), rtol=1e-12, atol=1e-14)


def test_dropout_draws_a_fresh_mask_at_every_replay_from_the_same_stream_as_eager():
    """Dropout draws its mask inside its op: a replayed training loop follows the eager one draw for draw."""
    params = []
    for use_capture in (False, True):
        sd.manual_seed(5)
        model = nn.Sequential(nn.Linear(6, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3)).double()
        opt = sd.optim.SGD(model.parameters(), lr=0.1)
        loss_fn = lambda x, y: F.cross_entropy(model(x), y)  # noqa: E731
        step = capture(loss_fn) if use_capture else loss_fn
        rng = np.random.default_rng(0)
        for _ in range(5):
            x, y = sd.tensor(rng.standard_normal((8, 6))), sd.tensor(rng.integers(0, 3, 8))
            opt.zero_grad()
            step(x, y).backward()
            opt.step()
        params.append([p.numpy().copy() for p in model.parameters()])
    for pe, pr in zip(*params):
        np.testing.assert_array_equal(pr, pe)


class _LM(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.rnn, self.out = nn.Embedding(20, 8), nn.LSTM(8, 12, batch_first=True), nn.Linear(12, 20)

    def forward(self, x):
        h, _ = self.rnn(self.emb(x))
        return self.out(h).reshape(-1, 20)


def test_comparisons_argmax_and_sign_are_computed_again_in_a_replay():
    """Results without a gradient (masks, indices) are recorded as steps of the program, not frozen."""
    w = _t(5, grad=True)

    def fn(x):
        y = sd.where(x > 0, x * w, x * 0.5).sum() + sd.where(sd.isfinite(x) & (x < 1), x, 0.0).sum()
        return y + x.argmax().double() + sd.sign(x).sum() + (x * w).max(0).values * (x == x.max()).double().sum()

    cap = capture(fn)
    rng = np.random.default_rng(4)
    for call in range(5):
        x = sd.tensor(rng.standard_normal(5))
        w.grad = None
        y = cap(x)
        y.backward()
        got = (y.item(), w.grad.numpy().copy())
        w.grad = None
        ref = fn(x)
        ref.backward()
        assert isinstance(y.grad_fn, _Replayed) == (call >= 2)
        assert got[0] == pytest.approx(ref.item(), rel=1e-12)
        np.testing.assert_allclose(got[1], w.grad.numpy(), rtol=1e-12)


def test_embedding_lstm_cross_entropy_replay_matches_eager():
    """Index arrays (the embedding's tokens, cross_entropy's targets) are re-read at every replay."""
    sd.manual_seed(0)
    lm = _LM().double()
    step = capture(lambda x, y: F.cross_entropy(lm(x), y))
    rng = np.random.default_rng(2)
    for _ in range(4):
        x, y = sd.tensor(rng.integers(0, 20, (3, 5))), sd.tensor(rng.integers(0, 20, 15))
        lm.zero_grad()
        loss = step(x, y)
        loss.backward()
        got = [p.grad.numpy().copy() for p in lm.parameters()]
        lm.zero_grad()
        ref = F.cross_entropy(lm(x), y)
        ref.backward()
        assert loss.item() == pytest.approx(ref.item(), rel=1e-12)
        for g, p in zip(got, lm.parameters()):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert isinstance(loss.grad_fn, _Replayed)


def test_nll_loss_with_ignored_rows_replays_on_each_calls_targets():
    """log_softmax + nll_loss (PyTorch's MNIST example): which rows count and their classes come from each call."""
    w = _t(6, 4, grad=True)
    fn = lambda x, y: F.nll_loss(F.log_softmax(x @ w, 1), y, ignore_index=2)  # noqa: E731
    cap = capture(fn)
    rng = np.random.default_rng(3)
    for call in range(5):
        x, y = sd.tensor(rng.standard_normal((7, 6))), sd.tensor(rng.integers(0, 4, 7))
        w.grad = None
        loss = cap(x, y)
        loss.backward()
        got = (loss.item(), w.grad.numpy().copy())
        w.grad = None
        ref = fn(x, y)
        ref.backward()
        assert isinstance(loss.grad_fn, _Replayed) == (call >= 2)
        assert got[0] == pytest.approx(ref.item(), rel=1e-12)
        np.testing.assert_allclose(got[1], w.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="outside"):
        cap(sd.tensor(rng.standard_normal((7, 6))), sd.tensor(np.array([0, 1, 5, 3, 0, 1, 0])))


def test_batch_norm_eval_reads_running_statistics_at_every_replay():
    sd.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5)).double()
    model.eval()
    fwd = capture(lambda x: model(x))
    x = _t(6, 4)
    for _ in range(3):
        fwd(x)
    with sd.no_grad():
        model[1].running_mean.copy_(sd.tensor(np.arange(5.0)))
        model[1].running_var.copy_(sd.tensor(np.arange(1.0, 6.0)))
    np.testing.assert_allclose(fwd(x).numpy(), model(x).numpy(), rtol=1e-12)


def _refusals():
    w = sd.tensor(np.ones((3, 3)), requires_grad=True)
    opt = sd.optim.SGD([w], lr=0.1)
    bn = nn.BatchNorm1d(3).double()
    return {
        "item": (lambda x: x * x.sum().item(), "item()"),
        "bool": (lambda x: x * 2 if (x.sum() > 0) else x * 3, "bool()"),
        "in-place": (lambda x: (x * 2).add_(1), "in-place"),
        "backward": (lambda x: ((x * w).sum().backward(), x * 2)[1], "backward"),
        "optimizer": (lambda x: (opt.step(), x * w)[1], "step()"),
        "random draw": (lambda x: x * sd.randn(3, 3), "random draw"),
        "alpha dropout": (lambda x: F.alpha_dropout(x * w, 0.2, training=True), "random draw"),
        "batch norm training": (lambda x: bn(x * w), "running statistics"),
        "hook": (lambda x: ((x * w).register_hook(lambda g: g), x * w)[1], "register_hook"),
    }


@pytest.mark.parametrize("name", list(_refusals()))
def test_what_a_replay_would_skip_is_refused_while_tracing(name):
    fn, words = _refusals()[name]
    cap = capture(fn)
    with pytest.raises(CaptureError, match=words):
        cap(_t(3, 3, grad=True))


def test_a_random_draw_outside_ops_is_refused_on_every_device(device):
    """The check compares the generators around each op: a device generator too (CuPy's counts its draws)."""
    cap = capture(lambda x: x * sd.randn(3, 3, dtype=sd.float64, device=device))
    with pytest.raises(CaptureError, match="random draw"):
        cap(_t(3, 3, device=device))


def test_a_python_number_that_changes_between_the_traced_calls_is_refused():
    scale = [1.0]

    def fn(x):
        return x * scale[0]

    cap = capture(fn)
    cap(_t(2, 2))
    scale[0] = 2.0
    with pytest.raises(CaptureError, match="differs between the two traced calls"):
        cap(_t(2, 2))


def test_data_dependent_control_flow_is_refused():
    calls = [0]

    def fn(x):
        calls[0] += 1
        return x.exp() if calls[0] % 2 else x.tanh()

    cap = capture(fn)
    cap(_t(2, 2))
    with pytest.raises(CaptureError, match="differs|different"):
        cap(_t(2, 2))


class _MaskedScale(sd.autograd.Function):
    """An op holding an array computed outside the ops from tensor data (the pattern a replay would freeze)."""

    def __init__(self, mask):
        self.mask = mask

    def forward(self, x):
        return x * self.mask

    def backward(self, gy):
        return gy * sd.tensor(self.mask)


def test_an_op_setting_computed_from_tensor_data_is_refused():
    cap = capture(lambda x: _MaskedScale(x._data > 0)(x))
    cap(_t(3, 3))
    with pytest.raises(CaptureError, match="array setting 'mask'"):
        cap(_t(3, 3) * -1)


def test_backward_of_a_call_overwritten_by_a_later_call_is_refused():
    cap = capture(_chain)
    a, b = _t(2, 3, grad=True), _t(3, grad=True)
    for _ in range(3):
        cap(a, b).backward()
    y1 = cap(a, b)
    cap(a, b)
    with pytest.raises(RuntimeError, match="overwritten by a later call"):
        y1.backward()


def test_a_parameter_that_changes_requires_grad_or_shape_starts_a_new_trace():
    lin = nn.Linear(3, 2).double()
    cap = capture(lambda x: lin(x).sum())
    x = _t(4, 3)
    for _ in range(3):
        cap(x).backward()
    lin.bias.requires_grad_(False)
    lin.weight.grad = None
    y = cap(x)  # traced again (the bias is no longer an input of the node)
    assert not isinstance(y.grad_fn, _Replayed)
    y.backward()
    np.testing.assert_allclose(lin.weight.grad.numpy(), np.tile(x.numpy().sum(0), (2, 1)), rtol=1e-12)
    lin.weight.data = sd.tensor(np.ones((5, 3)))
    lin.bias.data = sd.tensor(np.zeros(5))
    assert cap(x).item() == pytest.approx(5 * x.numpy().sum(), rel=1e-12)


def test_create_graph_through_a_replayed_call_matches_eager():
    w = _t(3, 3, grad=True)
    f = capture(lambda x: (x @ w).tanh().sum())
    x = _t(2, 3, grad=True)
    results = []
    for use in (f, lambda x: (x @ w).tanh().sum()):
        for _ in range(3):
            y = use(x)
        (gx,) = sd.grad(y, [x], create_graph=True)
        (gw,) = sd.grad((gx * gx).sum(), [w])
        results.append((gx.numpy().copy(), gw.numpy().copy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_no_grad_calls_and_outputs_that_do_not_require_grad():
    w = _t(3, 3, grad=True)
    f = capture(lambda x: ((x @ w).relu(), (x @ w).detach().exp()))
    x = _t(4, 3)
    for _ in range(3):
        y, e = f(x)
    assert y.requires_grad and not e.requires_grad
    np.testing.assert_allclose(e.numpy(), np.exp(x.numpy() @ w.numpy()), rtol=1e-12)
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), x.numpy().T @ (x.numpy() @ w.numpy() > 0), rtol=1e-12)
    with sd.no_grad():
        for _ in range(3):
            y2, _ = f(x)
    assert not y2.requires_grad
    np.testing.assert_allclose(y2.numpy(), np.maximum(x.numpy() @ w.numpy(), 0), rtol=1e-12)


def test_the_first_traced_call_keeps_no_activations_alive():
    """Between the first and the second call, the recording keeps shapes, not arrays (no doubled peak memory)."""
    import gc
    import weakref

    w = _t(50, 50, grad=True)
    seen = []

    def fn(x):
        h = (x @ w).tanh()
        seen.append(weakref.ref(h._data))
        return h.sum()

    cap = capture(fn)
    cap(_t(8, 50)).backward()
    gc.collect()
    assert seen[0]() is None
    for _ in range(2):
        cap(_t(8, 50)).backward()
    assert isinstance(cap(_t(8, 50)).grad_fn, _Replayed)


def test_threads_replay_their_own_programs():
    """Four threads interleave forward and backward of one captured function; each gets the eager gradients."""
    import threading

    w = _t(3, 5, grad=False)
    f = capture(lambda x, v: ((x @ v).tanh() * w).sum())
    barrier = threading.Barrier(4)
    errors = []

    def worker(seed):
        rng = np.random.default_rng(seed)
        v = sd.tensor(rng.standard_normal((5, 5)), requires_grad=True)
        try:
            for _ in range(6):
                x = sd.tensor(rng.standard_normal((3, 5)))
                y = f(x, v)
                barrier.wait()  # every thread's forward before any backward
                y.backward()
                got = v.grad.numpy().copy()
                v.grad = None
                ((x @ v).tanh() * w).sum().backward()
                np.testing.assert_allclose(got, v.grad.numpy(), rtol=1e-12)
                v.grad = None
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_signatures_and_arguments():
    f = capture(lambda x, k: x * k)
    for _ in range(3):
        assert f(_t(2, 2), 3).numpy() == pytest.approx(_t(2, 2).numpy() * 3)
    assert f(_t(5), 4).numpy() == pytest.approx(_t(5).numpy() * 4)  # another shape, another setting: traced anew
    with pytest.raises(TypeError, match="neither a Tensor nor hashable"):
        f(_t(2, 2), [1])
    with pytest.raises(CaptureError, match="not computed by an op"):
        capture(lambda x: x)(_t(2))
