"""The scheduler base class (PyTorch's ``scheduler.step()`` semantics, textbook 8.3.1): ``initial_lr`` per
group, ``last_epoch``, chainable ``get_lr()`` and the closed form used by ``step(epoch)``, state dicts.
"""
from __future__ import annotations


class LRScheduler:
    """Base class: subclasses define ``get_lr()`` (PyTorch's chainable form, from the groups' current lr) and,
    where one exists, ``_closed_form(base_lr, t)`` (used by ``step(epoch)``)."""

    _skip_state = ("optimizer",)

    def __init__(self, optimizer, last_epoch=-1):
        if not hasattr(optimizer, "param_groups"):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"])
        else:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming (last_epoch != -1)")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._initial_step()

    def _initial_step(self):
        self._step_count = 0
        self.step()

    def get_lr(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_last_lr(self):
        """The lr of every group as last set by this scheduler."""
        return self._last_lr

    def step(self, epoch=None):
        """Advance one epoch (or jump to `epoch`, using the closed form) and set every group's lr."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            if hasattr(self, "_closed_form"):
                values = [self._closed_form(b, epoch) for b in self.base_lrs]
            else:
                values = self.get_lr()
        for g, lr in zip(self.optimizer.param_groups, values):
            g["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]

    def _lrs(self):
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimizer (and lambdas, which cannot be saved)."""
        return {k: v for k, v in self.__dict__.items() if k not in self._skip_state}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        if "base_lrs" in state_dict:
            self.base_lrs = list(self.base_lrs)
        if "_last_lr" in state_dict:
            self._last_lr = list(self._last_lr)

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={getattr(self, '_last_lr', None)})"


_LRScheduler = LRScheduler


def _per_group(x, n, name):
    if isinstance(x, (list, tuple)):
        if len(x) != n:
            raise ValueError(f"{name}: expected {n} values (one per parameter group), got {len(x)}")
        return list(x)
    return [x] * n
