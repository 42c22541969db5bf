"""Layers, init, dropout, activations and losses on each device (textbook 12.1.2): forward and backward on
``device`` equal the CPU's (float64), results and gradients stay on ``device``, modules move in place and
state dicts load onto the target's device."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.backend import to_host

R = np.random.default_rng(0)
TOL = dict(rtol=1e-9, atol=1e-12)


def _host(t):
    """A tensor's values on the host (explicit copy; works on every device and every suite mode)."""
    return to_host(t.detach()._data)


def _on(t, device):
    return str(t.device).startswith(device)


def _pair(make, device):
    """The same module (same seed) built on the cpu and on ``device``."""
    sd.manual_seed(0)
    a = make("cpu")
    sd.manual_seed(0)
    b = make(device)
    return a, b


def _leaf(arr, device):
    return sd.tensor(arr, dtype=sd.float64, requires_grad=True, device=device)


def _run(module, inputs, device, weight_seed=1):
    """Forward, then backward of sum(out * fixed random weights); returns (outputs, input grads, param grads)."""
    out = module(*inputs)
    outs = list(out) if isinstance(out, tuple) else [out]
    outs = [o for o in outs if isinstance(o, sd.Tensor)] + [x for o in outs if isinstance(o, tuple) for x in o]
    rng = np.random.default_rng(weight_seed)
    loss = sum((o * sd.tensor(rng.standard_normal(o.shape), dtype=o.dtype, device=device)).sum() for o in outs)
    loss.backward()
    for o in outs:
        assert _on(o, device)
    return ([_host(o) for o in outs], [_host(x.grad) for x in inputs if x.requires_grad],
            {k: _host(p.grad) for k, p in module.named_parameters() if p.grad is not None})


def _same(module_cpu, module_dev, arrays, device):
    got_c = _run(module_cpu, [_leaf(a, "cpu") for a in arrays], "cpu")
    xs = [_leaf(a, device) for a in arrays]
    got_d = _run(module_dev, xs, device)
    for x in xs:
        assert _on(x.grad, device)
    for p in module_dev.parameters():
        assert _on(p, device) and (p.grad is None or _on(p.grad, device))
    for a, b in zip(got_c[0] + got_c[1], got_d[0] + got_d[1]):
        np.testing.assert_allclose(b, a, **TOL)
    assert got_c[2].keys() == got_d[2].keys()
    for k in got_c[2]:
        np.testing.assert_allclose(got_d[2][k], got_c[2][k], **TOL, err_msg=k)


@pytest.mark.parametrize("name", ["linear", "dense", "bilinear", "lowrank", "maxout", "conv2d", "lstm", "gru_bi",
                                  "lstm_cell", "rnn_cell", "skip_rnn", "batchnorm1d", "batchnorm2d", "layernorm",
                                  "prelu", "rbf", "tiled", "attention"])
