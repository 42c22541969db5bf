"""sd.compile (torch.compile's entry point on autograd.capture): replays where capture can, eager with one warning
where it refuses, the same results and the same random draws as eager calls either way."""
import warnings

import numpy as np
import pytest

import shendu as sd
import shendu.nn as nn
import shendu.nn.functional as F
from shendu.autograd import CaptureError
from shendu.autograd.capture import _Replayed
from shendu.compiler import OptimizedModule


def _data(seed):
    rng = np.random.default_rng(seed)
    return sd.tensor(rng.standard_normal((6, 4))), sd.tensor(rng.integers(0, 3, 6))


def _train(model, step, steps=5):
    opt = sd.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for s in range(steps):
        x, y = _data(s)
        opt.zero_grad()
        loss = F.cross_entropy(step(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _mlp(seed, norm=False):
    sd.manual_seed(seed)
    mid = nn.BatchNorm1d(16) if norm else nn.Dropout(0.3)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), mid, nn.Linear(16, 3)).double()


@pytest.mark.parametrize("norm", [False, True], ids=["dropout: replayed", "batch norm training: eager"])
def test_compiled_module_trains_exactly_like_the_eager_one(norm):
    eager, model = _mlp(1, norm), _mlp(1, norm)
    compiled = sd.compile(model)
    assert isinstance(compiled, OptimizedModule)
    sd.manual_seed(7)
    ref = _train(eager, eager)
    sd.manual_seed(7)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = _train(model, compiled)
    assert got == ref  # the same draws (dropout masks) and the same arithmetic, step for step
    for pe, pc in zip(eager.state_dict().values(), model.state_dict().values()):
        np.testing.assert_array_equal(pc.numpy(), pe.numpy())  # incl. batch norm's running statistics and count
    refused = [w for w in caught if "sd.compile" in str(w.message)]
    assert len(refused) == (1 if norm else 0)
    if not norm:
        assert isinstance(compiled(_data(0)[0]).grad_fn, _Replayed)


def test_a_call_refused_midway_goes_on_eagerly_with_the_same_random_draws():
    """Dropout draws, then item() is refused: recording stops there and the call goes on eagerly (not run twice)."""
    def fn(x):
        h = F.dropout(x, 0.5)
        return h * h.sum().item()

    x = _data(0)[0]
    sd.manual_seed(3)
    ref = [fn(x).numpy() for _ in range(3)]
    sd.manual_seed(3)
    compiled = sd.compile(fn)
    with pytest.warns(RuntimeWarning, match="item"):
        got = [compiled(x).numpy() for _ in range(3)]
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)


def test_a_refusal_found_at_the_end_of_a_call_keeps_it_eager():
    """A random draw after the last op is found by the end-of-call check: the signature stays eager (no plan)."""
    def fn(x):
        y = x * 2.0
        sd.randn(2)
        return y

    x = _data(0)[0]
    sd.manual_seed(1)
    for _ in range(3):
        fn(x)
    after_eager = sd.randn(1).item()
    sd.manual_seed(1)
    compiled = sd.compile(fn)
    with pytest.warns(RuntimeWarning, match="random draw"):
        outs = [compiled(x) for _ in range(3)]
    assert sd.randn(1).item() == after_eager  # three draws, as eagerly: never replayed without its draw
    assert all(o.grad_fn is None for o in outs)
    np.testing.assert_array_equal(outs[-1].numpy(), x.numpy() * 2.0)


def test_fullgraph_raises_and_the_decorator_forms():
    @sd.compile(fullgraph=True)
    def bad(x):
        return x * x.sum().item()

    with pytest.raises(CaptureError, match="item"):
        bad(_data(0)[0])

    @sd.compile
    def good(x, w):
        return (x @ w).tanh().sum()

    x, w = _data(0)[0], sd.tensor(np.ones((4, 2)), requires_grad=True)
    for _ in range(3):
        y = good(x, w)
    assert isinstance(y.grad_fn, _Replayed)
    assert y.item() == pytest.approx(np.tanh(x.numpy() @ np.ones((4, 2))).sum(), rel=1e-12)
    assert sd.compile(good, disable=True) is good
    assert sd.compile(mode="max-autotune", backend="inductor")(good)(x, w).item() == pytest.approx(y.item())


def test_optimized_module_shares_the_original():
    model = _mlp(2)
    compiled = sd.compile(model)
    assert list(compiled.state_dict()) == ["_orig_mod." + k for k in model.state_dict()]
    assert compiled._orig_mod is model
    assert compiled._modules['_orig_mod'][0] is model[0]
    compiled.eval()
    assert not model.training
    x = _data(0)[0]
    for _ in range(3):
        out = compiled(x)
    np.testing.assert_array_equal(out.numpy(), model(x).numpy())  # eval: dropout off in both
