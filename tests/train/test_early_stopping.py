"""EarlyStopping (textbook Alg. 7.1) and the retraining strategies (Alg. 7.2, 7.3)."""
import numpy as np
import pytest

import shendu as sd
from shendu.backend import to_host
from shendu.train import EarlyStopping, early_stopping_continue, early_stopping_retrain, evaluate, fit
from tests.train.helpers import MLP, SGD, cross_entropy


class _Stub:
    """Just enough of a Trainer for EarlyStopping.check."""

    def __init__(self):
        self.stop_training = False
        self.model = MLP(2, 2, 2)


def _run_sequence(values, patience, es=None):
    es = es or EarlyStopping(patience=patience, mode="min")
    es.set_trainer(_Stub())
    es.on_train_begin()
    for i, v in enumerate(values, start=1):  # n = 1 step between evaluations
        if es.check(v, step=i, epochs_done=i):
            break
    return es


def test_textbook_vector_stops_before_seeing_later_improvement():
    es = _run_sequence([5, 4, 3, 3.5, 3.2, 3.1, 2.9], patience=3)
    assert es.best_value == 3 and es.best_step == 3
    assert es.stopped_step == 6 and es.trainer.stop_training
    assert [s for s, _ in es.evaluations] == [1, 2, 3, 4, 5, 6]  # 2.9 never seen


def test_tie_is_not_an_improvement_and_patience_counts_consecutive_failures():
    es = _run_sequence([5, 3, 3.0, 3.0, 3.0], patience=3)
    assert es.best_step == 2 and es.stopped_step == 5
    es = _run_sequence([5, 6, 6, 4, 6, 6, 7], patience=3)  # the improvement at 4 resets j
    assert es.best_step == 4 and es.stopped_step == 7


def test_min_delta_and_max_mode():
    es = _run_sequence([1.0, 1.05, 1.09, 1.3, 1.31], patience=3,
                       es=EarlyStopping(monitor="val_accuracy", patience=3, min_delta=0.1))
    assert es.mode == "max" and es.best_step == 4 and es.best_value == 1.3


def test_best_parameters_are_a_deep_copy():
    es = EarlyStopping(patience=2)
    stub = _Stub()
    es.set_trainer(stub)
    es.on_train_begin()
    es.check(1.0, 1, 1)
    before = stub.model.w1.numpy().copy()
    stub.model.w1._data += 1.0  # in-place change after theta* was kept
    np.testing.assert_array_equal(to_host(es.best_state_dict()["w1"]), before)


@pytest.mark.parametrize("bad", [dict(patience=0), dict(every_n_steps=0), dict(store="gpu"), dict(mode="up")])
def test_bad_arguments(bad):
    with pytest.raises(ValueError, match="EarlyStopping"):
        EarlyStopping(**bad)


def _overfit_data():
    """Few noisy training points, a large net: validation loss follows the textbook's U shape."""
    g = np.random.default_rng(0)
    x = g.normal(size=(240, 10)).astype(np.float32)
    y = (x[:, 0] + 0.8 * g.normal(size=240) > 0).astype(np.int64)
    return (x[:40], y[:40]), (x[40:], y[40:])


def _train_overfit(store, every_n_steps=None, restore=True, epochs=300):
    sd.manual_seed(0)
    train, val = _overfit_data()
    model = MLP(10, 200, 2)
    es = EarlyStopping(patience=10, every_n_steps=every_n_steps, store=store, restore_best=restore)
    h = fit(model, train, loss=cross_entropy, optimizer=SGD(model.parameters(), lr=0.1), epochs=epochs,
            batch_size=10, val_data=val, callbacks=[es], verbose=0)
    return model, es, h, val


@pytest.mark.parametrize("store", ["memory", "disk"])
def test_stops_an_overfitting_run_and_restores_the_best_parameters(store):
    model, es, h, val = _train_overfit(store)
    assert es.stopped_epoch is not None and len(h) < 300
    assert len(h) == es.best_epoch + 10  # p failures after the best epoch
    assert h["loss"][-1] < h["loss"][es.best_epoch - 1]  # training loss kept falling
    assert h["val_loss"][-1] > es.best_value  # validation loss went up again
    assert es.best_value == min(h["val_loss"])
    restored = evaluate(model, val, loss=cross_entropy)["loss"]
    assert restored == pytest.approx(es.best_value, rel=1e-6)
    if store == "disk":  # the temp file holding theta* is removed at the end, theta* stays available
        assert es.path is None and es.best_state_dict() is not None