def test_layer_forward_backward_matches_cpu(device, name):
    f64 = sd.float64
    makers = {
        "linear": (lambda d: nn.Linear(4, 3, dtype=f64, device=d), [(5, 4)]),
        "dense": (lambda d: nn.Dense(4, 3, activation="gelu", dtype=f64, device=d), [(2, 5, 4)]),
        "bilinear": (lambda d: nn.Bilinear(3, 2, 4, dtype=f64, device=d), [(5, 3), (5, 2)]),
        "lowrank": (lambda d: nn.LowRankLinear(6, 4, 2, dtype=f64, device=d), [(3, 6)]),
        "maxout": (lambda d: nn.Maxout(4, 3, pieces=2, dtype=f64, device=d), [(5, 4)]),
        "conv2d": (lambda d: nn.Conv2d(2, 3, 3, padding=1, dtype=f64, device=d), [(2, 2, 5, 5)]),
        "lstm": (lambda d: nn.LSTM(3, 4, num_layers=2, dtype=f64, device=d), [(5, 2, 3)]),
        "gru_bi": (lambda d: nn.GRU(3, 4, batch_first=True, bidirectional=True, dtype=f64, device=d), [(2, 5, 3)]),
        "lstm_cell": (lambda d: nn.LSTMCell(3, 4, dtype=f64, device=d), [(2, 3)]),
        "rnn_cell": (lambda d: nn.RNNCell(3, 4, dtype=f64, device=d), [(2, 3)]),
        "skip_rnn": (lambda d: nn.SkipRNN(3, 4, delay=2, dtype=f64, device=d), [(5, 2, 3)]),
        "batchnorm1d": (lambda d: nn.BatchNorm1d(4, dtype=f64, device=d), [(6, 4)]),
        "batchnorm2d": (lambda d: nn.BatchNorm2d(3, dtype=f64, device=d), [(4, 3, 2, 2)]),
        "layernorm": (lambda d: nn.LayerNorm(4, dtype=f64, device=d), [(3, 4)]),
        "prelu": (lambda d: nn.PReLU(3, dtype=f64, device=d), [(2, 3, 4)]),
        "rbf": (lambda d: nn.RBF(3, 4, dtype=f64, device=d), [(5, 3)]),
        "tiled": (lambda d: nn.TiledConv2d(2, 3, 5, 3, tile_size=2, dtype=f64, device=d), [(2, 2, 5, 5)]),
        "attention": (lambda d: nn.AdditiveAttention(3, 4, 5, dtype=f64, device=d), [(2, 3), (2, 6, 4)]),
    }
    make, shapes = makers[name]
    a, b = _pair(make, device)
    _same(a, b, [R.standard_normal(s) for s in shapes], device)


def test_batchnorm_running_stats_stay_on_device(device):
    a, b = _pair(lambda d: nn.BatchNorm1d(3, dtype=sd.float64, device=d), device)
    x = R.standard_normal((8, 3))
    a(sd.tensor(x, device="cpu"))
    b(sd.tensor(x, device=device))
    for name, buf in b.named_buffers():
        assert _on(buf, device), name
        np.testing.assert_allclose(_host(buf), _host(dict(a.named_buffers())[name]), **TOL)
    b.eval()
    y = b(sd.tensor(x, device=device))
    assert _on(y, device)
    b.reset_running_stats()
    assert _on(b.num_batches_tracked, device) and int(b.num_batches_tracked.item()) == 0


def test_recurrent_mask_given_on_the_host(device):
    a, b = _pair(lambda d: nn.GRU(3, 4, batch_first=True, dtype=sd.float64, device=d), device)
    x = R.standard_normal((2, 5, 3))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)  # (B, T) on the host
    ya, ha = a(sd.tensor(x, device="cpu"), mask=mask)
    yb, hb = b(sd.tensor(x, device=device), mask=mask)
    assert _on(yb, device) and _on(hb, device)
    np.testing.assert_allclose(_host(yb), _host(ya), **TOL)
    np.testing.assert_allclose(_host(hb), _host(ha), **TOL)


def test_attention_mask_given_on_the_host(device):
    a, b = _pair(lambda d: nn.GeneralAttention(3, 4, dtype=sd.float64, device=d), device)
    q, k = R.standard_normal((2, 3)), R.standard_normal((2, 5, 4))
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], dtype=bool)
    ca, wa = a(sd.tensor(q, device="cpu"), sd.tensor(k, device="cpu"), mask=mask)
    cb, wb = b(sd.tensor(q, device=device), sd.tensor(k, device=device), mask=mask)
    assert _on(cb, device) and _on(wb, device)
    np.testing.assert_allclose(_host(wb), _host(wa), **TOL)
    np.testing.assert_array_equal(_host(wb)[mask == 0], 0)


