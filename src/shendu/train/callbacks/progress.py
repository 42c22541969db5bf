"""`ProgressBar`: a tqdm bar per epoch (verbose=1, only on a terminal) or one line per epoch (verbose=2)."""
from __future__ import annotations

import sys

from .base import Callback

__all__ = ["ProgressBar", "format_logs"]


def format_logs(logs):
    return " - ".join(f"{k}: {v:.4g}" if k == "lr" else f"{k}: {v:.4f}" for k, v in logs.items())


class ProgressBar(Callback):
    """verbose 0: silent; 1: tqdm bar per epoch when `file` is a terminal, else silent; 2: one line per epoch."""

    def __init__(self, verbose=1, file=None):
        self.verbose = int(verbose)
        self.file = file
        self._bar = None

    def _stream(self):
        return self.file if self.file is not None else sys.stderr

    def on_train_begin(self, logs=None):
        stream = self._stream()
        self._use_bar = self.verbose == 1 and hasattr(stream, "isatty") and stream.isatty()
        self._epochs = None

    def on_epoch_begin(self, epoch, logs=None):
        if self._use_bar:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.trainer.steps_per_epoch, desc=f"epoch {epoch + 1}", unit="batch",
                             file=self._stream(), leave=True, dynamic_ncols=True)

    def on_train_batch_end(self, step, logs=None):
        bar = self._bar
        if bar is not None:
            bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)
            self._bar.close()
            self._bar = None
        elif self.verbose >= 2:
            print(f"epoch {epoch + 1}: {format_logs(logs or {})}", file=self._stream(), flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
