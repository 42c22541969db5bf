"""`Callback` (Keras-style hooks called by `fit`) and `CallbackList`.

Hooks: on_train_begin/end(logs), on_epoch_begin(epoch), on_epoch_end(epoch, logs),
on_train_batch_begin(step), on_train_batch_end(step, logs). `self.trainer` gives the running
`Trainer` (model, optimizer, history, global_step, stop_training, validate()). Batch hooks are called
only for callbacks that override them, so unused hooks cost nothing per batch.
"""
from __future__ import annotations

__all__ = ["Callback", "CallbackList"]


class Callback:
    """Base class; override the hooks you need. `state_dict`/`load_state_dict` make resumable callbacks."""

    trainer = None
    run_last = False  # True: hooks run after the other callbacks' (ModelCheckpoint)

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer

    @property
    def model(self):
        return self.trainer.model if self.trainer is not None else None

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, step, logs=None):
        pass

    def on_train_batch_end(self, step, logs=None):
        pass

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state) -> None:
        pass


def _overrides(cb, name):
    return getattr(type(cb), name, None) is not getattr(Callback, name)


class CallbackList:
    """Dispatch each hook to a list of callbacks in order."""

    def __init__(self, callbacks=(), trainer=None):
        callbacks = list(callbacks)  # `run_last` ones (checkpoints) see every other callback's epoch-end state
        self.callbacks = [c for c in callbacks if not getattr(c, "run_last", False)] + \
            [c for c in callbacks if getattr(c, "run_last", False)]
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be shendu.train.Callback instances, got {type(cb).__name__}")
            cb.set_trainer(trainer)
        self.batch_begin = [cb for cb in self.callbacks if _overrides(cb, "on_train_batch_begin")]
        self.batch_end = [cb for cb in self.callbacks if _overrides(cb, "on_train_batch_end")]

    def __iter__(self):
        return iter(self.callbacks)

    def on_train_begin(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_begin(logs)

    def on_train_end(self, logs=None):
        for cb in self.callbacks:
            cb.on_train_end(logs)

    def on_epoch_begin(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        for cb in self.callbacks:
            cb.on_epoch_end(epoch, logs)

    def _keys(self):
        """'ClassName#k' for the k-th callback of that class: stable when other callbacks come or go."""
        seen: dict = {}
        keys = []
        for cb in self.callbacks:
            name = type(cb).__name__
            keys.append(f"{name}#{seen.get(name, 0)}")
            seen[name] = seen.get(name, 0) + 1
        return keys

    def state_dict(self) -> dict:
        return {k: cb.state_dict() for k, cb in zip(self._keys(), self.callbacks)}

    def load_state_dict(self, state) -> None:
        for k, cb in zip(self._keys(), self.callbacks):
            if k in state:
                cb.load_state_dict(state[k])
