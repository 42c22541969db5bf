"""`fit` / `evaluate` / `predict` and the `Trainer` behind them (textbook 8.1.3 minibatch SGD loop, 7.8 early stopping).

One training step is: forward, loss, `optimizer.zero_grad()`, backward, optional global-norm clipping,
`optimizer.step()`. Per batch the loop only adds a float conversion of the loss (NumPy is synchronous)
and, when metrics are asked for, keeps a reference to the output array; metrics are computed once per
epoch from the concatenated arrays (copied to the host once). A batch `(x, y)` calls `model(x)`;
`(x1, ..., xk, y)` calls `model(x1, ..., xk)`. Data are loaded on the host; each batch is moved to the
model's device (that of its first parameter, the CPU if it has none) before the forward pass.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd import no_grad
from ..autograd.tensor import Tensor, _wrap
from ..backend import CPU, device_of, namespace_of, to_device, to_host
from ..backend.lowp import is_floating
from .callbacks.base import CallbackList
from .history import History
from .resolve import get_loss, get_lr, get_metric, get_optimizer
from .resolve import scale_grads_to_norm as _clip

__all__ = ["Trainer", "fit", "evaluate", "predict", "make_loader"]

TRAINING_STATE = "shendu-training-state"


def _unwrap(model):
    """The model inside a DistributedDataParallel wrapper (checkpoints hold it: resume at any world size)."""
    inner = getattr(model, "module", None)
    return inner if type(model).__name__ == "DistributedDataParallel" and inner is not None else model


def make_loader(data, batch_size, shuffle=False, seed=None, who="fit", dtype=None):
    """A DataLoader from a DataLoader, a Dataset, a tuple (x, y[, ...]) of arrays/Tensors, or one array.

    ``dtype``: floating arrays/Tensors of another floating dtype are cast to it once, with the data (as Keras
    casts to the model's dtype: float64 NumPy data train a float32 model in float32)."""
    from ..data import DataLoader, Dataset, TensorDataset

    if isinstance(data, DataLoader):
        return data
    if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"{who}: batch_size must be a positive int, got {batch_size!r}")
    if isinstance(data, Dataset):
        ds = data
    elif isinstance(data, (tuple, list)):
        if not data:
            raise ValueError(f"{who}: got an empty tuple of arrays; expected (x, y)")
        ds = TensorDataset(*_cast_floats(data, dtype))
    elif isinstance(data, (np.ndarray, Tensor)) or (hasattr(data, "shape") and hasattr(data, "dtype")):
        ds = TensorDataset(*_cast_floats((data,), dtype))
    else:
        raise TypeError(f"{who}: data must be a DataLoader, a Dataset, a tuple (x, y) of arrays or an array; "
                        f"got {type(data).__name__}")
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, seed=seed)


def _cast_floats(arrays, dtype):
    """``arrays`` with each floating one of a floating dtype other than ``dtype`` cast to it (None: unchanged)."""
    if dtype is None:
        return tuple(arrays)
    out = []
    for a in arrays:
        dt = getattr(a, "dtype", None)
        if dt is not None and getattr(dt, "kind", "") == "f" and dt != dtype:
            a = a.type(dtype) if isinstance(a, Tensor) else a.astype(dtype)
        out.append(a)
    return tuple(out)


def model_dtype(model):
    """The dtype of the model's first floating parameter (or buffer); None for a model without any."""
    for attr in ("parameters", "buffers"):
        it = getattr(model, attr, None)
        if callable(it):
            for t in it():
                dt = t._data.dtype
                if dt.kind != "c" and is_floating(dt):  # real floating, bfloat16 included
                    return dt
    return None


def _as_tensors(batch):
    """Batches from loaders built with as_tensor=False: wrap arrays as Tensors (no copy)."""
    from ..autograd import as_tensor

    return tuple(b if isinstance(b, Tensor) else as_tensor(b) for b in batch)


def _usable(name):
    """Whether the device named ``name`` exists here (a checkpoint written on a GPU may resume on the CPU)."""
    from ..backend import resolve

    try:
        resolve(name)
    except (RuntimeError, ValueError, TypeError):
        return False
    return True


def _batch_size(t):
    return t.shape[0] if getattr(t, "ndim", 0) else 1


def model_device(model):
    """The device of the model's first parameter (or buffer); the CPU for a model without any."""
    for attr in ("parameters", "buffers"):
        it = getattr(model, attr, None)
        if callable(it):
            first = next(iter(it()), None)
            if first is not None:
                return device_of(first._data)
    return CPU


