"""Batch size grown during training (Textbook 8.1.3: small, noisy minibatches early, larger ones later;
Smith et al. 2018 "don't decay the learning rate, increase the batch size")."""
from __future__ import annotations

import inspect
import numbers

from .base import Callback

__all__ = ["BatchSizeScheduler"]


class BatchSizeScheduler(Callback):
    """Set the training loader's batch size at the start of each epoch: ``schedule(epoch, current) -> int``
    (or ``schedule(epoch)``), e.g. ``lambda e: 16 * 2 ** e``; ``sizes`` records the size used per epoch.
    Needs a fit on a DataLoader/array data (the loader's ``batch_size`` is read at each epoch's iteration)."""

    def __init__(self, schedule, max_batch_size=None):
        if not callable(schedule):
            raise TypeError(f"BatchSizeScheduler: schedule must be callable, got {type(schedule).__name__}")
        self.schedule, self.max_batch_size, self.sizes = schedule, max_batch_size, []

    def on_train_begin(self, logs=None):
        self.sizes = []

    def on_epoch_begin(self, epoch, logs=None):
        loader = self.trainer.loader
        try:
            two = len(inspect.signature(self.schedule).parameters) >= 2
        except (TypeError, ValueError):
            two = False
        b = self.schedule(epoch, loader.batch_size) if two else self.schedule(epoch)
        if not isinstance(b, numbers.Integral) or isinstance(b, bool) or b < 1:
            raise ValueError(f"BatchSizeScheduler: schedule({epoch}) must return an int >= 1, got {b!r}")
        if self.max_batch_size is not None:
            b = min(int(b), int(self.max_batch_size))
        loader.batch_size = int(b)
        try:
            self.trainer.steps_per_epoch = len(loader)
        except TypeError:
            pass
        self.sizes.append(int(b))
