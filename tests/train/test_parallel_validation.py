"""ParallelValidation (textbook 7.8: validation run in parallel, on another device): background-thread evaluation of
each epoch's weights equals a synchronous evaluate of the same weights, lands in the History, overlaps training."""
import threading

import numpy as np
import pytest

import shendu as sd
from shendu import nn
from shendu.backend import device_of
from shendu.train import Callback, evaluate, fit
from shendu.train.callbacks import ParallelValidation


def _data(n=240, seed=0):
    from shendu.data.datasets import load_digits

    (x, y), (xt, yt) = load_digits(seed=seed)
    return (x[:n].astype(np.float32), y[:n]), (xt[:150].astype(np.float32), yt[:150])


class _Snapshots(Callback):
    """Host copies of the weights at every epoch end (what the validation must have seen)."""

    def __init__(self):
        self.states = {}

    def on_epoch_end(self, epoch, logs=None):
        self.states[epoch] = {k: np.array(t.numpy(), copy=True) for k, t in self.model.state_dict().items()}


def _model():
    sd.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 10))


@pytest.mark.parametrize("device", [None, "cpu"])
def test_parallel_validation_equals_synchronous_evaluate_of_each_epochs_weights(device):
    train, val = _data()
    model = _model()
    snaps = _Snapshots()
    pv = ParallelValidation(val, device=device)
    hist = fit(model, train, loss="cross_entropy", optimizer="adam", lr=3e-3, epochs=3, batch_size=32,
               metrics=["accuracy"], callbacks=[snaps, pv], verbose=0)
    assert hist.epoch == [0, 1, 2] and len(hist["val_loss"]) == 3 and len(hist["val_accuracy"]) == 3
    ref = _model()
    for e in range(3):
        ref.load_state_dict(snaps.states[e])
        sync = evaluate(ref, val, loss="cross_entropy", metrics=["accuracy"])
        assert hist["val_loss"][e] == pytest.approx(sync["loss"], rel=1e-5)
        assert hist["val_accuracy"][e] == pytest.approx(sync["accuracy"], abs=1e-12)
        assert pv.results[e]["val_loss"] == hist["val_loss"][e]
        assert pv.thread_names[e] != threading.current_thread().name  # evaluated in the worker thread
    assert hist["val_loss"][2] < hist["val_loss"][0]  # it learns, and the late results are the right epochs'
    # the validation copy lives on `device`, the trained model where it was
    shadow_dev = device_of(next(iter(pv._shadow.parameters()))._data)
    train_dev = device_of(next(iter(model.parameters()))._data)
    assert shadow_dev == (train_dev if device is None else device_of(sd.zeros(1, device="cpu")._data))
    assert model.training and not pv._shadow.training


def test_validation_overlaps_training_and_errors_surface():
    """A validation metric that blocks until the next epoch's first batch has trained: finishes only if training
    continues while it runs (a synchronous validation would time out and report 0)."""
    train, val = _data(96)
    started = threading.Event()

    class _Go(Callback):
        def on_train_batch_end(self, step, logs=None):
            if step >= 3:  # 3 batches per epoch: a batch of the next epoch
                started.set()

    def waits_for_training(y_true, y_pred):
        return 1.0 if started.wait(timeout=20) else 0.0

    pv = ParallelValidation(val, metrics=[waits_for_training], prefix="pval_")
    hist = fit(_model(), train, loss="cross_entropy", lr=1e-3, epochs=2, batch_size=32, callbacks=[_Go(), pv],
               verbose=0)
    assert hist["pval_waits_for_training"][0] == 1.0
    assert "pval_loss" in hist and len(hist["pval_loss"]) == 2

    with pytest.raises(ValueError, match="ParallelValidation.*val_data"):
        fit(_model(), train, loss="cross_entropy", epochs=1, val_data=val, callbacks=[ParallelValidation(val)],
            verbose=0)

    def broken(y_true, y_pred):
        raise RuntimeError("metric exploded")

    with pytest.raises(RuntimeError, match="metric exploded"):  # a worker error reaches the training thread
        fit(_model(), train, loss="cross_entropy", epochs=2, callbacks=[ParallelValidation(val, metrics=[broken])],
            verbose=0)
