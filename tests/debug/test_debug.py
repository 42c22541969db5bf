"""shendu.debug (textbook 11.5): Monitor, tiny-data-set check, worst mistakes, gradient report; cost-sensitive error."""

import numpy as np
import pytest

import shendu as sd
from shendu import debug, nn
from shendu.metrics import cost_sensitive_error
from shendu.train import fit


def _set(param, values):
    param._data[...] = sd.tensor(np.asarray(values, np.float32))._data


def test_dead_relu_fraction_on_a_constructed_layer(tmp_path):
    # 8 ReLU units: 3 have a bias of -100 and zero weights (never active: dead), 5 have a bias of +1 (always active)
    lin = nn.Linear(4, 8)
    _set(lin.weight, np.zeros((8, 4)))
    _set(lin.bias, [-100, 1, 1, -100, 1, 1, -100, 1])
    model = nn.Sequential(lin, nn.ReLU(), nn.Linear(8, 2))
    x = np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    mon = debug.Monitor(every=1, dashboard=tmp_path / "dash.png", warn=False)
    fit(model, (x, y), loss="cross_entropy", optimizer="sgd", lr=1e-3, epochs=2, batch_size=16, verbose=0,
        callbacks=[mon])
    rec = mon.records[-1]["layers"]["1"]
    assert rec["dead_fraction"] == 3 / 8
    assert rec["mean_abs_preact"] == pytest.approx((3 * 100 + 5 * 1) / 8, rel=1e-3)
    assert len(mon.records) == 2 and (tmp_path / "dash.png").read_bytes()[:4] == b"\x89PNG"
    assert any("dead 0.375" in line for line in mon.summary())


def test_mean_abs_preactivation_of_tanh_and_update_ratio():
    lin = nn.Linear(3, 5)
    _set(lin.weight, np.zeros((5, 3)))
    _set(lin.bias, [2, -2, 2, -2, 2])
    model = nn.Sequential(lin, nn.Tanh(), nn.Linear(5, 2))
    x = np.ones((8, 3), np.float32)
    y = np.zeros(8, np.int64)
    mon = debug.Monitor(every=1, warn=False)
    w0 = model[2].weight.numpy().copy()
    fit(model, (x, y), loss="cross_entropy", optimizer="sgd", lr=0.1, epochs=1, batch_size=8, verbose=0,
        callbacks=[mon])
    rec = mon.records[0]
    assert rec["layers"]["1"]["mean_abs_preact"] == pytest.approx(2.0)  # saturation shows in mean |preact|
    assert rec["layers"]["1"]["dead_fraction"] is None  # only ReLU units die
    ratio = np.linalg.norm(model[2].weight.numpy() - w0) / np.linalg.norm(w0)  # one step
    assert rec["params"]["2.weight"]["update_ratio"] == pytest.approx(ratio, rel=1e-4)


def test_update_ratio_far_from_1e_3_warns():
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    x = np.random.default_rng(0).standard_normal((32, 4)).astype(np.float32)
    y = np.zeros(32, np.int64)
    mon = debug.Monitor(every=1)
    with pytest.warns(RuntimeWarning, match="update/parameter ratio of .* far from ~1e-3.*too high"):
        fit(model, (x, y), loss="cross_entropy", optimizer="sgd", lr=50.0, epochs=1, batch_size=32, verbose=0,
            callbacks=[mon])


def test_curvature_along_the_gradient_of_a_quadratic():
    # loss = mean((w x)^2) with x = 1: the Hessian is 2, so g'Hg / g'g = 2 whatever w
    model = nn.Linear(1, 1, bias=False)
    x = np.ones((4, 1), np.float32)
    y = np.zeros((4, 1), np.float32)
    mon = debug.Monitor(every=1, curvature_data=(x, y), warn=False)
    fit(model, (x, y), loss="mse", optimizer="sgd", lr=0.1, epochs=1, batch_size=4, verbose=0, callbacks=[mon])
    w = float(model.weight.numpy()[0, 0])
    rec = mon.records[0]
    assert rec["curvature"] == pytest.approx(2.0, rel=1e-5)
    assert rec["gHg"] == pytest.approx(2.0 * (2 * w) ** 2, rel=1e-4)


def test_tensorboard_output_needs_tensorboardx(tmp_path):
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        with pytest.warns(RuntimeWarning, match="tensorboardX is not installed"):
            fit(model, (np.ones((4, 2), np.float32), np.zeros(4, np.int64)), loss="cross_entropy", epochs=1,
                verbose=0, callbacks=[debug.Monitor(log_dir=tmp_path, warn=False)])
    else:
        model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        fit(model, (np.ones((4, 2), np.float32), np.zeros(4, np.int64)), loss="cross_entropy", epochs=1,
            verbose=0, callbacks=[debug.Monitor(log_dir=tmp_path, warn=False)])
        assert any(p.name.startswith("events") for p in tmp_path.iterdir())


