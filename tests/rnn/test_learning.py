"""Learning tests: a 60-step dependency that LSTM/GRU learn and the plain RNN does not (textbook 10.7,
10.10); truncated BPTT carries the state across chunks without back-propagating across them."""
import numpy as np
import pytest

import shendu as sd
import shendu.nn.functional as F
from shendu.nn.layers.recurrent import detach_state, tbptt_chunks, truncated_bptt

T = 60


def _train(make, steps=300, seed=0):
    """Remember the sign given at step 0 through 59 steps of noise (std 0.5); report held-out accuracy."""
    sd.manual_seed(seed)
    rng = np.random.default_rng(seed)
    rnn, head = make(), sd.nn.Linear(16, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    opt = sd.optim.Adam(params, lr=0.005)

    def batch(n):
        bit = rng.integers(0, 2, n)
        x = rng.standard_normal((T, n, 2)).astype(np.float32) * 0.5
        x[0, :, 0], x[0, :, 1] = 2 * bit - 1, 1
        return x, bit.astype(np.float32)[:, None]

    def last(x):
        _, h = rnn(sd.tensor(x))
        return head((h[0] if isinstance(h, tuple) else h)[-1])

    for _ in range(steps):
        x, y = batch(32)
        opt.zero_grad()
        F.binary_cross_entropy_with_logits(last(x), sd.tensor(y)).backward()
        sd.optim.clip_grad_norm_(params, 1.0)  # textbook 10.11.1: the cliffs of recurrent losses
        opt.step()
    x, y = batch(500)
    return ((last(x).numpy() > 0) == (y > 0.5)).mean()


def _gru_keep():
    g = sd.nn.GRU(2, 16)
    g.bias_hh_l0._data[16:32] = 3.0  # update-gate bias: start near "copy" (u = 0.95), as forget_bias for LSTM
    return g


@pytest.mark.slow
def test_gated_rnns_learn_60_step_dependency_plain_rnn_does_not():
    assert _train(lambda: sd.nn.LSTM(2, 16, forget_bias=3.0)) >= 0.95
    assert _train(_gru_keep) >= 0.95
    assert _train(lambda: sd.nn.RNN(2, 16)) <= 0.7


def test_tbptt_carries_detached_state():
    sd.manual_seed(0)
    rnn = sd.nn.LSTM(3, 4, dtype=sd.float64)
    x = sd.tensor(np.random.default_rng(0).standard_normal((23, 2, 3)))
    y = sd.zeros(23, 2, 4, dtype=sd.float64)
    assert [c.shape[0] for c in tbptt_chunks(x, 10)] == [10, 10, 3]
    seen = []

    def model(xc, state):
        out, st = rnn(xc, state)
        if state is not None:
            seen.append(state[0].requires_grad)
        return out, st

    losses, state = truncated_bptt(model, x, y, lambda o, t: ((o - t) ** 2).mean(), lambda: None, k=10)
    assert len(losses) == 3 and seen == [False, False]
    _, (h, c) = rnn(x)
    np.testing.assert_allclose(state[0].numpy(), h.numpy(), rtol=1e-12)  # same final state as one pass
    hd, cd = detach_state((h, c))
    assert h.requires_grad and not hd.requires_grad and not cd.requires_grad
    np.testing.assert_array_equal(hd.numpy(), h.numpy())
    assert detach_state(None) is None


def test_output_recurrent_teacher_forcing_equals_free_running_on_own_outputs():
    from shendu.nn.layers.recurrent import OutputRecurrentRNN

    sd.manual_seed(0)
    m = OutputRecurrentRNN(3, 5, 2, dtype=sd.float64)
    x = sd.tensor(np.random.default_rng(0).standard_normal((6, 4, 3)))
    free = m.generate(x)
    # feeding the model's own outputs as "targets" reproduces free-running generation exactly
    y_prev = sd.cat([sd.zeros(1, 4, 2, dtype=sd.float64), free[:-1]], 0)
    np.testing.assert_allclose(m(x, y_prev).numpy(), free.numpy(), rtol=1e-12)
    # with true targets, each step depends only on its own x_t and y_{t-1}
    y = sd.tensor(np.random.default_rng(1).standard_normal((6, 4, 2)))
    full = m(x, y).numpy()
    np.testing.assert_allclose(m(x[3:4], y[3:4]).numpy()[0], full[3], rtol=1e-12)
    with pytest.raises(ValueError, match="OutputRecurrentRNN"):
        m(x, y[:, :2])
