"""Keras-style convenience on every `nn.Module`: `model.compile(...)`, `model.fit(x, y)`, `model.evaluate`,
`model.predict`.

`install()` adds these four methods to `shendu.nn.Module` (only names the class does not define yet),
so any model gets them without a wrapper; `TrainingMixin` holds them for explicit use.
"""
from __future__ import annotations

import numpy as np

from .loop import Trainer

__all__ = ["TrainingMixin", "install"]


class TrainingMixin:
    """compile/fit/evaluate/predict for a Module; the compiled Trainer lives in `model._trainer`."""

    def compile(self, optimizer="adam", loss="cross_entropy", metrics=(), *, lr=None, scheduler=None,
                clip_grad_norm=None, regularizers=(), constraints=()):
        """Choose loss, optimizer (instance or name built on this model's parameters with `lr`) and metrics.

        regularizers (``regularize.L2(1e-4)``, ...) and constraints (``regularize.MaxNorm(3)``, ...) are part of the
        compiled objective (Keras attaches them to layers; here they are given once, at compile) and hold for every
        later fit: penalties are added to the training loss (the reported loss includes them, as Keras), constraints
        are applied after each optimizer step."""
        trainer = Trainer(self, loss=loss, optimizer=optimizer, metrics=metrics, scheduler=scheduler,
                          clip_grad_norm=clip_grad_norm, lr=lr, verbose=1, regularizers=regularizers,
                          constraints=constraints)
        object.__setattr__(self, "_trainer", trainer)
        return self

    def _compiled(self, who):
        t = self.__dict__.get("_trainer")
        if t is None:
            raise RuntimeError(f"{type(self).__name__}.{who}: call model.compile(loss=..., optimizer=...) first")
        return t

    def fit(self, x, y=None, *, epochs=1, batch_size=32, validation_data=None, validation_split=0.0, callbacks=(),
            verbose=1, shuffle=True, max_steps=None, resume_from=None):
        """Train on arrays x, y (or a DataLoader/Dataset as x); validation_split holds out the last fraction
        (as Keras, before shuffling). Returns this call's History; optimizer state and step count carry over."""
        t = self._compiled("fit")
        data = x if y is None else (x, y)
        if validation_split:
            if validation_data is not None or y is None:
                raise ValueError("fit: validation_split needs arrays x, y and no validation_data")
            if not 0.0 < validation_split < 1.0:
                raise ValueError(f"fit: validation_split must lie in (0, 1), got {validation_split!r}")
            n = len(x)
            cut = n - int(np.ceil(n * validation_split))
            data, validation_data = (x[:cut], y[:cut]), (x[cut:], y[cut:])
        t.user_callbacks = list(callbacks)
        t.verbose = int(verbose)
        return t.fit(data, epochs=epochs, batch_size=batch_size, val_data=validation_data, shuffle=shuffle,
                     max_steps=max_steps, resume_from=resume_from)

    def evaluate(self, x, y=None, *, batch_size=256, verbose=0):
        """{'loss': ..., metric: ...} on (x, y). verbose=1 or 2 also prints one line 'loss: ... - accuracy: ...
        - 0.1s' to stderr (on a terminal or not); 0 prints nothing."""
        import sys
        import time

        from .callbacks.progress import format_logs

        t0 = time.perf_counter()
        logs = self._compiled("evaluate").evaluate(x if y is None else (x, y), batch_size=batch_size)
        if verbose:
            print(f"evaluate - {format_logs(logs)} - {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
        return logs

    def predict(self, x, *, batch_size=256, verbose=0):
        """Outputs for inputs x as a NumPy array (eval mode, no graph). ``verbose`` as in Keras; nothing is printed."""
        from .loop import predict

        return predict(self, x, batch_size=batch_size)


def install(cls=None):
    """Add TrainingMixin's methods to `cls` (default `shendu.nn.Module`) where the class lacks them."""
    if cls is None:
        from ..nn import Module as cls
    for name in ("compile", "fit", "evaluate", "predict", "_compiled"):
        if not hasattr(cls, name):
            setattr(cls, name, TrainingMixin.__dict__[name])
    return cls
