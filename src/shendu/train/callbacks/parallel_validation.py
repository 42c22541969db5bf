"""`ParallelValidation`: run the validation of each epoch in a background thread, on a copy of the model (on another
device if asked), while training continues (textbook 7.8: "periodic validation, ideally in parallel on a separate
machine, CPU or GPU").

At each epoch end the weights (state_dict) are copied once, in the training thread, and a worker thread loads them
into a second model (a deep copy made at train begin, moved to ``device``) and evaluates it in eval mode with grad
recording off in that thread only (grad mode is per thread). The result is written into the History row of its
epoch as soon as it is collected: at the latest at the next epoch end (which first waits for the previous
evaluation, so at most one runs at a time) or at train end. Callbacks that read ``logs`` at the same epoch end
(progress lines, CSVLogger, EarlyStopping) do not see it; read ``history`` after fit, or ``results``.
"""
from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor

from .base import Callback

__all__ = ["ParallelValidation"]


class ParallelValidation(Callback):
    """Validate on ``data`` ((x, y) arrays/Tensors, a Dataset or a DataLoader) in a background thread each epoch.

    device: where the validation copy of the model runs (None: the training model's device; e.g. "cpu" while
    training on a GPU). loss / metrics: default the trainer's. prefix: log names, ``val_`` by default (then fit's
    own ``val_data`` must not be given). Results: ``history[prefix + 'loss'][epoch]`` (and metrics), also
    ``results`` = {epoch: logs}; ``thread_names`` = {epoch: name of the thread that evaluated it}."""

    def __init__(self, data, device=None, batch_size=256, loss=None, metrics=None, prefix="val_"):
        if data is None:
            raise ValueError("ParallelValidation: data is required ((x, y), a Dataset or a DataLoader)")
        if not isinstance(prefix, str):
            raise TypeError(f"ParallelValidation: prefix must be a str, got {type(prefix).__name__}")
        self.data, self.device, self.batch_size = data, device, int(batch_size)
        self.loss, self.metrics, self.prefix = loss, metrics, prefix
        self.results: dict = {}
        self.thread_names: dict = {}
        self._pool = None
        self._pending = None  # (epoch, future)

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        from ..loop import Trainer, _NoOptimizer, make_loader, model_dtype

        tr = self.trainer
        if self.prefix == "val_" and tr.val_loader is not None:
            raise ValueError("ParallelValidation: fit was also given val_data; both would write 'val_*' logs. "
                             "Drop val_data or pass ParallelValidation(..., prefix='pval_')")
        self.results, self.thread_names, self._pending = {}, {}, None
        shadow = copy.deepcopy(self.model)
        if self.device is not None:
            shadow.to(self.device)
        shadow.eval()  # it only ever evaluates
        self._shadow = shadow
        self._evaluator = Trainer(shadow, loss=self.loss if self.loss is not None else tr.loss_fn,
                                  optimizer=_NoOptimizer(), verbose=0,
                                  metrics=() if self.metrics is None else self.metrics)
        if self.metrics is None:
            self._evaluator.metrics = list(tr.metrics)  # already resolved (name, fn) pairs
        self._loader = make_loader(self.data, self.batch_size, who="ParallelValidation", dtype=model_dtype(shadow))
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shendu-parallel-validation")

    def on_epoch_end(self, epoch, logs=None):
        self._collect()  # the previous epoch's result (waits for it): at most one evaluation in flight
        state = {k: t._data.copy() for k, t in self.model.state_dict().items()}  # snapshot before training goes on
        self._pending = (epoch, self._pool.submit(self._evaluate, epoch, state))

    def on_train_end(self, logs=None):
        try:
            self._collect()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    # ------------------------------------------------------------------ worker side
    def _evaluate(self, epoch, state):
        self.thread_names[epoch] = threading.current_thread().name
        self._shadow.load_state_dict(state)
        return self._evaluator._run_eval(self._loader, prefix=self.prefix)

    def _collect(self):
        if self._pending is None:
            return
        epoch, fut = self._pending
        self._pending = None
        logs = fut.result()  # re-raises an error of the worker here
        self.results[epoch] = logs
        hist = self.trainer.history
        if epoch not in hist.epoch:
            return
        i = len(hist.epoch) - 1 - hist.epoch[::-1].index(epoch)
        n = len(hist.epoch)
        for k, v in logs.items():
            vals = hist.history.setdefault(k, [float("nan")] * n)
            vals[i] = float(v)

