"""Names PyTorch programs use (issue 12), each checked against torch on the same inputs."""
import warnings

import numpy as np
import pytest

import shendu as sd

torch = pytest.importorskip("torch")

A = np.array([[0.5, -1.25, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
P = np.abs(A) + 0.1  # positive


def _close(s, t, atol=1e-5):
    if isinstance(t, (tuple, list)):
        assert len(s) == len(t)
        for a, b in zip(s, t):
            _close(a, b, atol)
        return
    t = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    s = s.numpy() if isinstance(s, sd.Tensor) else np.asarray(s)
    assert s.shape == t.shape, (s.shape, t.shape)
    assert s.dtype == t.dtype, (s.dtype, t.dtype)
    np.testing.assert_allclose(s, t, atol=atol, rtol=1e-5)


def both(fn, *arrays):
    """fn(module, *tensors) for shendu and torch."""
    return fn(sd, *[sd.tensor(a) for a in arrays]), fn(torch, *[torch.tensor(a) for a in arrays])


FUNCS = {
    "sinh": (lambda m, x: m.sinh(x), A),
    "cosh": (lambda m, x: m.cosh(x), A),
    "tan": (lambda m, x: m.tan(x), A),
    "log2": (lambda m, x: m.log2(x), P),
    "log10": (lambda m, x: m.log10(x), P),
    "reciprocal": (lambda m, x: m.reciprocal(x), P),
    "trunc": (lambda m, x: m.trunc(x), A),
    "bmm": (lambda m, x: m.bmm(x.reshape(1, 2, 3), x.reshape(1, 3, 2)), A),
    "mm": (lambda m, x: m.mm(x, x.t()), A),
    "t": (lambda m, x: m.t(x), A),
    "Tensor.t": (lambda m, x: x.t(), A),
    "tril": (lambda m, x: m.tril(x), A),
    "triu": (lambda m, x: m.triu(x, 1), A),
    "diag": (lambda m, x: m.diag(x), A),
    "diag1d": (lambda m, x: m.diag(x[0], -1), A),
    "diagonal": (lambda m, x: m.diagonal(x, 1), A),
    "trace": (lambda m, x: m.trace(x), A),
    "meshgrid_ij": (lambda m, x: m.meshgrid(x[0], x[1, :2], indexing="ij"), A),
    "meshgrid_xy": (lambda m, x: m.meshgrid(x[0], x[1, :2], indexing="xy"), A),
    "sort": (lambda m, x: tuple(m.sort(x, dim=1)), A),
    "sort_desc": (lambda m, x: m.sort(x, 0, descending=True).values, A),
    "argsort": (lambda m, x: m.argsort(x, dim=1), A),
    "topk": (lambda m, x: tuple(m.topk(x, 2, dim=1)), A),
    "topk_small": (lambda m, x: m.topk(x, 1, 0, largest=False).values, A),
    "all": (lambda m, x: (m.all(x > -2), m.all(x > 0, dim=1)), A),
    "any": (lambda m, x: (m.any(x > 1.9), x.any()), A),
    "nonzero": (lambda m, x: m.nonzero(x > 0), A),
    "nonzero_tuple": (lambda m, x: m.nonzero(x > 0, as_tuple=True), A),
    "count_nonzero": (lambda m, x: m.count_nonzero(x > 0, dim=0), A),
    "masked_select": (lambda m, x: m.masked_select(x, x > 0), A),
    "isclose": (lambda m, x: m.isclose(x, x + 1e-7), A),
    "equal": (lambda m, x: m.equal(x, x + 0), A),
    "hstack": (lambda m, x: m.hstack([x, x]), A),
    "vstack": (lambda m, x: m.vstack([x[0], x[1]]), A),
    "numel": (lambda m, x: m.numel(x), A),
    "is_floating_point": (lambda m, x: m.is_floating_point(x), A),
    "scatter": (lambda m, x: m.scatter(m.zeros(2, 3), 1, m.tensor([[2], [0]]), x), A),
    "Tensor.where": (lambda m, x: x.where(x > 0, m.zeros_like(x)), A),
    "Tensor.nelement": (lambda m, x: x.nelement(), A),
    "Tensor.element_size": (lambda m, x: x.element_size(), A),
    "Tensor.logical_not": (lambda m, x: (x > 0).logical_not(), A),
    "F.one_hot": (lambda m, x: m.nn.functional.one_hot(m.tensor([0, 2, 1]), 4), A),
    "F.normalize": (lambda m, x: m.nn.functional.normalize(x, dim=1), A),
    "F.pad": (lambda m, x: m.nn.functional.pad(x, (1, 2)), A),
    "logspace": (lambda m, x: m.logspace(0, 2, 5), A),
    "nn.utils.parameters_to_vector": (lambda m, x: m.nn.utils.parameters_to_vector([x, x[0]]), A),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_function_matches_torch(name):
    fn, arr = FUNCS[name]
    s, t = both(fn, arr)
    _close(s, t)


@pytest.mark.parametrize("name", ["sinh", "cosh", "tan", "log2", "log10", "reciprocal", "sort", "topk", "tril",
                                  "diagonal", "trace", "masked_select", "meshgrid_xy", "bmm",
                                  "nn.utils.parameters_to_vector"])
def test_gradient_matches_torch(name):
    fn, arr = FUNCS[name]
    xs, xt = sd.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    ys, yt = fn(sd, xs), fn(torch, xt)
    ys, yt = (ys[0], yt[0]) if isinstance(yt, tuple) else (ys, yt)
    w = np.arange(1, np.prod(yt.shape) + 1, dtype=np.float32).reshape(tuple(yt.shape))
    (ys * sd.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    _close(xs.grad, xt.grad)


def test_sinh_cosh_second_derivative_matches_torch():
    xs, xt = sd.tensor(A[0], requires_grad=True), torch.tensor(A[0], requires_grad=True)
    (gs,) = sd.grad(sd.sinh(xs).sum(), xs, create_graph=True)
    (gt,) = torch.autograd.grad(torch.sinh(xt).sum(), xt, create_graph=True)
    _close(sd.grad(gs.sum(), xs)[0], torch.autograd.grad(gt.sum(), xt)[0])


@pytest.mark.parametrize("method, args", [
    ("exp_", ()), ("log_", ()), ("sqrt_", ()), ("abs_", ()), ("neg_", ()), ("pow_", (2,)), ("tanh_", ()),
    ("sigmoid_", ()), ("relu_", ()), ("reciprocal_", ()), ("clip_", (0.3, 1.0)), ("unsqueeze_", (0,)),
    ("t_", ()), ("transpose_", (0, 1)), ("squeeze_", ()), ("fill_diagonal_", (7.0,)),
])
def test_inplace_method_matches_torch(method, args):
    xs, xt = sd.tensor(P), torch.tensor(P)
    rs = getattr(xs, method)(*args)
    rt = getattr(xt, method)(*args)
    assert rs is xs
    _close(xs, xt)
    assert rt is xt


def test_inplace_index_methods_match_torch():
    for m, x in ((sd, sd.zeros(2, 3)), (torch, torch.zeros(2, 3))):
        x.masked_fill_(m.tensor([[True, False, True], [False, False, True]]), 2.0)
        x.scatter_(1, m.tensor([[1], [0]]), m.tensor([[5.0], [6.0]]))
        x.scatter_add_(1, m.tensor([[2], [2]]), m.tensor([[1.0], [1.0]]))
        x.index_add_(0, m.tensor([1]), m.tensor([[1.0, 1.0, 1.0]]))
        if m is sd:
            xs = x
        else:
            xt = x
    _close(xs, xt)


def test_inplace_on_leaf_requiring_grad_is_refused_as_torch():
    x = sd.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="exp_"):
        x.exp_()
    with sd.no_grad():
        x.exp_()
    _close(x.detach(), torch.ones(3).exp())


@pytest.mark.parametrize("name, kw", [
    ("new_zeros", dict(size=(2, 3))), ("new_ones", dict(size=(4,))), ("new_full", dict(size=(2,), fill=3.5)),
    ("new_empty", dict(size=(3, 1))), ("new_tensor", dict(data=[1, 2]))])
def test_new_methods_keep_dtype_and_device(name, kw):
    for dtype in ("float64", "int64"):
        xs, xt = sd.zeros(1, dtype=getattr(sd, dtype)), torch.zeros(1, dtype=getattr(torch, dtype))
        if name == "new_full":
            rs, rt = xs.new_full(kw["size"], kw["fill"]), xt.new_full(kw["size"], kw["fill"])
        elif name == "new_tensor":
            rs, rt = xs.new_tensor(kw["data"]), xt.new_tensor(kw["data"])
        else:
            rs, rt = getattr(xs, name)(*kw["size"]), getattr(xt, name)(*kw["size"])
        assert rs.shape == tuple(rt.shape) and rs.dtype == rt.numpy().dtype and rs.device == xs.device
        if name != "new_empty":
            _close(rs, rt)
    r = sd.zeros(1).new_ones((2, 2), dtype=sd.int64, requires_grad=False)
    assert r.dtype == np.int64 and r.shape == (2, 2)


def test_format_of_0d_tensor_as_torch():
    s, t = sd.tensor(1.234567), torch.tensor(1.234567)
    for spec in (".4f", ">10.2f", ".3e", ""):
        assert f"{s:{spec}}" == f"{t:{spec}}"
    assert f"{sd.tensor(3):d}" == f"{torch.tensor(3):d}"
    assert f"{sd.ones(2)}" == repr(sd.ones(2))
    with pytest.raises(TypeError, match="Tensor.__format__"):
        f"{sd.ones(2):.2f}"


def test_from_numpy_shares_memory_like_torch():
    a = np.arange(4, dtype=np.float64)
    s, t = sd.from_numpy(a), torch.from_numpy(a.copy())
    assert s.dtype == np.float64
    a[0] = 10.0
    s[1] = 20.0
    assert s.tolist() == [10.0, 20.0, 2.0, 3.0] and a[1] == 20.0
    assert t.numpy().dtype == s.dtype
    with pytest.raises(TypeError, match="from_numpy"):
        sd.from_numpy([1, 2])


@pytest.mark.parametrize("call", [
    lambda m: m.normal(0.0, 1.0, size=(2, 3), dtype=m.float64, requires_grad=True),
    lambda m: m.normal(m.zeros(3), 1.0),
    lambda m: m.normal(m.zeros(2, 3, dtype=m.float64), m.ones(2, 3, dtype=m.float64)),
    lambda m: m.rand(2, dtype=m.float64, requires_grad=True),
    lambda m: m.randn(2, 2, requires_grad=True),
    lambda m: m.randint(0, 5, (3,), dtype=m.int32),
    lambda m: m.randperm(4, dtype=m.int32),
    lambda m: m.rand_like(m.zeros(2, dtype=m.float64), requires_grad=True),
    lambda m: m.randn_like(m.zeros(2), dtype=m.float64),
    lambda m: m.randint_like(m.zeros(2), 3),
    lambda m: m.zeros(2, dtype=m.int64, requires_grad=False),
    lambda m: m.arange(3, dtype=m.float64, requires_grad=True),
    lambda m: m.eye(2, dtype=m.float64, requires_grad=True),
    lambda m: m.full((2,), 1.5, requires_grad=True),
    lambda m: m.logspace(0, 1, 3, dtype=m.float64, requires_grad=True),
])
def test_creation_keywords_as_torch(call):
    s, t = call(sd), call(torch)
    assert s.shape == tuple(t.shape) and s.dtype == t.detach().numpy().dtype
    assert s.requires_grad == t.requires_grad


def test_creation_device_keyword(device):
    for s in (sd.normal(0.0, 1.0, size=(2,), device=device), sd.randperm(3, device=device),
              sd.randint(0, 3, (2,), device=device), sd.rand_like(sd.zeros(2), device=device),
              sd.logspace(0, 1, 3, device=device)):
        assert s.device.type == sd.device(device).type


def test_normal_with_tensor_mean_follows_mean():
    sd.manual_seed(0)
    s = sd.normal(sd.tensor([0.0, 100.0, -100.0]), 0.01)
    np.testing.assert_allclose(s.numpy(), [0.0, 100.0, -100.0], atol=0.1)


def test_lazy_linear_infers_in_features_like_torch():
    m = sd.nn.LazyLinear(3)
    assert list(m.parameters()) == []
    y = m(sd.randn(5, 7))
    tm = torch.nn.LazyLinear(3)
    tm(torch.randn(5, 7))
    assert type(m) is sd.nn.Linear and type(tm) is torch.nn.Linear
    assert m.weight.shape == tuple(tm.weight.shape) and m.bias.shape == tuple(tm.bias.shape) and y.shape == (5, 3)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(m.weight.numpy()))
        tm.bias.copy_(torch.tensor(m.bias.numpy()))
    x = np.random.default_rng(0).standard_normal((4, 7)).astype(np.float32)
    _close(m(sd.tensor(x)), tm(torch.tensor(x)))


@pytest.mark.parametrize(
    "cls, shape", [("LazyConv1d", (2, 3, 10)), ("LazyConv2d", (2, 3, 8, 8)), ("LazyConv2d", (3, 8, 8))]
)
def test_lazy_conv_infers_in_channels_like_torch(cls, shape):
    m, tm = getattr(sd.nn, cls)(4, 3, padding=1, bias=False), getattr(torch.nn, cls)(4, 3, padding=1, bias=False)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    m(sd.tensor(x)), tm(torch.tensor(x))
    assert m.weight.shape == tuple(tm.weight.shape) and m.bias is None and tm.bias is None
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(m.weight.numpy()))
    _close(m(sd.tensor(x)), tm(torch.tensor(x)), atol=1e-4)


def test_lazy_linear_on_device(device):
    m = sd.nn.LazyLinear(2, device=device)
    y = m(sd.randn(3, 4, device=device))
    assert m.weight.device.type == sd.device(device).type and y.device.type == sd.device(device).type


def test_dropout2d_on_2d_input_is_elementwise_with_torch_warning():
    x = sd.ones(200, 50)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d") as rec:
        y = sd.nn.Dropout2d(0.5)(x).numpy()
    with warnings.catch_warnings(record=True) as trec:
        warnings.simplefilter("always")
        torch.nn.Dropout2d(0.5)(torch.ones(200, 50))
    assert str(rec[0].message) == str(trec[0].message)
    assert set(np.unique(y)) == {0.0, 2.0}
    rows_mixed = ((y == 0).any(1) & (y == 2).any(1)).mean()
    assert rows_mixed > 0.99  # one mask per element, not per row
    y4 = sd.nn.Dropout2d(0.5)(sd.ones(4, 50, 3, 3)).numpy()
    assert (y4.min(axis=(2, 3)) == y4.max(axis=(2, 3))).all()  # 4-D: whole channels


def test_lstm_flatten_parameters_is_a_noop():
    m = sd.nn.LSTM(3, 4)
    before = [p.numpy().copy() for p in m.parameters()]
    assert m.flatten_parameters() is None
    assert all((a == p.numpy()).all() for a, p in zip(before, m.parameters()))
    assert hasattr(torch.nn.LSTM(3, 4), "flatten_parameters")


def test_inference_mode_as_torch():
    x = sd.ones(2, requires_grad=True)
    with sd.inference_mode():
        assert not (x * 2).requires_grad
    with sd.inference_mode(False):
        assert (x * 2).requires_grad

    @sd.inference_mode()
    def f(v):
        return v * 2

    assert not f(x).requires_grad


MORE = {
    "asin": (lambda m, x: m.asin(x * 0.4), A), "acos": (lambda m, x: m.acos(x * 0.4), A),
    "atan": (lambda m, x: m.atan(x), A), "exp2": (lambda m, x: m.exp2(x), A), "frac": (lambda m, x: m.frac(x), A),
    "lerp": (lambda m, x: m.lerp(x, x * 3, 0.25), A), "true_divide": (lambda m, x: m.true_divide(x, 2.0), A),
    "floor_divide": (lambda m, x: m.floor_divide(x, 0.5), A), "remainder": (lambda m, x: m.remainder(x, 0.7), A),
    "fmod": (lambda m, x: m.fmod(x, 0.7), A), "median": (lambda m, x: m.median(x), A),
    "median_dim": (lambda m, x: tuple(m.median(x, 1)), A), "std_mean": (lambda m, x: m.std_mean(x, 1), A),
    "var_mean": (lambda m, x: m.var_mean(x, 0, keepdim=True), A),
    "movedim": (lambda m, x: m.movedim(x.reshape(1, 2, 3), 0, -1), A),
    "take": (lambda m, x: m.take(x, m.tensor([[0, 5], [2, 3]])), A),
    "broadcast_tensors": (lambda m, x: m.broadcast_tensors(x, x[0]), A),
    "unique": (lambda m, x: m.unique(m.tensor([3, 1, 3, 2]), return_inverse=True, return_counts=True), A),
    "Tensor.unflatten": (lambda m, x: x.unflatten(1, (3, 1)), A),
    "cdist": (lambda m, x: m.cdist(x, x * 2), A), "cosine_similarity": (lambda m, x: m.cosine_similarity(x, x + 1), A),
    "erf": (lambda m, x: m.erf(x), A),
    "F.glu": (lambda m, x: m.nn.functional.glu(x.reshape(3, 2)), A),
    "F.threshold": (lambda m, x: m.nn.functional.threshold(x, 0.3, -1.0), A),
    "F.group_norm": (lambda m, x: m.nn.functional.group_norm(x.reshape(1, 2, 3), 2), A),
    "nn.GroupNorm": (lambda m, x: m.nn.GroupNorm(1, 2)(x.reshape(1, 2, 3)), A),
    "nn.CosineSimilarity": (lambda m, x: m.nn.CosineSimilarity(dim=1)(x, x * x), A),
    "nn.PairwiseDistance": (lambda m, x: m.nn.PairwiseDistance()(x, x * x), A),
    "nn.Threshold": (lambda m, x: m.nn.Threshold(0.1, 20.0)(x), A),
    "nn.ZeroPad2d": (lambda m, x: m.nn.ZeroPad2d((1, 0, 2, 1))(x.reshape(1, 2, 3)), A),
    "nn.ConstantPad1d": (lambda m, x: m.nn.ConstantPad1d(2, 3.5)(x), A),
}


@pytest.mark.parametrize("name", sorted(MORE))
def test_more_functions_match_torch(name):
    fn, arr = MORE[name]
    s, t = both(fn, arr)
    _close(s, t)


@pytest.mark.parametrize("name", ["asin", "acos", "atan", "exp2", "lerp", "median_dim", "take", "nn.GroupNorm",
                                  "F.glu", "movedim"])
def test_more_gradients_match_torch(name):
    fn, arr = MORE[name]
    xs, xt = sd.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    ys, yt = fn(sd, xs), fn(torch, xt)
    ys, yt = (ys[0], yt[0]) if isinstance(yt, tuple) else (ys, yt)
    w = np.arange(1, np.prod(yt.shape) + 1, dtype=np.float32).reshape(tuple(yt.shape))
    (ys * sd.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    _close(xs.grad, xt.grad, atol=1e-4)


def test_parameter_list_and_dict_register_parameters_like_torch():
    for m in (sd, torch):
        net = m.nn.Module()
        net.plist = m.nn.ParameterList([m.nn.Parameter(m.ones(2)) for _ in range(3)])
        net.pdict = m.nn.ParameterDict({"a": m.nn.Parameter(m.zeros(1))})
        names = [n for n, _ in net.named_parameters()]
        if m is sd:
            sd_names = names
        else:
            assert sd_names == names
    assert len(net.plist) == 3 and "a" in net.pdict


X4 = np.random.default_rng(3).standard_normal((1, 8, 2, 3)).astype(np.float32)
LAYERS = {
    "nn.Upsample": (lambda m, x: m.nn.Upsample(scale_factor=2)(x), X4),
    "F.interpolate": (lambda m, x: m.nn.functional.interpolate(x, size=(4, 9)), X4),
    "nn.PixelShuffle": (lambda m, x: m.nn.PixelShuffle(2)(x), X4),
    "nn.PixelUnshuffle": (lambda m, x: m.nn.PixelUnshuffle(2)(m.nn.PixelShuffle(2)(x)), X4),
    "F.pixel_shuffle": (lambda m, x: m.nn.functional.pixel_shuffle(x, 2), X4),
    "nn.GLU": (lambda m, x: m.nn.GLU(dim=1)(x), X4),
    "nn.Softmax2d": (lambda m, x: m.nn.Softmax2d()(x), X4),
    "nn.Tanhshrink": (lambda m, x: m.nn.Tanhshrink()(x), X4),
    "F.tanhshrink": (lambda m, x: m.nn.functional.tanhshrink(x), X4),
    "nn.Hardshrink": (lambda m, x: m.nn.Hardshrink(0.7)(x), X4),
    "nn.Softshrink": (lambda m, x: m.nn.Softshrink(0.7)(x), X4),
    "nn.ZeroPad1d": (lambda m, x: m.nn.ZeroPad1d((2, 1))(x), X4),
    "nn.Unfold": (lambda m, x: m.nn.Unfold(2)(x), X4),
    "nn.Fold": (lambda m, x: m.nn.Fold((2, 3), 2)(m.nn.Unfold(2)(x)), X4),
    "nn.TripletMarginLoss": (lambda m, x: m.nn.TripletMarginLoss()(x[0, 0], x[0, 1], x[0, 2]), X4),
    "nn.CosineEmbeddingLoss": (lambda m, x: m.nn.CosineEmbeddingLoss(0.1)(x[0, 0], x[0, 1], m.tensor([1, -1])), X4),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_added_layers_match_torch(name):
    fn, arr = LAYERS[name]
    s, t = both(fn, arr)
    _close(s, t, atol=1e-5)


@pytest.mark.parametrize("name", ["nn.Upsample", "nn.PixelShuffle", "nn.Softshrink"])
def test_added_layer_gradients_match_torch(name):
    fn, arr = LAYERS[name]
    xs, xt = sd.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    ys, yt = fn(sd, xs), fn(torch, xt)
    w = np.arange(1, np.prod(yt.shape) + 1, dtype=np.float32).reshape(tuple(yt.shape))
    (ys * sd.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    _close(xs.grad, xt.grad)


def test_interpolate_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="mode='nearest'"):
        sd.nn.functional.interpolate(sd.ones(1, 1, 2, 2), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="whole"):
        sd.nn.functional.interpolate(sd.ones(1, 1, 2, 2), scale_factor=1.5)


def test_concat_and_stack_dataset_match_torch():
    from shendu.utils import data as D

    TD = torch.utils.data
    a, b = list(range(3)), list(range(10, 15))
    c, tc = D.ConcatDataset([a, b]), TD.ConcatDataset([a, b])
    assert len(c) == len(tc) and [c[i] for i in range(-8, 8)] == [tc[i] for i in range(-8, 8)]
    assert c.cumulative_sizes == tc.cumulative_sizes
    s, ts = D.StackDataset(a, b[:3]), TD.StackDataset(a, b[:3])
    assert [s[i] for i in range(3)] == [ts[i] for i in range(3)]
    assert D.StackDataset(x=a, y=a)[1] == TD.StackDataset(x=a, y=a)[1]
    with pytest.raises(ValueError, match="size mismatch"):
        D.StackDataset(a, b)


def test_seed_reseeds_like_torch_seed():
    s = sd.seed()
    a = sd.rand(3).tolist()
    sd.manual_seed(s)
    assert sd.rand(3).tolist() == a and isinstance(torch.seed(), int)


@pytest.mark.parametrize("name", ["sinh", "cosh", "asin", "acos", "atan"])
def test_new_unary_ops_gradcheck_float64(name):
    """Finite-difference checks of the ops added as real Functions (first and second derivatives, float64)."""
    from shendu.autograd import gradcheck, gradgradcheck

    x = sd.tensor([[-0.7, -0.2, 0.1], [0.3, 0.5, 0.8]], dtype=sd.float64, requires_grad=True)
    f = getattr(sd, name)
    assert gradcheck(f, [x])
    assert gradgradcheck(f, [x])
