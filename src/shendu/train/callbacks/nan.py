"""`TerminateOnNaN`: stop training at the first batch whose loss is NaN or infinite (DESIGN: never a silent NaN)."""
from __future__ import annotations

import math
import sys

from .base import Callback

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Sets `trainer.stop_training` and records `stopped_step` when a batch loss is not finite."""

    def __init__(self):
        self.stopped_step = None

    def on_train_batch_end(self, step, logs=None):
        loss = logs.get("loss") if logs else None
        if loss is not None and not math.isfinite(loss):
            self.stopped_step = step
            self.trainer.stop_training = True
            print(f"TerminateOnNaN: loss is {loss} at step {step}; stopping training", file=sys.stderr)