@pytest.mark.parametrize("ids_on", ["host", "device"])
def test_embedding_matches_cpu(device, ids_on):
    a, b = _pair(lambda d: nn.Embedding(7, 3, padding_idx=0, dtype=sd.float64, device=d), device)
    ids = np.array([[1, 0, 6], [2, 6, 1]])  # no negative ids: refused, as PyTorch (issue 13)
    ya = a(ids)
    yb = b(ids if ids_on == "host" else sd.tensor(ids, device=device))
    assert _on(yb, device)
    np.testing.assert_allclose(_host(yb), _host(ya), **TOL)
    g = R.standard_normal(ya.shape)
    (ya * sd.tensor(g, device="cpu")).sum().backward()
    (yb * sd.tensor(g, device=device)).sum().backward()
    assert _on(b.weight.grad, device)
    np.testing.assert_allclose(_host(b.weight.grad), _host(a.weight.grad), **TOL)
    np.testing.assert_array_equal(_host(b.weight.grad)[0], 0)  # padding row gets no gradient
    with pytest.raises(IndexError, match="out of range"):
        b(sd.tensor([7], device=device))


def test_embedding_double_backward_path_on_device(device):
    w = sd.tensor(R.standard_normal((5, 2)), requires_grad=True, device=device)
    ids = sd.tensor([[1, 3], [3, 0]], device=device)
    y = F.embedding(ids, w, padding_idx=0)
    (g,) = sd.autograd.grad((y * y).sum(), [w], create_graph=True)
    assert _on(g, device)
    want = np.zeros((5, 2))
    wn = _host(w)
    for i in (1, 3, 3):
        want[i] += 2 * wn[i]
    np.testing.assert_allclose(_host(g), want, **TOL)


@pytest.mark.parametrize("fn", [F.dropout, F.dropout2d, F.alpha_dropout])
def test_dropout_on_device_repeats_with_the_seed(device, fn):
    x = sd.tensor(R.standard_normal((4, 3, 5)) + 3.0, dtype=sd.float64, requires_grad=True, device=device)
    sd.manual_seed(7)
    y1 = fn(x, 0.5, training=True)
    sd.manual_seed(7)
    y2 = fn(x, 0.5, training=True)
    assert _on(y1, device)
    np.testing.assert_array_equal(_host(y1), _host(y2))
    y1.sum().backward()
    assert _on(x.grad, device)
    kept = _host(x.grad) != 0  # the gradient is the (scaled) mask
    assert 0 < kept.mean() < 1  # some units dropped, some kept
    if fn is F.dropout:
        np.testing.assert_allclose(_host(x.grad), kept * 2.0)
    assert fn(x, 0.5, training=False) is x


def test_dropout_layers_train_and_eval(device):
    for layer in (nn.Dropout(0.5, device=device), nn.Dropout(0.5, mode="weight_scaling", device=device)):
        x = sd.ones(6, 8, dtype=sd.float64, device=device)
        y = layer(x)
        assert _on(y, device) and set(np.unique(_host(y))) <= {0.0, 1.0, 2.0}
        layer.eval()
        ye = layer(x)
        assert _on(ye, device)
        np.testing.assert_allclose(_host(ye), 1.0 if layer.mode == "inverted" else 0.5)
    for p in (0.0, 1.0):
        y = F.dropout(sd.ones(3, dtype=sd.float64, device=device), p, True)
        assert _on(y, device) and (_host(y) == (1.0 - p)).all()


ACTIVATIONS = [
    F.relu, F.sigmoid, F.tanh, F.softmax, F.log_softmax, F.softplus, F.leaky_relu, F.hardtanh, F.relu6, F.elu,
    F.selu, F.celu, F.gelu, lambda x: F.gelu(x, approximate="tanh"), F.silu, F.mish, F.logsigmoid, F.softsign,
    F.hardsigmoid, F.hardswish, F.softmin, F.abs_rectification, F.cosine_unit, F.erf,
    lambda x: F.step(x, 0.5), lambda x: F.swish(x, 1.5), F.soft_max_value,
]


