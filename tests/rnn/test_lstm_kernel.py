"""The fused LSTM kernel's layout details (ops.rnn.lstm): gate-major scratch, W_hh^T built in row blocks, the
BPTT terms kept by the forward only when a gradient is wanted."""
import numpy as np
import pytest

import shendu as sd
from shendu.backend import device_of, to_device
from shendu.ops.rnn import LSTMSeq

MASK = (np.arange(5)[:, None] < np.array([5, 3, 1])[None, :]).astype(np.float32)[:, :, None]


def _inputs(H, seed=0, grad=True):
    rng = np.random.default_rng(seed)
    shapes = [(5, 3, 4 * H), (4 * H, H), (3, H), (3, H)]
    scales = [0.8, 0.3 / np.sqrt(H), 0.5, 0.5]
    return [sd.tensor((rng.standard_normal(s) * k).astype(np.float32), requires_grad=grad)
            for s, k in zip(shapes, scales)]


@pytest.mark.parametrize("mask", [None, MASK])
@pytest.mark.parametrize("reverse", [False, True])
def test_bptt_matches_recomputed_graph_with_blocked_weight_transpose(mask, reverse):
    # H = 70: W_hh^T is built in row blocks of 64 plus a remainder of 6 rows per gate
    ins = _inputs(70)
    if mask is not None:  # where the inputs live (the layers do this for their mask)
        mask = to_device(mask, device_of(ins[0]._data))
    rng = np.random.default_rng(1)
    gys = [sd.tensor(rng.standard_normal(s).astype(np.float32)) for s in [(5, 3, 70), (3, 70), (3, 70)]]
    outs = LSTMSeq(mask, reverse)(*ins)
    sd.autograd.backward(list(outs), gys)
    fused = [t.grad.numpy().copy() for t in ins]
    ref_ins = [sd.tensor(t.numpy(), requires_grad=True) for t in ins]
    ref_outs = LSTMSeq(mask, reverse).compose(*ref_ins)  # the cell equations with differentiable ops
    for a, b in zip(outs, ref_outs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    sd.autograd.backward(list(ref_outs), gys)
    for g, t in zip(fused, ref_ins):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mask", [None, MASK])
def test_no_grad_forward_keeps_no_bptt_state_and_same_outputs(mask):
    ins = _inputs(9, seed=2)
    fn = LSTMSeq(mask)
    with_grad = [o.numpy() for o in fn(*ins)]
    assert fn.saved[1] is not None  # the local derivatives for BPTT
    with sd.no_grad():
        fn2 = LSTMSeq(mask)
        without = [o.numpy() for o in fn2(*ins)]
    assert fn2.saved[1] is None and fn2.saved[2] is None
    for a, b in zip(with_grad, without):
        np.testing.assert_array_equal(a, b)
    fn3 = LSTMSeq(mask)
    fn3(*_inputs(9, seed=2, grad=False))  # no input requires a gradient: nothing kept either
    assert fn3.saved[1] is None
