"""Bad input gets the error PyTorch gives, never a silent wrong result (issue 13, "Bad input").

Each case is run through torch (the oracle) and shendu: where torch raises, shendu raises a named error;
where torch returns empty outputs, shendu returns the same shapes. 92 cases (device runs add the stand-in
and, where present, a GPU):

* silent wrong results before (the issue's nine): Embedding (2) and index_select (1) with negative indices,
  softmax/log_softmax with an out-of-range dim (2), cat/stack with an out-of-range dim (3), reshape(-2, 6)
  (1), binary_cross_entropy with inputs above 1, below 0 and NaN (3), sd.tensor(['a', 'b']) (1): 13 cases;
* one dim helper: 25 ops with an out-of-range dim, the 0-d rules of 5 ops, the message wording, a non-integer
  dim: 32 cases;
* index checks: gather, scatter_add, index_add with negative indices given as host and as device index
  arrays (6), and max(x, dim), whose argmax indices are not checked again (1): 7 cases;
* empty batches: Conv1d, Conv2d (grouped, strided), ConvTranspose2d with batch 0 (3) and their gradchecks
  with double backward (3); LSTM/GRU/RNN in 4 configurations with batch 0 (12) and gradchecks of their fused
  kernels (3); sequence length 0 raises as PyTorch (3): 24 cases;
* lists: 5 layers and 3 losses given Python lists (TypeError naming them), list targets still accepted (1),
  ragged or non-numeric nested data in sd.tensor (6), big ints with a float dtype still convert (1): 16 cases.
"""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.backend import to_host
from shendu.nn import functional as F

torch = pytest.importorskip("torch")

R = np.random.default_rng(0)


def _h(t):
    """A tensor's values on the host (from any device)."""
    return to_host(t._data)


def _raises_like_torch(t_fn, s_fn, err, match=None):
    """torch raises on this input, and shendu raises ``err`` (matching ``match``)."""
    with pytest.raises(Exception):  # noqa: B017  (torch raises various types; only that it raises matters)
        t_fn()
    with pytest.raises(err, match=match):
        s_fn()


X = R.standard_normal((2, 3)).astype(np.float32)


# --- silent wrong results before (the list) -----------------------------------------------------
@pytest.mark.parametrize("ids", [[-1], [0, -5]])
def test_embedding_negative_index(ids):
    w = R.standard_normal((5, 2)).astype(np.float32)
    _raises_like_torch(lambda: torch.nn.functional.embedding(torch.tensor(ids), torch.tensor(w)),
                       lambda: F.embedding(sd.tensor(ids), sd.tensor(w)), IndexError, "embedding: index out of range")


def test_index_select_negative_index():
    _raises_like_torch(lambda: torch.tensor(X).index_select(1, torch.tensor([-1])),
                       lambda: sd.tensor(X).index_select(1, sd.tensor([-1])), IndexError, "index_select")


@pytest.mark.parametrize("name,dim", [("softmax", 2), ("log_softmax", -3)])
def test_softmax_dim_out_of_range(name, dim):
    _raises_like_torch(lambda: getattr(torch, name)(torch.tensor(X), dim),
                       lambda: getattr(F, name)(sd.tensor(X), dim), IndexError, name)


@pytest.mark.parametrize("name,dim", [("cat", 2), ("stack", 3), ("stack", -4)])
def test_cat_stack_dim_out_of_range(name, dim):
    _raises_like_torch(lambda: getattr(torch, name)([torch.tensor(X)] * 2, dim),
                       lambda: getattr(sd, name)([sd.tensor(X)] * 2, dim), IndexError, name)


def test_reshape_negative_size():
    _raises_like_torch(lambda: torch.zeros(12).reshape(-2, 6), lambda: sd.zeros(12).reshape(-2, 6),
                       ValueError, r"reshape: invalid size -2")


@pytest.mark.parametrize("p", [1.5, -0.5, float("nan")])
def test_binary_cross_entropy_outside_unit_interval(p):
    x = np.array([0.5, p], dtype=np.float32)
    y = np.array([1.0, 0.0], dtype=np.float32)
    _raises_like_torch(lambda: torch.nn.functional.binary_cross_entropy(torch.tensor(x), torch.tensor(y)),
                       lambda: F.binary_cross_entropy(sd.tensor(x), sd.tensor(y)), ValueError, "binary_cross_entropy")


def test_tensor_of_strings():
    _raises_like_torch(lambda: torch.tensor(["a", "b"]), lambda: sd.tensor(["a", "b"]), TypeError, "expected numbers")