@pytest.mark.parametrize("i", range(len(ACTIVATIONS)))
def test_activation_matches_cpu(device, i):
    fn = ACTIVATIONS[i]
    a = np.concatenate([R.standard_normal((3, 4)) * 3, [[0.0, 1e4, -1e4, 6.0]]])
    outs = []
    for d in ("cpu", device):
        x = _leaf(a, d)
        y = fn(x)
        (y * sd.tensor(np.linspace(-1, 1, y.numel()).reshape(y.shape), device=d)).sum().backward()
        assert _on(y, d) and _on(x.grad, d)
        outs.append((_host(y), _host(x.grad)))
    for u, v in zip(*outs):
        np.testing.assert_allclose(v, u, **TOL)


def _ce_target():
    return np.array([0, 2, 1, 2])


LOSSES = {
    "mse": lambda x, d: F.mse_loss(x, np.tanh(np.arange(12.0).reshape(4, 3))),
    "l1": lambda x, d: F.l1_loss(x, np.ones((4, 3))),
    "huber": lambda x, d: F.huber_loss(x, np.zeros((4, 3)), delta=0.5),
    "smooth_l1": lambda x, d: F.smooth_l1_loss(x, [[0.1, 0.2, 0.3]] * 4, beta=0.3),
    "quadratic": lambda x, d: F.quadratic_cost(x, np.ones((4, 3))),
    "lp": lambda x, d: F.lp_loss(x, np.zeros((4, 3)), p=3),
    "bce_logits_posw": lambda x, d: F.binary_cross_entropy_with_logits(
        x, (np.arange(12).reshape(4, 3) % 2).astype(float), weight=np.array([1.0, 2.0, 0.5]),
        pos_weight=np.array([2.0, 1.0, 3.0])),
    "bce": lambda x, d: F.binary_cross_entropy(x.sigmoid(), (np.arange(12).reshape(4, 3) % 2).astype(float)),
    "multilabel": lambda x, d: F.multilabel_soft_margin_loss(x, (np.arange(12).reshape(4, 3) % 3 == 0).astype(float)),
    "ce_host_idx": lambda x, d: F.cross_entropy(x, _ce_target()),
    "ce_device_idx": lambda x, d: F.cross_entropy(x, sd.tensor(_ce_target(), device=d)),
    "ce_smooth": lambda x, d: F.cross_entropy(x, _ce_target(), label_smoothing=0.2, reduction="sum"),
    "ce_ignore": lambda x, d: F.cross_entropy(x, np.array([0, -100, 1, 2])),
    "ce_ignore_dev": lambda x, d: F.cross_entropy(x, sd.tensor([0, 1, 1, 2], device=d), ignore_index=1),
    "ce_weight": lambda x, d: F.cross_entropy(x, _ce_target(), weight=np.array([1.0, 2.0, 0.5])),
    "ce_weight_tensor": lambda x, d: F.cross_entropy(x, _ce_target(), weight=sd.tensor([1.0, 2.0, 0.5], device=d)),
    "ce_soft": lambda x, d: F.cross_entropy(x, np.full((4, 3), 1 / 3), weight=np.array([1.0, 2.0, 0.5])),
    "ce_spatial": lambda x, d: F.cross_entropy(x.reshape((2, 3, 2)), np.array([[0, 2], [1, 1]]), reduction="none"),
    "nll": lambda x, d: F.nll_loss(F.log_softmax(x, 1), _ce_target(), weight=np.array([1.0, 2.0, 0.5])),
    "nll_dev": lambda x, d: F.nll_loss(F.log_softmax(x, 1), sd.tensor(_ce_target(), device=d), reduction="none"),
    "kl": lambda x, d: F.kl_div(F.log_softmax(x, 1), np.array([[0.5, 0.5, 0.0]] * 4), reduction="batchmean"),
    "kl_logt": lambda x, d: F.kl_div(F.log_softmax(x, 1), np.log(np.full((4, 3), 1 / 3)), log_target=True),
    "hinge_emb": lambda x, d: F.hinge_embedding_loss(x, np.where(np.arange(12).reshape(4, 3) % 2, 1.0, -1.0)),
    "hinge": lambda x, d: F.hinge_loss(x, np.where(np.arange(12).reshape(4, 3) % 2, 1.0, -1.0)),
    "soft_margin": lambda x, d: F.soft_margin_loss(x, np.where(np.arange(12).reshape(4, 3) % 2, 1.0, -1.0)),
    "multi_margin": lambda x, d: F.multi_margin_loss(x, _ce_target(), p=2, weight=np.array([1.0, 2.0, 0.5])),
    "margin_ranking": lambda x, d: F.margin_ranking_loss(x[:, 0], x[:, 1], np.array([1.0, -1.0, 1.0, -1.0]), 0.1),
    "gauss_nll": lambda x, d: F.gaussian_nll_loss(x, np.zeros((4, 3)), (x * x + 0.5), full=True),
    "gauss_precision": lambda x, d: F.gaussian_nll_precision(x[:, :2], np.ones((4, 2)), x[:, 2:]),
    "mdn": lambda x, d: F.mdn_nll(x[:, :2], x.reshape((4, 3, 1))[:, :2], x.reshape((4, 3, 1))[:, 1:] * 0.1,
                                  np.array([[0.5], [-1.0], [0.0], [2.0]])),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_matches_cpu(device, name):
    a = R.standard_normal((4, 3))
    outs = []
    for d in ("cpu", device):
        x = _leaf(a, d)
        loss = LOSSES[name](x, d)
        (loss * sd.tensor(np.linspace(0.5, 1.5, loss.numel()).reshape(loss.shape), device=d)).sum().backward()
        assert _on(loss, d) and _on(x.grad, d)
        outs.append((_host(loss), _host(x.grad)))
    for u, v in zip(*outs):
        np.testing.assert_allclose(v, u, **TOL)


def test_loss_modules_with_host_weights(device):
    x = sd.tensor(R.standard_normal((4, 3)), device=device)
    for loss in (nn.CrossEntropyLoss(weight=np.array([1.0, 2.0, 0.5])), nn.NLLLoss(weight=np.array([1.0, 2.0, 0.5])),
                 nn.MultiMarginLoss(weight=np.array([1.0, 2.0, 0.5]))):
        assert _on(loss(x if not isinstance(loss, nn.NLLLoss) else F.log_softmax(x, 1), _ce_target()), device)
    with pytest.raises(ValueError, match="outside"):
        F.cross_entropy(x, sd.tensor([0, 3, 1, 1], device=device))


@pytest.mark.parametrize("init", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
                                  "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_", "eye_", "zeros_",
                                  "ones_", "inverse_sqrt_normal_"])
