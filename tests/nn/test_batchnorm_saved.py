"""Batch normalization in training keeps nothing as large as its input for backward (issue 20, peak memory):
the backward recomputes x - mean from the input, with sum g (x - mean) taken as sum g x - mean sum g while
|mean| / std is at most RAW_DOT_MAX_MEAN, else centered block by block. Both routes against PyTorch (float64)
in float32; the float64 gradcheck and PyTorch comparisons are in test_normalization.py."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.nn.functional import normalization


def _grads(x, g, w, b, need_x=True):
    xs = sd.tensor(x, requires_grad=need_x)
    ws, bs = sd.tensor(w, requires_grad=True), sd.tensor(b, requires_grad=True)
    y = F.batch_norm(xs, None, None, ws, bs, training=True)
    y.backward(sd.tensor(g))
    return y.numpy(), (xs.grad.numpy() if need_x else None), ws.grad.numpy(), bs.grad.numpy()


def _torch_grads(torch, x, g, w, b):
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    wt = torch.tensor(w.astype(np.float64), requires_grad=True)
    bt = torch.tensor(b.astype(np.float64), requires_grad=True)
    yt = torch.nn.functional.batch_norm(xt, None, None, wt, bt, training=True)
    yt.backward(torch.tensor(g.astype(np.float64)))
    return yt.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def _data(mean, std, shape=(16, 4, 9, 9), seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * std + mean).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(shape[1]).astype(np.float32)
    b = rng.standard_normal(shape[1]).astype(np.float32)
    return x, g, w, b


def _err(a, ref):
    return float(np.abs(a - ref).max() / np.abs(ref).max())


def test_saved_state_is_per_channel_only():
    x, g, w, b = _data(1.0, 2.0, shape=(8, 5, 6, 6))
    xs = sd.tensor(x, requires_grad=True)
    y = F.batch_norm(xs, None, None, sd.tensor(w, requires_grad=True), sd.tensor(b, requires_grad=True),
                     training=True)
    fn = y.grad_fn
    saved = [a for a in fn.saved if hasattr(a, "shape")]
    assert saved and all(a.size == 5 for a in saved)  # mean and 1/std: nothing of x's size
    assert not np.shares_memory(y.numpy(), x)


@pytest.mark.parametrize("mean,std", [(0.5, 2.0), (3.0, 0.5), (50.0, 1.0), (300.0, 1.0)])
@pytest.mark.parametrize("need_x", [True, False])
@pytest.mark.parametrize("route", ["auto", "one-pass", "centered"])
def test_float32_gradients_match_torch_float64(monkeypatch, mean, std, need_x, route):
    """Both routes of sum g (x - mean), chosen by |mean| / std ("auto": one-pass for the first two cases, centered
    for the last two) or forced, give float32-level errors against PyTorch in float64."""
    torch = pytest.importorskip("torch")
    if route != "auto":
        monkeypatch.setattr(normalization, "RAW_DOT_MAX_MEAN", float("inf") if route == "one-pass" else -1.0)
    x, g, w, b = _data(mean, std)
    y, gx, gw, gb = _grads(x, g, w, b, need_x)
    ry, rgx, rgw, rgb = _torch_grads(torch, x, g, w, b)
    assert y.dtype == np.float32 and gw.dtype == np.float32 and gb.dtype == np.float32
    assert _err(y, ry) < 1e-5
    if need_x:
        assert gx.dtype == np.float32 and _err(gx, rgx) < 1e-5
    assert _err(gw, rgw) < 1e-4 and _err(gb, rgb) < 1e-6


def test_input_gradient_after_in_place_change_is_refused():
    """Backward reads the input again: an in-place change after forward must be refused, not silently used."""
    x, g, w, b = _data(0.0, 1.0, shape=(4, 3, 5, 5))
    xs = sd.tensor(x, requires_grad=True)
    h = xs * 1.0
    y = F.batch_norm(h, None, None, sd.tensor(w, requires_grad=True), sd.tensor(b, requires_grad=True),
                     training=True)
    with sd.no_grad():
        h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward(sd.tensor(g))
