"""nn.MultiheadAttention, Transformer layers and F.scaled_dot_product_attention against torch (float64, eval,
weights copied from torch): outputs, input gradients and parameter gradients (textbook text 004, 'Transformer')."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu import nn
from shendu.backend import to_host

torch = pytest.importorskip("torch")

TOL = dict(rtol=1e-9, atol=1e-10)


def _copy(tm):
    """torch's state_dict as numpy arrays (for shendu's load_state_dict)."""
    return {k: v.detach().numpy() for k, v in tm.state_dict().items()}


def _pair(make_t, make_s, device=None):
    torch.manual_seed(0)
    tm = make_t().double().eval()
    sm = make_s().to(sd.float64)
    sm.load_state_dict(_copy(tm))
    sm.eval()
    if device is not None:
        sm.to(device)
    return tm, sm


def _mask_t(m):
    return None if m is None else torch.tensor(m)


def _run_both(tm, sm, arrays, kw_t=None, kw_s=None, device=None):
    """Forward both, backward sum(out * R) for each output; compare outputs and all gradients."""
    xt = [torch.tensor(a, requires_grad=True) for a in arrays]
    xs = [sd.tensor(a, dtype=sd.float64, requires_grad=True, device=device) for a in arrays]
    ot, os_ = tm(*xt, **(kw_t or {})), sm(*xs, **(kw_s or {}))
    ot = list(ot) if isinstance(ot, tuple) else [ot]
    os_ = list(os_) if isinstance(os_, tuple) else [os_]
    assert len(ot) == len(os_)
    rng = np.random.default_rng(1)
    lt, ls = 0, 0
    for a, b in zip(ot, os_):
        if a is None:
            assert b is None
            continue
        assert tuple(a.shape) == tuple(b.shape) and (device is None or str(b.device).startswith(device))
        r = rng.standard_normal(tuple(a.shape))
        lt = lt + (a * torch.tensor(r)).sum()
        ls = ls + (b * sd.tensor(r, dtype=sd.float64, device=device)).sum()
        np.testing.assert_allclose(to_host(b.detach()._data), a.detach().numpy(), **TOL)
    lt.backward()
    ls.backward()
    for a, b in zip(xt, xs):
        assert device is None or str(b.grad.device).startswith(device)
        np.testing.assert_allclose(to_host(b.grad._data), a.grad.numpy(), **TOL)
    tp = dict(tm.named_parameters())
    sp = dict(sm.named_parameters())
    assert set(tp) == set(sp)
    for k, p in tp.items():
        np.testing.assert_allclose(to_host(sp[k].grad._data), p.grad.numpy(), err_msg=k, **TOL)


R = np.random.default_rng(0)
E, H, L, S, N = 8, 2, 3, 4, 2


def _x(*shape):
    return R.standard_normal(shape)


def _mha(**kw):
    return _pair(lambda: torch.nn.MultiheadAttention(E, H, **kw), lambda: nn.MultiheadAttention(E, H, **kw))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("average", [True, False])
def test_mha_self_attention_bool_masks(batch_first, average):
    tm, sm = _mha(batch_first=batch_first)
    x = _x(N, L, E) if batch_first else _x(L, N, E)
    am = np.triu(np.ones((L, L), bool), 1)
    kpm = np.zeros((N, L), bool)
    kpm[1, -1] = True  # (a fully masked row would be NaN in both)
    kw = dict(average_attn_weights=average)
    _run_both(tm, sm, [x, x, x], dict(attn_mask=_mask_t(am), key_padding_mask=_mask_t(kpm), **kw),
              dict(attn_mask=am, key_padding_mask=kpm, **kw))


def test_mha_cross_attention_float_masks_3d():
    tm, sm = _mha()
    q, k, v = _x(L, N, E), _x(S, N, E), _x(S, N, E)
    am = _x(N * H, L, S)
    kpm = _x(N, S)
    _run_both(tm, sm, [q, k, v], dict(attn_mask=_mask_t(am), key_padding_mask=_mask_t(kpm)),
              dict(attn_mask=sd.tensor(am), key_padding_mask=kpm))


def test_mha_kdim_vdim_no_bias_need_weights_off():
    tm, sm = _mha(kdim=5, vdim=3, bias=False, batch_first=True)
    assert sm.in_proj_weight is None and tuple(sm.k_proj_weight.shape) == (E, 5)
    q, k, v = _x(N, L, E), _x(N, S, 5), _x(N, S, 3)
    _run_both(tm, sm, [q, k, v], dict(need_weights=False), dict(need_weights=False))


def test_mha_unbatched_and_is_causal():
    tm, sm = _mha()
    x = _x(L, E)
    am = np.triu(np.ones((L, L), bool), 1)
    _run_both(tm, sm, [x, x, x], dict(attn_mask=_mask_t(am), is_causal=True), dict(attn_mask=am, is_causal=True))
    with pytest.raises(RuntimeError, match="is_causal"):
        sm(sd.tensor(x), sd.tensor(x), sd.tensor(x), is_causal=True)


def test_mha_params_errors_and_init():
    m = nn.MultiheadAttention(E, H)
    t = torch.nn.MultiheadAttention(E, H)
    assert [k for k, _ in m.named_parameters()] == [k for k, _ in t.named_parameters()]
    assert np.all(m.in_proj_bias.numpy() == 0) and np.all(m.out_proj.bias.numpy() == 0)
    bound = np.sqrt(6 / (E + 3 * E))  # xavier_uniform_ on (3E, E)
    assert np.abs(m.in_proj_weight.numpy()).max() <= bound
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiheadAttention(7, 2)
    with pytest.raises(NotImplementedError):
        nn.MultiheadAttention(E, H, add_bias_kv=True)
    with pytest.raises(ValueError, match="attn_mask of shape"):
        x = sd.tensor(_x(L, N, E), dtype=sd.float32)
        m(x, x, x, attn_mask=np.zeros((L, L + 1), bool))
    with pytest.raises(ValueError, match="query of shape"):
        m(sd.tensor(_x(L, N, E + 1), dtype=sd.float32), x, x)


def test_mha_gradcheck():
    sd.manual_seed(0)
    m = nn.MultiheadAttention(4, 2, kdim=3, batch_first=True).to(sd.float64)
    q, k, v = _x(1, 2, 4), _x(1, 3, 3), _x(1, 3, 4)
    kpm = np.array([[False, False, True]])

    def f(qa, ka, va):
        return m(qa, ka, va, key_padding_mask=kpm)[0]

    assert sd.autograd.gradcheck(f, [sd.tensor(a, dtype=sd.float64, requires_grad=True) for a in (q, k, v)])


@pytest.mark.parametrize("norm_first,act", [(False, "relu"), (True, "gelu")])
def test_encoder_layer(norm_first, act):
    kw = dict(dim_feedforward=16, dropout=0.0, activation=act, norm_first=norm_first)
    tm, sm = _pair(lambda: torch.nn.TransformerEncoderLayer(E, H, **kw),
                   lambda: nn.TransformerEncoderLayer(E, H, **kw))
    kpm = np.zeros((N, L), bool)
    kpm[0, -1] = True
    _run_both(tm, sm, [_x(L, N, E)], dict(src_key_padding_mask=_mask_t(kpm)), dict(src_key_padding_mask=kpm))


def test_encoder_layer_callable_activation_batch_first():
    kw = dict(dim_feedforward=16, dropout=0.0, batch_first=True, layer_norm_eps=1e-3)
    tm, sm = _pair(lambda: torch.nn.TransformerEncoderLayer(E, H, activation=torch.tanh, **kw),
                   lambda: nn.TransformerEncoderLayer(E, H, activation=lambda x: x.tanh(), **kw))
    _run_both(tm, sm, [_x(N, L, E)])
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(E, H, activation="tanh")


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer(norm_first):
    kw = dict(dim_feedforward=16, dropout=0.0, norm_first=norm_first)
    tm, sm = _pair(lambda: torch.nn.TransformerDecoderLayer(E, H, **kw),
                   lambda: nn.TransformerDecoderLayer(E, H, **kw))
    mask = nn.Transformer.generate_square_subsequent_mask(L)
    mkpm = np.zeros((N, S), bool)
    mkpm[1, 0] = True
    _run_both(tm, sm, [_x(L, N, E), _x(S, N, E)],
              dict(tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64),
                   memory_key_padding_mask=_mask_t(mkpm)),
              dict(tgt_mask=mask, memory_key_padding_mask=mkpm))


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
def test_encoder_decoder_stacks():
    kw = dict(dim_feedforward=16, dropout=0.0)

    def pair(tmod, smod, tlayer, slayer):
        return _pair(lambda: tmod(tlayer(E, H, **kw), 2, torch.nn.LayerNorm(E)),
                     lambda: smod(slayer(E, H, **kw), 2, nn.LayerNorm(E)))

    tm, sm = pair(torch.nn.TransformerEncoder, nn.TransformerEncoder, torch.nn.TransformerEncoderLayer,
                  nn.TransformerEncoderLayer)
    kpm = np.zeros((N, L), bool)
    kpm[0, 1] = True
    _run_both(tm, sm, [_x(L, N, E)], dict(src_key_padding_mask=_mask_t(kpm)), dict(src_key_padding_mask=kpm))
    tm, sm = pair(torch.nn.TransformerDecoder, nn.TransformerDecoder, torch.nn.TransformerDecoderLayer,
                  nn.TransformerDecoderLayer)
    _run_both(tm, sm, [_x(L, N, E), _x(S, N, E)])


def test_transformer_full():
    kw = dict(d_model=E, nhead=H, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16, dropout=0.0,
              batch_first=True)
    tm, sm = _pair(lambda: torch.nn.Transformer(**kw), lambda: nn.Transformer(**kw))
    m = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)
    _run_both(tm, sm, [_x(N, S, E), _x(N, L, E)], dict(tgt_mask=m), dict(tgt_mask=m.numpy()))
    np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(4).numpy(),
                                  torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    assert len(sm.encoder.layers) == 2 and sm.encoder.layers[0] is not sm.encoder.layers[1]


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
def test_transformer_defaults_and_train_dropout():
    t = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    tt = torch.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    assert sorted(t.state_dict()) == sorted(tt.state_dict())
    layer = t.encoder.layers[0]
    assert layer.dropout.p == 0.1 and layer.norm1.eps == 1e-5 and not layer.norm_first
    assert not t.batch_first
    x = sd.tensor(_x(3, 2, 8), dtype=sd.float32)
    t.train()
    a, b = t(x, x).numpy(), t(x, x).numpy()
    assert not np.allclose(a, b)  # dropout active in training mode
    t.eval()
    np.testing.assert_array_equal(t(x, x).numpy(), t(x, x).numpy())


@pytest.mark.parametrize("causal", [False, True])
def test_sdpa(causal):
    q, k, v = _x(2, 3, L, 4), _x(2, 3, L if causal else S, 4), _x(2, 3, L if causal else S, 5)
    am = None if causal else R.random((L, S)) > 0.3
    if am is not None:
        am[:, 0] = True
    ts = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    ss = [sd.tensor(a, requires_grad=True) for a in (q, k, v)]
    ot = torch.nn.functional.scaled_dot_product_attention(*ts, attn_mask=_mask_t(am), is_causal=causal, scale=0.3)
    os_ = F.scaled_dot_product_attention(*ss, attn_mask=am, is_causal=causal, scale=0.3)
    np.testing.assert_allclose(os_.numpy(), ot.detach().numpy(), **TOL)
    ot.sum().backward()
    os_.sum().backward()
    for a, b in zip(ts, ss):
        np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), **TOL)
    if not causal:  # a float mask is added to the scores
        fm = _x(L, S)
        np.testing.assert_allclose(
            F.scaled_dot_product_attention(*ss, attn_mask=fm).numpy(),
            torch.nn.functional.scaled_dot_product_attention(*ts, attn_mask=torch.tensor(fm)).detach().numpy(), **TOL)


def test_torch_module_paths():
    from shendu.nn.modules.activation import MultiheadAttention
    from shendu.nn.modules.transformer import Transformer, TransformerEncoderLayer

    assert MultiheadAttention is nn.MultiheadAttention and Transformer is nn.Transformer
    assert TransformerEncoderLayer is nn.TransformerEncoderLayer


def test_device(device):
    """Decoder layer and MHA with masks: outputs and grads on ``device`` equal torch's (hence the cpu's)."""
    kw = dict(dim_feedforward=16, dropout=0.0)
    tm, sm = _pair(lambda: torch.nn.TransformerDecoderLayer(E, H, **kw),
                   lambda: nn.TransformerDecoderLayer(E, H, **kw), device)
    kpm = np.zeros((N, S), bool)
    kpm[0, 1] = True
    mask = nn.Transformer.generate_square_subsequent_mask(L, device=device)
    _run_both(tm, sm, [_x(L, N, E), _x(S, N, E)],
              dict(tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64),
                   memory_key_padding_mask=_mask_t(kpm)),
              dict(tgt_mask=mask, memory_key_padding_mask=sd.tensor(kpm, device=device)), device=device)
    tm, sm = _mha()
    sm.to(device)
    x = _x(L, N, E)
    am = np.triu(np.ones((L, L), bool), 1)
    _run_both(tm, sm, [x, x, x], dict(attn_mask=_mask_t(am)), dict(attn_mask=am), device=device)


def test_sdpa_errors():
    q = sd.tensor(_x(2, 3, 4))
    with pytest.raises(ValueError, match="does not broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=sd.tensor(_x(2, 4)))
    with pytest.raises(TypeError, match="bool or floating"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.zeros((3, 3), int))
    with pytest.raises(RuntimeError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)
