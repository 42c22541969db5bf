"""`ModelCheckpoint`: save the model (or the full resumable training state) every epoch, or only the best.

Files are written with `sd.save` (safetensors + JSON, atomic). `filepath` may contain format fields
such as "ckpt-{epoch:03d}.safetensors" or "{val_loss:.3f}", filled from the epoch logs.
"""
from __future__ import annotations

import os

from .base import Callback
from .monitor import improved, resolve_mode

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(Callback):
    """save_best_only: save only when `monitor` improves (strictly); save_weights_only: model.state_dict()
    instead of the full training state (which `fit(resume_from=...)` needs); metadata: JSON-able dict
    stored under "meta"; every_n_epochs: save period. Runs after the other callbacks, so their state is saved."""

    run_last = True

    def __init__(self, filepath, monitor="val_loss", mode="auto", save_best_only=False, save_weights_only=False,
                 every_n_epochs=1, metadata=None, verbose=0):
        if every_n_epochs < 1:
            raise ValueError(f"ModelCheckpoint: every_n_epochs must be >= 1, got {every_n_epochs!r}")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.mode = resolve_mode(monitor, mode, "ModelCheckpoint")
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.every_n_epochs = every_n_epochs
        self.metadata = metadata
        self.verbose = verbose
        self.best = None
        self.last_path = None
        self.best_path = None

    def on_epoch_end(self, epoch, logs=None):
        from ...serialization import save

        logs = logs or {}
        if (epoch + 1) % self.every_n_epochs:
            return
        if self.save_best_only:
            if self.monitor not in logs:
                raise ValueError(f"ModelCheckpoint: monitored value {self.monitor!r} is not in the logs "
                                 f"{sorted(logs)}; pass val_data to fit or monitor another key")
            if not improved(logs[self.monitor], self.best, self.mode, 0.0):
                return
            self.best = float(logs[self.monitor])
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_weights_only:
            obj = self.trainer.model.state_dict()
        else:
            obj = self.trainer.training_state()
            if self.metadata is not None:
                obj["meta"] = self.metadata
        save(obj, path)
        self.last_path = path
        if self.save_best_only:
            self.best_path = path
        if self.verbose:
            print(f"ModelCheckpoint: saved {path}")

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = state.get("best")