def test_no_restore_keeps_last_parameters():
    model, es, h, val = _train_overfit("memory", restore=False)
    assert evaluate(model, val, loss=cross_entropy)["loss"] == pytest.approx(h["val_loss"][-1], rel=1e-6)


def test_every_n_steps_evaluates_on_the_step_grid():
    model, es, h, val = _train_overfit("memory", every_n_steps=3)
    steps = [s for s, _ in es.evaluations]
    assert steps == list(range(3, 3 * len(steps) + 1, 3))
    assert es.best_step % 3 == 0 and es.stopped_step == steps[-1] and es.stopped_step - es.best_step == 30


def test_missing_validation_data_gives_clear_error():
    sd.manual_seed(0)
    train, _ = _overfit_data()
    model = MLP(10, 4, 2)
    with pytest.raises(ValueError, match="val_loss"):
        fit(model, train, loss=cross_entropy, optimizer=SGD(model.parameters()), epochs=2,
            callbacks=[EarlyStopping()], verbose=0)


def _factory():
    return MLP(10, 64, 2)


@pytest.mark.parametrize("match", ["steps", "epochs"])
def test_retrain_on_all_data_for_best_number_of_steps(match):
    sd.manual_seed(1)
    (x, y), _ = _overfit_data()
    x, y = np.concatenate([x, _overfit_data()[1][0][:60]]), np.concatenate([y, _overfit_data()[1][1][:60]])
    model, info = early_stopping_retrain(_factory, (x, y), loss=cross_entropy,
                                         optimizer=lambda p: SGD(p, lr=0.05), patience=5, max_epochs=200,
                                         batch_size=10, match=match, split_seed=0)
    es = info["early_stopping"]
    assert es.stopped_step is not None and info["best_step"] == es.best_step > 0
    sd.manual_seed(1)
    m2, info2 = early_stopping_retrain(_factory, (x, y), loss=cross_entropy, optimizer=lambda p: SGD(p, lr=0.05),
                                       patience=5, max_epochs=200, batch_size=10, match=match, split_seed=0)
    np.testing.assert_array_equal(m2.w1.numpy(), model.w1.numpy())  # seeded: reproducible
    steps_all = -(-100 // 10)
    expected = info["best_step"] if match == "steps" else info["best_epoch"] * steps_all
    assert info["retrain_steps"] == expected


def test_retrain_rejects_optimizer_instance():
    with pytest.raises(TypeError, match="factory"):
        early_stopping_retrain(_factory, _overfit_data()[0], loss=cross_entropy,
                               optimizer=SGD(_factory().parameters()))


def test_continue_until_validation_loss_reaches_subtrain_loss():
    sd.manual_seed(2)
    data = _overfit_data()[1]
    model, info = early_stopping_continue(_factory, data, loss=cross_entropy, optimizer=lambda p: SGD(p, lr=0.05),
                                          patience=5, max_epochs=200, batch_size=20, split_seed=0,
                                          max_steps=2000)
    assert info["reached"] and info["final_val_loss"] <= info["target"]
    assert 0 < info["steps_after"] <= 2000


def test_continue_stops_at_the_max_steps_guard():
    """Validation targets the model cannot fit from its inputs: J(valid) never falls to J(subtrain)."""
    from shendu.train import split_train
    from tests.train.helpers import mse

    sd.manual_seed(2)
    x = np.random.default_rng(0).normal(size=(50, 10)).astype(np.float32)
    idx = np.arange(50)
    val_idx = split_train((idx, idx), 0.2, seed=0)[1][0]
    y = np.zeros((50, 1), np.float32)
    y[val_idx] = 100.0
    model, info = early_stopping_continue(lambda: MLP(10, 8, 1), (x, y), loss=mse, optimizer=lambda p: SGD(p, lr=1e-6),
                                          patience=2, max_epochs=5, batch_size=20, split_seed=0, n_steps=7,
                                          max_steps=20)
    assert not info["reached"] and info["steps_after"] == 20 and info["final_val_loss"] > 1000 * info["target"]