# --- one dim-normalizing helper ---------------------------------------------------------------------------
IDX = np.zeros((2, 3), dtype=np.int64)
DIM_OPS = {
    "sum": lambda m, x: m.sum(x, 2), "mean": lambda m, x: m.mean(x, -3), "amax": lambda m, x: m.amax(x, 2),
    "logsumexp": lambda m, x: m.logsumexp(x, 2), "max": lambda m, x: m.max(x, 2), "argmax": lambda m, x: m.argmax(x, 2),
    "argmin": lambda m, x: m.argmin(x, -3), "cumsum": lambda m, x: m.cumsum(x, 2), "prod": lambda m, x: m.prod(x, 2),
    "squeeze": lambda m, x: x.squeeze(2), "unsqueeze": lambda m, x: x.unsqueeze(3),
    "transpose": lambda m, x: x.transpose(0, 2), "permute": lambda m, x: x.permute(0, 2),
    "flatten": lambda m, x: x.flatten(0, 2), "split": lambda m, x: x.split(1, 2), "chunk": lambda m, x: x.chunk(2, 2),
    "unbind": lambda m, x: x.unbind(2), "narrow": lambda m, x: x.narrow(2, 0, 1), "flip": lambda m, x: x.flip(2),
    "roll": lambda m, x: x.roll(1, 2), "repeat_interleave": lambda m, x: x.repeat_interleave(2, 2),
    "index_select": lambda m, x: x.index_select(2, m.tensor([0])),
    "index_add": lambda m, x: x.index_add(2, m.tensor([0]), x),
    "gather": lambda m, x: x.gather(2, m.tensor(IDX)), "log_softmax": lambda m, x: x.log_softmax(-3),
}


@pytest.mark.parametrize("name", sorted(DIM_OPS))
def test_dim_out_of_range(name):
    f = DIM_OPS[name]
    _raises_like_torch(lambda: f(torch, torch.tensor(X)), lambda: f(sd, sd.tensor(X)), IndexError,
                       rf"{name}: Dimension out of range \(expected to be in range of \[-\d, \d\], but got -?\d\)")


@pytest.mark.parametrize("name", ["sum", "softmax", "cumsum", "max", "squeeze"])
def test_zero_dim_tensor_takes_dims_0_and_minus_1(name):
    """A 0-d tensor accepts dim 0 and -1 (as a 1-d range) and refuses dim 1, as PyTorch."""
    fs = {"sum": lambda x, d: x.sum(d), "softmax": lambda x, d: x.softmax(d), "cumsum": lambda x, d: x.cumsum(d),
          "max": lambda x, d: x.max(d)[0], "squeeze": lambda x, d: x.squeeze(d)}
    f = fs[name]
    for d in (0, -1):
        want = f(torch.tensor(1.5), d)
        got = f(sd.tensor(1.5), d)
        assert got.shape == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.numpy())
    _raises_like_torch(
        lambda: f(torch.tensor(1.5), 1), lambda: f(sd.tensor(1.5), 1), IndexError, "range of \\[-1, 0\\]"
    )


def test_dim_error_message_matches_pytorch_wording():
    with pytest.raises(IndexError) as t:
        torch.tensor(X).softmax(2)
    with pytest.raises(IndexError) as s:
        sd.tensor(X).softmax(2)
    assert str(s.value) == "softmax: " + str(t.value)


def test_dim_must_be_an_integer():
    with pytest.raises(TypeError, match="softmax: dim must be an integer"):
        sd.tensor(X).softmax(1.0)


# --- index checks in gather/index paths ------------------------------------------------------------------
@pytest.mark.parametrize("where", ["host", "device"])
@pytest.mark.parametrize("name", ["gather", "scatter_add", "index_add"])
def test_negative_indices_refused(device, name, where):
    xs = torch.tensor(X)
    idx2 = np.array([[-1], [0]])
    t_fns = {"gather": lambda: xs.gather(1, torch.tensor(idx2)),
             "scatter_add": lambda: xs.scatter_add(1, torch.tensor(idx2), torch.ones(2, 1)),
             "index_add": lambda: xs.index_add(1, torch.tensor([-1]), torch.ones(2, 1))}
    x = sd.tensor(X, device=device)
    idx = idx2 if name != "index_add" else np.array([-1])
    i = idx if where == "host" else sd.tensor(idx, device=device)
    s_fns = {"gather": lambda: x.gather(1, i), "scatter_add": lambda: x.scatter_add(1, i, sd.ones(2, 1, device=device)),
             "index_add": lambda: x.index_add(1, i, sd.ones(2, 1, device=device))}
    _raises_like_torch(t_fns[name], s_fns[name], IndexError, rf"{name}: index out of range for dimension 1 of size 3")


def test_max_along_dim_uses_its_own_indices_unchecked(device):
    """max(x, dim) gathers with argmax indices (in range by construction) and matches torch, values and grad."""
    xn = R.standard_normal((3, 4))
    x = sd.tensor(xn, requires_grad=True, device=device)
    xt = torch.tensor(xn, requires_grad=True)
    v, i = x.max(1)
    vt, it = xt.max(1)
    np.testing.assert_allclose(_h(v), vt.detach().numpy())
    np.testing.assert_array_equal(_h(i), it.numpy())
    v.sum().backward()
    vt.sum().backward()
    np.testing.assert_allclose(_h(x.grad), xt.grad.numpy())


