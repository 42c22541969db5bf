"""The chapter's procedures (textbook 11.2-11.4): baselines, cross-validation, learning curve, LR U-curve, CLI."""
import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.data.datasets import load_digits
from shendu.data.split import KFold

pytest.importorskip("optuna")
from shendu import tune  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    (x, y), (xt, yt) = load_digits(seed=0)
    return x.astype(np.float32), y, xt.astype(np.float32), yt


def _small():
    return nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))


def test_cross_val_score_equals_a_hand_loop(digits):
    x, y = digits[0][:400], digits[1][:400]
    res = tune.cross_val_score(_small, x, y, k=4, epochs=6, lr=1e-2, seed=3)
    hand = []
    for fold, (tr, va) in enumerate(KFold(4, shuffle=True, seed=3).split(len(x))):
        sd.manual_seed(3 + fold)
        m = _small().compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"], lr=1e-2)
        m.fit(x[tr], y[tr], epochs=6, batch_size=32, verbose=0)
        hand.append(m.evaluate(x[va], y[va])["accuracy"])
    assert res["scores"] == hand
    assert res["mean"] == pytest.approx(np.mean(hand)) and res["std"] == pytest.approx(np.std(hand))
    assert res["mean"] > 0.8  # it learned
    err = tune.cross_val_score(_small, x, y, k=4, epochs=6, lr=1e-2, seed=3, metric="error")
    np.testing.assert_allclose(err["scores"], 1 - np.array(hand))


def test_learning_curve_error_falls_with_training_set_size(digits, tmp_path):
    x, y, xt, yt = digits
    res = tune.learning_curve(_small, (x, y), (xt, yt), sizes=[25, 100, 400, 1437], epochs=3, lr=1e-2,
                              path=tmp_path / "lc.png")
    assert res["sizes"] == [25, 100, 400, 1437]
    assert res["val"][-1] < res["val"][0] - 0.2  # more data, lower validation error
    assert res["train"][0] <= res["val"][0]  # the small set is fit better than it generalizes
    assert (tmp_path / "lc.png").read_bytes()[:4] == b"\x89PNG"
    assert tune.geometric_sizes(1000, 100) == [100, 200, 400, 800, 1000]  # doubling, 11.3


class Quadratic(nn.Module):
    """w with loss 1/2 a w^2 (the output is sqrt(a) w and the loss 1/2 out^2)."""

    def __init__(self, a):
        super().__init__()
        self.w = nn.Parameter(sd.tensor(np.array([1.0], np.float32)))
        self.a = a

    def forward(self, x):
        return (self.w * float(np.sqrt(self.a))) * x


def test_lr_range_test_quadratic_diverges_above_2_over_a(tmp_path):
    a = 4.0
    data = (np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32))
    lrs = [0.01, 0.1, 0.25, 0.4, 0.49, 0.51, 0.6, 1.0]
    res = tune.lr_range_test(Quadratic(a), data, loss=lambda o, t: 0.5 * ((o - t) ** 2).sum(), lrs=lrs, steps=10,
                             batch_size=1, path=tmp_path / "u.png")
    assert res["diverged"] == [lr > 2 / a for lr in lrs]  # textbook 11.4.1: divergence for lr > 2/a = 0.5
    assert res["best_lr"] == 0.25  # 1/a: one step to the minimum
    loss = res["loss"]
    assert loss[0] > loss[2] < loss[4] < res["initial_loss"] < loss[5] < loss[6] < loss[7]  # the U-curve
    assert (tmp_path / "u.png").read_bytes()[:4] == b"\x89PNG"


def test_lr_range_test_u_curve_on_digits(digits):
    x, y = digits[0][:512], digits[1][:512]
    sd.manual_seed(0)
    res = tune.lr_range_test(_small(), (x, y), loss="cross_entropy", lrs=[1e-4, 1e-2, 1e-1, 1e3], steps=30)
    loss = res["loss"]
    assert loss[1] < loss[0] and loss[2] < loss[0]  # too small a rate barely moves in 30 steps
    assert res["diverged"][3] or loss[3] > loss[2]  # too large a rate fails


