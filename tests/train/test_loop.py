"""fit / evaluate / predict, History, and the logging callbacks."""
import csv
import io
import math

import numpy as np
import pytest

import shendu as sd
from shendu.train import (
    Callback,
    CSVLogger,
    LearningRateScheduler,
    ProgressBar,
    TensorBoard,
    TerminateOnNaN,
    Trainer,
    evaluate,
    fit,
    predict,
)
from tests.train.helpers import MLP, SGD, cross_entropy, digits


@pytest.fixture(scope="module")
def data():
    return digits()


def test_learns_digits_to_a_seeded_threshold(data):
    (x, y), (xt, yt) = data
    sd.manual_seed(0)
    model = MLP(64, 128, 10)
    h = fit(model, (x, y), loss=cross_entropy, optimizer=SGD(model.parameters(), lr=0.05), epochs=15,
            batch_size=32, val_data=(xt, yt), metrics=["accuracy"], verbose=0)
    assert h["loss"][-1] < 0.1 < h["loss"][0]
    assert h["val_accuracy"][-1] >= 0.96
    res = evaluate(model, (xt, yt), loss=cross_entropy, metrics=["accuracy", "f1"])
    assert res["accuracy"] == pytest.approx(h["val_accuracy"][-1]) and res["loss"] == pytest.approx(h["val_loss"][-1])
    pred = predict(model, xt, batch_size=100)
    assert pred.shape == (len(xt), 10) and np.mean(pred.argmax(1) == yt) == res["accuracy"]


def test_evaluate_loss_is_the_mean_over_examples_with_a_ragged_last_batch(data):
    (x, y), _ = data
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    full = float(cross_entropy(model(sd.tensor(x[:100])), sd.tensor(y[:100])).item())
    assert evaluate(model, (x[:100], y[:100]), loss=cross_entropy, batch_size=33)["loss"] == pytest.approx(
        full, rel=1e-5
    )


def test_dataloader_input_and_history_shape(data):
    (x, y), _ = data
    loader = sd.data.DataLoader(sd.data.TensorDataset(x[:64], y[:64]), batch_size=16, shuffle=True, seed=1)
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    h = fit(model, loader, loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=3, verbose=0)
    assert h.epoch == [0, 1, 2] and set(h.history) == {"loss", "lr"} and h.trainer.global_step == 12
    assert "loss=" in repr(h)


def test_max_steps_stops_mid_epoch(data):
    (x, y), _ = data
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    h = fit(model, (x[:100], y[:100]), loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=10,
            batch_size=10, max_steps=25, verbose=0)
    assert h.trainer.global_step == 25 and len(h) == 3


def test_clip_grad_norm_bounds_the_update(data):
    (x, y), _ = data
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    fit(model, (x[:32], y[:32]), loss=cross_entropy, optimizer=SGD(model.parameters(), lr=1.0, momentum=0.0),
        epochs=1, batch_size=32, clip_grad_norm=1e-3, verbose=0, shuffle=False)
    step = math.sqrt(sum(np.sum((model.state_dict()[k].numpy() - v) ** 2) for k, v in before.items()))
    assert step == pytest.approx(1e-3, rel=1e-3)


def test_batch_hooks_called_once_per_step_and_stop_training(data):
    (x, y), _ = data

    class Count(Callback):
        def __init__(self):
            self.steps, self.epochs = [], []

        def on_train_batch_end(self, step, logs=None):
            self.steps.append(step)
            assert np.isfinite(logs["loss"]) and logs["size"] == 10
            if step == 13:
                self.trainer.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            self.epochs.append(epoch)

    c = Count()
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    fit(model, (x[:50], y[:50]), loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=10, batch_size=10,
        callbacks=[c], verbose=0)
    assert c.steps == list(range(14)) and c.epochs == [0, 1, 2]


def test_terminate_on_nan(data, capsys):
    (x, y), _ = data
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    t = TerminateOnNaN()
    xb = x[:100].copy()
    xb[35, 0] = np.nan  # in the fourth batch
    h = fit(model, (xb, y[:100]), loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=20,
            batch_size=10, callbacks=[t], verbose=0, shuffle=False)
    assert t.stopped_step == 3 and h.trainer.global_step == 4 and len(h) == 1
    assert not math.isfinite(h["loss"][-1]) and "TerminateOnNaN" in capsys.readouterr().err


def test_learning_rate_scheduler_sets_lr_per_epoch(data):
    (x, y), _ = data
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    opt = SGD(model.parameters(), lr=0.1)
    s = LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
    h = fit(model, (x[:40], y[:40]), loss=cross_entropy, optimizer=opt, epochs=3, batch_size=20, callbacks=[s],
            verbose=0)
    assert h["lr"] == [0.1, 0.05, 0.025] and opt.param_groups[0]["lr"] == 0.025
    with pytest.raises(TypeError):
        LearningRateScheduler(0.1)


def test_scheduler_object_is_stepped_each_epoch(data):
    (x, y), _ = data

    class Halve:
        def __init__(self, opt):
            self.opt, self.calls = opt, 0

        def step(self):
            self.calls += 1
            self.opt.param_groups[0]["lr"] *= 0.5

    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    opt = SGD(model.parameters(), lr=0.4)
    sch = Halve(opt)
    h = fit(model, (x[:40], y[:40]), loss=cross_entropy, optimizer=opt, epochs=3, batch_size=20, scheduler=sch,
            verbose=0)
    assert sch.calls == 3 and h["lr"] == [0.4, 0.2, 0.1]


