"""`ModelCheckpoint`: save the model (or the full resumable training state) every epoch, or only the best.

Files are written with `sd.save` (safetensors + JSON, atomic). `filepath` may contain format fields
such as "ckpt-{epoch:03d}.safetensors" or "{val_loss:.3f}", filled from the epoch logs.
"""
from __future__ import annotations

import os
import string

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
        try:
            self.fields = [f for _, f, _, _ in string.Formatter().parse(self.filepath) if f is not None]
        except ValueError as e:
            raise ValueError(f"ModelCheckpoint: filepath {self.filepath!r} is not a valid format string ({e})") \
                from None
        for f in self.fields:
            if not f.isidentifier():
                raise ValueError(f"ModelCheckpoint: filepath {self.filepath!r} has field {{{f}}}; expected names "
                                 "such as {epoch} or {val_loss:.3f}")
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

    def on_train_begin(self, logs=None):
        """Fail before the first epoch when `filepath` or the monitored key needs validation logs that fit lacks."""
        trainer = self.trainer
        if trainer is not None and getattr(trainer, "val_loader", 1) is None:
            val = [f for f in self.fields if f.startswith("val_")]
            if self.monitor.startswith("val_") and self.save_best_only:
                val.append(self.monitor)
            if val:
                raise ValueError(f"ModelCheckpoint: {val[0]!r} (in filepath {self.filepath!r} or monitor) needs "
                                 "validation data; pass val_data to fit, or use training keys such as {loss}")

    def _path(self, epoch, logs):
        """`filepath` filled from the epoch logs; a ValueError names a missing key or a bad format spec."""
        missing = [f for f in self.fields if f != "epoch" and f not in logs]
        if missing:
            raise ValueError(f"ModelCheckpoint: filepath {self.filepath!r} uses {missing[0]!r}, which is not in the "
                             f"epoch logs {sorted(logs)}")
        try:
            return self.filepath.format(**{**logs, "epoch": epoch + 1})
        except (ValueError, TypeError, IndexError, AttributeError) as e:
            raise ValueError(f"ModelCheckpoint: cannot fill filepath {self.filepath!r} from epoch {epoch + 1} and "
                             f"logs {logs} ({e})") from None

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
        path = self._path(epoch, logs)
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