def _to_device(batch, dev):
    """The batch's tensors on device ``dev`` (the same tuple when they are there already: the CPU fast path)."""
    if dev is CPU and all(type(b._data) is np.ndarray for b in batch if isinstance(b, Tensor)):
        return batch
    out = []
    for b in batch:
        if isinstance(b, Tensor) and device_of(b._data) != dev:
            b = b.to(dev) if b.requires_grad else _wrap(to_device(b._data, dev))
        out.append(b)
    return tuple(out)


def _concat_host(arrays):
    """One host array from a list of same-device arrays (one device-to-host copy)."""
    return to_host(namespace_of(arrays[0]).concatenate(arrays))


def _metric_logs(named_metrics, outputs, targets, prefix=""):
    if not named_metrics or not outputs:
        return {}
    y_pred = _concat_host(outputs)
    y_true = _concat_host(targets)
    return {prefix + name: float(fn(y_true, y_pred)) for name, fn in named_metrics}


def _bad(where, key, expected, got, err=None):
    """The CheckpointError for entry `key` of the training state from `where`."""
    from ..serialization import CheckpointError

    why = f" ({err})" if err is not None else ""
    return CheckpointError(f"resume_from: {where}: key {key!r} must be {expected}, got {type(got).__name__} "
                           f"{str(got)[:80]}{why}")


