"""String names for losses, optimizers and metrics in fit/compile."""
import numpy as np
import pytest

import shendu as sd
from shendu.train import evaluate, fit
from shendu.train.resolve import get_loss, get_metric, get_optimizer
from tests.train.helpers import MLP, SGD, cross_entropy, digits

needs_optim = pytest.mark.skipif(not hasattr(sd, "optim"), reason="needs shendu.optim")


def test_loss_names_resolve_to_nn_functional():
    F = sd.nn.functional
    assert get_loss("cross_entropy") is F.cross_entropy and get_loss("crossentropy") is F.cross_entropy
    # Keras names take probabilities (Keras semantics, issue 12): -ln 0.7 for p = [0.7, 0.2, 0.1] and class 0
    keras_ce = get_loss("sparse_categorical_crossentropy")
    loss = keras_ce(sd.tensor([[0.7, 0.2, 0.1]]), sd.tensor([0]))
    assert float(loss.item()) == pytest.approx(-np.log(0.7), rel=1e-6)
    assert get_loss("MSE") is F.mse_loss and get_loss("bce_with_logits") is F.binary_cross_entropy_with_logits
    f = lambda o, t: o  # noqa: E731
    assert get_loss(f) is f
    with pytest.raises(TypeError):
        get_loss(3)


def test_named_loss_matches_reference_cross_entropy():
    (x, y), _ = digits()
    sd.manual_seed(0)
    model = MLP(64, 16, 10)
    a = evaluate(model, (x[:200], y[:200]), loss="cross_entropy")["loss"]
    b = evaluate(model, (x[:200], y[:200]), loss=cross_entropy)["loss"]
    assert a == pytest.approx(b, rel=1e-5)


def test_metric_names_match_scikit_learn():
    from sklearn.metrics import f1_score, precision_score, recall_score, top_k_accuracy_score

    g = np.random.default_rng(0)
    scores = g.normal(size=(200, 6)).astype(np.float32)
    y = g.integers(0, 6, 200)
    pred = scores.argmax(1)
    assert get_metric("f1")[1](y, scores) == pytest.approx(f1_score(y, pred, average="macro"))
    assert get_metric("f1_micro")[1](y, scores) == pytest.approx(f1_score(y, pred, average="micro"))
    assert get_metric("precision_weighted")[1](y, scores) == pytest.approx(
        precision_score(y, pred, average="weighted", zero_division=0))
    assert get_metric("recall")[1](y, scores) == pytest.approx(recall_score(y, pred, average="macro"))
    name, fn = get_metric("top3")
    assert name == "top3" and fn(y, scores) == pytest.approx(top_k_accuracy_score(y, scores, k=3))
    name, fn = get_metric("binary_accuracy")
    assert fn(np.array([1, 0, 1]), np.array([[0.9], [0.4], [0.2]])) == pytest.approx(2 / 3)


def test_fit_reports_named_metrics_per_epoch():
    (x, y), (xt, yt) = digits()
    sd.manual_seed(0)
    model = MLP(64, 16, 10)
    h = fit(model, (x, y), loss="cross_entropy", optimizer=SGD(model.parameters(), lr=0.05), epochs=2,
            val_data=(xt, yt), metrics=["accuracy", "top3", "f1"], verbose=0)
    assert set(h.history) == {"loss", "accuracy", "top3", "f1", "val_loss", "val_accuracy", "val_top3", "val_f1", "lr"}
    assert all(h["val_top3"][i] >= h["val_accuracy"][i] for i in range(2))


def test_optimizer_factory_and_lr_override():
    sd.manual_seed(0)
    model = MLP(4, 4, 2)
    opt = get_optimizer(lambda p: SGD(p, lr=0.3), model.parameters())
    assert isinstance(opt, SGD) and opt.param_groups[0]["lr"] == 0.3
    assert get_optimizer(opt, model.parameters(), lr=0.01) is opt and opt.param_groups[0]["lr"] == 0.01
    with pytest.raises(TypeError, match="step"):
        get_optimizer(object(), model.parameters())


@needs_optim
@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_optimizer_names_build_shendu_optimizers(name):
    sd.manual_seed(0)
    model = MLP(4, 4, 2)
    opt = get_optimizer(name, model.parameters(), lr=0.01)
    assert type(opt).__name__.lower() == name and opt.param_groups[0]["lr"] == 0.01


@needs_optim
def test_keras_compile_with_names_learns_digits():
    (x, y), (xt, yt) = digits()
    sd.manual_seed(0)
    nn = sd.nn
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"], lr=3e-3)
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert model.evaluate(xt, yt)["accuracy"] >= 0.94