def test_deep_sigmoid_net_gradients_vanish_layer_by_layer():
    x = np.random.default_rng(0).standard_normal((128, 64)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 10, 128)
    rep = debug.gradient_report(debug.deep_sigmoid_net(depth=8, width=32), x, y)
    norms = [n for _, n in rep]
    assert len(rep) == 9 and rep.vanishing and not rep.exploding
    assert all(a < b for a, b in zip(norms, norms[1:]))  # smaller and smaller towards the input
    assert rep.ratio < 1e-4
    assert "vanishing" in str(rep)
    shallow = debug.gradient_report(nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10)), x, y)
    assert not shallow.vanishing and not shallow.exploding


def test_overfit_tiny_batch_passes_a_sound_model_and_flags_a_broken_one():
    x = np.random.default_rng(0).standard_normal((8, 5)).astype(np.float32)
    y = np.arange(8) % 3
    good = debug.overfit_tiny_batch(nn.Sequential(nn.Linear(5, 32), nn.ReLU(), nn.Linear(32, 3)), x, y,
                                    sizes=(1, 8), steps=150, lr=3e-2)
    assert good.ok and good[1] < 0.05 and good[8] < 0.05

    class Frozen(nn.Module):  # a bug: the output ignores the trained parameter
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(5, 3)

        def forward(self, t):
            return self.lin(t).detach() * 0 + self.lin.bias * 0

    bad = debug.overfit_tiny_batch(Frozen(), x, y, sizes=(1,), steps=20)
    assert not bad.ok and "cannot fit a tiny data set" in bad.message
    with pytest.raises(AssertionError, match="1 example: loss"):
        debug.overfit_tiny_batch(Frozen(), x, y, sizes=(1,), steps=5, raise_on_failure=True)


class Fixed(nn.Module):
    """Returns given logits row by row (the model's 'opinion' is constructed)."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits
        self.dummy = nn.Parameter(sd.zeros(1))

    def forward(self, x):
        idx = x.numpy()[:, 0].astype(int)
        return sd.tensor(self.logits[idx])


def test_worst_mistakes_sorted_by_confidence(tmp_path):
    logits = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.05, 0.95], [0.3, 0.7]], np.float32))
    y = np.array([0, 0, 1, 0, 1])  # wrong: 1 (p 0.8), 2 (p 0.6), 3 (p 0.95)
    x = np.zeros((5, 16), np.float32)
    x[:, 0] = np.arange(5)
    res = debug.worst_mistakes(Fixed(logits), x, y, k=3, path=tmp_path / "worst.png")
    assert res["index"].tolist() == [3, 1, 2]
    np.testing.assert_allclose(res["confidence"], [0.95, 0.8, 0.6], rtol=1e-5)
    np.testing.assert_allclose(res["true_prob"], [0.05, 0.2, 0.4], rtol=1e-4)
    assert res["predicted"].tolist() == [1, 1, 0] and res["true"].tolist() == [0, 0, 1]
    assert (tmp_path / "worst.png").read_bytes()[:4] == b"\x89PNG"  # 16 features drawn as 4x4 images


def test_cost_sensitive_error():
    # spam filter (textbook 11.1): class 1 = legitimate mail; blocking it (predict 0) costs 10, letting spam in 1
    C = np.array([[0.0, 1.0], [10.0, 0.0]])
    yt = np.array([0, 0, 1, 1, 1, 0])
    yp = np.array([0, 1, 0, 1, 0, 1])
    assert cost_sensitive_error(yt, yp, C, normalize=False) == 1 + 10 + 10 + 1
    assert cost_sensitive_error(yt, yp, C) == pytest.approx(22 / 6)
    I = 1 - np.eye(3)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    assert cost_sensitive_error(a, b, I) == pytest.approx(np.mean(a != b))  # 1 - I: the error rate
    assert cost_sensitive_error(a, np.eye(3)[b] * 0.9, I) == pytest.approx(np.mean(a != b))  # scores: argmax
    with pytest.raises(ValueError, match="labels in \\[0, 2\\)"):
        cost_sensitive_error([0, 2], [0, 1], C)
    with pytest.raises(ValueError, match="must be square"):
        cost_sensitive_error([0], [0], np.ones((2, 3)))