def test_baselines_by_data_type(digits):
    x, y, xt, yt = digits
    assert tune.baseline(x, y).baseline_kind == "mlp"
    assert tune.baseline(x.reshape(-1, 1, 8, 8), y).baseline_kind == "cnn"
    assert tune.baseline(x.reshape(-1, 8, 8), y).baseline_kind == "rnn"
    with pytest.raises(ValueError, match="expected X of rank 4"):
        tune.baseline(x, y, kind="cnn")
    sd.manual_seed(0)
    m = tune.baseline(x, y, "logistic", lr=1e-2)
    m.fit(x, y, epochs=5, verbose=0)
    assert m.evaluate(xt, yt)["accuracy"] > 0.9  # logistic regression on digits
    sd.manual_seed(0)
    m = tune.baseline(x.reshape(-1, 8, 8)[:600], y[:600], hidden=32, lr=1e-2)
    m.fit(x.reshape(-1, 8, 8)[:600], y[:600], epochs=3, verbose=0)  # rows as a sequence of 8 steps
    assert m.evaluate(xt.reshape(-1, 8, 8), yt)["accuracy"] > 0.5
    sd.manual_seed(0)
    m = tune.baseline(x.reshape(-1, 1, 8, 8)[:600], y[:600], hidden=32, lr=1e-2)
    m.fit(x.reshape(-1, 1, 8, 8)[:600], y[:600], epochs=3, verbose=0)  # images: the CNN baseline
    assert m.evaluate(xt.reshape(-1, 1, 8, 8), yt)["accuracy"] > 0.7
    r = tune.baseline(x, x[:, :2].copy(), "mlp")
    assert r.__dict__["_trainer"] is not None  # float targets: a regression baseline (MSE)


def test_cli_tune_short_mode_on_digits(tmp_path, capsys):
    from shendu.cli import main

    rc = main(["tune", "digits-mlp", "--param", "lr=loguniform:1e-4:1e-1", "--param", "hidden=int:16:128:log",
               "--trials", "4", "--quick", "--sampler", "random", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "best trial" in out and "digits-mlp.db" in out
    import optuna

    study = optuna.load_study(study_name="digits-mlp", storage=f"sqlite:///{tmp_path / 'digits-mlp.db'}")
    done = [t for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(done) == 4 and all(16 <= t.params["hidden"] <= 128 for t in done)
    assert study.best_value < 0.8  # validation error after a 20-step trial (chance: 0.9)
    assert (tmp_path / "digits-mlp.csv").exists() and (tmp_path / "digits-mlp_history.png").exists()
    rc = main(["tune", "digits-mlp", "--param", "width=int:1:2", "--trials", "1", "--quick", "--out",
               str(tmp_path / "bad")])
    assert rc == 2 and "has no parameter 'width'" in capsys.readouterr().err


def test_capacity_table_and_diagnose():
    # Table 11.1
    assert tune.capacity_effect("hidden")["increases_capacity_when"] == "increased"
    assert tune.capacity_effect("weight_decay")["increases_capacity_when"] == "decreased"
    assert tune.capacity_effect("dropout")["increases_capacity_when"] == "decreased"
    assert tune.capacity_effect("lr")["increases_capacity_when"] == "tuned optimally"
    assert "zero padding" in tune.capacity_effect("kernel_size")["caveats"]
    with pytest.raises(KeyError, match="no entry for 'momentum'"):
        tune.capacity_effect("momentum")
    # textbook 11.3 decision procedure
    assert tune.diagnose(0.20, 0.25, 0.05)[0] == "underfit"
    v, advice = tune.diagnose(0.01, 0.12, 0.05)
    assert v == "overfit" and "gather more data" in advice and "learning curve" in advice
    assert tune.diagnose(0.01, 0.03, 0.05)[0] == "done"


def _ridge_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3))
    w_true = np.array([1.0, -2.0, 0.5])
    y = X @ w_true + 0.5 * rng.standard_normal(20)
    Xv = rng.standard_normal((20, 3))
    yv = Xv @ w_true
    X, y, Xv, yv = (sd.tensor(a) for a in (X, y, Xv, yv))

    def train_loss(ps, h):
        r = X @ ps[0] - y
        return (r * r).mean() + h["wd"] * (ps[0] * ps[0]).sum()

    def val_loss(ps):
        r = Xv @ ps[0] - yv
        return (r * r).mean()

    return train_loss, val_loss


def test_hypergradient_matches_finite_differences_of_the_whole_training_run():
    train_loss, val_loss = _ridge_problem()
    w0 = [sd.tensor(np.zeros(3))]

    def run(wd, lr):
        v, g = tune.hypergradient(
            train_loss, val_loss, w0, {"wd": sd.tensor(np.array(wd)), "lr": sd.tensor(np.array(lr))}, steps=15
        )
        return float(v.numpy()), {k: float(t.numpy()) for k, t in g.items()}

    v, g = run(0.3, 0.1)
    eps = 1e-6
    fd_wd = (run(0.3 + eps, 0.1)[0] - run(0.3 - eps, 0.1)[0]) / (2 * eps)
    fd_lr = (run(0.3, 0.1 + eps)[0] - run(0.3, 0.1 - eps)[0]) / (2 * eps)
    assert g["wd"] == pytest.approx(fd_wd, rel=1e-5) and g["lr"] == pytest.approx(fd_lr, rel=1e-5)
    assert g["wd"] > 0  # too much weight decay here: the validation error falls as it decreases
    v2, _ = run(0.3 - 0.05 * g["wd"], 0.1)  # a hypergradient step on wd lowers the validation loss
    assert v2 < v
    assert w0[0].numpy().tolist() == [0.0, 0.0, 0.0]  # the starting point is not modified