# --- empty batches ----------------------------------------------------------------------------------------
CONVS = {
    "Conv1d": (lambda m: m.Conv1d(2, 3, 3, padding=1), (0, 2, 5)),
    "Conv2d": (lambda m: m.Conv2d(2, 4, 3, stride=2, groups=2), (0, 2, 7, 7)),
    "ConvTranspose2d": (lambda m: m.ConvTranspose2d(2, 3, 3, stride=2), (0, 2, 5, 5)),
}


@pytest.mark.parametrize("name", sorted(CONVS))
def test_conv_empty_batch(device, name):
    make, shape = CONVS[name]
    want = make(torch.nn)(torch.zeros(shape))
    m = make(nn).to(device)
    x = sd.zeros(*shape, requires_grad=True, device=device)
    y = m(x)
    assert y.shape == tuple(want.shape)
    (y * 2.0).sum().backward()
    assert x.grad.shape == shape
    assert m.weight.grad.shape == m.weight.shape and not _h(m.weight.grad).any()
    assert m.bias.grad.shape == m.bias.shape and not _h(m.bias.grad).any()


@pytest.mark.parametrize("name", sorted(CONVS))
def test_conv_empty_batch_gradcheck(name):
    make, shape = CONVS[name]
    m = make(nn)
    w = sd.tensor(m.weight.numpy().astype(np.float64), requires_grad=True)
    b = sd.tensor(m.bias.numpy().astype(np.float64), requires_grad=True)
    x = sd.zeros(*shape, dtype=sd.float64, requires_grad=True)
    fn = {"Conv1d": lambda x, w, b: F.conv1d(x, w, b, padding=1),
          "Conv2d": lambda x, w, b: F.conv2d(x, w, b, stride=2, groups=2),
          "ConvTranspose2d": lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2)}[name]
    assert sd.autograd.gradcheck(lambda w, b: fn(x, w, b) * 1.0, (w, b))
    (gx, gw) = sd.autograd.grad((fn(x, w, b) ** 2).sum(), [x, w], create_graph=True)  # double backward runs
    assert gx.shape == shape and gw.shape == w.shape
    (gw.sum() + gx.sum()).backward()
    assert w.grad.shape == w.shape


RNN_CFGS = [dict(), dict(batch_first=True), dict(num_layers=2, bidirectional=True), dict(fused=False)]


@pytest.mark.parametrize("cfg", range(len(RNN_CFGS)))
@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_recurrent_empty_batch(device, mode, cfg):
    kw = RNN_CFGS[cfg]
    tkw = {k: v for k, v in kw.items() if k != "fused"}
    shape = (0, 4, 2) if kw.get("batch_first") else (4, 0, 2)
    ty, th = getattr(torch.nn, mode)(2, 3, **tkw)(torch.zeros(shape))
    m = getattr(nn, mode)(2, 3, **kw).to(device)
    x = sd.zeros(*shape, requires_grad=True, device=device)
    y, h = m(x)
    th, h = (th[0], h[0]) if mode == "LSTM" else (th, h)
    assert y.shape == tuple(ty.shape) and h.shape == tuple(th.shape)
    (y.sum() + h.sum()).backward()
    assert x.grad.shape == shape
    assert m.weight_hh_l0.grad.shape == m.weight_hh_l0.shape and not _h(m.weight_hh_l0.grad).any()


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_recurrent_empty_batch_gradcheck(mode):
    """The fused recurrent kernels over a batch of 0: the weight gradients are exactly 0 (float64 gradcheck)."""
    from shendu.nn.functional.rnn import recurrent_layer

    g = {"LSTM": 4, "GRU": 3, "RNN": 1}[mode]
    w_ih = sd.tensor(R.standard_normal((g * 3, 2)), requires_grad=True)
    w_hh = sd.tensor(R.standard_normal((g * 3, 3)), requires_grad=True)
    b = sd.tensor(R.standard_normal(g * 3), requires_grad=True)
    x = sd.zeros(4, 0, 2, dtype=sd.float64)
    h0 = sd.zeros(0, 3, dtype=sd.float64)

    def f(w_ih, w_hh, b):
        y, h, _ = recurrent_layer(mode, x, h0, h0 if mode == "LSTM" else None, w_ih, w_hh, b, b)
        return y * 1.0, h * 1.0

    assert sd.autograd.gradcheck(f, (w_ih, w_hh, b))
    y, h = f(w_ih, w_hh, b)
    (y.sum() + h.sum()).backward()
    assert w_hh.grad.shape == w_hh.shape and not _h(w_hh.grad).any()


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_recurrent_zero_length_sequence_raises_as_pytorch(mode):
    _raises_like_torch(lambda: getattr(torch.nn, mode)(2, 3)(torch.zeros(0, 2, 2)),
                       lambda: getattr(nn, mode)(2, 3)(sd.zeros(0, 2, 2)), ValueError,
                       f"{mode}: expected sequence length to be larger than 0")


