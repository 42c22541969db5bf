"""`ProgressBar`: fit's progress. verbose=1: a tqdm bar per epoch on a terminal or in a notebook (tqdm.auto), one
line per epoch anywhere else (piped, logged, CI), as Keras; verbose=2: one line per epoch always; 0: silent."""
from __future__ import annotations

import sys
import time

from .base import Callback

__all__ = ["ProgressBar", "format_logs", "epoch_line", "in_notebook"]


def format_logs(logs):
    return " - ".join(f"{k}: {v:.4g}" if k == "lr" else f"{k}: {v:.4f}" for k, v in logs.items())


def epoch_line(epoch, epochs, logs, seconds):
    """Keras' one line per epoch: 'Epoch 3/10 - loss: 0.1234 - accuracy: 0.9500 - val_loss: ... - 1.2s'
    (``epoch`` 0-based as in the hooks, printed 1-based)."""
    head = f"Epoch {epoch + 1}/{epochs}" if epochs else f"Epoch {epoch + 1}"
    body = format_logs(logs or {})
    return f"{head} - {body + ' - ' if body else ''}{seconds:.1f}s"


def in_notebook():
    """Whether this runs in a Jupyter kernel (where stderr is no terminal but tqdm.auto draws a widget)."""
    ip = getattr(sys.modules.get("IPython"), "get_ipython", None)
    try:
        shell = ip() if ip is not None else None
    except Exception:  # noqa: BLE001
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _is_tty(stream):
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class ProgressBar(Callback):
    """verbose 0: silent; 1: a tqdm.auto bar per epoch when `file` is a terminal (or in Jupyter), otherwise one
    line per epoch; 2: one line per epoch always. `file` defaults to sys.stderr (read when training starts)."""

    def __init__(self, verbose=1, file=None):
        self.verbose = int(verbose)
        self.file = file
        self._bar = None
        self._use_bar = False
        self._t0 = None

    def _stream(self):
        return self.file if self.file is not None else sys.stderr

    def on_train_begin(self, logs=None):
        stream = self._stream()
        self._use_bar = self.verbose == 1 and (_is_tty(stream) or (self.file is None and in_notebook()))

    def _epochs(self):
        return getattr(self.trainer, "epochs", None) if self.trainer is not None else None

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        if self._use_bar:
            from tqdm.auto import tqdm

            n = self._epochs()
            self._bar = tqdm(total=self.trainer.steps_per_epoch, desc=f"epoch {epoch + 1}" + (f"/{n}" if n else ""),
                             unit="batch", file=self._stream(), leave=True,
                             dynamic_ncols=True)

    def on_train_batch_end(self, step, logs=None):
        bar = self._bar
        if bar is not None:
            bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=False)
            self._bar.close()
            self._bar = None
        elif self.verbose >= 1:
            seconds = time.perf_counter() - self._t0 if self._t0 is not None else 0.0
            print(epoch_line(epoch, self._epochs(), logs, seconds), file=self._stream(), flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
