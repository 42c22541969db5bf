"""`TensorBoard`: epoch (and optionally batch) scalars as TensorBoard event files through tensorboardX."""
from __future__ import annotations

import os

from .base import Callback

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    """Write every epoch log as scalar `epoch/<name>` to event files in `log_dir`; `update_freq="batch"` also
    writes `batch/loss` each step. Needs tensorboardX (`pip install tensorboardX` or `shendu[tensorboard]`)."""

    def __init__(self, log_dir="runs", update_freq="epoch"):
        try:
            from tensorboardX import SummaryWriter  # noqa: F401
        except ImportError:
            raise ImportError("TensorBoard callback needs the tensorboardX package, which is not installed: "
                              "pip install tensorboardX (or pip install 'shendu[tensorboard]')") from None
        if update_freq not in ("epoch", "batch"):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch' or 'batch', got {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.update_freq = update_freq
        self.writer = None

    def on_train_begin(self, logs=None):
        from tensorboardX import SummaryWriter

        self.writer = SummaryWriter(logdir=self.log_dir)

    def on_train_batch_end(self, step, logs=None):
        if self.update_freq == "batch" and self.writer is not None:
            self.writer.add_scalar("batch/loss", logs["loss"], step)

    def on_epoch_end(self, epoch, logs=None):
        for k, v in (logs or {}).items():
            self.writer.add_scalar(f"epoch/{k}", v, epoch + 1)
        self.writer.flush()

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.close()
            self.writer = None
