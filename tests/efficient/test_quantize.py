"""Dynamic fixed point and int8 quantisation (textbook 12.1.6, W12.8)."""
import numpy as np
import pytest

import shendu as sd
from shendu import quantize as Q

from .helpers import accuracy, digits, mlp, train


@pytest.mark.parametrize("bits", [4, 8, 12, 16])
def test_w12_8_dfp_round_trip_error_at_most_half_a_step(bits):
    rng = np.random.default_rng(bits)
    x = sd.tensor(rng.normal(scale=3.0, size=(6, 50)).astype(np.float32))
    q, scale = Q.quantize_dfp(x, bits=bits)
    assert scale.numel() == 1  # one shared exponent for the whole group
    f = int(Q.dfp_fraction_bits(x, bits).numpy())
    assert float(scale.numpy()) == 2.0 ** -f
    qn = q.numpy().astype(np.int64)
    assert np.abs(qn).max() <= 2 ** (bits - 1) - 1  # in range: nothing clipped
    assert np.abs(qn).max() > 2 ** (bits - 2) - 1  # the largest f: the top bit is used
    err = np.abs(Q.dequantize(q, scale).numpy() - x.numpy())
    assert err.max() <= float(scale.numpy()) / 2 + 1e-7
    assert q.dtype == (np.int8 if bits <= 8 else np.int16)


def test_w12_8_worked_values_and_per_group_exponents():
    # group 0: max 0.75 -> 8 bits: largest f with 0.75*2^f <= 127 is f = 7 (0.75*128 = 96); group 1: max 5 -> f = 4
    x = sd.tensor([[0.75, -0.1, 0.3], [5.0, 1.03, -2.5]])
    q, s = Q.quantize_dfp(x, bits=8, dim=0)
    np.testing.assert_array_equal(Q.dfp_fraction_bits(x, 8, dim=0).numpy().ravel(), [7, 4])
    np.testing.assert_array_equal(s.numpy().ravel(), [2.0 ** -7, 2.0 ** -4])
    np.testing.assert_array_equal(q.numpy(), [[96, -13, 38], [80, 16, -40]])
    err = np.abs(Q.dequantize(q, s).numpy() - x.numpy())
    assert (err <= s.numpy() / 2 + 1e-7).all()
    zq, zs = Q.quantize_dfp(sd.zeros(3), bits=8)  # a zero group quantises to zeros
    np.testing.assert_array_equal(Q.dequantize(zq, zs).numpy(), 0)
    with pytest.raises(ValueError, match="bits"):
        Q.quantize_dfp(x, bits=1)


def test_per_channel_int8_error_bound_and_torch_oracle():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 7)).astype(np.float32) * np.array([[0.01], [0.1], [1], [10], [0]], np.float32)
    q, s = Q.quantize_per_channel(sd.tensor(w), axis=0)
    assert q.dtype == np.int8 and tuple(s.shape) == (5, 1)
    err = np.abs(Q.dequantize(q, s).numpy() - w)
    assert (err <= s.numpy() / 2 + 1e-6 * np.abs(w)).all()
    torch = pytest.importorskip("torch")
    tq = torch.quantize_per_channel(torch.tensor(w), torch.tensor(s.numpy().ravel().astype(np.float64)),
                                    torch.zeros(5, dtype=torch.long), 0, torch.qint8)
    np.testing.assert_array_equal(tq.int_repr().numpy(), q.numpy())


def test_fake_quantize_is_straight_through():
    x = sd.tensor([0.3, -1.7, 2.2], requires_grad=True)
    y = Q.fake_quantize_dfp(x, bits=4)
    q, s = Q.quantize_dfp(x.detach(), bits=4)
    np.testing.assert_allclose(y.numpy(), Q.dequantize(q, s).numpy())
    (y * sd.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])


def test_quantize_dynamic_linear_conv_lstm_outputs_close_and_memory_saved():
    sd.manual_seed(0)
    for model, x in [(sd.nn.Sequential(sd.nn.Linear(16, 32), sd.nn.ReLU(), sd.nn.Linear(32, 4)), sd.randn(5, 16)),
                     (sd.nn.Conv2d(2, 8, 3), sd.randn(2, 2, 6, 6)),
                     (sd.nn.LSTM(6, 12), sd.randn(4, 3, 6))]:
        qm = Q.quantize_dynamic(model)
        ref, out = model(x), qm(x)
        ref, out = (ref[0], out[0]) if isinstance(ref, tuple) else (ref, out)
        assert np.abs(out.numpy() - ref.numpy()).max() < 0.02 * (np.abs(ref.numpy()).max() + 1)
        names = list(qm.state_dict())
        assert any(n.endswith("_int8") for n in names) and not any(n.endswith("weight") for n in names)
        for t in qm.buffers():
            if t.dtype == np.int8:
                break
        else:
            raise AssertionError("no int8 buffer")
        assert Q.model_nbytes(qm) < 0.45 * Q.model_nbytes(model)
        assert all(p.dtype == np.float32 for p in model.parameters())  # the original is untouched
    with pytest.raises(ValueError, match="int8"):
        Q.quantize_dynamic(sd.nn.Linear(2, 2), dtype="int4")


def test_digits_accuracy_loss_of_int8_and_dynamic_fixed_point():
    """Measured on digits: int8 per-channel weights and 16-bit dynamic fixed point lose < 1 point of accuracy;
    4-bit dynamic fixed point (one exponent per layer) is allowed to lose more."""
    (xtr, ytr), (xte, yte) = digits()
    model = train(mlp(64), xtr, ytr, epochs=15)
    base = accuracy(model, xte, yte)
    assert base > 0.93
    acc8 = accuracy(Q.quantize_dynamic(model), xte, yte)
    assert acc8 >= base - 0.01
    import copy

    m16 = copy.deepcopy(model)
    worst = Q.dynamic_fixed_point_(m16, bits=16)
    assert 0 < worst < 1e-3
    assert accuracy(m16, xte, yte) >= base - 0.005
    m4 = copy.deepcopy(model)
    worst4 = Q.dynamic_fixed_point_(m4, bits=4)
    assert worst4 > 100 * worst  # 12 fewer bits: the rounding step is 2^12 times larger
    assert accuracy(m4, xte, yte) > 0.5  # still far above chance (0.1) with 4-bit weights