# --- Python lists where a tensor is expected --------------------------------------------------------------
LAYERS = {
    "Linear": (lambda m: m.Linear(4, 3), [[1.0, 2.0, 3.0, 4.0]]),
    "Conv2d": (lambda m: m.Conv2d(1, 1, 1), [[[[1.0]]]]),
    "LSTM": (lambda m: m.LSTM(2, 3), [[[1.0, 2.0]]]),
    "ReLU": (lambda m: m.ReLU(), [1.0, -1.0]),
    "LSTMCell": (lambda m: m.LSTMCell(2, 3), [[1.0, 2.0]]),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_refuses_list(name):
    make, data = LAYERS[name]
    _raises_like_torch(lambda: make(torch.nn)(data), lambda: make(nn)(data), TypeError,
                       rf"{name}\(\): argument 'input' must be Tensor, not list")


LOSSES = {
    "mse_loss": ([1.0, 2.0], [1.0, 2.0]),
    "cross_entropy": ([[1.0, 2.0]], [1]),
    "binary_cross_entropy": ([0.5], [1.0]),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_refuses_list_input(name):
    a, b = LOSSES[name]
    _raises_like_torch(lambda: getattr(torch.nn.functional, name)(a, b), lambda: getattr(F, name)(a, b), TypeError,
                       rf"{name}\(\): argument 'input' must be Tensor, not list")


def test_loss_takes_list_target_as_before():
    """Targets as host data (lists, arrays) stay accepted (documented in nn/functional/loss.py)."""
    got = F.mse_loss(sd.tensor([1.0, 3.0]), [1.0, 2.0])
    np.testing.assert_allclose(got.numpy(), 0.5)


@pytest.mark.parametrize("data,msg", [
    ([[1, 2], [3]], r"expected sequence of length 2 at dim 1 \(got 1\)"),
    ([[[1], [2]], [[1], [2, 3]]], r"expected sequence of length 1 at dim 2 \(got 2\)"),
    ([[1, 2], 3], r"at dim 1 some entries are sequences and some are not"),
    ([None, 1.0], r"expected numbers or booleans"),
    (np.array(["x"]), r"expected numbers or booleans"),
    ([[1.0, "a"]], r"expected numbers or booleans"),
])
def test_tensor_ragged_or_non_numeric(data, msg):
    err = ValueError if "dim" in msg else TypeError
    _raises_like_torch(lambda: torch.tensor(data), lambda: sd.tensor(data), err, msg)


def test_tensor_big_ints_with_float_dtype_still_convert():
    assert sd.tensor([2 ** 70], dtype=sd.float64).numpy()[0] == float(2 ** 70)


@pytest.mark.parametrize("call, name", [
    (lambda: F.linear([[1.0, 2.0]], sd.ones(3, 2)), "linear"),
    (lambda: F.softmax([1.0, 2.0]), "softmax"),
    (lambda: F.log_softmax([1.0, 2.0]), "log_softmax"),
])
def test_functional_refuses_lists_like_torch(call, name):
    torch = pytest.importorskip("torch")
    with pytest.raises((TypeError, AttributeError)):  # torch refuses too (softmax with an AttributeError)
        torch.nn.functional.linear([[1.0, 2.0]], torch.ones(3, 2)) if name == "linear" else getattr(
            torch.nn.functional, name)([1.0, 2.0], dim=0)
    with pytest.raises(TypeError, match=rf"{name}\(\): argument '\w+' must be Tensor, not list"):
        call()


@pytest.mark.parametrize("call", [
    lambda x: x.movedim(3, 0), lambda x: x.unflatten(2, (2, 1)), lambda x: x.diagonal(0, 0, 2),
])
def test_late_dim_ops_refuse_out_of_range_dims_like_torch(call):
    """movedim, unflatten and diagonal check their dims with the shared norm_dim (they wrapped silently)."""
    torch = pytest.importorskip("torch")
    with pytest.raises(IndexError):
        call(torch.zeros(2, 2))
    with pytest.raises(IndexError, match="Dimension out of range"):
        call(sd.zeros(2, 2))


def test_new_tensor_from_a_device_tensor(device):
    x = sd.zeros(2, device=device)
    y = x.new_tensor(sd.tensor([1.0, 2.0], device=device))
    assert str(y.device).startswith(device) and to_host(y._data).tolist() == [1.0, 2.0]
