"""`CSVLogger`: one CSV row per epoch (epoch, then every log key: loss, metrics, val_loss, val_<metric>, lr),
flushed each epoch. Epochs are numbered from 1, as the progress lines ("Epoch 1/10") and `History.plot`."""
from __future__ import annotations

import csv
import os

from .base import Callback

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Write epoch logs to `path`; `append=True` continues an existing file (e.g. when resuming)."""

    def __init__(self, path, separator=",", append=False):
        self.path = os.fspath(path)
        self.separator = separator
        self.append = append
        self._file = None
        self._keys = None

    def on_train_begin(self, logs=None):
        folder = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(folder, exist_ok=True)
        exists = self.append and os.path.exists(self.path) and os.path.getsize(self.path) > 0
        self._keys = None
        if exists:
            with open(self.path, newline="") as f:
                header = next(csv.reader(f, delimiter=self.separator), None)
            self._keys = header[1:] if header else None
        self._file = open(self.path, "a" if self.append else "w", newline="")
        self._writer = csv.writer(self._file, delimiter=self.separator)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._keys is None:
            self._keys = list(logs)
            self._writer.writerow(["epoch"] + self._keys)
        elif any(k not in self._keys for k in logs):  # e.g. val_* first logged later: widen the header
            self._widen([k for k in logs if k not in self._keys])
        self._writer.writerow([epoch + 1] + [logs.get(k, "") for k in self._keys])
        self._file.flush()

    def _widen(self, new_keys):
        """Rewrite the file with `new_keys` appended to the header (earlier rows get empty cells there)."""
        import io

        from ...serialization import atomic_write_bytes

        self._file.close()
        with open(self.path, newline="") as f:
            rows = list(csv.reader(f, delimiter=self.separator))
        self._keys = self._keys + new_keys
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=self.separator)
        w.writerow(["epoch"] + self._keys)
        for r in rows[1:]:
            w.writerow(r + [""] * (len(self._keys) + 1 - len(r)))
        atomic_write_bytes(self.path, buf.getvalue().encode())
        self._file = open(self.path, "a", newline="")
        self._writer = csv.writer(self._file, delimiter=self.separator)

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None