def test_csv_logger_and_history_plot(data, tmp_path):
    (x, y), (xt, yt) = data
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    h = fit(model, (x[:60], y[:60]), loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=3,
            batch_size=20, val_data=(xt[:30], yt[:30]), metrics=["accuracy"],
            callbacks=[CSVLogger(tmp_path / "log.csv")], verbose=0)
    rows = list(csv.reader(open(tmp_path / "log.csv")))
    assert rows[0] == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr"]
    assert [float(r[3]) for r in rows[1:]] == pytest.approx(h["val_loss"])
    fig = h.plot(tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 2 and {ln.get_label() for ln in fig.axes[0].lines} == {"loss", "val_loss"}


def test_progress_bar_line_mode_and_silence(data):
    (x, y), _ = data
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    buf = io.StringIO()
    fit(model, (x[:40], y[:40]), loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=2, batch_size=20,
        callbacks=[ProgressBar(verbose=2, file=buf)])
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2 - loss: ")
    buf = io.StringIO()  # verbose=1 on something that is not a terminal: one line per epoch (as Keras), no bar
    fit(model, (x[:40], y[:40]), loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=1, batch_size=20,
        callbacks=[ProgressBar(verbose=1, file=buf)])
    assert buf.getvalue().startswith("Epoch 1/1 - loss: ") and len(buf.getvalue().splitlines()) == 1
    buf = io.StringIO()  # verbose=0: silent
    fit(model, (x[:40], y[:40]), loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=1, batch_size=20,
        callbacks=[ProgressBar(verbose=0, file=buf)])
    assert buf.getvalue() == ""


def test_tensorboard_needs_tensorboardx_or_writes_events(data, tmp_path):
    try:
        import tensorboardX  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install tensorboardX"):
            TensorBoard(tmp_path)
        return
    (x, y), _ = data
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    fit(model, (x[:40], y[:40]), loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=2, batch_size=20,
        callbacks=[TensorBoard(tmp_path)], verbose=0)
    assert any(p.name.startswith("events.out.tfevents") for p in tmp_path.iterdir())


def test_bad_inputs_give_clear_errors(data):
    (x, y), _ = data
    model = MLP(64, 8, 10)
    opt = SGD(model.parameters())
    with pytest.raises(ValueError, match="unknown loss 'hinge2'"):
        fit(model, (x, y), loss="hinge2", optimizer=opt)
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        fit(model, (x, y), loss=cross_entropy, optimizer="adamm")
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        fit(model, (x, y), loss=cross_entropy, optimizer=opt, metrics=["acuracy"])
    with pytest.raises(ValueError, match="batch_size"):
        fit(model, (x, y), loss=cross_entropy, optimizer=opt, batch_size=0)
    with pytest.raises(TypeError, match="data must be"):
        fit(model, {"x": x}, loss=cross_entropy, optimizer=opt)
    with pytest.raises(ValueError, match="first dimension"):
        fit(model, (x, y[:-1]), loss=cross_entropy, optimizer=opt)
    with pytest.raises(ValueError, match="clip_grad_norm"):
        Trainer(model, loss=cross_entropy, optimizer=opt, clip_grad_norm=-1)


def test_keras_style_compile_fit_evaluate_predict(data):
    (x, y), (xt, yt) = data
    sd.manual_seed(0)
    model = MLP(64, 64, 10)
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y)
    model.compile(optimizer=SGD(model.parameters(), lr=0.05), loss=cross_entropy, metrics=["accuracy"])
    h = model.fit(x, y, epochs=4, batch_size=32, validation_split=0.2, verbose=0)
    assert len(h) == 4 and "val_accuracy" in h
    h = model.fit(x, y, epochs=2, batch_size=32, verbose=0)  # a second call: new History, steps carry on
    assert h.epoch == [0, 1] and model._trainer.global_step == 4 * 36 + 2 * 45
    res = model.evaluate(xt, yt)
    assert res["accuracy"] > 0.9
    assert np.mean(model.predict(xt).argmax(1) == yt) == pytest.approx(res["accuracy"])


def test_loader_of_numpy_batches(data):
    (x, y), _ = data
    loader = sd.data.DataLoader(sd.data.TensorDataset(x[:64], y[:64]), batch_size=16, as_tensor=False)
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    h = fit(model, loader, loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=2, verbose=0)
    assert h.trainer.global_step == 8 and np.isfinite(h["loss"][-1])
    assert evaluate(model, loader, loss=cross_entropy)["loss"] == pytest.approx(
        evaluate(model, (x[:64], y[:64]), loss=cross_entropy)["loss"], rel=1e-6)
    assert predict(model, loader).shape == (64, 10)


def test_progress_bar_on_a_terminal_shows_a_bar_per_epoch(data):
    class FakeTTY(io.StringIO):
        def isatty(self):
            return True

    (x, y), (xt, yt) = data
    sd.manual_seed(0)
    model = MLP(64, 8, 10)
    buf = FakeTTY()
    fit(model, (x[:40], y[:40]), loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=2, batch_size=20,
        val_data=(xt[:20], yt[:20]), callbacks=[ProgressBar(verbose=1, file=buf)])
    out = buf.getvalue()
    assert "epoch 1" in out and "epoch 2" in out and "2/2" in out and "val_loss" in out