def _count(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0


def _is_dict(v):
    return isinstance(v, dict)


_REQUIRED = (("model", _is_dict, "a dict (the model's state_dict)"), ("epoch", _count, "an int >= 0 (epochs done)"),
             ("global_step", _count, "an int >= 0 (optimizer steps done)"),
             ("history", _is_dict, "a dict (History.state_dict())"),
             ("global_rng", _is_dict, "a dict (a NumPy bit-generator state)"))


def check_training_state(state, where="<dict>"):
    """Raise CheckpointError naming `where` and the key unless `state` has the entries `training_state` writes,
    with the right types; the RNG states are tried on scratch generators."""
    from ..backend.random import get_generator

    for key, ok, expected in _REQUIRED:
        if key not in state:
            from ..serialization import CheckpointError

            raise CheckpointError(f"resume_from: {where}: key {key!r} is missing; expected {expected}")
        if not ok(state[key]):
            raise _bad(where, key, expected, state[key])
    for key in ("optimizer", "scheduler", "callbacks", "rng", "loader_rng"):
        if key in state and not isinstance(state[key], dict):
            raise _bad(where, key, "a dict", state[key])
    hist = state["history"]
    if not (isinstance(hist.get("epoch"), list) and isinstance(hist.get("history"), dict)
            and all(isinstance(v, list) for v in hist["history"].values())):
        raise _bad(where, "history", "a dict {'epoch': [...], 'history': {name: [...]}}", hist)
    if not all(isinstance(v, dict) for v in state.get("callbacks", {}).values()):
        raise _bad(where, "callbacks", "a dict callback name -> state (a dict)", state["callbacks"])
    if "data_rng" in state and not isinstance(state["data_rng"], (list, tuple)):
        raise _bad(where, "data_rng", "a list of generator states", state["data_rng"])
    bitgen = type(get_generator().bit_generator)
    for key in ("global_rng", "loader_rng"):
        if key in state:
            try:
                bitgen().state = state[key]
            except (TypeError, ValueError, KeyError) as e:
                raise _bad(where, key, f"a {bitgen.__name__} state", state[key], e) from None
    if not all(isinstance(k, str) and isinstance(v, dict) for k, v in state.get("rng", {}).items()):
        raise _bad(where, "rng", "a dict device name -> generator state (a dict)", state["rng"])


def _check_regs(regularizers, constraints):
    """Lists of regularizers (callables model -> scalar Tensor) and constraints (``.apply(model, optimizer)`` or
    callables model -> None), checked."""
    regs = [regularizers] if callable(regularizers) else list(regularizers or ())
    cons = [constraints] if callable(constraints) or hasattr(constraints, "apply") else list(constraints or ())
    for r in regs:
        if not callable(r):
            raise TypeError(f"fit: regularizers must be callables model -> scalar Tensor, got {type(r).__name__}")
    for c in cons:
        if not (callable(c) or hasattr(c, "apply")):
            raise TypeError(f"fit: constraints must have .apply(model, optimizer) or be callables model -> None, "
                            f"got {type(c).__name__}")
    return regs, cons


def _sum_penalties(regs, model):
    total = None
    for r in regs:
        v = r(model)
        if not isinstance(v, Tensor) or v.ndim != 0:
            raise ValueError(f"fit: regularizer {r!r} must return a scalar Tensor, got "
                             f"{type(v).__name__} {getattr(v, 'shape', '')}")
        total = v if total is None else total + v
    return total


def _apply_constraints(model, cons, opt):
    for c in cons:
        if hasattr(c, "apply"):
            c.apply(model, opt)
        else:
            c(model)


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
            from ..distributed import training as _dt

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
        from ..backend.random import get_generator, get_rng_state
        from ..data.loader import generator_states

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
        from ..backend.random import get_generator, set_rng_state
        from ..data.loader import set_generator_states
        from ..serialization import load

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
        from .callbacks.progress import ProgressBar

        if not isinstance(epochs, numbers.Integral) or epochs < 0:
            raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
        self.epochs = int(epochs)  # for the progress lines ("Epoch 3/10")
        dt = model_dtype(self.model)  # float data are cast to it once (Keras)
        self.loader = make_loader(train_data, batch_size, shuffle=shuffle, who="fit", dtype=dt)
        self.val_loader = None if val_data is None else make_loader(val_data, max(256, int(batch_size)),
                                                                    who="fit (val_data)", dtype=dt)
        if self.distributed:  # this rank's shard (DistributedSampler)
            from ..distributed import training as _dt

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
        from ..data import DataLoader

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


def fit(model, train_data, *, loss, optimizer="adam", epochs=1, batch_size=32, val_data=None, metrics=(),
        callbacks=(), scheduler=None, clip_grad_norm=None, shuffle=True, verbose=1, max_steps=None,
        resume_from=None, lr=None, regularizers=(), constraints=(), distributed=False):
    """Train `model` on `train_data` ((x, y) arrays/Tensors, a Dataset or a DataLoader); returns a History.

    loss: callable (output, target) -> scalar Tensor, or a name ('cross_entropy', 'mse', ...).
    optimizer: an optimizer, a name ('adam', 'sgd', ...; built with `lr`) or a factory params -> optimizer.
    metrics: names ('accuracy', 'top5', 'f1', ...) or callables (y_true, y_pred) -> float, on arrays.
    scheduler: stepped once per epoch (ReduceLROnPlateau gets val_loss). clip_grad_norm: max global L2 norm.
    max_steps: stop after this many optimizer steps in total. resume_from: a checkpoint written by
    ModelCheckpoint (full state); with the same seed the run continues exactly as if uninterrupted.
    regularizers: callables model -> scalar Tensor (``regularize.L2(1e-4)``, ...) added to the training loss of
    every step; the reported training loss includes them (as Keras), val_loss and evaluate() do not.
    constraints: ``regularize.MaxNorm(3)``, ``L2Ball``, ``ProximalL1``, ... (or callables model -> None), applied
    in order after every optimizer step.
    distributed: data-parallel training over the MPI processes of this job (``shendu run -n N script.py``):
    DistributedDataParallel, a DistributedSampler shard per rank (batch_size is per rank), epoch logs averaged
    over ranks, output and checkpoints on rank 0 only (see shendu.distributed.training; textbook 12.1.3).
    """
    trainer = Trainer(model, loss=loss, optimizer=optimizer, metrics=metrics, callbacks=callbacks,
                      scheduler=scheduler, clip_grad_norm=clip_grad_norm, verbose=verbose, lr=lr,
                      regularizers=regularizers, constraints=constraints, distributed=distributed)
    history = trainer.fit(train_data, epochs=epochs, batch_size=batch_size, val_data=val_data, shuffle=shuffle,
                          max_steps=max_steps, resume_from=resume_from)
    history.trainer = trainer
    return history


def evaluate(model, data, *, loss, metrics=(), batch_size=256):
    """{'loss': mean loss, metric: value, ...} of `model` on `data` (eval mode, no graph recorded)."""
    t = Trainer(model, loss=loss, optimizer=_NoOptimizer(), metrics=metrics, verbose=0)
    return t.evaluate(data, batch_size=batch_size)


def predict(model, x, *, batch_size=256):
    """Outputs of `model` on inputs `x` (array, Tensor or DataLoader) as one NumPy array (eval mode; a model on a
    GPU computes there and the outputs are copied to the host)."""
    t = Trainer(model, loss=lambda o, y: o, optimizer=_NoOptimizer(), verbose=0)
    return t.predict(x, batch_size=batch_size)


class _NoOptimizer:
    """Placeholder optimizer for evaluation-only trainers."""

    def step(self):
        raise RuntimeError("evaluation-only Trainer cannot train")

    def zero_grad(self):
        pass

