"""The Trainer (textbook 8.1.3 minibatch SGD loop, 7.8 early stopping): fit, evaluate, predict, and its
training state for checkpoints. Kept whole (~300 lines): one class whose methods share the loop state.
"""
from __future__ import annotations

import numbers

from ...autograd import no_grad
from ...autograd.tensor import Tensor
from ..callbacks.base import CallbackList
from ..history import History
from ..resolve import get_loss, get_lr, get_metric, get_optimizer
from ..resolve import scale_grads_to_norm as _clip
from .batches import (
    _as_tensors,
    _batch_size,
    _concat_host,
    _metric_logs,
    _to_device,
    _unwrap,
    _usable,
    make_loader,
    model_device,
    model_dtype,
)
from .penalties import _apply_constraints, _check_regs, _sum_penalties
from .state import TRAINING_STATE, _bad, check_training_state


class Trainer:
    """Runs the training loop for one model: `Trainer(model, loss=..., optimizer=...).fit(data, epochs=...)`.

    Attributes callbacks may use: model, optimizer, history, epoch, global_step, steps_per_epoch,
    stop_training (set True to stop after the current batch), validate() -> val logs,
    training_state() -> resumable checkpoint tree.
    """

    def __init__(self, model, *, loss, optimizer="adam", metrics=(), callbacks=(), scheduler=None,
                 clip_grad_norm=None, verbose=1, lr=None, regularizers=(), constraints=(), distributed=False):
        if not callable(model):
            raise TypeError(f"Trainer: model must be a callable Module, got {type(model).__name__}")
        self.distributed = bool(distributed)
        if self.distributed:  # DDP wrap, rank-0-only output (issue 17; shendu.distributed.training)
            from ...distributed import training as _dt

            model, callbacks, verbose = _dt.setup(model, list(callbacks), verbose)
        self.model = model
        self.loss_fn = get_loss(loss)
        self.optimizer = get_optimizer(optimizer, model.parameters(), lr=lr)
        if isinstance(metrics, str) or callable(metrics):
            metrics = [metrics]
        self.metrics = [get_metric(m) for m in metrics]
        self.scheduler = scheduler
        if clip_grad_norm is not None and not clip_grad_norm > 0:
            raise ValueError(f"Trainer: clip_grad_norm must be > 0, got {clip_grad_norm!r}")
        self.clip_grad_norm = clip_grad_norm
        self.regularizers, self.constraints = _check_regs(regularizers, constraints)
        self.verbose = int(verbose)
        self.user_callbacks = list(callbacks)
        self.history = History()
        self.epoch = 0
        self.global_step = 0
        self.steps_per_epoch = 0
        self.stop_training = False
        self.val_loader = None
        self.loader = None

    # ------------------------------------------------------------------ evaluation
    def _run_eval(self, loader, prefix=""):
        model = self.model
        was_training = getattr(model, "training", False)
        if hasattr(model, "eval"):
            model.eval()
        total, count = 0.0, 0
        outputs, targets = [], []
        keep = bool(self.metrics)
        dev = model_device(model)
        try:
            with no_grad():
                for batch in loader:
                    if len(batch) < 2:
                        raise ValueError("evaluate: batches must be (x, y) or (x1, ..., y); got a 1-tuple")
                    if type(batch[-1]) is not Tensor:
                        batch = _as_tensors(batch)
                    *xs, y = _to_device(batch, dev)
                    out = model(*xs)
                    n = _batch_size(y)
                    total += float(self.loss_fn(out, y)._data) * n
                    count += n
                    if keep:
                        outputs.append(out._data)
                        targets.append(y._data)
        finally:
            if was_training and hasattr(model, "train"):
                model.train()
        if count == 0:
            raise ValueError("evaluate: the data are empty")
        logs = {prefix + "loss": total / count}
        logs.update(_metric_logs(self.metrics, outputs, targets, prefix))
        return logs

    def evaluate(self, data, batch_size=256):
        """{'loss': mean loss, metric: value} over `data` (model in eval mode, no graph)."""
        return self._run_eval(make_loader(data, batch_size, who="evaluate", dtype=model_dtype(self.model)))

    def validate(self):
        """Validation logs {'val_loss', 'val_<metric>'} of the current parameters ({} without val data)."""
        if self.val_loader is None:
            return {}
        return self._run_eval(self.val_loader, prefix="val_")

    # ------------------------------------------------------------------ state
    def training_state(self):
        """Everything needed to resume exactly: parameters, optimizer/scheduler/callback state, counters, RNGs
        (the CPU's and those of the devices in use, e.g. dropout's on a GPU, where they can report it, and
        the training data's: shuffling, random transforms, samplers)."""
        from ...backend.random import get_generator, get_rng_state
        from ...data.loader import generator_states

        state = {
            "kind": TRAINING_STATE,
            "model": _unwrap(self.model).state_dict(),
            "epoch": self.epoch_done,
            "global_step": self.global_step,
            "history": self.history.state_dict(),
            "global_rng": get_generator().bit_generator.state,
            "rng": get_rng_state(),
            "callbacks": self.callbacks.state_dict() if hasattr(self, "callbacks") else {},
        }
        if hasattr(self.optimizer, "state_dict"):
            state["optimizer"] = self.optimizer.state_dict()
        if self.scheduler is not None and hasattr(self.scheduler, "state_dict"):
            state["scheduler"] = self.scheduler.state_dict()
        if self.loader is not None:
            state["data_rng"] = generator_states(self.loader)
        return state

    def load_training_state(self, state):
        """Restore what `training_state` returned (a dict, or a path to a checkpoint file).

        The entries' presence and types are checked first: a missing or wrong-typed one raises `CheckpointError`
        naming the file and the key, with the model and optimizer left as they were."""
        from ...backend.random import get_generator, set_rng_state
        from ...data.loader import set_generator_states
        from ...serialization import load

        where = "<dict>"
        if not isinstance(state, dict):
            where = str(state)
            state = load(state)
            if not isinstance(state, dict) or state.get("kind") != TRAINING_STATE:
                raise ValueError(f"resume_from: {where} holds no training state (save it with "
                                 "ModelCheckpoint(save_weights_only=False))")
        check_training_state(state, where)
        if self.loader is not None and "data_rng" in state:
            try:  # checks every state before setting any
                set_generator_states(self.loader, state["data_rng"], who="the training data")
            except ValueError as e:
                raise _bad(where, "data_rng", "the data's generator states", state["data_rng"], e) from None
        elif getattr(self.loader, "_rng", None) is not None and "loader_rng" in state:  # files before data_rng
            self.loader._rng.bit_generator.state = state["loader_rng"]
        _unwrap(self.model).load_state_dict(state["model"])
        if "optimizer" in state and hasattr(self.optimizer, "load_state_dict"):
            self.optimizer.load_state_dict(state["optimizer"])
        if "scheduler" in state and self.scheduler is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.history.load_state_dict(state["history"])
        self.epoch_done = int(state["epoch"])
        self.global_step = int(state["global_step"])
        get_generator().bit_generator.state = state["global_rng"]
        if "rng" in state:  # device generators (onto the devices that this machine has)
            try:
                set_rng_state({k: v for k, v in state["rng"].items() if k != "cpu" and _usable(k)})
            except (TypeError, ValueError, KeyError) as e:
                raise _bad(where, "rng", "generator states by device name (get_rng_state())", state["rng"], e) \
                    from None
        if hasattr(self, "callbacks"):
            self.callbacks.load_state_dict(state.get("callbacks", {}))

    # ------------------------------------------------------------------ training
    def _scheduler_step(self, logs):
        sch = self.scheduler
        if sch is None:
            return
        if type(sch).__name__ == "ReduceLROnPlateau" or getattr(sch, "needs_metrics", False):
            sch.step(logs.get("val_loss", logs["loss"]))
        else:
            sch.step()

    def fit(self, train_data, *, epochs=1, batch_size=32, val_data=None, shuffle=True, max_steps=None,
            resume_from=None, initial_epoch=0):
        """Train for `epochs` epochs (or until `max_steps` optimizer steps / a callback stops); returns History."""
        from ..callbacks.progress import ProgressBar

        if not isinstance(epochs, numbers.Integral) or epochs < 0:
            raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
        self.epochs = int(epochs)  # for the progress lines ("Epoch 3/10")
        dt = model_dtype(self.model)  # float data are cast to it once (Keras)
        self.loader = make_loader(train_data, batch_size, shuffle=shuffle, who="fit", dtype=dt)
        self.val_loader = None if val_data is None else make_loader(val_data, max(256, int(batch_size)),
                                                                    who="fit (val_data)", dtype=dt)
        if self.distributed:  # this rank's shard (DistributedSampler)
            from ...distributed import training as _dt

            self.loader = _dt.shard_loader(self.loader, shuffle)
        self.steps_per_epoch = len(self.loader)
        cbs = list(self.user_callbacks)
        if self.verbose and not any(isinstance(c, ProgressBar) for c in cbs):
            cbs.append(ProgressBar(verbose=self.verbose))
        self.callbacks = CallbackList(cbs, self)
        self.epoch_done = int(initial_epoch)
        self.stop_training = False
        self.history = History()  # one per fit call, as Keras (resume_from restores the earlier epochs)
        model, opt, loss_fn, cbl = self.model, self.optimizer, self.loss_fn, self.callbacks
        zero_grad = opt.zero_grad if hasattr(opt, "zero_grad") else model.zero_grad
        params = list(model.parameters()) if self.clip_grad_norm else None
        keep = bool(self.metrics)
        regs, cons = self.regularizers, self.constraints
        dev = model_device(model)
        begin_cbs, end_cbs = cbl.batch_begin, cbl.batch_end
        cbl.on_train_begin({})
        logs = {}
        try:
            if resume_from is not None:  # after on_train_begin, which resets callback state
                self.load_training_state(resume_from)
            for epoch in range(self.epoch_done, epochs):
                if self.stop_training or (max_steps is not None and self.global_step >= max_steps):
                    break
                self.epoch = epoch
                if self.distributed:
                    _dt.set_epoch(self.loader, epoch)
                cbl.on_epoch_begin(epoch, {})
                lr = get_lr(opt) if hasattr(opt, "param_groups") or hasattr(opt, "lr") else None
                if hasattr(model, "train"):
                    model.train()
                total, count = 0.0, 0
                outputs, targets = [], []
                for batch in self.loader:
                    step = self.global_step
                    for cb in begin_cbs:
                        cb.on_train_batch_begin(step, None)
                    if type(batch[-1]) is not Tensor:
                        batch = _as_tensors(batch)
                    *xs, y = _to_device(batch, dev)
                    out = model(*xs)
                    loss = loss_fn(out, y)
                    if regs:  # J~ = J + sum of penalties (textbook 7.1); the reported loss includes them
                        loss = loss + _sum_penalties(regs, model)
                    zero_grad()
                    loss.backward()
                    if params is not None:
                        _clip(params, self.clip_grad_norm)
                    opt.step()
                    if cons:  # reprojection / proximal steps after each step (textbook 7.2, 7.23)
                        _apply_constraints(model, cons, opt)
                    lv = float(loss._data)
                    n = _batch_size(y)
                    total += lv * n
                    count += n
                    if keep:
                        outputs.append(out._data)
                        targets.append(y._data)
                    self.global_step = step + 1
                    if end_cbs:
                        blogs = {"loss": lv, "size": n}
                        for cb in end_cbs:
                            cb.on_train_batch_end(step, blogs)
                    if self.stop_training or (max_steps is not None and self.global_step >= max_steps):
                        break
                if count == 0:
                    raise ValueError("fit: the training data gave no batches")
                logs = {"loss": total / count}
                logs.update(_metric_logs(self.metrics, outputs, targets))
                if self.distributed:  # the same logs on every rank: mean over all ranks' examples
                    logs["loss"], _, m = _dt.reduce_logs(total, count, {k: v for k, v in logs.items() if k != "loss"})
                    logs.update(m)
                del outputs, targets
                logs.update(self.validate())
                if lr is not None:
                    logs["lr"] = lr
                self._scheduler_step(logs)
                self.epoch_done = epoch + 1
                self.history.append(epoch, logs)
                cbl.on_epoch_end(epoch, logs)
        finally:
            cbl.on_train_end(logs)
        return self.history

    def predict(self, x, batch_size=256):
        """Model outputs for inputs `x` (array/Tensor or DataLoader of (x,) batches) as one NumPy array
        (on the host, also for a model on a GPU: one copy at the end)."""
        model = self.model
        from ...data import DataLoader

        loader = make_loader(x if isinstance(x, (tuple, list, DataLoader)) else (x,), batch_size, who="predict",
                             dtype=model_dtype(model))
        was_training = getattr(model, "training", False)
        if hasattr(model, "eval"):
            model.eval()
        outs = []
        dev = model_device(model)
        try:
            with no_grad():
                for batch in loader:
                    x = batch[0]
                    x = _to_device((x if isinstance(x, Tensor) else _as_tensors((x,))[0],), dev)[0]
                    outs.append(model(x)._data)
        finally:
            if was_training and hasattr(model, "train"):
                model.train()
        if not outs:
            raise ValueError("predict: the data are empty")
        return _concat_host(outs)
