"""ModelCheckpoint and fit(resume_from=...): a resumed run equals the uninterrupted one exactly."""
import numpy as np
import pytest

import shendu as sd
from shendu.train import EarlyStopping, ModelCheckpoint, fit
from tests.train.helpers import MLP, SGD, cross_entropy, digits


@pytest.fixture(scope="module")
def data():
    (x, y), (xv, yv) = digits()
    return (x[:400], y[:400]), (xv[:200], yv[:200])


def _run(data, tmp_path, epochs, resume_from=None, extra=(), before=()):
    sd.manual_seed(0)
    model = MLP(64, 32, 10)
    cb = ModelCheckpoint(str(tmp_path / "ckpt-{epoch}.safetensors"), metadata={"note": "test"})
    es = EarlyStopping(patience=50)
    h = fit(model, data[0], loss=cross_entropy, optimizer=SGD(model.parameters(), lr=0.05), epochs=epochs,
            batch_size=16, val_data=data[1], metrics=["accuracy"], callbacks=[*before, cb, es, *extra], verbose=0,
            resume_from=resume_from)
    return model, h, es


def test_resume_equals_uninterrupted(data, tmp_path):
    full, h_full, es_full = _run(data, tmp_path / "a", epochs=5)
    resumed, h_res, es_res = _run(data, tmp_path / "b", epochs=5, resume_from=tmp_path / "a" / "ckpt-2.safetensors")
    for k, v in full.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k].numpy(), v.numpy())
    assert h_res.history == h_full.history and h_res.epoch == list(range(5))
    assert es_res.evaluations == es_full.evaluations and es_res.best_step == es_full.best_step
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [f"ckpt-{e}.safetensors" for e in (3, 4, 5)]


def test_checkpoint_contents(data, tmp_path):
    model, h, _ = _run(data, tmp_path, epochs=2)
    state = sd.load(tmp_path / "ckpt-2.safetensors")
    assert state["kind"] == "shendu-training-state" and state["epoch"] == 2 and state["meta"] == {"note": "test"}
    assert state["global_step"] == 2 * 25
    for k, v in state["model"].items():
        np.testing.assert_array_equal(v.numpy(), model.state_dict()[k].numpy())
    assert state["optimizer"]["param_groups"][0]["lr"] == 0.05


def test_save_best_only_weights(data, tmp_path):
    sd.manual_seed(0)
    model = MLP(64, 32, 10)
    cb = ModelCheckpoint(str(tmp_path / "best.safetensors"), monitor="val_accuracy", save_best_only=True,
                         save_weights_only=True)
    h = fit(model, data[0], loss=cross_entropy, optimizer=SGD(model.parameters(), lr=0.05), epochs=4,
            batch_size=16, val_data=data[1], metrics=["accuracy"], callbacks=[cb], verbose=0)
    assert cb.best == max(h["val_accuracy"])
    best = sd.load(tmp_path / "best.safetensors")
    assert set(best) == {"w1", "b1", "w2", "b2"}
    fresh = MLP(64, 32, 10)
    fresh.load_state_dict(best)
    from shendu.train import evaluate

    assert evaluate(fresh, data[1], loss=cross_entropy, metrics=["accuracy"])["accuracy"] == cb.best


def test_resume_from_weights_only_file_is_refused(data, tmp_path):
    sd.manual_seed(0)
    m = MLP(64, 8, 10)
    sd.save(m.state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(ValueError, match="no training state"):
        fit(m, data[0], loss=cross_entropy, optimizer=SGD(m.parameters()), epochs=1, verbose=0,
            resume_from=tmp_path / "w.safetensors")


def test_resume_from_truncated_checkpoint_is_a_clear_error(data, tmp_path):
    _run(data, tmp_path, epochs=1)
    p = tmp_path / "ckpt-1.safetensors"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(sd.serialization.CheckpointError, match="truncated"):
        _run(data, tmp_path / "x", epochs=2, resume_from=p)


@pytest.mark.skipif(not hasattr(sd, "optim"), reason="needs shendu.optim")
@pytest.mark.parametrize("opt_name", ["sgd", "adam"])
def test_resume_equals_uninterrupted_with_shendu_optimizers_and_layers(data, tmp_path, opt_name):
    nn = sd.nn

    def run(out, resume_from=None):
        sd.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 10))
        kw = {"momentum": 0.9} if opt_name == "sgd" else {}
        opt = sd.optim.SGD(model.parameters(), lr=0.05, **kw) if opt_name == "sgd" else \
            sd.optim.Adam(model.parameters(), lr=1e-3)
        fit(model, data[0], loss="cross_entropy", optimizer=opt, epochs=4, batch_size=16, verbose=0,
            callbacks=[ModelCheckpoint(str(out / "ckpt-{epoch}.safetensors"))], resume_from=resume_from)
        return model

    full = run(tmp_path / "a")
    resumed = run(tmp_path / "b", resume_from=tmp_path / "a" / "ckpt-2.safetensors")
    for k, v in full.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[k].numpy(), v.numpy(), err_msg=k)


def test_callback_state_survives_a_different_callback_list_on_resume(data, tmp_path):
    from shendu.train import CSVLogger, ProgressBar

    _, _, es_full = _run(data, tmp_path / "a", epochs=4)
    _, _, es_res = _run(data, tmp_path / "b", epochs=4, resume_from=tmp_path / "a" / "ckpt-2.safetensors",
                        before=(CSVLogger(tmp_path / "log.csv"), ProgressBar(verbose=0)))
    assert es_res.evaluations == es_full.evaluations