def test_init_fills_the_tensor_on_its_device(device, init):
    t = sd.zeros(6, 4, dtype=sd.float64, device=device)
    arr = t._data
    fn = getattr(nn.init, init)
    out = fn(t, sparsity=0.5) if init == "sparse_" else fn(t)
    assert out is t and t._data is arr and _on(t, device)  # filled in place, on its device
    v = _host(t)
    if init == "orthogonal_":
        np.testing.assert_allclose(v.T @ v, np.eye(4), atol=1e-12)
    elif init == "trunc_normal_":
        assert np.abs(v).max() <= 2.0
    elif init == "eye_":
        np.testing.assert_array_equal(v, np.eye(6, 4))
    elif init not in ("zeros_",):
        assert np.unique(v).size > 1 or init == "ones_"


def test_init_repeats_with_the_seed_and_apply_init_copies_over(device):
    vals = []
    for _ in range(2):
        sd.manual_seed(5)
        vals.append(_host(nn.init.kaiming_uniform_(sd.empty(3, 5, dtype=sd.float64, device=device))))
    np.testing.assert_array_equal(vals[0], vals[1])
    t = sd.zeros(2, 3, device=device)
    nn.init.apply_init(t, lambda w: np.arange(6.0).reshape(2, 3))  # a host array, copied to the device
    assert _on(t, device)
    np.testing.assert_array_equal(_host(t), np.arange(6.0).reshape(2, 3))


