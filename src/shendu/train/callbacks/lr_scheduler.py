"""`LearningRateScheduler`: set the learning rate at the start of every epoch from `schedule(epoch, lr)` (Keras).

For the textbook's decay rules (8.3.1: linear decay to eps_tau over tau iterations) pass a function, or
use the schedulers in `shendu.optim.lr_scheduler` through `fit(scheduler=...)`.
"""
from __future__ import annotations

from ..resolve import get_lr, set_lr
from .base import Callback

__all__ = ["LearningRateScheduler"]


class LearningRateScheduler(Callback):
    """schedule: (epoch: int, lr: float) -> new lr, called before each epoch; `lrs` records the values set."""

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError("LearningRateScheduler: schedule must be callable (epoch, lr) -> lr")
        self.schedule = schedule
        self.verbose = verbose
        self.lrs = []

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.trainer.optimizer
        lr = float(self.schedule(epoch, get_lr(opt)))
        if not lr >= 0.0:
            raise ValueError(
                f"LearningRateScheduler: schedule returned {lr!r} for epoch {epoch}; expected a number >= 0"
            )
        set_lr(opt, lr)
        self.lrs.append(lr)
        if self.verbose:
            print(f"epoch {epoch + 1}: learning rate {lr:.6g}")
