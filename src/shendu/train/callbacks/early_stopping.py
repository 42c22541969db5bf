"""`EarlyStopping`: the early-stopping meta-algorithm (textbook 7.8, Algorithm 7.1).

    theta <- theta_0; i <- 0; j <- 0; v <- inf; theta* <- theta; i* <- i
    while j < p:  train n steps; i <- i + n; v' <- validation error
                  if v' < v: j <- 0; theta* <- copy(theta); i* <- i; v <- v'   else: j <- j + 1
    return theta*, i*

n = `every_n_steps` (None: once per epoch), p = `patience`. The improvement test is strict (ties count as
failures) and j counts consecutive failures. theta* is a deep copy kept in memory or on disk
(`store="disk"`, textbook: the copy may live in slower, larger memory) and restored at the end of
training when `restore_best=True` (default, as the algorithm returns theta*). After training,
`best_step` is i* (optimizer steps) and `best_epoch` the epochs completed at i*, as needed by the two
retraining strategies (Algorithms 7.2 and 7.3, see `shendu.train.retrain`).
"""
from __future__ import annotations

import os
import tempfile

import numpy as np

from .base import Callback
from .monitor import improved, resolve_mode

__all__ = ["EarlyStopping"]


def _copy(arr):
    """A copy of a host or device array where it is (lists and numbers: a host array)."""
    return arr.copy() if hasattr(arr, "copy") and hasattr(arr, "shape") else np.array(arr)


class EarlyStopping(Callback):
    """Stop after `patience` consecutive evaluations without strict improvement of `monitor` (Alg. 7.1).

    monitor: a log key ('val_loss', 'val_accuracy', ...); mode 'min'/'max'/'auto'; min_delta: smallest
    change counted as an improvement; every_n_steps: evaluate every n optimizer steps instead of per epoch;
    restore_best: load theta* into the model when training ends; store: 'memory' or 'disk' (path or a temp file).
    """

    def __init__(self, monitor="val_loss", patience=5, mode="auto", min_delta=0.0, every_n_steps=None,
                 restore_best=True, store="memory", path=None, verbose=0):
        if not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be an int >= 1, got {patience!r}")
        if every_n_steps is not None and (not isinstance(every_n_steps, int) or every_n_steps < 1):
            raise ValueError(f"EarlyStopping: every_n_steps must be None or an int >= 1, got {every_n_steps!r}")
        if store not in ("memory", "disk"):
            raise ValueError(f"EarlyStopping: store must be 'memory' or 'disk', got {store!r}")
        if min_delta < 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        self.monitor = monitor
        self.mode = resolve_mode(monitor, mode, "EarlyStopping")
        self.patience = patience
        self.min_delta = float(min_delta)
        self.every_n_steps = every_n_steps
        self.restore_best = restore_best
        self.store = store
        self.path = path
        self.verbose = verbose
        self._reset()

    def _reset(self):
        self.best_value = None
        self.best_step = 0  # i*
        self.best_epoch = 0
        self.wait = 0  # j
        self.stopped_step = None
        self.stopped_epoch = None
        self.evaluations = []  # (step, value) for every evaluation, in order
        self._best_state = None

    def on_train_begin(self, logs=None):
        self._reset()
        self._temp = None
        if self.store == "disk" and self.path is None:
            fd, self._temp = tempfile.mkstemp(prefix="shendu-best-", suffix=".safetensors")
            os.close(fd)
            self.path = self._temp

    # ---------------------------------------------------------------- the algorithm's body
    def _keep_best(self):
        sd = self.trainer.model.state_dict()
        if self.store == "disk":
            from ...serialization import save

            save(sd, self.path)
            self._best_state = self.path
        else:
            self._best_state = {k: v._data.copy() for k, v in sd.items()}  # on the parameters' device

    def check(self, value, step, epochs_done):
        """One evaluation of Alg. 7.1 at step i with validation value v'; returns True when j reaches p."""
        value = float(value)
        self.evaluations.append((int(step), value))
        if improved(value, self.best_value, self.mode, self.min_delta):
            self.best_value, self.best_step, self.best_epoch, self.wait = value, int(step), int(epochs_done), 0
            self._keep_best()
        else:
            self.wait += 1
        if self.wait >= self.patience:
            self.stopped_step = int(step)
            self.stopped_epoch = int(epochs_done)
            self.trainer.stop_training = True
            if self.verbose:
                print(f"EarlyStopping: no improvement of {self.monitor} in {self.patience} evaluations; "
                      f"best {self.best_value:.6g} at step {self.best_step}")
            return True
        return False

    def _value(self, logs):
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping: monitored value {self.monitor!r} is not in the logs {sorted(logs)}; "
                             "pass val_data to fit or monitor another key")
        return logs[self.monitor]

    def on_train_batch_end(self, step, logs=None):
        n = self.every_n_steps
        if n is not None and (step + 1) % n == 0 and not self.trainer.stop_training:
            logs = self.trainer.validate()
            self.check(self._value(logs), step + 1, self.trainer.epoch)

    def on_epoch_end(self, epoch, logs=None):
        if self.every_n_steps is None and not (self.stopped_step is not None):
            self.check(self._value(logs or {}), self.trainer.global_step, epoch + 1)

    def best_state_dict(self):
        """theta*: the parameters at the best evaluation (name -> array), or None before any evaluation."""
        if self._best_state is None:
            return None
        if isinstance(self._best_state, str):
            from ...serialization import load

            return {k: v._data for k, v in load(self._best_state).items()}
        return self._best_state

    def on_train_end(self, logs=None):
        best = self.best_state_dict()
        if self.restore_best and best is not None:
            self.trainer.model.load_state_dict(best)
        if getattr(self, "_temp", None) is not None:  # our own temp file: keep theta* in memory from now on
            self._best_state = best
            os.unlink(self._temp)
            self.path = self._temp = None

    # ---------------------------------------------------------------- resume
    def state_dict(self):
        return {"best_value": self.best_value, "best_step": self.best_step, "best_epoch": self.best_epoch,
                "wait": self.wait, "evaluations": [list(e) for e in self.evaluations],
                "best": self.best_state_dict()}

    def load_state_dict(self, state):
        self.best_value = state["best_value"]
        self.best_step, self.best_epoch, self.wait = (
            int(state["best_step"]),
            int(state["best_epoch"]),
            int(state["wait"]),
        )
        self.evaluations = [(int(s), float(v)) for s, v in state["evaluations"]]
        best = state.get("best")
        if best is not None:
            self._best_state = {k: _copy(getattr(v, "_data", v)) for k, v in best.items()}
            if self.store == "disk":
                from ...serialization import save

                save(self._best_state, self.path)
                self._best_state = self.path