def test_linear_device_argument_puts_parameters_there(device):
    m = nn.Linear(2, 3, device=device)
    assert all(_on(p, device) for p in m.parameters())
    y = m(sd.randn(4, 2, device=device))
    assert _on(y, device)
    seq = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1), device=device)
    assert all(_on(t, device) for t in list(seq.parameters()) + list(seq.buffers()))


def test_unknown_device_raises_naming_it():
    with pytest.raises(ValueError, match="tpu"):
        nn.Linear(2, 3, device="tpu")


def test_module_to_keeps_the_same_parameter_objects(device):
    m = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), device="cpu")
    params, bufs = list(m.parameters()), list(m.buffers())
    m(sd.randn(4, 2, device="cpu")).sum().backward()
    assert m.to(device) is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert [id(b) for b in m.buffers()] == [id(b) for b in bufs]
    assert all(_on(p, device) and _on(p.grad, device) for p in params)
    assert all(_on(b, device) for b in bufs)
    m.zero_grad(set_to_none=False)
    assert all(_on(p.grad, device) and not _host(p.grad).any() for p in params)
    m.cpu()
    assert all(p.device == "cpu" for p in params)


@pytest.mark.parametrize("direction", ["cpu_to_device", "device_to_cpu", "numpy_to_device"])
def test_load_state_dict_keeps_the_targets_device(device, direction):
    src_dev, dst_dev = ("cpu", device) if direction != "device_to_cpu" else (device, "cpu")
    sd.manual_seed(1)
    src = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), device=src_dev)
    src(sd.randn(5, 3, device=src_dev))  # running stats move away from their init
    sd.manual_seed(2)
    dst = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), device=dst_dev)
    params = list(dst.parameters())
    state = src.state_dict()
    if direction == "numpy_to_device":
        state = {k: _host(v) for k, v in state.items()}
    dst.load_state_dict(state)
    assert [id(p) for p in dst.parameters()] == [id(p) for p in params]
    for (k, v), (_, w) in zip(src.state_dict().items(), dst.state_dict().items()):
        assert _on(w, dst_dev), k
        np.testing.assert_array_equal(_host(w), _host(v))
    # the copy is independent of the source
    next(iter(src.parameters())).data.fill_(0.0)
    assert _host(params[0]).any()


def test_summary_runs_on_the_models_device(device):
    m = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2), device=device)
    text = nn.summary(m, (4,), print_fn=None)
    assert "(-1, 2)" in text and "Total params: 23" in text


def test_esn_and_recursive_net_on_device(device):
    sd.manual_seed(0)
    s = np.sin(0.2 * np.arange(120))[:, None]
    esn_c = nn.EchoStateNetwork(1, 30, 1, dtype=sd.float64, device="cpu")
    sd.manual_seed(0)
    esn_d = nn.EchoStateNetwork(1, 30, 1, dtype=sd.float64, device=device)
    mse_c, mse_d = esn_c.fit(s[:-1], s[1:], washout=10), esn_d.fit(s[:-1], s[1:], washout=10)
    np.testing.assert_allclose(mse_d, mse_c, rtol=1e-4, atol=1e-10)
    y = esn_d(s[:20])
    assert _on(y, device)
    np.testing.assert_allclose(_host(y), _host(esn_c(s[:20])), atol=1e-6)
    gen = esn_d.generate(5, s[-1], esn_d.last_state)
    np.testing.assert_allclose(to_host(gen), esn_c.generate(5, s[-1], esn_c.last_state), atol=1e-6)
    a, b = _pair(lambda d: nn.RecursiveNet(6, 3, dtype=sd.float64, device=d), device)
    tree = ((1, 2), (3, (4, 5)))
    ya, yb = a([tree, (0, 1)]), b([tree, (0, 1)])
    assert _on(yb, device)
    np.testing.assert_allclose(_host(yb), _host(ya), **TOL)
